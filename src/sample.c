/* sample.c: drawing names symbol by symbol with temperature and top-k.
 *
 * Nothing here is sized by the vocabulary: a draw walks the logits twice
 * (the total, then the cumulative sum, recomputing each weight the same
 * way), and top-k finds its threshold by a radix selection over the
 * logits' bits, O(V) whatever k.
 *
 * Under a constraint, a draw is rejected as soon as its name can no longer
 * meet it, and drawn again from the start: the names accepted follow the
 * model's distribution given the constraint, exactly (docs/model.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/constraint.h"
#include "dinornn/names.h"
#include "dinornn/sample.h"
#include "internal.h"

_Static_assert(sizeof(drnn_real) == sizeof(uint32_t), "the radix selection reads float bits");

/* An unsigned key that orders like the logit: the sign bit flipped for
 * positives, every bit for negatives; -0 is taken as +0, which it equals. */
static uint32_t order_key(drnn_real x)
{
    uint32_t b;
    if (x == 0)
        x = 0;
    memcpy(&b, &x, sizeof b);
    return b & 0x80000000u ? ~b : b | 0x80000000u;
}

/* The key of the k-th largest of logits[0 .. V-1] (1 <= k <= V), counting
 * equal values: four passes, each fixing one byte of the key from a
 * histogram of the logits that agree with the bytes fixed so far. */
static uint32_t kth_largest_key(const drnn_real *logits, int V, int k)
{
    uint32_t prefix = 0, mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        int count[256] = {0};
        for (int v = 0; v < V; v++) {
            uint32_t key = order_key(logits[v]);
            if ((key & mask) == prefix)
                count[(key >> shift) & 0xff]++;
        }
        int byte = 255;
        for (; byte > 0 && count[byte] < k; byte--)
            k -= count[byte];
        prefix |= (uint32_t)byte << shift;
        mask |= 0xffu << shift;
    }
    return prefix;
}

/* The weight of symbol v in a draw: exp((logit - best) / temperature), or 0
 * below the top-k threshold. The same bits each time it is asked for. */
static double weight(const drnn_real *logits, int v, drnn_real best, double temperature,
                     uint32_t threshold)
{
    if (order_key(logits[v]) < threshold)
        return 0;
    return exp(((double)logits[v] - best) / temperature);
}

int drnn_sample_logits(const drnn_real *logits, int V, const drnn_sample_options *opt,
                       drnn_rng *rng)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = v;
    if (opt->temperature <= 0 || opt->top_k == 1)
        return best;

    /* Under top-k, a symbol takes part if fewer than k symbols beat it,
     * that is if it is at least the k-th largest logit (ties at the
     * threshold are kept together, so the draw stays fair). */
    uint32_t threshold = opt->top_k > 0 && opt->top_k < V ? kth_largest_key(logits, V, opt->top_k)
                                                          : 0;
    double total = 0;
    for (int v = 0; v < V; v++)
        total += weight(logits, v, logits[best], opt->temperature, threshold);
    double r = drnn_rng_uniform(rng) * total;
    for (int v = 0; v < V; v++) {
        double p = weight(logits, v, logits[best], opt->temperature, threshold);
        if (p > 0 && r < p)
            return v;
        r -= p;
    }
    return best; /* rounding left r just above zero */
}

/* The constraint a draw must meet, and where its automaton is. */
typedef struct walk {
    const drnn_constraint *c;
    int state, lo, hi;
} walk;

/* Feeds END and the prefix, then draws until END or max_len into out.
 * With w: -1 as soon as the name can no longer meet w's constraint (it
 * would be rejected whatever came next), or when it ends unaccepted. */
static int draw(const drnn_model *m, drnn_stepper *st, drnn_rng *rng,
                const drnn_sample_options *opt, const drnn_token *prefix, int prefix_len,
                drnn_token *out, walk *w)
{
    const int V = m->cfg.vocab;
    drnn_stepper_reset(st);
    const drnn_real *logits = drnn_stepper_feed(st, m, DRNN_END);
    int n = 0;
    for (; n < prefix_len; n++) {
        out[n] = prefix[n];
        logits = drnn_stepper_feed(st, m, prefix[n]);
    }
    const int min_len = opt->min_len > 1 ? opt->min_len : 1;
    while (n < opt->max_len) {
        /* A name has at least min_len symbols: no END before, so the draw
         * is among tokens 1 .. V-1 alone. */
        int v = n < min_len ? 1 + drnn_sample_logits(logits + 1, V - 1, opt, rng)
                            : drnn_sample_logits(logits, V, opt, rng);
        if (v == DRNN_END)
            break;
        out[n++] = (drnn_token)v;
        if (w && !drnn_constraint_live(w->c, w->state = drnn_constraint_step(w->c, w->state,
                                                                           (drnn_token)v),
                                       n, w->lo, w->hi))
            return -1;
        logits = drnn_stepper_feed(st, m, (drnn_token)v);
    }
    return !w || drnn_constraint_accepts(w->c, w->state, n) ? n : -1;
}

int drnn_sample_name(const drnn_model *m, drnn_stepper *st, drnn_rng *rng,
                     const drnn_sample_options *opt, const drnn_token *prefix, int prefix_len,
                     drnn_token *out)
{
    return draw(m, st, rng, opt, prefix, prefix_len, out, NULL);
}

int drnn_sample_constrained(const drnn_model *m, drnn_stepper *st, drnn_rng *rng,
                            const drnn_sample_options *opt, const drnn_constraint *c,
                            const drnn_token *prefix, int prefix_len, long long *draws_left,
                            drnn_token *out)
{
    walk start = {c, 0, opt->min_len > 1 ? opt->min_len : 1, opt->max_len};
    const drnn_token *root = prefix;
    int root_len = prefix_len;
    if (c && drnn_constraint_vocab_size(c) != m->cfg.vocab)
        return -1; /* compiled for another model: nothing it draws can be checked */
    if (c) {
        root_len = drnn_constraint_root(c, prefix, prefix_len, start.lo, start.hi, &root,
                                        &start.state);
        if (start.state < 0)
            return -1;
    }
    while (*draws_left > 0) {
        --*draws_left;
        walk w = start;
        int n = draw(m, st, rng, opt, root, root_len, out, c ? &w : NULL);
        if (n >= 0)
            return n;
        if (opt->temperature <= 0 || opt->top_k == 1)
            return -1; /* the one name these options draw, refused */
    }
    return 0;
}
