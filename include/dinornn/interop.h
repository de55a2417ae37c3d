/* dinornn/interop.h: a model carried out to PyTorch and ONNX, and in from
 * PyTorch. docs/interop.md gives the mapping tensor by tensor.
 *
 * safetensors: the model of a checkpoint (drnn_state_model: one network, or
 * a mixture's members) as torch.nn.RNN/LSTM/GRU and torch.nn.Linear name
 * their tensors in a state_dict, F32, with the vocabulary, the labels and
 * the run's settings in the header's metadata. Reading one back gives a
 * state whose model, vocabulary and labels are those exported, bit for bit.
 *
 * ONNX: a graph that runs the model one step at a time (symbol, label and
 * states in; log-probabilities and states out) with the standard RNN, LSTM
 * and GRU operators, for any ONNX runtime. Written only. */
#ifndef DINORNN_INTEROP_H
#define DINORNN_INTEROP_H

#include <stddef.h>

#include "dinornn/error.h"
#include "dinornn/state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the tensor layout and metadata keys (metadata "format_version"). */
#define DRNN_INTEROP_VERSION 1
/* The most bytes of a safetensors header that dinornn reads (the format's
 * own limit is 100 MB; a header of dinornn's largest model is under 1 MB). */
#define DRNN_SAFETENSORS_MAX_HEADER (16u * 1024u * 1024u)

/* The model st stands for (drnn_state_model) as a safetensors file in a new
 * buffer (*out, *len), which the caller frees. */
int drnn_safetensors_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                            drnn_error *err);

/* Reads a safetensors file in the layout of docs/interop.md into a new state
 * (freed with drnn_state_free): the model's weights (a mixture's as its
 * members' best weights), the vocabulary, the labels and, where the metadata
 * gives them, the run's settings, data path and fingerprints; the optimizer's
 * moments zero. Every size, offset, dtype, shape and name is checked before
 * anything large is allocated; label stands for the file in messages, which
 * name the tensor or key at fault. Errors: DRNN_ERR_SAFETENSORS (not a valid
 * safetensors file: truncated, lying sizes or offsets, bad JSON),
 * DRNN_ERR_INTEROP (a valid file whose tensors or metadata are not a dinornn
 * model: a missing, unknown or misshapen tensor, a dtype other than F32, a
 * non-finite value), DRNN_ERR_NOMEM. */
int drnn_safetensors_decode(drnn_train_state *st, const unsigned char *buf, size_t len,
                            const char *label, drnn_error *err);

/* drnn_safetensors_decode of the file at path, read whole (a regular file;
 * DRNN_ERR_NOT_FOUND, DRNN_ERR_IO, DRNN_ERR_IS_DIR, DRNN_ERR_NOT_REGULAR as
 * drnn_checkpoint_load says). */
int drnn_safetensors_load(drnn_train_state *st, const char *path, drnn_error *err);

/* The model st stands for as an ONNX model (opset 13) in a new buffer. */
int drnn_onnx_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                     drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
