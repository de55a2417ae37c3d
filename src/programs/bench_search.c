/* bench_search.c: dinornn-bench --search: the exact search (--best 10) on a
 * checkpoint under a fixed list of constraint sets: the time to compile
 * the constraints and to search, the partial names expanded, the memory
 * the search held and the process's peak, and the automaton's size. Each
 * set runs in a child process of its own that loads the model itself, so
 * that its peak memory is that of a dinornn-sample run of that search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_search.h"

typedef struct search_case {
    const char *what; /* as dinornn-sample's options */
    const char *prefix, *suffix, *contains[2], *exclude, *pattern;
    int min_len, max_len;  /* 0: dinornn-sample's defaults */
} search_case;

/* The three (ending, length, substring), then combinations; the
 * first row is the search without constraints, for scale. */
static const search_case cases[] = {
    {"(no constraint)", NULL, NULL, {NULL}, NULL, NULL, 0, 0},
    {"--suffix saurus", NULL, "saurus", {NULL}, NULL, NULL, 0, 0},
    {"--pattern '\?\?\?\?\?\?'", NULL, NULL, {NULL}, NULL, "??????", 0, 0}, /* \?: no trigraph */
    {"--contains rex", NULL, NULL, {"rex"}, NULL, NULL, 0, 0},
    {"--prefix ar --contains on", "ar", NULL, {"on"}, NULL, NULL, 0, 0},
    {"--min-length 5 --max-length 7 --exclude q", NULL, NULL, {NULL}, "q", NULL, 5, 7},
    {"--pattern '*[aeiou]x'", NULL, NULL, {NULL}, NULL, "*[aeiou]x", 0, 0},
    {"--pattern 'ar*on*' --suffix us", NULL, "us", {NULL}, NULL, "ar*on*", 0, 0},
    {"--contains ab --contains ca --exclude s", NULL, NULL, {"ab", "ca"}, "s", NULL, 0, 0},
    {"--prefix t --suffix rex --max-length 10", "t", "rex", {NULL}, NULL, NULL, 0, 10},
};
enum { N_CASES = sizeof cases / sizeof cases[0], K = 10, MAX_LEN = 32 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* This process's peak resident memory, in MB (Linux: ru_maxrss in kB). */
static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024;
}

/* One set: the model loaded, the set compiled, searched, printed (in the child). */
static void run_case(const search_case *sc, const char *checkpoint, int json)
{
    drnn_train_state state;
    const drnn_train_state *st = &state;
    cli_load_checkpoint(checkpoint, &state);
    int n_contains = 0;
    while (n_contains < 2 && sc->contains[n_contains])
        n_contains++;
    const int max_len = sc->max_len ? sc->max_len : MAX_LEN;
    const drnn_constraint_spec spec = {
        .prefix = sc->prefix, .suffix = sc->suffix, .contains = sc->contains,
        .n_contains = n_contains, .exclude = sc->exclude, .pattern = sc->pattern,
        .min_len = sc->min_len, .max_len = max_len, .keep_case = st->hp.keep_case,
    };
    const int constrained = sc != &cases[0];
    drnn_constraint *c = NULL;
    drnn_error err;
    double t0 = now();
    if (constrained && drnn_constraint_compile(&c, &spec, &st->vocab, &err))
        cli_die(EXIT_RUNTIME, "%s: %s", sc->what, err.message);
    double t1 = now();
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = drnn_state_model(st, parts);
    drnn_search_options so = {.k = K, .min_len = 1, .max_len = max_len, .constraint = c};
    drnn_search_result res;
    if (drnn_search_best(&model, &so, &res, &err))
        cli_die(EXIT_RUNTIME, "%s: %s", sc->what, err.message);
    double t2 = now();
    int states = c ? drnn_constraint_states(c) : 0, classes = c ? drnn_constraint_classes(c) : 0;
    /* How close the pre-pass's floor came to the k-th answer's score. */
    double kth = res.count > 0 ? res.names[res.count - 1].logprob : 0;
    if (json) {
        printf("{\"constraints\":");
        cli_json_string(stdout, sc->what);
        printf(",\"compile_ms\":%.3f,\"search_ms\":%.3f,\"expanded\":%lld,\"search_mb\":%.2f,"
               "\"peak_rss_mb\":%.1f,\"states\":%d,\"classes\":%d,\"floor\":%.4f,"
               "\"last_logprob\":%.4f,\"names\":%d,\"exact\":%s}\n",
               1e3 * (t1 - t0), 1e3 * (t2 - t1), res.expanded, res.peak_bytes / 1e6,
               peak_rss_mb(), states, classes, res.floor, kth, res.count,
               res.exact ? "true" : "false");
    } else {
        char size[2][16] = {"-", "-"};
        if (c) {
            snprintf(size[0], sizeof size[0], "%d", states);
            snprintf(size[1], sizeof size[1], "%d", classes);
        }
        printf("| `%s` | %.1f | %.1f | %lld | %.1f | %.1f | %s | %s | %.2f | %.2f | %d%s |\n",
               sc->what, 1e3 * (t1 - t0), 1e3 * (t2 - t1), res.expanded, res.peak_bytes / 1e6,
               peak_rss_mb(), size[0], size[1], res.floor, kth, res.count,
               res.exact ? "" : " (not exact)");
    }
    drnn_search_result_free(&res);
    drnn_constraint_free(c);
    drnn_state_free(&state);
}

int bench_search(const char *checkpoint, int json)
{
    /* Loaded here once to refuse a bad checkpoint before any child runs. */
    drnn_train_state st;
    double t0 = now();
    const char *path = cli_load_checkpoint(checkpoint, &st);
    double loaded = now() - t0;
    drnn_state_free(&st);
    if (!json)
        printf("%s: loaded in %.0f ms; --best %d, names of at most %d symbols unless said; "
               "peak RSS: the child process's, the model loaded\n\n"
               "| constraints | compile ms | search ms | expanded | search MB | peak RSS MB "
               "| states | classes | floor | last | names |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
               path, 1e3 * loaded, K, MAX_LEN);
    for (int i = 0; i < N_CASES; i++) {
        fflush(stdout); /* nothing buffered twice */
        pid_t pid = fork();
        if (pid < 0)
            cli_die(EXIT_RUNTIME, "cannot start a process for '%s'", cases[i].what);
        if (pid == 0) {
            run_case(&cases[i], path, json);
            fflush(stdout);
            _exit(ferror(stdout) ? EXIT_RUNTIME : EXIT_OK);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            cli_die(EXIT_RUNTIME, "the search under '%s' failed (see above)", cases[i].what);
    }
    return EXIT_OK;
}
