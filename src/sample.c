/* sample.c: drawing names symbol by symbol with temperature and top-k. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/names.h"
#include "dinornn/sample.h"
#include "internal.h"

int drnn_sample_logits(const drnn_real *logits, int V, const drnn_sample_options *opt,
                       drnn_rng *rng)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = v;
    if (opt->temperature <= 0 || opt->top_k == 1)
        return best;

    /* Under top-k, a symbol takes part if fewer than k symbols beat it
     * (ties at the threshold are kept together, so the draw stays fair). */
    double p[DRNN_MAX_VOCAB];
    double total = 0;
    for (int v = 0; v < V; v++) {
        if (opt->top_k > 0 && opt->top_k < V) {
            int above = 0;
            for (int u = 0; u < V && above < opt->top_k; u++)
                above += logits[u] > logits[v];
            if (above >= opt->top_k) {
                p[v] = 0;
                continue;
            }
        }
        p[v] = exp(((double)logits[v] - logits[best]) / opt->temperature);
        total += p[v];
    }
    double r = drnn_rng_uniform(rng) * total;
    for (int v = 0; v < V; v++) {
        if (p[v] > 0 && r < p[v])
            return v;
        r -= p[v];
    }
    return best; /* rounding left r just above zero */
}

int drnn_sample_name(const drnn_params *w, drnn_stepper *st, drnn_rng *rng,
                     const drnn_sample_options *opt, const drnn_token *prefix, int prefix_len,
                     drnn_token *out)
{
    const int V = w->cfg.vocab;
    drnn_stepper_reset(st);
    const drnn_real *logits = drnn_stepper_feed(st, w, DRNN_END);
    int n = 0;
    for (; n < prefix_len; n++) {
        out[n] = prefix[n];
        logits = drnn_stepper_feed(st, w, prefix[n]);
    }
    const int min_len = opt->min_len > 1 ? opt->min_len : 1;
    while (n < opt->max_len) {
        if (n < min_len) {
            /* A name has at least min_len symbols: no END before. */
            drnn_real masked[DRNN_MAX_VOCAB];
            memcpy(masked, logits, (size_t)V * sizeof *masked);
            masked[DRNN_END] = -INFINITY;
            logits = masked;
            int v = drnn_sample_logits(logits, V, opt, rng);
            out[n++] = (drnn_token)v;
            logits = drnn_stepper_feed(st, w, (drnn_token)v);
            continue;
        }
        int v = drnn_sample_logits(logits, V, opt, rng);
        if (v == DRNN_END)
            break;
        out[n++] = (drnn_token)v;
        logits = drnn_stepper_feed(st, w, (drnn_token)v);
    }
    return n;
}
