/* state.h: what the trainer and the plan ask of a run's state (state.c)
 * besides the public calls of dinornn/state.h. Not installed. */
#ifndef DINORNN_STATE_INTERNAL_H
#define DINORNN_STATE_INTERNAL_H

#include <stdint.h>

#include "dinornn/state.h"

/* 1 when optimizer o keeps moment `which` (1: moment1, 2: moment2): the
 * moments it does not use stay unallocated (count 0). */
int drnn_state_has_moment(drnn_optimizer o, int which);

/* The seed of the current member's streams: member 0's are those of a run
 * of one model. */
uint64_t drnn_state_member_seed(const drnn_train_state *st);

/* The end of an epoch (st->epoch already counts it) that scored `score`
 * (the validation loss, or the training loss without validation names): a
 * new best is recorded, and a mixture keeps the member's weights; else the
 * plateau schedule may decay. Returns 1 for a new best; *lr_decayed is 1
 * when the rate was lowered. */
int drnn_state_end_epoch(drnn_train_state *st, double score, int *lr_decayed);

#endif
