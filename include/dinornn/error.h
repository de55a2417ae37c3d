/* dinornn/error.h: status codes and the error record every fallible library
 * call fills in. The library never prints or exits; programs turn a
 * drnn_error into a message on stderr and an exit status. */
#ifndef DINORNN_ERROR_H
#define DINORNN_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Each failure has its own code so that callers and tests can tell them apart. */
typedef enum drnn_status {
    DRNN_OK = 0,
    DRNN_ERR_NOMEM,            /* an allocation failed */
    DRNN_ERR_INVALID,          /* an argument or setting is out of range */
    DRNN_ERR_NOT_FOUND,        /* a file does not exist */
    DRNN_ERR_IO,               /* a file could not be opened, read or written */
    DRNN_ERR_IS_DIR,           /* a path names a directory, not a file */
    DRNN_ERR_TOO_BIG,          /* a file is larger than the documented limit */
    DRNN_ERR_EMPTY,            /* a names file holds no names */
    DRNN_ERR_BINARY,           /* a names file holds a NUL byte */
    DRNN_ERR_UTF8,             /* a names file holds invalid UTF-8 */
    DRNN_ERR_NAME_TOO_LONG,    /* a name exceeds DRNN_MAX_NAME_LEN symbols */
    DRNN_ERR_VOCAB_TOO_BIG,    /* more distinct symbols than DRNN_MAX_VOCAB allows */
    DRNN_ERR_UNKNOWN_SYMBOL,   /* a symbol outside the model's vocabulary */
    DRNN_ERR_CKPT_MAGIC,       /* not a dinornn checkpoint */
    DRNN_ERR_CKPT_VERSION,     /* a checkpoint format version this build cannot read */
    DRNN_ERR_CKPT_TRUNCATED,   /* a checkpoint shorter than its header says */
    DRNN_ERR_CKPT_CORRUPT,     /* checksum mismatch or inconsistent fields */
    DRNN_ERR_MISMATCH,         /* a setting contradicts the checkpoint or data */
    DRNN_ERR_NONFINITE,        /* training produced NaN or infinity */
    DRNN_ERR_LOCKED,           /* another process holds the checkpoint directory */
    DRNN_ERR_NOT_REGULAR,      /* a FIFO, device or socket where a file is needed */
    DRNN_ERR_CONTROL_CHAR,     /* a names file holds a control character */
    DRNN_ERR_READ_ONLY,        /* a checkpoint its owner made read-only */
    DRNN_ERR_SAFETENSORS,      /* not a valid safetensors file (interop.h) */
    DRNN_ERR_INTEROP,          /* a valid file that does not hold a dinornn model */
    DRNN_STATUS_COUNT
} drnn_status;

enum { DRNN_ERROR_MESSAGE_SIZE = 512 };

typedef struct drnn_error {
    drnn_status code;
    char message[DRNN_ERROR_MESSAGE_SIZE]; /* names the file, line or option */
} drnn_error;

/* A short stable identifier for a status, e.g. "name-too-long". */
const char *drnn_status_name(drnn_status code);

#ifdef __cplusplus
}
#endif
#endif
