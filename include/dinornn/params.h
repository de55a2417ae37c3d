/* dinornn/params.h: one network's configuration and its parameters: a stack
 * of recurrent layers over one-hot characters, with a softmax output.
 *
 * Legend: V vocabulary size, H hidden units, L layers, G gate blocks of the
 * cell (1 for the tanh RNN), T time steps (a name of n symbols has T = n + 1).
 *
 * All parameters live in one contiguous buffer of drnn_param_count() scalars;
 * drnn_params holds views into it. Gradients and optimizer moments are
 * drnn_params too, with the same layout, so every whole-model operation
 * (update, reduction, clipping, saving) is one loop over `data`.
 * The layout, layer by layer (l = 0 .. L-1), then the output layer:
 *   W_x[l]  layer 0: V rows of G*H (row x is column x of the input matrix:
 *           the one-hot input is a row lookup); layer l > 0: G*H rows of H
 *   W_h[l]  G*H rows of H
 *   b[l]    G*H
 *   b_h[l]  R*H (the GRU's hidden-side bias of its candidate gate; R = 0 else)
 *   W_y     V rows of H
 *   b_y     V
 *   W_l     N rows of G*H, only in a labeled model (N = cfg.labels > 0): row k
 *           is added to layer 0's input projection at every step of a name
 *           with label k. Last, so that an unlabeled model's layout is the
 *           same as before labels existed.
 * docs/model.md gives the equations. */
#ifndef DINORNN_PARAMS_H
#define DINORNN_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/cells.h"
#include "dinornn/error.h"
#include "dinornn/labels.h"
#include "dinornn/names.h"
#include "dinornn/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scalar type. The library is built with float; the gradient-check test
 * builds the same sources again with -DDRNN_REAL=double. */
#ifndef DRNN_REAL
#define DRNN_REAL float
#endif
typedef DRNN_REAL drnn_real;

#define DRNN_MAX_LAYERS 16
#define DRNN_MAX_HIDDEN 4096

/* The blueprint of a model: everything its sizes derive from. */
typedef struct drnn_config {
    int vocab;           /* V, 2 .. DRNN_MAX_VOCAB */
    int hidden;          /* H, 1 .. DRNN_MAX_HIDDEN */
    int layers;          /* L, 1 .. DRNN_MAX_LAYERS */
    drnn_cell_kind cell;
    int labels;          /* N: 0 for an unlabeled model, else 1 .. DRNN_MAX_LABELS
                          * (labels.h): W_l conditions every step on the name's label */
} drnn_config;

/* Views of one recurrent layer's tensors inside a parameter buffer. */
typedef struct drnn_layer_view {
    drnn_real *W_x;
    drnn_real *W_h;
    drnn_real *b;
    drnn_real *b_h;      /* hidden-side bias: R*H values (R = 1 for the GRU, else 0) */
} drnn_layer_view;

/* A parameter-shaped buffer (weights, gradients or optimizer moments). */
typedef struct drnn_params {
    drnn_config cfg;
    size_t count;        /* scalars in data */
    drnn_real *data;     /* owned */
    drnn_layer_view layer[DRNN_MAX_LAYERS];
    drnn_real *W_y;
    drnn_real *b_y;
    drnn_real *W_l;      /* [N][G*H] the labels' rows; NULL when N = 0 */
} drnn_params;

/* DRNN_OK when every field is in range; otherwise DRNN_ERR_INVALID naming it. */
int drnn_config_check(const drnn_config *cfg, drnn_error *err);
size_t drnn_param_count(const drnn_config *cfg);

/* Allocates a zeroed parameter-shaped buffer and binds its views. */
int drnn_params_alloc(drnn_params *p, const drnn_config *cfg, drnn_error *err);
void drnn_params_free(drnn_params *p);
/* Binds views for cfg over data (count must be drnn_param_count(cfg)). */
void drnn_params_bind(drnn_params *p, const drnn_config *cfg, drnn_real *data);
void drnn_params_zero(drnn_params *p);
/* Seeded initialisation: every weight matrix and every bias uniform in
 * [-1/sqrt(H), 1/sqrt(H)] (the fan-in of the recurrent and output layers),
 * as PyTorch draws them, except the LSTM's forget-gate bias, 1. W_l is
 * drawn last, so an unlabeled model's weights are those of a labeled one
 * of the same seed, and those it had before labels existed. */
void drnn_params_init(drnn_params *p, drnn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
