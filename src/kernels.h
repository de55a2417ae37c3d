/* kernels.h: the dense loops all of the model's arithmetic goes through.
 *
 * Matrices are row-major with explicit leading dimensions (ld: scalars from
 * one row to the next). Three products cover forward and backward:
 *   drnn_gemm_xwt   Y[T x M] += X[T x K] W[M x K]^T     (forward projections)
 *   drnn_gemm_yw    X[T x K] += Y[T x M] W[M x K]       (gradients of inputs)
 *   drnn_gemm_ytx   W[M x K] += Y[T x M]^T X[T x K]     (gradients of weights,
 *                                                        Y given transposed)
 * They are blocked in registers with GCC vector types (8 floats or 4
 * doubles), so that each weight loaded serves several steps. Every output
 * element is summed in one fixed order that depends only on K (xwt), M (yw)
 * or the rows given (ytx), never on T's or M's blocking, with every
 * multiply-add rounded the same way (vfma, fmadd): a name's results are the
 * same whatever else is computed with it, which keeps runs bit-reproducible.
 *
 * kernels_ref.h holds each product as the plain loops it computes. The
 * model calls drnn_gemm_*, which are these blocked _simd versions, or the
 * _ref ones in a build configured with --disable-simd. yw and ytx sum in
 * the same order either way (the same bits); xwt's references sums k in
 * order, where the blocked one keeps DRNN_VL partial sums. */
#ifndef DINORNN_KERNELS_H
#define DINORNN_KERNELS_H

#ifdef HAVE_CONFIG_H
#include "config.h" /* DRNN_REFERENCE_KERNELS, from --disable-simd */
#endif

#include <string.h>

#include "dinornn/model.h"
#include "kernels_ref.h"
#include "simd.h"

/* *y += the dot product finished from vector sums a over [0, kv) and the
 * scalar tail [kv, K): the one way every path below ends an element. */
static inline void dot_end(drnn_real *y, drnn_vec a, const drnn_real *w, const drnn_real *x,
                           int kv, int K)
{
    drnn_real s = vsum(a);
    for (int k = kv; k < K; k++)
        s = fmadd(w[k], x[k], s);
    *y += s;
}

/* Four dot_ends at once: y[j * ystep] += the dot product of w[j] and x[j]
 * from its vector sums aj; each element the same bits as dot_end gives. */
static inline void dot_end4(drnn_real *y, size_t ystep, drnn_vec a0, drnn_vec a1, drnn_vec a2,
                            drnn_vec a3, const drnn_real *const w[4], const drnn_real *const x[4],
                            int kv, int K)
{
    drnn_real s[4];
    vsum4(s, a0, a1, a2, a3);
    for (int j = 0; j < 4; j++) {
        for (int k = kv; k < K; k++)
            s[j] = fmadd(w[j][k], x[j][k], s[j]);
        y[j * ystep] += s[j];
    }
}

/* Y[t*ldy + i] += sum_k X[t*ldx + k] W[i*K + k]. Every block keeps at least
 * 4, mostly 8, independent sums in flight: four rows of W by two steps; a
 * last odd step against eight rows of W at a time; rows of W left over
 * against four steps at a time. */
static inline void xwt_block(drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X,
                             size_t ldx, const drnn_real *restrict W, int T, int M, int K)
{
    const int kv = K - K % DRNN_VL, T2 = T - T % 2, M4 = M - M % 4;
    for (int i = 0; i < M4; i += 4) {
        const drnn_real *w0 = W + (size_t)i * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        for (int t = 0; t < T2; t += 2) {
            const drnn_real *x0 = X + (size_t)t * ldx, *x1 = x0 + ldx;
            drnn_vec a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0};
            drnn_vec a10 = {0}, a11 = {0}, a12 = {0}, a13 = {0};
            for (int k = 0; k < kv; k += DRNN_VL) {
                drnn_vec v0 = vreg(vload(x0 + k)), v1 = vreg(vload(x1 + k));
                drnn_vec u0 = vreg(vload(w0 + k)), u1 = vreg(vload(w1 + k));
                drnn_vec u2 = vreg(vload(w2 + k)), u3 = vreg(vload(w3 + k));
                a00 = vfma(u0, v0, a00), a01 = vfma(u1, v0, a01);
                a02 = vfma(u2, v0, a02), a03 = vfma(u3, v0, a03);
                a10 = vfma(u0, v1, a10), a11 = vfma(u1, v1, a11);
                a12 = vfma(u2, v1, a12), a13 = vfma(u3, v1, a13);
            }
            drnn_real *y0 = Y + (size_t)t * ldy + i, *y1 = y0 + ldy;
            const drnn_real *const ws[4] = {w0, w1, w2, w3};
            const drnn_real *const xs0[4] = {x0, x0, x0, x0}, *const xs1[4] = {x1, x1, x1, x1};
            dot_end4(y0, 1, a00, a01, a02, a03, ws, xs0, kv, K);
            dot_end4(y1, 1, a10, a11, a12, a13, ws, xs1, kv, K);
        }
    }
    if (T2 < T) {
        const drnn_real *x0 = X + (size_t)T2 * ldx;
        drnn_real *y0 = Y + (size_t)T2 * ldy;
        int i = 0;
        for (; i + 8 <= M4; i += 8) {
            const drnn_real *w[8];
            drnn_vec acc[8];
            for (int r = 0; r < 8; r++)
                w[r] = W + (size_t)(i + r) * K, acc[r] = vsplat(0);
            for (int k = 0; k < kv; k += DRNN_VL) {
                drnn_vec v0 = vreg(vload(x0 + k));
                for (int r = 0; r < 8; r++)
                    acc[r] = vfma(vload(w[r] + k), v0, acc[r]);
            }
            const drnn_real *const xs[4] = {x0, x0, x0, x0};
            dot_end4(&y0[i], 1, acc[0], acc[1], acc[2], acc[3], w, xs, kv, K);
            dot_end4(&y0[i + 4], 1, acc[4], acc[5], acc[6], acc[7], w + 4, xs, kv, K);
        }
        for (; i < M4; i++) {
            const drnn_real *w0 = W + (size_t)i * K;
            drnn_vec a0 = {0};
            for (int k = 0; k < kv; k += DRNN_VL)
                a0 = vfma(vload(w0 + k), vload(x0 + k), a0);
            dot_end(&y0[i], a0, w0, x0, kv, K);
        }
    }
    for (int i = M4; i < M; i++) {
        const drnn_real *w0 = W + (size_t)i * K;
        int t = 0;
        for (; t + 4 <= T; t += 4) {
            const drnn_real *x0 = X + (size_t)t * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx,
                            *x3 = x2 + ldx;
            drnn_vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (int k = 0; k < kv; k += DRNN_VL) {
                drnn_vec u = vreg(vload(w0 + k));
                a0 = vfma(u, vload(x0 + k), a0), a1 = vfma(u, vload(x1 + k), a1);
                a2 = vfma(u, vload(x2 + k), a2), a3 = vfma(u, vload(x3 + k), a3);
            }
            const drnn_real *const ws[4] = {w0, w0, w0, w0}, *const xs[4] = {x0, x1, x2, x3};
            dot_end4(Y + (size_t)t * ldy + i, ldy, a0, a1, a2, a3, ws, xs, kv, K);
        }
        for (; t < T; t++) {
            const drnn_real *x0 = X + (size_t)t * ldx;
            drnn_vec a0 = {0};
            for (int k = 0; k < kv; k += DRNN_VL)
                a0 = vfma(vload(w0 + k), vload(x0 + k), a0);
            dot_end(&Y[(size_t)t * ldy + i], a0, w0, x0, kv, K);
        }
    }
}

/* Steps in chunks of about 16 KiB of X, so that a chunk stays in L1 while
 * all the rows of W pass it (each element's sum is the same either way). */
static inline void drnn_gemm_xwt_simd(drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X,
                                 size_t ldx, const drnn_real *restrict W, int T, int M, int K)
{
    int rows = (int)(16384 / sizeof(drnn_real)) / (K > 1 ? K : 1);
    rows = rows < 2 ? 2 : rows - rows % 2;
    for (int t = 0; t < T; t += rows)
        xwt_block(Y + (size_t)t * ldy, ldy, X + (size_t)t * ldx, ldx, W, T - t < rows ? T - t : rows,
                  M, K);
}

/* X[t*ldx + k] += sum_i Y[t*ldy + i] W[i*K + k], the sum over i ascending.
 * Blocks of two steps by four vectors of columns keep 8 independent sums in
 * flight, enough to hide the FMA latency on two pipes; a lone step still
 * has 4. */
/* One step's columns [k0, K): up to three vectors in [k0, kv) and the
 * scalar tail [kv, K), their sums side by side so that no chain of M
 * dependent multiply-adds runs alone. */
static inline void yw_row_rest(drnn_real *restrict x, const drnn_real *restrict y,
                               const drnn_real *restrict W, int M, int K, int k0, int kv)
{
    const int nv = (kv - k0) / DRNN_VL, tail = K - kv;
    if (nv == 0 && tail == 0)
        return;
    drnn_vec a0 = nv > 0 ? vload(x + k0) : vsplat(0);
    drnn_vec a1 = nv > 1 ? vload(x + k0 + DRNN_VL) : vsplat(0);
    drnn_vec a2 = nv > 2 ? vload(x + k0 + 2 * DRNN_VL) : vsplat(0);
    /* Up to four scalar columns ride along with the vectors. */
    const int nc = tail < 4 ? tail : 4;
    drnn_real s0 = nc > 0 ? x[kv] : 0, s1 = nc > 1 ? x[kv + 1] : 0;
    drnn_real s2 = nc > 2 ? x[kv + 2] : 0, s3 = nc > 3 ? x[kv + 3] : 0;
    for (int i = 0; i < M; i++) {
        const drnn_real *w = W + (size_t)i * K;
        const drnn_vec b = vsplat(y[i]);
        if (nv > 0)
            a0 = vfma(b, vload(w + k0), a0);
        if (nv > 1)
            a1 = vfma(b, vload(w + k0 + DRNN_VL), a1);
        if (nv > 2)
            a2 = vfma(b, vload(w + k0 + 2 * DRNN_VL), a2);
        if (nc > 0)
            s0 = fmadd(y[i], w[kv], s0);
        if (nc > 1)
            s1 = fmadd(y[i], w[kv + 1], s1);
        if (nc > 2)
            s2 = fmadd(y[i], w[kv + 2], s2);
        if (nc > 3)
            s3 = fmadd(y[i], w[kv + 3], s3);
    }
    if (nv > 0)
        vstore(x + k0, a0);
    if (nv > 1)
        vstore(x + k0 + DRNN_VL, a1);
    if (nv > 2)
        vstore(x + k0 + 2 * DRNN_VL, a2);
    if (nc > 0)
        x[kv] = s0;
    if (nc > 1)
        x[kv + 1] = s1;
    if (nc > 2)
        x[kv + 2] = s2;
    if (nc > 3)
        x[kv + 3] = s3;
    /* Tail columns beyond four (DRNN_VL = 8 only), one at a time. */
    for (int c = kv + 4; c < K; c++) {
        drnn_real s = x[c];
        for (int i = 0; i < M; i++)
            s = fmadd(y[i], W[(size_t)i * K + c], s);
        x[c] = s;
    }
}

static inline void yw_block(drnn_real *restrict X, size_t ldx, const drnn_real *restrict Y,
                            size_t ldy, const drnn_real *restrict W, int T, int M, int K)
{
    const int kv = K - K % DRNN_VL;
    int k = 0;
    for (; k + 4 * DRNN_VL <= kv; k += 4 * DRNN_VL) {
        int t = 0;
        for (; t + 2 <= T; t += 2) {
            drnn_real *x0 = X + (size_t)t * ldx + k, *x1 = x0 + ldx;
            const drnn_real *y0 = Y + (size_t)t * ldy, *y1 = y0 + ldy;
            drnn_vec a00 = vload(x0), a01 = vload(x0 + DRNN_VL), a02 = vload(x0 + 2 * DRNN_VL),
                     a03 = vload(x0 + 3 * DRNN_VL);
            drnn_vec a10 = vload(x1), a11 = vload(x1 + DRNN_VL), a12 = vload(x1 + 2 * DRNN_VL),
                     a13 = vload(x1 + 3 * DRNN_VL);
            for (int i = 0; i < M; i++) {
                const drnn_real *w = W + (size_t)i * K + k;
                drnn_vec u0 = vreg(vload(w)), u1 = vreg(vload(w + DRNN_VL));
                drnn_vec u2 = vreg(vload(w + 2 * DRNN_VL)), u3 = vreg(vload(w + 3 * DRNN_VL));
                drnn_vec b0 = vsplat(y0[i]), b1 = vsplat(y1[i]);
                a00 = vfma(b0, u0, a00), a01 = vfma(b0, u1, a01);
                a02 = vfma(b0, u2, a02), a03 = vfma(b0, u3, a03);
                a10 = vfma(b1, u0, a10), a11 = vfma(b1, u1, a11);
                a12 = vfma(b1, u2, a12), a13 = vfma(b1, u3, a13);
            }
            vstore(x0, a00), vstore(x0 + DRNN_VL, a01), vstore(x0 + 2 * DRNN_VL, a02);
            vstore(x0 + 3 * DRNN_VL, a03);
            vstore(x1, a10), vstore(x1 + DRNN_VL, a11), vstore(x1 + 2 * DRNN_VL, a12);
            vstore(x1 + 3 * DRNN_VL, a13);
        }
        if (t < T) {
            drnn_real *x0 = X + (size_t)t * ldx + k;
            const drnn_real *y0 = Y + (size_t)t * ldy;
            drnn_vec a00 = vload(x0), a01 = vload(x0 + DRNN_VL), a02 = vload(x0 + 2 * DRNN_VL),
                     a03 = vload(x0 + 3 * DRNN_VL);
            for (int i = 0; i < M; i++) {
                const drnn_real *w = W + (size_t)i * K + k;
                drnn_vec b0 = vsplat(y0[i]);
                a00 = vfma(b0, vload(w), a00), a01 = vfma(b0, vload(w + DRNN_VL), a01);
                a02 = vfma(b0, vload(w + 2 * DRNN_VL), a02), a03 = vfma(b0, vload(w + 3 * DRNN_VL), a03);
            }
            vstore(x0, a00), vstore(x0 + DRNN_VL, a01), vstore(x0 + 2 * DRNN_VL, a02);
            vstore(x0 + 3 * DRNN_VL, a03);
        }
    }
    /* Fewer than four vectors of columns left: one vector by four steps,
     * then each remaining step with all of its remaining columns at once. */
    const int k_rest = k;
    int t = 0;
    for (; k < kv; k += DRNN_VL)
        for (t = 0; t + 4 <= T; t += 4) {
            drnn_real *x0 = X + (size_t)t * ldx + k, *x1 = x0 + ldx, *x2 = x1 + ldx,
                      *x3 = x2 + ldx;
            const drnn_real *y0 = Y + (size_t)t * ldy, *y1 = y0 + ldy, *y2 = y1 + ldy,
                            *y3 = y2 + ldy;
            drnn_vec a0 = vload(x0), a1 = vload(x1), a2 = vload(x2), a3 = vload(x3);
            for (int i = 0; i < M; i++) {
                drnn_vec u = vreg(vload(W + (size_t)i * K + k));
                a0 = vfma(vsplat(y0[i]), u, a0), a1 = vfma(vsplat(y1[i]), u, a1);
                a2 = vfma(vsplat(y2[i]), u, a2), a3 = vfma(vsplat(y3[i]), u, a3);
            }
            vstore(x0, a0), vstore(x1, a1), vstore(x2, a2), vstore(x3, a3);
        }
    /* Steps t.. still lack the vector columns [k_rest, kv); every step lacks
     * the scalar tail [kv, K). */
    for (int u = 0; u < T; u++)
        yw_row_rest(X + (size_t)u * ldx, Y + (size_t)u * ldy, W, M, K, u >= t ? k_rest : kv, kv);
}

/* Rows of W in blocks whose chunk of columns fits in L1 (the partial sums
 * wait in X between blocks, which changes nothing in their order). */
#define DRNN_YW_ROWS 128
static inline void drnn_gemm_yw_simd(drnn_real *restrict X, size_t ldx, const drnn_real *restrict Y,
                                size_t ldy, const drnn_real *restrict W, int T, int M, int K)
{
    for (int i = 0; i < M; i += DRNN_YW_ROWS)
        yw_block(X, ldx, Y + i, ldy, W + (size_t)i * K, T, M - i < DRNN_YW_ROWS ? M - i : DRNN_YW_ROWS, K);
}

/* W[i*K + k] = (add ? W[i*K + k] : 0) + sum_j Yt[i*ldyt + j] X[j*ldx + k],
 * the terms added one by one, j ascending (add = 0 spares the caller zeroing
 * W first, and this loop reading it, with the same result). Y comes
 * transposed (a row of Yt per row of W), so that the values broadcast for a
 * block of rows are consecutive; the caller packs both operands, which also
 * lets one call sum the steps of a whole group of names in any order it
 * lists them. Column chunks are the outer loop: a chunk of every row of X
 * stays in L1 while all the rows of W pass. */
static inline void drnn_gemm_ytx_simd(drnn_real *restrict W, const drnn_real *restrict Yt,
                                 size_t ldyt, const drnn_real *restrict X, size_t ldx, int n,
                                 int M, int K, int add)
{
#define START(p) (add ? vload(p) : vsplat(0))
    const int kv = K - K % DRNN_VL;
    int k = 0;
    /* Two vectors of columns by four rows: 8 accumulators over all of j. */
    for (; k + 2 * DRNN_VL <= kv; k += 2 * DRNN_VL) {
        int i = 0;
        for (; i + 4 <= M; i += 4) {
            drnn_real *w0 = W + (size_t)i * K + k, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
            const drnn_real *y0 = Yt + (size_t)i * ldyt, *y1 = y0 + ldyt, *y2 = y1 + ldyt,
                            *y3 = y2 + ldyt;
            drnn_vec a00 = START(w0), a01 = START(w0 + DRNN_VL), a10 = START(w1), a11 = START(w1 + DRNN_VL);
            drnn_vec a20 = START(w2), a21 = START(w2 + DRNN_VL), a30 = START(w3), a31 = START(w3 + DRNN_VL);
            for (int j = 0; j < n; j++) {
                const drnn_real *x = X + (size_t)j * ldx + k;
                drnn_vec v0 = vreg(vload(x)), v1 = vreg(vload(x + DRNN_VL)), b;
                b = vsplat(y0[j]), a00 = vfma(b, v0, a00), a01 = vfma(b, v1, a01);
                b = vsplat(y1[j]), a10 = vfma(b, v0, a10), a11 = vfma(b, v1, a11);
                b = vsplat(y2[j]), a20 = vfma(b, v0, a20), a21 = vfma(b, v1, a21);
                b = vsplat(y3[j]), a30 = vfma(b, v0, a30), a31 = vfma(b, v1, a31);
            }
            vstore(w0, a00), vstore(w0 + DRNN_VL, a01), vstore(w1, a10), vstore(w1 + DRNN_VL, a11);
            vstore(w2, a20), vstore(w2 + DRNN_VL, a21), vstore(w3, a30), vstore(w3 + DRNN_VL, a31);
        }
        for (; i < M; i++) {
            drnn_real *w0 = W + (size_t)i * K + k;
            const drnn_real *y0 = Yt + (size_t)i * ldyt;
            drnn_vec a00 = START(w0), a01 = START(w0 + DRNN_VL);
            for (int j = 0; j < n; j++) {
                const drnn_real *x = X + (size_t)j * ldx + k;
                drnn_vec b = vsplat(y0[j]);
                a00 = vfma(b, vload(x), a00), a01 = vfma(b, vload(x + DRNN_VL), a01);
            }
            vstore(w0, a00), vstore(w0 + DRNN_VL, a01);
        }
    }
    for (; k < kv; k += DRNN_VL)
        for (int i = 0; i < M; i++) {
            drnn_real *w0 = W + (size_t)i * K + k;
            const drnn_real *y0 = Yt + (size_t)i * ldyt;
            drnn_vec a00 = START(w0);
            for (int j = 0; j < n; j++)
                a00 = vfma(vsplat(y0[j]), vload(X + (size_t)j * ldx + k), a00);
            vstore(w0, a00);
        }
    /* The scalar tail: up to four of a row's columns side by side. */
    for (int i = 0; i < M; i++)
        for (int c = k; c < K; c += 4) {
            const int nc = K - c < 4 ? K - c : 4;
            const drnn_real *y0 = Yt + (size_t)i * ldyt;
            drnn_real *w0 = W + (size_t)i * K + c;
            drnn_real s0 = add ? w0[0] : 0, s1 = add && nc > 1 ? w0[1] : 0;
            drnn_real s2 = add && nc > 2 ? w0[2] : 0, s3 = add && nc > 3 ? w0[3] : 0;
            for (int j = 0; j < n; j++) {
                const drnn_real y = y0[j], *x = X + (size_t)j * ldx + c;
                s0 = fmadd(y, x[0], s0);
                if (nc > 1)
                    s1 = fmadd(y, x[1], s1);
                if (nc > 2)
                    s2 = fmadd(y, x[2], s2);
                if (nc > 3)
                    s3 = fmadd(y, x[3], s3);
            }
            w0[0] = s0;
            if (nc > 1)
                w0[1] = s1;
            if (nc > 2)
                w0[2] = s2;
            if (nc > 3)
                w0[3] = s3;
        }
#undef START
}

/* The products the model uses: blocked, or the plain references. */
#ifdef DRNN_REFERENCE_KERNELS
#define DRNN_KERNELS_NAME "reference (plain loops)"
#define drnn_gemm_xwt drnn_gemm_xwt_ref
#define drnn_gemm_yw drnn_gemm_yw_ref
#define drnn_gemm_ytx drnn_gemm_ytx_ref
#else
#define DRNN_KERNELS_NAME "blocked vectors"
#define drnn_gemm_xwt drnn_gemm_xwt_simd
#define drnn_gemm_yw drnn_gemm_yw_simd
#define drnn_gemm_ytx drnn_gemm_ytx_simd
#endif

/* dst[j*width + i] = src[rows[j]*ld + i]: listed rows, packed. */
static inline void drnn_gather_rows(drnn_real *restrict dst, const drnn_real *restrict src,
                                    size_t ld, const int *rows, int n, int width)
{
    for (int j = 0; j < n; j++)
        memcpy(dst + (size_t)j * width, src + (size_t)rows[j] * ld, (size_t)width * sizeof *dst);
}

/* dst[i*n + j] = src[rows[j]*ld + i]: listed rows, packed and transposed. */
static inline void drnn_gather_rows_t(drnn_real *restrict dst, const drnn_real *restrict src,
                                      size_t ld, const int *rows, int n, int width)
{
    for (int j = 0; j < n; j++) {
        const drnn_real *r = src + (size_t)rows[j] * ld;
        for (int i = 0; i < width; i++)
            dst[(size_t)i * n + j] = r[i];
    }
}

/* y[n] += x[n] */
static inline void drnn_vec_acc(drnn_real *restrict y, const drnn_real *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

#endif
