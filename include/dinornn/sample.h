/* dinornn/sample.h: generating names from a trained model. */
#ifndef DINORNN_SAMPLE_H
#define DINORNN_SAMPLE_H

#include "dinornn/error.h"
#include "dinornn/model.h"
#include "dinornn/names.h"
#include "dinornn/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drnn_sample_options {
    double temperature;  /* >= 0; 0 is greedy (always the most likely symbol) */
    int top_k;           /* draw among the k most likely symbols; 0 = all */
    int max_len;         /* symbols in a name, prefix included, 1 .. DRNN_MAX_NAME_LEN */
} drnn_sample_options;

/* Feeds END and the prefix, then draws symbols until END or max_len; a name
 * has at least one symbol (END cannot be drawn first).
 * out (room for max_len tokens) receives prefix and continuation; returns
 * the name's length. The prefix must hold tokens of the model's vocabulary
 * other than END and be shorter than max_len. */
int drnn_sample_name(const drnn_params *w, drnn_stepper *st, drnn_rng *rng,
                     const drnn_sample_options *opt, const drnn_token *prefix, int prefix_len,
                     drnn_token *out);

/* The index of the symbol drawn from logits[V] under opt (temperature, top_k). */
int drnn_sample_logits(const drnn_real *logits, int V, const drnn_sample_options *opt,
                       drnn_rng *rng);

#define DRNN_MAX_BEAM 1000

/* One complete name found by beam search. */
typedef struct drnn_beam_result {
    drnn_token tokens[DRNN_MAX_NAME_LEN];
    int len;
    double logprob;      /* natural log of p(name, END), prefix included */
} drnn_beam_result;

/* The (up to) k most likely complete names that start with prefix and have
 * at most max_len symbols, by beam search of width k; sorted by decreasing
 * logprob, which equals -drnn_name_loss of the name bit for bit. Returns
 * the number found in *found (results has room for k). */
int drnn_beam_search(const drnn_params *w, const drnn_token *prefix, int prefix_len, int k,
                     int max_len, drnn_beam_result *results, int *found, drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
