/* checkpoint_format.h: what the checkpoint file code (checkpoint_file.c)
 * takes from the format (checkpoint.c): the header's size, the file size it
 * records, and the encoder as a stream; not installed. */
#ifndef DINORNN_CHECKPOINT_FORMAT_H
#define DINORNN_CHECKPOINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/train.h"

/* The header of version 4, the largest: a file is read this far and
 * decoded before its size is trusted. */
#define DRNN_CKPT_HEADER_SIZE 352u

/* The file size that a sound header records. */
uint64_t drnn_ckpt_recorded_size(const unsigned char *header);

/* What encoding st takes: the file's size and fields. */
typedef struct drnn_ckpt_plan {
    size_t size;              /* bytes of the whole file */
    size_t path_len;          /* bytes of the recorded data path */
    uint32_t flags;           /* which optimizer moments are stored */
} drnn_ckpt_plan;

/* What the reader would refuse is not written: DRNN_ERR_NONFINITE,
 * DRNN_ERR_INVALID, DRNN_ERR_NOMEM as drnn_checkpoint_encode says; else
 * fills *plan. */
int drnn_ckpt_plan_encoding(const drnn_train_state *st, drnn_ckpt_plan *plan, drnn_error *err);

/* Takes n bytes of the file being encoded; returns 0, or an errno when they
 * could not be written. */
typedef int (*drnn_ckpt_write_fn)(void *ctx, const unsigned char *bytes, size_t n);

/* Encodes st as planned, handing its bytes to write as they are made (no
 * copy of the whole file). Returns 0, or the errno of the first failed
 * write (nothing is handed on after it). */
int drnn_ckpt_encode_stream(const drnn_train_state *st, const drnn_ckpt_plan *plan,
                            drnn_ckpt_write_fn write, void *ctx);

#endif
