/* error_internal.h: how the library's sources fill a drnn_error (error.c).
 * Not installed. */
#ifndef DINORNN_ERROR_INTERNAL_H
#define DINORNN_ERROR_INTERNAL_H

#include "dinornn/error.h"

#if defined(__GNUC__)
#define DRNN_FAIL_FORMAT __attribute__((format(printf, 3, 4)))
#else
#define DRNN_FAIL_FORMAT
#endif

/* Records code and a formatted message in err (which may be NULL) and returns code. */
int drnn_fail(drnn_error *err, drnn_status code, const char *fmt, ...) DRNN_FAIL_FORMAT;

/* What a file of this st_mode is, for messages: "a named pipe (FIFO)", ... */
const char *drnn_file_kind(unsigned mode);

/* Clears err to DRNN_OK; returns DRNN_OK. */
int drnn_ok(drnn_error *err);

#endif
