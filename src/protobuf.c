/* protobuf.c: the protocol-buffers writer of protobuf.h. */
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"

enum { PB_VARINT = 0, PB_LEN = 2 };

/* Room for n more bytes; doubles the capacity, never past PB_MAX_BYTES. */
static int reserve(pb_buf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (n > PB_MAX_BYTES - b->len) {
        b->failed = 2;
        return 0;
    }
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap = cap > PB_MAX_BYTES / 2 ? PB_MAX_BYTES : cap * 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void pb_raw(pb_buf *b, const void *p, size_t n)
{
    if (n && reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

/* v as a varint into out (at most 10 bytes); returns its length. */
static size_t varint(unsigned char out[10], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

static void put_varint(pb_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    pb_raw(b, tmp, varint(tmp, v));
}

static void put_tag(pb_buf *b, unsigned field, unsigned wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

void pb_int(pb_buf *b, unsigned field, int64_t v)
{
    put_tag(b, field, PB_VARINT);
    put_varint(b, (uint64_t)v);
}

void pb_bytes(pb_buf *b, unsigned field, const void *p, size_t n)
{
    put_tag(b, field, PB_LEN);
    put_varint(b, n);
    pb_raw(b, p, n);
}

void pb_string(pb_buf *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

void pb_le32(unsigned char out[4], float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(u >> 8 * i);
}

size_t pb_begin(pb_buf *b, unsigned field)
{
    put_tag(b, field, PB_LEN);
    return b->len;
}

/* The body's length is known only now: it is moved up to make room. */
void pb_end(pb_buf *b, size_t start)
{
    if (b->failed)
        return;
    unsigned char tmp[10];
    size_t body = b->len - start, n = varint(tmp, body);
    if (!reserve(b, n))
        return;
    memmove(b->data + start + n, b->data + start, body);
    memcpy(b->data + start, tmp, n);
    b->len += n;
}
