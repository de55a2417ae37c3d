/* dinornn-bench: training speed of fixed configurations on a names file:
 * characters per second, seconds per epoch, achieved GFLOP/s (multiply-adds
 * of forward and backward counted from the shapes), and that as a fraction of
 * the machine's single-precision FMA peak, measured in the same run with the
 * vectors the kernels use. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"
#include "simd.h"

static const char *const prog = "dinornn-bench";

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
        cli_die(prog, EXIT_USAGE, "--threads: the list '%s' is too long", list);
    strcpy(buf, list);
    int n = 0;
    for (char *item = buf, *comma;; item = comma + 1) {
        comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (n == MAX_THREAD_COUNTS)
            cli_die(prog, EXIT_USAGE, "--threads: more than %d thread counts", MAX_THREAD_COUNTS);
        counts[n++] = (int)cli_int(prog, "--threads", item, 1, DRNN_MAX_THREADS);
        if (!comma)
            return n;
    }
}

static void usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Measure training speed of fixed configurations on a names file.\n\n"
           "  -d, --data=FILE       names to train on (default data/dinos.txt)\n"
           "      --config=LIST     configurations, comma-separated, from:\n",
           prog);
    for (int i = 0; i < N_CONFIGS; i++)
        printf("                          %s  %s\n", configs[i].name, configs[i].what);
    printf("                        (default all)\n"
           "  -j, --threads=LIST    thread counts, comma-separated (default 1,2)\n"
           "  -e, --epochs=N        epochs per measurement (default: per configuration)\n"
           "      --format=FORMAT   text (default) or json\n"
           "  -h, --help            display this help and exit\n");
}

typedef struct bench_options {
    const char *data, *config_list;
    int thread_counts[MAX_THREAD_COUNTS], n_thread_counts;
    int epochs, json;
} bench_options;

static void parse_options(bench_options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},    {"config", required_argument, NULL, 'C'},
        {"threads", required_argument, NULL, 'j'}, {"epochs", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'F'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const formats[] = {"text", "json", NULL};
    int c;
    while ((c = getopt_long(argc, argv, "d:j:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'C': o->config_list = optarg; break;
        case 'j': o->n_thread_counts = parse_thread_list(optarg, o->thread_counts); break;
        case 'e': o->epochs = (int)cli_int(prog, "--epochs", optarg, 1, 1000); break;
        case 'F': o->json = cli_choice(prog, "--format", optarg, formats); break;
        case 'h': usage(); exit(EXIT_OK);
        default: cli_usage_error(prog);
        }
    }
}

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
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    int n = o->epochs ? o->epochs : bc->epochs;
    int64_t chars = 0;
    double t0 = now();
    for (int e = 0; e < n; e++) {
        drnn_epoch_report rep;
        if (drnn_trainer_epoch(t, 0, NULL, &rep, &err))
            cli_die(prog, EXIT_RUNTIME, "%s", err.message);
        chars += rep.chars;
    }
    double dt = now() - t0, cps = (double)chars / dt;
    double gflops = cps * flops_per_char(&hp.model) / 1e9;
    if (o->json)
        printf("{\"config\":\"%s\",\"threads\":%d,\"chars_per_sec\":%.0f,\"sec_per_epoch\":%.3f,"
               "\"gflops\":%.2f,\"peak_gflops\":%.2f,\"peak_fraction\":%.3f,\"vector_floats\":%d}\n",
               bc->name, threads, cps, dt / n, gflops, peak, gflops / peak, DRNN_VL);
    else
        printf("  (%s) %-45s %9.0f chars/s  %6.2f s/epoch  %6.2f GFLOP/s  %5.1f%% of peak\n",
               bc->name, bc->what, cps, dt / n, gflops, 100 * gflops / peak);
    fflush(stdout);
    drnn_trainer_free(t);
    drnn_state_free(&st);
}

int main(int argc, char **argv)
{
    bench_options o = {.data = "data/dinos.txt", .config_list = "a,b,c,d,e",
                       .thread_counts = {1, 2}, .n_thread_counts = 2};
    parse_options(&o, argc, argv);
    drnn_error err;
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus all;
    if (drnn_names_load(&names, o.data, NULL, &err) || drnn_vocab_build(&vocab, &names, &err) ||
        drnn_corpus_encode(&all, &names, &vocab, 0, o.data, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    for (int tc = 0; tc < o.n_thread_counts; tc++) {
        int threads = o.thread_counts[tc];
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        double peak = fma_peak(threads);
        if (!o.json)
            printf("%d thread%s: FMA peak %.1f GFLOP/s (%d-float vectors, %s)\n", threads,
                   threads > 1 ? "s" : "", peak, DRNN_VL, DRNN_VEC_ISA);
        for (int i = 0; i < N_CONFIGS; i++)
            if (strstr(o.config_list, configs[i].name))
                bench_one(&o, &configs[i], &vocab, &all, threads, peak);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (!o.json)
        printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024);
    drnn_corpus_free(&all);
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
    cli_close_stdout(prog);
    return EXIT_OK;
}
