/* dinornn/names.h: reading a list of names (one per line, UTF-8), its
 * vocabulary, its encoding into tokens and a seeded train/validation split. */
#ifndef DINORNN_NAMES_H
#define DINORNN_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Documented limits; inputs beyond them are refused before anything is allocated. */
#define DRNN_MAX_NAME_LEN   256                /* symbols in one name */
/* Tokens: END and at most 65,535 distinct symbols, all that a 16-bit
 * drnn_token can number with END as token 0. */
#define DRNN_MAX_VOCAB      65536
#define DRNN_MAX_NAMES_FILE (256u << 20)       /* bytes in a names file (256 MiB) */

/* Token 0 is the end-of-name marker, which also starts every name. */
#define DRNN_END 0

typedef uint16_t drnn_token;

/* Names as Unicode code points, in file order. */
typedef struct drnn_names {
    size_t count;        /* number of names */
    uint32_t *symbols;   /* all names' code points, concatenated */
    size_t *start;       /* name i is symbols[start[i] .. start[i+1]); count + 1 entries */
    long *line;          /* 1-based line of each name in its file */
} drnn_names;

typedef struct drnn_names_options {
    int keep_case;       /* 0 (default): lowercase (Unicode's full mapping); 1: keep the case */
} drnn_names_options;

/* Reads and parses a names file. A line ends at "\n", "\r\n" or a lone "\r";
 * each name loses the Unicode white space around it (U+00A0, U+3000 too),
 * and lines left blank are skipped. Invalid UTF-8 and control characters
 * inside a name (U+0000 to U+001F, U+007F to U+009F: a tab, an ESC) are
 * refused. Each name is put in Unicode normalisation form C and, unless
 * keep_case, lowercased by Unicode's full locale-independent mapping (then
 * NFC again): docs/model.md, "From a line to a name". The file may be a
 * pipe, but a FIFO with no writer is refused at once (DRNN_ERR_NOT_REGULAR).
 * opts may be NULL for the defaults. On failure *out is left empty and err
 * names the file and line. */
int drnn_names_load(drnn_names *out, const char *path,
                    const drnn_names_options *opts, drnn_error *err);
/* The same from a buffer; label stands for the file name in messages. */
int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err);
void drnn_names_free(drnn_names *names);

/* A 64-bit FNV-1a hash of the parsed names (not of the file's bytes, so line
 * endings and blank lines do not change it). */
uint64_t drnn_names_fingerprint(const drnn_names *names);

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
int drnn_vocab_build(drnn_vocab *vocab, const drnn_names *names, drnn_error *err);
/* dst = a copy of src with its own symbols. */
int drnn_vocab_copy(drnn_vocab *dst, const drnn_vocab *src, drnn_error *err);
void drnn_vocab_free(drnn_vocab *vocab);
/* The token of a code point, or -1 when it is not in the vocabulary. */
int drnn_vocab_find(const drnn_vocab *vocab, uint32_t symbol);

/* Names as tokens, ready for training. */
typedef struct drnn_corpus {
    size_t count;
    drnn_token *tokens;  /* all names' tokens, concatenated, without end markers */
    size_t *start;       /* count + 1 offsets into tokens */
    long *line;          /* source line of each name; NULL from drnn_corpus_load,
                          * whose messages name the lines themselves */
    size_t skipped;      /* names left out for unknown symbols (skip_unknown only) */
    long first_skipped_line;
} drnn_corpus;

/* Encodes names with a vocabulary. A symbol outside it is DRNN_ERR_UNKNOWN_SYMBOL
 * naming the line, unless skip_unknown, which leaves such names out and counts them. */
int drnn_corpus_encode(drnn_corpus *out, const drnn_names *names, const drnn_vocab *vocab,
                       int skip_unknown, const char *label, drnn_error *err);
void drnn_corpus_free(drnn_corpus *corpus);

/* Length in tokens of name i (without the end marker). */
static inline int drnn_corpus_len(const drnn_corpus *c, size_t i)
{
    return (int)(c->start[i + 1] - c->start[i]);
}

/* A names file read straight into tokens, without the code points (and
 * line numbers) that drnn_names_load and drnn_corpus_encode keep: the file's
 * bytes and the corpus (2 bytes a symbol, 8 a name) are all the memory it
 * takes. The file is parsed exactly as drnn_names_load does; line is NULL.
 * With vocab->size == 0 the vocabulary is built from the file's names into
 * *vocab (as drnn_vocab_build would, "FILE:LINE: more than 65535 distinct
 * symbols" past the limit) and every name is kept. Otherwise the names are
 * encoded with *vocab as drnn_corpus_encode does: those with other symbols
 * are skipped and counted with skip_unknown, else refused
 * (DRNN_ERR_UNKNOWN_SYMBOL naming the first). fingerprint (may be NULL)
 * receives drnn_names_fingerprint of all the file's names, skipped ones
 * included; it is also set when the only failure is an unknown symbol, so
 * that a caller can first say whether the file is the one it expected. */
int drnn_corpus_load(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                     const char *path, const drnn_names_options *opts, int skip_unknown,
                     drnn_error *err);
/* The same from a buffer; label stands for the file name in messages. */
int drnn_corpus_parse(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                      const char *buf, size_t len, const char *label,
                      const drnn_names_options *opts, int skip_unknown, drnn_error *err);

/* Moves names idx[0 .. n-1] (strictly ascending) of *all into *out, in that
 * order, and closes the gaps in *all in place, keeping its order: a split
 * that copies only the part taken out. */
int drnn_corpus_extract(drnn_corpus *all, const size_t *idx, size_t n, drnn_corpus *out,
                        drnn_error *err);

/* The length of c's longest name (0 for none or a NULL c). */
int drnn_longest_name(const drnn_corpus *c);

/* 1 if tokens[0 .. n-1] is one of the corpus's names, else 0. */
int drnn_corpus_contains(const drnn_corpus *c, const drnn_token *tokens, int n);

/* out = names idx[0 .. n-1] of src, in that order. */
int drnn_corpus_select(drnn_corpus *out, const drnn_corpus *src, const size_t *idx, size_t n,
                       drnn_error *err);

/* Writes n tokens as UTF-8 into buf (always NUL-terminated when size > 0,
 * truncated to whole characters); the end marker is skipped, and a control
 * character (U+0000..U+001F, U+007F..U+009F, which a checkpoint's vocabulary
 * may hold) is written as U+FFFD, so that a name never drives a terminal.
 * capitalize title-cases the name, for a model that lowercased its names:
 * the first letter of each word by Unicode's title-case mapping (ǆ becomes
 * ǅ), then NFC. Returns the bytes the whole name needs, without the NUL. */
size_t drnn_vocab_decode(const drnn_vocab *vocab, const drnn_token *tokens, int n,
                         int capitalize, char *buf, size_t size);

/* A deterministic split of indices 0..count-1: a Fisher-Yates shuffle driven
 * by seed, the first round(count * val_fraction) to validation (at most
 * count - 1, so that training is never empty), both lists sorted ascending.
 * val_fraction must be in [0, 1). The caller frees *train and *val. */
int drnn_split(size_t count, double val_fraction, uint64_t seed,
               size_t **train, size_t *n_train, size_t **val, size_t *n_val,
               drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
