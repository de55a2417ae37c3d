/* fuzz_names.c: arbitrary bytes as a names file, through everything the
 * trainer does with one: parse, vocabulary, encoding, fingerprint, split. */
#include <stdlib.h>

#include "dinornn/dinornn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus corpus;
    if (drnn_names_parse(&names, (const char *)data, size, "fuzz", NULL, NULL) != DRNN_OK)
        return 0;
    (void)drnn_names_fingerprint(&names);
    if (drnn_vocab_build(&vocab, &names, NULL) == DRNN_OK &&
        drnn_corpus_encode(&corpus, &names, &vocab, 0, "fuzz", NULL) == DRNN_OK) {
        size_t *train, *val, n_train, n_val;
        if (drnn_split(corpus.count, 0.1, 1, &train, &n_train, &val, &n_val, NULL) == DRNN_OK) {
            free(train);
            free(val);
        }
        char text[4 * DRNN_MAX_NAME_LEN + 1];
        drnn_vocab_decode(&vocab, corpus.tokens, drnn_corpus_len(&corpus, 0), 1, text, sizeof text);
        drnn_corpus_free(&corpus);
    }
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
    return 0;
}
