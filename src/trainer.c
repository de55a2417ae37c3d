/* trainer.c: the trainer: an epoch of mini-batches, each one step (gather
 * the names, forward and BPTT per gradient slot in parallel, reduce the
 * slots in order, clip, one optimizer step), and evaluation in its
 * workspaces. Its sizes come from its plan (plan.c), the sum of its slots
 * from reduce.c, and the state it moves on is state.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dinornn/train.h"
#include "evaluate.h"
#include "bptt_internal.h"
#include "internal.h"
#include "optim.h"
#include "pacer.h"
#include "plan.h"
#include "reduce.h"
#include "state.h"

struct drnn_trainer {
    drnn_train_state *st;
    const drnn_corpus *train, *val;
    drnn_plan plan;                     /* slots, group, workers, max_len, every buffer's size */
    drnn_reducer red;                   /* the gradient slots, and their sum */
    drnn_pacer pacer;                   /* how many threads the steps use */
    double *busy;                       /* [plan.workers * BUSY_STRIDE] each thread's seconds
                                         * in forward and BPTT this step, then (at +1) in
                                         * folding its slots into the sum's tree */
    drnn_scratch **scratch;             /* [plan.workers] */
    int64_t *slot_keys;                 /* [slots] the step's slots' sort keys (characters, index) */
    int *slot_order;                    /* [slots] the step's slots, most characters first */
    uint32_t *order;                    /* [train->count] this epoch's shuffle (4 bytes a name) */
    drnn_rng shuffled_from;             /* the generator the order was drawn from, */
    drnn_rng after_shuffle;             /* and as the shuffle left it */
    const drnn_token **names;           /* [batch] the mini-batch: its names' tokens, */
    int *lens;                          /* [batch] lengths */
    uint64_t *seeds;                    /* [batch] dropout seeds */
    uint16_t *labels;                   /* [batch] and labels (a labeled model's) */
};

/* This epoch's order of the training names, from the generator as it was
 * when the epoch began; returns the generator as it is after the shuffle.
 * Drawn once per epoch: when the trainer is made, and at each epoch's end. */
static drnn_rng shuffle_epoch(drnn_trainer *t)
{
    drnn_rng rng = t->st->rng;
    t->shuffled_from = rng;
    drnn_shuffle(t->order, t->train->count, &rng);
    return rng;
}

/* The data a state can train on: some names, each one's index fitting the
 * shuffle's 4 bytes, at least as many as the epoch has already seen, and
 * labeled (validation names too) when the model is. */
static int check_data(const drnn_train_state *st, const drnn_corpus *train,
                      const drnn_corpus *val, drnn_error *err)
{
    if (!train || train->count == 0)
        return drnn_fail(err, DRNN_ERR_EMPTY, "there are no names to train on");
    if (train->count > UINT32_MAX)
        return drnn_fail(err, DRNN_ERR_INVALID, "%zu training names is more than %u",
                         train->count, (unsigned)UINT32_MAX);
    if (st->epoch_pos < 0 || (uint64_t)st->epoch_pos > train->count)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "the run stopped at name %lld of an epoch, but there are only %zu "
                         "training names: this is not the data it was trained on",
                         (long long)st->epoch_pos, train->count);
    if (st->hp.model.labels > 0 && (!train->labels || (val && val->count && !val->labels)))
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "the model is conditioned on labels, but the names have none");
    return DRNN_OK;
}

/* A thread's times sit on their own cache line. */
#define BUSY_STRIDE 8

/* Every buffer of the plan: the slots and their sum, the workspaces, the
 * shuffle and the mini-batch. */
static int alloc_buffers(drnn_trainer *t, drnn_error *err)
{
    const drnn_plan *p = &t->plan;
    int rc = drnn_reducer_new(&t->red, p, &t->st->hp.model, err);
    if (rc)
        return rc;
    t->scratch = calloc((size_t)p->workers, sizeof *t->scratch);
    t->slot_keys = calloc((size_t)p->slots, sizeof *t->slot_keys);
    t->slot_order = calloc((size_t)p->slots, sizeof *t->slot_order);
    t->order = calloc(p->shuffle, sizeof *t->order);
    t->names = calloc(p->batch, sizeof *t->names);
    t->lens = calloc(p->batch, sizeof *t->lens);
    t->seeds = calloc(p->batch, sizeof *t->seeds);
    t->labels = calloc(p->batch, sizeof *t->labels);
    t->busy = calloc((size_t)p->workers * BUSY_STRIDE, sizeof *t->busy);
    if (!t->scratch || !t->slot_keys || !t->slot_order || !t->order || !t->names || !t->lens ||
        !t->seeds || !t->labels || !t->busy)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    for (int s = 0; s < p->workers && !rc; s++)
        rc = drnn_scratch_new_group(&t->scratch[s], &t->st->hp.model, p->max_len, p->group, err);
    return rc;
}

int drnn_trainer_new(drnn_trainer **out, drnn_train_state *st, const drnn_corpus *train,
                     const drnn_corpus *val, drnn_error *err)
{
    *out = NULL;
    int rc = check_data(st, train, val, err);
    if (rc)
        return rc;
    int max_len = drnn_longest_name(train), val_len = drnn_longest_name(val);
    if (val_len > max_len)
        max_len = val_len;
    drnn_plan plan;
    if ((rc = drnn_plan_make(&plan, &st->hp, max_len, train->count, drnn_max_threads(), err)))
        return rc;
    drnn_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    t->st = st;
    t->train = train;
    t->val = val;
    t->plan = plan;
    drnn_pacer_init(&t->pacer, plan.workers);
    if ((rc = alloc_buffers(t, err))) {
        drnn_trainer_free(t);
        return rc;
    }
    t->after_shuffle = shuffle_epoch(t); /* the order of the epoch st is in */
    *out = t;
    return drnn_ok(err);
}

void drnn_trainer_free(drnn_trainer *t)
{
    if (!t)
        return;
    for (int s = 0; t->scratch && s < t->plan.workers; s++)
        drnn_scratch_free(t->scratch[s]);
    drnn_reducer_free(&t->red);
    free(t->scratch);
    free(t->slot_keys);
    free(t->slot_order);
    free(t->order);
    free(t->names);
    free(t->lens);
    free(t->seeds);
    free(t->labels);
    free(t->busy);
    free(t);
}

void drnn_train_memory(drnn_memory *m, const drnn_hparams *hp, int max_len, size_t n_train,
                       int threads)
{
    drnn_plan p;
    drnn_plan_make(&p, hp, max_len, n_train, threads, NULL);
    memset(m, 0, sizeof *m);
    m->state = p.state_bytes;
    m->checkpoint = m->state;
    m->gradients = p.gradient_bytes;
    m->workspaces = p.workers * p.workspace_bytes + p.shuffle_bytes;
    m->total = m->state + m->checkpoint + m->gradients + m->workspaces;
}

int drnn_trainer_distribute(drnn_trainer *t, const drnn_exchange *x, drnn_error *err)
{
    return drnn_reducer_distribute(&t->red, x, err);
}

/* The dropout masks of the j-th name of the mini-batch at a given step: a
 * function of the run's seed and position alone, so neither the thread
 * count nor a resume can change them. */
static uint64_t dropout_seed(uint64_t seed, int64_t step, size_t j)
{
    return seed * 0x9e3779b97f4a7c15ULL + (uint64_t)step * 0xbf58476d1ce4e5b9ULL + j;
}

/* Names [pos, pos + b) of the epoch's order: their tokens, lengths and
 * dropout seeds, and the layer-0 rows they read, by slot. */
static void gather_batch(drnn_trainer *t, size_t pos, size_t b, int slots)
{
    const drnn_corpus *c = t->train;
    for (size_t j = 0; j < b; j++) {
        size_t name = t->order[pos + j];
        t->names[j] = c->tokens + c->start[name];
        t->lens[j] = drnn_corpus_len(c, name);
        t->seeds[j] = dropout_seed(drnn_state_member_seed(t->st), t->st->step, j);
        t->labels[j] = c->labels ? c->labels[name] : 0;
    }
    drnn_reducer_mark_rows(&t->red, t->names, t->lens, b, slots);
}

_Static_assert(DRNN_MAX_SLOTS < 2048, "a slot's index fits in a sort key's 11 low bits");

/* Descending order of int64 keys, for qsort. */
static int descending(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* Slots lo..hi-1 in t->slot_order by their characters, most first (ties by
 * index): taken in that order by the threads, the last to finish is a short
 * one, and the others wait less at the step's end. Each slot writes its own
 * buffer, so the order changes no bit. A key is the characters times 2^11
 * and the slot's index from the end (slots < 2^11). */
static void longest_first(drnn_trainer *t, size_t b, int slots, int lo, int hi)
{
    int64_t *key = t->slot_keys;
    for (int s = lo; s < hi; s++) {
        int64_t chars = 0;
        for (size_t j = (size_t)s * b / slots; j < (size_t)(s + 1) * b / slots; j++)
            chars += t->lens[j] + 1;
        key[s - lo] = chars * 2048 + (2047 - s);
    }
    qsort(key, (size_t)(hi - lo), sizeof *key, descending);
    for (int i = 0; i < hi - lo; i++)
        t->slot_order[i] = 2047 - (int)(key[i] & 2047);
}

static double seconds_between(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) + 1e-9 * (double)(t1->tv_nsec - t0->tv_nsec);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return seconds_between(t0, &t1);
}

/* Where a step's threads spent the slots' loop: each thread's seconds in
 * forward and BPTT, and in folding, averaged over the threads; and the
 * loop's wall time (the rest of it is the threads' wait for the last). */
typedef struct slot_times {
    double compute, fold, wall;
} slot_times;

/* Forward and BPTT of each slot's names into the slot's own gradient
 * buffer, slots in parallel on `threads` threads, each slot folded into
 * the sum's tree by the thread that computed it (reduce.c); slot s takes
 * names [s*b/slots, (s+1)*b/slots) as one group (the same gradient, bit
 * for bit, as one name after another). A process of a distributed run
 * computes its own slots only. */
static slot_times forward_backward(drnn_trainer *t, size_t b, int slots, int threads)
{
    drnn_train_state *st = t->st;
    int lo, hi;
    drnn_reducer_own(&t->red, slots, &lo, &hi);
    const int mine = hi - lo;
    threads = drnn_threads_within(threads, (size_t)mine);
    longest_first(t, b, slots, lo, hi);
    drnn_reducer_begin(&t->red, slots, threads);
    memset(t->busy, 0, (size_t)t->plan.workers * BUSY_STRIDE * sizeof *t->busy);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int team = 1; /* the threads the runtime gave */
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(mine > 1) num_threads(threads))
    for (int i = 0; i < mine; i++) {
        const int s = t->slot_order[i], me = drnn_thread_index();
        if (i == 0)
            team = drnn_team_threads();
        drnn_scratch *work = t->scratch[me];
        const size_t first = (size_t)s * b / slots, end = (size_t)(s + 1) * b / slots;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        drnn_scratch_set_dropout(work, st->hp.dropout);
        t->red.slot_loss[s] = drnn_group_loss_rows(&st->weights, work, t->names + first,
                                                   t->labels + first, t->lens + first,
                                                   (int)(end - first), t->seeds + first,
                                                   &t->red.grad[s]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        drnn_reducer_fold(&t->red, s, slots);
        t->busy[me * BUSY_STRIDE] += seconds_between(&t0, &t1);
        t->busy[me * BUSY_STRIDE + 1] += seconds_since(&t1);
    }
    slot_times times = {0, 0, seconds_since(&start)};
    for (int w = 0; w < team; w++) {
        times.compute += t->busy[w * BUSY_STRIDE] / team;
        times.fold += t->busy[w * BUSY_STRIDE + 1] / team;
    }
    return times;
}

/* One mini-batch of b names from position pos of the epoch: the training
 * step, as a list of its parts. */
static int train_step(drnn_trainer *t, size_t pos, size_t b, double lr,
                      const volatile sig_atomic_t *stop, drnn_epoch_report *rep, drnn_error *err)
{
    drnn_train_state *st = t->st;
    drnn_reducer *red = &t->red;
    const int slots = b < (size_t)t->plan.slots ? (int)b : t->plan.slots;
    const int threads = drnn_pacer_threads(&t->pacer);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gather_batch(t, pos, b, slots);
    const double gathered = seconds_since(&t0);
    const slot_times loop = forward_backward(t, b, slots, threads);
    int64_t chars = 0;
    for (size_t j = 0; j < b; j++)
        chars += t->lens[j] + 1;
    const drnn_real scale = (drnn_real)(1.0 / (double)chars);
    double loss = 0, norm2 = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int rc = drnn_reducer_sum(red, slots, scale, threads, stop, &loss, &norm2,
                              &rep->exchange_seconds, err);
    if (rc)
        return rc;
    const double summed = seconds_since(&ts);
    if (!isfinite(loss) || !isfinite(norm2)) {
        drnn_reducer_clear_rows(red, slots);
        return drnn_fail(err, DRNN_ERR_NONFINITE,
                         "the %s became non-finite at epoch %lld, step %lld: lower the "
                         "learning rate or tighten clipping",
                         isfinite(loss) ? "gradient" : "loss", (long long)st->epoch + 1,
                         (long long)st->step + 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    drnn_clip_gradient(red->grad[0].data, red->grad[0].count, &st->hp, norm2, threads);
    drnn_optimizer_step(st, red->grad[0].data, lr, threads);
    drnn_reducer_clear_rows(red, slots);
    const double updated = seconds_since(&t1), whole = seconds_since(&t0);
    drnn_pacer_step(&t->pacer, chars, whole, loop.wall - loop.compute - loop.fold);
    rep->step_seconds += whole;
    rep->gather_seconds += gathered;
    rep->compute_seconds += loop.compute;
    rep->sum_seconds += loop.fold + summed;
    rep->wait_seconds += loop.wall - loop.compute - loop.fold;
    rep->update_seconds += updated;
    rep->threads = t->pacer.now; /* the count chosen, not a trial's */
    st->step++;
    st->epoch_pos = (int64_t)(pos + b);
    st->epoch_loss += loss;
    st->epoch_chars += chars;
    rep->chars += chars;
    return DRNN_OK;
}

/* The end of an epoch: counters, the next epoch's order, validation and
 * the best loss so far. */
static void finish_epoch(drnn_trainer *t, drnn_epoch_report *rep)
{
    drnn_train_state *st = t->st;
    rep->finished = 1;
    st->epoch++;
    st->epoch_pos = 0;
    st->epoch_loss = 0;
    st->epoch_chars = 0;
    st->rng = t->after_shuffle;
    t->after_shuffle = shuffle_epoch(t);
    double score = rep->train_loss;
    if (t->val && t->val->count > 0)
        score = rep->val_loss = drnn_trainer_evaluate(t, t->val);
    rep->improved = drnn_state_end_epoch(st, score, &rep->lr_decayed);
}

int drnn_trainer_epoch(drnn_trainer *t, int64_t max_steps, const volatile sig_atomic_t *stop,
                       drnn_epoch_report *rep, drnn_error *err)
{
    drnn_train_state *st = t->st;
    const size_t n = t->train->count, batch = (size_t)st->hp.batch;
    const double lr = drnn_state_learning_rate(st);
    memset(rep, 0, sizeof *rep);
    rep->val_loss = NAN;
    rep->lr = lr;
    /* A caller that put another state's generator in place (a checkpoint
     * loaded into the same struct) gets that state's order. */
    if (memcmp(&t->shuffled_from, &st->rng, sizeof st->rng) != 0)
        t->after_shuffle = shuffle_epoch(t);
    size_t pos = (size_t)st->epoch_pos;
    for (int64_t steps = 0; pos < n; steps++, pos += batch) {
        int sig = drnn_reducer_stop(&t->red, stop);
        if (sig) {
            rep->stopped = sig;
            break;
        }
        if (max_steps > 0 && steps == max_steps)
            break;
        int rc = train_step(t, pos, n - pos < batch ? n - pos : batch, lr, stop, rep, err);
        if (rc)
            return rc;
    }
    rep->train_loss = st->epoch_chars ? st->epoch_loss / (double)st->epoch_chars : NAN;
    if (pos >= n)
        finish_epoch(t, rep);
    return drnn_ok(err);
}

double drnn_trainer_evaluate(drnn_trainer *t, const drnn_corpus *c)
{
    if (!c || c->count == 0 || drnn_longest_name(c) > t->plan.max_len)
        return NAN;
    int64_t chars;
    double nats = drnn_evaluate_chunks(&t->st->weights, c, t->scratch, t->plan.workers,
                                       t->plan.group, &chars);
    return nats / (double)chars;
}

