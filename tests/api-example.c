/* api-example.c: libdinornn from outside the project: load a checkpoint and
 * print the five most likely names that start with a prefix. Built against
 * the installed library through pkg-config by `make installcheck`:
 *   cc api-example.c $(pkg-config --cflags --libs dinornn) -o api-example
 *   ./api-example checkpoints/best.ckpt tyr */
#include <stdio.h>
#include <string.h>

#include <dinornn/dinornn.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CHECKPOINT PREFIX\n", argv[0]);
        return 2;
    }
    drnn_error err;
    drnn_train_state st;
    if (drnn_checkpoint_load(&st, argv[1], &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    /* The prefix goes through the same loader as training names (UTF-8,
     * lowercased), then the model's vocabulary. */
    drnn_corpus prefix;
    drnn_names_options opts = {.keep_case = st.hp.keep_case};
    if (drnn_corpus_parse_with(&prefix, &st.vocab, NULL, argv[2], strlen(argv[2]), "prefix",
                               &opts, 0, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    drnn_search_options so = {.k = 5, .prefix = prefix.tokens,
                              .prefix_len = drnn_corpus_len(&prefix, 0), .min_len = 1,
                              .max_len = 32};
    /* The model the checkpoint stands for: one network, or the mixture of
     * its members. */
    drnn_params members[DRNN_MAX_MEMBERS];
    const drnn_model model = drnn_state_model(&st, members);
    drnn_search_result best;
    if (drnn_search_best(&model, &so, &best, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (int i = 0; i < best.count; i++) {
        char text[4 * DRNN_MAX_NAME_LEN + 1];
        drnn_vocab_decode(&st.vocab, best.names[i].tokens, best.names[i].len, !st.hp.keep_case,
                          text, sizeof text);
        printf("%s\t%.4f\n", text, best.names[i].logprob);
    }
    drnn_search_result_free(&best);
    drnn_corpus_free(&prefix);
    drnn_state_free(&st);
    return 0;
}
