/* dinornn/evaluate.h: a model's loss over a corpus of names, the same for
 * any thread count. */
#ifndef DINORNN_EVALUATE_H
#define DINORNN_EVALUATE_H

#include <stdint.h>

#include "dinornn/model.h"
#include "dinornn/names.h"
#include "dinornn/stepper.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Evaluation sums a corpus in this many fixed chunks, in order. */
#define DRNN_EVAL_CHUNKS 16

/* Summed loss (nats) of m over a corpus and its predicted characters, for
 * any thread count the same value: the names are cut into DRNN_EVAL_CHUNKS
 * fixed chunks, each summed in order, then summed in chunk order. A
 * mixture's names are summed one after another, through the stepper.
 * A labeled model scores each name under its label (c->labels):
 * DRNN_ERR_MISMATCH when the names have no labels or a label is not one of
 * the model's. */
int drnn_evaluate(const drnn_model *m, const drnn_corpus *c, double *nats, int64_t *chars,
                  drnn_error *err);
/* A labeled model's loss per label: drnn_evaluate_labels (classify.h). */
/* One name's loss (nats) through st, a stepper made for m: -log p of each
 * symbol and of the end, summed in double. A labeled model's name is
 * scored under st's label setting (drnn_stepper_set_label, or the label
 * mixture: then -log P(name) over all labels). */
double drnn_name_nats(const drnn_model *m, drnn_stepper *st, const drnn_token *name, int len);
/* The same, with each step's nats into steps[0 .. len] (the symbols, then
 * the end): how likely each next symbol was. NaN when memory runs out. */
double drnn_name_step_nats(const drnn_model *m, drnn_stepper *st, const drnn_token *name,
                           int len, double *steps);

#ifdef __cplusplus
}
#endif
#endif
