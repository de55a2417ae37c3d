/* vocab_coder.h: what drnn_corpus_parse (corpus.c) uses of vocab.c beyond
 * the public API: a vocabulary built symbol by symbol while a file is
 * scanned, and code points turned into tokens quickly. Not installed. */
#ifndef DINORNN_VOCAB_CODER_H
#define DINORNN_VOCAB_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/vocab.h"

/* A set of code points that becomes a vocabulary: adding a symbol costs
 * O(1) whatever the size of the alphabet. */
typedef struct drnn_symbol_set drnn_symbol_set;

/* An empty set, or NULL when out of memory. */
drnn_symbol_set *drnn_symbol_set_new(void);
void drnn_symbol_set_free(drnn_symbol_set *set);
/* Adds a name's code points cps[0 .. n), which must lie in U+0001 ..
 * U+10FFFF (DRNN_ERR_INVALID otherwise). Past DRNN_MAX_VOCAB - 1 symbols,
 * DRNN_ERR_VOCAB_TOO_BIG naming line (of file label, when not NULL). */
int drnn_symbol_set_add_name(drnn_symbol_set *set, const uint32_t *cps, size_t n,
                             const char *label, long line, drnn_error *err);
/* The vocabulary of the set: END, then the members ascending. */
int drnn_symbol_set_to_vocab(const drnn_symbol_set *set, drnn_vocab *vocab, drnn_error *err);

/* Code points to tokens: a table for ASCII, most text, and a binary search
 * of the vocabulary for the rest. */
typedef struct drnn_coder {
    const drnn_vocab *vocab;
    int32_t ascii[128];    /* token of each ASCII code point, -1 if none */
} drnn_coder;

/* A coder for vocab, which must outlive it. */
void drnn_coder_init(drnn_coder *coder, const drnn_vocab *vocab);

/* The token of c, or -1 when the vocabulary lacks it. */
static inline int drnn_coder_token(const drnn_coder *coder, uint32_t c)
{
    return c < 128 ? coder->ascii[c] : drnn_vocab_find(coder->vocab, c);
}

/* The index of the first of cps[0 .. n) that the vocabulary lacks, n when it has them all. */
static inline int drnn_coder_first_unknown(const drnn_coder *coder, const uint32_t *cps, int n)
{
    int i = 0;
    while (i < n && drnn_coder_token(coder, cps[i]) >= 0)
        i++;
    return i;
}

#endif
