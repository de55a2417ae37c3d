/* check_kernels.c: the matrix products of kernels.h and the lane sums of
 * simd.h, at the vector width this build uses (tests/check_kernels) and,
 * compiled a second time with -DDRNN_OTHER_WIDTH, at the other of 8 and 16
 * floats (tests/check_kernels_other). Each program prints the width and the
 * instructions it checked: 16-float vectors run as AVX-512 only where the
 * build targets it, elsewhere as portable GCC vectors.
 *
 * Legend: T steps (rows of X and Y), M rows of W, K columns of W and X. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "kernels.h"
#include "check_run.h"

/* One ck_assert per element costs Check a write to its log: millions of
 * them made this file take seconds. A failure is reported the same way. */
#define EXPECT(cond, ...)               \
    do {                                \
        if (!(cond))                    \
            ck_abort_msg(__VA_ARGS__);  \
    } while (0)

/* The lane sum as simd.h documents it, restated: lanes [lo, lo + n) summed
 * as the sum of their first half plus the sum of their second half. */
static float tree_sum(const float *a, int lo, int n)
{
    if (n == 1)
        return a[lo];
    return tree_sum(a, lo, n / 2) + tree_sum(a, lo + n / 2, n / 2);
}

/* vsum in its documented order, and vsum4 the same bits for each of its
 * four vectors, on values spread over many magnitudes, so that another
 * order gives other bits (checked: the left-to-right sum differs often). */
START_TEST(test_lane_sums)
{
    drnn_rng rng;
    drnn_rng_seed(&rng, 5);
    int order_matters = 0;
    for (int trial = 0; trial < 2000; trial++) {
        float a[4][DRNN_VL];
        drnn_vec v[4];
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < DRNN_VL; l++) {
                double x = (2 * drnn_rng_uniform(&rng) - 1) * ldexp(1, (int)drnn_rng_below(&rng, 30));
                a[j][l] = (float)x;
            }
            memcpy(&v[j], a[j], sizeof v[j]);
        }
        float s4[4];
        const drnn_vec4 sums = vsum4(v[0], v[1], v[2], v[3]);
        memcpy(s4, &sums, sizeof s4);
        for (int j = 0; j < 4; j++) {
            const float want = tree_sum(a[j], 0, DRNN_VL);
            const float one = vsum(v[j]);
            EXPECT(!memcmp(&one, &want, sizeof one), "vsum %.9g, the tree %.9g", one, want);
            EXPECT(!memcmp(&s4[j], &want, sizeof want), "vsum4[%d] %.9g, the tree %.9g", j, s4[j],
                   want);
            float chain = 0;
            for (int l = 0; l < DRNN_VL; l++)
                chain += a[j][l];
            order_matters += chain != want;
        }
    }
    ck_assert_msg(order_matters > 100, "only %d of 8000 sums depend on the order", order_matters);
}
END_TEST

/* The blocked kernels against the plain references of kernels_ref.h: yw
 * and ytx sum in the same order (the same bits); xwt's two summation orders
 * each lie within (K - 1) u sum|terms| of the exact sum (u = 2^-24), so they
 * differ by at most twice that, plus the final addition's rounding. And
 * xwt's blocks against its one-element call: the same bits whatever the
 * block an element falls in. */
static void check_simd_vs_ref(int T, int M, int K, const float *W, const float *X, size_t ldx,
                              const float *Y, size_t ldy, const int *yrow, const int *xrow)
{
    const double u = 0x1p-24;
    size_t R = T > 0 ? (size_t)T : 1, ld = ldx > ldy ? ldx : ldy;
    size_t n = R * ld > (size_t)M * K ? R * ld : (size_t)M * K;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    ck_assert(a && b);
    memcpy(a, Y, R * ldy * sizeof *a);
    memcpy(b, Y, R * ldy * sizeof *b);
    drnn_gemm_xwt_simd(a, ldy, X, ldx, W, T, M, K);
    drnn_gemm_xwt_ref(b, ldy, X, ldx, W, T, M, K);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < M; i++) {
            double mag = 0;
            for (int k = 0; k < K; k++)
                mag += fabs((double)X[t * ldx + k] * W[(size_t)i * K + k]);
            double bound = 2 * K * u * mag + 2 * u * fabs(b[t * ldy + i]);
            EXPECT(fabs((double)a[t * ldy + i] - b[t * ldy + i]) <= bound,
                   "xwt simd/ref T=%d M=%d K=%d: %.9g vs %.9g", T, M, K, a[t * ldy + i],
                   b[t * ldy + i]);
            float one = Y[t * ldy + i];
            drnn_gemm_xwt_simd(&one, 1, X + t * ldx, ldx, W + (size_t)i * K, 1, 1, K);
            EXPECT(!memcmp(&one, &a[t * ldy + i], sizeof one),
                   "xwt T=%d M=%d K=%d: element (%d, %d) %.9g in a block, %.9g alone", T, M, K, t,
                   i, a[t * ldy + i], one);
        }
    memcpy(a, X, R * ldx * sizeof *a);
    memcpy(b, X, R * ldx * sizeof *b);
    drnn_gemm_yw_simd(a, ldx, Y, ldy, W, T, M, K);
    drnn_gemm_yw_ref(b, ldx, Y, ldy, W, T, M, K);
    EXPECT(!memcmp(a, b, (size_t)T * ldx * sizeof *a), "yw simd/ref T=%d M=%d K=%d", T, M, K);
    for (int add = 0; add <= 1; add++) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            a[i] = b[i] = W[i];
        drnn_gemm_ytx_simd(a, Y, ldy, yrow, X, ldx, xrow, T, M, K, add);
        drnn_gemm_ytx_ref(b, Y, ldy, yrow, X, ldx, xrow, T, M, K, add);
        EXPECT(!memcmp(a, b, (size_t)M * K * sizeof *a), "ytx simd/ref add=%d T=%d M=%d K=%d", add,
               T, M, K);
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
    float *G = malloc((size_t)M * K * sizeof *G);
    int *yrow = malloc(R * sizeof *yrow), *xrow = malloc(R * sizeof *xrow);
    ck_assert(W && out && X && Y && G && yrow && xrow);
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
            EXPECT(fabs(out[t * ldy + i] - sum) < tol, "xwt T=%d M=%d K=%d", T, M, K);
        }
    /* yw: out[T x K] += Y W */
    memcpy(out, X, R * ldx * sizeof *out);
    drnn_gemm_yw(out, ldx, Y, ldy, W, T, M, K);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            double sum = X[t * ldx + k];
            for (int i = 0; i < M; i++)
                sum += (double)Y[t * ldy + i] * W[(size_t)i * K + k];
            EXPECT(fabs(out[t * ldx + k] - sum) < tol, "yw T=%d M=%d K=%d", T, M, K);
        }
    /* ytx: G[M x K] (+)= Y^T X over listed rows */
    for (int t = 0; t < T; t++) {
        yrow[t] = T - 1 - t;
        xrow[t] = (int)drnn_rng_below(rng, (uint64_t)T);
    }
    for (int add = 0; add <= 1; add++) {
        for (size_t i = 0; i < (size_t)M * K; i++)
            G[i] = add ? W[i] : NAN; /* written over: garbage must not leak */
        drnn_gemm_ytx(G, Y, ldy, yrow, X, ldx, xrow, T, M, K, add);
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++) {
                double sum = add ? W[(size_t)i * K + k] : 0;
                for (int t = 0; t < T; t++)
                    sum += (double)Y[yrow[t] * ldy + i] * X[xrow[t] * ldx + k];
                EXPECT(fabs(G[(size_t)i * K + k] - sum) < tol, "ytx add=%d T=%d M=%d K=%d", add, T,
                       M, K);
            }
    }
    check_simd_vs_ref(T, M, K, W, X, ldx, Y, ldy, yrow, xrow);
    free(W), free(out), free(X), free(Y), free(G), free(yrow), free(xrow);
}

/* Every block size and every tail: K with vector columns and scalar tails
 * of every length (up to 15, and one, two and four vectors of 16), small T
 * and M of every remainder, and shapes past the kernels' cache blocking
 * (more rows of W than one block of yw, more than one chunk of steps). */
START_TEST(test_kernels_match_naive)
{
    static const int sizes[] = {1,  2,  3,  4,  5,  7,  8,  9,  13, 15, 16, 17,
                                20, 29, 31, 32, 33, 37, 47, 48, 64, 65, 79};
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

static Suite *kernels_suite(void)
{
    Suite *suite = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_lane_sums);
    tcase_add_test(tc, test_kernels_match_naive);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    printf("kernels checked with %d-float vectors (%s)%s\n", DRNN_VEC_BYTES / 4, DRNN_VEC_ISA,
           DRNN_VEC_BYTES == 64 && strcmp(DRNN_VEC_ISA, "AVX-512")
               ? ": this build does not target AVX-512, so its AVX-512 code is not checked here"
               : "");
    return check_run(kernels_suite());
}
