/* dinornn/stepper.h: generation one symbol at a time, the forward pass of a
 * model (one network or a mixture) carrying each layer's state from one input
 * to the next. Sampling and the search run on it. */
#ifndef DINORNN_STEPPER_H
#define DINORNN_STEPPER_H

#include <stddef.h>

#include "dinornn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drnn_stepper drnn_stepper;
/* A stepper for models of m's configuration and network count (a state for
 * each network of a mixture). */
int drnn_stepper_new(drnn_stepper **out, const drnn_model *m, drnn_error *err);
void drnn_stepper_free(drnn_stepper *st);
/* Back to the zero state that starts every name. */
void drnn_stepper_reset(drnn_stepper *st);
/* dst takes src's state and label setting (both made for the same model;
 * when their label settings differ dst's buffers are remade, and on an
 * allocation failure dst is left as it was). */
void drnn_stepper_copy(drnn_stepper *dst, const drnn_stepper *src);
/* Feeds one token through m (a model like the one st was made for); returns
 * the V logits of the next symbol, valid until the next call on st. For a
 * mixture they are the log of the mean of the networks' probabilities (a
 * softmax of them gives that mean). */
const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_model *m, drnn_token in);
/* A labeled model's label (model.h, params.h: cfg.labels = N > 0): the
 * label the following feeds are conditioned on, 0..N-1, for every network
 * of a mixture, and for feed_batch's rows too. A new stepper of a labeled
 * model has label 0. Setting a label resets the stepper (a new name).
 * DRNN_ERR_INVALID for a label out of range or an unlabeled model. */
int drnn_stepper_set_label(drnn_stepper *st, int label);
/* The label mixture: the stepper then stands for P(name) = sum_k shares[k]
 * P(name | k) (shares[N] positive, summing to 1 within 1e-6, e.g.
 * drnn_label_share of each label). It keeps a state per label and each
 * label's log weight log shares[k] + log P_k(prefix), which reset puts back
 * to log shares[k]; feed returns the log-probabilities of the next symbol
 * under the mixture, log sum_k w_k p_k(v) with w = softmax(log weights)
 * (a softmax of them gives that distribution, as a mixture of members'
 * do). The saved state holds all of it, so the search works unchanged;
 * it is N times a label's size and N times as slow. Resets the stepper.
 * DRNN_ERR_INVALID for bad shares or an unlabeled model; DRNN_ERR_NOMEM. */
int drnn_stepper_set_label_mixture(drnn_stepper *st, const double *shares);
/* The label the stepper steps under: 0..N-1, DRNN_LABEL_MIXTURE, or
 * DRNN_LABEL_NONE for an unlabeled model. */
int drnn_stepper_label(const drnn_stepper *st);
/* The logits of the last feed (zeros before the first). */
const drnn_real *drnn_stepper_feed_logits(const drnn_stepper *st);
/* The recurrent state alone (each layer's h and carried state, no logits), for
 * searches that keep many states: its size in scalars, a copy out of st
 * into state[], and back into st. */
size_t drnn_stepper_state_size(const drnn_stepper *st);
void drnn_stepper_save_state(const drnn_stepper *st, drnn_real *state);
void drnn_stepper_load_state(drnn_stepper *st, const drnn_real *state);
/* Feeds rows names at once (rows >= 1), each from its own saved state: row
 * r steps from in_states[r] (as save_state writes it) with token in[r], and
 * writes its next state to out_states + r * state_size and its logits (as
 * feed returns them) to logits + r * V, the very bits that load_state and
 * feed give. The rows share each pass over the weights, several times
 * faster per name than feed one at a time. st's own state is untouched;
 * its scratch grows to the largest batch (DRNN_ERR_NOMEM if it cannot). */
int drnn_stepper_feed_batch(drnn_stepper *st, const drnn_model *m, int rows,
                            const drnn_real *const in_states[], const drnn_token in[],
                            drnn_real *out_states, drnn_real *logits, drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
