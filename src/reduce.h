/* reduce.h: the gradient slots of a trainer and their reduction: the sum
 * of the slots in slot order into slot 0, its scale and squared norm in
 * fixed chunks, the sparse rows of the input layer, and the exchange
 * between the processes of a distributed run, which adds in the same
 * order. Not installed. */
#ifndef DINORNN_REDUCE_H
#define DINORNN_REDUCE_H

#include <signal.h>
#include <stddef.h>

#include "dinornn/train.h"
#include "plan.h"

typedef struct drnn_reducer {
    int slots;                          /* gradient slots */
    drnn_params *grad;                  /* [slots] per-slot gradient sums (in a distributed
                                         * run only this process's and slot 0, the sum) */
    double *slot_loss;                  /* [slots] */
    size_t chunks;                      /* reduction chunks */
    double *chunk_sq;                   /* [chunks] partial sums of squares */
    unsigned char *live;                /* [chunks] 0: zero in every slot this mini-batch */
    drnn_token *rows;                   /* layer-0 rows the mini-batch's slots read */
    size_t *row_at;                     /* [slots + 1] slot s's are rows[row_at[s] .. row_at[s+1]) */
    drnn_exchange ex;                   /* the processes of a distributed run (ranks 1: alone) */
    int own_lo, own_hi;                 /* the slots this process computes */
    int stop_agreed;                    /* a distributed run's stop, agreed at the last step */
    drnn_real *stage;                   /* a distributed run's segment, packed for the exchange */
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

/* grad[0] = scale * (the sum of every slot in slot order), on every process
 * of a distributed run; *loss the slots' losses summed, *norm2 the squared
 * norm of the result. A distributed run adds its time in the exchange to
 * *exchange_seconds, and agrees on the stop requests (*stop, may be NULL)
 * of its processes. */
int drnn_reducer_sum(drnn_reducer *r, int slots, drnn_real scale,
                     const volatile sig_atomic_t *stop, double *loss, double *norm2,
                     double *exchange_seconds, drnn_error *err);

/* After the step: every slot's marked rows back to zero. */
void drnn_reducer_clear_rows(drnn_reducer *r, int slots);

/* The stop request to act on before the next mini-batch (0: none): alone,
 * *stop as it is now (stop may be NULL); distributed, the one every process
 * agreed on at the last step. Taken once. */
int drnn_reducer_stop(drnn_reducer *r, const volatile sig_atomic_t *stop);

#endif
