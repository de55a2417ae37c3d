/* checkpoint_file.c: checkpoints as files: read whole after the header's
 * sizes are checked against the file's, and written crash-safe (a temporary
 * file beside the checkpoint, flushed, renamed over it). The bytes are the
 * format's (checkpoint.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_format.h"
#include "dinornn/checkpoint.h"
#include "dinornn/rundir.h"
#include "internal.h"

static int read_all(int fd, unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

int drnn_checkpoint_load(drnn_train_state *st, const char *path, drnn_error *err)
{
    memset(st, 0, sizeof *st);
    /* Non-blocking, or a FIFO would wait in open() forever for a writer;
     * it only matters for what is refused below, not for a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return drnn_fail(err, errno == ENOENT ? DRNN_ERR_NOT_FOUND : DRNN_ERR_IO,
                         "%s: cannot open checkpoint: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return drnn_fail(err, DRNN_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return drnn_fail(err, DRNN_ERR_IS_DIR, "%s: is a directory, not a checkpoint file", path);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return drnn_fail(err, DRNN_ERR_NOT_REGULAR,
                         "%s: is %s, not a checkpoint file: give the file dinornn-train wrote",
                         path, drnn_file_kind((unsigned)sb.st_mode));
    }
    /* Only the header is read before its sizes are checked against the file's. */
    unsigned char header[DRNN_CKPT_HEADER_SIZE];
    size_t size = (size_t)sb.st_size;
    size_t head = size < DRNN_CKPT_HEADER_SIZE ? size : DRNN_CKPT_HEADER_SIZE;
    if ((uintmax_t)sb.st_size > SIZE_MAX || read_all(fd, header, head) != 0) {
        close(fd);
        return drnn_fail(err, DRNN_ERR_IO, "%s: cannot read checkpoint", path);
    }
    int rc = drnn_checkpoint_decode(st, header, head, path, 1, err);
    if (rc != DRNN_ERR_CKPT_TRUNCATED || size <= DRNN_CKPT_HEADER_SIZE) {
        /* A whole file no larger than a header: decoding it said everything. */
        close(fd);
        return rc;
    }
    /* The header is sound; never allocate more than it promises, so a huge
     * file with a small model's header costs nothing. */
    if (size > drnn_ckpt_recorded_size(header)) {
        close(fd);
        return drnn_fail(err, DRNN_ERR_CKPT_CORRUPT,
                         "%s: corrupt checkpoint: trailing bytes after the checksum", path);
    }
    unsigned char *buf = malloc(size);
    if (!buf) {
        close(fd);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
    }
    memcpy(buf, header, head);
    if (read_all(fd, buf + head, size - head) != 0) {
        free(buf);
        close(fd);
        return drnn_fail(err, DRNN_ERR_IO, "%s: cannot read checkpoint", path);
    }
    close(fd);
    rc = drnn_checkpoint_decode(st, buf, size, path, 1, err);
    free(buf);
    return rc;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* The encoder's bytes into the file *ctx (an int descriptor). */
static int write_to_fd(void *ctx, const unsigned char *bytes, size_t n)
{
    return write_all(*(const int *)ctx, bytes, n) != 0 ? (errno ? errno : EIO) : 0;
}

/* Flushes the directory holding path, so that a rename in it is durable. */
static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int drnn_checkpoint_save(const drnn_train_state *st, const char *path, drnn_error *err)
{
    drnn_ckpt_plan plan;
    int rc = drnn_rundir_replaceable(path, err);
    if (rc)
        return rc;
    if ((rc = drnn_ckpt_plan_encoding(st, &plan, err)))
        return rc;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp-XXXXXX");
    if (!tmp)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    const char *step = "create a temporary file beside";
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        step = "write";
        if (fchmod(fd, 0644) != 0)
            goto fail;
        int error = drnn_ckpt_encode_stream(st, &plan, write_to_fd, &fd);
        if (error) {
            errno = error;
            goto fail;
        }
        step = "flush";
        if (fsync(fd) != 0)
            goto fail;
        int closed = close(fd);
        fd = -1;
        if (closed != 0)
            goto fail;
        step = "replace";
        if (rename(tmp, path) != 0)
            goto fail;
        /* The new file is in place; a failure to flush the directory only
         * risks getting the previous checkpoint back after a power cut. */
        step = "flush the directory of";
        if (sync_parent(path) != 0) {
            free(tmp);
            return drnn_fail(err, DRNN_ERR_IO, "cannot %s checkpoint %s: %s", step, path,
                             strerror(errno));
        }
        free(tmp);
        return drnn_ok(err);
    }
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return drnn_fail(err, DRNN_ERR_IO, "cannot %s checkpoint %s: %s (the previous checkpoint, if any, is unchanged)",
                     step, path, strerror(e));
}
