/* dinornn/search.h: the most likely complete names, found exactly. */
#ifndef DINORNN_SEARCH_H
#define DINORNN_SEARCH_H

#include <stddef.h>

#include "dinornn/constraint.h"
#include "dinornn/error.h"
#include "dinornn/model.h"
#include "dinornn/corpus.h"
#include "dinornn/names.h"
#include "dinornn/stepper.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRNN_MAX_BEST 1000                       /* names one search may return */
#define DRNN_SEARCH_EXPANSIONS 500000LL          /* default bound on partial names expanded */
#define DRNN_SEARCH_BYTES ((size_t)1 << 30)      /* default bound on the search's memory */

typedef struct drnn_search_options {
    int k;                        /* names wanted, 1 .. DRNN_MAX_BEST */
    const drnn_token *prefix;     /* every name starts with it (NULL when prefix_len is 0) */
    int prefix_len;
    int min_len, max_len;         /* symbols in a name, prefix included; 1 <= min <= max
                                   * <= DRNN_MAX_NAME_LEN, prefix_len <= max_len */
    const drnn_name_set *exclude; /* names never returned (--novel), or NULL */
    long long max_expansions;     /* work bound: partial names expanded; 0: the default */
    size_t max_bytes;             /* memory bound; 0: the default */
    const drnn_constraint *constraint; /* the names' shape (constraint.h), or NULL:
                                   * compiled against the model's vocabulary */
} drnn_search_options;

/* One complete name and its score. */
typedef struct drnn_scored_name {
    drnn_token tokens[DRNN_MAX_NAME_LEN];
    int len;
    double logprob;   /* natural log of p(name, END), prefix included; equals
                       * -drnn_name_loss of the name bit for bit */
} drnn_scored_name;

typedef struct drnn_search_result {
    drnn_scored_name *names;  /* count names, by non-increasing logprob */
    int count;
    int exact;                /* 1: names[] are exactly the k most likely (or all
                               * there are, when count < k) */
    int certified;            /* names[0 .. certified-1] are exactly the most likely
                               * ones; after a bound stopped the search, the rest are
                               * the best it could finish cheaply */
    long long expanded;       /* partial names expanded (one model step each) */
    size_t peak_bytes;        /* memory the search held at most */
    int out_of_memory;        /* the memory bound stopped it (else, when not exact,
                               * the bound on expansions) */
    int unsatisfiable;        /* no name meets the options and the constraint
                               * together: nothing was searched (count 0, exact 1) */
    int depth_first;          /* the memory bound stopped the best-first search, and
                               * a depth-first walk in less memory went on from the
                               * root (exact: it finished) */
    double floor;             /* a lower bound on the k-th name's logprob, from a
                               * beam run before the search (the k-th of k names it
                               * finished): nothing below it was queued; -INFINITY
                               * when it finished fewer */
} drnn_search_result;

/* The k most likely complete names that start with the prefix, have
 * min_len..max_len symbols, are not excluded and meet the constraint, by
 * best-first search over partial names: a name's log-probability only
 * falls as it grows, so a name that leaves the queue finished is final.
 * Ties in log-probability go to the shorter name, then to the lower symbol
 * indices (vocabulary order) from the first symbol on. When a bound stops
 * the search, res->exact is 0 and the names it could not certify are
 * completed greedily (within the constraint too). When memory runs out,
 * a depth-first walk that keeps one batch of states per symbol of the
 * name takes over (res->depth_first): it takes more model steps but
 * little memory, and is exact if it finishes within the expansions left. res is valid (free it
 * with drnn_search_result_free) whenever DRNN_OK is returned.
 *
 * With a constraint, names meet both its lengths and the options', and
 * start with both its prefix and the options' (as drnn_constraint_root;
 * give the prefix in the constraint alone, so that drnn_constraint_reason
 * explains an empty answer). A partial name is extended only by symbols
 * from which the constraint can still be met within the lengths, so the
 * answer stays exact. When nothing can meet them (drnn_constraint_
 * satisfiable is 0, or they contradict the options), res->unsatisfiable
 * is 1, res->count 0, and nothing is searched. */
int drnn_search_best(const drnn_model *m, const drnn_search_options *opt,
                     drnn_search_result *res, drnn_error *err);
void drnn_search_result_free(drnn_search_result *res);

#ifdef __cplusplus
}
#endif
#endif
