/* search_depth.h: the exact search's depth-first walk (search_depth.c). */
#ifndef DINORNN_SEARCH_DEPTH_H
#define DINORNN_SEARCH_DEPTH_H

#include "dinornn/search.h"
#include "search_floor.h"

typedef struct drnn_search_depth_args {
    drnn_search_floor_args at;  /* the root, the conditions, k */
    double threshold;           /* a lower bound on the k-th name's score */
    long long max_expansions;   /* model steps it may take */
    size_t max_bytes;           /* memory it may hold */
} drnn_search_depth_args;

/* The search's order of names: the higher score, then the shorter, then
 * the lower tokens from the first (a qsort comparator on drnn_scored_name). */
int drnn_search_name_order(const void *x, const void *y);

/* The k best names (the search's order) that meet the conditions and
 * score at least a->threshold, by a depth-first walk that steps the
 * children of a name together and prunes every name that scores below
 * the threshold (raised to the k-th name found, once k are). Into
 * names[k], best first; returns how many. *complete is 1 when the walk
 * ended (the names are then exactly the k most likely, the threshold
 * being a true lower bound) and 0 when a bound stopped it. *expanded:
 * the model steps taken; *bytes: the memory held at most. */
int drnn_search_depth(const drnn_search_depth_args *a, drnn_scored_name *names,
                      long long *expanded, size_t *bytes, int *complete);

#endif
