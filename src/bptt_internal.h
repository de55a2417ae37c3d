/* bptt_internal.h: bptt.c's loss call for the trainer's gradient slots.
 * Not installed. */
#ifndef DINORNN_BPTT_INTERNAL_H
#define DINORNN_BPTT_INTERNAL_H

#include <stdint.h>

#include "dinornn/bptt.h"

/* drnn_group_loss writing over grad, for a gradient whose W_x[0] is all
 * zero on entry: it writes only the rows of the tokens the names read (END
 * and their symbols), leaving the others zero, instead of clearing all V
 * rows. The caller zeroes those rows again before the next call (the
 * trainer's gradient slots, whose cost would otherwise grow with V per
 * mini-batch). */
double drnn_group_loss_rows(const drnn_params *w, drnn_scratch *s, const drnn_token *const *names,
                            const uint16_t *labels, const int *lens, int count,
                            const uint64_t *drop_seeds, drnn_params *grad);

#endif
