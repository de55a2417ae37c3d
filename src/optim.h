/* optim.h: the steps of training that act on the flat buffers as a whole:
 * clipping and the optimizer update (optim.c). Not installed. */
#ifndef DINORNN_OPTIM_H
#define DINORNN_OPTIM_H

#include <stddef.h>

#include "dinornn/train.h"

/* Parameters per chunk of the loops over the flat buffers: threads take
 * whole chunks, and the gradient norm is summed chunk by chunk, so that no
 * sum depends on the thread count. A multiple of every vector width. */
#define DRNN_CHUNK 4096

/* Below this many parameters those loops run on one thread: waking the
 * others costs more than the loop (config (a), 5,000 parameters, spent a
 * quarter of its time in OpenMP barriers). */
#define DRNN_PARALLEL_MIN_PARAMS 65536

/* Clips the mean gradient g[n] in place, in either mode: by global norm
 * (norm2 = |g|^2: g *= clip / |g| when |g| > clip) or each element into
 * [-clip, clip]; nothing when hp->clip is 0. By up to `threads` threads,
 * which take chunks as they come free (a thread that lost its core holds
 * up one chunk, not half the loop). */
void drnn_clip_gradient(drnn_real *g, size_t n, const drnn_hparams *hp, double norm2,
                        int threads);

/* One step of st's optimizer at learning rate lr with the clipped mean
 * gradient g (st->step not yet counted), by up to `threads` threads. */
void drnn_optimizer_step(drnn_train_state *st, const drnn_real *g, double lr, int threads);

#endif
