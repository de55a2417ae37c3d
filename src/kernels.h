/* kernels.h: the dense loops all of the model's arithmetic goes through.
 *
 * Matrices are row-major with explicit leading dimensions (ld: scalars from
 * one row to the next). Three products cover forward and backward:
 *   drnn_gemm_xwt   Y[T x M] += X[T x K] W[M x K]^T     (forward projections)
 *   drnn_gemm_yw    X[T x K] += Y[T x M] W[M x K]       (gradients of inputs)
 *   drnn_gemm_ytx   W[M x K] += Y[T x M]^T X[T x K]     (gradients of weights)
 * They are blocked in registers with GCC vector types (8 floats or 4
 * doubles), so that each weight loaded serves several steps. Every output
 * element is summed in one fixed order that depends only on K (xwt), M (yw)
 * or T (ytx), never on T's or M's blocking: a name's results are the same
 * whatever else is computed with it, which keeps runs bit-reproducible. */
#ifndef DINORNN_KERNELS_H
#define DINORNN_KERNELS_H

#include <string.h>

#include "dinornn/model.h"

#define VL ((int)(32 / sizeof(drnn_real)))
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

static inline drnn_vec vsplat(drnn_real x)
{
    drnn_vec v = {0};
    return v + x;
}

/* Lane sum in a fixed order. */
static inline drnn_real vsum(drnn_vec v)
{
    drnn_real s = 0;
    for (int j = 0; j < VL; j++)
        s += v[j];
    return s;
}

/* dot(w, x) over K: VL lanes, summed by vsum, then the scalar tail. */
#define DOT_TAIL(s, w, x, kv, K)            \
    for (int k_ = (kv); k_ < (K); k_++)     \
        (s) += (w)[k_] * (x)[k_]

/* Y[t*ldy + i] += sum_k X[t*ldx + k] W[i*K + k] */
static inline void drnn_gemm_xwt(drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X,
                                 size_t ldx, const drnn_real *restrict W, int T, int M, int K)
{
    const int kv = K - K % VL;
    int i = 0;
    for (; i + 4 <= M; i += 4) {
        const drnn_real *w0 = W + (size_t)i * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        int t = 0;
        for (; t + 2 <= T; t += 2) {
            const drnn_real *x0 = X + (size_t)t * ldx, *x1 = x0 + ldx;
            drnn_vec a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0};
            drnn_vec a10 = {0}, a11 = {0}, a12 = {0}, a13 = {0};
            for (int k = 0; k < kv; k += VL) {
                drnn_vec v0 = vload(x0 + k), v1 = vload(x1 + k);
                drnn_vec u0 = vload(w0 + k), u1 = vload(w1 + k);
                drnn_vec u2 = vload(w2 + k), u3 = vload(w3 + k);
                a00 += u0 * v0, a01 += u1 * v0, a02 += u2 * v0, a03 += u3 * v0;
                a10 += u0 * v1, a11 += u1 * v1, a12 += u2 * v1, a13 += u3 * v1;
            }
            drnn_real s00 = vsum(a00), s01 = vsum(a01), s02 = vsum(a02), s03 = vsum(a03);
            drnn_real s10 = vsum(a10), s11 = vsum(a11), s12 = vsum(a12), s13 = vsum(a13);
            DOT_TAIL(s00, w0, x0, kv, K); DOT_TAIL(s01, w1, x0, kv, K);
            DOT_TAIL(s02, w2, x0, kv, K); DOT_TAIL(s03, w3, x0, kv, K);
            DOT_TAIL(s10, w0, x1, kv, K); DOT_TAIL(s11, w1, x1, kv, K);
            DOT_TAIL(s12, w2, x1, kv, K); DOT_TAIL(s13, w3, x1, kv, K);
            drnn_real *y0 = Y + (size_t)t * ldy + i, *y1 = y0 + ldy;
            y0[0] += s00, y0[1] += s01, y0[2] += s02, y0[3] += s03;
            y1[0] += s10, y1[1] += s11, y1[2] += s12, y1[3] += s13;
        }
        for (; t < T; t++) {
            const drnn_real *x0 = X + (size_t)t * ldx;
            drnn_vec a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0};
            for (int k = 0; k < kv; k += VL) {
                drnn_vec v0 = vload(x0 + k);
                a00 += vload(w0 + k) * v0, a01 += vload(w1 + k) * v0;
                a02 += vload(w2 + k) * v0, a03 += vload(w3 + k) * v0;
            }
            drnn_real s00 = vsum(a00), s01 = vsum(a01), s02 = vsum(a02), s03 = vsum(a03);
            DOT_TAIL(s00, w0, x0, kv, K); DOT_TAIL(s01, w1, x0, kv, K);
            DOT_TAIL(s02, w2, x0, kv, K); DOT_TAIL(s03, w3, x0, kv, K);
            drnn_real *y0 = Y + (size_t)t * ldy + i;
            y0[0] += s00, y0[1] += s01, y0[2] += s02, y0[3] += s03;
        }
    }
    for (; i < M; i++) {
        const drnn_real *w0 = W + (size_t)i * K;
        for (int t = 0; t < T; t++) {
            const drnn_real *x0 = X + (size_t)t * ldx;
            drnn_vec a00 = {0};
            for (int k = 0; k < kv; k += VL)
                a00 += vload(w0 + k) * vload(x0 + k);
            drnn_real s00 = vsum(a00);
            DOT_TAIL(s00, w0, x0, kv, K);
            Y[(size_t)t * ldy + i] += s00;
        }
    }
}

/* X[t*ldx + k] += sum_i Y[t*ldy + i] W[i*K + k], the sum over i ascending. */
static inline void drnn_gemm_yw(drnn_real *restrict X, size_t ldx, const drnn_real *restrict Y,
                                size_t ldy, const drnn_real *restrict W, int T, int M, int K)
{
    const int kv = K - K % VL;
    int k = 0;
    /* Columns in chunks of 2 vectors, two steps at a time: 4 accumulators. */
    for (; k + 2 * VL <= kv; k += 2 * VL) {
        int t = 0;
        for (; t + 2 <= T; t += 2) {
            drnn_real *x0 = X + (size_t)t * ldx + k, *x1 = x0 + ldx;
            const drnn_real *y0 = Y + (size_t)t * ldy, *y1 = y0 + ldy;
            drnn_vec a00 = vload(x0), a01 = vload(x0 + VL);
            drnn_vec a10 = vload(x1), a11 = vload(x1 + VL);
            for (int i = 0; i < M; i++) {
                const drnn_real *w = W + (size_t)i * K + k;
                drnn_vec u0 = vload(w), u1 = vload(w + VL);
                drnn_vec b0 = vsplat(y0[i]), b1 = vsplat(y1[i]);
                a00 += b0 * u0, a01 += b0 * u1;
                a10 += b1 * u0, a11 += b1 * u1;
            }
            vstore(x0, a00), vstore(x0 + VL, a01);
            vstore(x1, a10), vstore(x1 + VL, a11);
        }
        for (; t < T; t++) {
            drnn_real *x0 = X + (size_t)t * ldx + k;
            const drnn_real *y0 = Y + (size_t)t * ldy;
            drnn_vec a00 = vload(x0), a01 = vload(x0 + VL);
            for (int i = 0; i < M; i++) {
                const drnn_real *w = W + (size_t)i * K + k;
                drnn_vec b0 = vsplat(y0[i]);
                a00 += b0 * vload(w), a01 += b0 * vload(w + VL);
            }
            vstore(x0, a00), vstore(x0 + VL, a01);
        }
    }
    for (; k < kv; k += VL) {
        for (int t = 0; t < T; t++) {
            drnn_real *x0 = X + (size_t)t * ldx + k;
            const drnn_real *y0 = Y + (size_t)t * ldy;
            drnn_vec a00 = vload(x0);
            for (int i = 0; i < M; i++)
                a00 += vsplat(y0[i]) * vload(W + (size_t)i * K + k);
            vstore(x0, a00);
        }
    }
    for (; k < K; k++) {
        for (int t = 0; t < T; t++) {
            const drnn_real *y0 = Y + (size_t)t * ldy;
            drnn_real s = X[(size_t)t * ldx + k];
            for (int i = 0; i < M; i++)
                s += y0[i] * W[(size_t)i * K + k];
            X[(size_t)t * ldx + k] = s;
        }
    }
}

/* W[i*K + k] += sum_t Y[t*ldy + i] X[t*ldx + k], the sum over t ascending. */
static inline void drnn_gemm_ytx(drnn_real *restrict W, const drnn_real *restrict Y, size_t ldy,
                                 const drnn_real *restrict X, size_t ldx, int T, int M, int K)
{
    const int kv = K - K % VL;
    int i = 0;
    /* Two rows by two vectors of columns: 4 accumulators over all steps. */
    for (; i + 2 <= M; i += 2) {
        drnn_real *w0 = W + (size_t)i * K, *w1 = w0 + K;
        int k = 0;
        for (; k + 2 * VL <= kv; k += 2 * VL) {
            drnn_vec a00 = vload(w0 + k), a01 = vload(w0 + k + VL);
            drnn_vec a10 = vload(w1 + k), a11 = vload(w1 + k + VL);
            for (int t = 0; t < T; t++) {
                const drnn_real *x = X + (size_t)t * ldx + k;
                drnn_vec v0 = vload(x), v1 = vload(x + VL);
                drnn_vec b0 = vsplat(Y[(size_t)t * ldy + i]), b1 = vsplat(Y[(size_t)t * ldy + i + 1]);
                a00 += b0 * v0, a01 += b0 * v1;
                a10 += b1 * v0, a11 += b1 * v1;
            }
            vstore(w0 + k, a00), vstore(w0 + k + VL, a01);
            vstore(w1 + k, a10), vstore(w1 + k + VL, a11);
        }
        for (; k < kv; k += VL) {
            drnn_vec a00 = vload(w0 + k), a10 = vload(w1 + k);
            for (int t = 0; t < T; t++) {
                drnn_vec v0 = vload(X + (size_t)t * ldx + k);
                a00 += vsplat(Y[(size_t)t * ldy + i]) * v0;
                a10 += vsplat(Y[(size_t)t * ldy + i + 1]) * v0;
            }
            vstore(w0 + k, a00), vstore(w1 + k, a10);
        }
        for (; k < K; k++) {
            drnn_real s0 = w0[k], s1 = w1[k];
            for (int t = 0; t < T; t++) {
                s0 += Y[(size_t)t * ldy + i] * X[(size_t)t * ldx + k];
                s1 += Y[(size_t)t * ldy + i + 1] * X[(size_t)t * ldx + k];
            }
            w0[k] = s0, w1[k] = s1;
        }
    }
    for (; i < M; i++) {
        drnn_real *w0 = W + (size_t)i * K;
        int k = 0;
        for (; k < kv; k += VL) {
            drnn_vec a00 = vload(w0 + k);
            for (int t = 0; t < T; t++)
                a00 += vsplat(Y[(size_t)t * ldy + i]) * vload(X + (size_t)t * ldx + k);
            vstore(w0 + k, a00);
        }
        for (; k < K; k++) {
            drnn_real s0 = w0[k];
            for (int t = 0; t < T; t++)
                s0 += Y[(size_t)t * ldy + i] * X[(size_t)t * ldx + k];
            w0[k] = s0;
        }
    }
}

/* y[n] += x[n] */
static inline void drnn_vec_acc(drnn_real *restrict y, const drnn_real *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

#endif
