/* simd.h: the vector type and the few operations the kernels and the
 * optimizer loops are written in: GCC vector extensions of DRNN_VL scalars,
 * as wide as the build's target allows, with AVX-512 or AVX/FMA intrinsics
 * where the portable form would let the compiler round differently from one
 * loop to the next.
 *
 * The width is chosen at compile time from the target (-march): 64 bytes
 * (16 floats, zmm registers) where it has AVX-512F, else 32 bytes (8 floats:
 * ymm registers with AVX, plain GCC vectors otherwise). -DDRNN_FORCE_VL=8 or
 * 16 (floats per vector) overrides it, to measure what the wider vectors
 * gain; -DDRNN_OTHER_WIDTH takes the other of the two widths than the build
 * would (the tests build the kernels a second time so). Results depend on
 * the width (it sets the order of the kernels' sums), never on the thread
 * count. */
#ifndef DINORNN_SIMD_H
#define DINORNN_SIMD_H

#include <string.h>

#include "dinornn/params.h"

#if defined(__x86_64__) || defined(__i386__)
#define DRNN_X86 1
#endif

#if !defined(DRNN_FORCE_VL)
#if defined(__AVX512F__) && defined(DRNN_X86)
#define DRNN_BUILD_BYTES 64
#else
#define DRNN_BUILD_BYTES 32
#endif
#elif DRNN_FORCE_VL == 16
#define DRNN_BUILD_BYTES 64
#elif DRNN_FORCE_VL == 8
#define DRNN_BUILD_BYTES 32
#else
#error "DRNN_FORCE_VL must be 8 or 16 (floats per vector)"
#endif
#ifdef DRNN_OTHER_WIDTH
#define DRNN_VEC_BYTES (96 - DRNN_BUILD_BYTES)
#else
#define DRNN_VEC_BYTES DRNN_BUILD_BYTES
#endif

/* The instructions the vector operations below are written in; DRNN_VEC_ISA
 * names them for people (dinornn-bench, the tests). */
#if DRNN_VEC_BYTES == 64 && defined(__AVX512F__) && defined(DRNN_X86)
#define DRNN_AVX512 1
#define DRNN_VEC_ISA "AVX-512"
#elif DRNN_VEC_BYTES == 32 && defined(__AVX__) && defined(DRNN_X86)
#define DRNN_AVX 1
#if defined(__AVX2__) && defined(__FMA__)
#define DRNN_VEC_ISA "AVX2/FMA"
#elif defined(__FMA__)
#define DRNN_VEC_ISA "AVX/FMA"
#else
#define DRNN_VEC_ISA "AVX"
#endif
#else
#define DRNN_VEC_ISA "portable"
#endif

#if defined(DRNN_AVX512) || defined(DRNN_AVX)
#include <immintrin.h>
#endif

#define DRNN_VL ((int)(DRNN_VEC_BYTES / sizeof(drnn_real)))
typedef drnn_real drnn_vec __attribute__((vector_size(DRNN_VEC_BYTES)));

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
#if defined(__GNUC__) && defined(DRNN_AVX512)
    __asm__("" : "+v"(v)); /* one zmm register, any of the 32 */
#elif defined(__GNUC__) && defined(DRNN_AVX)
    __asm__("" : "+x"(v)); /* one ymm register */
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
#if defined(DRNN_AVX512)
static inline drnn_vec vfma(drnn_vec a, drnn_vec b, drnn_vec c)
{
    if (sizeof(drnn_real) == sizeof(float))
        return (drnn_vec)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
    return (drnn_vec)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
}
#elif defined(DRNN_AVX) && defined(__FMA__)
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
#if defined(DRNN_AVX512)
static inline drnn_vec vsqrt(drnn_vec a)
{
    if (sizeof(drnn_real) == sizeof(float))
        return (drnn_vec)_mm512_sqrt_ps((__m512)a);
    return (drnn_vec)_mm512_sqrt_pd((__m512d)a);
}
#elif defined(DRNN_AVX)
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
 * pairs, and so on: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) for 8
 * lanes, that of lanes 0-7 plus that of lanes 8-15 for 16. A tree, not a
 * chain of DRNN_VL - 1 dependent additions, and the order in which vsum4
 * below sums four vectors at once. */
static inline drnn_real vsum(drnn_vec v)
{
    drnn_real a[DRNN_VL];
    memcpy(a, &v, sizeof a);
    for (int width = DRNN_VL / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++)
            a[j] = a[2 * j] + a[2 * j + 1];
    return a[0];
}

/* Four scalars side by side: what vsum4 returns. */
typedef drnn_real drnn_vec4 __attribute__((vector_size(4 * sizeof(drnn_real))));

/* {vsum(a0), vsum(a1), vsum(a2), vsum(a3)}, bit for bit; for floats with
 * AVX or AVX-512 by pairwise additions of the four vectors' lanes side by
 * side instead of four separate trees. */
static inline drnn_vec4 vsum4(drnn_vec a0, drnn_vec a1, drnn_vec a2, drnn_vec a3)
{
#if defined(DRNN_AVX512)
    if (sizeof(drnn_real) == sizeof(float)) {
        /* Within each 128-bit quarter q, as _mm256_hadd_ps would: the even
         * lanes plus the odd ones, of a0 and a1 side by side, then of those
         * sums, so that t holds [a0, a1, a2, a3: lanes 4q..4q+3 summed as
         * (l0+l1)+(l2+l3)] in quarter q. Then quarter 0 + 1 and 2 + 3, and
         * those two. */
        const __m512 x0 = (__m512)a0, x1 = (__m512)a1, x2 = (__m512)a2, x3 = (__m512)a3;
        __m512 p01 = _mm512_add_ps(_mm512_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1)));
        __m512 p23 = _mm512_add_ps(_mm512_shuffle_ps(x2, x3, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(x2, x3, _MM_SHUFFLE(3, 1, 3, 1)));
        __m512 t = _mm512_add_ps(_mm512_shuffle_ps(p01, p23, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(p01, p23, _MM_SHUFFLE(3, 1, 3, 1)));
        __m512 h = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
        __m128 r = _mm_add_ps(_mm512_castps512_ps128(h), _mm512_extractf32x4_ps(h, 2));
        drnn_vec4 s;
        memcpy(&s, &r, sizeof s);
        return s;
    }
#elif defined(DRNN_AVX)
    if (sizeof(drnn_real) == sizeof(float)) {
        /* [a0: l0+l1, l2+l3 | a1: ... ] then [aj: (l0+l1)+(l2+l3)] for j =
         * 0..3 in the low half, the same of l4..l7 in the high half. */
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps((__m256)a0, (__m256)a1),
                                  _mm256_hadd_ps((__m256)a2, (__m256)a3));
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        drnn_vec4 s;
        memcpy(&s, &r, sizeof s);
        return s;
    }
#endif
    return (drnn_vec4){vsum(a0), vsum(a1), vsum(a2), vsum(a3)};
}

#endif
