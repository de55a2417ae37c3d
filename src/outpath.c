/* outpath.c: whether the files a run is about to write may be written:
 * none of them another file of the run, under any name, and each either
 * new or a regular file of the kind it writes (outpath.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/checkpoint.h"
#include "dinornn/outpath.h"
#include "internal.h"

/* ---- which file a path names ---- */

/* A file by device and inode; one that does not exist yet by its deepest
 * existing directory and the names below it, so that "x", "./x" and a
 * link to the directory all meet before the file is made. */
typedef struct file_id {
    const char *path;
    int exists;        /* st is the file's own */
    struct stat st;    /* the file's, or its deepest existing directory's */
    char *rest;        /* the names below that directory, normalised ("" when it exists) */
} file_id;

/* The components of tail without "." and empty ones, ".." taking back the
 * one before it (these directories do not exist: no link can redirect it). */
static char *normalise(const char *tail)
{
    size_t n = strlen(tail);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t len = 0;
    for (const char *p = tail; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 2 && p[0] == '.' && p[1] == '.' && len > 0) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            len = len > 0 ? len - 1 : 0;
        } else if (k > 0 && !(k == 1 && p[0] == '.')) {
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, p, k);
            len += k;
        }
        p += k + (p[k] == '/');
    }
    out[len] = '\0';
    return out;
}

static int identify(const char *path, file_id *id, drnn_error *err)
{
    memset(id, 0, sizeof *id);
    id->path = path;
    size_t n = strlen(path);
    char *p = malloc(n + 2);
    if (!p)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    memcpy(p, path, n + 1);
    size_t keep = n; /* p is path's first keep bytes ("." for none) */
    while (stat(p, &id->st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            int e = errno;
            free(p);
            return drnn_fail(err, DRNN_ERR_IO, "cannot examine %s: %s", path, strerror(e));
        }
        while (keep > 0 && path[keep - 1] == '/') /* trailing slashes */
            keep--;
        while (keep > 0 && path[keep - 1] != '/') /* the last name */
            keep--;
        while (keep > 1 && path[keep - 1] == '/')
            keep--;
        if (keep == 0)
            strcpy(p, ".");
        else
            p[keep] = '\0';
    }
    id->exists = keep == n;
    id->rest = normalise(keep == 0 && path[0] != '/' ? path : path + keep);
    free(p);
    return id->rest ? DRNN_OK : drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
}

static int same_file(const file_id *a, const file_id *b)
{
    return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino &&
           strcmp(a->rest, b->rest) == 0;
}

/* ---- what is there already ---- */

static int is_output(drnn_file_use use)
{
    return use == DRNN_WRITES_CHECKPOINT || use == DRNN_WRITES_LOG || use == DRNN_WRITES_LOCK;
}

/* What writing the output would do to a file that is not its own:
 * "..., which HARM". */
static const char *harm(drnn_file_use use)
{
    return use == DRNN_WRITES_CHECKPOINT ? "a save would replace"
           : use == DRNN_WRITES_LOG      ? "appending the log would damage"
                                         : "taking the lock would overwrite";
}

/* A directory, FIFO, device or socket is no output's file. */
static int check_kind(const struct stat *sb, const drnn_run_file *f, drnn_error *err)
{
    if (S_ISDIR(sb->st_mode))
        return drnn_fail(err, DRNN_ERR_IS_DIR, "%s: %s is a directory, not a file", f->path,
                         f->what);
    if (!S_ISREG(sb->st_mode))
        return drnn_fail(err, DRNN_ERR_NOT_REGULAR, "%s: %s is %s, not a regular file", f->path,
                         f->what, drnn_file_kind((unsigned)sb->st_mode));
    if (f->use == DRNN_WRITES_LOCK && sb->st_nlink > 1)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s: %s has other names (%lu hard links), which %s", f->path, f->what,
                         (unsigned long)sb->st_nlink, harm(f->use));
    return DRNN_OK;
}

/* Whether head (the first n bytes of a non-empty file) is what the output
 * writes: a checkpoint's magic, a log's first JSON line, a process id. */
static int looks_like(drnn_file_use use, const char *head, size_t n)
{
    const size_t magic = sizeof DRNN_CKPT_MAGIC - 1;
    if (use == DRNN_WRITES_CHECKPOINT)
        return n >= magic && memcmp(head, DRNN_CKPT_MAGIC, magic) == 0;
    if (use == DRNN_WRITES_LOG) /* {"member": now, {"epoch": before mixtures */
        return (n >= 10 && memcmp(head, "{\"member\":", 10) == 0) ||
               (n >= 9 && memcmp(head, "{\"epoch\":", 9) == 0);
    size_t digits = strspn(head, "0123456789");
    return digits > 0 && digits + 1 == n && head[digits] == '\n';
}

static int check_content(int fd, const struct stat *sb, const drnn_run_file *f, drnn_error *err)
{
    char head[32];
    ssize_t n = sb->st_size == 0 && f->use != DRNN_WRITES_CHECKPOINT
                    ? 0
                    : pread(fd, head, sizeof head - 1, 0);
    if (n < 0)
        return drnn_fail(err, DRNN_ERR_IO, "cannot read %s: %s", f->path, strerror(errno));
    head[n] = '\0';
    if (n == 0 && f->use != DRNN_WRITES_CHECKPOINT)
        return DRNN_OK; /* an empty file loses nothing */
    if (looks_like(f->use, head, (size_t)n))
        return DRNN_OK;
    const size_t magic = sizeof DRNN_CKPT_MAGIC - 1;
    if (f->use != DRNN_WRITES_CHECKPOINT && (size_t)n >= magic &&
        memcmp(head, DRNN_CKPT_MAGIC, magic) == 0)
        return drnn_fail(err, DRNN_ERR_MISMATCH, "%s: %s is a dinornn checkpoint, which %s",
                         f->path, f->what, harm(f->use));
    const char *should = f->use == DRNN_WRITES_CHECKPOINT ? "a dinornn checkpoint"
                         : f->use == DRNN_WRITES_LOG      ? "a dinornn-train log"
                                                          : "a process id";
    return drnn_fail(err, DRNN_ERR_MISMATCH, "%s: %s holds something other than %s, which %s",
                     f->path, f->what, should, harm(f->use));
}

int drnn_output_check_fd(int fd, const drnn_run_file *file, drnn_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return drnn_fail(err, DRNN_ERR_IO, "cannot examine %s: %s", file->path, strerror(errno));
    int rc = check_kind(&sb, file, err);
    return rc ? rc : check_content(fd, &sb, file, err);
}

/* An existing output's file, examined without opening anything but a
 * regular file (opening a FIFO or a device can block or act). */
static int check_existing(const file_id *id, const drnn_run_file *f, drnn_error *err)
{
    struct stat link;
    if (f->use == DRNN_WRITES_LOCK && lstat(f->path, &link) == 0 && S_ISLNK(link.st_mode))
        return drnn_fail(err, DRNN_ERR_NOT_REGULAR,
                         "%s: %s is a symbolic link, not a file of its own", f->path, f->what);
    int rc = check_kind(&id->st, f, err);
    if (rc)
        return rc;
    int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return drnn_fail(err, DRNN_ERR_IO, "cannot read %s: %s", f->path, strerror(errno));
    rc = check_content(fd, &id->st, f, err);
    close(fd);
    return rc;
}

/* ---- all of a run's files ---- */

/* Whether output a may be the same file as b: a checkpoint is replaced by a
 * rename, which leaves the file resumed from (or another checkpoint's
 * other name) as it was. */
static int may_share(drnn_file_use a, drnn_file_use b)
{
    return a == DRNN_WRITES_CHECKPOINT &&
           (b == DRNN_READS_CHECKPOINT || b == DRNN_WRITES_CHECKPOINT);
}

static int check_output(const file_id *ids, const drnn_run_file *files, int n, int i,
                        drnn_error *err)
{
    const drnn_run_file *f = &files[i];
    for (int j = 0; j < n; j++) {
        const drnn_run_file *g = &files[j];
        if (j == i || !g->path || may_share(f->use, g->use) || !same_file(&ids[i], &ids[j]))
            continue;
        int named = strcmp(f->path, g->path) != 0;
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: %s is also %s%s%s%s, which %s", f->path,
                         f->what, g->what, named ? " (" : "", named ? g->path : "",
                         named ? ")" : "", harm(f->use));
    }
    return ids[i].exists ? check_existing(&ids[i], f, err) : DRNN_OK;
}

int drnn_outputs_check(const drnn_run_file *files, int n, int *refused, drnn_error *err)
{
    if (refused)
        *refused = -1;
    file_id *ids = calloc(n > 0 ? (size_t)n : 1, sizeof *ids);
    if (!ids)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    int rc = DRNN_OK;
    for (int i = 0; i < n && rc == DRNN_OK; i++)
        if (files[i].path)
            rc = identify(files[i].path, &ids[i], err);
    for (int i = 0; i < n && rc == DRNN_OK; i++) {
        if (!files[i].path || !is_output(files[i].use))
            continue;
        rc = check_output(ids, files, n, i, err);
        if (rc && refused)
            *refused = i;
    }
    for (int i = 0; i < n; i++)
        free(ids[i].rest);
    free(ids);
    return rc ? rc : drnn_ok(err);
}
