/* model.c: parameter layout, initialisation, and the forward pass and BPTT of
 * a stack of recurrent layers over one name (see model.h and docs/model.md).
 *
 * The passes run layer by layer over all time steps rather than step by step
 * through all layers: a layer's input projections for every step are known
 * before its recurrence starts, and in backward the gradient reaching a layer
 * from above is complete before its recurrence is unrolled backwards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "internal.h"
#include "kernels.h"

static const drnn_cell_ops *const cell_table[DRNN_CELL_KIND_COUNT] = {
    [DRNN_CELL_RNN] = &drnn_cell_rnn,
    [DRNN_CELL_LSTM] = &drnn_cell_lstm,
    [DRNN_CELL_GRU] = &drnn_cell_gru,
};

const drnn_cell_ops *drnn_cell_ops_of(drnn_cell_kind kind)
{
    if ((int)kind < 0 || kind >= DRNN_CELL_KIND_COUNT)
        return NULL;
    return cell_table[kind];
}

int drnn_cell_gates(drnn_cell_kind kind)
{
    const drnn_cell_ops *ops = drnn_cell_ops_of(kind);
    return ops ? ops->gates : 0;
}

const char *drnn_cell_name(drnn_cell_kind kind)
{
    const drnn_cell_ops *ops = drnn_cell_ops_of(kind);
    return ops ? ops->name : NULL;
}

int drnn_cell_parse(const char *s)
{
    for (int k = 0; k < DRNN_CELL_KIND_COUNT; k++)
        if (cell_table[k] && strcmp(s, cell_table[k]->name) == 0)
            return k;
    return -1;
}

int drnn_config_check(const drnn_config *cfg, drnn_error *err)
{
    if (cfg->vocab < 2 || cfg->vocab > DRNN_MAX_VOCAB)
        return drnn_fail(err, DRNN_ERR_INVALID, "vocabulary size %d is outside 2..%d",
                         cfg->vocab, DRNN_MAX_VOCAB);
    if (cfg->hidden < 1 || cfg->hidden > DRNN_MAX_HIDDEN)
        return drnn_fail(err, DRNN_ERR_INVALID, "hidden size %d is outside 1..%d",
                         cfg->hidden, DRNN_MAX_HIDDEN);
    if (cfg->layers < 1 || cfg->layers > DRNN_MAX_LAYERS)
        return drnn_fail(err, DRNN_ERR_INVALID, "layer count %d is outside 1..%d",
                         cfg->layers, DRNN_MAX_LAYERS);
    if (!drnn_cell_ops_of(cfg->cell))
        return drnn_fail(err, DRNN_ERR_INVALID, "unknown cell kind %d", (int)cfg->cell);
    return drnn_ok(err);
}

/* With the limits above every count fits easily in size_t: the largest model
 * is 16 layers of 4 * 4096^2 * 2 scalars, about 2^31. */
size_t drnn_param_count(const drnn_config *cfg)
{
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t V = (size_t)cfg->vocab, H = (size_t)cfg->hidden;
    size_t GH = (size_t)cell->gates * H, RH = (size_t)cell->hbias * H;
    size_t n = 0;
    for (int l = 0; l < cfg->layers; l++)
        n += (l == 0 ? V : H) * GH + GH * H + GH + RH;
    return n + V * H + V;
}

void drnn_params_bind(drnn_params *p, const drnn_config *cfg, drnn_real *data)
{
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t V = (size_t)cfg->vocab, H = (size_t)cfg->hidden;
    size_t GH = (size_t)cell->gates * H, RH = (size_t)cell->hbias * H;
    drnn_real *at = data;
    memset(p->layer, 0, sizeof p->layer);
    p->cfg = *cfg;
    p->count = drnn_param_count(cfg);
    p->data = data;
    for (int l = 0; l < cfg->layers; l++) {
        p->layer[l].W_x = at;
        at += (l == 0 ? V : H) * GH;
        p->layer[l].W_h = at;
        at += GH * H;
        p->layer[l].b = at;
        at += GH;
        p->layer[l].b_h = at;
        at += RH;
    }
    p->W_y = at;
    at += V * H;
    p->b_y = at;
}

int drnn_params_alloc(drnn_params *p, const drnn_config *cfg, drnn_error *err)
{
    memset(p, 0, sizeof *p);
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    size_t n = drnn_param_count(cfg);
    drnn_real *data = calloc(n, sizeof *data);
    if (!data)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %zu parameters", n);
    drnn_params_bind(p, cfg, data);
    return DRNN_OK;
}

void drnn_params_free(drnn_params *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

void drnn_params_zero(drnn_params *p)
{
    memset(p->data, 0, p->count * sizeof *p->data);
}

static void fill_uniform(drnn_real *x, size_t n, double scale, drnn_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (drnn_real)((2.0 * drnn_rng_uniform(rng) - 1.0) * scale);
}

void drnn_params_init(drnn_params *p, drnn_rng *rng)
{
    const drnn_config *cfg = &p->cfg;
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t V = (size_t)cfg->vocab, H = (size_t)cfg->hidden;
    size_t GH = (size_t)cell->gates * H;
    double scale = 1.0 / sqrt((double)H);
    drnn_params_zero(p);
    for (int l = 0; l < cfg->layers; l++) {
        fill_uniform(p->layer[l].W_x, (l == 0 ? V : H) * GH, scale, rng);
        fill_uniform(p->layer[l].W_h, GH * H, scale, rng);
        if (cell->init_bias)
            cell->init_bias(p->layer[l].b, cfg->hidden);
    }
    fill_uniform(p->W_y, V * H, scale, rng);
}

/* Per-thread workspace; every array is a slice of one allocation.
 * Dropout masks: mask[l] (l = 1 .. L-1) scales the input of layer l, that is
 * the output of layer l - 1; mask[L] scales the input of the output layer.
 * drop[l] holds the input so scaled. */
struct drnn_scratch {
    drnn_config cfg;
    const drnn_cell_ops *cell;
    int max_steps;                          /* T_max = max_len + 1 */
    double drop_p;                          /* dropout probability of the next pass */
    uint64_t drop_seed;                     /* ... and the seed of its masks */
    drnn_token *in, *out;                   /* [T] inputs and targets */
    drnn_real *xproj[DRNN_MAX_LAYERS];      /* [T][G*H] */
    drnn_real *hproj[DRNN_MAX_LAYERS];      /* [T][G*H] */
    drnn_real *cache[DRNN_MAX_LAYERS];      /* [T][C*H] */
    drnn_real *mask[DRNN_MAX_LAYERS + 1];   /* [T][H] 0 or 1/(1-p) */
    drnn_real *drop[DRNN_MAX_LAYERS + 1];   /* [T][H] */
    drnn_real *zero;                        /* [C*H] the state before step 0 */
    drnn_real *probs;                       /* [T][V] softmax outputs */
    drnn_real *dh;                          /* [T][H] dloss/d(output of the current layer) */
    drnn_real *dh_below;                    /* [T][H] the same for the layer below */
    drnn_real *dxproj;                      /* [T][G*H] */
    drnn_real *dhproj;                      /* [T][G*H] */
    drnn_real *dh_next;                     /* [H] gradient reaching h_{t-1} */
    drnn_real *dcarry;                      /* [K*H] */
    drnn_real *block;                       /* the allocation */
};

int drnn_scratch_new(drnn_scratch **out, const drnn_config *cfg, int max_len, drnn_error *err)
{
    *out = NULL;
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    if (max_len < 0 || max_len > DRNN_MAX_NAME_LEN)
        return drnn_fail(err, DRNN_ERR_INVALID, "name length %d is outside 0..%d",
                         max_len, DRNN_MAX_NAME_LEN);
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t T = (size_t)max_len + 1, V = (size_t)cfg->vocab, H = (size_t)cfg->hidden;
    size_t L = (size_t)cfg->layers;
    size_t GH = (size_t)cell->gates * H, CH = (size_t)cell->cache * H;
    size_t KH = (size_t)(cell->carry > 0 ? cell->carry : 1) * H;
    size_t n = L * T * (2 * GH + CH) + 2 * L * T * H + CH + T * V + 2 * T * H + 2 * T * GH +
               H + KH;

    drnn_scratch *s = calloc(1, sizeof *s);
    drnn_real *block = calloc(n, sizeof *block);
    drnn_token *tokens = calloc(2 * T, sizeof *tokens);
    if (!s || !block || !tokens) {
        free(s), free(block), free(tokens);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the training workspace");
    }
    s->cfg = *cfg;
    s->cell = cell;
    s->max_steps = (int)T;
    s->in = tokens;
    s->out = tokens + T;
    s->block = block;
    drnn_real *at = block;
    for (size_t l = 0; l < L; l++) {
        s->xproj[l] = at, at += T * GH;
        s->hproj[l] = at, at += T * GH;
        s->cache[l] = at, at += T * CH;
    }
    for (size_t l = 1; l <= L; l++) {
        s->mask[l] = at, at += T * H;
        s->drop[l] = at, at += T * H;
    }
    s->zero = at, at += CH;
    s->probs = at, at += T * V;
    s->dh = at, at += T * H;
    s->dh_below = at, at += T * H;
    s->dxproj = at, at += T * GH;
    s->dhproj = at, at += T * GH;
    s->dh_next = at, at += H;
    s->dcarry = at;
    *out = s;
    return drnn_ok(err);
}

void drnn_scratch_free(drnn_scratch *s)
{
    if (!s)
        return;
    free(s->block);
    free(s->in);
    free(s);
}

void drnn_scratch_set_dropout(drnn_scratch *s, double p, uint64_t seed)
{
    s->drop_p = p;
    s->drop_seed = seed;
}

/* Fills inputs [END, c1..cn] and targets [c1..cn, END]; returns T = n + 1. */
static int frame_name(drnn_scratch *s, const drnn_token *name, int len)
{
    s->in[0] = DRNN_END;
    for (int t = 0; t < len; t++) {
        s->in[t + 1] = name[t];
        s->out[t] = name[t];
    }
    s->out[len] = DRNN_END;
    return len + 1;
}

/* Draws every mask of the pass from the scratch's seed (inverted dropout:
 * kept units are scaled by 1/(1-p), so nothing changes at inference). */
static void draw_masks(drnn_scratch *s, int T)
{
    const int H = s->cfg.hidden, L = s->cfg.layers;
    const drnn_real keep = (drnn_real)(1.0 / (1.0 - s->drop_p));
    drnn_rng rng;
    drnn_rng_seed(&rng, s->drop_seed);
    for (int l = 1; l <= L; l++)
        for (size_t i = 0; i < (size_t)T * H; i++)
            s->mask[l][i] = drnn_rng_uniform(&rng) < s->drop_p ? 0 : keep;
}

/* The input of layer l (1 .. L, L being the output layer) at every step:
 * the output of layer l - 1, through the dropout mask when there is one.
 * Sets *stride to the distance between steps. */
static const drnn_real *layer_input(drnn_scratch *s, int l, int T, size_t *stride)
{
    const int H = s->cfg.hidden, CH = s->cell->cache * H;
    const drnn_real *h = s->cache[l - 1];
    if (s->drop_p <= 0) {
        *stride = (size_t)CH;
        return h;
    }
    drnn_real *d = s->drop[l];
    const drnn_real *m = s->mask[l];
    for (int t = 0; t < T; t++)
        for (int k = 0; k < H; k++)
            d[(size_t)t * H + k] = h[(size_t)t * CH + k] * m[(size_t)t * H + k];
    *stride = (size_t)H;
    return d;
}

/* Runs every layer over T steps and the softmax; returns the summed loss. */
static double forward(const drnn_params *w, drnn_scratch *s, int T)
{
    const drnn_cell_ops *cell = s->cell;
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int GH = cell->gates * H, CH = cell->cache * H, RH = cell->hbias * H;
    if (s->drop_p > 0)
        draw_masks(s, T);

    for (int l = 0; l < L; l++) {
        const drnn_layer_view *p = &w->layer[l];
        drnn_real *xproj = s->xproj[l], *hproj = s->hproj[l], *cache = s->cache[l];
        size_t stride = 0;
        const drnn_real *x = l > 0 ? layer_input(s, l, T, &stride) : NULL;
        /* Input projections of every step at once: they do not depend on
         * time, and one product reads W_x once for all steps. */
        for (int t = 0; t < T; t++) {
            drnn_real *xp = xproj + (size_t)t * GH;
            memcpy(xp, p->b, (size_t)GH * sizeof *xp);
            if (l == 0)
                drnn_vec_acc(xp, p->W_x + (size_t)s->in[t] * GH, GH);
        }
        if (l > 0)
            drnn_gemm_xwt(xproj, (size_t)GH, x, stride, p->W_x, T, GH, H);
        for (int t = 0; t < T; t++) {
            drnn_real *hp = hproj + (size_t)t * GH;
            const drnn_real *prev = t == 0 ? s->zero : cache + (size_t)(t - 1) * CH;
            memset(hp, 0, (size_t)GH * sizeof *hp);
            if (t > 0)
                drnn_gemm_xwt(hp, (size_t)GH, prev, 0, p->W_h, 1, GH, H);
            drnn_vec_acc(hp + GH - RH, p->b_h, RH);
            cell->forward(cache + (size_t)t * CH, prev, xproj + (size_t)t * GH, hp, H);
        }
    }

    double loss = 0;
    size_t stride;
    const drnn_real *top = layer_input(s, L, T, &stride);
    for (int t = 0; t < T; t++)
        memcpy(s->probs + (size_t)t * V, w->b_y, (size_t)V * sizeof *s->probs);
    drnn_gemm_xwt(s->probs, (size_t)V, top, stride, w->W_y, T, V, H);
    for (int t = 0; t < T; t++) {
        drnn_real *z = s->probs + (size_t)t * V;
        drnn_real zmax;
        drnn_real target = z[s->out[t]];
        double lognorm = drnn_softmax(z, V, &zmax);
        loss += lognorm - ((double)target - zmax);
    }
    return loss;
}

double drnn_softmax(drnn_real *z, int V, drnn_real *zmax_out)
{
    /* Subtract the largest logit so that no exp overflows. */
    drnn_real zmax = z[0];
    for (int v = 1; v < V; v++)
        if (z[v] > zmax)
            zmax = z[v];
    double sum = 0;
    for (int v = 0; v < V; v++) {
        z[v] = drnn_exp(z[v] - zmax);
        sum += z[v];
    }
    drnn_real inv = (drnn_real)(1.0 / sum);
    for (int v = 0; v < V; v++)
        z[v] *= inv;
    *zmax_out = zmax;
    return log(sum);
}

double drnn_name_loss(const drnn_params *w, drnn_scratch *s, const drnn_token *name, int len)
{
    if (len < 0 || len >= s->max_steps)
        return NAN;
    return forward(w, s, frame_name(s, name, len));
}

/* g[n] *= m[n] */
static void scale_by_mask(drnn_real *g, const drnn_real *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] *= m[i];
}

double drnn_name_loss_grad(const drnn_params *w, drnn_params *g, drnn_scratch *s,
                           const drnn_token *name, int len)
{
    if (len < 0 || len >= s->max_steps)
        return NAN;
    const int T = frame_name(s, name, len);
    const double loss = forward(w, s, T);
    const drnn_cell_ops *cell = s->cell;
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int GH = cell->gates * H, CH = cell->cache * H, KH = cell->carry * H;
    const int RH = cell->hbias * H;
    const int dropout = s->drop_p > 0;

    /* Softmax cross-entropy: dloss/dlogits = p - onehot(target). */
    drnn_real *dh = s->dh, *dh_below = s->dh_below;
    size_t stride = dropout ? (size_t)H : (size_t)CH;
    const drnn_real *top = dropout ? s->drop[L] : s->cache[L - 1];
    drnn_real *dz = s->probs;
    for (int t = 0; t < T; t++) {
        dz[(size_t)t * V + s->out[t]] -= 1;
        drnn_vec_acc(g->b_y, dz + (size_t)t * V, V);
    }
    drnn_gemm_ytx(g->W_y, dz, (size_t)V, top, stride, T, V, H);
    memset(dh, 0, (size_t)T * H * sizeof *dh);
    drnn_gemm_yw(dh, (size_t)H, dz, (size_t)V, w->W_y, T, V, H);
    if (dropout)
        scale_by_mask(dh, s->mask[L], (size_t)T * H);

    for (int l = L - 1; l >= 0; l--) {
        const drnn_layer_view *p = &w->layer[l];
        drnn_layer_view *gp = &g->layer[l];
        const drnn_real *xproj = s->xproj[l], *hproj = s->hproj[l], *cache = s->cache[l];

        /* Unroll the recurrence backwards. dh[t] gains dh_next, the gradient
         * that reached h_t from step t + 1 (through W_h, and directly). */
        memset(s->dh_next, 0, (size_t)H * sizeof *s->dh_next);
        if (KH)
            memset(s->dcarry, 0, (size_t)KH * sizeof *s->dcarry);
        for (int t = T - 1; t >= 0; t--) {
            drnn_real *dht = dh + (size_t)t * H, *dhp = s->dhproj + (size_t)t * GH;
            const drnn_real *prev = t == 0 ? s->zero : cache + (size_t)(t - 1) * CH;
            drnn_vec_acc(dht, s->dh_next, H);
            memset(s->dh_next, 0, (size_t)H * sizeof *s->dh_next);
            cell->backward(s->dxproj + (size_t)t * GH, dhp, s->dh_next, s->dcarry, dht,
                           cache + (size_t)t * CH, prev,
                           xproj + (size_t)t * GH, hproj + (size_t)t * GH, H);
            if (t > 0)
                drnn_gemm_yw(s->dh_next, 0, dhp, 0, p->W_h, 1, GH, H);
        }
        /* Weight gradients of all steps at once: dW_h pairs step t with
         * h_{t-1}; step 0 saw h_0 = 0 and adds nothing. */
        drnn_gemm_ytx(gp->W_h, s->dhproj + GH, (size_t)GH, cache, (size_t)CH, T - 1, GH, H);
        for (int t = 0; t < T; t++) {
            drnn_vec_acc(gp->b_h, s->dhproj + (size_t)t * GH + GH - RH, RH);
            drnn_vec_acc(gp->b, s->dxproj + (size_t)t * GH, GH);
        }

        /* Input side: weights, and the gradient for the layer below. */
        if (l == 0) {
            for (int t = 0; t < T; t++)
                drnn_vec_acc(gp->W_x + (size_t)s->in[t] * GH, s->dxproj + (size_t)t * GH, GH);
        } else {
            stride = dropout ? (size_t)H : (size_t)CH;
            const drnn_real *x = dropout ? s->drop[l] : s->cache[l - 1];
            drnn_gemm_ytx(gp->W_x, s->dxproj, (size_t)GH, x, stride, T, GH, H);
            memset(dh_below, 0, (size_t)T * H * sizeof *dh_below);
            drnn_gemm_yw(dh_below, (size_t)H, s->dxproj, (size_t)GH, p->W_x, T, GH, H);
            if (dropout)
                scale_by_mask(dh_below, s->mask[l], (size_t)T * H);
        }
        drnn_real *tmp = dh;
        dh = dh_below;
        dh_below = tmp;
    }
    return loss;
}

/* The generation-time twin of forward(): one step through every layer. */
struct drnn_stepper {
    drnn_config cfg;
    const drnn_cell_ops *cell;
    drnn_real *cache[DRNN_MAX_LAYERS];  /* [C*H] each layer's last step */
    drnn_real *next;                    /* [C*H] the step being computed */
    drnn_real *xproj, *hproj;           /* [G*H] */
    drnn_real *logits;                  /* [V] */
    size_t size;                        /* scalars in block */
    drnn_real *block;
};

int drnn_stepper_new(drnn_stepper **out, const drnn_config *cfg, drnn_error *err)
{
    *out = NULL;
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    size_t H = (size_t)cfg->hidden, GH = (size_t)cell->gates * H, CH = (size_t)cell->cache * H;
    size_t n = ((size_t)cfg->layers + 1) * CH + 2 * GH + (size_t)cfg->vocab;
    drnn_stepper *st = calloc(1, sizeof *st);
    drnn_real *block = calloc(n, sizeof *block);
    if (!st || !block) {
        free(st), free(block);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the generation state");
    }
    st->cfg = *cfg;
    st->cell = cell;
    st->block = block;
    st->size = n;
    drnn_real *at = block;
    for (int l = 0; l < cfg->layers; l++)
        st->cache[l] = at, at += CH;
    st->next = at, at += CH;
    st->xproj = at, at += GH;
    st->hproj = at, at += GH;
    st->logits = at;
    *out = st;
    return drnn_ok(err);
}

void drnn_stepper_free(drnn_stepper *st)
{
    if (!st)
        return;
    free(st->block);
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
    for (int l = 0; l < src->cfg.layers; l++)
        dst->cache[l] = dst->block + (src->cache[l] - src->block);
    dst->next = dst->block + (src->next - src->block);
}

const drnn_real *drnn_stepper_feed(drnn_stepper *st, const drnn_params *w, drnn_token in)
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
            drnn_gemm_xwt(st->xproj, 0, st->cache[l - 1], 0, p->W_x, 1, GH, H);
        memset(st->hproj, 0, (size_t)GH * sizeof *st->hproj);
        drnn_gemm_xwt(st->hproj, 0, st->cache[l], 0, p->W_h, 1, GH, H);
        drnn_vec_acc(st->hproj + GH - RH, p->b_h, RH);
        cell->forward(st->next, st->cache[l], st->xproj, st->hproj, H);
        drnn_real *tmp = st->cache[l];
        st->cache[l] = st->next;
        st->next = tmp;
    }
    memcpy(st->logits, w->b_y, (size_t)V * sizeof *st->logits);
    drnn_gemm_xwt(st->logits, 0, st->cache[L - 1], 0, w->W_y, 1, V, H);
    return st->logits;
}

const drnn_real *drnn_stepper_feed_logits(const drnn_stepper *st)
{
    return st->logits;
}
