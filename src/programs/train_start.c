/* train_start.c: the start of a dinornn-train run in its checkpoint
 * directory (train_run.h): the lock, the checkpoint resumed from, the run's
 * files checked before anything is read or written, a failed start undone. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "train_run.h"

/* The log in messages. */
static const char log_what[] = "the log (--log)";

void train_start_failed(run *r, int status, const char *fmt, ...)
{
    char message[2 * DRNN_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    drnn_rundir_abandon(&r->dir);
    cli_die(status, "%s", message);
}

int train_file_status(int code)
{
    return code == DRNN_ERR_IO || code == DRNN_ERR_NOMEM || code == DRNN_ERR_LOCKED
               ? EXIT_RUNTIME
               : EXIT_USAGE;
}

/* A lock that could not be taken (drnn_rundir_enter, drnn_rundir_take). */
static _Noreturn void refuse_lock(run *r, const drnn_error *err)
{
    const int code = err->code;
    const int lock_file = code == DRNN_ERR_MISMATCH || code == DRNN_ERR_NOT_REGULAR ||
                          code == DRNN_ERR_IS_DIR; /* what drnn_outputs_check refused */
    train_start_failed(r, train_file_status(code), "%s%s", err->message,
                       code == DRNN_ERR_LOCKED
                           ? "; wait for it to finish, or train in another --checkpoint-dir"
                       : lock_file ? "; remove it if no run is using the directory, or train in "
                                     "another --checkpoint-dir"
                                   : "");
}

/* The checkpoints of another run in the directory (drnn_rundir_claim), and
 * the ways on: a lone best.ckpt holds a whole state, and resumes. */
static _Noreturn void refuse_claim(run *r, const drnn_error *err)
{
    const drnn_rundir *dir = &r->dir;
    if (r->o.resume)
        train_start_failed(r, EXIT_USAGE, "%s; give another --checkpoint-dir, or add "
                           "--overwrite to delete them", err->message);
    char *best = cli_shell_word(dir->best);
    if (!best)
        cli_die(EXIT_RUNTIME, "out of memory");
    const int only_best = strcmp(dir->held, "best.ckpt") == 0;
    char msg[3 * 4096];
    snprintf(msg, sizeof msg,
             "%s; to continue that run, add --resume%s%s%s; to keep it and start a new one, give "
             "another --checkpoint-dir; to start over in %s, deleting them, add --overwrite",
             err->message, only_best ? "=" : "", only_best ? best : "",
             only_best ? " (from its best epoch: its latest.ckpt is gone)" : "", dir->dir);
    free(best); /* before the exit, which the leak checker would count */
    train_start_failed(r, EXIT_USAGE, "%s", msg);
}

/* On resume: the checkpoint (process 0's, in an MPI job), with the
 * settings the command line may change. */
static void load_resumed(run *r)
{
    drnn_error err;
    if (r->dist.rank == 0 && drnn_checkpoint_load(&r->st, r->dir.resume, &err)) {
        char *best = NULL;
        if (err.code == DRNN_ERR_NOT_FOUND && !r->o.resume_file &&
            access(r->dir.best, F_OK) == 0 && !(best = cli_shell_word(r->dir.best)))
            cli_die(EXIT_RUNTIME, "out of memory");
        if (best) { /* a lone best.ckpt: the run's whole state at its best epoch */
            char msg[3 * 4096];
            snprintf(msg, sizeof msg, "%s; %s holds only best.ckpt: to continue from its best "
                     "epoch, give --resume=%s", err.message, r->dir.dir, best);
            free(best); /* before the exit, which the leak checker would count */
            cli_die(EXIT_RUNTIME, "%s", msg);
        }
        cli_die(EXIT_RUNTIME, "%s%s", err.message,
                err.code != DRNN_ERR_NOT_FOUND ? ""
                : r->o.resume_file              ? " (check the file given to --resume)"
                                                : " (nothing to resume: start without --resume)");
    }
    if (dist_share_state(&r->dist, &r->st, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    train_check_resume_options(&r->o, &r->st.hp, r->dir.resume);
    train_apply_resume_options(&r->o, &r->st.hp);
}

/* Every file the run writes, checked against every file it reads and the
 * directory's, before anything is read or written (outpath.h). */
static void check_files(run *r)
{
    const train_options *o = &r->o;
    const drnn_run_file files[] = {
        {o->log, log_what, DRNN_WRITES_LOG},
        {r->data_path, "the training data", DRNN_READS},
        {o->val_data, "the validation data (--val-data)", DRNN_READS},
    };
    int refused;
    drnn_error err;
    if (!drnn_rundir_check_files(&r->dir, files, 3, &refused, &err))
        return;
    if (refused == 0)
        cli_die(train_file_status(err.code), "%s; give --log another file", err.message);
    cli_die(train_file_status(err.code), "%s%s%s%s", err.message,
            refused > 0 ? "; move it out of " : "", refused > 0 ? r->dir.dir : "",
            refused > 0 ? ", or train in another --checkpoint-dir" : "");
}

/* The directory belongs to one run: a resumed run goes on with the one there;
 * anything else would start a new one over it. */
void train_claim_directory(run *r)
{
    const train_options *o = &r->o;
    drnn_rundir *dir = &r->dir;
    drnn_error err;
    if (drnn_rundir_open(dir, o->checkpoint_dir, o->resume, o->resume_file, o->overwrite, &err))
        cli_die(err.code == DRNN_ERR_NOMEM ? EXIT_RUNTIME : EXIT_USAGE, "%s", err.message);
    dir->elsewhere = "train in another --checkpoint-dir";
    /* In an MPI job, process 0 holds the directory and sends the others its
     * checkpoint: they need not see the same files. */
    if (r->dist.rank == 0 && drnn_rundir_enter(dir, NULL, &err))
        refuse_lock(r, &err);
    r->data_path = o->data;
    if (o->resume) {
        load_resumed(r);
        /* A pipe recorded as the data would be waited on forever. */
        if (!r->data_path && drnn_rundir_data_rereadable(r->st.data_path, dir->resume, &err))
            cli_die(EXIT_RUNTIME, "%s; give them with --data FILE", err.message);
        if (!r->data_path)
            r->data_path = r->st.data_path;
    } else if (!r->data_path) {
        r->data_path = access("data/dinos.txt", F_OK) == 0 ? "data/dinos.txt"
                                                            : DRNN_PKGDATADIR "/dinos.txt";
    }
    if (r->dist.rank != 0)
        return;
    check_files(r);
    if (drnn_rundir_claim(dir, &err))
        refuse_claim(r, &err);
}

void train_take_directory(run *r)
{
    drnn_rundir *dir = &r->dir;
    drnn_error err;
    if (drnn_rundir_take(dir, NULL, &err)) {
        if (dir->lock.fd < 0)
            refuse_lock(r, &err);
        if (dir->held && !dir->overwrite) /* another run's, come meanwhile */
            refuse_claim(r, &err);
        train_start_failed(r, EXIT_RUNTIME, "%s", err.message);
    }
    if (dir->stale > 0 && !r->o.quiet)
        cli_message("removed %d unfinished checkpoint file%s left in %s by an interrupted write",
                    dir->stale, dir->stale == 1 ? "" : "s", dir->dir);
}

/* Appended to; checked again as it is opened (it may have changed since
 * check_files), and locked, so that two runs never write one log. */
static void open_log(run *r)
{
    const char *path = r->o.log;
    const drnn_run_file file = {path, log_what, DRNN_WRITES_LOG};
    drnn_error err;
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
    if (fd < 0)
        train_start_failed(r, EXIT_RUNTIME, "cannot open log %s: %s", path, strerror(errno));
    if (drnn_output_check_fd(fd, &file, &err))
        train_start_failed(r, train_file_status(err.code), "%s; give --log another file",
                           err.message);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        train_start_failed(r, EXIT_RUNTIME,
                           "log %s is in use by another training run; give --log another file",
                           path);
    if (!(r->log = fdopen(fd, "a")))
        train_start_failed(r, EXIT_RUNTIME, "cannot open log %s: %s", path, strerror(errno));
}

void train_begin(run *r)
{
    drnn_error err;
    if (r->o.log)
        open_log(r);
    if (r->dir.held) {
        /* --overwrite: the old run goes only now that the new one starts. */
        if (drnn_rundir_delete_held(&r->dir, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        if (!r->o.quiet)
            cli_message("deleted the checkpoints of the previous run in %s (--overwrite)",
                        r->dir.dir);
    }
}
