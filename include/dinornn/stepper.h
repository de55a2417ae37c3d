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
/* dst takes src's state (both made for the same model). */
void drnn_stepper_copy(drnn_stepper *dst, const drnn_stepper *src);
/* Feeds one token through m (a model like the one st was made for); returns
 * the V logits of the next symbol, valid until the next call on st. For a
 * mixture they are the log of the mean of the networks' probabilities (a
 * softmax of them gives that mean). */
const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_model *m, drnn_token in);
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
