/* optim.c: clipping and the three optimizers (SGD with momentum, Adagrad,
 * Adam/AdamW), each one loop over the flat parameter buffers, in chunks
 * that threads take whole (docs/model.md, "Optimizers and clipping"). */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "optim.h"
#include "simd.h"

/* The optimizers' arithmetic on one vector of parameters. Every multiply-add
 * is an explicit FMA and sqrt and division are correctly rounded in any
 * form, so a parameter's new value is the same in whichever vector it
 * falls: a thread split or a tail changes no bit. */
typedef struct update_consts {
    drnn_vec rate, mu, eps, b1, one_b1, b2, one_b2, c1, c2, wd;
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
    for (; i + DRNN_VL <= hi; i += DRNN_VL) {
        drnn_vec wv = vload(w + i), mv = m ? vload(m + i) : vsplat(0);
        drnn_vec vv = v ? vload(v + i) : vsplat(0);
        step(&wv, &mv, &vv, vload(grad + i), k);
        vstore(w + i, wv);
        if (m)
            vstore(m + i, mv);
        if (v)
            vstore(v + i, vv);
    }
    if (i == hi)
        return;
    const size_t rest = (hi - i) * sizeof *w;
    drnn_real tw[DRNN_VL] = {0}, tm[DRNN_VL] = {0}, tv[DRNN_VL] = {0}, tg[DRNN_VL] = {0};
    memcpy(tw, w + i, rest);
    memcpy(tg, grad + i, rest);
    if (m)
        memcpy(tm, m + i, rest);
    if (v)
        memcpy(tv, v + i, rest);
    drnn_vec wv = vload(tw), mv = vload(tm), vv = vload(tv);
    step(&wv, &mv, &vv, vload(tg), k);
    vstore(tw, wv), vstore(tm, mv), vstore(tv, vv);
    memcpy(w + i, tw, rest);
    if (m)
        memcpy(m + i, tm, rest);
    if (v)
        memcpy(v + i, tv, rest);
}

void drnn_clip_gradient(drnn_real *g, size_t n, const drnn_hparams *hp, double norm2,
                        int threads)
{
    if (hp->clip <= 0)
        return;
    const int by_norm = hp->clip_mode == DRNN_CLIP_NORM;
    if (by_norm && norm2 <= hp->clip * hp->clip)
        return;
    /* By norm: g *= c / |g|. By value: each element into [-c, c] (a
     * selection, exact in any form). */
    const drnn_real scale = by_norm ? (drnn_real)(hp->clip / sqrt(norm2)) : 1;
    const drnn_real bound = (drnn_real)hp->clip;
    const size_t chunks = (n + DRNN_CHUNK - 1) / DRNN_CHUNK;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(n >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_within(threads, chunks)))
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * DRNN_CHUNK, hi = lo + DRNN_CHUNK < n ? lo + DRNN_CHUNK : n;
        if (by_norm)
            for (size_t i = lo; i < hi; i++)
                g[i] *= scale;
        else
            for (size_t i = lo; i < hi; i++)
                g[i] = g[i] > bound ? bound : g[i] < -bound ? -bound : g[i];
    }
}

void drnn_optimizer_step(drnn_train_state *st, const drnn_real *grad, double lr, int threads)
{
    const drnn_hparams *hp = &st->hp;
    const size_t n = st->weights.count;
    drnn_real *w = st->weights.data, *m = st->moment1.data, *v = st->moment2.data;
    /* Adam's bias corrections folded into the step size, in double. */
    const double t = (double)(st->step + 1);
    const update_consts k = {
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
    /* Threads take whole chunks of DRNN_CHUNK parameters (a multiple of the
     * vector width). */
    const size_t chunks = (n + DRNN_CHUNK - 1) / DRNN_CHUNK;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) if(n >= DRNN_PARALLEL_MIN_PARAMS)
             num_threads(drnn_threads_within(threads, chunks)))
    for (size_t c = 0; c < chunks; c++) {
        const size_t lo = c * DRNN_CHUNK, hi = lo + DRNN_CHUNK < n ? lo + DRNN_CHUNK : n;
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
