/* protobuf.h: a minimal protocol-buffers writer (protobuf.c), enough for the
 * ONNX export (onnx.c): varints, strings, bytes and nested
 * messages. Not installed.
 *
 * Errors are sticky: a failed allocation or a size past PB_MAX_BYTES marks
 * the buffer failed, every later call does nothing, and the caller checks
 * pb->failed once at the end. */
#ifndef DINORNN_PROTOBUF_H
#define DINORNN_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

/* Protobuf's own limit on a message: 2 GiB less one byte. */
#define PB_MAX_BYTES ((size_t)INT32_MAX)

typedef struct pb_buf {
    unsigned char *data;  /* owned; free() it, or take it when done */
    size_t len, cap;
    int failed;           /* 1: out of memory; 2: past PB_MAX_BYTES */
} pb_buf;

/* Appends n raw bytes. */
void pb_raw(pb_buf *b, const void *p, size_t n);
/* A field's varint: int64 and int32 fields (negative values as ten bytes,
 * as protobuf encodes them). */
void pb_int(pb_buf *b, unsigned field, int64_t v);
/* A length-delimited field: bytes, strings. */
void pb_bytes(pb_buf *b, unsigned field, const void *p, size_t n);
void pb_string(pb_buf *b, unsigned field, const char *s);

/* A nested message: pb_begin writes its tag and returns where its body
 * starts; pb_end puts the body's length in front of it. */
size_t pb_begin(pb_buf *b, unsigned field);
void pb_end(pb_buf *b, size_t start);

/* 4 bytes of v, little-endian, whatever the host's order (raw tensor data). */
void pb_le32(unsigned char out[4], float v);

#endif
