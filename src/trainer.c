/* trainer.c: the trainer: an epoch of mini-batches,
 * each one step (gather the names, forward and BPTT per gradient slot in
 * parallel, reduce the slots in order, clip, one optimizer step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dinornn/train.h"
#include "evaluate.h"
#include "internal.h"
#include "optim.h"
#include "state.h"

/* ---- the trainer ---- */

struct drnn_trainer {
    drnn_train_state *st;
    const drnn_corpus *train, *val;
    int slots;                          /* gradient slots: hp.slots, at most the batch */
    int max_len;                        /* longest name the workspaces take */
    drnn_params *grad;                  /* [slots] per-slot gradient sums (in a distributed
                                         * run only this process's and slot 0, the sum) */
    int workers;                        /* workspaces: one per thread, at most slots */
    int group;                          /* names a workspace takes at once */
    drnn_scratch **scratch;             /* [workers] */
    double *slot_loss;                  /* [slots] */
    int64_t *slot_keys;                 /* [slots] the step's slots' sort keys (characters, index) */
    int *slot_order;                    /* [slots] the step's slots, most characters first */
    uint32_t *order;                    /* [train->count] this epoch's shuffle (4 bytes a name) */
    drnn_rng shuffled_from;             /* the generator the order was drawn from, */
    drnn_rng after_shuffle;             /* and as the shuffle left it */
    const drnn_token **names;           /* [batch] the mini-batch: its names' tokens, */
    int *lens;                          /* [batch] lengths */
    uint64_t *seeds;                    /* [batch] and dropout seeds */
    size_t chunks;                      /* reduction chunks */
    double *chunk_sq;                   /* [chunks] partial sums of squares */
    unsigned char *live;                /* [chunks] 0: zero in every slot this mini-batch */
    drnn_token *rows;                   /* layer-0 rows the mini-batch's slots read */
    size_t *row_at;                     /* [slots + 1] slot s's are rows[row_at[s] .. row_at[s+1]) */
    drnn_exchange ex;                   /* the processes of a distributed run (ranks 1: alone) */
    int own_lo, own_hi;                 /* the slots this process computes */
    int stop_agreed;                    /* a distributed run's stop, agreed at the last step */
    drnn_real *stage;                   /* a distributed run's segment, packed for the exchange */
};

/* This epoch's order of the training names, from the generator as it was
 * when the epoch began; returns the generator as it is after the shuffle.
 * Drawn once per epoch: when the trainer is made, and at each epoch's end. */
static drnn_rng shuffle_epoch(drnn_trainer *t)
{
    drnn_rng rng = t->st->rng;
    t->shuffled_from = rng;
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
    int max_len = drnn_longest_name(train), val_len = drnn_longest_name(val);
    if (val_len > max_len)
        max_len = val_len;
    t->max_len = max_len;
    t->slots = st->hp.batch < st->hp.slots ? st->hp.batch : st->hp.slots;
    if (t->slots < 1 || t->slots > DRNN_MAX_SLOTS) {
        free(t);
        return drnn_fail(err, DRNN_ERR_INVALID, "--slots: %d is out of range (must be from 1 to %d)",
                         st->hp.slots, DRNN_MAX_SLOTS);
    }
    /* Gradients need one buffer per slot for the sums to be independent of
     * the thread count; workspaces only one per thread that can run. */
    int threads = drnn_max_threads();
    t->workers = threads < t->slots ? threads : t->slots;
    t->own_hi = t->slots;
    t->ex.ranks = 1;
    t->grad = calloc((size_t)t->slots, sizeof *t->grad);
    t->scratch = calloc((size_t)t->workers, sizeof *t->scratch);
    t->slot_loss = calloc((size_t)t->slots, sizeof *t->slot_loss);
    t->row_at = calloc((size_t)t->slots + 1, sizeof *t->row_at);
    t->slot_keys = calloc((size_t)t->slots, sizeof *t->slot_keys);
    t->slot_order = calloc((size_t)t->slots, sizeof *t->slot_order);
    if (!t->grad || !t->scratch || !t->slot_loss || !t->row_at || !t->slot_keys ||
        !t->slot_order) {
        drnn_trainer_free(t);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
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
    t->chunks = (st->weights.count + DRNN_CHUNK - 1) / DRNN_CHUNK;
    t->order = calloc(train->count, sizeof *t->order);
    t->chunk_sq = calloc(t->chunks, sizeof *t->chunk_sq);
    t->names = calloc((size_t)st->hp.batch, sizeof *t->names);
    t->lens = calloc((size_t)st->hp.batch, sizeof *t->lens);
    t->seeds = calloc((size_t)st->hp.batch, sizeof *t->seeds);
    t->live = calloc(t->chunks, sizeof *t->live);
    /* Each slot reads END and its names' symbols. */
    t->rows = calloc((size_t)st->hp.batch * (size_t)max_len + (size_t)t->slots, sizeof *t->rows);
    if (!t->order || !t->chunk_sq || !t->names || !t->lens || !t->seeds || !t->live || !t->rows) {
        drnn_trainer_free(t);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    t->after_shuffle = shuffle_epoch(t); /* the order of the epoch st is in */
    *out = t;
    return drnn_ok(err);
}

void drnn_train_memory(drnn_memory *m, const drnn_hparams *hp, int max_len, size_t n_train,
                       int threads)
{
    memset(m, 0, sizeof *m);
    const double params = (double)drnn_param_count(&hp->model) * sizeof(drnn_real);
    /* The same slots, groups and workers as drnn_trainer_new. */
    int slots = hp->batch < hp->slots ? hp->batch : hp->slots;
    if (slots < 1)
        slots = 1;
    int group = (hp->batch + slots - 1) / slots;
    if (threads > DRNN_MAX_THREADS)
        threads = DRNN_MAX_THREADS;
    int workers = threads < slots ? threads : slots;
    if (workers < 1)
        workers = 1;
    m->state = params * (1 + drnn_state_has_moment(hp->optimizer, 1) +
                         drnn_state_has_moment(hp->optimizer, 2) +
                         (hp->members > 1 ? hp->members : 0));
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
    for (int s = 0; t->grad && s < t->slots; s++)
        drnn_params_free(&t->grad[s]);
    for (int s = 0; t->scratch && s < t->workers; s++)
        drnn_scratch_free(t->scratch[s]);
    free(t->grad);
    free(t->scratch);
    free(t->slot_loss);
    free(t->row_at);
    free(t->slot_keys);
    free(t->slot_order);
    free(t->stage);
    free(t->order);
    free(t->chunk_sq);
    free(t->names);
    free(t->lens);
    free(t->seeds);
    free(t->live);
    free(t->rows);
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

/* ---- the sparse rows of the input layer ----
 * Layer 0's W_x has a row per token, and a mini-batch reads a few dozen of
 * them: the slots' gradients keep every other row zero (the model writes
 * only the rows read, drnn_group_loss_rows), the reduction skips the chunks
 * that hold no row read, and the rows are cleared after the step. Skipping
 * zeros changes no bit: a chunk of zeros sums to +0 and its squares add +0
 * to the norm. So a step's cost grows with V only in the output layer and
 * the optimizer's one pass over the weights. */

/* The start of layer 0's row of token v in the flat buffer, and its width. */
static size_t input_row(const drnn_params *p, drnn_token v, size_t *width)
{
    *width = (size_t)drnn_cell_gates(p->cfg.cell) * (size_t)p->cfg.hidden;
    return (size_t)(p->layer[0].W_x - p->data) + (size_t)v * *width;
}

/* Lists the rows of layer 0 that each slot's names read in the gathered
 * mini-batch of b names: slot s's are rows[row_at[s] .. row_at[s+1]),
 * END's row first, repeats included. */
static void list_rows(drnn_trainer *t, size_t b, int slots)
{
    size_t n = 0;
    for (int s = 0; s < slots; s++) {
        t->row_at[s] = n;
        t->rows[n++] = DRNN_END;
        for (size_t j = (size_t)s * b / slots; j < (size_t)(s + 1) * b / slots; j++) {
            memcpy(t->rows + n, t->names[j], (size_t)t->lens[j] * sizeof *t->rows);
            n += (size_t)t->lens[j];
        }
    }
    t->row_at[slots] = n;
}

/* Marks the chunks that can hold a non-zero gradient: all but those of
 * layer 0's rows, and those of the rows listed. */
static void mark_live_chunks(drnn_trainer *t, int slots)
{
    size_t width, rows_end = input_row(&t->grad[0], (drnn_token)t->st->hp.model.vocab, &width);
    size_t first_dense = rows_end / DRNN_CHUNK;
    memset(t->live, 0, first_dense);
    memset(t->live + first_dense, 1, t->chunks - first_dense);
    for (size_t i = 0; i < t->row_at[slots]; i++) {
        size_t lo = input_row(&t->grad[0], t->rows[i], &width);
        for (size_t k = lo / DRNN_CHUNK; k <= (lo + width - 1) / DRNN_CHUNK; k++)
            t->live[k] = 1;
    }
}

/* After the step, every slot's listed rows back to zero: slot 0, which
 * holds the sum, all of them; slot s > 0 its own (if this process has it). */
static void clear_rows(drnn_trainer *t, int slots)
{
    for (int s = 0; s < slots; s++) {
        drnn_params *g = &t->grad[s];
        if (!g->data)
            continue;
        size_t width = 0, end = t->row_at[s ? s + 1 : slots];
        for (size_t i = s ? t->row_at[s] : 0; i < end; i++) {
            size_t lo = input_row(g, t->rows[i], &width);
            memset(g->data + lo, 0, width * sizeof *g->data);
        }
    }
}

/* The parameters in chunk c (the last may be short). */
static size_t chunk_len(const drnn_trainer *t, size_t c)
{
    const size_t n = t->grad[0].count, at = c * DRNN_CHUNK;
    return (at + DRNN_CHUNK < n ? at + DRNN_CHUNK : n) - at;
}

/* Chunk c of grad[0] += grad[s0] + ... + grad[s1-1], one slot after
 * another: the order every process count and thread count share. */
static inline void add_slots(drnn_trainer *t, size_t c, int s0, int s1)
{
    const size_t at = c * DRNN_CHUNK, len = chunk_len(t, c);
    drnn_real *g = t->grad[0].data + at;
    for (int s = s0; s < s1; s++) {
        const drnn_real *gs = t->grad[s].data + at;
        for (size_t i = 0; i < len; i++)
            g[i] += gs[i];
    }
}

/* Chunk c of grad[0] *= scale; returns its sum of squares. */
static inline double scale_chunk(drnn_trainer *t, size_t c, drnn_real scale)
{
    const size_t at = c * DRNN_CHUNK, len = chunk_len(t, c);
    drnn_real *g = t->grad[0].data + at;
    for (size_t i = 0; i < len; i++)
        g[i] *= scale;
    return sum_squares(g, len);
}

/* The chunks' squares, in chunk order. */
static double sum_chunks(const drnn_trainer *t)
{
    double total = 0;
    for (size_t c = 0; c < t->chunks; c++)
        total += t->chunk_sq[c];
    return total;
}

/* grad[0] = scale * (grad[0] + ... + grad[slots-1]), summed in slot order;
 * returns the squared norm of the result. Chunks not live are zero in
 * every slot and stay so. */
static double reduce_gradients(drnn_trainer *t, int slots, drnn_real scale)
{
    DRNN_OMP(omp parallel for schedule(static) if(t->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_for(t->chunks)))
    for (size_t c = 0; c < t->chunks; c++) {
        if (!t->live[c]) {
            t->chunk_sq[c] = 0;
            continue;
        }
        add_slots(t, c, 1, slots);
        t->chunk_sq[c] = scale_chunk(t, c, scale);
    }
    return sum_chunks(t);
}

/* The slots' losses, summed in slot order. */
static double sum_slots(const drnn_trainer *t, int slots)
{
    double loss = 0;
    for (int s = 0; s < slots; s++)
        loss += t->slot_loss[s];
    return loss;
}

/* ---- a distributed run ----
 * Process r computes slots [own_lo, own_hi). The sum travels along the
 * processes 0, 1, .., ranks-1, each adding its slots to it in order, so
 * that every addition is the one a single process makes, in the same
 * order: the bits cannot depend on the process count. It travels in
 * segments, so that process r+1 adds to one while r adds to the next; the
 * last process then sends the finished sum to all. Each process sends and
 * receives the live part of the gradient (4 bytes a parameter) once along
 * the chain and once back, and a small head. A segment packs up to 16 live
 * chunks, adjacent or not: the few rows of a large vocabulary's W_x[0]
 * that a mini-batch reads go in a few messages, not one each. */

/* Chunks a segment packs at most: 65,536 floats, 256 KiB. */
#define SEGMENT_CHUNKS 16

/* What travels ahead of the gradient: the loss summed so far, and the
 * largest stop request (a signal number) of the processes so far. */
typedef struct chain_head {
    double loss;
    int32_t stop;
    int32_t reserved;
} chain_head;

/* The next segment: up to SEGMENT_CHUNKS live chunks from chunk *c on, into
 * seg[]; returns how many (0: none left), and their floats in *floats. */
static int next_segment(const drnn_trainer *t, size_t *c, size_t *seg, size_t *floats)
{
    int k = 0;
    *floats = 0;
    for (; *c < t->chunks && k < SEGMENT_CHUNKS; (*c)++)
        if (t->live[*c]) {
            seg[k++] = *c;
            *floats += chunk_len(t, *c);
        }
    return k;
}

/* The segment's chunks of grad[0] into the stage, one after another, or back. */
static void pack(drnn_trainer *t, const size_t *seg, int k, int back)
{
    drnn_real *p = t->stage;
    for (int i = 0; i < k; i++) {
        size_t len = chunk_len(t, seg[i]);
        drnn_real *g = t->grad[0].data + seg[i] * DRNN_CHUNK;
        memcpy(back ? g : p, back ? p : g, len * sizeof *p);
        p += len;
    }
}

static int exchange_failed(drnn_error *err, const char *what)
{
    return drnn_fail(err, DRNN_ERR_IO, "the processes of the run could not exchange %s", what);
}

/* grad[0] = the sum of every slot in slot order, on every process, and the
 * loss and the stop request of the whole mini-batch. */
static int exchange_gradients(drnn_trainer *t, int slots, double *loss,
                              const volatile sig_atomic_t *stop, drnn_error *err)
{
    const drnn_exchange *x = &t->ex;
    const int prev = x->rank - 1, next = x->rank + 1 < x->ranks ? x->rank + 1 : -1;
    const int last = x->ranks - 1;
    const int lo = t->own_lo < slots ? t->own_lo : slots, hi = t->own_hi < slots ? t->own_hi : slots;
    chain_head head = {0, 0, 0};
    if (prev >= 0 && x->recv(x->ctx, &head, sizeof head, prev))
        return exchange_failed(err, "the loss");
    for (int s = lo; s < hi; s++)
        head.loss += t->slot_loss[s];
    int mine = stop ? (int)*stop : 0;
    if (mine > head.stop)
        head.stop = mine;
    if (next >= 0 && x->send(x->ctx, &head, sizeof head, next))
        return exchange_failed(err, "the loss");
    const size_t n = t->grad[0].count, bytes = sizeof *t->stage;
    size_t seg[SEGMENT_CHUNKS], floats;
    int k;
    for (size_t c = 0; (k = next_segment(t, &c, seg, &floats)) > 0;) {
        if (prev >= 0) {
            if (x->recv(x->ctx, t->stage, floats * bytes, prev))
                return exchange_failed(err, "gradients");
            pack(t, seg, k, 1);
        }
        DRNN_OMP(omp parallel for schedule(static) if(n >= DRNN_PARALLEL_MIN_PARAMS)
                 num_threads(drnn_threads_for((size_t)k)))
        for (int i = 0; i < k; i++)
            add_slots(t, seg[i], lo > 1 ? lo : 1, hi);
        if (next >= 0) {
            pack(t, seg, k, 0);
            if (x->send(x->ctx, t->stage, floats * bytes, next))
                return exchange_failed(err, "gradients");
        }
    }
    /* Back from the last process, where the sum is complete. */
    if (x->bcast(x->ctx, &head, sizeof head, last))
        return exchange_failed(err, "the loss");
    for (size_t c = 0; (k = next_segment(t, &c, seg, &floats)) > 0;) {
        if (x->rank == last)
            pack(t, seg, k, 0);
        if (x->bcast(x->ctx, t->stage, floats * bytes, last))
            return exchange_failed(err, "gradients");
        if (x->rank != last)
            pack(t, seg, k, 1);
    }
    *loss = head.loss;
    t->stop_agreed = head.stop;
    return DRNN_OK;
}

/* The scale and the squared norm of the exchanged sum: as reduce_gradients
 * computes them. */
static double scale_gradients(drnn_trainer *t, drnn_real scale)
{
    DRNN_OMP(omp parallel for schedule(static) if(t->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_for(t->chunks)))
    for (size_t c = 0; c < t->chunks; c++)
        t->chunk_sq[c] = t->live[c] ? scale_chunk(t, c, scale) : 0;
    return sum_chunks(t);
}

int drnn_trainer_distribute(drnn_trainer *t, const drnn_exchange *x, drnn_error *err)
{
    if (x->ranks < 1 || x->rank < 0 || x->rank >= x->ranks)
        return drnn_fail(err, DRNN_ERR_INVALID, "process %d of %d does not exist", x->rank,
                         x->ranks);
    if (x->ranks == 1)
        return drnn_ok(err); /* alone: the plain trainer */
    if (!x->send || !x->recv || !x->bcast)
        return drnn_fail(err, DRNN_ERR_INVALID, "an exchange needs send, recv and bcast");
    free(t->stage);
    t->stage = malloc((size_t)SEGMENT_CHUNKS * DRNN_CHUNK * sizeof *t->stage);
    if (!t->stage)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    t->ex = *x;
    /* Process 0 always has slot 0, where the sum starts; with fewer slots
     * than processes some have none and only pass the sum on. */
    t->own_lo = (int)(((int64_t)x->rank * t->slots + x->ranks - 1) / x->ranks);
    t->own_hi = (int)(((int64_t)(x->rank + 1) * t->slots + x->ranks - 1) / x->ranks);
    for (int s = 1; s < t->slots; s++)
        if (s < t->own_lo || s >= t->own_hi)
            drnn_params_free(&t->grad[s]);
    return drnn_ok(err);
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
    }
    list_rows(t, b, slots);
    mark_live_chunks(t, slots);
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

/* Forward and BPTT of each slot's names into the slot's own gradient
 * buffer, slots in parallel; slot s takes names [s*b/slots, (s+1)*b/slots)
 * as one group (the same gradient, bit for bit, as one name after another).
 * A process of a distributed run computes its own slots only. */
static void forward_backward(drnn_trainer *t, size_t b, int slots)
{
    drnn_train_state *st = t->st;
    const int lo = t->own_lo < slots ? t->own_lo : slots, hi = t->own_hi < slots ? t->own_hi : slots;
    const int mine = hi - lo;
    longest_first(t, b, slots, lo, hi);
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(mine > 1)
             num_threads(mine < t->workers ? (mine > 0 ? mine : 1) : t->workers))
    for (int i = 0; i < mine; i++) {
        const int s = t->slot_order[i];
        drnn_scratch *work = t->scratch[drnn_thread_index()];
        const size_t first = (size_t)s * b / slots, end = (size_t)(s + 1) * b / slots;
        drnn_scratch_set_dropout(work, st->hp.dropout);
        t->slot_loss[s] = drnn_group_loss_rows(&st->weights, work, t->names + first, t->lens + first,
                                               (int)(end - first), t->seeds + first, &t->grad[s]);
    }
}

/* One mini-batch of b names from position pos of the epoch: the training
 * step, as a list of its parts. */
static int train_step(drnn_trainer *t, size_t pos, size_t b, double lr,
                      const volatile sig_atomic_t *stop, drnn_epoch_report *rep, drnn_error *err)
{
    drnn_train_state *st = t->st;
    const int slots = b < (size_t)t->slots ? (int)b : t->slots;
    gather_batch(t, pos, b, slots);
    forward_backward(t, b, slots);
    int64_t chars = 0;
    for (size_t j = 0; j < b; j++)
        chars += t->lens[j] + 1;
    const drnn_real scale = (drnn_real)(1.0 / (double)chars);
    double loss = 0, norm2;
    if (t->ex.ranks > 1) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = exchange_gradients(t, slots, &loss, stop, err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rep->exchange_seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (rc)
            return rc;
        norm2 = scale_gradients(t, scale);
    } else {
        loss = sum_slots(t, slots);
        norm2 = reduce_gradients(t, slots, scale);
    }
    if (!isfinite(loss) || !isfinite(norm2)) {
        clear_rows(t, slots);
        return drnn_fail(err, DRNN_ERR_NONFINITE,
                         "the %s became non-finite at epoch %lld, step %lld: lower the "
                         "learning rate or tighten clipping",
                         isfinite(loss) ? "gradient" : "loss", (long long)st->epoch + 1,
                         (long long)st->step + 1);
    }
    drnn_clip_gradient(t->grad[0].data, t->grad[0].count, &st->hp, norm2);
    drnn_optimizer_step(st, t->grad[0].data, lr);
    clear_rows(t, slots);
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
        /* Alone, the flag as it is now; distributed, as every process
         * agreed on it at the last step (read there), so that all stop at
         * the same mini-batch. */
        int sig = t->ex.ranks > 1 ? t->stop_agreed : stop ? (int)*stop : 0;
        if (sig) {
            rep->stopped = sig;
            t->stop_agreed = 0;
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
    if (!c || c->count == 0 || drnn_longest_name(c) > t->max_len)
        return NAN;
    int64_t chars;
    return drnn_evaluate_chunks(&t->st->weights, c, t->scratch, t->workers, t->group, &chars) /
           (double)chars;
}

