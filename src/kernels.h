/* kernels.h: the dense loops all of the model's arithmetic goes through.
 * Matrices are row-major; M rows of K columns. */
#ifndef DINORNN_KERNELS_H
#define DINORNN_KERNELS_H

#include "dinornn/model.h"

/* y[M] += W[M x K] x[K] */
static inline void drnn_matvec_acc(drnn_real *restrict y, const drnn_real *restrict W,
                                   const drnn_real *restrict x, int M, int K)
{
    for (int i = 0; i < M; i++) {
        const drnn_real *row = W + (size_t)i * K;
        drnn_real s = 0;
        for (int k = 0; k < K; k++)
            s += row[k] * x[k];
        y[i] += s;
    }
}

/* dx[K] += W[M x K]^T dy[M] */
static inline void drnn_matvec_t_acc(drnn_real *restrict dx, const drnn_real *restrict W,
                                     const drnn_real *restrict dy, int M, int K)
{
    for (int i = 0; i < M; i++) {
        const drnn_real *row = W + (size_t)i * K;
        drnn_real d = dy[i];
        for (int k = 0; k < K; k++)
            dx[k] += d * row[k];
    }
}

/* dW[M x K] += dy[M] x[K]^T */
static inline void drnn_outer_acc(drnn_real *restrict dW, const drnn_real *restrict dy,
                                  const drnn_real *restrict x, int M, int K)
{
    for (int i = 0; i < M; i++) {
        drnn_real *row = dW + (size_t)i * K;
        drnn_real d = dy[i];
        for (int k = 0; k < K; k++)
            row[k] += d * x[k];
    }
}

/* y[n] += x[n] */
static inline void drnn_vec_acc(drnn_real *restrict y, const drnn_real *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

#endif
