/* state.c: the state of a run: its buffers, the members of a mixture, the
 * best score and early stopping, and the whole learning-rate schedule
 * (the rates of the constant, step and cosine schedules, and the plateau
 * schedule's decays). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/state.h"
#include "internal.h"
#include "state.h"

/* ---- the buffers ---- */

int drnn_state_has_moment(drnn_optimizer o, int which)
{
    if (which == 1)
        return o == DRNN_OPT_ADAM || o == DRNN_OPT_SGD;
    return o == DRNN_OPT_ADAM || o == DRNN_OPT_ADAGRAD;
}

/* Member k's own streams: member 0's are those of a run of one model. */
static uint64_t member_seed(const drnn_train_state *st, int k)
{
    return st->hp.seed ^ (uint64_t)k * 0x9e3779b97f4a7c15ULL;
}

uint64_t drnn_state_member_seed(const drnn_train_state *st)
{
    return member_seed(st, st->member);
}

/* Member k from its beginning: weights, optimizer state, counters, schedule. */
static void start_member(drnn_train_state *st, int k)
{
    const uint64_t seed = member_seed(st, k);
    drnn_rng init;
    drnn_rng_seed(&init, seed);
    drnn_params_init(&st->weights, &init);
    drnn_params_zero(&st->moment1);
    drnn_params_zero(&st->moment2);
    /* The shuffles draw from their own stream, so that changing the
     * initialisation never changes the order of the names. */
    drnn_rng_seed(&st->rng, seed ^ 0x73687566666c6531ULL /* "shuffle1" */);
    st->member = k;
    st->epoch = st->epoch_pos = st->step = st->epoch_chars = 0;
    st->epoch_loss = 0;
    st->best_val_loss = HUGE_VAL;
    st->best_epoch = -1;
    st->lr_scale = 1;
    st->lr_decay_epoch = -1;
}

/* Each member's best weights, one copy of the weights per member. */
static int alloc_member_best(drnn_train_state *st, drnn_error *err)
{
    const int members = st->hp.members;
    if (members < 1)
        return drnn_fail(err, DRNN_ERR_INVALID, "the number of members is not chosen yet");
    if (members == 1)
        return DRNN_OK;
    int overflow = 0;
    size_t bytes = drnn_mul_size(drnn_mul_size(st->weights.count, (size_t)members, &overflow),
                                 sizeof(drnn_real), &overflow);
    st->member_best = overflow ? NULL : drnn_zalloc_aligned(bytes);
    if (!st->member_best)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %d members", members);
    return DRNN_OK;
}

int drnn_state_new(drnn_train_state *st, const drnn_hparams *hp, const drnn_vocab *vocab,
                   uint64_t data_fingerprint, uint64_t val_fingerprint, const char *data_path,
                   drnn_error *err)
{
    memset(st, 0, sizeof *st);
    int rc = drnn_hparams_check(hp, err);
    if (rc)
        return rc;
    st->hp = *hp;
    st->hp.model.vocab = vocab->size;
    if ((rc = drnn_vocab_copy(&st->vocab, vocab, err)))
        goto fail;
    if ((rc = drnn_params_alloc(&st->weights, &st->hp.model, err)))
        goto fail;
    /* Moments an optimizer does not use stay unallocated (count 0). */
    if (drnn_state_has_moment(hp->optimizer, 1) &&
        (rc = drnn_params_alloc(&st->moment1, &st->hp.model, err)))
        goto fail;
    if (drnn_state_has_moment(hp->optimizer, 2) &&
        (rc = drnn_params_alloc(&st->moment2, &st->hp.model, err)))
        goto fail;
    st->data_path = strdup(data_path ? data_path : "");
    if (!st->data_path) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = alloc_member_best(st, err)))
        goto fail;
    start_member(st, 0);
    st->data_fingerprint = data_fingerprint;
    st->val_fingerprint = val_fingerprint;
    return drnn_ok(err);
fail:
    drnn_state_free(st);
    return rc;
}

void drnn_state_free(drnn_train_state *st)
{
    free(st->member_best);
    drnn_vocab_free(&st->vocab);
    drnn_params_free(&st->weights);
    drnn_params_free(&st->moment1);
    drnn_params_free(&st->moment2);
    free(st->data_path);
    drnn_label_table_free(&st->labels);
    memset(st, 0, sizeof *st);
}

/* ---- the members of a mixture ---- */

int drnn_state_member_done(const drnn_train_state *st, int64_t epochs)
{
    return st->epoch >= epochs || drnn_state_stalled(st);
}

void drnn_state_next_member(drnn_train_state *st)
{
    if (st->member + 1 < st->hp.members)
        start_member(st, st->member + 1);
}

drnn_model drnn_state_model(const drnn_train_state *st, drnn_params *parts)
{
    int n = st->member + (st->best_epoch >= 0);
    drnn_model m;
    if (st->hp.members <= 1 || !st->member_best || n == 0) {
        m = drnn_model_of(&st->weights, 1);
    } else {
        for (int k = 0; k < n; k++)
            drnn_params_bind(&parts[k], &st->hp.model,
                             st->member_best + (size_t)k * st->weights.count);
        m = drnn_model_of(parts, n);
    }
    if (st->labels.count == st->hp.model.labels) /* the training names' shares */
        m.label_names = st->labels.names;
    return m;
}

/* ---- the learning-rate schedule ---- */

double drnn_learning_rate(const drnn_hparams *hp, int64_t epoch)
{
    switch (hp->schedule) {
    case DRNN_SCHED_STEP:
        return hp->lr * pow(hp->step_gamma, (double)(epoch / hp->step_epochs));
    case DRNN_SCHED_COSINE:
        if (epoch >= hp->cosine_epochs)
            return hp->lr_min;
        return hp->lr_min + 0.5 * (hp->lr - hp->lr_min) *
                                (1 + cos(M_PI * (double)epoch / hp->cosine_epochs));
    default:
        return hp->lr;
    }
}

double drnn_state_learning_rate(const drnn_train_state *st)
{
    if (st->hp.schedule == DRNN_SCHED_PLATEAU)
        return st->hp.lr * st->lr_scale;
    return drnn_learning_rate(&st->hp, st->epoch);
}

/* The plateau schedule, after an epoch without a new best: a decay once
 * lr_patience epochs have passed since the best or since the last decay,
 * whichever is later (a decay gives the lower rate its own epochs). */
static int plateau_decay(drnn_train_state *st)
{
    int64_t since = st->best_epoch > st->lr_decay_epoch ? st->best_epoch : st->lr_decay_epoch;
    if (st->hp.schedule != DRNN_SCHED_PLATEAU || since < 0 ||
        st->epoch - since < st->hp.lr_patience)
        return 0;
    st->lr_scale *= st->hp.lr_decay;
    st->lr_decay_epoch = st->epoch;
    return 1;
}

/* ---- the best score and early stopping ---- */

int drnn_state_end_epoch(drnn_train_state *st, double score, int *lr_decayed)
{
    *lr_decayed = 0;
    if (score < st->best_val_loss) {
        st->best_val_loss = score;
        st->best_epoch = st->epoch;
        if (st->member_best)
            memcpy(st->member_best + (size_t)st->member * st->weights.count, st->weights.data,
                   st->weights.count * sizeof *st->weights.data);
        return 1;
    }
    *lr_decayed = plateau_decay(st);
    return 0;
}

int drnn_state_stalled(const drnn_train_state *st)
{
    return st->hp.patience > 0 && st->best_epoch >= 0 &&
           st->epoch - st->best_epoch >= st->hp.patience;
}
