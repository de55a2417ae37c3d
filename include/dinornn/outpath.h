/* dinornn/outpath.h: whether the files a program is about to write may be
 * written. An output must not be a file the run reads (its data, the
 * checkpoint it resumes from) or writes otherwise (a log that is also a
 * checkpoint vanishes at the next save), whatever name it is given (a hard
 * or symbolic link, ./x for x); an existing file there must be one of the
 * kind the output writes (a log is not appended to a checkpoint or to
 * someone's data), and a regular file: never a directory, a FIFO (which
 * would block) or a device. Checked before anything is written. */
#ifndef DINORNN_OUTPATH_H
#define DINORNN_OUTPATH_H

#include "dinornn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a run does with a file. */
typedef enum drnn_file_use {
    DRNN_READS,             /* names: --data, --val-data */
    DRNN_READS_CHECKPOINT,  /* the checkpoint a run resumes from */
    DRNN_WRITES_CHECKPOINT, /* replaced whole by drnn_checkpoint_save (a rename): an existing
                             * file must be a checkpoint; it may be the one resumed from */
    DRNN_WRITES_LOG,        /* appended to: an existing non-empty file must be a dinornn-train
                             * log (its first line a JSON object of one) */
    DRNN_WRITES_LOCK        /* a checkpoint directory's lock file: empty or a process id,
                             * with no other name (hard link) and not a symbolic link */
} drnn_file_use;

/* One file of a run. */
typedef struct drnn_run_file {
    const char *path;       /* NULL: the run has no such file (skipped) */
    const char *what;       /* in messages: "the log (--log)", "the training data" */
    drnn_file_use use;
} drnn_run_file;

/* Checks each output among files[0..n) before anything is written: it is
 * none of the other files (by device and inode, or where it does not exist
 * yet, by its directory and name), and what is there already is a regular
 * file of the kind the output writes. *refused (if not NULL) receives the
 * index of the output refused, else -1. Errors: DRNN_ERR_INVALID (the same
 * file as another of the run), DRNN_ERR_IS_DIR, DRNN_ERR_NOT_REGULAR (a
 * FIFO, a device, a socket; a symbolic link as lock file), DRNN_ERR_MISMATCH
 * (a file the output does not write: a checkpoint, a names file, ...),
 * DRNN_ERR_IO (cannot be examined), DRNN_ERR_NOMEM. */
int drnn_outputs_check(const drnn_run_file *files, int n, int *refused, drnn_error *err);

/* The same check of one output already open as fd (its path for messages),
 * for a file that must not change between the check and the write (a lock
 * file, opened first). */
int drnn_output_check_fd(int fd, const drnn_run_file *file, drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
