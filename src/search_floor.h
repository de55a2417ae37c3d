/* search_floor.h: the exact search's pre-pass (search_floor.c). */
#ifndef DINORNN_SEARCH_FLOOR_H
#define DINORNN_SEARCH_FLOOR_H

#include "dinornn/constraint.h"
#include "dinornn/corpus.h"
#include "dinornn/model.h"
#include "dinornn/stepper.h"

/* scores[v] = base + log p(v | logits), summed exactly as drnn_name_loss
 * sums a name's terms; probs[V] is scratch. The search and its pre-pass
 * both score through it, so that they agree bit for bit. */
void drnn_search_scores(const drnn_real *logits, int V, double base, drnn_real *probs,
                        double *scores);

typedef struct drnn_search_floor_args {
    const drnn_model *m;
    const drnn_stepper *at_root;    /* fed END and the root: its state and logits */
    const drnn_constraint *c;       /* or NULL */
    const drnn_name_set *exclude;   /* or NULL */
    const drnn_token *root;         /* the prefix every name starts with */
    int root_len, root_state;       /* its length and automaton state */
    double root_logprob;
    int lo, hi, k, V;               /* the lengths, the names asked for, the vocabulary */
} drnn_search_floor_args;

/* A lower bound on the score of the k-th most likely name that meets the
 * search's conditions: the k-th best score among k such names that a beam
 * finishes, or -INFINITY when it finishes fewer (or memory runs out).
 * *bytes: the memory it held at most. */
double drnn_search_floor(const drnn_search_floor_args *a, size_t *bytes);

#endif
