/* dinornn/sample.h: generating names from a trained model. */
#ifndef DINORNN_SAMPLE_H
#define DINORNN_SAMPLE_H

#include "dinornn/constraint.h"
#include "dinornn/error.h"
#include "dinornn/model.h"
#include "dinornn/names.h"
#include "dinornn/rng.h"
#include "dinornn/stepper.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drnn_sample_options {
    double temperature;  /* >= 0; 0 is greedy (always the most likely symbol) */
    int top_k;           /* draw among the k most likely symbols; 0 = all */
    int max_len;         /* symbols in a name, prefix included, 1 .. DRNN_MAX_NAME_LEN */
    int min_len;         /* no END before this many symbols (0 or 1: at least one) */
} drnn_sample_options;

/* Feeds END and the prefix, then draws symbols until END or max_len; END is
 * not drawn before min_len symbols (at least one).
 * out (room for max_len tokens) receives prefix and continuation; returns
 * the name's length. st is a stepper made for m. The prefix must hold tokens
 * of the model's vocabulary other than END and be at most max_len long. */
int drnn_sample_name(const drnn_model *m, drnn_stepper *st, drnn_rng *rng,
                     const drnn_sample_options *opt, const drnn_token *prefix, int prefix_len,
                     drnn_token *out);

/* Draws per name wanted: the bound a program gives drnn_sample_constrained
 * by default (count x this, all names together). */
#define DRNN_SAMPLE_DRAWS 1000

/* A name drawn from drnn_sample_name's distribution (opt, the prefix)
 * given the constraint c, by rejection: each draw takes one from
 * *draws_left and is drawn again from the start as soon as its name can no
 * longer meet c (or it ends unaccepted); the first accepted is returned
 * (its length, >= 1, tokens in out), so the names returned follow the
 * model's distribution conditioned on c exactly. Names meet c's lengths
 * and opt's, and start with c's prefix and the one given (as
 * drnn_constraint_root). c NULL: one draw, as drnn_sample_name.
 * Returns 0 when *draws_left ran out first (0 left), -1 at once when no
 * draw can ever be accepted: nothing meets c with these prefix and
 * lengths, or the draw is deterministic (temperature 0 or top_k 1) and its
 * one name is refused (or c was compiled for another vocabulary size). */
int drnn_sample_constrained(const drnn_model *m, drnn_stepper *st, drnn_rng *rng,
                            const drnn_sample_options *opt, const drnn_constraint *c,
                            const drnn_token *prefix, int prefix_len, long long *draws_left,
                            drnn_token *out);

/* The index of the symbol drawn from logits[V] under opt (temperature, top_k). */
int drnn_sample_logits(const drnn_real *logits, int V, const drnn_sample_options *opt,
                       drnn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
