/* safetensors.h: the safetensors container (src/safetensors.c), apart from
 * what its tensors mean (src/torch_layout.c): a strict reader of untrusted
 * bytes and a writer. The format: an 8-byte little-endian header length n,
 * n bytes of a JSON object (tensor name -> {"dtype", "shape",
 * "data_offsets"}, and "__metadata__", a map of strings to strings), then
 * the tensors' bytes, which the offsets (relative to the end of the header)
 * must tile exactly. Not installed. */
#ifndef DINORNN_SAFETENSORS_H
#define DINORNN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"

/* The most tensors and dimensions a file may have (dinornn's largest model
 * has 16 members of 16 layers: 1,056 tensors, of 2 dimensions). */
#define DRNN_ST_MAX_TENSORS 65536
#define DRNN_ST_MAX_DIMS 8
/* The most metadata keys (an export writes about 40). */
#define DRNN_ST_MAX_META 4096

typedef struct drnn_st_tensor {
    char *name;                   /* NUL-terminated UTF-8 */
    char dtype[16];               /* "F32", "F16", ... as written */
    int element_size;             /* bytes of one element of dtype */
    int ndim;
    uint64_t shape[DRNN_ST_MAX_DIMS];
    uint64_t begin, end;          /* byte offsets in the data, end - begin its size */
} drnn_st_tensor;

typedef struct drnn_st_entry {
    char *key, *value;            /* NUL-terminated UTF-8 */
} drnn_st_entry;

typedef struct drnn_st_file {
    drnn_st_tensor *tensor;       /* [count], in the order of the header */
    int count, tensor_cap;
    drnn_st_entry *meta;          /* [meta_count]: __metadata__ */
    int meta_count, meta_cap;
    const unsigned char *data;    /* the tensors' bytes (not owned: inside the buffer read;
                                   * NULL after drnn_st_parse_header) */
    uint64_t data_len;
} drnn_st_file;

/* Reads the container in buf: the header's length against the buffer's,
 * its JSON (strict: no duplicate key, no value of another type than the
 * format's, valid UTF-8, no NUL in a string), each tensor's dtype, shape and
 * offsets (size = elements * element size, without overflow; the tensors
 * tile the data exactly: no gap, no overlap). On failure
 * DRNN_ERR_SAFETENSORS (or DRNN_ERR_NOMEM) with a message that starts with
 * label and names the tensor or byte at fault; *f is then empty. */
int drnn_st_parse(drnn_st_file *f, const unsigned char *buf, size_t len, const char *label,
                  drnn_error *err);
/* The same of a file's first len bytes (its header, at least), file_len
 * bytes in all: every check but the data's, so that a file is refused
 * before its data is read; data is NULL. */
int drnn_st_parse_header(drnn_st_file *f, const unsigned char *buf, size_t len,
                         uint64_t file_len, const char *label, drnn_error *err);
/* The header length of buf's first 8 bytes. */
uint64_t drnn_st_header_length(const unsigned char *buf);
void drnn_st_free(drnn_st_file *f);
/* The tensor of that name, or NULL. */
const drnn_st_tensor *drnn_st_find(const drnn_st_file *f, const char *name);
/* The metadata value of key, or NULL. */
const char *drnn_st_meta(const drnn_st_file *f, const char *key);

/* JSON values inside metadata strings (label_names, label_counts): an array
 * of strings or of whole numbers 0 .. 2^63-1; count items at most. Returns
 * the number of items, or -1 when text is not such an array (or longer). */
int drnn_json_string_array(const char *text, char **items, int count);
int drnn_json_int_array(const char *text, int64_t *items, int count);

/* text as a JSON string, quotes included ('"' and '\\' escaped, control
 * characters as \u00XX), into out (NUL-terminated when cap > 0; truncated
 * when it does not fit); returns its length without the NUL. */
size_t drnn_json_quote(const char *text, char *out, size_t cap);

/* The writer: a JSON header built piece by piece, then the data. */
typedef struct drnn_st_writer {
    char *json;                   /* the header so far */
    size_t len, cap;
    uint64_t data_len;            /* bytes of the tensors added so far */
    int failed;                   /* an allocation failed: the result is refused */
    int in_meta;                  /* the metadata object is open */
} drnn_st_writer;

void drnn_st_writer_init(drnn_st_writer *w);
void drnn_st_writer_free(drnn_st_writer *w);
/* Appends a metadata pair; all of them come before the first tensor. */
void drnn_st_add_meta(drnn_st_writer *w, const char *key, const char *value);
/* Appends an F32 tensor of ndim (1 or 2) dimensions, its data the next
 * shape-product floats the caller writes after the header, in this order. */
void drnn_st_add_f32(drnn_st_writer *w, const char *name, int ndim, const uint64_t *shape);
/* The header's bytes (length prefix, JSON padded with spaces to a multiple
 * of 8) in a new buffer of *len + data_len bytes, ready for the data at
 * *len. DRNN_ERR_NOMEM when anything failed. */
int drnn_st_finish(drnn_st_writer *w, unsigned char **out, size_t *len, drnn_error *err);

#endif
