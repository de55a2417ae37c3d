/* dinornn/rundir.h: a run's checkpoint directory, and whether names read
 * now are those a checkpoint was trained on.
 *
 * A directory belongs to one run: a trainer holds its lock while it works
 * there (two never share it), does not replace the checkpoints of another
 * run unless told to, removes what interrupted writes left, and leaves a
 * checkpoint made read-only as it is. Readers of checkpoints need none of
 * this: saves are atomic renames (drnn_checkpoint_save). */
#ifndef DINORNN_RUNDIR_H
#define DINORNN_RUNDIR_H

#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/outpath.h"
#include "dinornn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The lock file that marks a checkpoint directory as in use by a run. */
#define DRNN_RUNDIR_LOCK_FILE "train.lock"

/* A checkpoint directory held by this process (fd is -1 when not held). */
typedef struct drnn_dir_lock {
    int fd;
    int made_file;            /* this process created the lock file */
    int made_dirs;            /* ... and the last made_dirs directories of the path */
} drnn_dir_lock;

/* Creates dir and its missing parents (like mkdir -p), then takes an
 * exclusive flock() on dir/train.lock and writes this process's id into it.
 * The lock lasts until drnn_rundir_unlock or the end of the process,
 * however it ends (the kernel releases it, so kill -9 leaves no stale lock);
 * the file itself stays. A lock file that is not one (a symbolic link, a
 * FIFO, a file with other names or other data: drnn_outputs_check) is
 * refused, never written. Errors: DRNN_ERR_LOCKED when another process
 * holds it (*holder, if not NULL, is then its process id, or 0 if it cannot
 * be told), DRNN_ERR_INVALID (an empty name), DRNN_ERR_IO, DRNN_ERR_NOMEM,
 * and those of drnn_outputs_check. */
int drnn_rundir_lock(drnn_dir_lock *lock, const char *dir, long *holder, drnn_error *err);
void drnn_rundir_unlock(drnn_dir_lock *lock);

/* Removes the temporary files that writes of path interrupted by a crash or
 * kill left beside it (path.tmp-XXXXXX); path itself is never touched. Call
 * it only while holding the directory's lock (drnn_rundir_lock): another
 * run's file being written would look the same.
 * Returns how many were removed, or -1 if the directory cannot be read. */
int drnn_rundir_remove_stale(const char *path);

/* DRNN_OK when drnn_checkpoint_save may replace path: it does not exist, or
 * its owner may write it; else DRNN_ERR_READ_ONLY, with a message that says
 * how to allow it. */
int drnn_rundir_replaceable(const char *path, drnn_error *err);

/* Which file a path named, and as it was then. */
typedef struct drnn_file_stamp {
    int found;
    uint64_t dev, ino;
    int64_t size, mtime_ns;
} drnn_file_stamp;

/* A trainer's checkpoint directory. Its messages say what stands in the
 * way; the caller adds what its own options can do about it (and gives
 * elsewhere for the messages where another directory would help). */
typedef struct drnn_rundir {
    const char *dir;          /* as given (not copied) */
    char *latest, *best;      /* dir/latest.ckpt and dir/best.ckpt */
    char *lock_file;          /* dir/train.lock */
    const char *resume;       /* the checkpoint a resume reads: the file given, else latest */
    int resuming;             /* the run goes on from resume */
    int own_run;              /* ... and that is this directory's own run */
    int overwrite;            /* another run's checkpoints here may be deleted */
    const char *elsewhere;    /* set by the caller: what messages offer instead of this
                               * directory ("train in another --checkpoint-dir"), or NULL */
    const char *held;         /* after drnn_rundir_claim: the checkpoints of another run
                               * found here, as words ("latest.ckpt and best.ckpt"), that
                               * drnn_rundir_delete_held deletes; NULL when none */
    int stale;                /* after drnn_rundir_take: files of interrupted writes
                               * removed (below 0: the directory could not be read) */
    drnn_dir_lock lock;       /* taken by drnn_rundir_enter or drnn_rundir_take */
    drnn_file_stamp resumed;  /* the checkpoint resumed from, as drnn_rundir_enter found it */
} drnn_rundir;

/* Opens dir for a run: a new one, or with resuming one that goes on from
 * resume_file (NULL: dir/latest.ckpt); overwrite lets the run replace
 * another run's checkpoints there. Takes no lock. Errors: DRNN_ERR_INVALID
 * when overwrite contradicts resuming the directory's own run,
 * DRNN_ERR_NOMEM. Close it with drnn_rundir_close, whatever the result. */
int drnn_rundir_open(drnn_rundir *rd, const char *dir, int resuming, const char *resume_file,
                     int overwrite, drnn_error *err);

/* Before anything is read: where another run may hold the directory (its
 * lock file exists), takes the lock at once (DRNN_ERR_LOCKED); else
 * creates nothing, so that a start that fails leaves nothing behind:
 * drnn_rundir_take locks it once the run can start. A path that cannot be
 * a directory (a file in the way) is refused here (DRNN_ERR_IO). Notes the
 * checkpoint a resume reads, for drnn_rundir_take. */
int drnn_rundir_enter(drnn_rundir *rd, long *holder, drnn_error *err);

/* The run's files, checked before anything is written (drnn_outputs_check):
 * the caller's (its data, its log: files[0..n)) and the directory's (the
 * checkpoint resumed from, both checkpoints, the lock file). *refused
 * receives the index of the output refused among the caller's files and
 * then the directory's (n and up), else -1. */
int drnn_rundir_check_files(const drnn_rundir *rd, const drnn_run_file *files, int n,
                            int *refused, drnn_error *err);

/* The checkpoints of another run are refused (DRNN_ERR_MISMATCH) unless
 * overwrite allows them, then named in rd->held. */
int drnn_rundir_claim(drnn_rundir *rd, drnn_error *err);

/* Once the run can start, before anything is written: the lock (the
 * directory and its lock file created if drnn_rundir_enter did not take
 * it: DRNN_ERR_LOCKED, DRNN_ERR_IO, ...), the checkpoint resumed from still
 * the file that was read (DRNN_ERR_MISMATCH: another run saved over it
 * meanwhile), drnn_rundir_claim again (then rd->held is set), and what
 * interrupted writes left removed (rd->stale). On failure the lock, if
 * taken, is held: drnn_rundir_abandon undoes what was made. */
int drnn_rundir_take(drnn_rundir *rd, long *holder, drnn_error *err);

/* Deletes the other run's checkpoints that drnn_rundir_claim allowed
 * (rd->held), once the new run can start. DRNN_ERR_IO. */
int drnn_rundir_delete_held(const drnn_rundir *rd, drnn_error *err);

/* Whether every save will be possible: both checkpoints replaceable
 * (DRNN_ERR_READ_ONLY) and the directory taking new files (DRNN_ERR_IO),
 * found before an epoch is spent, not after it. */
int drnn_rundir_check_saves(const drnn_rundir *rd, drnn_error *err);

/* The run's data moved (the same names, at new_path): each checkpoint of the
 * directory that records old_path with names of this fingerprint is
 * rewritten with new_path, so that resume, evaluation and sampling find it.
 * Errors: those of drnn_checkpoint_save. */
int drnn_rundir_record_data_path(const drnn_rundir *rd, uint64_t fingerprint,
                                 const char *old_path, const char *new_path, drnn_error *err);

/* Unlocks the directory and frees rd's paths. */
void drnn_rundir_close(drnn_rundir *rd);

/* A start that failed before its first save: the lock file and the
 * directories that drnn_rundir_take created are removed (a directory only
 * if nothing else is in it), then as drnn_rundir_close. */
void drnn_rundir_abandon(drnn_rundir *rd);

/* Names read now, to compare with those a checkpoint's run was trained on. */
typedef struct drnn_data_read {
    const char *path;          /* the training names' file, as named in messages */
    uint64_t fingerprint;      /* drnn_names_fingerprint of its names */
    const char *val_path;      /* a validation file of its own, or NULL: not compared */
    uint64_t val_fingerprint;  /* of its names (0 without one) */
} drnn_data_read;

/* Whether the names read now are those that the checkpoint at ckpt (its
 * state st) was trained and validated on: DRNN_OK, or DRNN_ERR_MISMATCH with
 * "FILE holds other names than the data CKPT was trained on (RECORDED)" for
 * the training file if its names differ, else "VALFILE holds other names
 * than the validation file CKPT was validated on".
 * *data_differs (if not NULL) says whether the training names differ. */
int drnn_rundir_check_data(const drnn_train_state *st, const char *ckpt,
                           const drnn_data_read *now, int *data_differs, drnn_error *err);

/* A resumed run goes on with the names read now (other names only with the
 * caller's consent, after drnn_rundir_check_data). The file named for them
 * (given, NULL: the recorded one) becomes the recorded data path, absolute,
 * if it differs: *trained_on then receives the path recorded before (the
 * caller frees it), else NULL. Other names take over the fingerprints, and
 * the best score so far no longer counts: losses on other names do not
 * compare. DRNN_ERR_NOMEM. */
int drnn_rundir_adopt_data(drnn_train_state *st, const char *given, const drnn_data_read *now,
                           char **trained_on, drnn_error *err);

/* Whether the names at path can be read again (by a resume, an evaluation,
 * --novel): DRNN_OK for a regular file, or one that is not there (reading
 * it says so); DRNN_ERR_NOT_REGULAR for a pipe, a terminal or a device,
 * whose names are read once: "PATH is a named pipe (FIFO), not a file", or
 * with ckpt, the checkpoint that recorded path as its training data, "PATH
 * (the training data recorded in CKPT) is ..., not a file: its names were
 * read once, when that model was trained, and cannot be read again". */
int drnn_rundir_data_rereadable(const char *path, const char *ckpt, drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
