/* evaluate.h: evaluation shared by drnn_evaluate and the trainer (which
 * lends its workspaces). Not installed. */
#ifndef DINORNN_SRC_EVALUATE_H
#define DINORNN_SRC_EVALUATE_H

#include <stdint.h>

#include "dinornn/bptt.h"
#include "dinornn/model.h"
#include "dinornn/names.h"

/* Summed loss of w over c and its predicted characters, in DRNN_EVAL_CHUNKS
 * fixed chunks; n_scratch workspaces, each for groups of up to group names
 * as long as c's longest. */
double drnn_evaluate_chunks(const drnn_params *w, const drnn_corpus *c, drnn_scratch **scratch,
                            int n_scratch, int group, int64_t *chars_out);

/* A labeled model (m->cfg.labels > 0) needs labeled names, each label one
 * of the model's: DRNN_ERR_MISMATCH otherwise. An unlabeled model takes
 * any names. */
int drnn_check_corpus_labels(const drnn_model *m, const drnn_corpus *c, drnn_error *err);

#endif
