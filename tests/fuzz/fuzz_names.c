/* fuzz_names.c: arbitrary bytes as a names file, through everything the
 * trainer does with one: parse, vocabulary, encoding, fingerprint, the
 * split (stratified when labeled); and the direct loader
 * (drnn_corpus_parse) must agree with that path, labels included. */
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "fuzz.h"

/* 1 when a and b hold the same labels for their names, in the same table
 * with the same counts. */
static int same_labels(const drnn_corpus *a, const drnn_corpus *b)
{
    if (!a->labels != !b->labels ||
        !drnn_label_table_same_labels(&a->label_table, &b->label_table))
        return 0;
    for (int l = 0; l < a->label_table.count; l++)
        if (a->label_table.names[l] != b->label_table.names[l])
            return 0;
    return !a->labels || memcmp(a->labels, b->labels, a->count * sizeof *a->labels) == 0;
}

/* The direct loader gives what parse + vocabulary + encoding give, or fails
 * with the same status. */
static void check_direct(const uint8_t *data, size_t size, int rc_names, const drnn_names *names)
{
    drnn_vocab vocab, ref_vocab;
    drnn_corpus direct, ref;
    uint64_t fp = 0;
    memset(&vocab, 0, sizeof vocab);
    int rc = drnn_corpus_parse(&direct, &vocab, &fp, (const char *)data, size, "fuzz", NULL, 0,
                               NULL);
    if (rc_names != DRNN_OK) {
        if (rc != rc_names)
            abort();
        return;
    }
    int rc_ref = drnn_vocab_build(&ref_vocab, names, NULL);
    if (rc_ref == DRNN_OK)
        rc_ref = drnn_corpus_encode(&ref, names, &ref_vocab, 0, "fuzz", NULL);
    if (rc != rc_ref)
        abort();
    if (rc != DRNN_OK) {
        drnn_vocab_free(&ref_vocab);
        return;
    }
    size_t n_tok = ref.start[ref.count];
    if (fp != drnn_names_fingerprint(names) || vocab.size != ref_vocab.size ||
        memcmp(vocab.symbol, ref_vocab.symbol, (size_t)vocab.size * sizeof vocab.symbol[0]) ||
        direct.count != ref.count ||
        memcmp(direct.start, ref.start, (ref.count + 1) * sizeof *ref.start) ||
        memcmp(direct.tokens, ref.tokens, n_tok * sizeof *ref.tokens) || !same_labels(&direct, &ref))
        abort();
    drnn_corpus_free(&direct);
    drnn_corpus_free(&ref);
    drnn_vocab_free(&vocab);
    drnn_vocab_free(&ref_vocab);
}

/* Encoding with a given vocabulary, names with other symbols skipped: the
 * same names and tokens as drnn_corpus_encode. */
static void check_direct_skip(const uint8_t *data, size_t size, int rc_names,
                              const drnn_names *names)
{
    uint32_t symbols[] = {DRNN_END, ' ', 'a', 'b', 0xE9};
    drnn_vocab vocab = {5, symbols};
    drnn_vocab given = vocab;
    drnn_corpus direct, ref;
    int rc = drnn_corpus_parse(&direct, &given, NULL, (const char *)data, size, "fuzz", NULL, 1,
                               NULL);
    if (rc_names != DRNN_OK) {
        if (rc != rc_names)
            abort();
        return;
    }
    if (rc != DRNN_OK || drnn_corpus_encode(&ref, names, &vocab, 1, "fuzz", NULL) != DRNN_OK)
        abort();
    if (direct.count != ref.count || direct.skipped != ref.skipped ||
        direct.first_skipped_line != ref.first_skipped_line ||
        memcmp(direct.start, ref.start, (ref.count + 1) * sizeof *ref.start) ||
        memcmp(direct.tokens, ref.tokens, ref.start[ref.count] * sizeof *ref.tokens) ||
        !same_labels(&direct, &ref))
        abort();
    drnn_corpus_free(&direct);
    drnn_corpus_free(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus corpus;
    int rc = drnn_names_parse(&names, (const char *)data, size, "fuzz", NULL, NULL);
    check_direct(data, size, rc, &names);
    check_direct_skip(data, size, rc, &names);
    if (rc != DRNN_OK)
        return 0;
    (void)drnn_names_fingerprint(&names);
    if (drnn_vocab_build(&vocab, &names, NULL) == DRNN_OK &&
        drnn_corpus_encode(&corpus, &names, &vocab, 0, "fuzz", NULL) == DRNN_OK) {
        size_t *train, *val, n_train, n_val;
        if (drnn_split_labeled(&corpus, 0.1, 1, &train, &n_train, &val, &n_val, NULL) ==
            DRNN_OK) {
            drnn_corpus part;
            if (drnn_corpus_extract(&corpus, val, n_val, &part, NULL) == DRNN_OK)
                drnn_corpus_free(&part);
            free(train);
            free(val);
        }
        char text[4 * DRNN_MAX_NAME_LEN + 1];
        if (corpus.count)
            drnn_vocab_decode(&vocab, corpus.tokens, drnn_corpus_len(&corpus, 0), 1, text,
                              sizeof text);
        drnn_corpus_free(&corpus);
    }
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
    return 0;
}
