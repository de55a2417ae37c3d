/* reduce.c: the reduction of a trainer's gradient slots (reduce.h).
 *
 * The slots are summed along one binary tree whose shape depends on the
 * slot count S alone. Node (a, k), a a multiple of 2^k, covers slots
 * [a, min(a + 2^k, S)); its sum is held in slot a's buffer. It is the sum
 * of its children (a, k-1) + (a + 2^(k-1), k-1) when the right child
 * exists (a + 2^(k-1) < S), else its left child itself; the root is
 * (0, ceil(log2 S)). Each addition is left + right, element by element,
 * so every bit of the result is fixed by S, whoever adds and in whatever
 * order the nodes are completed: the thread count and the process count
 * cannot change it.
 *
 * Who adds: the thread that computes a slot folds it into the tree at
 * once, while it is in its cache; the second of two children to finish
 * adds them (an atomic count per node says which is second), and goes on
 * up. It stops at level `eager`, about log2(S / threads), so that the last
 * slot to finish is not followed by a long chain of additions by one
 * thread while the others wait; the levels above are added chunk by
 * chunk by every thread, fused with the scale and the squared norm. In a
 * distributed run each process folds its own slots, sends the sums of the
 * subtrees it owns to the process that owns the rest of their parent, and
 * the root's process broadcasts the sum (see the distributed part). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bptt_internal.h"
#include "internal.h"
#include "optim.h"
#include "reduce.h"

int drnn_tree_levels(int slots)
{
    int k = 0;
    while ((1 << k) < slots)
        k++;
    return k;
}

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
    r->arrived = calloc((size_t)p->slots, sizeof *r->arrived);
    r->row_at = calloc((size_t)p->slots + 1, sizeof *r->row_at);
    r->chunk_sq = calloc(p->chunks, sizeof *r->chunk_sq);
    r->live = calloc(p->chunks, sizeof *r->live);
    r->live_at = calloc(p->chunks, sizeof *r->live_at);
    r->rows = calloc(p->rows, sizeof *r->rows);
    if (!r->grad || !r->slot_loss || !r->arrived || !r->row_at || !r->chunk_sq || !r->live ||
        !r->live_at || !r->rows) {
        drnn_reducer_free(r);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    for (int s = 0; s < r->slots; s++) {
        atomic_init(&r->arrived[s], 0);
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
    free(r->arrived);
    free(r->row_at);
    free(r->chunk_sq);
    free(r->live);
    free(r->live_at);
    free(r->rows);
    free(r->stage);
    free(r->swap_out);
    free(r->swap_in);
    memset(r, 0, sizeof *r);
}

void drnn_reducer_own(const drnn_reducer *r, int slots, int *lo, int *hi)
{
    *lo = r->own_lo < slots ? r->own_lo : slots;
    *hi = r->own_hi < slots ? r->own_hi : slots;
}

/* ---- the arithmetic ---- */

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

/* dst[i] += src[i]: one node's addition (the compiler vectorizes it; the
 * sum of two floats is the same in any vector width). */
static inline void add_into(drnn_real *restrict dst, const drnn_real *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
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

/* ---- the tree, alone ---- */

void drnn_reducer_begin(drnn_reducer *r, int slots, int threads)
{
    for (int s = 0; s < slots; s++)
        atomic_store_explicit(&r->arrived[s], 0, memory_order_relaxed);
    /* Fold up to subtrees of about half a thread's share of the slots
     * (pairs, for 8 slots on 2 threads), added in the cache of the thread
     * that finished the second child; the levels above, a few nodes a
     * chunk, by all threads, chunk by chunk. Measured (GRU 2x128, 8 slots,
     * 2 threads, Zen 3): folding a level more or less changed the step by
     * less than the run-to-run noise; one thread alone spent 150, 166 and
     * 176 us adding 8 slots folded up to level 0, 1 and 2 (a fold reads
     * and writes whole buffers that no longer fit its cache). A
     * distributed run's process, of its own slots. */
    int lo, hi, levels = drnn_tree_levels(slots), e = 0;
    drnn_reducer_own(r, slots, &lo, &hi);
    while (e < levels && (4 << e) * (threads > 0 ? threads : 1) <= hi - lo)
        e++;
    r->eager = e;
}

/* The node whose children start at a and b: grad[a] += grad[b] over the
 * live chunks, and the losses. By one thread. */
static void add_node(drnn_reducer *r, int a, int b)
{
    drnn_real *ga = r->grad[a].data;
    const drnn_real *gb = r->grad[b].data;
    for (size_t c = 0; c < r->chunks; c++)
        if (r->live[c])
            add_into(ga + c * DRNN_CHUNK, gb + c * DRNN_CHUNK, chunk_len(r, c));
    r->slot_loss[a] += r->slot_loss[b];
}

void drnn_reducer_fold(drnn_reducer *r, int s, int slots)
{
    int a = s;
    for (int k = 0; k < r->eager; k++) {
        const int parent = a & ~((2 << k) - 1), right = parent + (1 << k);
        if (right < slots) {
            const int end = parent + (2 << k) < slots ? parent + (2 << k) : slots;
            if (parent < r->own_lo || end > r->own_hi)
                return; /* the node spans another process's slots */
            /* The first child to arrive leaves; the second adds. acq_rel:
             * the second sees every write of the first. */
            if (atomic_fetch_add_explicit(&r->arrived[right], 1, memory_order_acq_rel) == 0)
                return;
            add_node(r, parent, right);
        }
        a = parent;
    }
}

/* The levels above the threads' folds, chunk by chunk in parallel, then
 * the scale and the squares of grad[0]; returns the squared norm. */
static double reduce_top(drnn_reducer *r, int slots, drnn_real scale, int threads)
{
    const int levels = drnn_tree_levels(slots), eager = r->eager;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(r->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_within(threads, r->chunks)))
    for (size_t c = 0; c < r->chunks; c++) {
        if (!r->live[c]) {
            r->chunk_sq[c] = 0;
            continue;
        }
        const size_t at = c * DRNN_CHUNK, len = chunk_len(r, c);
        for (int k = eager + 1; k <= levels; k++)
            for (int a = 0; a + (1 << (k - 1)) < slots; a += 1 << k)
                add_into(r->grad[a].data + at, r->grad[a + (1 << (k - 1))].data + at, len);
        r->chunk_sq[c] = scale_chunk(r, c, scale);
    }
    for (int k = eager + 1; k <= levels; k++)
        for (int a = 0; a + (1 << (k - 1)) < slots; a += 1 << k)
            r->slot_loss[a] += r->slot_loss[a + (1 << (k - 1))];
    return sum_chunks(r);
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
 * layer 0's rows, and those of the rows listed; and where each live chunk
 * goes in a message of the live chunks, packed. */
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
    size_t at = 0;
    for (size_t c = 0; c < r->chunks; c++) {
        r->live_at[c] = at;
        at += r->live[c] ? chunk_len(r, c) : 0;
    }
    r->live_floats = at;
}

void drnn_reducer_mark_rows(drnn_reducer *r, const drnn_token *const *names, const int *lens,
                            size_t b, int slots)
{
    list_rows(r, names, lens, b, slots);
    mark_live_chunks(r, slots);
}

/* After the step, every slot's listed rows back to zero. Slot a's buffer
 * held the sum of node (a, k) for each k up to the lowest set bit of a
 * (slot 0's, the whole tree): the rows of slots [a, a + lowbit(a)). */
void drnn_reducer_clear_rows(drnn_reducer *r, int slots)
{
    for (int a = 0; a < slots; a++) {
        drnn_params *g = &r->grad[a];
        if (!g->data)
            continue;
        const int end = a == 0 || a + (a & -a) > slots ? slots : a + (a & -a);
        size_t width = 0;
        for (size_t i = r->row_at[a]; i < r->row_at[end]; i++) {
            size_t lo = input_row(g, r->rows[i], &width);
            memset(g->data + lo, 0, width * sizeof *g->data);
        }
    }
}

/* ---- a distributed run ----
 * Process p computes the slots [ceil(p S / N), ceil((p+1) S / N)) and
 * folds them as a process alone does. A node of the tree is made by the
 * process that owns its first slot: its left child is that process's
 * too; its right child, when another process owns that child's first
 * slot, comes from it in a message. So each process sends the sum of each
 * subtree (m, log2 lowbit(m)) whose first slot m it owns while another
 * owns its parent's first slot m - lowbit(m): its first slot's, always,
 * and a few more (a test counts them). Messages only go to lower ranks,
 * and every process receives and sends in the tree's post-order, one order
 * that all share, so blocking sends and receives cannot deadlock. A chain
 * of messages climbs the tree one level at least per message, and only
 * the levels whose nodes span two processes carry any: a step takes about
 * log2 N rounds, then process 0 broadcasts the sum. Each addition is the
 * one a process alone makes, so the bits cannot depend on the process
 * count. A message is a head (the subtree's loss, and the largest stop
 * request of the processes so far) and the live chunks of the node's sum,
 * packed; a process with no slot in a short mini-batch sends process 0
 * its head alone. */

/* What travels ahead of a node's sum. */
typedef struct node_head {
    double loss;
    int32_t stop;
    int32_t reserved;
} node_head;

#define HEAD_FLOATS (sizeof(node_head) / sizeof(drnn_real))
_Static_assert(sizeof(node_head) % sizeof(drnn_real) == 0, "the head is whole floats");

/* The process that computes slot s: the first p with ceil((p+1) S / N) > s. */
static int owner_of(const drnn_reducer *r, int s)
{
    return (int)((int64_t)s * r->ex.ranks / r->slots);
}

/* Process p's slots of a step of `slots`. */
static void slots_of(const drnn_reducer *r, int p, int slots, int *lo, int *hi)
{
    const int64_t S = r->slots, N = r->ex.ranks;
    *lo = (int)((p * S + N - 1) / N);
    *hi = (int)(((p + 1) * S + N - 1) / N);
    *lo = *lo < slots ? *lo : slots;
    *hi = *hi < slots ? *hi : slots;
}

static int exchange_failed(drnn_error *err, const char *what)
{
    return drnn_fail(err, DRNN_ERR_IO, "the processes of the run could not exchange %s", what);
}

/* grad[a] += src over the live chunks, src either a slot's buffer or a
 * message's packed chunks; by `threads` threads. */
static void add_parallel(drnn_reducer *r, int a, const drnn_real *src, int packed, int threads)
{
    drnn_real *g = r->grad[a].data;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(r->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_within(threads, r->chunks)))
    for (size_t c = 0; c < r->chunks; c++)
        if (r->live[c])
            add_into(g + c * DRNN_CHUNK, src + (packed ? r->live_at[c] : c * DRNN_CHUNK),
                     chunk_len(r, c));
}

/* The live chunks of grad[a] into the stage after the head, or back. */
static void pack(drnn_reducer *r, int a, int back)
{
    drnn_real *p = r->stage + HEAD_FLOATS, *g = r->grad[a].data;
    for (size_t c = 0; c < r->chunks; c++)
        if (r->live[c]) {
            size_t len = chunk_len(r, c);
            memcpy(back ? g + c * DRNN_CHUNK : p + r->live_at[c],
                   back ? p + r->live_at[c] : g + c * DRNN_CHUNK, len * sizeof *p);
        }
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* Makes node (a, k), a this process's slot, in grad[a] and slot_loss[a]:
 * its children's sums, received from their process where that is
 * another; *stop takes the largest request received. */
static int make_node(drnn_reducer *r, int a, int k, int slots, int threads, int32_t *stop,
                     drnn_error *err)
{
    const int end = a + (1 << k) < slots ? a + (1 << k) : slots, right = a + (1 << k >> 1);
    if (k == 0 || (k <= r->eager && a >= r->own_lo && end <= r->own_hi))
        return DRNN_OK; /* a slot, or folded by the threads */
    int rc = make_node(r, a, k - 1, slots, threads, stop, err);
    if (rc || right >= slots)
        return rc;
    const int from = owner_of(r, right);
    if (from == r->ex.rank) {
        if ((rc = make_node(r, right, k - 1, slots, threads, stop, err)))
            return rc;
        add_parallel(r, a, r->grad[right].data, 0, threads);
        r->slot_loss[a] += r->slot_loss[right];
        return DRNN_OK;
    }
    const size_t bytes = sizeof(node_head) + r->live_floats * sizeof *r->stage;
    if (r->ex.recv(r->ex.ctx, r->stage, bytes, from))
        return exchange_failed(err, "gradients");
    node_head h;
    memcpy(&h, r->stage, sizeof h);
    add_parallel(r, a, r->stage + HEAD_FLOATS, 1, threads);
    r->slot_loss[a] += h.loss;
    *stop = max_int(*stop, h.stop);
    return DRNN_OK;
}

/* Sends node (m, k)'s sum, and the stop request, to process `to`. */
static int send_node(drnn_reducer *r, int m, int32_t stop, int to, drnn_error *err)
{
    node_head h = {r->slot_loss[m], stop, 0};
    memcpy(r->stage, &h, sizeof h);
    pack(r, m, 0);
    const size_t bytes = sizeof h + r->live_floats * sizeof *r->stage;
    if (r->ex.send(r->ex.ctx, r->stage, bytes, to))
        return exchange_failed(err, "gradients");
    return DRNN_OK;
}

/* ---- a power of two of processes, each one subtree ----
 * When N is a power of two and the step has S = the plan's slots, S / N a
 * power of two (the default 8 slots on 2, 4 or 8 processes; N machines of
 * C cores with C x N slots, C a power of two), process p's slots are the
 * node (p S/N, log2(S/N)), and the levels above are sums of processes
 * whose ranks differ in one bit: p and p ^ 1 are siblings, then the pairs
 * p and p ^ 2, and so on. So the tree's top can be added as a
 * reduce-scatter by recursive halving: at level k each process swaps half
 * of what it holds with process p ^ 2^k and adds the half it keeps (the
 * sum of two siblings, the same bits whichever of the two adds, since
 * a + b = b + a exactly), then an allgather by recursive doubling gives
 * every process the whole root. Each process sends about 2 (N-1)/N of the
 * gradient a step, in 2 log2 N rounds, against the log2 N whole sums
 * process 0 receives going up the plain tree. The losses go along in the
 * heads, added the same way; the stop requests as their largest. */

static int halving_applies(const drnn_reducer *r, int slots)
{
    const int N = r->ex.ranks, per = slots / N;
    return slots == r->slots && (N & (N - 1)) == 0 && slots % N == 0 && (per & (per - 1)) == 0;
}

/* Swaps heads and floats with a peer: out[0 .. n_out) for in[0 .. n_in). */
static int swap_with(drnn_reducer *r, node_head *h, const drnn_real *out, size_t n_out,
                     size_t n_in, int peer, drnn_error *err)
{
    const drnn_exchange *x = &r->ex;
    const size_t so = sizeof *h + n_out * sizeof *out, si = sizeof *h + n_in * sizeof *out;
    memcpy(r->swap_out, h, sizeof *h);
    memcpy(r->swap_out + HEAD_FLOATS, out, n_out * sizeof *out);
    int rc;
    if (x->sendrecv)
        rc = x->sendrecv(x->ctx, r->swap_out, so, r->swap_in, si, peer);
    else if (x->rank < peer) /* one way, then the other */
        rc = x->send(x->ctx, r->swap_out, so, peer) || x->recv(x->ctx, r->swap_in, si, peer);
    else
        rc = x->recv(x->ctx, r->swap_in, si, peer) || x->send(x->ctx, r->swap_out, so, peer);
    if (rc)
        return exchange_failed(err, "gradients");
    memcpy(h, r->swap_in, sizeof *h);
    return DRNN_OK;
}

static int exchange_halving(drnn_reducer *r, int slots, int threads, double *loss,
                            int32_t want, drnn_error *err)
{
    const int me = r->ex.rank, N = r->ex.ranks;
    int rc, levels = 0;
    while ((1 << levels) < slots / N)
        levels++;
    if ((rc = make_node(r, r->own_lo, levels, slots, threads, &want, err)))
        return rc;
    drnn_real *w = r->stage + HEAD_FLOATS; /* this process's share, packed */
    pack(r, r->own_lo, 0);
    double sum_loss = r->slot_loss[r->own_lo];
    size_t lo[32], hi[32], a = 0, b = r->live_floats;
    int k = 0;
    for (; (1 << k) < N; k++) { /* reduce-scatter */
        const int peer = me ^ (1 << k);
        const size_t m = a + (b - a) / 2;
        const int upper = (me >> k) & 1;
        node_head h = {sum_loss, want, 0};
        lo[k] = a, hi[k] = b;
        if ((rc = swap_with(r, &h, w + (upper ? a : m), upper ? m - a : b - m,
                            upper ? b - m : m - a, peer, err)))
            return rc;
        if (upper)
            a = m;
        else
            b = m;
        add_into(w + a, r->swap_in + HEAD_FLOATS, b - a);
        sum_loss += h.loss;
        want = max_int(want, h.stop);
    }
    for (k--; k >= 0; k--) { /* allgather, the halves back */
        const int peer = me ^ (1 << k);
        const int upper = (me >> k) & 1;
        const size_t m = lo[k] + (hi[k] - lo[k]) / 2;
        node_head h = {sum_loss, want, 0};
        if ((rc = swap_with(r, &h, w + a, b - a, upper ? m - lo[k] : hi[k] - m, peer, err)))
            return rc;
        memcpy(w + (upper ? lo[k] : m), r->swap_in + HEAD_FLOATS,
               (upper ? m - lo[k] : hi[k] - m) * sizeof *w);
        a = lo[k], b = hi[k];
    }
    pack(r, 0, 1);
    *loss = sum_loss;
    r->stop_agreed = want;
    return DRNN_OK;
}

/* grad[0] = the sum of every slot along the tree, on every process, and the
 * loss and the stop request of the whole mini-batch. */
static int exchange_gradients(drnn_reducer *r, int slots, int threads, double *loss,
                              const volatile sig_atomic_t *stop, drnn_error *err)
{
    const drnn_exchange *x = &r->ex;
    int lo, hi, rc = DRNN_OK;
    int32_t want = stop ? (int32_t)*stop : 0;
    node_head h = {0, 0, 0};
    if (halving_applies(r, slots))
        return exchange_halving(r, slots, threads, loss, want, err);
    drnn_reducer_own(r, slots, &lo, &hi);
    if (x->rank == 0) {
        if ((rc = make_node(r, 0, drnn_tree_levels(slots), slots, threads, &want, err)))
            return rc;
        for (int p = 1; p < x->ranks; p++) {
            int plo, phi;
            slots_of(r, p, slots, &plo, &phi);
            if (plo == phi) { /* no slot: its stop request alone */
                if (x->recv(x->ctx, &h, sizeof h, p))
                    return exchange_failed(err, "the stop requests");
                want = max_int(want, h.stop);
            }
        }
        h = (node_head){r->slot_loss[0], want, 0};
        memcpy(r->stage, &h, sizeof h);
        pack(r, 0, 0);
    } else if (lo == hi) {
        h.stop = want;
        if (x->send(x->ctx, &h, sizeof h, 0))
            return exchange_failed(err, "the stop requests");
    } else {
        for (int m = lo; m < hi && !rc; m++) {
            const int low = m & -m;
            if (m - low >= lo)
                continue; /* inside a subtree this process sends whole */
            int k = 0;
            while ((1 << k) < low)
                k++;
            if (!(rc = make_node(r, m, k, slots, threads, &want, err)))
                rc = send_node(r, m, want, owner_of(r, m - low), err);
        }
        if (rc)
            return rc;
    }
    /* Process 0 has the sum: to all. */
    const size_t bytes = sizeof h + r->live_floats * sizeof *r->stage;
    if (x->bcast(x->ctx, r->stage, bytes, 0))
        return exchange_failed(err, "gradients");
    memcpy(&h, r->stage, sizeof h);
    if (x->rank != 0)
        pack(r, 0, 1);
    *loss = h.loss;
    r->stop_agreed = h.stop;
    return DRNN_OK;
}

/* The scale and the squared norm of the exchanged sum: as reduce_top
 * computes them. */
static double scale_gradients(drnn_reducer *r, drnn_real scale, int threads)
{
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(r->grad[0].count >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_within(threads, r->chunks)))
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
    free(r->swap_out);
    free(r->swap_in);
    const size_t half = HEAD_FLOATS + r->grad[0].count / 2 + 1;
    r->stage = malloc((HEAD_FLOATS + r->grad[0].count) * sizeof *r->stage);
    r->swap_out = malloc(half * sizeof *r->swap_out);
    r->swap_in = malloc(half * sizeof *r->swap_in);
    if (!r->stage || !r->swap_out || !r->swap_in)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    r->ex = *x;
    /* Process 0 always has slot 0, where the sum ends; with fewer slots
     * than processes some have none and send their stop request alone. */
    slots_of(r, x->rank, r->slots, &r->own_lo, &r->own_hi);
    for (int s = 1; s < r->slots; s++)
        if (s < r->own_lo || s >= r->own_hi)
            drnn_params_free(&r->grad[s]);
    return drnn_ok(err);
}

/* ---- the step's sum ---- */

int drnn_reducer_sum(drnn_reducer *r, int slots, drnn_real scale, int threads,
                     const volatile sig_atomic_t *stop, double *loss, double *norm2,
                     double *exchange_seconds, drnn_error *err)
{
    if (threads < 1)
        threads = 1;
    if (r->ex.ranks > 1) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = exchange_gradients(r, slots, threads, loss, stop, err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *exchange_seconds +=
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (rc)
            return rc;
        *norm2 = scale_gradients(r, scale, threads);
    } else {
        *norm2 = reduce_top(r, slots, scale, threads);
        *loss = r->slot_loss[0];
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
