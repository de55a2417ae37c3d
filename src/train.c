/* train.c: hyperparameters, the state of a run, and mini-batch training:
 * per-slot forward/BPTT in parallel, an ordered reduction, clipping and one
 * optimizer update, each a single loop over the flat parameter buffers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/train.h"
#include "internal.h"
#include "kernels.h"

/* Parameters per chunk of the reduction; fixed, so that the partial sums of
 * the gradient norm are the same whatever the thread count. */
#define REDUCE_CHUNK 4096

/* Below this many parameters the loops over the flat buffers run on one
 * thread: waking the others costs more than the loop (config (a), 5,000
 * parameters, spent a quarter of its time in OpenMP barriers). */
#define PARALLEL_MIN_PARAMS 65536

/* Names evaluated at once, at most: enough for the products over steps to
 * reuse each weight, few enough for the activations to stay in cache. The
 * trainer's workspaces take fewer (a slot's names), drnn_evaluate's this. */
#define EVAL_GROUP 16

void drnn_hparams_default(drnn_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->model.hidden = 128;
    hp->model.layers = 2;
    hp->model.cell = DRNN_CELL_GRU;
    hp->batch = 32;
    hp->optimizer = DRNN_OPT_ADAM;
    hp->lr = 3e-3;
    hp->momentum = 0;
    hp->dropout = 0.3;
    hp->beta1 = 0.9;
    hp->beta2 = 0.999;
    hp->eps = 1e-8;
    hp->clip_mode = DRNN_CLIP_NORM;
    hp->clip = 5;
    hp->schedule = DRNN_SCHED_CONSTANT;
    hp->step_epochs = 10;
    hp->step_gamma = 0.5;
    hp->cosine_epochs = 30;
    hp->lr_min = 0;
    hp->seed = 1;
    hp->val_fraction = 0.1;
}

static int in_range(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

int drnn_hparams_check(const drnn_hparams *hp, drnn_error *err)
{
    drnn_config model = hp->model;
    if (model.vocab == 0)
        model.vocab = 2; /* not known until the data is read */
    int rc = drnn_config_check(&model, err);
    if (rc)
        return rc;
    if (hp->batch < 1 || hp->batch > DRNN_MAX_BATCH)
        return drnn_fail(err, DRNN_ERR_INVALID, "batch size %d is outside 1..%d", hp->batch,
                         DRNN_MAX_BATCH);
    if ((unsigned)hp->optimizer >= DRNN_OPT_COUNT)
        return drnn_fail(err, DRNN_ERR_INVALID, "unknown optimizer %d", (int)hp->optimizer);
    if (!in_range(hp->lr, 1e-12, 100))
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "learning rate %g is out of range (must be >= 1e-12 and <= 100)", hp->lr);
    if (!in_range(hp->momentum, 0, 0.999999))
        return drnn_fail(err, DRNN_ERR_INVALID, "momentum %g is outside [0, 1)", hp->momentum);
    if (!in_range(hp->beta1, 0, 0.999999) || !in_range(hp->beta2, 0, 0.999999))
        return drnn_fail(err, DRNN_ERR_INVALID, "Adam betas (%g, %g) must be in [0, 1)",
                         hp->beta1, hp->beta2);
    if (!in_range(hp->eps, 1e-30, 1))
        return drnn_fail(err, DRNN_ERR_INVALID, "epsilon %g is outside (0, 1]", hp->eps);
    if (!in_range(hp->dropout, 0, 0.99))
        return drnn_fail(err, DRNN_ERR_INVALID, "dropout %g is outside [0, 0.99]", hp->dropout);
    if (!in_range(hp->weight_decay, 0, 10))
        return drnn_fail(err, DRNN_ERR_INVALID, "weight decay %g is outside [0, 10]",
                         hp->weight_decay);
    if ((unsigned)hp->clip_mode >= DRNN_CLIP_COUNT)
        return drnn_fail(err, DRNN_ERR_INVALID, "unknown clipping mode %d", (int)hp->clip_mode);
    if (!in_range(hp->clip, 0, 1e30))
        return drnn_fail(err, DRNN_ERR_INVALID, "clipping bound %g must be >= 0 (0: none)",
                         hp->clip);
    if ((unsigned)hp->schedule >= DRNN_SCHED_COUNT)
        return drnn_fail(err, DRNN_ERR_INVALID, "unknown schedule %d", (int)hp->schedule);
    if (hp->step_epochs < 1 || !in_range(hp->step_gamma, 1e-12, 1))
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "step decay needs a period >= 1 epoch and a factor in (0, 1]");
    if (hp->cosine_epochs < 1 || !in_range(hp->lr_min, 0, hp->lr))
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "cosine decay needs a length >= 1 epoch and a floor in [0, lr]");
    if (!in_range(hp->val_fraction, 0, 1) || hp->val_fraction >= 1)
        return drnn_fail(err, DRNN_ERR_INVALID, "validation fraction %g is outside [0, 1)",
                         hp->val_fraction);
    return drnn_ok(err);
}

const char *drnn_optimizer_name(drnn_optimizer o)
{
    static const char *const names[DRNN_OPT_COUNT] = {"sgd", "adagrad", "adam"};
    return (unsigned)o < DRNN_OPT_COUNT ? names[o] : NULL;
}

const char *drnn_clip_mode_name(drnn_clip_mode m)
{
    static const char *const names[DRNN_CLIP_COUNT] = {"norm", "value"};
    return (unsigned)m < DRNN_CLIP_COUNT ? names[m] : NULL;
}

const char *drnn_schedule_name(drnn_schedule s)
{
    static const char *const names[DRNN_SCHED_COUNT] = {"constant", "step", "cosine"};
    return (unsigned)s < DRNN_SCHED_COUNT ? names[s] : NULL;
}

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

/* ---- the state of a run ---- */

static int moments_needed(drnn_optimizer o, int which)
{
    if (which == 1)
        return o == DRNN_OPT_ADAM || o == DRNN_OPT_SGD;
    return o == DRNN_OPT_ADAM || o == DRNN_OPT_ADAGRAD;
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
    st->vocab = *vocab;
    if ((rc = drnn_params_alloc(&st->weights, &st->hp.model, err)))
        goto fail;
    /* Moments an optimizer does not use stay unallocated (count 0). */
    if (moments_needed(hp->optimizer, 1) && (rc = drnn_params_alloc(&st->moment1, &st->hp.model, err)))
        goto fail;
    if (moments_needed(hp->optimizer, 2) && (rc = drnn_params_alloc(&st->moment2, &st->hp.model, err)))
        goto fail;
    st->data_path = strdup(data_path ? data_path : "");
    if (!st->data_path) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    drnn_rng init;
    drnn_rng_seed(&init, hp->seed);
    drnn_params_init(&st->weights, &init);
    /* The shuffles draw from their own stream, so that changing the
     * initialisation never changes the order of the names. */
    drnn_rng_seed(&st->rng, hp->seed ^ 0x73687566666c6531ULL /* "shuffle1" */);
    st->best_val_loss = HUGE_VAL;
    st->best_epoch = -1;
    st->data_fingerprint = data_fingerprint;
    st->val_fingerprint = val_fingerprint;
    return drnn_ok(err);
fail:
    drnn_state_free(st);
    return rc;
}

void drnn_state_free(drnn_train_state *st)
{
    drnn_params_free(&st->weights);
    drnn_params_free(&st->moment1);
    drnn_params_free(&st->moment2);
    free(st->data_path);
    memset(st, 0, sizeof *st);
}

/* ---- the trainer ---- */

struct drnn_trainer {
    drnn_train_state *st;
    const drnn_corpus *train, *val;
    int slots;                          /* gradient slots allocated */
    int max_len;                        /* longest name the workspaces take */
    drnn_params grad[DRNN_GRAD_SLOTS];  /* per-slot gradient sums */
    int workers;                        /* workspaces: one per thread, at most slots */
    int group;                          /* names a workspace takes at once */
    drnn_scratch *scratch[DRNN_GRAD_SLOTS];
    double slot_loss[DRNN_GRAD_SLOTS];
    int64_t slot_chars[DRNN_GRAD_SLOTS];
    uint32_t *order;                    /* [train->count] this epoch's shuffle (4 bytes a name) */
    size_t chunks;                      /* reduction chunks */
    double *chunk_sq;                   /* [chunks] partial sums of squares */
};

static int longest_name(const drnn_corpus *c)
{
    int n = 0;
    for (size_t i = 0; c && i < c->count; i++)
        if (drnn_corpus_len(c, i) > n)
            n = drnn_corpus_len(c, i);
    return n;
}

int drnn_trainer_new(drnn_trainer **out, drnn_train_state *st, const drnn_corpus *train,
                     const drnn_corpus *val, drnn_error *err)
{
    *out = NULL;
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
    drnn_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    t->st = st;
    t->train = train;
    t->val = val;
    int max_len = longest_name(train), val_len = longest_name(val);
    if (val_len > max_len)
        max_len = val_len;
    t->max_len = max_len;
    t->slots = st->hp.batch < DRNN_GRAD_SLOTS ? st->hp.batch : DRNN_GRAD_SLOTS;
    /* Gradients need one buffer per slot for the sums to be independent of
     * the thread count; workspaces only one per thread that can run. */
    int threads = drnn_max_threads();
    t->workers = threads < t->slots ? threads : t->slots;
    int rc = DRNN_OK;
    for (int s = 0; s < t->slots && !rc; s++)
        rc = drnn_params_alloc(&t->grad[s], &st->hp.model, err);
    t->group = (st->hp.batch + t->slots - 1) / t->slots;
    for (int s = 0; s < t->workers && !rc; s++)
        rc = drnn_scratch_new_group(&t->scratch[s], &st->hp.model, max_len, t->group, err);
    if (rc) {
        drnn_trainer_free(t);
        return rc;
    }
    t->chunks = (st->weights.count + REDUCE_CHUNK - 1) / REDUCE_CHUNK;
    t->order = calloc(train->count, sizeof *t->order);
    t->chunk_sq = calloc(t->chunks, sizeof *t->chunk_sq);
    if (!t->order || !t->chunk_sq) {
        drnn_trainer_free(t);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return drnn_ok(err);
}

void drnn_train_memory(drnn_memory *m, const drnn_hparams *hp, int max_len, size_t n_train,
                       int threads)
{
    memset(m, 0, sizeof *m);
    const double params = (double)drnn_param_count(&hp->model) * sizeof(drnn_real);
    /* The same slots, groups and workers as drnn_trainer_new. */
    int slots = hp->batch < DRNN_GRAD_SLOTS ? hp->batch : DRNN_GRAD_SLOTS;
    if (slots < 1)
        slots = 1;
    int group = (hp->batch + slots - 1) / slots;
    if (threads > DRNN_MAX_THREADS)
        threads = DRNN_MAX_THREADS;
    int workers = threads < slots ? threads : slots;
    if (workers < 1)
        workers = 1;
    m->state = params * (1 + moments_needed(hp->optimizer, 1) + moments_needed(hp->optimizer, 2));
    m->checkpoint = m->state;
    m->gradients = params * slots;
    m->workspaces = workers * drnn_scratch_bytes(&hp->model, max_len, group) +
                    (double)n_train * sizeof(uint32_t);
    m->total = m->state + m->checkpoint + m->gradients + m->workspaces;
}

void drnn_trainer_free(drnn_trainer *t)
{
    if (!t)
        return;
    for (int s = 0; s < t->slots; s++)
        drnn_params_free(&t->grad[s]);
    for (int s = 0; s < t->workers; s++)
        drnn_scratch_free(t->scratch[s]);
    free(t->order);
    free(t->chunk_sq);
    free(t);
}

/* sum x[i]^2 in double, in 8 interleaved running sums added pairwise at the
 * end: a fixed order, without one long chain of dependent additions. */
static double sum_squares(const drnn_real *x, size_t n)
{
    double p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        p0 += (double)x[i] * x[i], p1 += (double)x[i + 1] * x[i + 1];
        p2 += (double)x[i + 2] * x[i + 2], p3 += (double)x[i + 3] * x[i + 3];
        p4 += (double)x[i + 4] * x[i + 4], p5 += (double)x[i + 5] * x[i + 5];
        p6 += (double)x[i + 6] * x[i + 6], p7 += (double)x[i + 7] * x[i + 7];
    }
    for (; i < n; i++)
        p0 += (double)x[i] * x[i];
    return ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
}

/* grad[0] = scale * (grad[0] + ... + grad[slots-1]), summed in slot order;
 * returns the squared norm of the result. */
static double reduce_gradients(drnn_trainer *t, int slots, drnn_real scale)
{
    const size_t n = t->grad[0].count;
    drnn_real *const g0 = t->grad[0].data;
    DRNN_OMP(omp parallel for schedule(static) if(n >= PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_for(t->chunks)))
    for (size_t c = 0; c < t->chunks; c++) {
        size_t end = (c + 1) * REDUCE_CHUNK < n ? (c + 1) * REDUCE_CHUNK : n;
        drnn_real *g = g0 + c * REDUCE_CHUNK;
        const size_t len = end - c * REDUCE_CHUNK;
        for (int s = 1; s < slots; s++) {
            const drnn_real *gs = t->grad[s].data + c * REDUCE_CHUNK;
            for (size_t i = 0; i < len; i++)
                g[i] += gs[i];
        }
        for (size_t i = 0; i < len; i++)
            g[i] *= scale;
        t->chunk_sq[c] = sum_squares(g, len);
    }
    double total = 0;
    for (size_t c = 0; c < t->chunks; c++)
        total += t->chunk_sq[c];
    return total;
}

/* The optimizers' arithmetic on one vector of parameters. Every multiply-add
 * is an explicit FMA and sqrt and division are correctly rounded in any
 * form, so a parameter's new value is the same in whichever vector it
 * falls: a thread split or a tail changes no bit. */
typedef struct update_consts {
    drnn_vec gscale, rate, mu, eps, b1, one_b1, b2, one_b2, c1, c2, wd;
} update_consts;

static inline void sgd_step(drnn_vec *w, drnn_vec *m, drnn_vec *v, drnn_vec g,
                            const update_consts *k)
{
    (void)v;
    g = vfma(k->wd, *w, g); /* L2 */
    *m = vfma(k->mu, *m, g);
    *w = vfma(-k->rate, *m, *w);
}

static inline void adagrad_step(drnn_vec *w, drnn_vec *m, drnn_vec *v, drnn_vec g,
                                const update_consts *k)
{
    (void)m;
    g = vfma(k->wd, *w, g);
    *v = vfma(g, g, *v);
    *w = vfma(-k->rate, g / (vsqrt(*v) + k->eps), *w);
}

static inline void adam_step(drnn_vec *w, drnn_vec *m, drnn_vec *v, drnn_vec g,
                             const update_consts *k)
{
    *m = vfma(k->b1, *m, k->one_b1 * g);
    *v = vfma(k->b2, *v, (k->one_b2 * g) * g);
    /* AdamW: the decay acts on the weight, outside the moments. */
    drnn_vec u = (*m * k->c1) / (vsqrt(*v * k->c2) + k->eps);
    *w = vfma(-k->rate, vfma(k->wd, *w, u), *w);
}

typedef void update_step(drnn_vec *w, drnn_vec *m, drnn_vec *v, drnn_vec g,
                         const update_consts *k);

/* Applies step to parameters [lo, hi), vector by vector; a last partial
 * vector runs padded with zeros through the same code. m or v may be NULL
 * (a moment the optimizer does not keep). Called with a constant step,
 * which the compiler inlines. */
static inline DRNN_ALWAYS_INLINE void update_range(update_step *step, drnn_real *w, drnn_real *m,
                                                   drnn_real *v, const drnn_real *grad, size_t lo,
                                                   size_t hi, const update_consts *k)
{
    size_t i = lo;
    for (; i + VL <= hi; i += VL) {
        drnn_vec wv = vload(w + i), mv = m ? vload(m + i) : vsplat(0);
        drnn_vec vv = v ? vload(v + i) : vsplat(0);
        step(&wv, &mv, &vv, vload(grad + i) * k->gscale, k);
        vstore(w + i, wv);
        if (m)
            vstore(m + i, mv);
        if (v)
            vstore(v + i, vv);
    }
    if (i == hi)
        return;
    const size_t rest = (hi - i) * sizeof *w;
    drnn_real tw[VL] = {0}, tm[VL] = {0}, tv[VL] = {0}, tg[VL] = {0};
    memcpy(tw, w + i, rest);
    memcpy(tg, grad + i, rest);
    if (m)
        memcpy(tm, m + i, rest);
    if (v)
        memcpy(tv, v + i, rest);
    drnn_vec wv = vload(tw), mv = vload(tm), vv = vload(tv);
    step(&wv, &mv, &vv, vload(tg) * k->gscale, k);
    vstore(tw, wv), vstore(tm, mv), vstore(tv, vv);
    memcpy(w + i, tw, rest);
    if (m)
        memcpy(m + i, tm, rest);
    if (v)
        memcpy(v + i, tv, rest);
}

/* Clips the reduced gradient (which it may overwrite) and applies one
 * optimizer step. */
static void update(drnn_train_state *st, drnn_real *grad, double norm2, double lr)
{
    const drnn_hparams *hp = &st->hp;
    const size_t n = st->weights.count;
    drnn_real *w = st->weights.data, *m = st->moment1.data, *v = st->moment2.data;
    const int parallel = n >= PARALLEL_MIN_PARAMS;
    drnn_real gscale = 1;
    if (hp->clip > 0 && hp->clip_mode == DRNN_CLIP_NORM && norm2 > hp->clip * hp->clip)
        gscale = (drnn_real)(hp->clip / sqrt(norm2));
    const int by_value = hp->clip > 0 && hp->clip_mode == DRNN_CLIP_VALUE;
    const drnn_real bound = (drnn_real)hp->clip;
    /* Adam's bias corrections folded into the step size, in double. */
    const double t = (double)(st->step + 1);
    const update_consts k = {
        .gscale = vsplat(gscale),
        .rate = vsplat((drnn_real)lr),
        .mu = vsplat((drnn_real)hp->momentum),
        .eps = vsplat((drnn_real)hp->eps),
        .b1 = vsplat((drnn_real)hp->beta1),
        .one_b1 = vsplat((drnn_real)(1 - hp->beta1)),
        .b2 = vsplat((drnn_real)hp->beta2),
        .one_b2 = vsplat((drnn_real)(1 - hp->beta2)),
        .c1 = vsplat((drnn_real)(1.0 / (1.0 - pow(hp->beta1, t)))),
        .c2 = vsplat((drnn_real)(1.0 / (1.0 - pow(hp->beta2, t)))),
        .wd = vsplat((drnn_real)hp->weight_decay),
    };
    /* Threads take whole chunks of REDUCE_CHUNK parameters (a multiple of
     * the vector width), the ones the reduction gave them. */
    const size_t chunks = (n + REDUCE_CHUNK - 1) / REDUCE_CHUNK;
    DRNN_OMP(omp parallel for schedule(static) if(parallel) num_threads(drnn_threads_for(chunks)))
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * REDUCE_CHUNK, hi = lo + REDUCE_CHUNK < n ? lo + REDUCE_CHUNK : n;
        if (by_value) /* a selection, exact in any form */
            for (size_t i = lo; i < hi; i++)
                grad[i] = grad[i] > bound ? bound : grad[i] < -bound ? -bound : grad[i];
        switch (hp->optimizer) {
        case DRNN_OPT_SGD:
            update_range(sgd_step, w, m, v, grad, lo, hi, &k);
            break;
        case DRNN_OPT_ADAGRAD:
            update_range(adagrad_step, w, m, v, grad, lo, hi, &k);
            break;
        default:
            update_range(adam_step, w, m, v, grad, lo, hi, &k);
            break;
        }
    }
}

/* The slots' losses and character counts, summed in slot order. */
static double sum_slots(const drnn_trainer *t, int slots, int64_t *chars)
{
    double loss = 0;
    *chars = 0;
    for (int s = 0; s < slots; s++) {
        loss += t->slot_loss[s];
        *chars += t->slot_chars[s];
    }
    return loss;
}

/* The dropout masks of the j-th name of the mini-batch at a given step: a
 * function of the run's seed and position alone, so neither the thread
 * count nor a resume can change them. */
static uint64_t dropout_seed(uint64_t seed, int64_t step, size_t j)
{
    return seed * 0x9e3779b97f4a7c15ULL + (uint64_t)step * 0xbf58476d1ce4e5b9ULL + j;
}

/* This epoch's order of the training names, from the generator as it was
 * when the epoch began; returns the generator as it is after the shuffle. */
static drnn_rng shuffle_epoch(drnn_trainer *t)
{
    drnn_rng rng = t->st->rng;
    size_t n = t->train->count;
    for (size_t i = 0; i < n; i++)
        t->order[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)drnn_rng_below(&rng, i + 1);
        uint32_t tmp = t->order[i];
        t->order[i] = t->order[j];
        t->order[j] = tmp;
    }
    return rng;
}

int drnn_trainer_epoch(drnn_trainer *t, int64_t max_steps, const volatile sig_atomic_t *stop,
                       drnn_epoch_report *rep, drnn_error *err)
{
    drnn_train_state *st = t->st;
    const drnn_corpus *c = t->train;
    const size_t n = c->count;
    const double lr = drnn_learning_rate(&st->hp, st->epoch);
    drnn_rng after = shuffle_epoch(t);
    memset(rep, 0, sizeof *rep);
    rep->val_loss = NAN;

    size_t pos = (size_t)st->epoch_pos;
    for (int64_t steps = 0; pos < n; steps++) {
        if ((stop && *stop) || (max_steps > 0 && steps == max_steps))
            break;
        const size_t b = n - pos < (size_t)st->hp.batch ? n - pos : (size_t)st->hp.batch;
        const int slots = b < (size_t)t->slots ? (int)b : t->slots;
        /* Slot s takes names [s*b/slots, (s+1)*b/slots) of the mini-batch. */
        DRNN_OMP(omp parallel for schedule(dynamic, 1) if(slots > 1)
                 num_threads(slots < t->workers ? slots : t->workers))
        for (int s = 0; s < slots; s++) {
            drnn_scratch *work = t->scratch[drnn_thread_index()];
            /* The slot's names go through the model as one group: the same
             * gradient, bit for bit, as one name after another. */
            const drnn_token *names[DRNN_MAX_GROUP];
            int lens[DRNN_MAX_GROUP];
            uint64_t seeds[DRNN_MAX_GROUP];
            int count = 0;
            int64_t chars = 0;
            for (size_t j = (size_t)s * b / slots; j < (size_t)(s + 1) * b / slots; j++, count++) {
                size_t name = t->order[pos + j];
                names[count] = c->tokens + c->start[name];
                lens[count] = drnn_corpus_len(c, name);
                seeds[count] = dropout_seed(st->hp.seed, st->step, j);
                chars += lens[count] + 1;
            }
            drnn_scratch_set_dropout(work, st->hp.dropout, 0);
            t->slot_loss[s] = drnn_group_loss_grad_set(&st->weights, &t->grad[s], work, names,
                                                       lens, count, seeds);
            t->slot_chars[s] = chars;
        }
        int64_t chars;
        double loss = sum_slots(t, slots, &chars);
        double norm2 = reduce_gradients(t, slots, (drnn_real)(1.0 / (double)chars));
        if (!isfinite(loss) || !isfinite(norm2))
            return drnn_fail(err, DRNN_ERR_NONFINITE,
                             "the %s became non-finite at epoch %lld, step %lld: lower the "
                             "learning rate or tighten clipping",
                             isfinite(loss) ? "gradient" : "loss",
                             (long long)st->epoch + 1, (long long)st->step + 1);
        update(st, t->grad[0].data, norm2, lr);
        st->step++;
        pos += b;
        st->epoch_pos = (int64_t)pos;
        st->epoch_loss += loss;
        st->epoch_chars += chars;
        rep->chars += chars;
    }

    rep->train_loss = st->epoch_chars ? st->epoch_loss / (double)st->epoch_chars : NAN;
    if (pos < n)
        return drnn_ok(err);

    rep->finished = 1;
    st->epoch++;
    st->epoch_pos = 0;
    st->epoch_loss = 0;
    st->epoch_chars = 0;
    st->rng = after;
    double score = rep->train_loss;
    if (t->val && t->val->count > 0)
        score = rep->val_loss = drnn_trainer_evaluate(t, t->val);
    if (score < st->best_val_loss) {
        st->best_val_loss = score;
        st->best_epoch = st->epoch;
        rep->improved = 1;
    }
    return drnn_ok(err);
}

/* Loss of w over c in DRNN_EVAL_CHUNKS fixed chunks of names, each summed in
 * order, then summed in chunk order: the result depends neither on the
 * thread count nor on how many workspaces there are. Workspace s serves
 * chunks s, s + n_scratch, ... so that no two threads share one. */
static double evaluate_chunks(const drnn_params *w, const drnn_corpus *c, drnn_scratch **scratch,
                              int n_scratch, int group, int64_t *chars_out)
{
    if (group > EVAL_GROUP)
        group = EVAL_GROUP;
    double loss[DRNN_EVAL_CHUNKS];
    int64_t chars[DRNN_EVAL_CHUNKS];
    const size_t n = c->count;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) num_threads(drnn_threads_for((size_t)n_scratch)))
    for (int s = 0; s < n_scratch; s++) {
        drnn_scratch_set_dropout(scratch[s], 0, 0); /* evaluation never drops */
        for (int k = s; k < DRNN_EVAL_CHUNKS; k += n_scratch) {
            double sum = 0;
            int64_t count = 0;
            const size_t end = (size_t)(k + 1) * n / DRNN_EVAL_CHUNKS;
            for (size_t i = (size_t)k * n / DRNN_EVAL_CHUNKS; i < end;) {
                /* A group at a time; the losses still summed name by name. */
                const drnn_token *names[EVAL_GROUP];
                int lens[EVAL_GROUP], m = 0;
                double losses[EVAL_GROUP];
                for (; m < group && i < end; m++, i++) {
                    names[m] = c->tokens + c->start[i];
                    lens[m] = drnn_corpus_len(c, i);
                    count += lens[m] + 1;
                }
                if (drnn_group_losses(w, scratch[s], names, lens, m, losses)) {
                    sum = NAN; /* cannot happen: the workspaces fit every name */
                    break;
                }
                for (int j = 0; j < m; j++)
                    sum += losses[j];
            }
            loss[k] = sum;
            chars[k] = count;
        }
    }
    double total = 0;
    *chars_out = 0;
    for (int k = 0; k < DRNN_EVAL_CHUNKS; k++) {
        total += loss[k];
        *chars_out += chars[k];
    }
    return total;
}

double drnn_trainer_evaluate(drnn_trainer *t, const drnn_corpus *c)
{
    if (!c || c->count == 0 || longest_name(c) > t->max_len)
        return NAN;
    int64_t chars;
    return evaluate_chunks(&t->st->weights, c, t->scratch, t->workers, t->group, &chars) /
           (double)chars;
}

int drnn_evaluate(const drnn_params *w, const drnn_corpus *c, double *nats, int64_t *chars,
                  drnn_error *err)
{
    *nats = 0;
    *chars = 0;
    if (c->count == 0)
        return drnn_ok(err);
    drnn_scratch *scratch[DRNN_GRAD_SLOTS] = {NULL};
    int n = c->count < DRNN_GRAD_SLOTS ? (int)c->count : DRNN_GRAD_SLOTS;
    int rc = DRNN_OK;
    for (int s = 0; s < n && !rc; s++)
        rc = drnn_scratch_new_group(&scratch[s], &w->cfg, longest_name(c), EVAL_GROUP, err);
    if (!rc)
        *nats = evaluate_chunks(w, c, scratch, n, EVAL_GROUP, chars);
    for (int s = 0; s < n; s++)
        drnn_scratch_free(scratch[s]);
    return rc ? rc : drnn_ok(err);
}
