/* stepper.c: generation, one symbol at a time: the stepper carries each
 * layer's state from one input to the next and gives the next symbol's
 * logits, of one network or of a mixture (stepper.h); the sampler and the
 * search run on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "internal.h"
#include "kernels.h"

/* One network's state: each layer's last step, the step being computed,
 * and its logits. */
typedef struct net_state {
    drnn_real *cache[DRNN_MAX_LAYERS];  /* [C*H] each layer's last step */
    drnn_real *next;                    /* [C*H] the step being computed */
    drnn_real *logits;                  /* [V] */
} net_state;

/* The generation-time twin of forward(): one step through every layer, of
 * one network or of each network of a mixture. */
struct drnn_stepper {
    drnn_config cfg;
    const drnn_cell_ops *cell;
    int nets;                           /* 1, or the networks of a mixture */
    net_state p[DRNN_MAX_MEMBERS];
    drnn_real *xproj, *hproj;           /* [G*H] scratch */
    drnn_real *logits;                  /* [V] what feed returns */
    size_t size;                        /* scalars in block */
    drnn_real *block;
    int batch_rows;                     /* rows the batch scratch holds */
    drnn_real *batch;                   /* feed_batch's scratch, made on first use */
};

int drnn_stepper_new(drnn_stepper **out, const drnn_model *m, drnn_error *err)
{
    *out = NULL;
    const drnn_config *cfg = &m->cfg;
    const int nets = m->count;
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    if (nets < 1 || nets > DRNN_MAX_MEMBERS)
        return drnn_fail(err, DRNN_ERR_INVALID, "a mixture of %d models is outside 1..%d", nets,
                         DRNN_MAX_MEMBERS);
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t H = (size_t)cfg->hidden, GH = (size_t)cell->gates * H, CH = (size_t)cell->cache * H;
    size_t V = (size_t)cfg->vocab, per_net = ((size_t)cfg->layers + 1) * CH + V;
    size_t n = (size_t)nets * per_net + 2 * GH + (nets > 1 ? V : 0);
    drnn_stepper *st = calloc(1, sizeof *st);
    drnn_real *block = drnn_zalloc_aligned(n * sizeof *block);
    if (!st || !block) {
        free(st), free(block);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the generation state");
    }
    st->cfg = *cfg;
    st->cell = cell;
    st->nets = nets;
    st->block = block;
    st->size = n;
    drnn_real *at = block;
    for (int k = 0; k < nets; k++) {
        for (int l = 0; l < cfg->layers; l++)
            st->p[k].cache[l] = at, at += CH;
        st->p[k].next = at, at += CH;
        st->p[k].logits = at, at += V;
    }
    st->xproj = at, at += GH;
    st->hproj = at, at += GH;
    st->logits = nets > 1 ? at : st->p[0].logits;
    *out = st;
    return drnn_ok(err);
}

void drnn_stepper_free(drnn_stepper *st)
{
    if (!st)
        return;
    free(st->block);
    free(st->batch);
    free(st);
}

void drnn_stepper_reset(drnn_stepper *st)
{
    memset(st->block, 0, st->size * sizeof *st->block);
}

void drnn_stepper_copy(drnn_stepper *dst, const drnn_stepper *src)
{
    /* feed() swaps the cache pointers, so copy where they point as well. */
    memcpy(dst->block, src->block, src->size * sizeof *src->block);
    for (int k = 0; k < src->nets; k++) {
        for (int l = 0; l < src->cfg.layers; l++)
            dst->p[k].cache[l] = dst->block + (src->p[k].cache[l] - src->block);
        dst->p[k].next = dst->block + (src->p[k].next - src->block);
    }
}

/* One network's step: every layer, then its logits. */
static void feed_net(drnn_stepper *st, net_state *ps, const drnn_params *w, drnn_token in)
{
    const drnn_cell_ops *cell = st->cell;
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int GH = cell->gates * H, RH = cell->hbias * H;
    for (int l = 0; l < L; l++) {
        const drnn_layer_view *p = &w->layer[l];
        memcpy(st->xproj, p->b, (size_t)GH * sizeof *st->xproj);
        if (l == 0)
            drnn_vec_acc(st->xproj, p->W_x + (size_t)in * GH, GH);
        else
            drnn_gemm_xwt(st->xproj, 0, ps->cache[l - 1], 0, p->W_x, 1, GH, H);
        memset(st->hproj, 0, (size_t)GH * sizeof *st->hproj);
        drnn_gemm_xwt(st->hproj, 0, ps->cache[l], 0, p->W_h, 1, GH, H);
        drnn_vec_acc(st->hproj + GH - RH, p->b_h, RH);
        cell->forward(ps->next, ps->cache[l], st->xproj, st->hproj, H);
        drnn_real *tmp = ps->cache[l];
        ps->cache[l] = ps->next;
        ps->next = tmp;
    }
    memcpy(ps->logits, w->b_y, (size_t)V * sizeof *ps->logits);
    drnn_gemm_xwt(ps->logits, 0, ps->cache[L - 1], 0, w->W_y, 1, V, H);
}

/* log sum exp z[0..V), in double. */
static double log_sum_exp(const drnn_real *z, int V)
{
    double m = z[0], s = 0;
    for (int v = 1; v < V; v++)
        m = z[v] > m ? z[v] : m;
    for (int v = 0; v < V; v++)
        s += exp((double)z[v] - m);
    return m + log(s);
}

/* out[v] = the mixture's log-probability of v: log((1/K) sum_k p_k[v]),
 * each network's log p_k[v] = z_k[v] - lse(z_k), summed in double in
 * network order; z_k at z + k * zstep. The one way feed and feed_batch
 * mix, so that their bits agree. */
static void mix(drnn_real *out, const drnn_real *z, size_t zstep, int K, int V)
{
    double lse[DRNN_MAX_MEMBERS];
    for (int k = 0; k < K; k++)
        lse[k] = log_sum_exp(z + (size_t)k * zstep, V);
    for (int v = 0; v < V; v++) {
        double lp[DRNN_MAX_MEMBERS], top = -HUGE_VAL, s = 0;
        for (int k = 0; k < K; k++) {
            lp[k] = (double)z[(size_t)k * zstep + (size_t)v] - lse[k];
            top = lp[k] > top ? lp[k] : top;
        }
        for (int k = 0; k < K; k++)
            s += exp(lp[k] - top);
        out[v] = (drnn_real)(top + log(s / K));
    }
}

const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_model *m, drnn_token in)
{
    for (int k = 0; k < st->nets; k++)
        feed_net(st, &st->p[k], &m->nets[k], in);
    if (st->nets > 1) /* the networks' logits lie one per_net apart in block */
        mix(st->logits, st->p[0].logits, (size_t)(st->p[1].logits - st->p[0].logits), st->nets,
            m->cfg.vocab);
    return st->logits;
}

const drnn_real *drnn_stepper_feed_logits(const drnn_stepper *st)
{
    return st->logits;
}

/* What the next step reads of a layer's cache: h_t and any carried state
 * (LSTM: c_t), the first (1 + K) * H values; the rest is for backward. */
static size_t carried(const drnn_stepper *st)
{
    return (size_t)(1 + st->cell->carry) * (size_t)st->cfg.hidden;
}

size_t drnn_stepper_state_size(const drnn_stepper *st)
{
    return (size_t)st->nets * (size_t)st->cfg.layers * carried(st);
}

void drnn_stepper_save_state(const drnn_stepper *st, drnn_real *state)
{
    size_t n = carried(st);
    for (int k = 0; k < st->nets; k++)
        for (int l = 0; l < st->cfg.layers; l++, state += n)
            memcpy(state, st->p[k].cache[l], n * sizeof *state);
}

void drnn_stepper_load_state(drnn_stepper *st, const drnn_real *state)
{
    size_t n = carried(st);
    for (int k = 0; k < st->nets; k++)
        for (int l = 0; l < st->cfg.layers; l++, state += n)
            memcpy(st->p[k].cache[l], state, n * sizeof *state);
}

/* The batch scratch for rows rows: their gathered states, projections, one
 * layer's caches and each network's logits. */
static int batch_reserve(drnn_stepper *st, int rows, drnn_error *err)
{
    if (rows <= st->batch_rows)
        return DRNN_OK;
    const drnn_cell_ops *cell = st->cell;
    size_t H = (size_t)st->cfg.hidden, V = (size_t)st->cfg.vocab, R = (size_t)rows;
    size_t per_row = drnn_stepper_state_size(st) +
                     (size_t)st->nets * (2 * (size_t)cell->gates * H + (size_t)cell->cache * H + V);
    int overflow = 0;
    size_t bytes = drnn_mul_size(drnn_mul_size(R, per_row, &overflow), sizeof(drnn_real), &overflow);
    drnn_real *batch = overflow ? NULL : drnn_zalloc_aligned(bytes);
    if (!batch)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a batch of %d states", rows);
    free(st->batch);
    st->batch = batch;
    st->batch_rows = rows;
    return DRNN_OK;
}

int drnn_stepper_feed_batch(drnn_stepper *st, const drnn_model *m, int rows,
                            const drnn_real *const in_states[], const drnn_token in[],
                            drnn_real *out_states, drnn_real *logits, drnn_error *err)
{
    if (rows < 1)
        return drnn_fail(err, DRNN_ERR_INVALID, "a batch of %d rows", rows);
    int rc = batch_reserve(st, rows, err);
    if (rc)
        return rc;
    const drnn_cell_ops *cell = st->cell;
    const int H = st->cfg.hidden, L = st->cfg.layers, V = st->cfg.vocab, K = st->nets;
    const size_t S = drnn_stepper_state_size(st), n = carried(st), R = (size_t)rows;
    const size_t GH = (size_t)cell->gates * (size_t)H, CH = (size_t)cell->cache * (size_t)H;
    const size_t RH = (size_t)cell->hbias * (size_t)H;
    drnn_real *prev = st->batch, *z = prev + R * S, *work = z + (size_t)K * R * (size_t)V;
    for (size_t r = 0; r < R; r++)
        memcpy(prev + r * S, in_states[r], S * sizeof *prev);

    /* Each network, layer by layer, every row at once: the rows share one
     * pass over each weight matrix, the point of a batch. A row's every
     * sum is the one feed_net computes (the products' elements do not
     * depend on how many rows they are given), and the networks of a
     * mixture, each with scratch of its own, run on the threads there are:
     * the bits do not depend on which thread runs which. */
    DRNN_OMP(omp parallel for schedule(dynamic, 1)
             num_threads(drnn_threads_for((size_t)K)) if(K > 1 && rows >= 4))
    for (int k = 0; k < K; k++) {
        const drnn_params *w = &m->nets[k];
        drnn_real *xproj = work + (size_t)k * R * (2 * GH + CH), *hproj = xproj + R * GH;
        drnn_real *cache = hproj + R * GH;
        for (int l = 0; l < L; l++) {
            const drnn_layer_view *p = &w->layer[l];
            const size_t at = ((size_t)k * (size_t)L + (size_t)l) * n;
            for (size_t r = 0; r < R; r++)
                memcpy(xproj + r * GH, p->b, GH * sizeof *xproj);
            if (l == 0)
                for (size_t r = 0; r < R; r++)
                    drnn_vec_acc(xproj + r * GH, p->W_x + (size_t)in[r] * GH, (int)GH);
            else
                drnn_gemm_xwt(xproj, GH, out_states + at - n, S, p->W_x, rows, (int)GH, H);
            memset(hproj, 0, R * GH * sizeof *hproj);
            drnn_gemm_xwt(hproj, GH, prev + at, S, p->W_h, rows, (int)GH, H);
            for (size_t r = 0; r < R; r++) {
                drnn_vec_acc(hproj + r * GH + GH - RH, p->b_h, (int)RH);
                cell->forward(cache + r * CH, prev + r * S + at, xproj + r * GH, hproj + r * GH, H);
                memcpy(out_states + r * S + at, cache + r * CH, n * sizeof *out_states);
            }
        }
        drnn_real *zk = z + (size_t)k * R * (size_t)V;
        for (size_t r = 0; r < R; r++)
            memcpy(zk + r * (size_t)V, w->b_y, (size_t)V * sizeof *zk);
        drnn_gemm_xwt(zk, (size_t)V, out_states + ((size_t)k * (size_t)L + (size_t)L - 1) * n, S,
                      w->W_y, rows, V, H);
    }
    for (size_t r = 0; r < R; r++)
        if (K == 1)
            memcpy(logits + r * (size_t)V, z + r * (size_t)V, (size_t)V * sizeof *logits);
        else
            mix(logits + r * (size_t)V, z + r * (size_t)V, R * (size_t)V, K, V);
    return drnn_ok(err);
}
