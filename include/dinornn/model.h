/* dinornn/model.h: a stack of recurrent layers over one-hot characters, with a
 * softmax output; forward pass and backpropagation through time over one name.
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
 * docs/model.md gives the equations. */
#ifndef DINORNN_MODEL_H
#define DINORNN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"
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

typedef enum drnn_cell_kind {
    DRNN_CELL_RNN = 0,   /* h_t = tanh(W_x x_t + W_h h_{t-1} + b) */
    DRNN_CELL_LSTM = 1,  /* gates i, f, g, o; forget-gate bias initialised to 1 */
    DRNN_CELL_GRU = 2,   /* gates r, z, n as in PyTorch, with a hidden-side bias for n */
    DRNN_CELL_KIND_COUNT
} drnn_cell_kind;

/* The blueprint of a model: everything its sizes derive from. */
typedef struct drnn_config {
    int vocab;           /* V, 2 .. DRNN_MAX_VOCAB */
    int hidden;          /* H, 1 .. DRNN_MAX_HIDDEN */
    int layers;          /* L, 1 .. DRNN_MAX_LAYERS */
    drnn_cell_kind cell;
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
    /* A mixture (mixture > 1): the model whose probability of each symbol
     * is the mean of the probabilities of part[0 .. mixture-1], models of
     * this cfg trained apart. Only the stepper and drnn_evaluate take one;
     * data and the views above are unused. 0 for a plain model. */
    int mixture;
    const struct drnn_params *part;
} drnn_params;

/* The most models a mixture holds. */
#define DRNN_MAX_MEMBERS 16
/* A mixture of n models (n >= 1; one is that model itself). */
drnn_params drnn_mixture_of(const drnn_params *parts, int n);

/* DRNN_OK when every field is in range; otherwise DRNN_ERR_INVALID naming it. */
int drnn_config_check(const drnn_config *cfg, drnn_error *err);
/* Gate blocks G of a cell kind (1 for DRNN_CELL_RNN). */
int drnn_cell_gates(drnn_cell_kind kind);
/* "rnn", ...; NULL for an unknown kind. */
const char *drnn_cell_name(drnn_cell_kind kind);
size_t drnn_param_count(const drnn_config *cfg);

/* Allocates a zeroed parameter-shaped buffer and binds its views. */
int drnn_params_alloc(drnn_params *p, const drnn_config *cfg, drnn_error *err);
void drnn_params_free(drnn_params *p);
/* Binds views for cfg over data (count must be drnn_param_count(cfg)). */
void drnn_params_bind(drnn_params *p, const drnn_config *cfg, drnn_real *data);
void drnn_params_zero(drnn_params *p);
/* Seeded initialisation: every weight matrix uniform in [-1/sqrt(H), 1/sqrt(H)]
 * (the fan-in of the recurrent and output layers), biases zero except the
 * LSTM's forget-gate bias, 1. */
void drnn_params_init(drnn_params *p, drnn_rng *rng);

/* Per-thread workspace for the forward and backward passes over names of up
 * to max_len symbols; sized once so the hot path never allocates. */
typedef struct drnn_scratch drnn_scratch;
int drnn_scratch_new(drnn_scratch **out, const drnn_config *cfg, int max_len, drnn_error *err);
/* The same for groups of up to max_names names (drnn_group_loss). */
#define DRNN_MAX_GROUP 1024
int drnn_scratch_new_group(drnn_scratch **out, const drnn_config *cfg, int max_len,
                           int max_names, drnn_error *err);
/* The bytes drnn_scratch_new_group would allocate (0 for a bad config),
 * computed in double so that no size overflows. */
double drnn_scratch_bytes(const drnn_config *cfg, int max_len, int max_names);
void drnn_scratch_free(drnn_scratch *s);
/* Inverted dropout with probability p (0 = none) on the inputs of layers
 * 2 .. L and of the output layer, for the passes that follow; each name's
 * masks are drawn from the seed the pass is given for it. */
void drnn_scratch_set_dropout(drnn_scratch *s, double p);

/* The one loss call: count names (1 .. the workspace's group size) through
 * the model at once. A name's loss is the sum over T = len + 1 steps of
 * -log p(target), in nats: inputs [END, c1..cn], targets [c1..cn, END], from
 * a zero state; losses[j] (when losses is given) receives name j's, the bits
 * it would have alone, and the sum is returned (NaN if count or a length is
 * out of range). Name j's dropout masks come from drop_seeds[j] (seed 0
 * when drop_seeds is NULL). With grad, BPTT follows and the group's
 * gradient is added to grad, or written over it when overwrite is 1 (the
 * bits of adding it to zeros, without the cost of zeroing): exactly what
 * the names one after another would give, while each weight matrix is read
 * once per group (the recurrent ones once per step). */
double drnn_group_loss(const drnn_params *w, drnn_scratch *s, const drnn_token *const *names,
                       const int *lens, int count, const uint64_t *drop_seeds, double *losses,
                       drnn_params *grad, int overwrite);

/* The loss of one name, forward only (drnn_group_loss of one name). */
static inline double drnn_name_loss(const drnn_params *w, drnn_scratch *s,
                                    const drnn_token *name, int len)
{
    return drnn_group_loss(w, s, &name, &len, 1, NULL, NULL, NULL, 0);
}

/* Turns logits z[V] into probabilities in place. Returns log(sum exp(z - zmax))
 * and sets *zmax, so that -log p[v] = result - (logit[v] - zmax), computed in
 * double from the original logit: the loss of drnn_name_loss, term by term. */
double drnn_softmax(drnn_real *z, int V, drnn_real *zmax);

/* Step-by-step forward pass for generation: one input token at a time,
 * carrying each layer's state. */
typedef struct drnn_stepper drnn_stepper;
int drnn_stepper_new(drnn_stepper **out, const drnn_config *cfg, drnn_error *err);
/* A stepper for w, a plain model or a mixture (a state for each part). */
int drnn_stepper_new_for(drnn_stepper **out, const drnn_params *w, drnn_error *err);
void drnn_stepper_free(drnn_stepper *st);
/* Back to the zero state that starts every name. */
void drnn_stepper_reset(drnn_stepper *st);
/* dst takes src's state (both made for the same config). */
void drnn_stepper_copy(drnn_stepper *dst, const drnn_stepper *src);
/* Feeds one token; returns the V logits of the next symbol, valid until the
 * next call on st. For a mixture they are the log of the mean of the
 * parts' probabilities (a softmax of them gives that mean). */
const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_params *w, drnn_token in);
/* The logits of the last feed (zeros before the first). */
const drnn_real *drnn_stepper_feed_logits(const drnn_stepper *st);
/* The recurrent state alone (each layer's h and carried state, no logits), for
 * searches that keep many states: its size in scalars, a copy out of st
 * into state[], and back into st. */
size_t drnn_stepper_state_size(const drnn_stepper *st);
void drnn_stepper_save_state(const drnn_stepper *st, drnn_real *state);
void drnn_stepper_load_state(drnn_stepper *st, const drnn_real *state);

#ifdef __cplusplus
}
#endif
#endif
