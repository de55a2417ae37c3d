/* fastmath.h: exp, tanh and the logistic function for drnn_real, written so
 * that the compiler vectorises the cells' loops over units (libm's calls do
 * not vectorise without -ffast-math, which we do not use). For float they are
 * Cephes-style approximations; the double build (the gradient check) uses
 * libm.
 *
 * Accuracy against libm in double, measured over all 2^32 floats by
 * tests/check_fastmath.c (DRNN_FASTMATH_STRIDE=1; make check sweeps a
 * sample and holds each to twice its worst), in units in the last place
 * of the exact value:
 *   exp      1.02 ulp on [-87.3, 88.3762], outside its value at the clamp;
 *            every result positive, normal and finite
 *   tanh     3.00 ulp and 1.8e-7 absolute everywhere; within [-1, 1], odd
 *            to 1.8e-7
 *   sigmoid  2.48 ulp for x >= -88.3762 (below, under 4.2e-39 where the
 *            exact value is smaller), 9e-8 absolute everywhere; within
 *            [0, 1], s(x) + s(-x) = 1 to 9e-8
 * Each is non-decreasing over all floats, and NaN gives NaN. */
#ifndef DINORNN_FASTMATH_H
#define DINORNN_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dinornn/params.h"

/* mask ? a : b, for a mask of all ones or all zeros. Written with integer
 * operations because GCC threads jumps through ?: on constants, which stops
 * the loops around these functions from vectorising. */
static inline float drnn_selectf(int32_t mask, float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    int32_t r = (ia & mask) | (ib & ~mask);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* e^x for float: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial,
 * 2^n by building the exponent bits. x is clamped to [-87.3, 88.3762], where
 * n is -126 .. 127 and the result a normal float: above 88.3762 (127.5 ln2)
 * n would be 128, whose exponent bits are infinity's. */
static inline float drnn_expf(float x)
{
    x = drnn_selectf(-(int32_t)(x < -87.3f), -87.3f, x);
    x = drnn_selectf(-(int32_t)(x > 88.3762f), 88.3762f, x);
    /* Round to nearest by adding and removing 1.5 * 2^23 (floorf would not
     * vectorise without -fno-trapping-math). */
    const float magic = 12582912.0f;
    float n = (x * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* NaN passes through p; the exponent bits must not come from it (a NaN
     * to int conversion is undefined behaviour). n + 127 is in 1..254. */
    float n_ok = drnn_selectf(-(int32_t)(n == n), n, 0.0f);
    int32_t bits = (int32_t)((uint32_t)((int32_t)n_ok + 127) << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh for float: an odd polynomial near 0 (where 1 - 2/(e^2x + 1) would
 * lose digits), the exponential form elsewhere; both computed, one kept. */
static inline float drnn_tanhf(float x)
{
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float big = 1.0f - 2.0f / (drnn_expf(2.0f * x) + 1.0f);
    return drnn_selectf(-(int32_t)(fabsf(x) < 0.625f), small, big);
}

static inline drnn_real drnn_exp(drnn_real x)
{
    return sizeof(drnn_real) == sizeof(float) ? (drnn_real)drnn_expf((float)x) : (drnn_real)exp((double)x);
}

static inline drnn_real drnn_tanh(drnn_real x)
{
    return sizeof(drnn_real) == sizeof(float) ? (drnn_real)drnn_tanhf((float)x) : (drnn_real)tanh((double)x);
}

static inline drnn_real drnn_sigmoid(drnn_real x)
{
    return 1 / (1 + drnn_exp(-x));
}

#endif
