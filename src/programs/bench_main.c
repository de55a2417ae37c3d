/* dinornn-bench: training speed of fixed configurations on a names file:
 * characters per second, seconds per epoch, achieved GFLOP/s (multiply-adds
 * of forward and backward counted from the shapes), and that as a fraction of
 * the machine's single-precision FMA peak, measured in the same run with the
 * vectors the kernels use. With --search, the exact search under
 * constraints instead (bench_search.c). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_search.h"
#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"
#include "simd.h"

const char cli_program_name[] = "dinornn-bench";

typedef struct bench_config {
    const char *name, *what;
    drnn_cell_kind cell;
    int layers, hidden, batch;
    drnn_optimizer opt;
    double lr;
    drnn_clip_mode clip_mode;
    int epochs;
} bench_config;

static const bench_config configs[] = {
    {"a", "rnn 1x50, batch 1, SGD 0.01 (the numpy reference)", DRNN_CELL_RNN, 1, 50, 1,
     DRNN_OPT_SGD, 0.01, DRNN_CLIP_VALUE, 1},
    {"b", "rnn 2x128, batch 32, Adam 3e-3, clip 5", DRNN_CELL_RNN, 2, 128, 32, DRNN_OPT_ADAM,
     3e-3, DRNN_CLIP_NORM, 2},
    {"c", "rnn 3x256, batch 64, Adam", DRNN_CELL_RNN, 3, 256, 64, DRNN_OPT_ADAM, 2e-3,
     DRNN_CLIP_NORM, 1},
    {"d", "lstm 2x128, batch 32, Adam 3e-3, clip 5", DRNN_CELL_LSTM, 2, 128, 32, DRNN_OPT_ADAM,
     3e-3, DRNN_CLIP_NORM, 1},
    {"e", "gru 2x128, batch 32, Adam 3e-3, clip 5", DRNN_CELL_GRU, 2, 128, 32, DRNN_OPT_ADAM,
     3e-3, DRNN_CLIP_NORM, 1},
};
enum { N_CONFIGS = sizeof configs / sizeof configs[0] };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Multiply-adds per predicted character, forward and backward: every matrix
 * product is done once forward and twice backward (input and weight
 * gradients); layer 1's input is a row lookup and counts nothing. */
static double flops_per_char(const drnn_config *m)
{
    double G = drnn_cell_gates(m->cell), H = m->hidden, V = m->vocab, L = m->layers;
    double macs = L * G * H * H + (L - 1) * G * H * H + V * H;
    return 2 * 3 * macs;
}

/* Achieved single-precision FMA rate of `threads` threads: independent
 * chains of fused multiply-adds on the vectors the kernels use (simd.h:
 * DRNN_VL floats, the widest the build targets), kept in registers; 12
 * chains cover two FMA pipes of up to 6 cycles' latency. */
static double fma_peak(int threads)
{
    enum { CHAINS = 12 };
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        float sink = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : sink)
#endif
        {
            const drnn_vec x = vsplat(1.000001f), y = vsplat(0.999999f);
            drnn_vec a[CHAINS];
            for (int k = 0; k < CHAINS; k++)
                a[k] = vsplat((float)k);
            for (long i = 0; i < iters; i++)
                for (int k = 0; k < CHAINS; k++)
                    a[k] = vfma(a[k], x, y);
            for (int k = 0; k < CHAINS; k++)
                sink += vsum(a[k]);
        }
        double dt = now() - t0;
        double gflops = 2.0 * DRNN_VL * CHAINS * (double)iters * threads / dt / 1e9;
        if (gflops > best && sink != 0)
            best = gflops;
    }
    return best;
}

enum { MAX_THREAD_COUNTS = 32 };

/* "1,2,8": each count through the strict parser, so that "2x" or " 4" is
 * refused like any other bad number. */
static int parse_thread_list(const char *list, int *counts)
{
    char buf[256];
    if (strlen(list) >= sizeof buf)
        cli_die(EXIT_USAGE, "--threads: the list '%s' is too long", list);
    strcpy(buf, list);
    int n = 0;
    for (char *item = buf, *comma;; item = comma + 1) {
        comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (n == MAX_THREAD_COUNTS)
            cli_die(EXIT_USAGE, "--threads: more than %d thread counts", MAX_THREAD_COUNTS);
        counts[n++] = (int)cli_int("--threads", item, 1, DRNN_MAX_THREADS);
        if (!comma)
            return n;
    }
}

typedef struct bench_options {
    const char *data, *checkpoint;
    int thread_counts[MAX_THREAD_COUNTS], n_thread_counts;
    int run[N_CONFIGS]; /* by configuration: whether --config names it */
    int epochs, json, search;
    int training_set;   /* --data, --config, --threads or --epochs given */
} bench_options;

/* "a,c": each a configuration's name (a name "x" or "ab" ran nothing, or
 * two, in silence). */
static void set_configs(void *options, const char *list)
{
    bench_options *o = options;
    memset(o->run, 0, sizeof o->run);
    for (const char *item = list;;) {
        size_t len = strcspn(item, ",");
        int found = 0;
        for (int i = 0; i < N_CONFIGS; i++)
            if (len == strlen(configs[i].name) && strncmp(item, configs[i].name, len) == 0)
                found = o->run[i] = 1;
        if (!found) {
            char names[4 * N_CONFIGS] = "";
            for (int i = 0; i < N_CONFIGS; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         i ? ", " : "", configs[i].name);
            cli_die(EXIT_USAGE, "--config: '%.*s' is not a configuration: give some of %s, "
                    "separated by commas (--help says what each is)", (int)len, item, names);
        }
        if (!item[len])
            return;
        item += len + 1;
    }
}

static void set_thread_counts(void *options, const char *list)
{
    bench_options *o = options;
    o->n_thread_counts = parse_thread_list(list, o->thread_counts);
}

#define AT(field) offsetof(bench_options, field)

/* --config's help goes on with the list of configurations (usage). */
enum { CONFIG_ROW = 1 };

static void usage(const cli_table *t)
{
    printf("Usage: %s [OPTION]...\n"
           "  or:  %s --search [--checkpoint FILE] [--format FORMAT]\n"
           "Measure training speed of fixed configurations on a names file, or with\n"
           "--search the exact search (--best 10) under a fixed list of constraint sets.\n\n",
           cli_program_name, cli_program_name);
    const cli_table up_to_config = {t->rows, CONFIG_ROW + 1, NULL, NULL, NULL};
    const cli_table after_config = {t->rows + CONFIG_ROW + 1, t->count - CONFIG_ROW - 1, NULL,
                                    NULL, NULL};
    cli_print_options(&up_to_config, NULL);
    for (int i = 0; i < N_CONFIGS; i++)
        printf("%27s%s  %s\n", "", configs[i].name, configs[i].what);
    printf("%27s(default all)\n", "");
    cli_print_options(&after_config, NULL);
}

static const cli_option option_rows[] = {
    {.name = "data", .short_name = 'd', .arg = "FILE",
     .help = "names to train on (default data/dinos.txt)", .kind = CLI_TEXT, .offset = AT(data),
     .given = CLI_GIVEN(bench_options, training_set)},
    [CONFIG_ROW] = {.name = "config", .arg = "LIST",
                    .help = "configurations, comma-separated, from:", .kind = CLI_PARSE,
                    .parse = set_configs, .given = CLI_GIVEN(bench_options, training_set)},
    {.name = "threads", .short_name = 'j', .arg = "LIST",
     .help = "thread counts, comma-separated (default 1,2)", .kind = CLI_PARSE,
     .parse = set_thread_counts, .given = CLI_GIVEN(bench_options, training_set)},
    {.name = "epochs", .short_name = 'e', .arg = "N",
     .help = "epochs per measurement (default: per configuration)", .kind = CLI_INT,
     .offset = AT(epochs), .lo = 1, .hi = 1000, .given = CLI_GIVEN(bench_options, training_set)},
    {.name = "search", .help = "measure the search under constraints instead of\ntraining",
     .kind = CLI_FLAG, .offset = AT(search)},
    {.name = "checkpoint", .short_name = 'c', .arg = "FILE",
     .help = "--search's model (default checkpoints/best.ckpt,\nelse checkpoints/latest.ckpt)",
     .kind = CLI_TEXT, .offset = AT(checkpoint)},
    {.name = "format", .arg = "FORMAT", .help = "text (default) or json", .kind = CLI_CHOICE,
     .offset = AT(json), .choices = cli_formats},
    CLI_HELP_OPTION(NULL),
};
static const cli_table option_table = CLI_TABLE(option_rows, usage);

/* Trains one configuration for its epochs on all of the names and prints
 * its speed, against the FMA peak of this thread count. */
static void bench_one(const bench_options *o, const bench_config *bc, const drnn_vocab *vocab,
                      const drnn_corpus *all, int threads, double peak)
{
    drnn_error err;
    drnn_hparams hp;
    drnn_hparams_default(&hp);
    hp.model = (drnn_config){.vocab = vocab->size, .hidden = bc->hidden, .layers = bc->layers,
                             .cell = bc->cell};
    hp.members = 1;
    hp.batch = bc->batch;
    hp.optimizer = bc->opt;
    hp.lr = bc->lr;
    hp.clip_mode = bc->clip_mode;
    hp.clip = 5;
    /* The configurations have no regularisation, whatever the trainer's
     * defaults (the PyTorch mirror has none either). */
    hp.dropout = 0;
    hp.weight_decay = 0;
    drnn_train_state st;
    drnn_trainer *t;
    drnn_corpus none = {0};
    if (drnn_state_new(&st, &hp, vocab, 0, 0, o->data, &err) ||
        drnn_trainer_new(&t, &st, all, &none, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    int n = o->epochs ? o->epochs : bc->epochs;
    int64_t chars = 0;
    /* The steps' phases (drnn_epoch_report): what is neither gathering,
     * forward and BPTT, nor the update is the sum of the slots and the
     * threads' wait for the slowest. */
    double step = 0, gather = 0, compute = 0, sum = 0, wait = 0, update = 0;
    int used = threads;
    double t0 = now();
    for (int e = 0; e < n; e++) {
        drnn_epoch_report rep;
        if (drnn_trainer_epoch(t, 0, NULL, &rep, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        chars += rep.chars;
        step += rep.step_seconds, gather += rep.gather_seconds;
        compute += rep.compute_seconds, update += rep.update_seconds;
        sum += rep.sum_seconds, wait += rep.wait_seconds;
        used = rep.threads ? rep.threads : used;
    }
    double dt = now() - t0, cps = (double)chars / dt;
    double gflops = cps * flops_per_char(&hp.model) / 1e9;
    /* The figure: the sum of the slots and the wait, of a step. */
    double reduce = step > 0 ? (sum + wait) / step : 0;
    if (o->json)
        printf("{\"config\":\"%s\",\"threads\":%d,\"threads_used\":%d,\"chars_per_sec\":%.0f,"
               "\"sec_per_epoch\":%.3f,\"gflops\":%.2f,\"peak_gflops\":%.2f,"
               "\"peak_fraction\":%.3f,\"vector_floats\":%d,\"compute_fraction\":%.4f,"
               "\"reduce_wait_fraction\":%.4f,\"sum_fraction\":%.4f,\"wait_fraction\":%.4f,"
               "\"update_fraction\":%.4f,\"gather_fraction\":%.4f}\n",
               bc->name, threads, used, cps, dt / n, gflops, peak, gflops / peak, DRNN_VL,
               step > 0 ? compute / step : 0, reduce, step > 0 ? sum / step : 0,
               step > 0 ? wait / step : 0, step > 0 ? update / step : 0,
               step > 0 ? gather / step : 0);
    else
        printf("  (%s) %-45s %9.0f chars/s  %6.2f s/epoch  %6.2f GFLOP/s  %5.1f%% of peak\n"
               "      a step: forward+BPTT %.1f%%, sum of the slots %.1f%% + wait %.1f%%, "
               "update %.1f%%, gather %.1f%%; threads used at the end: %d\n",
               bc->name, bc->what, cps, dt / n, gflops, 100 * gflops / peak,
               step > 0 ? 100 * compute / step : 0, step > 0 ? 100 * sum / step : 0,
               step > 0 ? 100 * wait / step : 0, step > 0 ? 100 * update / step : 0,
               step > 0 ? 100 * gather / step : 0, used);
    fflush(stdout);
    drnn_trainer_free(t);
    drnn_state_free(&st);
}

/* Every configuration asked for, on this many threads. */
static void bench_threads(const bench_options *o, int threads, const drnn_vocab *vocab,
                          const drnn_corpus *all)
{
    cli_threads(threads, 1);
    double peak = fma_peak(threads);
    if (!o->json)
        printf("%d thread%s: FMA peak %.1f GFLOP/s (%d-float vectors, %s)\n", threads,
               threads > 1 ? "s" : "", peak, DRNN_VL, DRNN_VEC_ISA);
    for (int i = 0; i < N_CONFIGS; i++)
        if (o->run[i])
            bench_one(o, &configs[i], vocab, all, threads, peak);
}

static void print_peak_rss(const bench_options *o)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (!o->json)
        printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024);
}

int main(int argc, char **argv)
{
    bench_options o = {.data = NULL, .thread_counts = {1, 2}, .n_thread_counts = 2};
    for (int i = 0; i < N_CONFIGS; i++)
        o.run[i] = 1;
    int first = cli_parse(&option_table, &o, argc, argv);
    if (first < argc) {
        cli_message("unexpected argument '%s'", argv[first]);
        cli_usage_error();
    }
    if (o.search && o.training_set)
        cli_die(EXIT_USAGE, "--data, --config, --threads and --epochs measure training: they "
                "cannot be combined with --search");
    if (o.checkpoint && !o.search)
        cli_die(EXIT_USAGE, "--checkpoint is --search's model: give --search too");
    if (o.search) {
        cli_threads(1, 1); /* one thread, as dinornn-sample */
        int status = bench_search(o.checkpoint, o.json);
        cli_close_stdout();
        return status;
    }
    /* Every count checked against the OpenMP variables before any is measured. */
    for (int tc = 0; tc < o.n_thread_counts; tc++)
        cli_threads(o.thread_counts[tc], tc > 0);
    drnn_error err;
    drnn_vocab vocab = {0}; /* empty: built from the names */
    drnn_corpus all;
    if (drnn_corpus_load(&all, &vocab, NULL, o.data ? o.data : "data/dinos.txt", NULL, 0, &err))
        cli_die(EXIT_RUNTIME, "%s%s", err.message,
                o.data || err.code != DRNN_ERR_NOT_FOUND
                    ? "" : " (the default, in the source tree: run from there, or give --data FILE)");
    for (int tc = 0; tc < o.n_thread_counts; tc++)
        bench_threads(&o, o.thread_counts[tc], &vocab, &all);
    print_peak_rss(&o);
    drnn_corpus_free(&all);
    drnn_vocab_free(&vocab);
    cli_close_stdout();
    return EXIT_OK;
}
