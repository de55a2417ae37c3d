/* web_main.c: what the WebAssembly build of dinornn-sample (make web) adds
 * for web/dinornn-core.js, which runs its main once per request in one
 * instance: the state a run leaves behind reset, and a checkpoint described
 * as JSON for the page. Not part of the native programs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <emscripten.h>

#include "cli.h"
#include "dinornn/dinornn.h"
#include "text.h"

/* Called from JavaScript only (web/dinornn-core.js). */
int drnn_web_reset(void);
int drnn_web_describe(const char *path);

/* Before each run of main: getopt starts again from the first argument
 * (musl: optind 0 resets its position inside a group of short options),
 * and main's closing of standard output (cli_close_stdout) is undone: the
 * FILE stays, its descriptor 1 is opened again on the same device. */
EMSCRIPTEN_KEEPALIVE int drnn_web_reset(void)
{
    optind = 0;
    if (fcntl(STDOUT_FILENO, F_GETFD) == -1) {
        int fd = open("/dev/stdout", O_WRONLY);
        if (fd < 0)
            return 1;
        if (fd != STDOUT_FILENO) {
            int moved = dup2(fd, STDOUT_FILENO);
            close(fd);
            if (moved < 0)
                return 1;
        }
    }
    clearerr(stdout);
    return 0;
}

/* The checkpoint at path as one JSON line on standard output: {cell,
 * layers, hidden, members, symbols (how many, the end of a name apart),
 * alphabet (them, as text), labels, keep_case}. Returns 0, or 1 after
 * saying why on standard error, in dinornn-sample's words. */
EMSCRIPTEN_KEEPALIVE int drnn_web_describe(const char *path)
{
    drnn_train_state st;
    drnn_error err;
    if (drnn_checkpoint_load(&st, path, &err)) {
        cli_message("%s", err.message);
        return 1;
    }
    const drnn_config *m = &st.hp.model;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = drnn_state_model(&st, parts); /* the networks sample uses */
    char *text = malloc(4 * (size_t)st.vocab.size + 1);
    if (!text) {
        cli_message("out of memory");
        drnn_state_free(&st);
        return 1;
    }
    printf("{\"cell\":\"%s\",\"layers\":%d,\"hidden\":%d,\"members\":%d,\"symbols\":%d,"
           "\"alphabet\":",
           drnn_cell_name(m->cell), m->layers, m->hidden, model.count, st.vocab.size - 1);
    size_t used = 0;
    for (int i = 1; i < st.vocab.size; i++)
        used += drnn_utf8_put(st.vocab.symbol[i], text + used);
    text[used] = '\0';
    cli_json_string(stdout, text);
    free(text);
    fputs(",\"labels\":[", stdout);
    for (int k = 0; k < st.labels.count; k++) {
        if (k)
            putchar(',');
        cli_json_string(stdout, st.labels.text[k]);
    }
    printf("],\"keep_case\":%s}\n", st.hp.keep_case ? "true" : "false");
    fflush(stdout);
    drnn_state_free(&st);
    return 0;
}
