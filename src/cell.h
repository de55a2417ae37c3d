/* cell.h: the one interface every recurrent cell implements: the tanh RNN,
 * the LSTM and the GRU. Layers and the trainer do not know which is in use.
 *
 * A layer computes, for each step t, the input projection
 *   xproj_t = W_x x_t + b                      (G*H values)
 * and the recurrent projection
 *   hproj_t = W_h h_{t-1} + [0 .. 0, b_h]      (G*H values; h_0 = 0)
 * where the hidden-side bias b_h (R*H values, R = 0 except for the GRU)
 * is added to the last R*H entries. It hands both to the cell, which
 * produces the step's cache: C*H values whose first H are the layer's
 * output h_t and the rest whatever its backward step needs. Keeping xproj
 * and hproj apart lets a cell gate the recurrent part (GRU). */
#ifndef DINORNN_CELL_H
#define DINORNN_CELL_H

#include "dinornn/params.h"
#include "fastmath.h"

typedef struct drnn_cell_ops {
    const char *name;
    int gates;   /* G: W_x and W_h have G*H rows */
    int cache;   /* C: values per unit kept per step; the first block is h_t */
    int carry;   /* K: state besides h_t carried to the next step, per unit (LSTM: 1) */
    int hbias;   /* R: blocks of hidden-side bias b_h (GRU: 1) */

    /* cache[C*H] from prev_cache[C*H] (zeros at t = 0), xproj[G*H], hproj[G*H]. */
    void (*forward)(drnn_real *cache, const drnn_real *prev_cache,
                    const drnn_real *xproj, const drnn_real *hproj, int H);

    /* Given dh[H] = dloss/dh_t (all paths) and dcarry[K*H] = dloss/d(carried
     * state at t), writes dxproj[G*H] and dhproj[G*H], adds to dh_prev[H]
     * the gradient reaching h_{t-1} other than through W_h, and replaces
     * dcarry by the gradient for the carried state at t - 1. Then the
     * forward arguments, in their order. */
    void (*backward)(drnn_real *dxproj, drnn_real *dhproj, drnn_real *dh_prev, drnn_real *dcarry,
                     const drnn_real *dh,
                     const drnn_real *cache, const drnn_real *prev_cache,
                     const drnn_real *xproj, const drnn_real *hproj, int H);

    /* Optional: the cell's preferred initial biases b[G*H], set over the
     * drawn ones (drnn_params_init). */
    void (*init_bias)(drnn_real *b, int H);
} drnn_cell_ops;

/* Before a loop over units whose iterations are independent (each unit's
 * blocks are distinct parts of one cache row): lets the compiler vectorise
 * without run-time checks that the blocks do not overlap. */
#if defined(__GNUC__) && !defined(__clang__)
#define DRNN_INDEPENDENT _Pragma("GCC ivdep")
#else
#define DRNN_INDEPENDENT
#endif

/* The cell of a kind, or NULL. */
const drnn_cell_ops *drnn_cell_ops_of(drnn_cell_kind kind);

extern const drnn_cell_ops drnn_cell_rnn;
extern const drnn_cell_ops drnn_cell_lstm;
extern const drnn_cell_ops drnn_cell_gru;

#endif
