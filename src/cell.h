/* cell.h: the one interface every recurrent cell implements (tanh RNN now;
 * LSTM and GRU join it without changing the layers or the trainer).
 *
 * A layer computes, for each step t, the input projection
 *   xproj_t = W_x x_t + b        (G*H values)
 * and the recurrent projection
 *   hproj_t = W_h h_{t-1}        (G*H values, zero at t = 0)
 * and hands both to the cell, which produces the step's cache: C*H values
 * whose first H are the layer's output h_t and the rest whatever the cell
 * needs for its backward step (gate activations, the LSTM cell state...).
 * Keeping xproj and hproj apart lets a cell gate the recurrent part (GRU). */
#ifndef DINORNN_CELL_H
#define DINORNN_CELL_H

#include "dinornn/model.h"

typedef struct drnn_cell_ops {
    const char *name;
    int gates;   /* G: W_x and W_h have G*H rows */
    int cache;   /* C: values per unit kept per step; the first block is h_t */
    int carry;   /* K: state besides h_t carried to the next step, per unit (LSTM: 1) */

    /* cache[C*H] from prev_cache[C*H] (zeros at t = 0), xproj[G*H], hproj[G*H]. */
    void (*forward)(drnn_real *cache, const drnn_real *prev_cache,
                    const drnn_real *xproj, const drnn_real *hproj, int H);

    /* Given dh[H] = dloss/dh_t (all paths) and dcarry[K*H] = dloss/d(carried
     * state at t), writes dxproj[G*H], dhproj[G*H] and replaces dcarry by the
     * gradient for the carried state at t - 1. Then the forward arguments. */
    void (*backward)(drnn_real *dxproj, drnn_real *dhproj, drnn_real *dcarry,
                     const drnn_real *dh,
                     const drnn_real *cache, const drnn_real *prev_cache,
                     const drnn_real *xproj, const drnn_real *hproj, int H);
} drnn_cell_ops;

/* The cell of a kind, or NULL. */
const drnn_cell_ops *drnn_cell_ops_of(drnn_cell_kind kind);

extern const drnn_cell_ops drnn_cell_rnn;

#endif
