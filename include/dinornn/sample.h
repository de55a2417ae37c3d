/* dinornn/sample.h: generating names from a trained model. */
#ifndef DINORNN_SAMPLE_H
#define DINORNN_SAMPLE_H

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

/* The index of the symbol drawn from logits[V] under opt (temperature, top_k). */
int drnn_sample_logits(const drnn_real *logits, int V, const drnn_sample_options *opt,
                       drnn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
