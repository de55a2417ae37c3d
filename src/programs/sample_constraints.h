/* sample_constraints.h: dinornn-sample's constraints on a name's shape
 * (--suffix, --contains, --exclude, --pattern, with --prefix and the
 * lengths), from the command line to a compiled drnn_constraint, and as
 * JSON. */
#ifndef DINORNN_SAMPLE_CONSTRAINTS_H
#define DINORNN_SAMPLE_CONSTRAINTS_H

#include <stdio.h>

#include "cli.h"
#include "dinornn/dinornn.h"

_Static_assert(CLI_LIST_MAX == DRNN_MAX_CONTAINS, "--contains takes what the library takes");

/* The shape options as given (NULL: not given). */
typedef struct sample_shape {
    const char *suffix, *exclude, *pattern;
    cli_list contains;
} sample_shape;

/* 1 if any of them is given (an empty --suffix, --contains or --exclude
 * constrains nothing, but still counts: the user asked for constraints). */
int sample_shape_given(const sample_shape *s);

/* Compiles the shape with the prefix (its tokens, already checked by
 * cli_encode) and the lengths (0: none) against the checkpoint's
 * vocabulary, its case as the model was trained. Exits EXIT_USAGE naming
 * the option on a malformed constraint or one with a symbol the model does
 * not know ("--pattern '[ab': ..."), EXIT_RUNTIME out of memory. */
drnn_constraint *sample_shape_compile(const sample_shape *s, const drnn_train_state *st,
                                      const drnn_token *prefix, int prefix_len, int min_len,
                                      int max_len);

/* Writes ,"constraints":{...}: the prefix and the shape options given, as
 * given. */
void sample_shape_json(FILE *fp, const sample_shape *s, const char *prefix);

#endif
