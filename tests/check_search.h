/* check_search.h: what the tests of the exact search share: small random
 * models, and every name scored and ranked by brute force. */
#ifndef DINORNN_CHECK_SEARCH_H
#define DINORNN_CHECK_SEARCH_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"

/* One network as the model that the stepper, sampling, the search and
 * evaluation take (a pointer to a value that lives in the calling block). */
#define NET(w) (&(const drnn_model){.cfg = (w)->cfg, .count = 1, .nets = (w)})

/* A name and its score. */
typedef struct scored {
    drnn_token t[8];
    int len;
    double logprob;
} scored;

static inline int by_rank(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->logprob != y->logprob)
        return x->logprob < y->logprob ? 1 : -1;
    if (x->len != y->len)
        return x->len - y->len;
    for (int i = 0; i < x->len; i++)
        if (x->t[i] != y->t[i])
            return x->t[i] - y->t[i];
    return 0;
}

/* 1 if a name is to be kept. */
typedef int (*name_filter)(const void *ctx, const drnn_token *t, int len);

/* Every name over symbols 1..V-1 that starts with prefix, has min..max
 * symbols and that keep keeps (NULL: all), scored by the training loss,
 * in the search's documented order. */
static inline scored *brute_force_where(const drnn_params *w, drnn_scratch *s,
                                        const drnn_token *prefix, int plen, int min_len,
                                        int max_len, name_filter keep, const void *ctx, int *count)
{
    int A = w->cfg.vocab - 1, cap = 0;
    for (int len = plen, total = 1; len <= max_len; len++, total *= A)
        cap += total;
    scored *all = malloc((size_t)cap * sizeof *all);
    ck_assert_ptr_nonnull(all);
    int n = 0;
    for (int len = plen, total = 1; len <= max_len; len++, total *= A) {
        for (int code = 0; code < total && len >= min_len && len > 0; code++) {
            if (plen > 0) /* prefix may be NULL when empty */
                memcpy(all[n].t, prefix, (size_t)plen * sizeof *prefix);
            for (int i = plen, c = code; i < len; i++, c /= A)
                all[n].t[i] = (drnn_token)(1 + c % A);
            all[n].len = len;
            if (keep && !keep(ctx, all[n].t, len))
                continue;
            all[n].logprob = -drnn_name_loss(w, s, all[n].t, len);
            n++;
        }
    }
    qsort(all, (size_t)n, sizeof *all, by_rank);
    *count = n;
    return all;
}

static inline scored *brute_force(const drnn_params *w, drnn_scratch *s, const drnn_token *prefix,
                                  int plen, int min_len, int max_len, int *count)
{
    return brute_force_where(w, s, prefix, plen, min_len, max_len, NULL, NULL, count);
}

/* A random model over END + V-1 symbols, with logits spread enough that
 * names differ clearly in probability. */
static inline void random_model(drnn_params *w, drnn_scratch **s, drnn_cell_kind cell, int layers,
                         int vocab, uint64_t seed, double scale)
{
    drnn_config cfg = {.vocab = vocab, .hidden = 5, .layers = layers, .cell = cell};
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(s, &cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
    drnn_rng_seed(&rng, seed);
    drnn_params_init(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] *= (drnn_real)scale;
}

/* A model over END + V-1 symbols whose every step is sure of one symbol
 * (its score 0 to the last bit: the others' probabilities vanish beside 1
 * in double) and puts the others 40 or 80 nats below: names tie exactly,
 * by the hundred, and often with the k-th best. Input k lights unit k;
 * each unit's logits are drawn from seed. */
static inline void sure_model(drnn_params *w, drnn_scratch **s, uint64_t seed, int V)
{
    drnn_config cfg = {.vocab = V, .hidden = V, .layers = 1, .cell = DRNN_CELL_RNN};
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(s, &cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
    drnn_params_zero(w);
    drnn_rng rng;
    drnn_rng_seed(&rng, seed);
    for (int k = 0; k < V; k++) {
        w->layer[0].W_x[k * V + k] = 20;
        int sure = (int)(drnn_rng_next(&rng) % V);
        for (int v = 0; v < V; v++)
            w->W_y[v * V + k] = v == sure ? 0 : (drnn_real)(-40.0 * (double)(1 + drnn_rng_next(&rng) % 2));
    }
}

#endif
