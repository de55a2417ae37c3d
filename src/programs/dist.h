/* dist.h: dinornn-train as one of the processes of an MPI job (dist.c,
 * built with ./configure --with-mpi). Without MPI there is one process and
 * these do nothing (include config.h first: HAVE_MPI). Process 0 alone writes checkpoints and prints; every
 * process reads the data and trains its share of each mini-batch's slots
 * (drnn_trainer_distribute). */
#ifndef DINORNN_DIST_H
#define DINORNN_DIST_H

#include <stdint.h>
#include <stdlib.h>

#include "dinornn/train.h"

typedef struct dist {
    int rank, ranks;          /* this process, of 0 .. ranks-1 */
    int mpi;                  /* MPI started: an MPI launcher started us */
} dist;

#ifdef HAVE_MPI
/* Starts MPI when an MPI launcher (mpirun, mpiexec, srun) started this
 * process; else it is one process alone. Threads: the main one calls MPI,
 * OpenMP's do not. */
void dist_start(dist *d, int *argc, char ***argv);
/* Ends MPI after a run that every process finished. */
void dist_end(dist *d);
/* Process 0's state (a checkpoint it loaded) to every other process's st. */
int dist_share_state(const dist *d, drnn_train_state *st, drnn_error *err);
/* DRNN_ERR_MISMATCH unless every process read the same names (train_fp,
 * val_fp) and was given the same settings (hp, epochs) as process 0. */
int dist_check_same(const dist *d, uint64_t train_fp, uint64_t val_fp, const drnn_hparams *hp,
                    long long epochs, drnn_error *err);
/* Makes t this process's part of the run. */
int dist_trainer(const dist *d, drnn_trainer *t, drnn_error *err);
/* Every process together: ends MPI and exits with status. */
void dist_exit(dist *d, int status);
#else
static inline void dist_start(dist *d, int *argc, char ***argv)
{
    (void)argc, (void)argv;
    d->rank = 0;
    d->ranks = 1;
    d->mpi = 0;
}
static inline void dist_end(dist *d) { (void)d; }
static inline int dist_share_state(const dist *d, drnn_train_state *st, drnn_error *err)
{
    (void)d, (void)st, (void)err;
    return DRNN_OK;
}
static inline int dist_check_same(const dist *d, uint64_t train_fp, uint64_t val_fp,
                                  const drnn_hparams *hp, long long epochs, drnn_error *err)
{
    (void)d, (void)train_fp, (void)val_fp, (void)hp, (void)epochs, (void)err;
    return DRNN_OK;
}
static inline int dist_trainer(const dist *d, drnn_trainer *t, drnn_error *err)
{
    (void)d, (void)t, (void)err;
    return DRNN_OK;
}
static inline void dist_exit(dist *d, int status)
{
    (void)d;
    exit(status);
}
#endif

#endif
