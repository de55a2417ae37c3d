/* dinornn/checkpoint.h: saving and loading the whole state of a run.
 * The format is specified byte by byte in docs/checkpoint-format.md; the
 * directory that holds a run's checkpoints is dinornn/rundir.h's. */
#ifndef DINORNN_CHECKPOINT_H
#define DINORNN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRNN_CKPT_MAGIC "DRNNCKPT"
#define DRNN_CKPT_VERSION 4      /* the newest, written for labeled models (an
                                  * unlabeled one is written as version 3);
                                  * versions 1 .. 4 are read */
#define DRNN_CKPT_MAX_PATH 4096   /* bytes of the recorded data path */

/* Writes st to path atomically: a temporary file in the same directory,
 * flushed to disk, renamed over path, and the directory flushed. On any
 * failure path is untouched and the temporary file removed. The bytes depend
 * only on st (no time, host or thread count). Refuses, writing nothing, a
 * state that a reader would refuse for NaN or infinite values
 * (DRNN_ERR_NONFINITE: a diverged run) and a path its owner made read-only
 * (DRNN_ERR_READ_ONLY, as drnn_rundir_replaceable says). */
int drnn_checkpoint_save(const drnn_train_state *st, const char *path, drnn_error *err);

/* Reads a checkpoint into *st (which the caller frees with drnn_state_free).
 * Checks magic, version, every size against the file's real size before
 * allocating, value ranges and the CRC-32. Errors: DRNN_ERR_NOT_FOUND,
 * DRNN_ERR_IO, DRNN_ERR_IS_DIR, DRNN_ERR_CKPT_MAGIC, DRNN_ERR_CKPT_VERSION,
 * DRNN_ERR_CKPT_TRUNCATED, DRNN_ERR_CKPT_CORRUPT, DRNN_ERR_NOMEM. */
int drnn_checkpoint_load(drnn_train_state *st, const char *path, drnn_error *err);

/* The same from bytes in memory; label stands for the path in messages.
 * check_crc = 0 skips only the checksum (for fuzzing). */
int drnn_checkpoint_decode(drnn_train_state *st, const unsigned char *buf, size_t len,
                           const char *label, int check_crc, drnn_error *err);
/* Serializes st into a new buffer (*out, *len), which the caller frees.
 * DRNN_ERR_NONFINITE when the weights, moments, epoch_loss or best_val_loss
 * hold values the format does not allow (NaN; infinities but +inf best). */
int drnn_checkpoint_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                           drnn_error *err);

/* CRC-32 (ISO-HDLC, as zlib's crc32) of len bytes, continuing from crc (0 to start). */
uint32_t drnn_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
