/* dinornn/corpus.h: a data set: names as tokens, ready for training, read
 * straight from a names file or encoded from parsed names; its parts, its
 * train/validation split and the set of its names. */
#ifndef DINORNN_CORPUS_H
#define DINORNN_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/labels.h"
#include "dinornn/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Names as code points and how to read them (names.h). */
struct drnn_names;
struct drnn_names_options;

/* Names as tokens, ready for training. */
typedef struct drnn_corpus {
    size_t count;
    drnn_token *tokens;  /* all names' tokens, concatenated, without end markers */
    size_t *start;       /* count + 1 offsets into tokens */
    long *line;          /* source line of each name; NULL from drnn_corpus_load,
                          * whose messages name the lines themselves */
    size_t skipped;      /* names left out for unknown symbols (skip_unknown only) */
    long first_skipped_line;
    uint16_t *labels;    /* label of each name, an index into label_table; NULL when
                          * the list is unlabeled (labels.h) */
    drnn_label_table label_table;  /* the list's labels, counts = its names per label */
} drnn_corpus;

/* Encodes names with a vocabulary. A symbol outside it is DRNN_ERR_UNKNOWN_SYMBOL
 * naming the line, unless skip_unknown, which leaves such names out and counts them. */
int drnn_corpus_encode(drnn_corpus *out, const struct drnn_names *names, const drnn_vocab *vocab,
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
                     const char *path, const struct drnn_names_options *opts, int skip_unknown,
                     drnn_error *err);
/* The same from a buffer; label stands for the file name in messages. */
int drnn_corpus_parse(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                      const char *buf, size_t len, const char *label,
                      const struct drnn_names_options *opts, int skip_unknown, drnn_error *err);
/* drnn_corpus_load and drnn_corpus_parse with a vocabulary that is only
 * read (vocab->size from 1 to DRNN_MAX_VOCAB): a model's, for its names. */
int drnn_corpus_load_with(drnn_corpus *out, const drnn_vocab *vocab, uint64_t *fingerprint,
                          const char *path, const struct drnn_names_options *opts,
                          int skip_unknown, drnn_error *err);
int drnn_corpus_parse_with(drnn_corpus *out, const drnn_vocab *vocab, uint64_t *fingerprint,
                           const char *buf, size_t len, const char *label,
                           const struct drnn_names_options *opts, int skip_unknown,
                           drnn_error *err);

/* Moves names idx[0 .. n-1] (strictly ascending) of *all into *out, in that
 * order, and closes the gaps in *all in place, keeping its order: a split
 * that copies only the part taken out. Labels go with their names; both
 * parts' label tables hold all the labels, with the counts of their own
 * names. */
int drnn_corpus_extract(drnn_corpus *all, const size_t *idx, size_t n, drnn_corpus *out,
                        drnn_error *err);

/* out = names idx[0 .. n-1] of src, in that order, with their labels (the
 * table's counts are out's). */
int drnn_corpus_select(drnn_corpus *out, const drnn_corpus *src, const size_t *idx, size_t n,
                       drnn_error *err);

/* The length of c's longest name (0 for none or a NULL c). */
int drnn_longest_name(const drnn_corpus *c);

/* 1 if tokens[0 .. n-1] is one of the corpus's names, else 0. */
int drnn_corpus_contains(const drnn_corpus *c, const drnn_token *tokens, int n);

/* A set of a corpus's names (token sequences), for excluding the training
 * names: the same answers as drnn_corpus_contains in constant time. */
typedef struct drnn_name_set drnn_name_set;
/* Builds the set of corpus's names; the set refers to corpus, which must
 * outlive it. */
int drnn_name_set_new(drnn_name_set **out, const drnn_corpus *corpus, drnn_error *err);
void drnn_name_set_free(drnn_name_set *set);
/* 1 if tokens[0 .. n-1] is in the set, else 0. */
int drnn_name_set_contains(const drnn_name_set *set, const drnn_token *tokens, int n);

/* A deterministic split of indices 0..count-1: a Fisher-Yates shuffle driven
 * by seed, the first round(count * val_fraction) to validation (at most
 * count - 1, so that training is never empty), both lists sorted ascending.
 * val_fraction must be in [0, 1). The caller frees *train and *val. */
int drnn_split(size_t count, double val_fraction, uint64_t seed,
               size_t **train, size_t *n_train, size_t **val, size_t *n_val,
               drnn_error *err);
/* The split of c's names, stratified by label: an unlabeled c is split
 * exactly as drnn_split(c->count, ...) does; a labeled one label by label
 * (in table order), each label's names (ascending) split by drnn_split's
 * rule with a seed derived from seed and the label's index, so that each
 * label keeps its share in both parts and at least one training name. Both
 * lists are the union, sorted ascending. */
int drnn_split_labeled(const drnn_corpus *c, double val_fraction, uint64_t seed,
                       size_t **train, size_t *n_train, size_t **val, size_t *n_val,
                       drnn_error *err);

/* Re-indexes c's labels to a model's table (a validation or evaluation
 * file read for a trained model): afterwards c->label_table holds model's
 * labels, in its order, with the counts of c's names. A label the model
 * lacks is DRNN_ERR_MISMATCH naming path, the line of its first name (when
 * c has lines) and the model's labels; so is an unlabeled c with a labeled
 * model, or the reverse. path names the file in messages. */
int drnn_corpus_use_labels(drnn_corpus *c, const drnn_label_table *model, const char *path,
                           drnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
