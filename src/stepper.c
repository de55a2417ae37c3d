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
 * one network or of each network of a mixture, under one label or, for
 * the label mixture, under each label (a lane per label).
 * The label mixture's lane k keeps z_k, its last logits (the members'
 * mixed log-probabilities for a mixture of members), and a_k = log w_k -
 * lse(z_k), where log w_k = log share_k + log P_k(prefix): feeding symbol v
 * makes log w_k = a_k + z_k[v]. Reset sets z_k = 0 and a_k = log share_k,
 * so that feeding END (any symbol) gives log w_k = log share_k. */
struct drnn_stepper {
    drnn_config cfg;
    const drnn_cell_ops *cell;
    int nets;                           /* 1, or the networks of a mixture */
    int label;                          /* 0..N-1, DRNN_LABEL_MIXTURE or DRNN_LABEL_NONE */
    int lanes;                          /* N for the label mixture, else 1 */
    int cap;                            /* lanes the block holds */
    net_state *p;                       /* [cap * nets] lane by lane */
    drnn_real *xproj, *hproj;           /* [G*H] scratch */
    drnn_real *mixed;                   /* [V] the members' mixture (nets > 1) */
    drnn_real *lane_z;                  /* [cap][V] each lane's logits (the label mixture) */
    drnn_real *logits;                  /* [V] what feed returns */
    double *log_share;                  /* [N] the label mixture's log shares */
    double *a;                          /* [cap] each lane's a_k */
    size_t size;                        /* scalars in block */
    drnn_real *block;
    size_t batch_size;                  /* scalars the batch scratch holds */
    drnn_real *batch;                   /* feed_batch's scratch, made on first use */
};

/* Scalars of a log weight (a double) in a saved state. */
#define DOUBLE_REALS ((sizeof(double) + sizeof(drnn_real) - 1) / sizeof(drnn_real))

/* (Re)makes st's buffers for cap lanes: the state they held is lost. */
static int make_lanes(drnn_stepper *st, int cap)
{
    const drnn_config *cfg = &st->cfg;
    const int nets = st->nets, N = cfg->labels;
    size_t H = (size_t)cfg->hidden, GH = (size_t)st->cell->gates * H;
    size_t CH = (size_t)st->cell->cache * H, V = (size_t)cfg->vocab;
    size_t per_net = ((size_t)cfg->layers + 1) * CH + V;
    size_t n = (size_t)cap * ((size_t)nets * per_net + V) + 2 * GH + V;
    drnn_real *block = drnn_zalloc_aligned(n * sizeof *block);
    net_state *p = calloc((size_t)cap * (size_t)nets, sizeof *p);
    double *dbl = calloc((size_t)N + (size_t)cap, sizeof *dbl);
    if (!block || !p || !dbl) {
        free(block), free(p), free(dbl);
        return DRNN_ERR_NOMEM;
    }
    if (st->log_share) /* the shares survive a change of lanes */
        memcpy(dbl, st->log_share, (size_t)N * sizeof *dbl);
    free(st->block), free(st->p), free(st->log_share);
    st->block = block, st->p = p, st->log_share = dbl, st->a = dbl + N;
    st->size = n;
    st->cap = cap;
    drnn_real *at = block;
    for (int k = 0; k < cap * nets; k++) {
        for (int l = 0; l < cfg->layers; l++)
            p[k].cache[l] = at, at += CH;
        p[k].next = at, at += CH;
        p[k].logits = at, at += V;
    }
    st->lane_z = at, at += (size_t)cap * V;
    st->xproj = at, at += GH;
    st->hproj = at, at += GH;
    st->mixed = at;
    return DRNN_OK;
}

/* Where feed's logits go: one network's own, else the mixed ones. */
static void bind_out(drnn_stepper *st)
{
    st->logits = st->nets > 1 || st->label == DRNN_LABEL_MIXTURE ? st->mixed : st->p[0].logits;
}

/* A new stepper of a labeled model starts under the model's label, or its
 * label mixture in the shares of its label_names (equal without them). */
static int start_label(drnn_stepper *st, const drnn_model *m, drnn_error *err)
{
    const int N = m->cfg.labels;
    if (m->label >= 0) {
        if (drnn_stepper_set_label(st, m->label) == DRNN_OK)
            return drnn_ok(err);
        drnn_stepper_free(st);
        return drnn_fail(err, DRNN_ERR_INVALID, "label %d is outside the model's 0..%d",
                         m->label, N - 1);
    }
    double shares[DRNN_MAX_LABELS], total = 0;
    for (int k = 0; k < N; k++)
        total += m->label_names ? (double)m->label_names[k] : 1;
    for (int k = 0; k < N; k++)
        shares[k] = (m->label_names ? (double)m->label_names[k] : 1) / total;
    int rc = drnn_stepper_set_label_mixture(st, shares);
    if (rc != DRNN_OK)
        drnn_stepper_free(st);
    return rc == DRNN_OK ? drnn_ok(err)
           : rc == DRNN_ERR_NOMEM
               ? drnn_fail(err, rc, "out of memory for the states of %d labels", N)
               : drnn_fail(err, rc, "the labels' shares are not a distribution (a label "
                                    "without training names)");
}

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
    drnn_stepper *st = calloc(1, sizeof *st);
    if (!st)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the generation state");
    st->cfg = *cfg;
    st->cell = drnn_cell_ops_of(cfg->cell);
    st->nets = nets;
    st->label = cfg->labels > 0 ? 0 : DRNN_LABEL_NONE;
    st->lanes = 1;
    if (make_lanes(st, 1)) {
        drnn_stepper_free(st);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the generation state");
    }
    bind_out(st);
    rc = cfg->labels > 0 ? start_label(st, m, err) : drnn_ok(err); /* frees st on failure */
    if (rc == DRNN_OK)
        *out = st;
    return rc;
}

void drnn_stepper_free(drnn_stepper *st)
{
    if (!st)
        return;
    free(st->block);
    free(st->p);
    free(st->log_share);
    free(st->batch);
    free(st);
}

void drnn_stepper_reset(drnn_stepper *st)
{
    memset(st->block, 0, st->size * sizeof *st->block);
    if (st->label == DRNN_LABEL_MIXTURE)
        memcpy(st->a, st->log_share, (size_t)st->lanes * sizeof *st->a);
}

int drnn_stepper_set_label(drnn_stepper *st, int label)
{
    if (label < 0 || label >= st->cfg.labels)
        return DRNN_ERR_INVALID;
    st->label = label;
    st->lanes = 1;
    bind_out(st);
    drnn_stepper_reset(st);
    return DRNN_OK;
}

int drnn_stepper_set_label_mixture(drnn_stepper *st, const double *shares)
{
    const int N = st->cfg.labels;
    double sum = 0;
    for (int k = 0; k < N; k++) {
        if (!(shares[k] > 0) || !isfinite(shares[k]))
            return DRNN_ERR_INVALID;
        sum += shares[k];
    }
    if (N == 0 || fabs(sum - 1) > 1e-6)
        return DRNN_ERR_INVALID;
    if (st->cap < N && make_lanes(st, N))
        return DRNN_ERR_NOMEM;
    for (int k = 0; k < N; k++)
        st->log_share[k] = log(shares[k] / sum);
    st->label = DRNN_LABEL_MIXTURE;
    st->lanes = N;
    bind_out(st);
    drnn_stepper_reset(st);
    return DRNN_OK;
}

int drnn_stepper_label(const drnn_stepper *st)
{
    return st->label;
}

void drnn_stepper_copy(drnn_stepper *dst, const drnn_stepper *src)
{
    if (dst->cap != src->cap && make_lanes(dst, src->cap))
        return; /* out of memory: dst keeps what it had */
    /* feed() swaps the cache pointers, so copy where they point as well. */
    memcpy(dst->block, src->block, src->size * sizeof *src->block);
    for (int k = 0; k < src->cap * src->nets; k++) {
        for (int l = 0; l < src->cfg.layers; l++)
            dst->p[k].cache[l] = dst->block + (src->p[k].cache[l] - src->block);
        dst->p[k].next = dst->block + (src->p[k].next - src->block);
    }
    memcpy(dst->log_share, src->log_share,
           ((size_t)src->cfg.labels + (size_t)src->cap) * sizeof *src->log_share);
    dst->label = src->label;
    dst->lanes = src->lanes;
    bind_out(dst);
}

/* One network's step: every layer, then its logits. */
static void feed_net(drnn_stepper *st, net_state *ps, const drnn_params *w, drnn_token in,
                     int label)
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
        if (l == 0 && w->W_l) /* the sum forward() makes */
            drnn_vec_acc(st->xproj, w->W_l + (size_t)label * GH, GH);
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

/* The label mixture's step, after each lane k's new logits z[k * zstep ..]:
 * logw[k] = log w_k after the symbol just fed; sets a[k] = logw[k] -
 * lse(z_k) and out[v] = log sum_k softmax(logw)_k p_k(v), in double. The
 * one way feed and feed_batch mix labels, so that their bits agree. */
static void mix_labels(drnn_real *out, const drnn_real *z, size_t zstep, const double *logw,
                       double *a, int N, int V)
{
    double top = -HUGE_VAL, s = 0;
    for (int k = 0; k < N; k++)
        top = logw[k] > top ? logw[k] : top;
    for (int k = 0; k < N; k++) {
        s += exp(logw[k] - top);
        a[k] = logw[k] - log_sum_exp(z + (size_t)k * zstep, V);
    }
    const double norm = top + log(s);
    for (int v = 0; v < V; v++) {
        double best = -HUGE_VAL, sum = 0;
        for (int k = 0; k < N; k++) {
            double x = a[k] + (double)z[(size_t)k * zstep + (size_t)v];
            best = x > best ? x : best;
        }
        for (int k = 0; k < N; k++)
            sum += exp(a[k] + (double)z[(size_t)k * zstep + (size_t)v] - best);
        out[v] = (drnn_real)(best + log(sum) - norm);
    }
}

/* log w_k after feeding in, from a lane's a_k and last logits z_k. */
static double lane_weight(double a, const drnn_real *z, drnn_token in)
{
    return a + (double)z[in];
}

const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_model *m, drnn_token in)
{
    const int V = m->cfg.vocab, K = st->nets;
    if (st->label != DRNN_LABEL_MIXTURE) {
        for (int k = 0; k < K; k++)
            feed_net(st, &st->p[k], &m->nets[k], in, st->label);
        if (K > 1) /* the networks' logits lie one per_net apart in block */
            mix(st->logits, st->p[0].logits, (size_t)(st->p[1].logits - st->p[0].logits), K, V);
        return st->logits;
    }
    double logw[DRNN_MAX_LABELS];
    for (int j = 0; j < st->lanes; j++) {
        drnn_real *zj = st->lane_z + (size_t)j * (size_t)V;
        net_state *ps = st->p + (size_t)j * (size_t)K;
        logw[j] = lane_weight(st->a[j], zj, in);
        for (int k = 0; k < K; k++)
            feed_net(st, &ps[k], &m->nets[k], in, j);
        if (K > 1)
            mix(zj, ps[0].logits, (size_t)(ps[1].logits - ps[0].logits), K, V);
        else
            memcpy(zj, ps[0].logits, (size_t)V * sizeof *zj);
    }
    mix_labels(st->logits, st->lane_z, (size_t)V, logw, st->a, st->lanes, V);
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

/* Scalars of the lanes' hidden states in a saved state; the label
 * mixture's z_k and a_k follow them. */
static size_t hidden_size(const drnn_stepper *st)
{
    return (size_t)st->lanes * (size_t)st->nets * (size_t)st->cfg.layers * carried(st);
}

size_t drnn_stepper_state_size(const drnn_stepper *st)
{
    size_t extra = st->label == DRNN_LABEL_MIXTURE
                       ? (size_t)st->lanes * ((size_t)st->cfg.vocab + DOUBLE_REALS)
                       : 0;
    return hidden_size(st) + extra;
}

void drnn_stepper_save_state(const drnn_stepper *st, drnn_real *state)
{
    size_t n = carried(st);
    for (int k = 0; k < st->lanes * st->nets; k++)
        for (int l = 0; l < st->cfg.layers; l++, state += n)
            memcpy(state, st->p[k].cache[l], n * sizeof *state);
    if (st->label != DRNN_LABEL_MIXTURE)
        return;
    const size_t NV = (size_t)st->lanes * (size_t)st->cfg.vocab;
    memcpy(state, st->lane_z, NV * sizeof *state);
    memcpy(state + NV, st->a, (size_t)st->lanes * sizeof *st->a); /* the bits, not a value */
}

void drnn_stepper_load_state(drnn_stepper *st, const drnn_real *state)
{
    size_t n = carried(st);
    for (int k = 0; k < st->lanes * st->nets; k++)
        for (int l = 0; l < st->cfg.layers; l++, state += n)
            memcpy(st->p[k].cache[l], state, n * sizeof *state);
    if (st->label != DRNN_LABEL_MIXTURE)
        return;
    const size_t NV = (size_t)st->lanes * (size_t)st->cfg.vocab;
    memcpy(st->lane_z, state, NV * sizeof *state);
    memcpy(st->a, state + NV, (size_t)st->lanes * sizeof *st->a);
}

/* The batch scratch for rows rows: their gathered states, and for each
 * lane's every network projections, one layer's caches and logits. */
static int batch_reserve(drnn_stepper *st, int rows, drnn_error *err)
{
    const drnn_cell_ops *cell = st->cell;
    size_t H = (size_t)st->cfg.hidden, V = (size_t)st->cfg.vocab, R = (size_t)rows;
    size_t per_row = drnn_stepper_state_size(st) +
                     (size_t)st->lanes * (size_t)st->nets *
                         (2 * (size_t)cell->gates * H + (size_t)cell->cache * H + V);
    int overflow = 0;
    size_t n = drnn_mul_size(R, per_row, &overflow);
    if (!overflow && n <= st->batch_size)
        return DRNN_OK;
    size_t bytes = drnn_mul_size(n, sizeof(drnn_real), &overflow);
    drnn_real *batch = overflow ? NULL : drnn_zalloc_aligned(bytes);
    if (!batch)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a batch of %d states", rows);
    free(st->batch);
    st->batch = batch;
    st->batch_size = n;
    return DRNN_OK;
}

/* Network k (lane k / nets) of every row, layer by layer, from the
 * gathered states prev into out_states, and its logits into zk. */
static void batch_net(const drnn_stepper *st, const drnn_params *w, int k, int label, int rows,
                      const drnn_real *prev, const drnn_token in[], drnn_real *out_states,
                      drnn_real *work, drnn_real *zk)
{
    const drnn_cell_ops *cell = st->cell;
    const int H = st->cfg.hidden, L = st->cfg.layers, V = st->cfg.vocab;
    const size_t S = drnn_stepper_state_size(st), n = carried(st), R = (size_t)rows;
    const size_t GH = (size_t)cell->gates * (size_t)H, CH = (size_t)cell->cache * (size_t)H;
    const size_t RH = (size_t)cell->hbias * (size_t)H;
    drnn_real *xproj = work, *hproj = xproj + R * GH, *cache = hproj + R * GH;
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
        if (l == 0 && w->W_l)
            for (size_t r = 0; r < R; r++)
                drnn_vec_acc(xproj + r * GH, w->W_l + (size_t)label * GH, (int)GH);
        memset(hproj, 0, R * GH * sizeof *hproj);
        drnn_gemm_xwt(hproj, GH, prev + at, S, p->W_h, rows, (int)GH, H);
        for (size_t r = 0; r < R; r++) {
            drnn_vec_acc(hproj + r * GH + GH - RH, p->b_h, (int)RH);
            cell->forward(cache + r * CH, prev + r * S + at, xproj + r * GH, hproj + r * GH, H);
            memcpy(out_states + r * S + at, cache + r * CH, n * sizeof *out_states);
        }
    }
    for (size_t r = 0; r < R; r++)
        memcpy(zk + r * (size_t)V, w->b_y, (size_t)V * sizeof *zk);
    drnn_gemm_xwt(zk, (size_t)V, out_states + ((size_t)k * (size_t)L + (size_t)L - 1) * n, S,
                  w->W_y, rows, V, H);
}

/* Row r's label mixture: its lanes' logits into its new state (the
 * members' mixed for a mixture), a_k there too, and its logits. */
static void batch_mix_labels(const drnn_stepper *st, size_t r, size_t R, const drnn_real *prev,
                             drnn_token in, const drnn_real *z, drnn_real *out_state,
                             drnn_real *logits)
{
    const int V = st->cfg.vocab, K = st->nets, N = st->lanes;
    const size_t NV = (size_t)N * (size_t)V, hid = hidden_size(st);
    const drnn_real *z_in = prev + hid;
    drnn_real *z_out = out_state + hid;
    double a[DRNN_MAX_LABELS], logw[DRNN_MAX_LABELS];
    memcpy(a, z_in + NV, (size_t)N * sizeof *a);
    for (int j = 0; j < N; j++) {
        const drnn_real *zj = z + ((size_t)j * (size_t)K * R + r) * (size_t)V;
        logw[j] = lane_weight(a[j], z_in + (size_t)j * (size_t)V, in);
        if (K > 1)
            mix(z_out + (size_t)j * (size_t)V, zj, R * (size_t)V, K, V);
        else
            memcpy(z_out + (size_t)j * (size_t)V, zj, (size_t)V * sizeof *zj);
    }
    mix_labels(logits, z_out, (size_t)V, logw, a, N, V);
    memcpy(z_out + NV, a, (size_t)N * sizeof *a);
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
    const int H = st->cfg.hidden, V = st->cfg.vocab, K = st->nets, KL = st->lanes * K;
    const size_t S = drnn_stepper_state_size(st), R = (size_t)rows;
    const size_t per_net = R * (2 * (size_t)cell->gates + (size_t)cell->cache) * (size_t)H;
    drnn_real *prev = st->batch, *z = prev + R * S, *work = z + (size_t)KL * R * (size_t)V;
    for (size_t r = 0; r < R; r++)
        memcpy(prev + r * S, in_states[r], S * sizeof *prev);

    /* Each network of each lane, every row at once: the rows share one
     * pass over each weight matrix, the point of a batch. A row's every
     * sum is the one feed_net computes (the products' elements do not
     * depend on how many rows they are given), and the networks, each with
     * scratch of its own, run on the threads there are: the bits do not
     * depend on which thread runs which. */
    const int label = st->label;
    DRNN_OMP(omp parallel for schedule(dynamic, 1)
             num_threads(drnn_threads_for((size_t)KL)) if(KL > 1 && rows >= 4))
    for (int k = 0; k < KL; k++)
        batch_net(st, &m->nets[k % K], k, label == DRNN_LABEL_MIXTURE ? k / K : label, rows,
                  prev, in, out_states, work + (size_t)k * per_net, z + (size_t)k * R * (size_t)V);
    for (size_t r = 0; r < R; r++)
        if (label == DRNN_LABEL_MIXTURE)
            batch_mix_labels(st, r, R, prev + r * S, in[r], z, out_states + r * S,
                             logits + r * (size_t)V);
        else if (K == 1)
            memcpy(logits + r * (size_t)V, z + r * (size_t)V, (size_t)V * sizeof *logits);
        else
            mix(logits + r * (size_t)V, z + r * (size_t)V, R * (size_t)V, K, V);
    return drnn_ok(err);
}
