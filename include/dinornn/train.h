/* dinornn/train.h: mini-batch training with OpenMP, optimizers and
 * clipping, over the state of a run (dinornn/state.h) that a checkpoint
 * saves and a resumed run continues from, bit for bit.
 *
 * Reproducibility: a mini-batch is cut into a fixed number of gradient slots
 * (hp.slots, a setting of the run, independent of the thread count); each
 * slot's names are accumulated in order into the slot's own buffer, and the
 * slots are summed along a binary tree whose shape depends on the slot
 * count alone (docs/model.md). Any number of threads, and of processes
 * of a distributed run (drnn_trainer_distribute), therefore computes the
 * same floats. */
#ifndef DINORNN_TRAIN_H
#define DINORNN_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "dinornn/bptt.h"
#include "dinornn/evaluate.h"
#include "dinornn/model.h"
#include "dinornn/hparams.h"
#include "dinornn/names.h"
#include "dinornn/state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default number of gradient slots (hp.slots, at most DRNN_MAX_SLOTS),
 * which is also what checkpoints before version 3 were trained with. Each
 * slot is a gradient buffer, summed into the others once per mini-batch,
 * and the most threads that can work on a mini-batch at once. */
#define DRNN_GRAD_SLOTS 8
/* The most OpenMP threads the library asks for, whatever OMP_NUM_THREADS
 * says; no parallel region asks for more threads than it has pieces of work. */
#define DRNN_MAX_THREADS 1024

typedef struct drnn_trainer drnn_trainer;

/* The memory a run takes, in bytes (double: no size can overflow), known
 * before anything is allocated: a model too big for the machine can be
 * refused at once instead of failing or swapping minutes into a run: the
 * same plan of sizes that drnn_trainer_new allocates from. */
typedef struct drnn_memory {
    double state;             /* weights and the optimizer's moments */
    double checkpoint;        /* a resumed checkpoint, read whole before it is decoded: as
                               * much again (saving streams the file) */
    double gradients;         /* one gradient buffer per slot (min(batch, slots)) */
    double workspaces;        /* forward/backward workspaces, one per thread, and the shuffle */
    double total;
} drnn_memory;

/* What drnn_state_new and drnn_trainer_new will allocate for hp (whose
 * model.vocab must be set), names of up to max_len symbols, n_train training
 * names and `threads` threads (as drnn_trainer_new will see them). */
void drnn_train_memory(drnn_memory *m, const drnn_hparams *hp, int max_len, size_t n_train,
                       int threads);

/* Binds a state to its data. The corpora must outlive the trainer; their
 * names must fit in DRNN_MAX_NAME_LEN. val may have zero names. */
int drnn_trainer_new(drnn_trainer **out, drnn_train_state *st, const drnn_corpus *train,
                     const drnn_corpus *val, drnn_error *err);
void drnn_trainer_free(drnn_trainer *t);

/* What one call of drnn_trainer_epoch did. */
typedef struct drnn_epoch_report {
    int finished;             /* the epoch ended (else it was stopped between mini-batches) */
    double train_loss;        /* mean nats per character over the epoch's mini-batches */
    double val_loss;          /* after the epoch, if finished and there is validation data; else NaN */
    int improved;             /* val_loss (or train loss without validation) is a new best */
    int stopped;              /* the value of *stop that ended the call between mini-batches
                               * (in a distributed run the largest of the processes'), or 0 */
    double lr;                /* the learning rate the epoch trained with */
    int lr_decayed;           /* the plateau schedule lowered the rate after the epoch */
    int64_t chars;            /* characters trained on by this call */
    double exchange_seconds;  /* of a distributed run: wall time in the exchange of the sums
                               * (the transfers, and the waits for slower processes) */
    /* Where the steps' time went (wall seconds, summed over the steps):
     * whole steps; gathering the names; forward and BPTT (each thread's
     * time, averaged over the threads); the sum of the slots (the threads'
     * folds, averaged, and the top of the tree; a distributed run's
     * exchange is in it); the threads' wait for the last slot; clipping
     * and the optimizer. */
    double step_seconds, gather_seconds, compute_seconds, sum_seconds, wait_seconds,
        update_seconds;
    int threads;              /* threads the steps use now, chosen by measuring (fewer when
                               * another program takes a core; the bits are the same) */
} drnn_epoch_report;

/* Trains on the rest of the current epoch, or until *stop is set (it is read
 * between mini-batches; may be NULL; in a distributed run at each mini-batch,
 * and every process stops after the first mini-batch at which any had it
 * set), or after max_steps mini-batches (0: no
 * limit). A stopped epoch goes on exactly where it stopped at the next call,
 * also from a checkpoint. A non-finite loss or gradient stops with
 * DRNN_ERR_NONFINITE before that mini-batch changes any weight. */
int drnn_trainer_epoch(drnn_trainer *t, int64_t max_steps, const volatile sig_atomic_t *stop,
                       drnn_epoch_report *rep, drnn_error *err);

/* The processes of a distributed run as the trainer sees them: a way to
 * move bytes, nothing more (dinornn-train's over MPI: src/programs/dist.c). The
 * trainer does every addition itself, in the order of one process. The
 * processes must store floats alike (the same architecture). Each call
 * returns 0, or non-zero when the bytes could not be moved. */
typedef struct drnn_exchange {
    int rank, ranks;          /* this process, of 0 .. ranks-1 */
    void *ctx;                /* passed to each call */
    /* Sends bytes to process `to`; receives them from process `from`. */
    int (*send)(void *ctx, const void *buf, size_t bytes, int to);
    int (*recv)(void *ctx, void *buf, size_t bytes, int from);
    /* buf of process `root`, to every other process's buf. */
    int (*bcast)(void *ctx, void *buf, size_t bytes, int root);
    /* Optional (NULL: a send then a receive, or the other way round): sends
     * sbuf to process `peer` while receiving rbuf from it, both at once. */
    int (*sendrecv)(void *ctx, const void *sbuf, size_t sbytes, void *rbuf, size_t rbytes,
                    int peer);
} drnn_exchange;

/* Makes t one of x->ranks processes that train the same state together:
 * each computes its share of the slots (process r slots
 * [ceil(r S / N), ceil((r+1) S / N)) of S slots and N processes), and
 * every mini-batch they exchange the sum (docs/model.md says how and at
 * what cost). Every process must hold the same state and the same data,
 * call drnn_trainer_epoch the same way, and call this before its first
 * epoch; the weights are those of one process, bit for bit. Frees the
 * gradient buffers of the slots of the other processes. ranks 1: alone. */
int drnn_trainer_distribute(drnn_trainer *t, const drnn_exchange *x, drnn_error *err);

/* Mean nats per character of the weights over a corpus (NaN if it is empty
 * or holds a name longer than the trainer's data). Uses the trainer's
 * workspaces; equal, bit for bit, to drnn_evaluate's nats / chars. */
double drnn_trainer_evaluate(drnn_trainer *t, const drnn_corpus *c);

#ifdef __cplusplus
}
#endif
#endif
