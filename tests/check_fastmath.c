/* check_fastmath.c: the fast exp, tanh and logistic function of
 * src/fastmath.h against libm in double precision, over every float
 * magnitude (both signs, a stride through the bit patterns, and every float
 * of the ranges where the approximations change form), with the worst
 * error bounded and the properties the cells and the softmax rely on held
 * at every input. DRNN_FASTMATH_STRIDE=1 in the environment sweeps all 2^32
 * floats (a few minutes); the bounds in fastmath.h come from that sweep.
 *
 * Built with the library's flags (-O3, the build's -march), the functions
 * run as the cells run them: in loops the compiler vectorises. The
 * --disable-simd build changes the matrix products only (kernels.h); its
 * activations are these same functions, checked by this same program. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "check_run.h"

_Static_assert(sizeof(drnn_real) == sizeof(float), "the fast functions are those of float");

/* One ck_assert per input would cost Check a write each: millions of them. */
#define EXPECT(cond, ...)               \
    do {                                \
        if (!(cond))                    \
            ck_abort_msg(__VA_ARGS__);  \
    } while (0)

enum { CHUNK = 4096 };

/* The library's calls, each in the loop form of the cells (src/cell_*.c). */
static void apply_exp(const float *restrict x, float *restrict y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = drnn_exp(x[i]);
}

static void apply_tanh(const float *restrict x, float *restrict y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = drnn_tanh(x[i]);
}

static void apply_sigmoid(const float *restrict x, float *restrict y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = drnn_sigmoid(x[i]);
}

static double ref_exp(double x)
{
    return exp(x);
}

static double ref_tanh(double x)
{
    return tanh(x);
}

/* e^x / (1 + e^x) below 0, so that no large e^-x overflows. */
static double ref_sigmoid(double x)
{
    return x < 0 ? exp(x) / (1 + exp(x)) : 1 / (1 + exp(-x));
}

/* A fast function, what it is measured against, and its bounds. */
typedef struct fast_fn {
    const char *name;
    void (*apply)(const float *restrict x, float *restrict y, int n);
    double (*reference)(double x);
    float lo, hi;       /* inputs where the error is bounded in ulps; outside,
                         * a clamp inside the function takes over */
    float min, max;     /* every result of a non-NaN input lies in [min, max] */
    double ulp_bound;   /* error in units in the last place of the exact value */
    double abs_bound;   /* absolute error at every non-NaN input (0: not bounded) */
    double odd_bound;   /* |f(x) + f(-x) - f(0) * 2| at every input (0: not checked) */
} fast_fn;

/* The spacing of floats at y (a denormal's below FLT_MIN). */
static double float_ulp(double y)
{
    int e;
    frexp(fabs(y), &e);
    if (e < -125)
        e = -125;
    return ldexp(1.0, e - 1 - 23);
}

/* The worst found so far, and where. */
typedef struct sweep_stats {
    double worst_ulp, worst_abs, worst_odd;
    float ulp_at, abs_at, odd_at;
    long long inputs;
} sweep_stats;

/* Errors and properties at x and -x, given f(x) and f(-x). */
static void check_pair(const fast_fn *fn, float x, float yp, float yn, sweep_stats *s)
{
    const float xs[2] = {x, -x}, ys[2] = {yp, yn};
    for (int k = 0; k < 2; k++) {
        float xi = xs[k], yi = ys[k];
        EXPECT(!isnan(yi), "%s(%a) is NaN", fn->name, (double)xi);
        EXPECT(yi >= fn->min && yi <= fn->max, "%s(%a) = %a is outside [%a, %a]", fn->name,
               (double)xi, (double)yi, (double)fn->min, (double)fn->max);
        double ref = fn->reference(xi), err = fabs(yi - ref);
        if (xi >= fn->lo && xi <= fn->hi && err / float_ulp(ref) > s->worst_ulp) {
            s->worst_ulp = err / float_ulp(ref);
            s->ulp_at = xi;
        }
        if (isfinite(xi) && err > s->worst_abs) {
            s->worst_abs = err;
            s->abs_at = xi;
        }
    }
    double odd = fabs((double)yp + yn - 2.0 * fn->reference(0));
    if (odd > s->worst_odd) {
        s->worst_odd = odd;
        s->odd_at = x;
    }
    s->inputs += 2;
}

/* Every stride-th float magnitude of the bit patterns [from, to] (to is
 * always included), at both signs: f's errors, its range, and that it is
 * monotonic from one input to the next (non-decreasing in x: at -x, f
 * falls as x grows). */
static void sweep(const fast_fn *fn, uint32_t from, uint32_t to, uint32_t stride,
                  sweep_stats *s)
{
    float x[CHUNK], neg[CHUNK], yp[CHUNK], yn[CHUNK];
    float last_p = NAN, last_n = NAN;
    uint64_t bits = from;
    while (bits <= to) {
        int n = 0;
        for (; n < CHUNK && bits <= to; n++) {
            uint32_t b = (uint32_t)bits;
            memcpy(&x[n], &b, sizeof b);
            neg[n] = -x[n];
            if (b == to)
                bits = (uint64_t)to + 1; /* done */
            else
                bits = bits + stride > to ? to : bits + stride;
        }
        fn->apply(x, yp, n);
        fn->apply(neg, yn, n);
        for (int i = 0; i < n; i++) {
            check_pair(fn, x[i], yp[i], yn[i], s);
            EXPECT(!(yp[i] < last_p), "%s is not monotonic at %a", fn->name, (double)x[i]);
            EXPECT(!(yn[i] > last_n), "%s is not monotonic at %a", fn->name, (double)neg[i]);
            last_p = yp[i];
            last_n = yn[i];
        }
    }
}

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* Every float magnitude within reach floats of m (m > 0). */
static void sweep_around(const fast_fn *fn, float m, uint32_t reach, sweep_stats *s)
{
    uint32_t b = float_bits(m);
    sweep(fn, b - reach, b + reach, 1, s);
}

/* Every float near each point where exp's reduction moves from n to n + 1,
 * x = (n + 1/2) ln2 / scale, for the exponent a function takes of x
 * (exp: x, tanh: 2x), and near the clamps: where the form changes, and where
 * a function is most likely to step back. */
static void sweep_boundaries(const fast_fn *fn, double scale, const float *more, int n_more,
                             sweep_stats *s)
{
    for (int n = 0; n <= 127; n++)
        sweep_around(fn, (float)((n + 0.5) * 0.69314718055994531 / scale), 1u << 12, s);
    const float clamps[] = {87.3f, 88.3762f};
    for (int i = 0; i < 2; i++)
        sweep_around(fn, (float)(clamps[i] / scale), 1u << 16, s);
    for (int i = 0; i < n_more; i++)
        sweep_around(fn, more[i], 1u << 20, s);
}

/* The stride through the bit patterns: DRNN_FASTMATH_STRIDE, else one
 * float in 251 (about 8.5 million magnitudes). */
static uint32_t sweep_stride(void)
{
    const char *env = getenv("DRNN_FASTMATH_STRIDE");
    long v = env ? strtol(env, NULL, 10) : 0;
    return v >= 1 && v <= 1L << 30 ? (uint32_t)v : 251;
}

/* The whole sweep of fn, its worst errors printed, held to its bounds. */
static void measure(const fast_fn *fn, double scale, const float *more, int n_more)
{
    sweep_stats s = {0};
    uint32_t stride = sweep_stride();
    sweep(fn, 0, float_bits(INFINITY), stride, &s);
    if (stride > 1)
        sweep_boundaries(fn, scale, more, n_more, &s);
    printf("%s: %lld inputs; worst %.3f ulp at %.9g", fn->name, s.inputs, s.worst_ulp,
           (double)s.ulp_at);
    if (fn->abs_bound)
        printf(", worst absolute error %.3g at %.9g", s.worst_abs, (double)s.abs_at);
    if (fn->odd_bound)
        printf(", worst |f(x) + f(-x) - 2 f(0)| %.3g at %.9g", s.worst_odd, (double)s.odd_at);
    printf("\n");
    EXPECT(s.worst_ulp <= fn->ulp_bound, "%s: %.3f ulp at %a, above the bound %.3f", fn->name,
           s.worst_ulp, (double)s.ulp_at, fn->ulp_bound);
    EXPECT(!fn->abs_bound || s.worst_abs <= fn->abs_bound,
           "%s: absolute error %.3g at %a, above the bound %.3g", fn->name, s.worst_abs,
           (double)s.abs_at, fn->abs_bound);
    EXPECT(!fn->odd_bound || s.worst_odd <= fn->odd_bound,
           "%s: |f(x) + f(-x) - 2 f(0)| = %.3g at %a, above the bound %.3g", fn->name,
           s.worst_odd, (double)s.odd_at, fn->odd_bound);
}

/* Bounds: twice the worst of the sweep of all 2^32 floats (DRNN_FASTMATH_STRIDE=1),
 * which found exp 1.023 ulp; tanh 2.997 ulp, 1.79e-7 absolute, 1.79e-7
 * from odd; the logistic function 2.481 ulp, 8.93e-8 absolute, 8.94e-8
 * from s(x) + s(-x) = 1 (the comment in fastmath.h). */
static const fast_fn fast_exp = {
    .name = "exp", .apply = apply_exp, .reference = ref_exp, .lo = -87.3f, .hi = 88.3762f,
    .min = FLT_MIN, .max = FLT_MAX, .ulp_bound = 2.05};
static const fast_fn fast_tanh = {
    .name = "tanh", .apply = apply_tanh, .reference = ref_tanh, .lo = -INFINITY, .hi = INFINITY,
    .min = -1, .max = 1, .ulp_bound = 6.0, .abs_bound = 3.6e-7, .odd_bound = 3.6e-7};
static const fast_fn fast_sigmoid = {
    .name = "sigmoid", .apply = apply_sigmoid, .reference = ref_sigmoid, .lo = -88.3762f,
    .hi = INFINITY, .min = 0, .max = 1, .ulp_bound = 5.0, .abs_bound = 1.8e-7, .odd_bound = 1.8e-7};

START_TEST(test_exp)
{
    const float more[] = {0.5f};
    measure(&fast_exp, 1, more, 1);
}
END_TEST

START_TEST(test_tanh)
{
    const float more[] = {0.625f};
    measure(&fast_tanh, 2, more, 1);
}
END_TEST

START_TEST(test_sigmoid)
{
    const float more[] = {0.5f};
    measure(&fast_sigmoid, 1, more, 1);
}
END_TEST

/* The values the library relies on exactly, the clamps, and NaN, which
 * passes through (fastmath.h keeps it away from the exponent bits). */
START_TEST(test_special_values)
{
    enum { N = 9 };
    const float x[N] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.3762f, -87.3f, 1e30f, -1e30f};
    float e[N], t[N], g[N];
    apply_exp(x, e, N);
    apply_tanh(x, t, N);
    apply_sigmoid(x, g, N);
    ck_assert(e[0] == 1 && e[1] == 1);
    ck_assert(t[0] == 0 && t[1] == 0);
    ck_assert(g[0] == 0.5f && g[1] == 0.5f);
    /* Past the clamps, exp is its value at the clamp: finite, and positive. */
    ck_assert(e[2] == e[5] && e[7] == e[5] && e[5] <= FLT_MAX);
    ck_assert(e[3] == e[6] && e[8] == e[6] && e[6] >= FLT_MIN);
    ck_assert(t[2] == 1 && t[3] == -1 && t[7] == 1 && t[8] == -1);
    ck_assert(g[2] == 1 && g[7] == 1);
    ck_assert(g[3] >= 0 && g[3] < FLT_MIN && g[8] == g[3]);
    ck_assert(isnan(e[4]) && isnan(t[4]) && isnan(g[4]));
}
END_TEST

static Suite *fastmath_suite(void)
{
    Suite *suite = suite_create("fastmath");
    TCase *tc = tcase_create("fastmath");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_special_values);
    tcase_add_test(tc, test_exp);
    tcase_add_test(tc, test_tanh);
    tcase_add_test(tc, test_sigmoid);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(fastmath_suite());
}
