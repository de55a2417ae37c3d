/* dinornn/vocab.h: the symbols a model knows (its vocabulary), names'
 * code points as tokens, and tokens as text again. */
#ifndef DINORNN_VOCAB_H
#define DINORNN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tokens: END and at most 65,535 distinct symbols, all that a 16-bit
 * drnn_token can number with END as token 0. */
#define DRNN_MAX_VOCAB      65536

/* Token 0 is the end-of-name marker, which also starts every name. */
#define DRNN_END 0

typedef uint16_t drnn_token;

/* Names as code points (names.h). */
struct drnn_names;

/* symbol[0] is DRNN_END; symbol[1 .. size-1] are the code points seen,
 * ascending. Memory grows with the vocabulary: 4 bytes a symbol. */
typedef struct drnn_vocab {
    int size;            /* tokens, END included: 1 .. DRNN_MAX_VOCAB */
    uint32_t *symbol;    /* [size]; owned by a vocabulary that build or copy made */
} drnn_vocab;

/* The sorted distinct code points of the names, in time linear in the
 * number of symbols (no per-symbol insertion). More than DRNN_MAX_VOCAB - 1
 * distinct symbols is DRNN_ERR_VOCAB_TOO_BIG naming the line where the
 * limit was passed. Free the result with drnn_vocab_free. */
int drnn_vocab_build(drnn_vocab *vocab, const struct drnn_names *names, drnn_error *err);
/* dst = a copy of src with its own symbols. */
int drnn_vocab_copy(drnn_vocab *dst, const drnn_vocab *src, drnn_error *err);
void drnn_vocab_free(drnn_vocab *vocab);
/* The token of a code point, or -1 when it is not in the vocabulary. */
int drnn_vocab_find(const drnn_vocab *vocab, uint32_t symbol);

/* Writes n tokens as UTF-8 into buf (always NUL-terminated when size > 0,
 * truncated to whole characters); the end marker is skipped, and a control
 * character (U+0000..U+001F, U+007F..U+009F, which a checkpoint's vocabulary
 * may hold) is written as U+FFFD, so that a name never drives a terminal.
 * capitalize title-cases the name, for a model that lowercased its names:
 * the first letter of each word by Unicode's title-case mapping (ǆ becomes
 * ǅ), then NFC. Returns the bytes the whole name needs, without the NUL. */
size_t drnn_vocab_decode(const drnn_vocab *vocab, const drnn_token *tokens, int n,
                         int capitalize, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
