/* dinornn/state.h: the complete state of a run, what a checkpoint holds
 * and a resumed run continues from: the weights and the optimizer's
 * moments, the counters, the members of a mixture, early stopping and the
 * learning-rate schedule (src/state.c). The trainer (dinornn/train.h)
 * moves it on, one mini-batch at a time. */
#ifndef DINORNN_STATE_H
#define DINORNN_STATE_H

#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/hparams.h"
#include "dinornn/model.h"
#include "dinornn/names.h"
#include "dinornn/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The whole state of a run: what a checkpoint holds. */
typedef struct drnn_train_state {
    drnn_hparams hp;
    drnn_vocab vocab;
    drnn_params weights;
    drnn_params moment1;      /* SGD momentum, Adam m (zero-length otherwise) */
    drnn_params moment2;      /* Adagrad sum of squares, Adam v */
    drnn_rng rng;             /* the generator as it was when epoch `epoch` began */
    int64_t epoch;            /* epochs completed */
    int64_t epoch_pos;        /* names of the current epoch already trained on */
    int64_t step;             /* optimizer steps taken */
    double epoch_loss;        /* summed loss of the current epoch so far (nats) */
    int64_t epoch_chars;      /* predicted characters in it so far */
    double best_val_loss;     /* best score at an epoch's end, which picks best.ckpt: the
                               * validation loss, or the training loss of a run
                               * without validation names; HUGE_VAL before any */
    int64_t best_epoch;
    int member;               /* the model of a mixture being trained, 0 .. hp.members-1 */
    drnn_real *member_best;   /* [hp.members * P] each member's weights at its best epoch
                               * so far (only when hp.members > 1; NULL otherwise) */
    double lr_scale;          /* plateau schedule: the product of the decays so far (1 at first) */
    int64_t lr_decay_epoch;   /* plateau schedule: the epoch of the last decay, -1 before any */
    uint64_t data_fingerprint;
    uint64_t val_fingerprint; /* of the validation file, 0 without one */
    char *data_path;          /* the training names file, as given */
    drnn_label_table labels;  /* a labeled run's labels and their training counts
                               * (hp.model.labels of them); count 0 otherwise */
} drnn_train_state;

/* A fresh run: weights initialised from hp->seed, optimizer state zero. */
int drnn_state_new(drnn_train_state *st, const drnn_hparams *hp, const drnn_vocab *vocab,
                   uint64_t data_fingerprint, uint64_t val_fingerprint, const char *data_path,
                   drnn_error *err);
void drnn_state_free(drnn_train_state *st);

/* The members of a mixture: hp.members models are trained one after
 * another, each from its own initialisation, shuffles and dropout masks
 * (all drawn from hp.seed and its number), until it stalls (hp.patience) or
 * reaches the epochs asked for; its best weights are kept in member_best.
 * 1 when the current member is done: epochs reached or stalled. */
int drnn_state_member_done(const drnn_train_state *st, int64_t epochs);
/* Starts the next member (member + 1 < hp.members): fresh weights, optimizer
 * state, counters and schedule. */
void drnn_state_next_member(drnn_train_state *st);
/* The model a state stands for, as dinornn-sample and dinornn-eval use it:
 * its weights for a run of one model; for a mixture, the mixture of the
 * members' best weights so far (the current member's once it has a best),
 * bound in parts[DRNN_MAX_MEMBERS]. */
drnn_model drnn_state_model(const drnn_train_state *st, drnn_params *parts);

/* The learning-rate schedule: the rate used during epoch (0-based) by the
 * schedules that depend on the epoch alone (constant, step, cosine); the
 * plateau schedule's is lr times the scale the run has reached
 * (drnn_state_learning_rate). */
double drnn_learning_rate(const drnn_hparams *hp, int64_t epoch);
/* The learning rate of the state's current epoch, whatever the schedule. */
double drnn_state_learning_rate(const drnn_train_state *st);

/* Early stopping: 1 when the run has had hp.patience epochs (> 0) without a
 * new best score; training further is still allowed. */
int drnn_state_stalled(const drnn_train_state *st);

#ifdef __cplusplus
}
#endif
#endif
