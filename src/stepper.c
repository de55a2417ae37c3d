/* stepper.c: generation, one symbol at a time: the stepper carries each
 * layer's state from one input to the next and gives the next symbol's
 * logits (model.h); the sampler and the search run on it. */
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "internal.h"
#include "kernels.h"

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
    drnn_real *block = drnn_zalloc_aligned(n * sizeof *block);
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

/* What the next step reads of a layer's cache: h_t and any carried state
 * (LSTM: c_t), the first (1 + K) * H values; the rest is for backward. */
static size_t carried(const drnn_stepper *st)
{
    return (size_t)(1 + st->cell->carry) * (size_t)st->cfg.hidden;
}

size_t drnn_stepper_state_size(const drnn_stepper *st)
{
    return (size_t)st->cfg.layers * carried(st);
}

void drnn_stepper_save_state(const drnn_stepper *st, drnn_real *state)
{
    size_t n = carried(st);
    for (int l = 0; l < st->cfg.layers; l++)
        memcpy(state + (size_t)l * n, st->cache[l], n * sizeof *state);
}

void drnn_stepper_load_state(drnn_stepper *st, const drnn_real *state)
{
    size_t n = carried(st);
    for (int l = 0; l < st->cfg.layers; l++)
        memcpy(st->cache[l], state + (size_t)l * n, n * sizeof *state);
}
