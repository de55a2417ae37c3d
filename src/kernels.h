/* kernels.h: the dense loops all of the model's arithmetic goes through.
 *
 * Matrices are row-major with explicit leading dimensions (ld: scalars from
 * one row to the next). Three products cover forward and backward:
 *   drnn_gemm_xwt   Y[T x M] += X[T x K] W[M x K]^T     (forward projections)
 *   drnn_gemm_yw    X[T x K] += Y[T x M] W[M x K]       (gradients of inputs)
 *   drnn_gemm_ytx   W[M x K] += Y[T x M]^T X[T x K]     (gradients of weights,
 *                                                        over listed rows)
 * They are blocked in registers with the vectors of simd.h (16 or 8 floats),
 * so that each weight loaded serves several steps: blocks of 16 sums with
 * AVX-512's 32 registers, of 8 with 16 registers. Every output
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

#include "dinornn/params.h"
#include "internal.h"
#include "kernels_ref.h"
#include "simd.h"

/* The sums one block keeps in flight: 16 where the vector registers are 32
 * (AVX-512), 8 where they are 16. DRNN_BLOCK is the side of a block that
 * grows with them: steps in xwt and yw, vectors of columns in ytx. */
#if defined(DRNN_AVX512)
#define DRNN_BLOCK 4
#else
#define DRNN_BLOCK 2
#endif

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
static inline DRNN_ALWAYS_INLINE void dot_end4(drnn_real *y, size_t ystep, drnn_vec a0, drnn_vec a1,
                                               drnn_vec a2, drnn_vec a3,
                                               const drnn_real *const w[4],
                                               const drnn_real *const x[4], int kv, int K)
{
    drnn_vec4 s = vsum4(a0, a1, a2, a3);
    for (int j = 0; kv < K && j < 4; j++)
        for (int k = kv; k < K; k++)
            s[j] = fmadd(w[j][k], x[j][k], s[j]);
    if (ystep == 1) {
        drnn_vec4 y4;
        memcpy(&y4, y, sizeof y4);
        y4 += s;
        memcpy(y, &y4, sizeof y4);
    } else {
        for (int j = 0; j < 4; j++)
            y[j * ystep] += s[j];
    }
}

/* One block of xwt: Y[s*ldy + r] += the dot product of X's step s and W's
 * row r, for R rows (1, 4 or 8) by S steps (1 to 4), R * S at most 16.
 * R and S are constants where it is called, so that the loops unroll and
 * the sums live in registers. A vector used by several multiply-adds is
 * held in a register (vreg); one used once is left to the FMA's operand. */
static inline DRNN_ALWAYS_INLINE void xwt_tile(drnn_real *restrict Y, size_t ldy,
                                               const drnn_real *restrict X, size_t ldx,
                                               const drnn_real *restrict W, int K, int R, int S)
{
    const int kv = K - K % DRNN_VL;
    const drnn_real *w[8], *x[4];
    drnn_vec acc[4][8];
    for (int r = 0; r < R; r++)
        w[r] = W + (size_t)r * K;
    for (int s = 0; s < S; s++) {
        x[s] = X + (size_t)s * ldx;
        for (int r = 0; r < R; r++)
            acc[s][r] = vsplat(0);
    }
    for (int k = 0; k < kv; k += DRNN_VL) {
        drnn_vec u[8], v[4];
        for (int r = 0; r < R; r++)
            u[r] = S > 1 ? vreg(vload(w[r] + k)) : vload(w[r] + k);
        for (int s = 0; s < S; s++)
            v[s] = R > 1 ? vreg(vload(x[s] + k)) : vload(x[s] + k);
        for (int s = 0; s < S; s++)
            for (int r = 0; r < R; r++)
                acc[s][r] = vfma(u[r], v[s], acc[s][r]);
    }
    if (R % 4 == 0) {
#pragma GCC unroll 4
        for (int s = 0; s < S; s++) {
            const drnn_real *const xs[4] = {x[s], x[s], x[s], x[s]};
#pragma GCC unroll 2
            for (int r = 0; r < R; r += 4)
                dot_end4(Y + (size_t)s * ldy + r, 1, acc[s][r], acc[s][r + 1], acc[s][r + 2],
                         acc[s][r + 3], w + r, xs, kv, K);
        }
    } else if (S == 4) {
        const drnn_real *const ws[4] = {w[0], w[0], w[0], w[0]};
        dot_end4(Y, ldy, acc[0][0], acc[1][0], acc[2][0], acc[3][0], ws, x, kv, K);
    } else {
        for (int s = 0; s < S; s++)
            for (int r = 0; r < R; r++)
                dot_end(Y + (size_t)s * ldy + r, acc[s][r], w[r], x[s], kv, K);
    }
}

/* Each block shape of xwt as a function of its own, not inlined: the
 * register allocator then sees one block at a time. Inlined together into
 * one loop nest, GCC 12 spilled the 4 x 4 block's operands to the stack
 * and ran at half the speed. */
#define XWT_TILE_FN(R, S)                                                                       \
    static __attribute__((noinline, unused)) void xwt_tile_##R##x##S(                           \
        drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X, size_t ldx,             \
        const drnn_real *restrict W, int K)                                                     \
    {                                                                                           \
        xwt_tile(Y, ldy, X, ldx, W, K, R, S);                                                   \
    }
XWT_TILE_FN(4, 2)
XWT_TILE_FN(8, 1)
XWT_TILE_FN(4, 1)
XWT_TILE_FN(1, 4)
XWT_TILE_FN(1, 1)
#if DRNN_BLOCK == 4
XWT_TILE_FN(4, 4)
XWT_TILE_FN(4, 3)
XWT_TILE_FN(8, 2)
#endif
#undef XWT_TILE_FN

#define XWT_TILE(t, i, R, S)                                                                    \
    xwt_tile_##R##x##S(Y + (size_t)(t) * ldy + (i), ldy, X + (size_t)(t) * ldx, ldx,             \
                       W + (size_t)(i) * K, K)

/* R rows of W (4 or 8) against all T steps: blocks of four rows by
 * DRNN_BLOCK steps, then the steps left over in one pass over the rows, so
 * that the rows stay in L1 from the first step to the last. */
static inline DRNN_ALWAYS_INLINE void xwt_rows(drnn_real *restrict Y, size_t ldy,
                                               const drnn_real *restrict X, size_t ldx,
                                               const drnn_real *restrict W, int T, int K, int R)
{
    int t = 0;
#if DRNN_BLOCK == 4
    for (; t + 4 <= T; t += 4)
        for (int i = 0; i < R; i += 4)
            XWT_TILE(t, i, 4, 4);
    if (T - t == 3) {
        for (int i = 0; i < R; i += 4)
            XWT_TILE(t, i, 4, 3);
        return;
    }
    if (T - t == 2) {
        if (R == 8)
            XWT_TILE(t, 0, 8, 2);
        else
            XWT_TILE(t, 0, 4, 2);
        return;
    }
#else
    for (; t + 2 <= T; t += 2)
        for (int i = 0; i < R; i += 4)
            XWT_TILE(t, i, 4, 2);
#endif
    if (t < T) {
        if (R == 8)
            XWT_TILE(t, 0, 8, 1);
        else
            XWT_TILE(t, 0, 4, 1);
    }
}

/* Y[t*ldy + i] += sum_k X[t*ldx + k] W[i*K + k]: rows of W eight at a time
 * against all the steps, then four; rows left over one at a time against
 * four steps at a time. Blocks of up to 16 sums with AVX-512 (4 x 4, 4 x 3,
 * 8 x 2), of 8 otherwise (4 x 2, 8 x 1). */
static inline void xwt_block(drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X,
                             size_t ldx, const drnn_real *restrict W, int T, int M, int K)
{
    const int M8 = M - M % 8, M4 = M - M % 4;
    for (int i = 0; i < M8; i += 8)
        xwt_rows(Y + i, ldy, X, ldx, W + (size_t)i * K, T, K, 8);
    if (M8 < M4)
        xwt_rows(Y + M8, ldy, X, ldx, W + (size_t)M8 * K, T, K, 4);
    for (int i = M4; i < M; i++) {
        int t = 0;
        for (; t + 4 <= T; t += 4)
            XWT_TILE(t, i, 1, 4);
        for (; t < T; t++)
            XWT_TILE(t, i, 1, 1);
    }
}
#undef XWT_TILE

/* Steps in chunks of about 16 KiB of X, so that a chunk stays in L1 while
 * all the rows of W pass it (each element's sum is the same either way). */
static inline void drnn_gemm_xwt_simd(drnn_real *restrict Y, size_t ldy, const drnn_real *restrict X,
                                 size_t ldx, const drnn_real *restrict W, int T, int M, int K)
{
    int rows = (int)(16384 / sizeof(drnn_real)) / (K > 1 ? K : 1);
    rows = rows < 4 ? 4 : rows - rows % 4;
    for (int t = 0; t < T; t += rows)
        xwt_block(Y + (size_t)t * ldy, ldy, X + (size_t)t * ldx, ldx, W, T - t < rows ? T - t : rows,
                  M, K);
}

/* acc[r][c] += b[r * ldb] * u[c * DRNN_VL ..] for r < R, c < C: one rank-1
 * update of a register tile, the R scalars broadcast, the C vectors loaded
 * once (and held in registers when more than one row reuses them). */
static inline DRNN_ALWAYS_INLINE void tile_rank1(drnn_vec acc[4][4], const drnn_real *u,
                                                 const drnn_real *b, size_t ldb, int R,
                                                 int C)
{
    drnn_vec v[4];
    for (int c = 0; c < C; c++)
        v[c] = R > 1 ? vreg(vload(u + c * DRNN_VL)) : vload(u + c * DRNN_VL);
    for (int r = 0; r < R; r++) {
        const drnn_vec br = vsplat(b[(size_t)r * ldb]);
        for (int c = 0; c < C; c++)
            acc[r][c] = vfma(br, v[c], acc[r][c]);
    }
}

/* Row r of the tile to x + r * ldx. */
static inline DRNN_ALWAYS_INLINE void tile_store(drnn_real *x, size_t ldx,
                                                 drnn_vec acc[4][4], int R, int C)
{
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            vstore(x + (size_t)r * ldx + c * DRNN_VL, acc[r][c]);
}

/* X[t*ldx + k] += sum_i Y[t*ldy + i] W[i*K + k], the sum over i ascending.
 * One block: S steps (1 to 4) by C vectors of columns (1 or 4) from
 * column 0 of X and W (the caller offsets them), its sums in registers. */
static inline DRNN_ALWAYS_INLINE void yw_tile(drnn_real *restrict X, size_t ldx,
                                              const drnn_real *restrict Y, size_t ldy,
                                              const drnn_real *restrict W, int M, int K, int S,
                                              int C)
{
    drnn_vec acc[4][4];
    for (int s = 0; s < S; s++)
        for (int c = 0; c < C; c++)
            acc[s][c] = vload(X + (size_t)s * ldx + c * DRNN_VL);
    for (int i = 0; i < M; i++)
        tile_rank1(acc, W + (size_t)i * K, Y + i, ldy, S, C);
    tile_store(X, ldx, acc, S, C);
}

/* One step's nv vectors of columns from k0 (up to three) and nc scalar
 * columns from c0 (up to four), their sums side by side so that no chain of
 * M dependent multiply-adds runs alone. */
static inline void yw_row_cols(drnn_real *restrict x, const drnn_real *restrict y,
                               const drnn_real *restrict W, int M, int K, int k0, int nv, int c0,
                               int nc)
{
    if (nv == 0 && nc == 0)
        return;
    drnn_vec a0 = nv > 0 ? vload(x + k0) : vsplat(0);
    drnn_vec a1 = nv > 1 ? vload(x + k0 + DRNN_VL) : vsplat(0);
    drnn_vec a2 = nv > 2 ? vload(x + k0 + 2 * DRNN_VL) : vsplat(0);
    drnn_real s0 = nc > 0 ? x[c0] : 0, s1 = nc > 1 ? x[c0 + 1] : 0;
    drnn_real s2 = nc > 2 ? x[c0 + 2] : 0, s3 = nc > 3 ? x[c0 + 3] : 0;
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
            s0 = fmadd(y[i], w[c0], s0);
        if (nc > 1)
            s1 = fmadd(y[i], w[c0 + 1], s1);
        if (nc > 2)
            s2 = fmadd(y[i], w[c0 + 2], s2);
        if (nc > 3)
            s3 = fmadd(y[i], w[c0 + 3], s3);
    }
    if (nv > 0)
        vstore(x + k0, a0);
    if (nv > 1)
        vstore(x + k0 + DRNN_VL, a1);
    if (nv > 2)
        vstore(x + k0 + 2 * DRNN_VL, a2);
    if (nc > 0)
        x[c0] = s0;
    if (nc > 1)
        x[c0 + 1] = s1;
    if (nc > 2)
        x[c0 + 2] = s2;
    if (nc > 3)
        x[c0 + 3] = s3;
}

/* One step's columns [k0, K): the vectors in [k0, kv) with the scalar
 * tail's first four columns, then the rest of the tail (up to 11 more
 * columns with 16-float vectors) four at a time. */
static inline void yw_row_rest(drnn_real *restrict x, const drnn_real *restrict y,
                               const drnn_real *restrict W, int M, int K, int k0, int kv)
{
    for (int c0 = kv; c0 == kv || c0 < K; c0 += 4)
        yw_row_cols(x, y, W, M, K, k0, c0 == kv ? (kv - k0) / DRNN_VL : 0, c0,
                    K - c0 < 4 ? K - c0 : 4);
}

/* Blocks of DRNN_BLOCK steps by four vectors of columns, then the steps
 * left over in one block (three, two or one); fewer than four vectors of columns left: one vector by four
 * steps, then each remaining step with all of its remaining columns. */
static inline void yw_block(drnn_real *restrict X, size_t ldx, const drnn_real *restrict Y,
                            size_t ldy, const drnn_real *restrict W, int T, int M, int K)
{
#define YW_TILE(t, k, S, C) \
    yw_tile(X + (size_t)(t) * ldx + (k), ldx, Y + (size_t)(t) * ldy, ldy, W + (k), M, K, S, C)
    const int kv = K - K % DRNN_VL;
    int k = 0;
    for (; k + 4 * DRNN_VL <= kv; k += 4 * DRNN_VL) {
        int t = 0;
        for (; t + DRNN_BLOCK <= T; t += DRNN_BLOCK)
            YW_TILE(t, k, DRNN_BLOCK, 4);
#if DRNN_BLOCK == 4
        if (T - t == 3)
            YW_TILE(t, k, 3, 4);
        else if (T - t == 2)
            YW_TILE(t, k, 2, 4);
        else if (T - t == 1)
            YW_TILE(t, k, 1, 4);
#else
        if (t < T)
            YW_TILE(t, k, 1, 4);
#endif
    }
    /* Steps t.. still lack the vector columns [k_rest, kv); every step lacks
     * the scalar tail [kv, K). */
    const int k_rest = k;
    int t = 0;
    for (; k < kv; k += DRNN_VL)
        for (t = 0; t + 4 <= T; t += 4)
            YW_TILE(t, k, 4, 1);
    for (int u = 0; u < T; u++)
        yw_row_rest(X + (size_t)u * ldx, Y + (size_t)u * ldy, W, M, K, u >= t ? k_rest : kv, kv);
#undef YW_TILE
}

/* Rows of W in blocks whose chunk of columns (four vectors) fits in L1
 * with room to spare: 32 KiB (the partial sums wait in X between blocks,
 * which changes nothing in their order). */
#define DRNN_YW_ROWS (32768 / (4 * DRNN_VEC_BYTES))
static inline void drnn_gemm_yw_simd(drnn_real *restrict X, size_t ldx, const drnn_real *restrict Y,
                                size_t ldy, const drnn_real *restrict W, int T, int M, int K)
{
    for (int i = 0; i < M; i += DRNN_YW_ROWS)
        yw_block(X, ldx, Y + i, ldy, W + (size_t)i * K, T, M - i < DRNN_YW_ROWS ? M - i : DRNN_YW_ROWS, K);
}

/* W[i*K + k] = (add ? W[i*K + k] : 0) + sum_j Y[yrow[j]*ldy + i] X[xrow[j]*ldx + k],
 * the terms added one by one, j ascending. One block: R rows (1 or 4) by C
 * vectors of columns (1, 2 or 4) from row i and column k, its sums in
 * registers over all of j; the R values of step j broadcast to it are
 * adjacent in Y's row. */
static inline DRNN_ALWAYS_INLINE void ytx_tile(drnn_real *restrict W, const drnn_real *restrict Y,
                                               size_t ldy, const int *yrow,
                                               const drnn_real *restrict X, size_t ldx,
                                               const int *xrow, int n, int K, int i, int k,
                                               int add, int R, int C)
{
    drnn_real *w = W + (size_t)i * K + k;
    drnn_vec acc[4][4];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            acc[r][c] = add ? vload(w + (size_t)r * K + c * DRNN_VL) : vsplat(0);
    for (int j = 0; j < n; j++)
        tile_rank1(acc, X + (size_t)xrow[j] * ldx + k, Y + (size_t)yrow[j] * ldy + i, 1, R, C);
    tile_store(w, K, acc, R, C);
}

/* add = 0 spares the caller zeroing W first, and this loop reading it, with
 * the same result. The rows are listed (yrow, xrow), so that one call sums
 * the steps of a whole group of names, in any order it lists them, straight
 * from where they lie. Column chunks are the outer loop: a chunk of every
 * listed row of X stays in L1 while all the rows of W pass. Blocks of four
 * rows by DRNN_BLOCK vectors of columns, then two, then one; rows left over
 * one at a time; the scalar tail last. */
static inline void drnn_gemm_ytx_simd(drnn_real *restrict W, const drnn_real *restrict Y,
                                      size_t ldy, const int *yrow, const drnn_real *restrict X,
                                      size_t ldx, const int *xrow, int n, int M, int K, int add)
{
#define YTX_CHUNK(k, C)                                                                   \
    do {                                                                                  \
        int i_ = 0;                                                                       \
        for (; i_ + 4 <= M; i_ += 4)                                                      \
            ytx_tile(W, Y, ldy, yrow, X, ldx, xrow, n, K, i_, k, add, 4, C);              \
        for (; i_ < M; i_++)                                                              \
            ytx_tile(W, Y, ldy, yrow, X, ldx, xrow, n, K, i_, k, add, 1, C);              \
    } while (0)
    const int kv = K - K % DRNN_VL;
    int k = 0;
    for (; k + DRNN_BLOCK * DRNN_VL <= kv; k += DRNN_BLOCK * DRNN_VL)
        YTX_CHUNK(k, DRNN_BLOCK);
    for (; k + 2 * DRNN_VL <= kv; k += 2 * DRNN_VL)
        YTX_CHUNK(k, 2);
    for (; k < kv; k += DRNN_VL)
        YTX_CHUNK(k, 1);
#undef YTX_CHUNK
    /* The scalar tail: up to four of a row's columns side by side. */
    for (int i = 0; i < M; i++)
        for (int c = k; c < K; c += 4) {
            const int nc = K - c < 4 ? K - c : 4;
            drnn_real *w0 = W + (size_t)i * K + c;
            drnn_real s0 = add ? w0[0] : 0, s1 = add && nc > 1 ? w0[1] : 0;
            drnn_real s2 = add && nc > 2 ? w0[2] : 0, s3 = add && nc > 3 ? w0[3] : 0;
            for (int j = 0; j < n; j++) {
                const drnn_real y = Y[(size_t)yrow[j] * ldy + i];
                const drnn_real *x = X + (size_t)xrow[j] * ldx + c;
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

/* y[n] += x[n] */
static inline void drnn_vec_acc(drnn_real *restrict y, const drnn_real *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

#endif
