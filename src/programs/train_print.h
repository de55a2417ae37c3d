/* train_print.h: what dinornn-train prints while it trains, besides its
 * epoch lines: the progress line on a terminal, the sample line, and which
 * member of a mixture is in training. */
#ifndef DINORNN_TRAIN_PRINT_H
#define DINORNN_TRAIN_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/dinornn.h"

/* "member k/N, " for a mixture (the model in training), else "", in buf;
 * returns buf. */
const char *train_member_part(const drnn_train_state *st, char *buf, size_t size);

/* A few names from the current weights on stdout, marking copies of
 * training names; the state does not change. */
void train_print_samples(const drnn_train_state *st, const drnn_corpus *train, int count);

/* Whether standard error takes a progress line redrawn in place: a terminal
 * whose TERM is set and not "dumb" (one that knows the escape sequence
 * that clears a line), and not --quiet. */
int train_progress_wanted(int quiet);
/* The progress line: member, epoch, names done, speed, time left. */
void train_draw_progress(const drnn_train_state *st, size_t names, long long epochs,
                         int64_t chars, int64_t done, double seconds);
/* Clears the progress line. */
void train_clear_progress(void);

#endif
