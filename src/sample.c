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
    while (n < opt->max_len) {
        if (n == 0) {
            /* A name has at least one symbol: no END before the first. */
            drnn_real first[DRNN_MAX_VOCAB];
            memcpy(first, logits, (size_t)V * sizeof *first);
            first[DRNN_END] = -INFINITY;
            logits = first;
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

/* A partial name in the beam: its generator state and score so far. */
typedef struct beam {
    drnn_stepper *st;
    drnn_token tokens[DRNN_MAX_NAME_LEN];
    int len;
    double logprob;
} beam;

typedef struct candidate {
    int from;            /* beam it extends */
    int symbol;
    double logprob;
} candidate;

/* Higher log-probability first; ties by beam then symbol, for a stable order. */
static int by_logprob(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->logprob != y->logprob)
        return x->logprob > y->logprob ? -1 : 1;
    if (x->from != y->from)
        return x->from - y->from;
    return x->symbol - y->symbol;
}

/* Adds -log p[v] of every symbol to base, exactly as drnn_name_loss sums them. */
static void step_scores(const drnn_real *logits, int V, drnn_real *probs, double base,
                        double *out)
{
    drnn_real zmax;
    memcpy(probs, logits, (size_t)V * sizeof *probs);
    double lognorm = drnn_softmax(probs, V, &zmax);
    for (int v = 0; v < V; v++)
        out[v] = base - (lognorm - ((double)logits[v] - zmax));
}

int drnn_beam_search(const drnn_params *w, const drnn_token *prefix, int prefix_len, int k,
                     int max_len, drnn_beam_result *results, int *found, drnn_error *err)
{
    const int V = w->cfg.vocab;
    *found = 0;
    if (k < 1 || k > DRNN_MAX_BEAM || max_len < 1 || max_len > DRNN_MAX_NAME_LEN ||
        prefix_len < 0 || prefix_len > max_len)
        return drnn_fail(err, DRNN_ERR_INVALID, "beam width %d or length %d out of range", k, max_len);
    beam *cur = calloc((size_t)k, sizeof *cur), *next = calloc((size_t)k, sizeof *next);
    candidate *cand = malloc((size_t)k * (size_t)V * sizeof *cand);
    double *scores = malloc((size_t)V * sizeof *scores);
    drnn_real *probs = malloc((size_t)V * sizeof *probs);
    int rc = cur && next && cand && scores && probs ? DRNN_OK
                                                    : drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    for (int b = 0; b < k && !rc; b++) {
        rc = drnn_stepper_new(&cur[b].st, &w->cfg, err);
        if (!rc)
            rc = drnn_stepper_new(&next[b].st, &w->cfg, err);
    }
    if (rc)
        goto done;

    /* The prefix is given: score it, then grow from its state. */
    beam *b0 = &cur[0];
    drnn_stepper_reset(b0->st);
    const drnn_real *logits = drnn_stepper_feed(b0->st, w, DRNN_END);
    for (int i = 0; i < prefix_len; i++) {
        step_scores(logits, V, probs, b0->logprob, scores);
        b0->logprob = scores[prefix[i]];
        b0->tokens[b0->len++] = prefix[i];
        logits = drnn_stepper_feed(b0->st, w, prefix[i]);
    }
    int live = 1;
    while (live > 0) {
        int n = 0;
        for (int b = 0; b < live; b++) {
            /* The stepper's logits are those of its last feed. */
            const drnn_real *lg = drnn_stepper_feed_logits(cur[b].st);
            step_scores(lg, V, probs, cur[b].logprob, scores);
            for (int v = 0; v < V; v++) {
                if ((v != DRNN_END && cur[b].len == max_len) || (v == DRNN_END && cur[b].len == 0))
                    continue; /* too long, or empty */
                cand[n++] = (candidate){b, v, scores[v]};
            }
        }
        qsort(cand, (size_t)n, sizeof *cand, by_logprob);
        int kept = 0;
        for (int i = 0; i < n && kept < k; i++) {
            /* Scores only fall as names grow: nothing below the k-th
             * finished name can overtake it. */
            if (*found == k && cand[i].logprob <= results[k - 1].logprob)
                break;
            const beam *from = &cur[cand[i].from];
            if (cand[i].symbol == DRNN_END) {
                int at = *found < k ? (*found)++ : k - 1;
                while (at > 0 && results[at - 1].logprob < cand[i].logprob) {
                    results[at] = results[at - 1];
                    at--;
                }
                memcpy(results[at].tokens, from->tokens, (size_t)from->len * sizeof *from->tokens);
                results[at].len = from->len;
                results[at].logprob = cand[i].logprob;
                continue;
            }
            beam *to = &next[kept++];
            drnn_stepper_copy(to->st, from->st);
            memcpy(to->tokens, from->tokens, (size_t)from->len * sizeof *from->tokens);
            to->len = from->len;
            to->tokens[to->len++] = (drnn_token)cand[i].symbol;
            to->logprob = cand[i].logprob;
            drnn_stepper_feed(to->st, w, (drnn_token)cand[i].symbol);
        }
        beam *tmp = cur;
        cur = next;
        next = tmp;
        live = kept;
    }
done:
    for (int b = 0; b < k; b++) {
        if (cur)
            drnn_stepper_free(cur[b].st);
        if (next)
            drnn_stepper_free(next[b].st);
    }
    free(cur);
    free(next);
    free(cand);
    free(scores);
    free(probs);
    return rc ? rc : drnn_ok(err);
}
