/* kernels_ref.h: the three matrix products of kernels.h as plain loops, to
 * read beside the blocked versions and to test them against; a build
 * configured with --disable-simd runs the model on these.
 *
 * Every multiply-add is fmadd (simd.h): rounded once where the machine has
 * FMA, as the blocked kernels' are, so yw and ytx give the same bits here
 * and there. xwt here sums k in order; the blocked one keeps DRNN_VL
 * partial sums and adds them as a tree, so the two differ by rounding only
 * (tests/check_model.c bounds it). */
#ifndef DINORNN_KERNELS_REF_H
#define DINORNN_KERNELS_REF_H

#include <stddef.h>

#include "dinornn/params.h"
#include "simd.h"

/* Y[t*ldy + i] += sum_k X[t*ldx + k] W[i*K + k], k ascending. */
static inline void drnn_gemm_xwt_ref(drnn_real *Y, size_t ldy, const drnn_real *X, size_t ldx,
                                     const drnn_real *W, int T, int M, int K)
{
    for (int t = 0; t < T; t++)
        for (int i = 0; i < M; i++) {
            drnn_real s = 0;
            for (int k = 0; k < K; k++)
                s = fmadd(W[(size_t)i * K + k], X[(size_t)t * ldx + k], s);
            Y[(size_t)t * ldy + i] += s;
        }
}

/* X[t*ldx + k] += sum_i Y[t*ldy + i] W[i*K + k], i ascending, onto X. */
static inline void drnn_gemm_yw_ref(drnn_real *X, size_t ldx, const drnn_real *Y, size_t ldy,
                                    const drnn_real *W, int T, int M, int K)
{
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            drnn_real s = X[(size_t)t * ldx + k];
            for (int i = 0; i < M; i++)
                s = fmadd(Y[(size_t)t * ldy + i], W[(size_t)i * K + k], s);
            X[(size_t)t * ldx + k] = s;
        }
}

/* W[i*K + k] = (add ? W[i*K + k] : 0) + sum_j Y[yrow[j]*ldy + i] X[xrow[j]*ldx + k],
 * j ascending. */
static inline void drnn_gemm_ytx_ref(drnn_real *W, const drnn_real *Y, size_t ldy, const int *yrow,
                                     const drnn_real *X, size_t ldx, const int *xrow, int n, int M,
                                     int K, int add)
{
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) {
            drnn_real s = add ? W[(size_t)i * K + k] : 0;
            for (int j = 0; j < n; j++)
                s = fmadd(Y[(size_t)yrow[j] * ldy + i], X[(size_t)xrow[j] * ldx + k], s);
            W[(size_t)i * K + k] = s;
        }
}

#endif
