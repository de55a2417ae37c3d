/* rundir.c: a run's checkpoint directory: its lock, the files interrupted
 * writes left, whether a checkpoint may be replaced, which run the directory
 * belongs to; and whether names read now are those a checkpoint was trained
 * on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dinornn/checkpoint.h"
#include "dinornn/rundir.h"
#include "internal.h"

/* dir/file in a new string, or NULL when out of memory. */
static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* ---- what to do about a file that cannot be made ---- */

/* Fails with DRNN_ERR_IO: the message of fmt, errno e's text, and what
 * helps against it: where dir refuses new files, making it writable or
 * freeing space (or elsewhere, when given: another directory); where the
 * process or the system has run out of open files, closing some (there
 * another directory would not help). */
static int DRNN_PRINTF(5, 6) io_fail(drnn_error *err, int e, const char *dir,
                                      const char *elsewhere, const char *fmt, ...)
{
    char head[DRNN_ERROR_MESSAGE_SIZE], fix[DRNN_ERROR_MESSAGE_SIZE] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    int place = 1; /* another directory would help */
    switch (e) {
    case EACCES:
    case EPERM:
        snprintf(fix, sizeof fix, "make %s writable", dir);
        break;
    case ENOSPC:
    case EDQUOT:
        snprintf(fix, sizeof fix, "free some space on the disk of %s", dir);
        break;
    case EROFS:
        break;
    case EMFILE:
        snprintf(fix, sizeof fix, "this process has as many files open as its limit allows "
                                  "(ulimit -n): raise the limit, then start again");
        place = 0;
        break;
    case ENFILE:
        snprintf(fix, sizeof fix, "the system has as many files open as it allows: close some "
                                  "programs, then start again");
        place = 0;
        break;
    default:
        place = 0;
    }
    const char *other = place ? elsewhere : NULL;
    return drnn_fail(err, DRNN_ERR_IO, "%s: %s%s%s%s%s", head, strerror(e),
                     *fix || other ? "; " : "", fix, *fix && other ? ", or " : "",
                     other ? other : "");
}

/* ---- the directory lock ---- */

/* The lock file in messages. */
static const char lock_what[] = "the checkpoint directory's lock file";

/* The directory above path ("." for a name alone), or NULL. */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

/* Why the directory p (of dir's path) cannot be there: errno e. */
static int cannot_make(const char *dir, const char *p, int last, int e, const char *elsewhere,
                       drnn_error *err)
{
    char *up = parent_of(p);
    if (!up)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    int rc = last ? io_fail(err, e, up, elsewhere, "cannot create checkpoint directory %s", dir)
                  : io_fail(err, e, up, elsewhere, "cannot create checkpoint directory %s: %s",
                            dir, p);
    free(up);
    return rc;
}

/* Creates dir and its missing parents, like mkdir -p (*made: how many);
 * with dry, only checks that nothing but directories is in the way. */
static int make_dirs(const char *dir, int dry, int *made, const char *elsewhere,
                     drnn_error *err)
{
    *made = 0;
    size_t n = strlen(dir);
    if (n == 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "the checkpoint directory name is empty");
    char *p = strdup(dir);
    if (!p)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    int rc = DRNN_OK;
    for (size_t i = 1; i <= n && rc == DRNN_OK; i++) {
        if ((p[i] != '/' && p[i] != '\0') || p[i - 1] == '/')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat sb;
        int e;
        if (dry) {
            e = stat(p, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
            if (e == ENOENT)
                break; /* from here on, made by the real run */
        } else {
            e = mkdir(p, 0777) == 0 ? 0 : errno;
            *made = e ? 0 : *made + 1;
            /* An existing directory is fine, whatever mkdir said about it. */
            if (e && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                e = 0;
            else if (e == EEXIST)
                e = ENOTDIR;
        }
        if (e)
            rc = cannot_make(dir, p, c == '\0', e, elsewhere, err);
        p[i] = c;
    }
    free(p);
    return rc;
}

/* The process id written in a held lock file, or 0. The holder writes it
 * just after locking, so an empty file or a dead process (a previous
 * holder's id) is given a moment before giving up. */
static long lock_holder(int fd)
{
    for (int tries = 0; tries < 50; tries++) {
        char text[24];
        ssize_t n = pread(fd, text, sizeof text - 1, 0);
        if (n > 0) {
            text[n] = '\0';
            char *end;
            long pid = strtol(text, &end, 10);
            if (pid > 0 && *end == '\n' && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
                return pid;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* Opens the lock file: the one there, else a new one (*made). Never
 * through a symbolic link, never waiting on a FIFO. */
static int open_lock_file(const char *path, int *made)
{
    *made = 0;
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) {
            *made = fd >= 0;
            return fd;
        }
    }
    return -1;
}

/* Whether the path still names the locked file: a failed start removes the
 * lock file it made (drnn_rundir_abandon), and a lock on the removed file
 * would hold nothing. */
static int still_named(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* DRNN_ERR_LOCKED, naming the holder of the lock file fd. */
static int in_use(int fd, const char *dir, const char *path, long *holder, drnn_error *err)
{
    long pid = lock_holder(fd);
    if (holder)
        *holder = pid;
    if (pid > 0)
        return drnn_fail(err, DRNN_ERR_LOCKED,
                         "checkpoint directory %s is in use by another training run "
                         "(process %ld holds %s)", dir, pid, path);
    return drnn_fail(err, DRNN_ERR_LOCKED,
                     "checkpoint directory %s is in use by another training run "
                     "(another process holds %s)", dir, path);
}

/* The lock of a directory that exists: the lock file checked, opened,
 * locked, and still the one named (else again, with the new one). */
static int lock_file(drnn_dir_lock *lock, const char *dir, const char *path, long *holder,
                     const char *elsewhere, drnn_error *err)
{
    const drnn_run_file file = {.path = path, .what = lock_what, .use = DRNN_WRITES_LOCK};
    for (int tries = 0; tries < 100; tries++) {
        int rc = drnn_outputs_check(&file, 1, NULL, err), made, locked;
        if (rc)
            return rc;
        int fd = open_lock_file(path, &made);
        if (fd < 0)
            return io_fail(err, errno, dir, elsewhere, "cannot create the lock file %s", path);
        if ((rc = drnn_output_check_fd(fd, &file, err))) {
            close(fd);
            return rc;
        }
        while ((locked = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
            ;
        if (locked == 0 && still_named(fd, path)) {
            lock->fd = fd;
            lock->made_file = made;
            return DRNN_OK;
        }
        int e = errno;
        if (locked != 0 && e == EWOULDBLOCK)
            rc = in_use(fd, dir, path, holder, err);
        else if (locked != 0)
            rc = drnn_fail(err, DRNN_ERR_IO, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        if (rc)
            return rc;
    }
    return drnn_fail(err, DRNN_ERR_IO, "cannot lock %s: it keeps being replaced", path);
}

/* Undoes what lock_dir made: the lock file (while still held: a run that
 * opened it meanwhile finds it gone once it has the lock, and makes a new
 * one), the lock, then the directories, deepest first (rmdir leaves one
 * that holds anything). */
static void undo_lock(drnn_dir_lock *lock, const char *dir, const char *path)
{
    if (lock->fd >= 0 && lock->made_file && path)
        unlink(path);
    drnn_rundir_unlock(lock);
    char *p = lock->made_dirs > 0 ? strdup(dir) : NULL;
    for (int i = 0; p && i < lock->made_dirs && rmdir(p) == 0; i++) {
        char *up = parent_of(p);
        free(p);
        p = up;
    }
    free(p);
    lock->made_file = lock->made_dirs = 0;
}

/* The lock of dir, created with its missing parents (lock->made_dirs of
 * them); on failure nothing made is left. */
static int lock_dir(drnn_dir_lock *lock, const char *dir, const char *elsewhere, long *holder,
                    drnn_error *err)
{
    lock->fd = -1;
    lock->made_file = lock->made_dirs = 0;
    if (holder)
        *holder = 0;
    int rc = make_dirs(dir, 0, &lock->made_dirs, elsewhere, err);
    if (rc)
        return rc;
    char *path = join_path(dir, DRNN_RUNDIR_LOCK_FILE);
    if (!path)
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    else
        rc = lock_file(lock, dir, path, holder, elsewhere, err);
    /* Ours: say who holds it, for the message of the next run that tries. */
    char text[24];
    int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (!rc && (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, text, (size_t)len, 0) != len))
        rc = io_fail(err, errno, dir, elsewhere, "cannot write the lock file %s", path);
    if (rc)
        undo_lock(lock, dir, path);
    free(path);
    return rc ? rc : drnn_ok(err);
}

int drnn_rundir_lock(drnn_dir_lock *lock, const char *dir, long *holder, drnn_error *err)
{
    return lock_dir(lock, dir, NULL, holder, err);
}

void drnn_rundir_unlock(drnn_dir_lock *lock)
{
    /* The file stays: the next run reads who held it last (only a failed
     * start removes the one it made: undo_lock). */
    if (lock && lock->fd >= 0) {
        close(lock->fd);
        lock->fd = -1;
    }
}

/* ---- the files in it ---- */

int drnn_rundir_replaceable(const char *path, drnn_error *err)
{
    /* The owner's write bit, whoever we are: root may write anything, but a
     * file made read-only was meant to be kept. */
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && !(sb.st_mode & S_IWUSR))
        return drnn_fail(err, DRNN_ERR_READ_ONLY,
                         "%s is read-only (mode %04o), so it is not replaced; make it writable "
                         "(chmod u+w) to let it be",
                         path, (unsigned)(sb.st_mode & 07777));
    return drnn_ok(err);
}

/* The last name of path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Whether name is exactly what mkstemp made of BASE.tmp-XXXXXX. */
static int leftover_of(const char *name, const char *base)
{
    size_t blen = strlen(base);
    return strlen(name) == blen + 11 && strncmp(name, base, blen) == 0 &&
           strncmp(name + blen, ".tmp-", 5) == 0;
}

int drnn_rundir_remove_stale(const char *path)
{
    const char *base = base_name(path);
    char *dir = parent_of(path);
    if (!dir)
        return -1;
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return -1;
    }
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!leftover_of(e->d_name, base))
            continue;
        char *victim = join_path(dir, e->d_name);
        if (!victim)
            break;
        removed += unlink(victim) == 0;
        free(victim);
    }
    closedir(d);
    free(dir);
    return removed;
}

/* ---- a trainer's directory ---- */

/* Whether file (given to --resume) is in directory dir: then it is that
 * directory's own run that goes on; -1 when out of memory. */
static int in_dir(const char *file, const char *dir)
{
    char *parent = parent_of(file);
    if (!parent)
        return -1;
    struct stat a, b;
    int same = stat(parent, &a) == 0 && stat(dir, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
    free(parent);
    return same;
}

int drnn_rundir_open(drnn_rundir *rd, const char *dir, int resuming, const char *resume_file,
                     int overwrite, drnn_error *err)
{
    memset(rd, 0, sizeof *rd);
    rd->lock.fd = -1;
    rd->dir = dir;
    rd->resuming = resuming;
    rd->overwrite = overwrite;
    rd->latest = join_path(dir, "latest.ckpt");
    rd->best = join_path(dir, "best.ckpt");
    rd->lock_file = join_path(dir, DRNN_RUNDIR_LOCK_FILE);
    if (!rd->latest || !rd->best || !rd->lock_file)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    rd->resume = resume_file ? resume_file : rd->latest;
    int inside = resuming && resume_file ? in_dir(resume_file, dir) : 1;
    if (inside < 0)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    rd->own_run = resuming && inside;
    if (rd->own_run && overwrite)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "--overwrite contradicts --resume: --resume continues the run in %s, "
                         "--overwrite would start a new one there; give one of them",
                         dir);
    return drnn_ok(err);
}

/* Which of the two checkpoints exist, as words for a message, or NULL. */
static const char *held_checkpoints(const char *latest, const char *best)
{
    struct stat sb;
    int l = lstat(latest, &sb) == 0, b = lstat(best, &sb) == 0;
    return l && b ? "latest.ckpt and best.ckpt" : l ? "latest.ckpt" : b ? "best.ckpt" : NULL;
}

/* The file resumed from as it is now: which file, its size, its time of
 * change (a save is a rename: another file). */
static drnn_file_stamp stamp_of(const char *path, int resuming)
{
    drnn_file_stamp stamp = {0, 0, 0, 0, 0};
    struct stat sb;
    if (resuming && stat(path, &sb) == 0)
        stamp = (drnn_file_stamp){1, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino,
                                  (int64_t)sb.st_size,
                                  (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec};
    return stamp;
}

int drnn_rundir_enter(drnn_rundir *rd, long *holder, drnn_error *err)
{
    if (holder)
        *holder = 0;
    rd->resumed = stamp_of(rd->resume, rd->resuming);
    int made;
    int rc = make_dirs(rd->dir, 1, &made, rd->elsewhere, err);
    if (rc)
        return rc;
    struct stat sb;
    /* No lock file: no run holds the directory now; one that starts
     * meanwhile is found by drnn_rundir_take. */
    if (lstat(rd->lock_file, &sb) != 0)
        return drnn_ok(err);
    return lock_dir(&rd->lock, rd->dir, rd->elsewhere, holder, err);
}

int drnn_rundir_check_files(const drnn_rundir *rd, const drnn_run_file *files, int n,
                            int *refused, drnn_error *err)
{
    enum { OWN = 4 };
    drnn_run_file *all = malloc((size_t)(n + OWN) * sizeof *all);
    if (!all)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    memcpy(all, files, (size_t)n * sizeof *all);
    all[n] = (drnn_run_file){rd->resuming ? rd->resume : NULL, "the checkpoint resumed from",
                             DRNN_READS_CHECKPOINT};
    all[n + 1] = (drnn_run_file){rd->latest, "the run's latest checkpoint", DRNN_WRITES_CHECKPOINT};
    all[n + 2] = (drnn_run_file){rd->best, "the run's best checkpoint", DRNN_WRITES_CHECKPOINT};
    all[n + 3] = (drnn_run_file){rd->lock_file, lock_what, DRNN_WRITES_LOCK};
    int rc = drnn_outputs_check(all, n + OWN, refused, err);
    free(all);
    /* A file of the caller's named like the leftover of a checkpoint's
     * write in the directory: the next start there deletes it. */
    for (int i = 0; i < n && !rc; i++) {
        const char *base = files[i].path ? base_name(files[i].path) : "";
        if (!leftover_of(base, "latest.ckpt") && !leftover_of(base, "best.ckpt"))
            continue;
        int inside = in_dir(files[i].path, rd->dir);
        if (inside < 0)
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        if (refused && inside)
            *refused = i;
        if (inside)
            rc = drnn_fail(err, DRNN_ERR_INVALID,
                           "%s: %s is named like what an interrupted write of a checkpoint "
                           "leaves in %s, which the next start there deletes",
                           files[i].path, files[i].what, rd->dir);
    }
    return rc;
}

int drnn_rundir_claim(drnn_rundir *rd, drnn_error *err)
{
    rd->held = rd->own_run ? NULL : held_checkpoints(rd->latest, rd->best);
    if (rd->held && !rd->overwrite) {
        if (rd->resuming)
            return drnn_fail(err, DRNN_ERR_MISMATCH,
                             "%s holds the checkpoints of another run (%s), which resuming %s "
                             "there would replace",
                             rd->dir, rd->held, rd->resume);
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s already holds the checkpoints of another run (%s)", rd->dir, rd->held);
    }
    return drnn_ok(err);
}

int drnn_rundir_take(drnn_rundir *rd, long *holder, drnn_error *err)
{
    if (holder)
        *holder = 0;
    int rc;
    if (rd->lock.fd < 0 && (rc = lock_dir(&rd->lock, rd->dir, rd->elsewhere, holder, err)))
        return rc;
    const drnn_file_stamp was = rd->resumed, now = stamp_of(rd->resume, rd->resuming);
    if (now.found != was.found || now.dev != was.dev || now.ino != was.ino ||
        now.size != was.size || now.mtime_ns != was.mtime_ns)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s changed while this run was starting (another run saved it): "
                         "start again to go on from the new one", rd->resume);
    if ((rc = drnn_rundir_claim(rd, err)))
        return rc;
    /* Under the lock, so that no other run's file being written is taken
     * for a leftover. */
    rd->stale = drnn_rundir_remove_stale(rd->latest) + drnn_rundir_remove_stale(rd->best);
    return drnn_ok(err);
}

int drnn_rundir_delete_held(const drnn_rundir *rd, drnn_error *err)
{
    if ((unlink(rd->latest) != 0 && errno != ENOENT) || (unlink(rd->best) != 0 && errno != ENOENT))
        return drnn_fail(err, DRNN_ERR_IO, "cannot delete the old checkpoints in %s: %s", rd->dir,
                         strerror(errno));
    return drnn_ok(err);
}

int drnn_rundir_check_saves(const drnn_rundir *rd, drnn_error *err)
{
    int rc = drnn_rundir_replaceable(rd->latest, err);
    if (rc || (rc = drnn_rundir_replaceable(rd->best, err)))
        return rc;
    size_t n = strlen(rd->latest) + sizeof ".tmp-XXXXXX";
    char *probe = malloc(n);
    if (!probe)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    snprintf(probe, n, "%s.tmp-XXXXXX", rd->latest);
    /* Named like a save's temporary file, so that a crash leaves nothing new. */
    int fd = mkstemp(probe);
    if (fd < 0) {
        rc = io_fail(err, errno, rd->dir, rd->elsewhere,
                     "cannot create files in the checkpoint directory %s", rd->dir);
        free(probe);
        return rc;
    }
    close(fd);
    unlink(probe);
    free(probe);
    return drnn_ok(err);
}

/* The checkpoint at file, if it is of this run and records old_path, is
 * rewritten with new_path. */
static int record_in(const char *file, uint64_t fingerprint, const char *old_path,
                     const char *new_path, drnn_error *err)
{
    drnn_train_state st;
    if (drnn_checkpoint_load(&st, file, err))
        return drnn_ok(err); /* not there, or not of this run: nothing to correct */
    int rc = DRNN_OK;
    if (st.data_fingerprint == fingerprint && strcmp(st.data_path, old_path) == 0) {
        char *path = strdup(new_path);
        if (!path) {
            drnn_state_free(&st);
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        }
        free(st.data_path);
        st.data_path = path;
        rc = drnn_checkpoint_save(&st, file, err);
    }
    drnn_state_free(&st);
    return rc ? rc : drnn_ok(err);
}

int drnn_rundir_record_data_path(const drnn_rundir *rd, uint64_t fingerprint,
                                 const char *old_path, const char *new_path, drnn_error *err)
{
    int rc = record_in(rd->latest, fingerprint, old_path, new_path, err);
    return rc ? rc : record_in(rd->best, fingerprint, old_path, new_path, err);
}

void drnn_rundir_close(drnn_rundir *rd)
{
    drnn_rundir_unlock(&rd->lock);
    free(rd->latest);
    free(rd->best);
    free(rd->lock_file);
    rd->latest = rd->best = rd->lock_file = NULL;
}

void drnn_rundir_abandon(drnn_rundir *rd)
{
    undo_lock(&rd->lock, rd->dir, rd->lock_file);
    drnn_rundir_close(rd);
}

/* ---- the data a checkpoint was trained on ---- */

int drnn_rundir_check_data(const drnn_train_state *st, const char *ckpt,
                           const drnn_data_read *now, int *data_differs, drnn_error *err)
{
    const int data = now->fingerprint != st->data_fingerprint;
    const int val = now->val_path && now->val_fingerprint != st->val_fingerprint;
    if (data_differs)
        *data_differs = data;
    if (data)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s holds other names than the data %s was trained on (%s)", now->path,
                         ckpt, st->data_path);
    if (val)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s holds other names than the validation file %s was validated on",
                         now->val_path, ckpt);
    return drnn_ok(err);
}

int drnn_rundir_adopt_data(drnn_train_state *st, const char *given, const drnn_data_read *now,
                           char **trained_on, drnn_error *err)
{
    *trained_on = NULL;
    char *absolute = given ? realpath(given, NULL) : NULL;
    const char *path = absolute ? absolute : given;
    if (path && strcmp(path, st->data_path) != 0) {
        char *copy = strdup(path);
        if (!copy) {
            free(absolute);
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        }
        *trained_on = st->data_path;
        st->data_path = copy;
    }
    free(absolute);
    if (now->fingerprint != st->data_fingerprint || now->val_fingerprint != st->val_fingerprint) {
        /* Losses on other names do not compare: the best starts afresh. */
        st->data_fingerprint = now->fingerprint;
        st->val_fingerprint = now->val_fingerprint;
        st->best_val_loss = HUGE_VAL;
        st->best_epoch = -1;
    }
    return drnn_ok(err);
}

int drnn_rundir_data_rereadable(const char *path, const char *ckpt, drnn_error *err)
{
    struct stat sb;
    char how[96] = "";
    int gone = stat(path, &sb) != 0 && errno == ENOENT;
    if (!gone && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
        snprintf(how, sizeof how, "is %s, not a file", drnn_file_kind((unsigned)sb.st_mode));
    /* Standard input or a pipe of the process that trained (/dev/fd/63,
     * /proc/self/fd/0) went with it. */
    else if (gone && ckpt && (strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0))
        snprintf(how, sizeof how, "was a pipe or standard input, which is gone");
    if (!*how) /* a regular file, or what reading it will explain */
        return drnn_ok(err);
    if (!ckpt)
        return drnn_fail(err, DRNN_ERR_NOT_REGULAR, "%s %s", path, how);
    return drnn_fail(err, DRNN_ERR_NOT_REGULAR,
                     "%s (the training data recorded in %s) %s: its names were read once, when "
                     "that model was trained, and cannot be read again",
                     path, ckpt, how);
}
