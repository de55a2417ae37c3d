/* check_dinosaurus.c: examples/dinosaurus.c, the single-file version of the
 * algorithm, against the library. Built with the library's model sources in
 * double (-DDRNN_REAL=double, as check_gradcheck.c), so that the two compute
 * in the same precision: on the same weights and names, the loss and every
 * element of the gradient agree to a relative 1e-10 (measured worst 1.1e-12,
 * LSTM L=3 H=7: the two differ only in the order of their additions). Then dinosaurus
 * trains on data/dinos.txt to a stated loss, and its data loading, layout,
 * initialisation, clipping, update and sampling do what they say; the
 * numbers of docs/worked-example.md are the library's too. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dinornn/bptt.h"
#include "check_run.h"

/* The worked example, and through it dinosaurus.c, without their main();
 * their functions are static, and this test uses only some of them. */
#define WORKED_EXAMPLE_NO_MAIN
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../examples/worked-example.c"
#pragma GCC diagnostic pop

_Static_assert(sizeof(drnn_real) == sizeof(double),
               "this test must be built with DRNN_REAL=double");

/* |dinosaurus - library| <= BOUND * max(|library|, FLOOR), element by element. */
#define BOUND 1e-10
/* Elements smaller than this (relative to nothing: the gradients here are
 * of order 0.01 to 10) are compared absolutely: a sum that cancels to 1e-17
 * has no relative precision in either program. */
#define FLOOR 1e-6

/* Names over a 9-symbol vocabulary (tokens 1 .. 8): empty, one symbol,
 * short, long with repeats. */
static const int name_a[] = {0};
static const int name_b[] = {3};
static const int name_c[] = {1, 4, 2, 8, 5};
static const int name_d[] = {6, 6, 2, 1, 3, 4, 1, 7, 8, 8, 2, 5, 3, 1, 6, 4};
static const int *const names[] = {name_a, name_b, name_c, name_d};
static const int lengths[] = {0, 1, 5, 16};
enum { N_NAMES = 4, VOCAB = 9, MAX_LEN = 16 };

static const cell_kind cells[] = {CELL_RNN, CELL_LSTM, CELL_GRU};
static const int hidden_sizes[] = {1, 4, 7};

/* Which tensor element i of a parameter buffer belongs to, for messages. */
static const char *tensor_of(const params *p, size_t i, int *layer)
{
    const double *x = p->data + i;
    *layer = 0;
    if (x >= p->b_y)
        return "b_y";
    if (x >= p->W_y)
        return "W_y";
    for (int l = p->cfg.L - 1; l >= 0; l--) {
        const layer_params *v = &p->layer[l];
        *layer = l + 1;
        if (x >= v->b_h && p->cfg.cell == CELL_GRU)
            return "b_h";
        if (x >= v->b)
            return "b";
        if (x >= v->W_h)
            return "W_h";
        if (x >= v->W_x)
            return "W_x";
    }
    return "?";
}

/* The worst relative error between two buffers, FLOOR as above. */
static double worst_error(const double *mine, const drnn_real *lib, size_t n, size_t *where)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(mine[i] - lib[i]) / fmax(fabs(lib[i]), FLOOR);
        if (e > worst)
            worst = e, *where = i;
    }
    return worst;
}

/* Both programs on dinosaurus's weights w (copied into the library's
 * buffer) and the same names: the worst relative error of any name's loss
 * or any element of the summed gradient. perturb: a relative change made to
 * one element of dinosaurus's gradient before the comparison. */
static double compare_on(const params *w, const int *const *name, const int *len, int count,
                         double perturb)
{
    const config *cfg = &w->cfg;
    const drnn_config lcfg = {cfg->V, cfg->H, cfg->L, (drnn_cell_kind)cfg->cell, 0};
    const char *what = drnn_cell_name(lcfg.cell);
    drnn_params lw, lg;
    drnn_scratch *s;
    drnn_error err;
    int max_len = 0;
    for (int j = 0; j < count; j++)
        max_len = len[j] > max_len ? len[j] : max_len;
    ck_assert_int_eq(drnn_params_alloc(&lw, &lcfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&lg, &lcfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new_group(&s, &lcfg, max_len, count, &err), DRNN_OK);
    /* The same layout: one copy puts every tensor in its place. */
    ck_assert_uint_eq(w->count, lw.count);
    memcpy(lw.data, w->data, w->count * sizeof *w->data);

    /* The library: the names as one packed group, each name's loss apart. */
    const drnn_token *lnames[N_NAMES];
    drnn_token tokens[N_NAMES][MAX_LEN];
    ck_assert(count <= N_NAMES && max_len <= MAX_LEN);
    for (int j = 0; j < count; j++) {
        for (int i = 0; i < len[j]; i++)
            tokens[j][i] = (drnn_token)name[j][i];
        lnames[j] = tokens[j];
    }
    double lib_loss[N_NAMES];
    drnn_group_loss(&lw, s, lnames, len, count, NULL, lib_loss, &lg, 1);

    params g;
    trace tr;
    params_alloc(&g, cfg);
    trace_alloc(&tr, cfg, max_len);
    double worst = 0;
    for (int j = 0; j < count; j++) {
        forward(w, name[j], len[j], &tr);
        double loss = cost(&tr);
        backward(w, &tr, &g);
        worst = fmax(worst, fabs(loss - lib_loss[j]) / lib_loss[j]);
    }
    ck_assert_msg(worst <= BOUND, "%s L=%d H=%d: the losses differ by %.3g", what, cfg->L,
                  cfg->H, worst);
    g.data[g.count / 2] *= 1 + perturb;
    size_t at = 0;
    int layer;
    double e = worst_error(g.data, lg.data, g.count, &at);
    const char *tensor = tensor_of(&g, at, &layer);
    ck_assert_msg(e <= BOUND || perturb != 0,
                  "%s L=%d H=%d: the gradient of %s (layer %d; element %zu of %zu): %.17g, the "
                  "library's %.17g", what, cfg->L, cfg->H, tensor, layer, at, g.count, g.data[at],
                  lg.data[at]);
    trace_free(&tr), params_free(&g);
    drnn_scratch_free(s), drnn_params_free(&lg), drnn_params_free(&lw);
    return fmax(worst, e);
}

/* compare_on with the library's initialisation from a seed and the names
 * above. */
static double compare(cell_kind cell, int L, int H, double perturb)
{
    const config cfg = {cell, VOCAB, H, L};
    const drnn_config lcfg = {VOCAB, H, L, (drnn_cell_kind)cell, 0};
    drnn_params lw;
    drnn_error err;
    drnn_rng lrng;
    params w;
    ck_assert_int_eq(drnn_params_alloc(&lw, &lcfg, &err), DRNN_OK);
    drnn_rng_seed(&lrng, 100 + 10 * (uint64_t)L + (uint64_t)H);
    drnn_params_init(&lw, &lrng);
    params_alloc(&w, &cfg);
    ck_assert_uint_eq(w.count, lw.count);
    memcpy(w.data, lw.data, w.count * sizeof *w.data);
    double e = compare_on(&w, names, lengths, N_NAMES, perturb);
    params_free(&w);
    drnn_params_free(&lw);
    return e;
}

/* _i = 9 * cell + 3 * (L - 1) + hidden size index: every cell at L = 1, 2, 3. */
START_TEST(test_gradient_equals_library)
{
    const cell_kind cell = cells[_i / 9];
    const int L = _i / 3 % 3 + 1, H = hidden_sizes[_i % 3];
    double e = compare(cell, L, H, 0);
    ck_assert_msg(e <= BOUND, "%s L=%d H=%d: relative error %.3g",
                  drnn_cell_name((drnn_cell_kind)cell), L, H, e);
    printf("%s L=%d H=%d: worst relative error of the loss and gradient %.2g\n",
           drnn_cell_name((drnn_cell_kind)cell), L, H, e);
}
END_TEST

/* The comparison can fail: one element off by a part in 10^8 is caught. */
START_TEST(test_comparison_catches_errors)
{
    ck_assert(compare(CELL_GRU, 2, 4, 1e-8) > BOUND);
}
END_TEST

/* docs/worked-example.md's numbers: its weights and name give the
 * library's loss and gradients, and pass the program's own check against
 * central differences. */
START_TEST(test_worked_example)
{
    const config cfg = {cells[_i], EX_V, EX_H, 1};
    const int *name = ex_name, len = EX_N;
    params w, g;
    trace tr;
    params_alloc(&w, &cfg), params_alloc(&g, &cfg);
    trace_alloc(&tr, &cfg, EX_N);
    example_weights(&w);
    double e = compare_on(&w, &name, &len, 1, 0);
    ck_assert_msg(e <= BOUND, "worked example, %s: relative error %.3g",
                  drnn_cell_name((drnn_cell_kind)cfg.cell), e);
    forward(&w, name, len, &tr);
    cost(&tr);
    backward(&w, &tr, &g);
    ck_assert_int_eq(example_check(&w, &g), 0);
    g.data[3] += 1e-7; /* and that check can fail */
    ck_assert_int_eq(example_check(&w, &g), -1);
    trace_free(&tr), params_free(&g), params_free(&w);
}
END_TEST

/* The layout is the library's, tensor by tensor, for every cell. */
START_TEST(test_layout)
{
    const config cfg = {cells[_i], 11, 6, 3};
    const drnn_config lcfg = {11, 6, 3, (drnn_cell_kind)cells[_i], 0};
    params w;
    drnn_params lw;
    drnn_error err;
    params_alloc(&w, &cfg);
    ck_assert_int_eq(drnn_params_alloc(&lw, &lcfg, &err), DRNN_OK);
    ck_assert_uint_eq(w.count, drnn_param_count(&lcfg));
    for (int l = 0; l < 3; l++) {
        ck_assert_int_eq(w.layer[l].W_x - w.data, lw.layer[l].W_x - lw.data);
        ck_assert_int_eq(w.layer[l].W_h - w.data, lw.layer[l].W_h - lw.data);
        ck_assert_int_eq(w.layer[l].b - w.data, lw.layer[l].b - lw.data);
        ck_assert_int_eq(w.layer[l].b_h - w.data, lw.layer[l].b_h - lw.data);
    }
    ck_assert_int_eq(w.W_y - w.data, lw.W_y - lw.data);
    ck_assert_int_eq(w.b_y - w.data, lw.b_y - lw.data);
    params_free(&w);
    drnn_params_free(&lw);
}
END_TEST

/* init_params: every value in [-1/sqrt(H), 1/sqrt(H)] and spread over it,
 * except the LSTM's forget-gate bias, 1; the same seed, the same weights. */
START_TEST(test_init)
{
    const config cfg = {cells[_i], 5, 16, 2};
    params w, again;
    uint64_t r = 7, r2 = 7;
    params_alloc(&w, &cfg), params_alloc(&again, &cfg);
    init_params(&w, &r);
    init_params(&again, &r2);
    ck_assert(memcmp(w.data, again.data, w.count * sizeof *w.data) == 0);
    double lo = 1, hi = -1;
    for (size_t i = 0; i < w.count; i++) {
        const double *x = &w.data[i];
        int forget = cfg.cell == CELL_LSTM && ((x >= w.layer[0].b + 16 && x < w.layer[0].b + 32) ||
                                               (x >= w.layer[1].b + 16 && x < w.layer[1].b + 32));
        if (forget) {
            ck_assert(*x == 1);
            continue;
        }
        ck_assert(fabs(*x) <= 0.25);
        lo = fmin(lo, *x), hi = fmax(hi, *x);
    }
    ck_assert(lo < -0.24 && hi > 0.24);
    params_free(&w), params_free(&again);
}
END_TEST

static const char *dinos_path(char *buf, size_t size)
{
    const char *top = getenv("top_srcdir");
    snprintf(buf, size, "%s/data/dinos.txt", top ? top : ".");
    return buf;
}

/* data/dinos.txt: 1,536 names over 26 letters and END, lowercased. */
START_TEST(test_load_dinos)
{
    char path[4096];
    dataset d;
    ck_assert_int_eq(load_data(dinos_path(path, sizeof path), &d), 0);
    ck_assert_int_eq(d.count, 1536);
    ck_assert_int_eq(d.vocab, 27);
    for (int v = 1; v < 27; v++)
        ck_assert_int_eq(d.symbol[v], 'a' + v - 1);
    static const int aachen[] = {1, 1, 3, 8, 5, 14, 15, 19, 1, 21, 18, 21, 19}; /* aachenosaurus */
    ck_assert_int_eq(d.length[0], 13);
    ck_assert(memcmp(d.tokens + d.start[0], aachen, sizeof aachen) == 0);
    free_data(&d);
}
END_TEST

/* Writes text to a temporary file and loads it. */
static int load_text(const char *text, dataset *d)
{
    char path[] = "/tmp/check_dinosaurus.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = load_data(path, d);
    unlink(path);
    return rc;
}

/* Blank lines, white space, CRLF and upper case (symbols in ASCII order
 * after END); a byte above 127 (UTF-8 included), a control character and
 * an empty file refused. */
START_TEST(test_load_lines)
{
    dataset d;
    ck_assert_int_eq(load_text("Zo-e\r\n\n  ab \t\nBA\n", &d), 0);
    ck_assert_int_eq(d.count, 3);
    ck_assert_int_eq(d.vocab, 7); /* END - a b e o z */
    ck_assert(memcmp(d.symbol + 1, "-abeoz", 6) == 0);
    static const int tokens[] = {6, 5, 1, 4, 2, 3, 3, 2};
    ck_assert(memcmp(d.tokens, tokens, sizeof tokens) == 0);
    ck_assert_int_eq(d.max_length, 4);
    free_data(&d);
    ck_assert_int_eq(load_text("ab\nZo\xc3\xab\n", &d), -1);
    ck_assert_int_eq(load_text("ab\na\tb\n", &d), -1);
    ck_assert_int_eq(load_text(" \n\n", &d), -1);
}
END_TEST

/* Clipping by norm leaves the norm at the bound (and a smaller gradient
 * alone); by value, each element in [-bound, bound]. */
START_TEST(test_clip)
{
    const config cfg = {CELL_RNN, 3, 2, 1};
    params g;
    params_alloc(&g, &cfg);
    for (size_t i = 0; i < g.count; i++)
        g.data[i] = (double)i - 9.5;
    clip(&g, CLIP_VALUE, 5);
    for (size_t i = 0; i < g.count; i++)
        ck_assert(g.data[i] == fmin(fmax((double)i - 9.5, -5), 5));
    double norm2 = 0;
    clip(&g, CLIP_NORM, 2);
    for (size_t i = 0; i < g.count; i++)
        norm2 += g.data[i] * g.data[i];
    ck_assert_double_eq_tol(sqrt(norm2), 2, 1e-12);
    double before = g.data[0];
    clip(&g, CLIP_NORM, 3);
    ck_assert(g.data[0] == before);
    params_free(&g);
}
END_TEST

/* SGD moves each weight by -lr g; Adam's first step by -lr sign(g) (its
 * corrected moments are g and g^2), to within eps. */
START_TEST(test_update)
{
    const config cfg = {CELL_GRU, 3, 2, 1};
    params w, g;
    params_alloc(&w, &cfg), params_alloc(&g, &cfg);
    optimizer sgd = optimizer_new(w.count, OPT_SGD, 0.5);
    optimizer adam = optimizer_new(w.count, OPT_ADAM, 0.01);
    for (size_t i = 0; i < g.count; i++)
        g.data[i] = ((double)i - 20) / 8;
    update(&w, &g, &sgd);
    for (size_t i = 0; i < g.count; i++)
        ck_assert(w.data[i] == -0.5 * g.data[i]);
    memset(w.data, 0, w.count * sizeof *w.data);
    update(&w, &g, &adam);
    for (size_t i = 0; i < g.count; i++)
        ck_assert_double_eq_tol(w.data[i], g.data[i] == 0 ? 0 : g.data[i] > 0 ? -0.01 : 0.01, 1e-8);
    free(adam.m), free(adam.v), params_free(&g), params_free(&w);
}
END_TEST

/* dinosaurus's defaults but for the length: tanh RNN, one layer of 50,
 * batch 1, Adam 3e-3, clipping by norm at 5, seed 1, 10,000 iterations; the
 * loss is the mean per symbol over the last 1,000, from log(27) = 3.30 at
 * the start. Measured 1.639 to 1.664 over seeds 1 to 8 (seed 1: 1.6445);
 * the bound 1.75 leaves room for another compiler's rounding, which changes
 * the run as a new seed does. About 1.3 s on one core. (BPTT truncated to
 * one step still reaches 1.71: the gradient test above is the one that
 * catches such errors; this one, that the whole loop learns.) */
START_TEST(test_training)
{
    char path[4096];
    dataset d;
    ck_assert_int_eq(load_data(dinos_path(path, sizeof path), &d), 0);
    options o = {.cell = CELL_RNN, .layers = 1, .hidden = 50, .batch = 1, .iterations = 10000,
                 .print_every = 1000, .seed = 1, .optimizer = OPT_ADAM, .lr = 0.003, .clip = 5,
                 .clip_mode = CLIP_NORM, .samples = 0};
    double loss = train(&d, &o, NULL);
    printf("dinosaurus, tanh RNN 1x50, 10,000 iterations, seed 1: loss %.4f\n", loss);
    ck_assert_msg(loss < 1.75, "loss %.4f after 10,000 iterations, expected below 1.75", loss);
    free_data(&d);
}
END_TEST

/* Sampling: names of the vocabulary's symbols, never empty, at most the
 * length asked, the same for the same seed. */
START_TEST(test_sample)
{
    const config cfg = {CELL_LSTM, 6, 5, 2};
    params w;
    trace tr;
    uint64_t init = 3, r1 = 9, r2 = 9;
    params_alloc(&w, &cfg);
    trace_alloc(&tr, &cfg, 20);
    init_params(&w, &init);
    int a[20], b[20];
    for (int k = 0; k < 50; k++) {
        int n = sample(&w, &tr, &r1, 20, a);
        ck_assert_int_eq(sample(&w, &tr, &r2, 20, b), n);
        ck_assert(n >= 1 && n <= 20);
        for (int i = 0; i < n; i++)
            ck_assert(a[i] == b[i] && a[i] >= 1 && a[i] < 6);
    }
    trace_free(&tr), params_free(&w);
}
END_TEST

static Suite *dinosaurus_suite(void)
{
    Suite *suite = suite_create("dinosaurus");
    TCase *tc = tcase_create("dinosaurus");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_gradient_equals_library, 0, 27);
    tcase_add_test(tc, test_comparison_catches_errors);
    tcase_add_loop_test(tc, test_worked_example, 0, 3);
    tcase_add_loop_test(tc, test_layout, 0, 3);
    tcase_add_loop_test(tc, test_init, 0, 3);
    tcase_add_test(tc, test_load_dinos);
    tcase_add_test(tc, test_load_lines);
    tcase_add_test(tc, test_clip);
    tcase_add_test(tc, test_update);
    tcase_add_test(tc, test_training);
    tcase_add_test(tc, test_sample);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(dinosaurus_suite());
}
