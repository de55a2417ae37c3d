/* reduce.c: the reduction of a trainer's gradient slots (reduce.h): the
 * sum of the slots in slot order, its scale and squared norm in fixed
 * chunks, the sparse rows of the input layer, and the exchange between the
 * processes of a distributed run. Every floating-point addition is made in
 * the one order that any thread count and any process count share. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bptt_internal.h"
#include "internal.h"
#include "optim.h"
#include "reduce.h"

/* ---- the slots ---- */

int drnn_reducer_new(drnn_reducer *r, const drnn_plan *p, const drnn_config *model,
                     drnn_error *err)
{
    memset(r, 0, sizeof *r);
    r->slots = p->slots;
    r->chunks = p->chunks;
    r->own_hi = p->slots;
    r->ex.ranks = 1;
    r->grad = calloc((size_t)p->slots, sizeof *r->grad);
    r->slot_loss = calloc((size_t)p->slots, sizeof *r->slot_loss);
    r->row_at = calloc((size_t)p->slots + 1, sizeof *r->row_at);
    r->chunk_sq = calloc(p->chunks, sizeof *r->chunk_sq);
    r->live = calloc(p->chunks, sizeof *r->live);
    r->rows = calloc(p->rows, sizeof *r->rows);
    if (!r->grad || !r->slot_loss || !r->row_at || !r->chunk_sq || !r->live || !r->rows) {
        drnn_reducer_free(r);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    for (int s = 0; s < r->slots; s++) {
        int rc = drnn_params_alloc(&r->grad[s], model, err);
        if (rc) {
            drnn_reducer_free(r);
            return rc;
        }
    }
    return drnn_ok(err);
}

void drnn_reducer_free(drnn_reducer *r)
{
    for (int s = 0; r->grad && s < r->slots; s++)
        drnn_params_free(&r->grad[s]);
    free(r->grad);
    free(r->slot_loss);
    free(r->row_at);
    free(r->chunk_sq);
    free(r->live);
    free(r->rows);
    free(r->stage);
    memset(r, 0, sizeof *r);
}

void drnn_reducer_own(const drnn_reducer *r, int slots, int *lo, int *hi)
{
    *lo = r->own_lo < slots ? r->own_lo : slots;
    *hi = r->own_hi < slots ? r->own_hi : slots;
}

/* ---- the sum of the slots, alone ---- */

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

/* The parameters in chunk c (the last may be short). */
static size_t chunk_len(const drnn_reducer *r, size_t c)
{
    const size_t n = r->grad[0].count, at = c * DRNN_CHUNK;
    return (at + DRNN_CHUNK < n ? at + DRNN_CHUNK : n) - at;
}

/* Chunk c of grad[0] += grad[s0] + ... + grad[s1-1], one slot after
 * another: the order every process count and thread count share. */
static inline void add_slots(drnn_reducer *r, size_t c, int s0, int s1)
{
    const size_t at = c * DRNN_CHUNK, len = chunk_len(r, c);
    drnn_real *g = r->grad[0].data + at;
    for (int s = s0; s < s1; s++) {
        const drnn_real *gs = r->grad[s].data + at;
        for (size_t i = 0; i < len; i++)
            g[i] += gs[i];
    }
}

/* Chunk c of grad[0] *= scale; returns its sum of squares. */
static inline double scale_chunk(drnn_reducer *r, size_t c, drnn_real scale)
{
    const size_t at = c * DRNN_CHUNK, len = chunk_len(r, c);
    drnn_real *g = r->grad[0].data + at;
    for (size_t i = 0; i < len; i++)
        g[i] *= scale;
    return sum_squares(g, len);
}

/* The chunks' squares, in chunk order. */
static double sum_chunks(const drnn_reducer *r)
{
    double total = 0;
    for (size_t c = 0; c < r->chunks; c++)
        total += r->chunk_sq[c];
    return total;
}

/* grad[0] = scale * (grad[0] + ... + grad[slots-1]), summed in slot order;
 * returns the squared norm of the result. Chunks not live are zero in
 * every slot and stay so. */
static double reduce_gradients(drnn_reducer *r, int slots, drnn_real scale)
{
    DRNN_OMP(omp parallel for schedule(static) if(r->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_for(r->chunks)))
    for (size_t c = 0; c < r->chunks; c++) {
        if (!r->live[c]) {
            r->chunk_sq[c] = 0;
            continue;
        }
        add_slots(r, c, 1, slots);
        r->chunk_sq[c] = scale_chunk(r, c, scale);
    }
    return sum_chunks(r);
}

/* The slots' losses, summed in slot order. */
static double sum_slots(const drnn_reducer *r, int slots)
{
    double loss = 0;
    for (int s = 0; s < slots; s++)
        loss += r->slot_loss[s];
    return loss;
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
static void list_rows(drnn_reducer *r, const drnn_token *const *names, const int *lens, size_t b,
                      int slots)
{
    size_t n = 0;
    for (int s = 0; s < slots; s++) {
        r->row_at[s] = n;
        r->rows[n++] = DRNN_END;
        for (size_t j = (size_t)s * b / slots; j < (size_t)(s + 1) * b / slots; j++) {
            memcpy(r->rows + n, names[j], (size_t)lens[j] * sizeof *r->rows);
            n += (size_t)lens[j];
        }
    }
    r->row_at[slots] = n;
}

/* Marks the chunks that can hold a non-zero gradient: all but those of
 * layer 0's rows, and those of the rows listed. */
static void mark_live_chunks(drnn_reducer *r, int slots)
{
    size_t width, rows_end = input_row(&r->grad[0], (drnn_token)r->grad[0].cfg.vocab, &width);
    size_t first_dense = rows_end / DRNN_CHUNK;
    memset(r->live, 0, first_dense);
    memset(r->live + first_dense, 1, r->chunks - first_dense);
    for (size_t i = 0; i < r->row_at[slots]; i++) {
        size_t lo = input_row(&r->grad[0], r->rows[i], &width);
        for (size_t k = lo / DRNN_CHUNK; k <= (lo + width - 1) / DRNN_CHUNK; k++)
            r->live[k] = 1;
    }
}

void drnn_reducer_mark_rows(drnn_reducer *r, const drnn_token *const *names, const int *lens,
                            size_t b, int slots)
{
    list_rows(r, names, lens, b, slots);
    mark_live_chunks(r, slots);
}

/* After the step, every slot's listed rows back to zero: slot 0, which
 * holds the sum, all of them; slot s > 0 its own (if this process has it). */
void drnn_reducer_clear_rows(drnn_reducer *r, int slots)
{
    for (int s = 0; s < slots; s++) {
        drnn_params *g = &r->grad[s];
        if (!g->data)
            continue;
        size_t width = 0, end = r->row_at[s ? s + 1 : slots];
        for (size_t i = s ? r->row_at[s] : 0; i < end; i++) {
            size_t lo = input_row(g, r->rows[i], &width);
            memset(g->data + lo, 0, width * sizeof *g->data);
        }
    }
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
static int next_segment(const drnn_reducer *r, size_t *c, size_t *seg, size_t *floats)
{
    int k = 0;
    *floats = 0;
    for (; *c < r->chunks && k < SEGMENT_CHUNKS; (*c)++)
        if (r->live[*c]) {
            seg[k++] = *c;
            *floats += chunk_len(r, *c);
        }
    return k;
}

/* The segment's chunks of grad[0] into the stage, one after another, or back. */
static void pack(drnn_reducer *r, const size_t *seg, int k, int back)
{
    drnn_real *p = r->stage;
    for (int i = 0; i < k; i++) {
        size_t len = chunk_len(r, seg[i]);
        drnn_real *g = r->grad[0].data + seg[i] * DRNN_CHUNK;
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
static int exchange_gradients(drnn_reducer *r, int slots, double *loss,
                              const volatile sig_atomic_t *stop, drnn_error *err)
{
    const drnn_exchange *x = &r->ex;
    const int prev = x->rank - 1, next = x->rank + 1 < x->ranks ? x->rank + 1 : -1;
    const int last = x->ranks - 1;
    int lo, hi;
    drnn_reducer_own(r, slots, &lo, &hi);
    chain_head head = {0, 0, 0};
    if (prev >= 0 && x->recv(x->ctx, &head, sizeof head, prev))
        return exchange_failed(err, "the loss");
    for (int s = lo; s < hi; s++)
        head.loss += r->slot_loss[s];
    int mine = stop ? (int)*stop : 0;
    if (mine > head.stop)
        head.stop = mine;
    if (next >= 0 && x->send(x->ctx, &head, sizeof head, next))
        return exchange_failed(err, "the loss");
    const size_t n = r->grad[0].count, bytes = sizeof *r->stage;
    size_t seg[SEGMENT_CHUNKS], floats;
    int k;
    for (size_t c = 0; (k = next_segment(r, &c, seg, &floats)) > 0;) {
        if (prev >= 0) {
            if (x->recv(x->ctx, r->stage, floats * bytes, prev))
                return exchange_failed(err, "gradients");
            pack(r, seg, k, 1);
        }
        DRNN_OMP(omp parallel for schedule(static) if(n >= DRNN_PARALLEL_MIN_PARAMS)
                 num_threads(drnn_threads_for((size_t)k)))
        for (int i = 0; i < k; i++)
            add_slots(r, seg[i], lo > 1 ? lo : 1, hi);
        if (next >= 0) {
            pack(r, seg, k, 0);
            if (x->send(x->ctx, r->stage, floats * bytes, next))
                return exchange_failed(err, "gradients");
        }
    }
    /* Back from the last process, where the sum is complete. */
    if (x->bcast(x->ctx, &head, sizeof head, last))
        return exchange_failed(err, "the loss");
    for (size_t c = 0; (k = next_segment(r, &c, seg, &floats)) > 0;) {
        if (x->rank == last)
            pack(r, seg, k, 0);
        if (x->bcast(x->ctx, r->stage, floats * bytes, last))
            return exchange_failed(err, "gradients");
        if (x->rank != last)
            pack(r, seg, k, 1);
    }
    *loss = head.loss;
    r->stop_agreed = head.stop;
    return DRNN_OK;
}

/* The scale and the squared norm of the exchanged sum: as reduce_gradients
 * computes them. */
static double scale_gradients(drnn_reducer *r, drnn_real scale)
{
    DRNN_OMP(omp parallel for schedule(static) if(r->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_for(r->chunks)))
    for (size_t c = 0; c < r->chunks; c++)
        r->chunk_sq[c] = r->live[c] ? scale_chunk(r, c, scale) : 0;
    return sum_chunks(r);
}

int drnn_reducer_distribute(drnn_reducer *r, const drnn_exchange *x, drnn_error *err)
{
    if (x->ranks < 1 || x->rank < 0 || x->rank >= x->ranks)
        return drnn_fail(err, DRNN_ERR_INVALID, "process %d of %d does not exist", x->rank,
                         x->ranks);
    if (x->ranks == 1)
        return drnn_ok(err); /* alone: the plain trainer */
    if (!x->send || !x->recv || !x->bcast)
        return drnn_fail(err, DRNN_ERR_INVALID, "an exchange needs send, recv and bcast");
    free(r->stage);
    r->stage = malloc((size_t)SEGMENT_CHUNKS * DRNN_CHUNK * sizeof *r->stage);
    if (!r->stage)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    r->ex = *x;
    /* Process 0 always has slot 0, where the sum starts; with fewer slots
     * than processes some have none and only pass the sum on. */
    r->own_lo = (int)(((int64_t)x->rank * r->slots + x->ranks - 1) / x->ranks);
    r->own_hi = (int)(((int64_t)(x->rank + 1) * r->slots + x->ranks - 1) / x->ranks);
    for (int s = 1; s < r->slots; s++)
        if (s < r->own_lo || s >= r->own_hi)
            drnn_params_free(&r->grad[s]);
    return drnn_ok(err);
}

/* ---- the step's sum ---- */

int drnn_reducer_sum(drnn_reducer *r, int slots, drnn_real scale,
                     const volatile sig_atomic_t *stop, double *loss, double *norm2,
                     double *exchange_seconds, drnn_error *err)
{
    if (r->ex.ranks > 1) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = exchange_gradients(r, slots, loss, stop, err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *exchange_seconds +=
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (rc)
            return rc;
        *norm2 = scale_gradients(r, scale);
    } else {
        *loss = sum_slots(r, slots);
        *norm2 = reduce_gradients(r, slots, scale);
    }
    return DRNN_OK;
}

int drnn_reducer_stop(drnn_reducer *r, const volatile sig_atomic_t *stop)
{
    /* Alone, the flag as it is now; distributed, as every process agreed
     * on it at the last step (read there), so that all stop at the same
     * mini-batch. */
    int sig = r->ex.ranks > 1 ? r->stop_agreed : stop ? (int)*stop : 0;
    r->stop_agreed = 0;
    return sig;
}
