/* check_model.c: the float model as the library builds it: parameter layout,
 * seeded initialisation, and that SGD through BPTT actually learns. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "kernels.h"
#include "check_run.h"

START_TEST(test_layout)
{
    drnn_config cfg = {.vocab = 27, .hidden = 10, .layers = 2, .cell = DRNN_CELL_RNN};
    drnn_params p;
    drnn_error err;
    ck_assert_int_eq(drnn_params_alloc(&p, &cfg, &err), DRNN_OK);
    /* layer 0: 27x10 + 10x10 + 10; layer 1: 10x10 + 10x10 + 10; output 27x10 + 27 */
    ck_assert_uint_eq(p.count, 380 + 210 + 297);
    ck_assert_ptr_eq(p.layer[0].W_x, p.data);
    ck_assert_ptr_eq(p.layer[0].W_h, p.data + 270);
    ck_assert_ptr_eq(p.layer[1].W_x, p.data + 380);
    ck_assert_ptr_eq(p.W_y, p.data + 590);
    ck_assert_ptr_eq(p.b_y, p.data + 860);
    drnn_params_free(&p);
}
END_TEST

START_TEST(test_config_limits)
{
    drnn_error err;
    drnn_config ok = {.vocab = 27, .hidden = 8, .layers = 1, .cell = DRNN_CELL_RNN};
    ck_assert_int_eq(drnn_config_check(&ok, &err), DRNN_OK);
    drnn_config bad[] = {
        {.vocab = 1, .hidden = 8, .layers = 1},
        {.vocab = 27, .hidden = 0, .layers = 1},
        {.vocab = 27, .hidden = DRNN_MAX_HIDDEN + 1, .layers = 1},
        {.vocab = 27, .hidden = 8, .layers = 0},
        {.vocab = 27, .hidden = 8, .layers = DRNN_MAX_LAYERS + 1},
        {.vocab = 27, .hidden = 8, .layers = 1, .cell = DRNN_CELL_KIND_COUNT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(drnn_config_check(&bad[i], &err), DRNN_ERR_INVALID);
        ck_assert(strlen(err.message) > 0);
    }
}
END_TEST

START_TEST(test_init_seeded)
{
    drnn_config cfg = {.vocab = 5, .hidden = 16, .layers = 2, .cell = DRNN_CELL_RNN};
    drnn_params a, b;
    drnn_rng r1, r2;
    ck_assert_int_eq(drnn_params_alloc(&a, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&b, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&r1, 7);
    drnn_rng_seed(&r2, 7);
    drnn_params_init(&a, &r1);
    drnn_params_init(&b, &r2);
    ck_assert(memcmp(a.data, b.data, a.count * sizeof *a.data) == 0);
    for (size_t i = 0; i < a.count; i++)
        ck_assert(fabsf(a.data[i]) <= 0.25f); /* 1/sqrt(16) */
    ck_assert(a.b_y[0] == 0 && a.layer[1].b[3] == 0);
    drnn_rng_seed(&r2, 8);
    drnn_params_init(&b, &r2);
    ck_assert(memcmp(a.data, b.data, a.count * sizeof *a.data) != 0);
    drnn_params_free(&a);
    drnn_params_free(&b);
}
END_TEST

/* Five of the longest names in data/dinos.txt. Which name comes is a choice
 * among five, log(5) nats per name that no model can learn, about 0.065 nats
 * per character here; the rest must be memorised. */
static const char *const five[] = {
    "lisboasaurusliubangosaurus", "ornatotholusornithodesmus", "micropachycephalosaurus",
    "hylosaurushypacrosaurus", "orinosaurusorkoraptor",
};

START_TEST(test_sgd_learns_five_names)
{
    drnn_config cfg = {.vocab = 27, .hidden = 64, .layers = 1, .cell = DRNN_CELL_RNN};
    drnn_params w, g;
    drnn_scratch *s;
    drnn_rng rng;
    drnn_token tok[5][32];
    int len[5], chars = 0;
    for (int i = 0; i < 5; i++) {
        len[i] = (int)strlen(five[i]);
        for (int t = 0; t < len[i]; t++)
            tok[i][t] = (drnn_token)(five[i][t] - 'a' + 1);
        chars += len[i] + 1;
    }
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&s, &cfg, 32, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 42);
    drnn_params_init(&w, &rng);

    double first = 0, last = 0;
    for (int epoch = 0; epoch < 400; epoch++) {
        double loss = 0;
        for (int i = 0; i < 5; i++) {
            drnn_params_zero(&g);
            const drnn_token *name = tok[i];
            loss += drnn_group_loss(&w, s, &name, &len[i], 1, NULL, NULL, &g, 0);
            /* Plain SGD on the per-character mean, with element-wise clipping. */
            float scale = 0.2f / (float)(len[i] + 1);
            for (size_t k = 0; k < w.count; k++)
                w.data[k] -= scale * fmaxf(-5.0f, fminf(5.0f, g.data[k]));
        }
        if (epoch == 0)
            first = loss / chars;
        last = loss / chars;
    }
    ck_assert_msg(first > 2.5, "untrained loss %.3f should be near log(27) = 3.3", first);
    ck_assert_msg(last < 0.1, "after 400 epochs the loss is %.3f nats/char, not below 0.1", last);
    drnn_scratch_free(s);
    drnn_params_free(&w);
    drnn_params_free(&g);
}
END_TEST

/* A group of names of different lengths gives, bit for bit, the loss and
 * gradient of the same names one after another: grouping changes speed only. */
START_TEST(test_group_equals_sequential)
{
    drnn_config cfg = {.vocab = 27, .hidden = 19, .layers = 3, .cell = (drnn_cell_kind)(_i % 3)};
    double p = _i >= 3 ? 0.25 : 0;
    drnn_params w, g1, g2;
    drnn_scratch *one, *group;
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g1, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g2, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&one, &cfg, 32, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new_group(&group, &cfg, 32, 5, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 3);
    drnn_params_init(&w, &rng);
    drnn_token tok[5][32];
    const drnn_token *names[5];
    int lens[5];
    uint64_t seeds[5];
    for (int i = 0; i < 5; i++) {
        for (int t = 0; five[i][t]; t++)
            tok[i][t] = (drnn_token)(five[i][t] - 'a' + 1);
        lens[i] = (int)strlen(five[i]) - 3 * i; /* different lengths, not sorted */
        names[i] = tok[i];
        seeds[i] = 100 + (uint64_t)i;
    }
    lens[3] = lens[1] - 5; /* 17, a tie with name 2 */
    double sequential = 0;
    drnn_scratch_set_dropout(one, p);
    for (int i = 0; i < 5; i++)
        sequential += drnn_group_loss(&w, one, &names[i], &lens[i], 1, &seeds[i], NULL, &g1, 0);
    drnn_scratch_set_dropout(group, p);
    double grouped = drnn_group_loss(&w, group, names, lens, 5, seeds, NULL, &g2, 0);
    ck_assert_msg(grouped == sequential, "%s: loss %.17g grouped, %.17g one by one",
                  drnn_cell_name(cfg.cell), grouped, sequential);
    ck_assert_msg(memcmp(g1.data, g2.data, g1.count * sizeof *g1.data) == 0,
                  "%s dropout %g: grouped gradients differ", drnn_cell_name(cfg.cell), p);
    /* Written over a buffer of garbage, the same bits again. */
    for (size_t i = 0; i < g2.count; i++)
        g2.data[i] = NAN;
    double set = drnn_group_loss(&w, group, names, lens, 5, seeds, NULL, &g2, 1);
    ck_assert(set == sequential);
    ck_assert_msg(memcmp(g1.data, g2.data, g1.count * sizeof *g1.data) == 0,
                  "%s dropout %g: gradients written over differ", drnn_cell_name(cfg.cell), p);
    /* Forward only: each name's loss, bit for bit, as alone. */
    double losses[5];
    drnn_scratch_set_dropout(group, 0);
    drnn_scratch_set_dropout(one, 0);
    ck_assert(!isnan(drnn_group_loss(&w, group, names, lens, 5, NULL, losses, NULL, 0)));
    for (int i = 0; i < 5; i++)
        ck_assert_msg(losses[i] == drnn_name_loss(&w, one, names[i], lens[i]),
                      "%s: loss of name %d differs in a group", drnn_cell_name(cfg.cell), i);
    ck_assert(isnan(drnn_group_loss(&w, group, names, lens, 6, NULL, losses, NULL, 0)));
    /* And the gradient is not trivially zero. */
    double norm = 0;
    for (size_t i = 0; i < g1.count; i++)
        norm += fabsf(g1.data[i]);
    ck_assert(norm > 1);
    ck_assert(isnan(drnn_group_loss(&w, group, names, lens, 6, seeds, NULL, &g2, 0)));
    drnn_scratch_free(one);
    drnn_scratch_free(group);
    drnn_params_free(&w);
    drnn_params_free(&g1);
    drnn_params_free(&g2);
}
END_TEST

/* The blocked kernels against the plain references of kernels_ref.h,
 * whichever the model uses in this build: yw and ytx sum in the same order
 * (the same bits); xwt's two summation orders each lie within
 * (K - 1) u sum|terms| of the exact sum (u = 2^-24), so they differ by at
 * most twice that, plus the final addition's rounding. */
static void check_simd_vs_ref(int T, int M, int K, const float *W, const float *X, size_t ldx,
                              const float *Y, size_t ldy, const float *Yt, size_t ldyt,
                              const float *Xp)
{
    const double u = 0x1p-24;
    size_t R = T > 0 ? (size_t)T : 1, ld = ldx > ldy ? ldx : ldy;
    size_t n = R * ld > (size_t)M * K ? R * ld : (size_t)M * K;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    ck_assert(a && b);
    memcpy(a, Y, (size_t)(T > 0 ? T : 1) * ldy * sizeof *a);
    memcpy(b, Y, (size_t)(T > 0 ? T : 1) * ldy * sizeof *b);
    drnn_gemm_xwt_simd(a, ldy, X, ldx, W, T, M, K);
    drnn_gemm_xwt_ref(b, ldy, X, ldx, W, T, M, K);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < M; i++) {
            double mag = 0;
            for (int k = 0; k < K; k++)
                mag += fabs((double)X[t * ldx + k] * W[(size_t)i * K + k]);
            double bound = 2 * K * u * mag + 2 * u * fabs(b[t * ldy + i]);
            ck_assert_msg(fabs((double)a[t * ldy + i] - b[t * ldy + i]) <= bound,
                          "xwt simd/ref T=%d M=%d K=%d: %.9g vs %.9g", T, M, K, a[t * ldy + i],
                          b[t * ldy + i]);
        }
    memcpy(a, X, (size_t)(T > 0 ? T : 1) * ldx * sizeof *a);
    memcpy(b, X, (size_t)(T > 0 ? T : 1) * ldx * sizeof *b);
    drnn_gemm_yw_simd(a, ldx, Y, ldy, W, T, M, K);
    drnn_gemm_yw_ref(b, ldx, Y, ldy, W, T, M, K);
    ck_assert_msg(!memcmp(a, b, (size_t)T * ldx * sizeof *a), "yw simd/ref T=%d M=%d K=%d", T, M, K);
    for (int add = 0; add <= 1; add++) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = b[i] = W[i];
        drnn_gemm_ytx_simd(a, Yt, ldyt, Xp, (size_t)K, T, M, K, add);
        drnn_gemm_ytx_ref(b, Yt, ldyt, Xp, (size_t)K, T, M, K, add);
        ck_assert_msg(!memcmp(a, b, (size_t)M * K * sizeof *a), "ytx simd/ref add=%d T=%d M=%d K=%d",
                      add, T, M, K);
    }
    free(a), free(b);
}

/* The three GEMM kernels against naive double-precision loops for one shape
 * (rows strided by PAD extra scalars); ytx over listed rows (Y's reversed,
 * X's drawn with repeats), adding to W and written over it. */
static void check_kernels(int T, int M, int K, drnn_rng *rng)
{
    enum { PAD = 3 };
    const size_t ldx = (size_t)K + PAD, ldy = (size_t)M + PAD, R = T > 0 ? (size_t)T : 1;
    const double tol = 1e-4;
    const size_t ld = ldx > ldy ? ldx : ldy;
    float *W = malloc((size_t)M * K * sizeof *W), *out = malloc(R * ld * sizeof *out);
    float *X = malloc(R * ldx * sizeof *X), *Y = malloc(R * ldy * sizeof *Y);
    float *Yt = malloc((size_t)M * R * sizeof *Yt), *Xp = malloc(R * K * sizeof *Xp);
    float *G = malloc((size_t)M * K * sizeof *G);
    int *yrow = malloc(R * sizeof *yrow), *xrow = malloc(R * sizeof *xrow);
    ck_assert(W && out && X && Y && Yt && Xp && G && yrow && xrow);
    for (size_t i = 0; i < (size_t)M * K; i++)
        W[i] = (float)(2 * drnn_rng_uniform(rng) - 1);
    for (size_t i = 0; i < R * ldx; i++)
        X[i] = (float)(2 * drnn_rng_uniform(rng) - 1);
    for (size_t i = 0; i < R * ldy; i++)
        Y[i] = (float)(2 * drnn_rng_uniform(rng) - 1);
    /* xwt: out[T x M] += X W^T */
    memcpy(out, Y, R * ldy * sizeof *out);
    drnn_gemm_xwt(out, ldy, X, ldx, W, T, M, K);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < M; i++) {
            double sum = Y[t * ldy + i];
            for (int k = 0; k < K; k++)
                sum += (double)X[t * ldx + k] * W[(size_t)i * K + k];
            ck_assert_msg(fabs(out[t * ldy + i] - sum) < tol, "xwt T=%d M=%d K=%d", T, M, K);
        }
    /* yw: out[T x K] += Y W */
    memcpy(out, X, R * ldx * sizeof *out);
    drnn_gemm_yw(out, ldx, Y, ldy, W, T, M, K);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            double sum = X[t * ldx + k];
            for (int i = 0; i < M; i++)
                sum += (double)Y[t * ldy + i] * W[(size_t)i * K + k];
            ck_assert_msg(fabs(out[t * ldx + k] - sum) < tol, "yw T=%d M=%d K=%d", T, M, K);
        }
    /* ytx: G[M x K] (+)= Y^T X over listed rows */
    for (int t = 0; t < T; t++) {
        yrow[t] = T - 1 - t;
        xrow[t] = (int)drnn_rng_below(rng, (uint64_t)T);
    }
    drnn_gather_rows_t(Yt, Y, ldy, yrow, T, M);
    drnn_gather_rows(Xp, X, ldx, xrow, T, K);
    for (int add = 0; add <= 1; add++) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            G[i] = add ? W[i] : NAN; /* written over: garbage must not leak */
        drnn_gemm_ytx(G, Yt, R, Xp, (size_t)K, T, M, K, add);
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++) {
                double sum = add ? W[(size_t)i * K + k] : 0;
                for (int t = 0; t < T; t++)
                    sum += (double)Y[yrow[t] * ldy + i] * X[xrow[t] * ldx + k];
                ck_assert_msg(fabs(G[(size_t)i * K + k] - sum) < tol, "ytx add=%d T=%d M=%d K=%d",
                              add, T, M, K);
            }
    }
    check_simd_vs_ref(T, M, K, W, X, ldx, Y, ldy, Yt, R, Xp);
    free(W), free(out), free(X), free(Y), free(Yt), free(Xp), free(G), free(yrow), free(xrow);
}

/* Every block size and every tail: K with vector columns and scalar tails
 * of every length, small T and M of every remainder, and shapes past the
 * kernels' cache blocking (more than 128 rows of W, more than one chunk of
 * steps). */
START_TEST(test_kernels_match_naive)
{
    static const int sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 20, 29, 33, 37, 64};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    static const int big[][3] = {{150, 200, 37}, {5, 300, 133}, {300, 27, 260}, {0, 9, 13}};
    drnn_rng rng;
    drnn_rng_seed(&rng, 11);
    for (int a = 0; a < NS; a++)
        for (int b = 0; b < NS; b++)
            for (int c = 0; c < NS; c++)
                check_kernels(sizes[a], sizes[b], sizes[c], &rng);
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        check_kernels(big[i][0], big[i][1], big[i][2], &rng);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *suite = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_config_limits);
    tcase_add_test(tc, test_init_seeded);
    tcase_add_test(tc, test_sgd_learns_five_names);
    tcase_add_loop_test(tc, test_group_equals_sequential, 0, 6);
    tcase_add_test(tc, test_kernels_match_naive);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(model_suite());
}
