/* bptt.c: the forward pass and backpropagation through time of a stack of
 * recurrent layers over a group of names, in per-thread workspaces; the
 * loss and gradient calls of model.h (see docs/model.md).
 *
 * The passes run layer by layer over all time steps rather than step by step
 * through all layers: a layer's input projections for every step are known
 * before its recurrence starts, and in backward the gradient reaching a layer
 * from above is complete before its recurrence is unrolled backwards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "bptt_internal.h"
#include "internal.h"
#include "kernels.h"

/* Per-thread workspace for a group of up to max_names names, every array a
 * slice of one allocation. Sizes in the comments: max_names, T_max steps,
 * R rows, H hidden units, and the cell's G gate blocks, C cache blocks and
 * K carry blocks of H values each (cell.h; G is docs/model.md's G).
 * Positions in the group are sorted by length, longest first, so the
 * names still running at step t are a prefix 0 .. a_t - 1.
 * The [R] arrays hold one row per step of each name, time-major and packed:
 * step t of position k is row offset[t] + k, R = offset[T0] rows in all.
 * So the recurrent product of one step is one GEMM over consecutive rows,
 * and every product that does not depend on time runs over all R rows at
 * once, reading its weights once per group instead of once per name.
 * Dropout masks: mask[l] (l = 1 .. L-1) scales the input of layer l, that is
 * the output of layer l - 1; mask[L] scales the input of the output layer.
 * drop[l] holds the input so scaled. */
struct drnn_scratch {
    drnn_config cfg;
    const drnn_cell_ops *cell;
    int max_steps;                          /* T_max = max_len + 1 */
    int max_names;                          /* names a group holds at most */
    int count;                              /* names in the current pass */
    double drop_p;                          /* dropout probability of the next pass */
    int *steps;                             /* [max_names] T of the name at each position */
    int *pos;                               /* [max_names] position of the caller's j-th name */
    int *offset;                            /* [T_max + 1] first row of each step */
    int rows;                               /* R */
    int *row_all;                           /* [R] rows, name by name in the caller's order */
    int *row_cur, *row_prev;                /* [R] the same for steps t >= 1, and t - 1 */
    uint64_t *seeds;                        /* [max_names] mask seed at each position */
    double *loss;                           /* [max_names] loss at each position */
    drnn_token *in, *out;                   /* [R] each row's input and target */
    uint16_t *label;                        /* [R] each row's label (labeled models) */
    drnn_real *xproj[DRNN_MAX_LAYERS];      /* [R][G*H] */
    drnn_real *hproj[DRNN_MAX_LAYERS];      /* [R][G*H] */
    drnn_real *cache[DRNN_MAX_LAYERS];      /* [R][C*H] */
    drnn_real *mask[DRNN_MAX_LAYERS + 1];   /* [R][H] 0 or 1/(1-p) */
    drnn_real *drop[DRNN_MAX_LAYERS + 1];   /* [R][H] */
    drnn_real *zero;                        /* [C*H] the state before step 0 */
    drnn_real *probs;                       /* [R][V] softmax outputs */
    drnn_real *dh;                          /* [R][H] dloss/d(output of the current layer) */
    drnn_real *dh_below;                    /* [R][H] the same for the layer below */
    drnn_real *dxproj;                      /* [R][G*H] */
    drnn_real *dhproj;                      /* [R][G*H] */
    drnn_real *dh_next;                     /* [max_names][H] gradient reaching h_{t-1} */
    drnn_real *dcarry;                      /* [max_names][K*H] (K = 0: one block, unused) */
    void *block;                            /* the allocation */
};

/* An array of n elements of `size` bytes at offset *at from base (NULL:
 * only counted); moves *at past it. */
static void *take(unsigned char *base, double *at, double n, size_t size)
{
    void *p = base ? base + (size_t)*at : NULL;
    *at += n * (double)size;
    return p;
}

/* The one layout of a workspace for groups of up to max_names names of up
 * to max_len symbols: its arrays placed from base, the block's first
 * multiple of DRNN_ALIGN (NULL: only counted). Returns the bytes the block
 * takes, in double (exact below 2^53, and no overflow whatever the sizes). */
static double lay_out(drnn_scratch *s, unsigned char *base, const drnn_config *cfg, int max_len,
                      int max_names)
{
    const drnn_cell_ops *cell = drnn_cell_ops_of(cfg->cell);
    const double n_names = max_names, T = (double)max_len + 1, V = cfg->vocab, H = cfg->hidden;
    const double GH = cell->gates * H, CH = cell->cache * H;
    const double KH = (cell->carry > 0 ? cell->carry : 1) * H;
    const size_t real = sizeof(drnn_real);
    /* 8-byte scalars first, then drnn_real, then the narrower types: each
     * part stays aligned for its type, and the reals start on a multiple of
     * DRNN_ALIGN (so do their arrays, when the hidden size is a multiple of
     * the vector width). */
    double at = 0;
    s->loss = take(base, &at, n_names, sizeof(double));
    s->seeds = take(base, &at, n_names, sizeof(uint64_t));
    const double scalars = at;
    at = ceil(at / DRNN_ALIGN) * DRNN_ALIGN;
    const double reals = at;
    for (int l = 0; l < cfg->layers; l++) {
        s->xproj[l] = take(base, &at, n_names * T * GH, real);
        s->hproj[l] = take(base, &at, n_names * T * GH, real);
        s->cache[l] = take(base, &at, n_names * T * CH, real);
    }
    for (int l = 1; l <= cfg->layers; l++) {
        s->mask[l] = take(base, &at, n_names * T * H, real);
        s->drop[l] = take(base, &at, n_names * T * H, real);
    }
    s->zero = take(base, &at, CH, real);
    s->probs = take(base, &at, n_names * T * V, real);
    s->dh = take(base, &at, n_names * T * H, real);
    s->dh_below = take(base, &at, n_names * T * H, real);
    s->dxproj = take(base, &at, n_names * T * GH, real);
    s->dhproj = take(base, &at, n_names * T * GH, real);
    s->dh_next = take(base, &at, n_names * H, real);
    s->dcarry = take(base, &at, n_names * KH, real);
    s->steps = take(base, &at, n_names, sizeof(int));
    s->pos = take(base, &at, n_names, sizeof(int));
    s->offset = take(base, &at, T + 1, sizeof(int));
    s->row_all = take(base, &at, n_names * T, sizeof(int));
    s->row_cur = take(base, &at, n_names * T, sizeof(int));
    s->row_prev = take(base, &at, n_names * T, sizeof(int));
    s->in = take(base, &at, n_names * T, sizeof(drnn_token));
    s->out = take(base, &at, n_names * T, sizeof(drnn_token));
    s->label = take(base, &at, n_names * T, sizeof(uint16_t));
    /* Twice DRNN_ALIGN: the block's start and the reals' start, each
     * rounded up by less than DRNN_ALIGN. */
    return scalars + 2 * DRNN_ALIGN + (at - reals);
}

double drnn_scratch_bytes(const drnn_config *cfg, int max_len, int max_names)
{
    if (drnn_config_check(cfg, NULL) != DRNN_OK)
        return 0;
    drnn_scratch counted;
    return lay_out(&counted, NULL, cfg, max_len, max_names);
}

int drnn_scratch_new_group(drnn_scratch **out, const drnn_config *cfg, int max_len,
                           int max_names, drnn_error *err)
{
    *out = NULL;
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    if (max_len < 0 || max_len > DRNN_MAX_NAME_LEN)
        return drnn_fail(err, DRNN_ERR_INVALID, "name length %d is outside 0..%d",
                         max_len, DRNN_MAX_NAME_LEN);
    if (max_names < 1 || max_names > DRNN_MAX_GROUP)
        return drnn_fail(err, DRNN_ERR_INVALID, "group of %d names is outside 1..%d",
                         max_names, DRNN_MAX_GROUP);
    drnn_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the training workspace");
    double bytes = lay_out(s, NULL, cfg, max_len, max_names);
    /* Beyond 2^53 the offsets, in double, would no longer be exact. */
    if (bytes > (double)(SIZE_MAX / 2) || bytes > 0x1p53) {
        free(s);
        return drnn_fail(err, DRNN_ERR_NOMEM, "the training workspace would take %.3g bytes",
                         bytes);
    }
    s->block = calloc(1, (size_t)bytes);
    if (!s->block) {
        free(s);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the training workspace");
    }
    s->cfg = *cfg;
    s->cell = drnn_cell_ops_of(cfg->cell);
    s->max_steps = max_len + 1;
    s->max_names = max_names;
    lay_out(s, drnn_align_up(s->block), cfg, max_len, max_names);
    *out = s;
    return drnn_ok(err);
}

int drnn_scratch_new(drnn_scratch **out, const drnn_config *cfg, int max_len, drnn_error *err)
{
    return drnn_scratch_new_group(out, cfg, max_len, 1, err);
}

void drnn_scratch_free(drnn_scratch *s)
{
    if (!s)
        return;
    free(s->block);
    free(s);
}

void drnn_scratch_set_dropout(drnn_scratch *s, double p)
{
    s->drop_p = p;
}

/* The row of step t of position k, and that row of an [R][width] array. */
static inline int row_of(const drnn_scratch *s, int k, int t)
{
    return s->offset[t] + k;
}
#define ROW(a, k, t, width) ((a) + (size_t)row_of(s, k, t) * (size_t)(width))

/* Names still running at step t: a prefix of the positions. */
static int active(const drnn_scratch *s, int t)
{
    int a = 0;
    while (a < s->count && s->steps[a] > t)
        a++;
    return a;
}

/* Places the group: position k gets the k-th longest name (ties in the
 * caller's order), inputs [END, c1..cn] and targets [c1..cn, END], and its
 * label on every row (a model of N > 0 labels); lays out the rows and lists them
 * in the caller's order. Returns 0, or -1 if a name does not fit or a
 * labeled model's label is missing or out of range. */
static int frame_group(drnn_scratch *s, const drnn_token *const *names, const uint16_t *labels,
                       int N, const int *lens, int count, const uint64_t *seeds)
{
    if (count < 1 || count > s->max_names || (N > 0 && !labels))
        return -1;
    for (int j = 0; j < count; j++) {
        if (lens[j] < 0 || lens[j] >= s->max_steps || (N > 0 && labels[j] >= N))
            return -1;
        int k = 0;
        for (int i = 0; i < count; i++)
            k += lens[i] > lens[j] || (lens[i] == lens[j] && i < j);
        s->pos[j] = k;
        s->steps[k] = lens[j] + 1;
        s->seeds[k] = seeds ? seeds[j] : 0;
    }
    s->count = count;
    const int T0 = s->steps[0];
    s->offset[0] = 0;
    for (int t = 0; t < T0; t++)
        s->offset[t + 1] = s->offset[t] + active(s, t);
    s->rows = s->offset[T0];
    int n_all = 0, n_cur = 0;
    for (int j = 0; j < count; j++) {
        const int k = s->pos[j], T = s->steps[k];
        for (int t = 0; t < T; t++) {
            const int r = row_of(s, k, t);
            s->in[r] = t == 0 ? DRNN_END : names[j][t - 1];
            s->out[r] = t + 1 < T ? names[j][t] : DRNN_END;
            s->label[r] = N > 0 ? labels[j] : 0;
            s->row_all[n_all++] = r;
            if (t > 0) {
                s->row_cur[n_cur] = r;
                s->row_prev[n_cur++] = row_of(s, k, t - 1);
            }
        }
    }
    return 0;
}

/* Draws every mask of name k from its seed (inverted dropout: kept units are
 * scaled by 1/(1-p), so nothing changes at inference). */
static void draw_masks(drnn_scratch *s, int k)
{
    const int H = s->cfg.hidden, L = s->cfg.layers, T = s->steps[k];
    const drnn_real keep = (drnn_real)(1.0 / (1.0 - s->drop_p));
    drnn_rng rng;
    drnn_rng_seed(&rng, s->seeds[k]);
    for (int l = 1; l <= L; l++)
        for (int t = 0; t < T; t++) {
            drnn_real *m = ROW(s->mask[l], k, t, H);
            for (int i = 0; i < H; i++)
                m[i] = drnn_rng_uniform(&rng) < s->drop_p ? 0 : keep;
        }
}

/* The input of layer l (1 .. L, L being the output layer) at every row: the
 * output of layer l - 1, through the dropout mask when there is one. Sets
 * *stride to the distance between rows. */
static const drnn_real *layer_input(drnn_scratch *s, int l, size_t *stride)
{
    const size_t H = (size_t)s->cfg.hidden, CH = (size_t)s->cell->cache * H;
    const drnn_real *h = s->cache[l - 1];
    if (s->drop_p <= 0) {
        *stride = CH;
        return h;
    }
    drnn_real *d = s->drop[l];
    const drnn_real *m = s->mask[l];
    for (size_t r = 0; r < (size_t)s->rows; r++)
        for (size_t i = 0; i < H; i++)
            d[r * H + i] = h[r * CH + i] * m[r * H + i];
    *stride = H;
    return d;
}

/* Runs every layer over the group and the softmax; fills s->loss. */
static void forward(const drnn_params *w, drnn_scratch *s)
{
    const drnn_cell_ops *cell = s->cell;
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int GH = cell->gates * H, CH = cell->cache * H, RH = cell->hbias * H;
    const int n = s->count, R = s->rows, T0 = s->steps[0];
    if (s->drop_p > 0)
        for (int k = 0; k < n; k++)
            draw_masks(s, k);

    for (int l = 0; l < L; l++) {
        const drnn_layer_view *p = &w->layer[l];
        /* Input projections of every row at once: they do not depend on
         * time, and one product reads W_x once for the whole group. */
        drnn_real *xproj = s->xproj[l];
        for (int r = 0; r < R; r++) {
            drnn_real *xp = xproj + (size_t)r * GH;
            memcpy(xp, p->b, (size_t)GH * sizeof *xp);
            if (l == 0)
                drnn_vec_acc(xp, p->W_x + (size_t)s->in[r] * GH, GH);
            if (l == 0 && w->W_l) /* the label: one more row, as if one-hot */
                drnn_vec_acc(xp, w->W_l + (size_t)s->label[r] * GH, GH);
        }
        if (l > 0) {
            size_t stride;
            const drnn_real *x = layer_input(s, l, &stride);
            drnn_gemm_xwt(xproj, (size_t)GH, x, stride, p->W_x, R, GH, H);
        }
        /* The recurrence, one step of every running name at a time: W_h is
         * read once per step for the whole group. */
        for (int t = 0; t < T0; t++) {
            const int a = s->offset[t + 1] - s->offset[t];
            drnn_real *hp = ROW(s->hproj[l], 0, t, GH);
            memset(hp, 0, (size_t)a * GH * sizeof *hp);
            if (t > 0)
                drnn_gemm_xwt(hp, (size_t)GH, ROW(s->cache[l], 0, t - 1, CH), (size_t)CH, p->W_h,
                              a, GH, H);
            for (int k = 0; k < a; k++) {
                drnn_vec_acc(hp + (size_t)k * GH + GH - RH, p->b_h, RH);
                cell->forward(ROW(s->cache[l], k, t, CH),
                              t == 0 ? s->zero : ROW(s->cache[l], k, t - 1, CH),
                              ROW(s->xproj[l], k, t, GH), hp + (size_t)k * GH, H);
            }
        }
    }

    size_t stride;
    const drnn_real *top = layer_input(s, L, &stride);
    for (int r = 0; r < R; r++)
        memcpy(s->probs + (size_t)r * V, w->b_y, (size_t)V * sizeof *s->probs);
    drnn_gemm_xwt(s->probs, (size_t)V, top, stride, w->W_y, R, V, H);
    for (int k = 0; k < n; k++) {
        double loss = 0;
        for (int t = 0; t < s->steps[k]; t++) {
            drnn_real *z = ROW(s->probs, k, t, V);
            drnn_real zmax;
            drnn_real target = z[*ROW(s->out, k, t, 1)];
            double lognorm = drnn_softmax(z, V, &zmax);
            loss += lognorm - ((double)target - zmax);
        }
        s->loss[k] = loss;
    }
}

double drnn_softmax(drnn_real *z, int V, drnn_real *zmax_out)
{
    /* Subtract the largest logit so that no exp overflows. */
    drnn_real zmax = z[0];
    for (int v = 1; v < V; v++)
        zmax = z[v] > zmax ? z[v] : zmax;
    for (int v = 0; v < V; v++)
        z[v] = drnn_exp(z[v] - zmax);
    /* Four running sums, v mod 4, added pairwise at the end: a fixed order,
     * without one long chain of dependent additions. */
    double part[4] = {0, 0, 0, 0};
    int v = 0;
    for (; v + 4 <= V; v += 4)
        for (int j = 0; j < 4; j++)
            part[j] += z[v + j];
    for (int j = 0; v < V; v++, j++)
        part[j] += z[v];
    double sum = (part[0] + part[1]) + (part[2] + part[3]);
    drnn_real inv = (drnn_real)(1.0 / sum);
    for (v = 0; v < V; v++)
        z[v] *= inv;
    *zmax_out = zmax;
    return log(sum);
}

/* The group's losses summed in the caller's order. */
static double total_loss(const drnn_scratch *s)
{
    double loss = 0;
    for (int j = 0; j < s->count; j++)
        loss += s->loss[s->pos[j]];
    return loss;
}

/* g[n] *= m[n] */
static void scale_by_mask(drnn_real *g, const drnn_real *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] *= m[i];
}

/* How backward() treats the gradient it is given. */
typedef enum grad_mode {
    GRAD_ADD,      /* adds to it */
    GRAD_SET,      /* writes over it: the same bits as adding to zeros,
                    * without zeroing the large matrices first */
    GRAD_SET_ROWS, /* the same, for a gradient whose W_x[0] is zero on
                    * entry: only the rows of the tokens read are written */
} grad_mode;

/* What backward() sums row by row rather than writes by a product: zeroed
 * first when it writes over the gradient. */
static void zero_row_sums(const drnn_params *w, drnn_params *g, const drnn_scratch *s,
                          grad_mode mode)
{
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int GH = s->cell->gates * H, RH = s->cell->hbias * H;
    memset(g->b_y, 0, (size_t)V * sizeof *g->b_y);
    if (mode == GRAD_SET)
        memset(g->layer[0].W_x, 0, (size_t)V * GH * sizeof *g->b_y);
    for (int l = 0; l < L; l++)
        memset(g->layer[l].b, 0, (size_t)(GH + RH) * sizeof *g->b_y);
    if (g->W_l) /* N rows: small, cleared whole in both modes */
        memset(g->W_l, 0, (size_t)w->cfg.labels * GH * sizeof *g->b_y);
}

/* The output layer: the gradients of W_y and b_y, and in s->dh the
 * gradient reaching the top layer's output. */
static void backward_output(const drnn_params *w, drnn_params *g, drnn_scratch *s, int add)
{
    const int V = w->cfg.vocab, H = w->cfg.hidden, L = w->cfg.layers;
    const int CH = s->cell->cache * H, R = s->rows;
    const int dropout = s->drop_p > 0;
    drnn_real *dh = s->dh, *dz = s->probs;
    /* Softmax cross-entropy: dloss/dlogits = p - onehot(target). */
    for (int r = 0; r < R; r++)
        dz[(size_t)r * V + s->out[r]] -= 1;
    for (int j = 0; j < R; j++)
        drnn_vec_acc(g->b_y, dz + (size_t)s->row_all[j] * V, V);
    drnn_gemm_ytx(g->W_y, dz, (size_t)V, s->row_all, dropout ? s->drop[L] : s->cache[L - 1],
                  dropout ? (size_t)H : (size_t)CH, s->row_all, R, V, H, add);
    memset(dh, 0, (size_t)R * H * sizeof *dh);
    drnn_gemm_yw(dh, (size_t)H, dz, (size_t)V, w->W_y, R, V, H);
    if (dropout)
        scale_by_mask(dh, s->mask[L], (size_t)R * H);
}

/* Unrolls layer l's recurrence backwards, all running names per step, from
 * dh, the gradient reaching its outputs, into dxproj and dhproj. dh[t]
 * gains dh_next, the gradient that reached h_t from step t + 1 (through
 * W_h, and directly). */
static void backward_recurrence(const drnn_params *w, drnn_scratch *s, int l, drnn_real *dh)
{
    const drnn_cell_ops *cell = s->cell;
    const int H = w->cfg.hidden;
    const int GH = cell->gates * H, CH = cell->cache * H, KH = cell->carry * H;
    const int n = s->count, T0 = s->steps[0];
    memset(s->dh_next, 0, (size_t)n * H * sizeof *s->dh_next);
    if (KH)
        memset(s->dcarry, 0, (size_t)n * KH * sizeof *s->dcarry);
    for (int t = T0 - 1; t >= 0; t--) {
        const int a = s->offset[t + 1] - s->offset[t];
        for (int k = 0; k < a; k++) {
            drnn_real *dht = ROW(dh, k, t, H), *next = s->dh_next + (size_t)k * H;
            drnn_vec_acc(dht, next, H);
            memset(next, 0, (size_t)H * sizeof *next);
            cell->backward(ROW(s->dxproj, k, t, GH), ROW(s->dhproj, k, t, GH), next,
                           s->dcarry + (size_t)k * KH, dht, ROW(s->cache[l], k, t, CH),
                           t == 0 ? s->zero : ROW(s->cache[l], k, t - 1, CH),
                           ROW(s->xproj[l], k, t, GH), ROW(s->hproj[l], k, t, GH), H);
        }
        if (t > 0)
            drnn_gemm_yw(s->dh_next, (size_t)H, ROW(s->dhproj, 0, t, GH), (size_t)GH,
                         w->layer[l].W_h, a, GH, H);
    }
}

/* Layer l's recurrent weights and biases, from dhproj and dxproj. */
static void backward_recurrent_weights(const drnn_params *w, drnn_params *g, drnn_scratch *s,
                                       int l, int add)
{
    const int H = w->cfg.hidden;
    const int GH = s->cell->gates * H, CH = s->cell->cache * H, RH = s->cell->hbias * H;
    const int n = s->count, R = s->rows;
    drnn_layer_view *gp = &g->layer[l];
    /* dW_h pairs step t with h_{t-1}; step 0 saw h_0 = 0 and adds nothing. */
    drnn_gemm_ytx(gp->W_h, s->dhproj, (size_t)GH, s->row_cur, s->cache[l], (size_t)CH,
                  s->row_prev, R - n, GH, H, add);
    for (int j = 0; j < R; j++) {
        const size_t r = (size_t)s->row_all[j];
        drnn_vec_acc(gp->b_h, s->dhproj + r * GH + GH - RH, RH);
        drnn_vec_acc(gp->b, s->dxproj + r * GH, GH);
    }
}

/* Layer l's input side: the weights W_x, and above layer 0 in dh_below the
 * gradient for the layer below. */
static void backward_input(const drnn_params *w, drnn_params *g, drnn_scratch *s, int l,
                           drnn_real *dh_below, int add)
{
    const int H = w->cfg.hidden;
    const int GH = s->cell->gates * H, CH = s->cell->cache * H, R = s->rows;
    const int dropout = s->drop_p > 0;
    drnn_layer_view *gp = &g->layer[l];
    if (l == 0) {
        for (int j = 0; j < R; j++) {
            const size_t r = (size_t)s->row_all[j];
            drnn_vec_acc(gp->W_x + (size_t)s->in[r] * GH, s->dxproj + r * GH, GH);
        }
        for (int j = 0; g->W_l && j < R; j++) {
            const size_t r = (size_t)s->row_all[j];
            drnn_vec_acc(g->W_l + (size_t)s->label[r] * GH, s->dxproj + r * GH, GH);
        }
        return;
    }
    drnn_gemm_ytx(gp->W_x, s->dxproj, (size_t)GH, s->row_all,
                  dropout ? s->drop[l] : s->cache[l - 1], dropout ? (size_t)H : (size_t)CH,
                  s->row_all, R, GH, H, add);
    memset(dh_below, 0, (size_t)R * H * sizeof *dh_below);
    drnn_gemm_yw(dh_below, (size_t)H, s->dxproj, (size_t)GH, w->layer[l].W_x, R, GH, H);
    if (dropout)
        scale_by_mask(dh_below, s->mask[l], (size_t)R * H);
}

/* BPTT over the group after forward(). Gradients of the weights are summed
 * name by name in the caller's order, each name's steps in order, just as a
 * one-name pass sums them: the result does not depend on the grouping. */
static void backward(const drnn_params *w, drnn_params *g, drnn_scratch *s, grad_mode mode)
{
    const int add = mode == GRAD_ADD;
    drnn_real *dh = s->dh, *dh_below = s->dh_below;
    if (!add)
        zero_row_sums(w, g, s, mode);
    backward_output(w, g, s, add);
    for (int l = w->cfg.layers - 1; l >= 0; l--) {
        backward_recurrence(w, s, l, dh);
        backward_recurrent_weights(w, g, s, l, add);
        backward_input(w, g, s, l, dh_below, add);
        drnn_real *tmp = dh;
        dh = dh_below;
        dh_below = tmp;
    }
}

static double group_loss(const drnn_params *w, drnn_scratch *s, const drnn_token *const *names,
                         const uint16_t *labels, const int *lens, int count,
                         const uint64_t *drop_seeds, double *losses, drnn_params *grad,
                         grad_mode mode)
{
    if (frame_group(s, names, labels, w->cfg.labels, lens, count, drop_seeds))
        return NAN;
    forward(w, s);
    if (grad)
        backward(w, grad, s, mode);
    for (int j = 0; losses && j < count; j++)
        losses[j] = s->loss[s->pos[j]];
    return total_loss(s);
}

double drnn_group_loss_labeled(const drnn_params *w, drnn_scratch *s,
                               const drnn_token *const *names, const uint16_t *labels,
                               const int *lens, int count, const uint64_t *drop_seeds,
                               double *losses, drnn_params *grad, int overwrite)
{
    return group_loss(w, s, names, labels, lens, count, drop_seeds, losses, grad,
                      overwrite ? GRAD_SET : GRAD_ADD);
}

double drnn_group_loss(const drnn_params *w, drnn_scratch *s, const drnn_token *const *names,
                       const int *lens, int count, const uint64_t *drop_seeds, double *losses,
                       drnn_params *grad, int overwrite)
{
    return drnn_group_loss_labeled(w, s, names, NULL, lens, count, drop_seeds, losses, grad,
                                   overwrite);
}

double drnn_group_loss_rows(const drnn_params *w, drnn_scratch *s, const drnn_token *const *names,
                            const uint16_t *labels, const int *lens, int count,
                            const uint64_t *drop_seeds, drnn_params *grad)
{
    return group_loss(w, s, names, labels, lens, count, drop_seeds, NULL, grad, GRAD_SET_ROWS);
}

#undef ROW
