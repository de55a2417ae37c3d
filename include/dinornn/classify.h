/* dinornn/classify.h: the label a name most likely has. A labeled model
 * gives P(name | label) for each of its labels; with the labels' shares of
 * the training names as the prior, Bayes' rule gives
 *   P(label k | name) = share_k P(name | k) / sum_j share_j P(name | j).
 * Also the measures of a labeled model on a labeled corpus: the loss per
 * label, the classification accuracy and the confusion matrix. */
#ifndef DINORNN_CLASSIFY_H
#define DINORNN_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/corpus.h"
#include "dinornn/labels.h"
#include "dinornn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* nats[k] = -log P(name | k) for every label k of m (m->cfg.labels > 0),
 * each exactly drnn_name_loss_labeled's (one network) or the stepper's
 * with drnn_stepper_set_label (a mixture). DRNN_ERR_INVALID for an
 * unlabeled model. */
int drnn_label_nats(const drnn_model *m, const drnn_token *name, int len, double *nats,
                    drnn_error *err);

/* The same for many names, with the workspaces made once: a scorer of
 * m's names of up to max_len symbols (m must outlive it). */
typedef struct drnn_label_scorer drnn_label_scorer;
int drnn_label_scorer_new(drnn_label_scorer **out, const drnn_model *m, int max_len,
                          drnn_error *err);
void drnn_label_scorer_free(drnn_label_scorer *s);
/* drnn_label_nats of a name of len <= max_len symbols, bit for bit. */
void drnn_label_scorer_nats(drnn_label_scorer *s, const drnn_token *name, int len, double *nats);

/* post[k] = P(label k | name) from nats[] and the shares of t (Bayes' rule,
 * in double, by the log-sum-exp); returns the most likely label (the
 * lowest index among equals). */
int drnn_label_posterior(const drnn_label_table *t, const double *nats, double *post);

/* order[0 .. n-1] = 0 .. n-1 sorted by post, most likely first (ties by
 * index), for printing. */
void drnn_label_order(const double *post, int n, int *order);

/* nats[i * N + k] for every name i of c and label k: drnn_label_nats over
 * a corpus, on the threads, the same values for any thread count. */
int drnn_label_nats_corpus(const drnn_model *m, const drnn_corpus *c, double *nats,
                           drnn_error *err);

/* A labeled model on a labeled corpus (labels indexed as the model's:
 * drnn_corpus_use_labels). */
typedef struct drnn_label_report {
    int labels;              /* N */
    size_t names;            /* names classified */
    size_t correct;          /* of those, classified as their own label */
    double *nats;            /* [N] summed -log P(name | its label) of each label's names */
    int64_t *chars;          /* [N] their predicted characters (symbols and ends) */
    size_t *count;           /* [N] names with each label */
    size_t *confusion;       /* [N * N] row: the true label, column: the label chosen */
} drnn_label_report;

int drnn_evaluate_labels(const drnn_model *m, const drnn_label_table *t, const drnn_corpus *c,
                         drnn_label_report *rep, drnn_error *err);
void drnn_label_report_free(drnn_label_report *rep);

#ifdef __cplusplus
}
#endif
#endif
