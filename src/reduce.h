/* reduce.h: the gradient slots of a trainer and their reduction: the sum
 * of the slots as one fixed binary tree (its shape a function of the slot
 * count alone), folded by the threads as their slots finish and its upper
 * levels shared chunk by chunk; its scale and squared norm in fixed
 * chunks; the sparse rows of the input layer; and the exchange between the
 * processes of a distributed run, which adds along the same tree in
 * O(log N) rounds of messages. Not installed. */
#ifndef DINORNN_REDUCE_H
#define DINORNN_REDUCE_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "dinornn/train.h"
#include "plan.h"

typedef struct drnn_reducer {
    int slots;                          /* gradient slots */
    drnn_params *grad;                  /* [slots] per-slot gradient sums, then the tree's
                                         * node sums in place (in a distributed run only
                                         * this process's slots and slot 0, the sum) */
    double *slot_loss;                  /* [slots] per-slot losses, then node sums */
    atomic_int *arrived;                /* [slots] children done of the node whose right
                                         * child starts at slot s */
    int eager;                          /* the tree's levels the threads fold as slots end */
    size_t chunks;                      /* reduction chunks */
    double *chunk_sq;                   /* [chunks] partial sums of squares */
    unsigned char *live;                /* [chunks] 0: zero in every slot this mini-batch */
    size_t *live_at;                    /* [chunks] a live chunk's offset in a message */
    size_t live_floats;                 /* the floats of the live chunks */
    drnn_token *rows;                   /* layer-0 rows the mini-batch's slots read */
    size_t *row_at;                     /* [slots + 1] slot s's are rows[row_at[s] .. row_at[s+1]) */
    drnn_exchange ex;                   /* the processes of a distributed run (ranks 1: alone) */
    int own_lo, own_hi;                 /* the slots this process computes */
    int stop_agreed;                    /* a distributed run's stop, agreed at the last step */
    drnn_real *stage;                   /* a distributed run's message: a head, then a node's
                                         * live chunks, packed */
    drnn_real *swap_out, *swap_in;      /* a head and half the live chunks each way (a power
                                         * of two of processes: halving and doubling) */
} drnn_reducer;

/* The plan's slots, each a zero gradient of the model, and the buffers of
 * their reduction; alone until drnn_reducer_distribute. */
int drnn_reducer_new(drnn_reducer *r, const drnn_plan *p, const drnn_config *model,
                     drnn_error *err);
void drnn_reducer_free(drnn_reducer *r);

/* Makes r one of x->ranks processes (drnn_trainer_distribute): its share of
 * the slots, the stage of the exchange; frees the other processes' slots. */
int drnn_reducer_distribute(drnn_reducer *r, const drnn_exchange *x, drnn_error *err);

/* The slots [*lo, *hi) of a step of `slots` that this process computes. */
void drnn_reducer_own(const drnn_reducer *r, int slots, int *lo, int *hi);

/* The layer-0 rows each slot's names read, of a mini-batch of b names cut
 * into `slots` (slot s takes names [s*b/slots, (s+1)*b/slots)), and the
 * chunks that can hold a non-zero gradient. */
void drnn_reducer_mark_rows(drnn_reducer *r, const drnn_token *const *names, const int *lens,
                            size_t b, int slots);

/* Before a step's slots are computed by `threads` threads: no node has a
 * child done yet, and how many levels the threads fold. */
void drnn_reducer_begin(drnn_reducer *r, int slots, int threads);

/* Called by the thread that has just computed slot s (its gradient and
 * loss in place): adds it into the tree while it is in this thread's
 * cache, going up as long as the other child of the node is done. Safe
 * from any number of threads at once. */
void drnn_reducer_fold(drnn_reducer *r, int s, int slots);

/* After every slot of the step was computed and folded: grad[0] = scale *
 * (the sum of every slot, added along the tree), on every process of a
 * distributed run, by up to `threads` threads; *loss the slots' losses
 * summed along the same tree, *norm2 the squared norm of the result. A
 * distributed run adds its time in the exchange to *exchange_seconds, and
 * agrees on the stop requests (*stop, may be NULL) of its processes. */
int drnn_reducer_sum(drnn_reducer *r, int slots, drnn_real scale, int threads,
                     const volatile sig_atomic_t *stop, double *loss, double *norm2,
                     double *exchange_seconds, drnn_error *err);

/* After the step: every slot's marked rows back to zero. */
void drnn_reducer_clear_rows(drnn_reducer *r, int slots);

/* The stop request to act on before the next mini-batch (0: none): alone,
 * *stop as it is now (stop may be NULL); distributed, the one every process
 * agreed on at the last step. Taken once. */
int drnn_reducer_stop(drnn_reducer *r, const volatile sig_atomic_t *stop);

/* The levels of the tree over `slots` slots: ceil(log2(slots)). */
int drnn_tree_levels(int slots);

#endif
