/* rundir.c: a run's checkpoint directory: its lock, the files interrupted
 * writes left, whether a checkpoint may be replaced, which run the directory
 * belongs to; and whether names read now are those a checkpoint was trained
 * on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
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

/* ---- the directory lock ---- */

/* Creates dir and its missing parents, like mkdir -p. */
static int make_dirs(const char *dir, drnn_error *err)
{
    size_t n = strlen(dir);
    if (n == 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "the checkpoint directory name is empty");
    char *p = malloc(n + 1);
    if (!p)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if ((p[i] != '/' && p[i] != '\0') || p[i - 1] == '/')
            continue;
        char c = p[i];
        p[i] = '\0';
        int e = mkdir(p, 0777) == 0 ? 0 : errno;
        struct stat sb;
        /* An existing directory is fine, whatever mkdir said about it. */
        if (e && (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
            if (e == EEXIST)
                e = ENOTDIR;
            int rc = c ? drnn_fail(err, DRNN_ERR_IO, "cannot create checkpoint directory %s: %s: %s",
                                   dir, p, strerror(e))
                       : drnn_fail(err, DRNN_ERR_IO, "cannot create checkpoint directory %s: %s",
                                   dir, strerror(e));
            free(p);
            return rc;
        }
        p[i] = c;
    }
    free(p);
    return DRNN_OK;
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

int drnn_rundir_lock(drnn_dir_lock *lock, const char *dir, long *holder, drnn_error *err)
{
    lock->fd = -1;
    if (holder)
        *holder = 0;
    int rc = make_dirs(dir, err);
    if (rc)
        return rc;
    char *path = join_path(dir, DRNN_RUNDIR_LOCK_FILE);
    if (!path)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        rc = drnn_fail(err, DRNN_ERR_IO,
                       "cannot create the lock file %s: %s (the checkpoint directory must be "
                       "writable)", path, strerror(errno));
        free(path);
        return rc;
    }
    int locked;
    while ((locked = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (locked != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            long pid = lock_holder(fd);
            if (holder)
                *holder = pid;
            if (pid > 0)
                rc = drnn_fail(err, DRNN_ERR_LOCKED,
                               "checkpoint directory %s is in use by another training run "
                               "(process %ld holds %s)", dir, pid, path);
            else
                rc = drnn_fail(err, DRNN_ERR_LOCKED,
                               "checkpoint directory %s is in use by another training run "
                               "(another process holds %s)", dir, path);
        } else {
            rc = drnn_fail(err, DRNN_ERR_IO, "cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        free(path);
        return rc;
    }
    /* Ours: say who holds it, for the message of the next run that tries. */
    char text[24];
    int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        rc = drnn_fail(err, DRNN_ERR_IO, "cannot write the lock file %s: %s", path,
                       strerror(errno));
        close(fd);
        free(path);
        return rc;
    }
    free(path);
    lock->fd = fd;
    return drnn_ok(err);
}

void drnn_rundir_unlock(drnn_dir_lock *lock)
{
    /* The file stays: removing it could let two runs lock different files. */
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

int drnn_rundir_remove_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 0, blen = strlen(base);
    char *dir = slash ? strndup(path, dlen ? dlen : 1) : strdup(".");
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
        /* Exactly what mkstemp made of path.tmp-XXXXXX. */
        if (strlen(e->d_name) != blen + 11 || strncmp(e->d_name, base, blen) != 0 ||
            strncmp(e->d_name + blen, ".tmp-", 5) != 0)
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
    const char *slash = strrchr(file, '/');
    char *parent = slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file)) : strdup(".");
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
    if (!rd->latest || !rd->best)
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
    /* Under the lock, so that no other run's file being written is taken for a leftover. */
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
        rc = drnn_fail(err, DRNN_ERR_IO,
                       "cannot create files in the checkpoint directory %s: %s; make it writable",
                       rd->dir, strerror(errno));
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
    rd->latest = rd->best = NULL;
}

/* ---- the data a checkpoint was trained on ---- */

int drnn_rundir_check_data(const drnn_train_state *st, const char *ckpt,
                           const drnn_data_read *now, int *data_differs, drnn_error *err)
{
    const int data = now->fingerprint != st->data_fingerprint;
    const int val = now->val_path && now->val_fingerprint != st->val_fingerprint;
    if (data_differs)
        *data_differs = data;
    if (data || val)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s holds other names than the data %s was trained on (%s)",
                         data ? now->path : now->val_path, ckpt, st->data_path);
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
