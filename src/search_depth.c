/* search_depth.c: the k most likely names by a depth-first walk in little
 * memory, for when the best-first search (search.c) runs out of it.
 *
 * The best-first search keeps a recurrent state for every queued name's
 * parent: exact with the fewest model steps, but its memory grows with
 * the names more likely than the k-th answer, and a constraint met late
 * (a name that must contain "rex") leaves hundreds of thousands of them.
 * This walk keeps one batch of states per depth instead. From each name
 * it steps every child that scores at least the threshold, best first,
 * SEARCH_DEPTH_BATCH at a time (one pass over the weights for the lot),
 * and descends into each in turn. The threshold starts at a lower bound on
 * the k-th answer's score (the pre-pass's floor, or the k-th name the
 * best-first search had queued) and rises to the k-th best name found once
 * k are. A name's score only falls as it grows, so a name below the
 * threshold leads to no answer; every name of the true top k scores at
 * least the true k-th, which is at least the threshold at every moment,
 * so none is pruned, and the k best found, in the search's order, are the
 * answer: ties at the k-th score are kept, never pruned (only scores
 * strictly below the threshold are). It takes more model steps than the
 * best-first search (every name above the threshold, not only those above
 * the k-th answer), so it is the fallback, not the rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "search_depth.h"

#define SEARCH_DEPTH_BATCH 32

typedef struct kid {         /* a child of a name: its symbol and score */
    double logprob;
    drnn_token symbol;
} kid;

typedef struct level {       /* a name on the walk's path and its children */
    const drnn_real *state;  /* its recurrent state */
    int q, len;              /* its automaton state and length */
    double logprob;
    kid *kids;               /* [V] its children above the threshold, best first */
    int n_kids, next;        /* how many; the first not yet stepped */
    drnn_real *states;       /* [BATCH * S] the children stepped last */
    drnn_real *logits;       /* [BATCH * V] their next symbols' */
    int first, n_stepped, at;/* kids[first ..] were stepped, n_stepped of them; the next to visit */
} level;

typedef struct walk {
    const drnn_search_depth_args *a;
    drnn_stepper *st;
    size_t S;
    level *levels;           /* [hi - root_len + 1], each made when first reached */
    int n_levels;
    drnn_token tokens[DRNN_MAX_NAME_LEN];
    drnn_scored_name *names; /* [k] the best found, in order */
    int n_names;
    const drnn_real *from[SEARCH_DEPTH_BATCH];
    drnn_token in[SEARCH_DEPTH_BATCH];
    drnn_real *probs;        /* [V] */
    double *scores;          /* [V] */
    long long expanded;
    size_t bytes, peak_bytes;
} walk;

int drnn_search_name_order(const void *x, const void *y)
{
    const drnn_scored_name *a = x, *b = y;
    if (a->logprob != b->logprob)
        return a->logprob > b->logprob ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    for (int i = 0; i < a->len; i++)
        if (a->tokens[i] != b->tokens[i])
            return a->tokens[i] < b->tokens[i] ? -1 : 1;
    return 0;
}

static double threshold(const walk *w)
{
    double t = w->a->threshold;
    if (w->n_names == w->a->at.k && w->names[w->n_names - 1].logprob > t)
        t = w->names[w->n_names - 1].logprob;
    return t;
}

/* Keeps the name of len tokens (w->tokens) scoring logprob among the k best. */
static void offer(walk *w, int len, double logprob)
{
    const int k = w->a->at.k;
    drnn_scored_name *cand = &w->names[w->n_names < k ? w->n_names : k - 1];
    drnn_scored_name x;
    x.len = len;
    x.logprob = logprob;
    memcpy(x.tokens, w->tokens, (size_t)len * sizeof *x.tokens);
    if (w->n_names == k && drnn_search_name_order(&x, cand) >= 0)
        return;
    int at = w->n_names < k ? w->n_names++ : k - 1;
    for (; at > 0 && drnn_search_name_order(&x, &w->names[at - 1]) < 0; at--)
        w->names[at] = w->names[at - 1];
    w->names[at] = x;
}

static int kid_order(const void *x, const void *y)
{
    const kid *a = x, *b = y;
    if (a->logprob != b->logprob)
        return a->logprob > b->logprob ? -1 : 1;
    return (a->symbol > b->symbol) - (a->symbol < b->symbol);
}

/* Level d, made when first reached; NULL at the memory bound. */
static level *level_at(walk *w, int d)
{
    level *L = &w->levels[d];
    if (L->kids)
        return L;
    const size_t V = (size_t)w->a->at.V;
    size_t more = V * sizeof *L->kids + SEARCH_DEPTH_BATCH * (w->S + V) * sizeof(drnn_real);
    if (w->bytes + more > w->a->max_bytes)
        return NULL;
    L->kids = malloc(V * sizeof *L->kids);
    L->states = malloc(SEARCH_DEPTH_BATCH * w->S * sizeof *L->states);
    L->logits = malloc(SEARCH_DEPTH_BATCH * V * sizeof *L->logits);
    if (!L->kids || !L->states || !L->logits) {
        free(L->kids), free(L->states), free(L->logits);
        L->kids = NULL;
        return NULL;
    }
    w->bytes += more;
    w->peak_bytes = w->bytes > w->peak_bytes ? w->bytes : w->peak_bytes;
    return L;
}

/* Enters the name at level d (its state, automaton state, length and score
 * set) with its next-symbol logits: offers it finished, and ranks its
 * children at or above the threshold. */
static void enter(walk *w, level *L, const drnn_real *logits)
{
    const drnn_search_floor_args *a = &w->a->at;
    drnn_search_scores(logits, a->V, L->logprob, w->probs, w->scores);
    const double t = threshold(w);
    if (L->len >= a->lo && (!a->c || drnn_constraint_accepts(a->c, L->q, L->len)) &&
        w->scores[DRNN_END] >= t &&
        !(a->exclude && drnn_name_set_contains(a->exclude, w->tokens, L->len)))
        offer(w, L->len, w->scores[DRNN_END]);
    L->n_kids = L->next = L->first = L->n_stepped = L->at = 0;
    if (L->len >= a->hi)
        return;
    const double t2 = threshold(w);
    for (int v = 1; v < a->V; v++)
        if (w->scores[v] >= t2 &&
            (!a->c || drnn_constraint_live(a->c, drnn_constraint_step(a->c, L->q, (drnn_token)v),
                                           L->len + 1, a->lo, a->hi)))
            L->kids[L->n_kids++] = (kid){w->scores[v], (drnn_token)v};
    qsort(L->kids, (size_t)L->n_kids, sizeof *L->kids, kid_order);
}

/* Steps level L's next children (those still at or above the threshold,
 * up to a batch) from its state; returns how many, -1 at a bound. */
static int step_kids(walk *w, level *L)
{
    const double t = threshold(w);
    int n = 0;
    while (n < SEARCH_DEPTH_BATCH && L->next + n < L->n_kids && L->kids[L->next + n].logprob >= t) {
        w->from[n] = L->state;
        w->in[n] = L->kids[L->next + n].symbol;
        n++;
    }
    if (n == 0)
        return 0;
    if (w->expanded + n > w->a->max_expansions ||
        drnn_stepper_feed_batch(w->st, w->a->at.m, n, w->from, w->in, L->states, L->logits, NULL))
        return -1;
    w->expanded += n;
    L->first = L->next;
    L->next += n;
    L->n_stepped = n;
    L->at = 0;
    return n;
}

/* The walk from the root; 1 when it ended, 0 at a bound. */
static int run_walk(walk *w, drnn_real *root_state)
{
    const drnn_search_floor_args *a = &w->a->at;
    level *L = level_at(w, 0);
    if (!L)
        return 0;
    if (a->root_len) /* a->root is NULL without a prefix */
        memcpy(w->tokens, a->root, (size_t)a->root_len * sizeof *w->tokens);
    drnn_stepper_save_state(a->at_root, root_state);
    L->state = root_state;
    L->q = a->root_state;
    L->len = a->root_len;
    L->logprob = a->root_logprob;
    enter(w, L, drnn_stepper_feed_logits(a->at_root));
    int d = 0;
    while (d >= 0) {
        L = &w->levels[d];
        if (L->at == L->n_stepped) {
            int n = step_kids(w, L);
            if (n < 0)
                return 0;
            if (n == 0) {
                d--; /* every child left scores below the threshold */
                continue;
            }
        }
        int i = L->at++;
        const kid *c = &L->kids[L->first + i];
        if (c->logprob < threshold(w))
            continue; /* the threshold rose since it was stepped */
        level *M = level_at(w, d + 1);
        if (!M)
            return 0;
        w->tokens[L->len] = c->symbol;
        M->state = L->states + (size_t)i * w->S;
        M->q = a->c ? drnn_constraint_step(a->c, L->q, c->symbol) : 0;
        M->len = L->len + 1;
        M->logprob = c->logprob;
        enter(w, M, L->logits + (size_t)i * (size_t)a->V);
        d++;
    }
    return 1;
}

int drnn_search_depth(const drnn_search_depth_args *a, drnn_scored_name *names,
                      long long *expanded, size_t *bytes, int *complete)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.a = a;
    w.names = names;
    w.S = drnn_stepper_state_size(a->at.at_root);
    w.n_levels = a->at.hi - a->at.root_len + 1;
    w.levels = calloc((size_t)w.n_levels, sizeof *w.levels);
    w.probs = malloc((size_t)a->at.V * sizeof *w.probs);
    w.scores = malloc((size_t)a->at.V * sizeof *w.scores);
    drnn_real *root_state = malloc(w.S * sizeof *root_state);
    w.bytes = w.peak_bytes = (size_t)w.n_levels * sizeof *w.levels +
                             (size_t)a->at.V * (sizeof *w.probs + sizeof *w.scores) +
                             w.S * sizeof *root_state;
    *complete = w.levels && w.probs && w.scores && root_state &&
                drnn_stepper_new(&w.st, a->at.m, NULL) == DRNN_OK && run_walk(&w, root_state);
    drnn_stepper_free(w.st);
    for (int d = 0; w.levels && d < w.n_levels; d++) {
        free(w.levels[d].kids);
        free(w.levels[d].states);
        free(w.levels[d].logits);
    }
    free(w.levels);
    free(w.probs);
    free(w.scores);
    free(root_state);
    *expanded = w.expanded;
    *bytes = w.peak_bytes;
    return w.n_names;
}
