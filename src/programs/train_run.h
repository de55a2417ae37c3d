/* train_run.h: one invocation of dinornn-train, and the steps of its start
 * that concern its checkpoint directory and the files it writes
 * (train_start.c): the directory claimed, the run's files checked before
 * anything is read or written, a failed start undone. */
#ifndef DINORNN_TRAIN_RUN_H
#define DINORNN_TRAIN_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "dinornn/dinornn.h"
#include "dist.h"
#include "train_options.h"

/* Everything one invocation works with, for the steps of train_main.c's main. */
typedef struct run {
    train_options o;
    dist dist;                    /* the processes of an MPI job: process 0 saves and prints */
    int threads;
    drnn_rundir dir;              /* the checkpoints, the lock, the checkpoint resumed from */
    const char *data_path;
    drnn_train_state st;
    drnn_corpus train, val;
    uint64_t fingerprint, val_fingerprint;
    char *trained_on;             /* the data path recorded before --data changed it */
    int data_switched, switched;  /* --force onto other training (or validation) names */
    drnn_trainer *trainer;
    FILE *log;
    double start;
    int fitted;                   /* the model's size was chosen from the data */
} run;


/* The exit status of a refused file: the environment's failures (I/O, a
 * directory in use) are runtime ones, a file given where it cannot be is a
 * usage error. */
int train_file_status(int code);

/* A failed start: what it created in the checkpoint directory is removed,
 * then "program: message" and exit(status). */
_Noreturn void train_start_failed(run *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Before the data is read: the directory opened and, where another run may
 * hold it, locked; on resume the checkpoint loaded (and the data it
 * records, unless a pipe that cannot be read again); the run's files
 * checked; the checkpoints of another run refused (rundir.h decides; the
 * messages add what this program's options can do). */
void train_claim_directory(run *r);

/* Once the run can start: the directory locked (made, if it was not
 * there), claimed again under the lock, its leftovers removed. */
void train_take_directory(run *r);

/* The last of the start, every check passed: the log opened (and locked,
 * so that two runs never write one log), the checkpoints of the run that
 * --overwrite replaces deleted. */
void train_begin(run *r);

#endif
