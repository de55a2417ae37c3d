/* interop_meta.h: the metadata of an exported model (docs/interop.md,
 * "Metadata"): the key/value strings that the safetensors header's
 * __metadata__ and the ONNX model's metadata_props both hold
 * (interop_meta.c). Not installed. */
#ifndef DINORNN_INTEROP_META_H
#define DINORNN_INTEROP_META_H

#include <stddef.h>

#include "dinornn/error.h"
#include "dinornn/model.h"
#include "dinornn/state.h"

typedef struct drnn_meta_entry {
    char *key;    /* owned, UTF-8 */
    char *value;  /* owned, UTF-8 */
} drnn_meta_entry;

typedef struct drnn_meta {
    size_t count, cap;
    drnn_meta_entry *entry;
} drnn_meta;

/* The metadata of m, the model st stands for (drnn_state_model), in the
 * order of docs/interop.md: format, format_version, cell, vocab, hidden,
 * layers, members (m's networks), labels, symbols, end_index, keep_case,
 * label_names and label_counts (labeled models), hp.OPTION for each of
 * dinornn-train's settings, data_path (when it is UTF-8), data_fingerprint,
 * val_fingerprint.
 * DRNN_ERR_INVALID when a symbol is not a Unicode scalar value (or is
 * U+0000) or a label is not UTF-8; DRNN_ERR_NOMEM. Free with drnn_meta_free
 * (also after a failure). */
int drnn_meta_build(drnn_meta *meta, const drnn_train_state *st, const drnn_model *m,
                    drnn_error *err);
void drnn_meta_free(drnn_meta *meta);

#endif
