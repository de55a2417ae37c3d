/* plan.h: the sizes of a run, computed once from the hyperparameters, the
 * data and the thread count: the slots, groups and workers of a step, and
 * every buffer the state and the trainer allocate, in elements and in
 * bytes (llm.c's table of tensor sizes is the model). drnn_trainer_new
 * allocates from it, and drnn_train_memory reports it. Not in it: the
 * fixed 256 KiB stage of a distributed run's exchange (reduce.c). Not
 * installed. */
#ifndef DINORNN_PLAN_H
#define DINORNN_PLAN_H

#include <stddef.h>

#include "dinornn/error.h"
#include "dinornn/hparams.h"

typedef struct drnn_plan {
    /* The shape of a step. */
    int slots;                /* gradient slots: hp.slots, at most the batch */
    int group;                /* names a slot gives its workspace at once: ceil(batch / slots) */
    int workers;              /* workspaces: one per thread, at most slots */
    int max_len;              /* the longest name the workspaces take */
    /* Each buffer, in elements. */
    size_t params;            /* one copy of the weights: the state's, each moment, each
                               * member's best, each slot's gradient */
    size_t chunks;            /* the reduction's chunks of a gradient: chunk_sq, live */
    size_t batch;             /* a mini-batch's names: their tokens, lengths, dropout seeds */
    size_t rows;              /* the layer-0 rows a mini-batch's slots read: END, and each
                               * name's symbols */
    size_t shuffle;           /* an epoch's order: the training names */
    /* In bytes (double: no size can overflow). */
    double weight_bytes;      /* one copy of the weights */
    double state_bytes;       /* the state: weights, the optimizer's moments, the members' best */
    double gradient_bytes;    /* the slots' gradients */
    double workspace_bytes;   /* one workspace (drnn_scratch_bytes) */
    double shuffle_bytes;     /* an epoch's order, 4 bytes a name */
} drnn_plan;

/* The plan of a run of hp (whose model.vocab must be set), names of up to
 * max_len symbols, n_train training names and `threads` threads.
 * DRNN_ERR_INVALID when hp's slots are out of range: the plan then counts
 * one slot, as drnn_train_memory reports. */
int drnn_plan_make(drnn_plan *p, const drnn_hparams *hp, int max_len, size_t n_train,
                   int threads, drnn_error *err);

#endif
