/* bench_search.h: dinornn-bench --search (bench_search.c). */
#ifndef DINORNN_BENCH_SEARCH_H
#define DINORNN_BENCH_SEARCH_H

#include "cli.h"

/* The exact search (--best 10) on the checkpoint (NULL: dinornn-sample's
 * default) under each of a fixed list of constraint sets: a Markdown table,
 * or one JSON object per set. Returns the exit status. */
int bench_search(const char *checkpoint, int json);

#endif
