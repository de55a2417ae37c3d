/* simd.h: the vector type and the few operations the kernels and the
 * optimizer loops are written in: GCC vector extensions of DRNN_VL scalars
 * (32 bytes), with AVX/FMA intrinsics where the portable form would let the
 * compiler round differently from one loop to the next. */
#ifndef DINORNN_SIMD_H
#define DINORNN_SIMD_H

#include <string.h>

#include "dinornn/model.h"

#if defined(__AVX__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#endif

#define DRNN_VL ((int)(32 / sizeof(drnn_real)))
typedef drnn_real drnn_vec __attribute__((vector_size(32)));

static inline drnn_vec vload(const drnn_real *p)
{
    drnn_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(drnn_real *p, drnn_vec v)
{
    memcpy(p, &v, sizeof v);
}

/* v, held in a register. A value used by several multiply-adds of a block
 * is loaded once this way; left alone, GCC folds the load into every one of
 * them, and the blocks then wait on loads instead of on arithmetic. */
static inline drnn_vec vreg(drnn_vec v)
{
#if defined(__GNUC__) && defined(__AVX__) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+x"(v)); /* one ymm register: only with AVX */
#endif
    return v;
}

/* x in every lane. x - 0 is exactly x (even -0), so the compiler drops the
 * subtraction and broadcasts, where x + 0 would have to stay an addition. */
static inline drnn_vec vsplat(drnn_real x)
{
    const drnn_vec zero = {0};
    return x - zero;
}

/* c + a * b, rounded once where the machine has FMA, as the vector loops
 * are: written out, so that no scalar tail's result depends on whether the
 * compiler contracted it, or vectorised its loop into products and a
 * separate in-order sum (GCC does, and then a sum split across two calls
 * differs from the whole in the last bit). */
static inline drnn_real fmadd(drnn_real a, drnn_real b, drnn_real c)
{
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
    if (sizeof(drnn_real) == sizeof(float))
        return (drnn_real)__builtin_fmaf((float)a, (float)b, (float)c);
    return (drnn_real)__builtin_fma(a, b, c);
#else
    return c + a * b;
#endif
}

/* c + a * b in every lane, rounded once per lane where the machine has FMA.
 * Left to itself GCC contracts most vector multiply-adds but not all (a loop
 * it re-vectorises keeps a separate multiply), and then the same element
 * would round differently depending on which loop computed it. */
#if defined(__FMA__) && defined(__AVX__) && (defined(__x86_64__) || defined(__i386__))
static inline drnn_vec vfma(drnn_vec a, drnn_vec b, drnn_vec c)
{
    if (sizeof(drnn_real) == sizeof(float))
        return (drnn_vec)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
    return (drnn_vec)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
}
#elif defined(__FMA__) || defined(__ARM_FEATURE_FMA)
static inline drnn_vec vfma(drnn_vec a, drnn_vec b, drnn_vec c)
{
    drnn_vec r;
    for (int j = 0; j < DRNN_VL; j++)
        r[j] = fmadd(a[j], b[j], c[j]);
    return r;
}
#else
static inline drnn_vec vfma(drnn_vec a, drnn_vec b, drnn_vec c)
{
    return c + a * b; /* nothing to contract into */
}
#endif

/* The square root of every lane, correctly rounded (as any sqrt is: the
 * vector and scalar forms agree bit for bit). */
#if defined(__AVX__) && (defined(__x86_64__) || defined(__i386__))
static inline drnn_vec vsqrt(drnn_vec a)
{
    if (sizeof(drnn_real) == sizeof(float))
        return (drnn_vec)_mm256_sqrt_ps((__m256)a);
    return (drnn_vec)_mm256_sqrt_pd((__m256d)a);
}
#else
static inline drnn_vec vsqrt(drnn_vec a)
{
    drnn_vec r;
    for (int j = 0; j < DRNN_VL; j++)
        r[j] = sizeof(drnn_real) == sizeof(float) ? (drnn_real)__builtin_sqrtf((float)a[j])
                                                  : (drnn_real)__builtin_sqrt(a[j]);
    return r;
}
#endif

/* Lane sum in a fixed order: neighbouring lanes added pairwise, then the
 * pairs, and so on ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)): a
 * tree, not a chain of DRNN_VL - 1 dependent additions, and the order in which
 * vsum4 below sums four vectors at once with horizontal additions. */
static inline drnn_real vsum(drnn_vec v)
{
    drnn_real a[DRNN_VL];
    memcpy(a, &v, sizeof a);
    for (int width = DRNN_VL / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++)
            a[j] = a[2 * j] + a[2 * j + 1];
    return a[0];
}

/* s[j] = vsum(aj) for four vectors, bit for bit; with AVX and floats by
 * three horizontal additions and one across the halves instead of four
 * separate trees. */
static inline void vsum4(drnn_real s[4], drnn_vec a0, drnn_vec a1, drnn_vec a2, drnn_vec a3)
{
#if defined(__AVX__) && (defined(__x86_64__) || defined(__i386__))
    if (sizeof(drnn_real) == sizeof(float)) {
        /* [a0: l0+l1, l2+l3 | a1: ... ] then [aj: (l0+l1)+(l2+l3)] for j =
         * 0..3 in the low half, the same of l4..l7 in the high half. */
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps((__m256)a0, (__m256)a1),
                                  _mm256_hadd_ps((__m256)a2, (__m256)a3));
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        memcpy(s, &r, 4 * sizeof *s);
        return;
    }
#endif
    s[0] = vsum(a0), s[1] = vsum(a1), s[2] = vsum(a2), s[3] = vsum(a3);
}

#endif
