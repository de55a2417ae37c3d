/* search_floor.c: a lower bound on the score of the k-th most likely name,
 * found before the exact search starts (docs/model.md, "Names of a given
 * shape").
 *
 * A beam of FLOOR_BEAM partial names walks the product of the model and
 * the constraints' automaton from the search's root, length by length,
 * keeping only children that can still become a name that meets every
 * constraint (the automaton's exact length sets). Every name it finishes
 * is a real answer candidate: it meets the constraints and the lengths and
 * is not excluded, and its score is computed by drnn_search_scores from
 * the same states as the search computes it, so bit for bit the score the
 * search gives it. If the beam finishes k distinct names, the least of the
 * k best is a lower bound on the true k-th best score: the true top k are
 * k names each at least as likely as any k-th of k real names. The search
 * may then refuse, from the start, every entry scoring strictly below it:
 * such an entry leads only to names below the true k-th, so none of the
 * answer is lost. The beam is cheap (at most FLOOR_BEAM model steps per
 * length, taken as one batch) and its states are dropped before the
 * search goes on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/search.h"
#include "internal.h"
#include "search_floor.h"

#define FLOOR_BEAM 64      /* partial names in the beam, stepped as one batch */
#define FLOOR_PER_STATE 16 /* of them, at most this many in one automaton state */

void drnn_search_scores(const drnn_real *logits, int V, double base, drnn_real *probs,
                        double *scores)
{
    drnn_real zmax;
    memcpy(probs, logits, (size_t)V * sizeof *probs);
    double lognorm = drnn_softmax(probs, V, &zmax);
    for (int v = 0; v < V; v++)
        scores[v] = base - (lognorm - ((double)logits[v] - zmax));
}

typedef struct beam_item {   /* a partial name in the beam */
    int state;               /* the automaton's */
    drnn_token tokens[DRNN_MAX_NAME_LEN];
} beam_item;

typedef struct pick {        /* a child of the beam: item + symbol */
    double logprob;
    int item, symbol, to;    /* to: the child's automaton state */
} pick;

typedef struct floor_walk {
    const drnn_search_floor_args *a;
    drnn_stepper *st;
    size_t S;
    beam_item *items[2];     /* this length's beam and the next one's */
    drnn_real *states[2];    /* FLOOR_BEAM each */
    double *scores[2];       /* V per item: the scores of its children */
    drnn_real *probs;        /* [V] */
    drnn_real *logits;       /* [FLOOR_BEAM * V] the next beam's */
    const drnn_real **from;  /* [FLOOR_BEAM] the states the next beam steps from */
    drnn_token *in;          /* [FLOOR_BEAM] and its symbols */
    double *best;            /* the k best finished scores, descending */
    pick *picks;             /* [FLOOR_BEAM * V] children of the beam */
    int n_best;
    int width, per_state;    /* the beam's, and at most this many in one automaton state */
} floor_walk;

static int floor_allowed(const floor_walk *w, int state, int len, int v)
{
    const drnn_search_floor_args *a = w->a;
    if (v == DRNN_END)
        return len >= a->lo && (!a->c || drnn_constraint_accepts(a->c, state, len));
    return len < a->hi &&
           (!a->c || drnn_constraint_live(a->c, drnn_constraint_step(a->c, state, (drnn_token)v),
                                          len + 1, a->lo, a->hi));
}

/* Keeps x among the k best finished scores. */
static void note_best(floor_walk *w, double x)
{
    int k = w->a->k, at;
    if (w->n_best == k) {
        if (x <= w->best[k - 1])
            return;
        at = k - 1;
    } else {
        at = w->n_best++;
    }
    for (; at > 0 && w->best[at - 1] < x; at--)
        w->best[at] = w->best[at - 1];
    w->best[at] = x;
}

static int by_logprob(const void *x, const void *y)
{
    const pick *a = x, *b = y;
    if (a->logprob != b->logprob)
        return a->logprob > b->logprob ? -1 : 1;
    return a->item != b->item ? a->item - b->item : a->symbol - b->symbol;
}

/* Moves the children that make the next beam to picks[0 .. returned): the
 * best of each automaton state first, best first, then the best of the
 * rest, at most per_state of a state, then the best of what is left
 * (when few states are live). A beam by score alone follows
 * the likeliest prefixes, which meet a suffix or a contains string only
 * when forced at the maximum length; one that keeps every state's best
 * also follows the names that have met it early. */
static int choose(const floor_walk *w, pick *picks, int n)
{
    qsort(picks, (size_t)n, sizeof *picks, by_logprob);
    pick beam[FLOOR_BEAM];
    int m = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < n && m < w->width; i++) {
            int same = 0, most = pass == 0 ? 1 : pass == 1 ? w->per_state : w->width;
            for (int j = 0; j < m; j++)
                same += beam[j].to == picks[i].to;
            if (picks[i].item >= 0 && same < most) {
                beam[m++] = picks[i];
                picks[i].item = -1; /* taken */
            }
        }
    qsort(beam, (size_t)m, sizeof *beam, by_logprob);
    memcpy(picks, beam, (size_t)m * sizeof *beam);
    return m;
}

/* Notes the beam's finished names (nb items of len symbols in beam b) and
 * moves the next beam's children to picks (room for nb * V); returns how
 * many, best first. */
static int walk_length(floor_walk *w, int b, int nb, int len, pick *picks)
{
    const drnn_search_floor_args *a = w->a;
    int V = a->V, n = 0;
    for (int i = 0; i < nb; i++) {
        const beam_item *it = &w->items[b][i];
        const double *sc = w->scores[b] + (size_t)i * V;
        if (floor_allowed(w, it->state, len, DRNN_END) &&
            !(a->exclude && drnn_name_set_contains(a->exclude, it->tokens, len)))
            note_best(w, sc[DRNN_END]);
        for (int v = 1; v < V; v++)
            if ((w->n_best < a->k || sc[v] > w->best[a->k - 1]) &&
                floor_allowed(w, it->state, len, v))
                picks[n++] = (pick){sc[v], i, v,
                                    a->c ? drnn_constraint_step(a->c, it->state, (drnn_token)v) : 0};
    }
    return choose(w, picks, n);
}

/* The next beam (b ^ 1) from the picks of beam b, names of len symbols,
 * stepped as one batch; -1 if its scratch could not be had. */
static int walk_step(floor_walk *w, int b, const pick *picks, int m, int len)
{
    const drnn_search_floor_args *a = w->a;
    for (int j = 0; j < m; j++) {
        w->from[j] = w->states[b] + (size_t)picks[j].item * w->S;
        w->in[j] = (drnn_token)picks[j].symbol;
    }
    if (drnn_stepper_feed_batch(w->st, a->m, m, w->from, w->in, w->states[b ^ 1], w->logits,
                                NULL))
        return -1;
    for (int j = 0; j < m; j++) {
        const beam_item *from = &w->items[b][picks[j].item];
        beam_item *to = &w->items[b ^ 1][j];
        drnn_search_scores(w->logits + (size_t)j * a->V, a->V, picks[j].logprob, w->probs,
                           w->scores[b ^ 1] + (size_t)j * a->V);
        memcpy(to->tokens, from->tokens, (size_t)len * sizeof *to->tokens);
        to->tokens[len] = (drnn_token)picks[j].symbol;
        to->state = picks[j].to;
    }
    return 0;
}

/* The walk, once w is allocated: the beam from the root to the longest
 * names, or until no child of the beam can better the k-th name found. */
static void walk(floor_walk *w)
{
    const drnn_search_floor_args *a = w->a;
    beam_item *root = &w->items[0][0];
    if (a->root_len) /* a->root is NULL without a prefix */
        memcpy(root->tokens, a->root, (size_t)a->root_len * sizeof *root->tokens);
    root->state = a->root_state;
    drnn_stepper_copy(w->st, a->at_root);
    drnn_stepper_save_state(w->st, w->states[0]);
    drnn_search_scores(drnn_stepper_feed_logits(a->at_root), a->V, a->root_logprob, w->probs,
                       w->scores[0]);
    pick *picks = w->picks;
    int b = 0, nb = 1;
    for (int len = a->root_len; nb > 0; len++, b ^= 1) {
        nb = walk_length(w, b, nb, len, picks);
        if (nb == 0 || (w->n_best == a->k && picks[0].logprob <= w->best[a->k - 1]))
            break;
        if (walk_step(w, b, picks, nb, len))
            break; /* the names found so far still bound the k-th */
    }
}

double drnn_search_floor(const drnn_search_floor_args *a, size_t *bytes)
{
    floor_walk w;
    memset(&w, 0, sizeof w);
    w.a = a;
    w.S = drnn_stepper_state_size(a->at_root);
    w.width = FLOOR_BEAM;
    w.per_state = FLOOR_PER_STATE;
    size_t n_items = FLOOR_BEAM * sizeof *w.items[0], n_states = FLOOR_BEAM * w.S * sizeof(drnn_real),
           n_scores = FLOOR_BEAM * (size_t)a->V * sizeof(double);
    *bytes = 2 * (n_items + n_states + n_scores) + (size_t)a->V * sizeof(drnn_real) +
             (size_t)a->k * sizeof(double) + FLOOR_BEAM * (size_t)a->V * sizeof *w.picks +
             FLOOR_BEAM * ((size_t)a->V * sizeof(drnn_real) + sizeof *w.from + sizeof *w.in);
    double floor = -INFINITY;
    int ok = drnn_stepper_new(&w.st, a->m, NULL) == DRNN_OK;
    for (int b = 0; b < 2; b++) {
        w.items[b] = malloc(n_items);
        w.states[b] = malloc(n_states);
        w.scores[b] = malloc(n_scores);
        ok = ok && w.items[b] && w.states[b] && w.scores[b];
    }
    w.probs = malloc((size_t)a->V * sizeof *w.probs);
    w.best = malloc((size_t)a->k * sizeof *w.best);
    w.picks = malloc((size_t)FLOOR_BEAM * (size_t)a->V * sizeof *w.picks);
    w.logits = malloc((size_t)FLOOR_BEAM * (size_t)a->V * sizeof *w.logits);
    w.from = malloc(FLOOR_BEAM * sizeof *w.from);
    w.in = malloc(FLOOR_BEAM * sizeof *w.in);
    if (ok && w.probs && w.best && w.picks && w.logits && w.from && w.in) { /* else no bound: -INFINITY refuses nothing */
        walk(&w);
        if (w.n_best == a->k)
            floor = w.best[a->k - 1];
    }
    if (w.st)
        drnn_stepper_free(w.st);
    for (int b = 0; b < 2; b++) {
        free(w.items[b]);
        free(w.states[b]);
        free(w.scores[b]);
    }
    free(w.probs);
    free(w.best);
    free(w.picks);
    free(w.logits);
    free(w.from);
    free(w.in);
    return floor;
}
