/* error.c: status names and the helpers that fill a drnn_error. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"

const char *drnn_status_name(drnn_status code)
{
    static const char *const names[DRNN_STATUS_COUNT] = {
        [DRNN_OK] = "ok",
        [DRNN_ERR_NOMEM] = "out-of-memory",
        [DRNN_ERR_INVALID] = "invalid-argument",
        [DRNN_ERR_NOT_FOUND] = "not-found",
        [DRNN_ERR_IO] = "io-error",
        [DRNN_ERR_IS_DIR] = "is-a-directory",
        [DRNN_ERR_TOO_BIG] = "file-too-big",
        [DRNN_ERR_EMPTY] = "no-names",
        [DRNN_ERR_BINARY] = "binary-file",
        [DRNN_ERR_UTF8] = "invalid-utf8",
        [DRNN_ERR_NAME_TOO_LONG] = "name-too-long",
        [DRNN_ERR_VOCAB_TOO_BIG] = "vocabulary-too-big",
        [DRNN_ERR_UNKNOWN_SYMBOL] = "unknown-symbol",
        [DRNN_ERR_CKPT_MAGIC] = "not-a-checkpoint",
        [DRNN_ERR_CKPT_VERSION] = "checkpoint-version",
        [DRNN_ERR_CKPT_TRUNCATED] = "checkpoint-truncated",
        [DRNN_ERR_CKPT_CORRUPT] = "checkpoint-corrupt",
        [DRNN_ERR_MISMATCH] = "mismatch",
        [DRNN_ERR_NONFINITE] = "non-finite",
        [DRNN_ERR_LOCKED] = "locked",
        [DRNN_ERR_NOT_REGULAR] = "not-a-regular-file",
        [DRNN_ERR_CONTROL_CHAR] = "control-character",
        [DRNN_ERR_READ_ONLY] = "read-only",
        [DRNN_ERR_SAFETENSORS] = "not-safetensors",
        [DRNN_ERR_INTEROP] = "not-a-dinornn-model",
    };
    if ((int)code < 0 || code >= DRNN_STATUS_COUNT)
        return "unknown-status";
    return names[code];
}

int drnn_fail(drnn_error *err, drnn_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return (int)code;
}

int drnn_ok(drnn_error *err)
{
    if (err) {
        err->code = DRNN_OK;
        err->message[0] = '\0';
    }
    return DRNN_OK;
}

const char *drnn_file_kind(unsigned mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a named pipe (FIFO)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return S_ISREG(mode) ? "a regular file" : "not a regular file";
}
