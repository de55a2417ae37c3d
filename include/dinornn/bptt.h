/* dinornn/bptt.h: one network's loss over a group of names, the forward pass
 * and backpropagation through time, in workspaces sized once. */
#ifndef DINORNN_BPTT_H
#define DINORNN_BPTT_H

#include <stdint.h>

#include "dinornn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

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
/* The same for a labeled model (w->cfg.labels = N > 0): labels[j] (0 .. N-1)
 * is name j's label, whose row of W_l joins layer 0's input at each of its
 * steps; NaN when labels is NULL or one is out of range. An unlabeled model
 * ignores labels (drnn_group_loss passes NULL). */
double drnn_group_loss_labeled(const drnn_params *w, drnn_scratch *s,
                               const drnn_token *const *names, const uint16_t *labels,
                               const int *lens, int count, const uint64_t *drop_seeds,
                               double *losses, drnn_params *grad, int overwrite);

/* The loss of one name, forward only (drnn_group_loss of one name). */
static inline double drnn_name_loss(const drnn_params *w, drnn_scratch *s,
                                    const drnn_token *name, int len)
{
    return drnn_group_loss(w, s, &name, &len, 1, NULL, NULL, NULL, 0);
}

/* The loss of one name under a label, forward only. */
static inline double drnn_name_loss_labeled(const drnn_params *w, drnn_scratch *s,
                                            const drnn_token *name, int len, uint16_t label)
{
    return drnn_group_loss_labeled(w, s, &name, &label, &len, 1, NULL, NULL, NULL, 0);
}

/* Turns logits z[V] into probabilities in place. Returns log(sum exp(z - zmax))
 * and sets *zmax, so that -log p[v] = result - (logit[v] - zmax), computed in
 * double from the original logit: the loss of drnn_name_loss, term by term. */
double drnn_softmax(drnn_real *z, int V, drnn_real *zmax);


#ifdef __cplusplus
}
#endif
#endif
