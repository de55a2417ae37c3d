/* dinornn-train: trains a character-level RNN on a list of names, with
 * crash-safe checkpoints between epochs and exact resume. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "dinornn/sample.h"
#include "dinornn/train.h"

static const char *const prog = "dinornn-train";

#ifndef DRNN_PKGDATADIR
#define DRNN_PKGDATADIR "/usr/local/share/dinornn"
#endif

/* The only mutable global: set by the signal handler, read between mini-batches. */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    if (stop_signal && sig == SIGINT) {
        /* A second Ctrl-C: leave at once, without a checkpoint. */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    stop_signal = sig;
}

enum {
    OPT_LR = 256, OPT_OPTIMIZER, OPT_MOMENTUM, OPT_CLIP, OPT_CLIP_MODE, OPT_SCHEDULE,
    OPT_VAL_FRACTION, OPT_VAL_DATA, OPT_SAMPLES, OPT_LOG, OPT_FORCE, OPT_KEEP_CASE, OPT_CELL,
    OPT_DROPOUT, OPT_WEIGHT_DECAY, OPT_VERSION
};

/* Which settings the command line gave: on resume they must agree with the checkpoint. */
typedef struct options {
    drnn_hparams hp;
    const char *data, *val_data, *checkpoint_dir, *resume_file, *log;
    int resume, force, quiet, samples, threads;
    long long epochs;
    char given[OPT_VERSION + 1]; /* indexed by option code */
} options;

static void usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Train a character-level recurrent network on a list of names (one per line),\n"
           "writing checkpoints between epochs.\n\n"
           "Data:\n"
           "  -d, --data=FILE          names to learn (default: data/dinos.txt, else\n"
           "                           %s/dinos.txt)\n"
           "      --val-data=FILE      validation names from FILE instead of a split\n"
           "      --val-fraction=F     share of names held out for validation, 0 <= F <= 0.99\n"
           "                           (default 0.1)\n"
           "      --keep-case          do not lowercase the names\n\n"
           "Model:\n"
           "      --cell=CELL          recurrent cell: rnn (tanh), lstm or gru (default gru)\n"
           "  -l, --layers=N           stacked layers, 1..%d (default 2)\n"
           "  -H, --hidden=N           units per layer, 1..%d (default 128)\n\n"
           "Training:\n"
           "  -e, --epochs=N           epochs to reach, counting resumed ones (default 25)\n"
           "  -b, --batch=N            names per mini-batch, 1..%d (default 32)\n"
           "      --lr=X               learning rate, 1e-12 <= X <= 100 (default 0.003)\n"
           "      --optimizer=NAME     sgd, adagrad or adam (default adam)\n"
           "      --momentum=X         SGD momentum, 0 <= X <= 0.999 (default 0)\n"
           "      --dropout=P          dropout between layers and before the output,\n"
           "                           0 <= P <= 0.99 (default 0.3)\n"
           "      --weight-decay=X     decoupled (AdamW) for adam, L2 otherwise (default 0)\n"
           "      --schedule=NAME      constant, step (halve every 10 epochs) or cosine\n"
           "                           (down to 0 over --epochs) (default constant)\n"
           "      --clip=X             gradient clipping bound, 0 = none (default 5)\n"
           "      --clip-mode=MODE     norm (global norm) or value (each element)\n"
           "                           (default norm)\n"
           "  -s, --seed=N             seed of initialisation, split and shuffles (default 1)\n"
           "  -j, --threads=N          OpenMP threads (default: OMP_NUM_THREADS or all cores)\n\n"
           "Checkpoints and output:\n"
           "  -c, --checkpoint-dir=DIR where latest.ckpt and best.ckpt go\n"
           "                           (default checkpoints)\n"
           "  -r, --resume[=FILE]      continue from FILE (default DIR/latest.ckpt) with\n"
           "                           its settings\n"
           "      --force              resume even if the data differs from the checkpoint's\n"
           "      --samples=N          names sampled after each epoch (default 5)\n"
           "      --log=FILE           append each epoch's figures to FILE as JSON lines\n"
           "  -q, --quiet              print nothing but errors\n"
           "  -h, --help               display this help and exit\n"
           "      --version            output version information and exit\n\n"
           "Losses are mean nats per predicted character (the end of a name counts as one).\n"
           "On SIGINT or SIGTERM the current mini-batch is finished, a checkpoint written,\n"
           "and the run can go on with --resume; a second Ctrl-C stops at once.\n\n"
           "Exit status: 0 success, 1 runtime failure (data, checkpoint, I/O, divergence),\n"
           "2 bad usage, 128+N interrupted by signal N (checkpoint written).\n",
           prog, DRNN_PKGDATADIR, DRNN_MAX_LAYERS, DRNN_MAX_HIDDEN, DRNN_MAX_BATCH);
}

static void version(void)
{
    printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
}

static void parse_options(options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"val-data", required_argument, NULL, OPT_VAL_DATA},
        {"val-fraction", required_argument, NULL, OPT_VAL_FRACTION},
        {"keep-case", no_argument, NULL, OPT_KEEP_CASE},
        {"cell", required_argument, NULL, OPT_CELL},
        {"dropout", required_argument, NULL, OPT_DROPOUT},
        {"weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY},
        {"layers", required_argument, NULL, 'l'},
        {"hidden", required_argument, NULL, 'H'},
        {"epochs", required_argument, NULL, 'e'},
        {"batch", required_argument, NULL, 'b'},
        {"lr", required_argument, NULL, OPT_LR},
        {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
        {"momentum", required_argument, NULL, OPT_MOMENTUM},
        {"schedule", required_argument, NULL, OPT_SCHEDULE},
        {"clip", required_argument, NULL, OPT_CLIP},
        {"clip-mode", required_argument, NULL, OPT_CLIP_MODE},
        {"seed", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'j'},
        {"checkpoint-dir", required_argument, NULL, 'c'},
        {"resume", optional_argument, NULL, 'r'},
        {"force", no_argument, NULL, OPT_FORCE},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"log", required_argument, NULL, OPT_LOG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    static const char *const optimizers[] = {"sgd", "adagrad", "adam", NULL};
    static const char *const clip_modes[] = {"norm", "value", NULL};
    static const char *const schedules[] = {"constant", "step", "cosine", NULL};
    static const char *const cells[] = {"rnn", "lstm", "gru", NULL};
    drnn_hparams *hp = &o->hp;
    int c;
    while ((c = getopt_long(argc, argv, "d:l:H:e:b:s:j:c:r::qh", longopts, NULL)) != -1) {
        if (c >= 0 && c <= OPT_VERSION)
            o->given[c] = 1;
        switch (c) {
        case 'd': o->data = optarg; break;
        case OPT_VAL_DATA: o->val_data = optarg; break;
        case OPT_VAL_FRACTION:
            hp->val_fraction = cli_real(prog, "--val-fraction", optarg, 0, 0.99, 0);
            break;
        case OPT_KEEP_CASE: hp->keep_case = 1; break;
        case OPT_CELL: hp->model.cell = (drnn_cell_kind)cli_choice(prog, "--cell", optarg, cells); break;
        case 'l': hp->model.layers = (int)cli_int(prog, "--layers", optarg, 1, DRNN_MAX_LAYERS); break;
        case 'H': hp->model.hidden = (int)cli_int(prog, "--hidden", optarg, 1, DRNN_MAX_HIDDEN); break;
        case 'e': o->epochs = cli_int(prog, "--epochs", optarg, 1, 1000000); break;
        case 'b': hp->batch = (int)cli_int(prog, "--batch", optarg, 1, DRNN_MAX_BATCH); break;
        case OPT_LR: /* 1e-12: the library's floor, below which no weight would move */
            hp->lr = cli_real(prog, "--lr", optarg, 1e-12, 100, 0);
            break;
        case OPT_OPTIMIZER:
            hp->optimizer = (drnn_optimizer)cli_choice(prog, "--optimizer", optarg, optimizers);
            break;
        case OPT_MOMENTUM: hp->momentum = cli_real(prog, "--momentum", optarg, 0, 0.999, 0); break;
        case OPT_DROPOUT: hp->dropout = cli_real(prog, "--dropout", optarg, 0, 0.99, 0); break;
        case OPT_WEIGHT_DECAY:
            hp->weight_decay = cli_real(prog, "--weight-decay", optarg, 0, 10, 0);
            break;
        case OPT_SCHEDULE:
            hp->schedule = (drnn_schedule)cli_choice(prog, "--schedule", optarg, schedules);
            break;
        case OPT_CLIP: hp->clip = cli_real(prog, "--clip", optarg, 0, 1e6, 0); break;
        case OPT_CLIP_MODE:
            hp->clip_mode = (drnn_clip_mode)cli_choice(prog, "--clip-mode", optarg, clip_modes);
            break;
        case 's': hp->seed = cli_u64(prog, "--seed", optarg); break;
        case 'j': o->threads = (int)cli_int(prog, "--threads", optarg, 1, DRNN_MAX_THREADS); break;
        case 'c': o->checkpoint_dir = optarg; break;
        case 'r':
            o->resume = 1;
            o->resume_file = optarg;
            break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_SAMPLES: o->samples = (int)cli_int(prog, "--samples", optarg, 0, 1000); break;
        case OPT_LOG: o->log = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        case OPT_VERSION: version(); exit(EXIT_OK);
        default: cli_usage_error(prog);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
        cli_usage_error(prog);
    }
    /* (On resume the checkpoint's optimizer counts, and --momentum must
     * match its value anyway.) */
    if (hp->momentum > 0 && hp->optimizer != DRNN_OPT_SGD && !o->resume && !o->quiet)
        fprintf(stderr, "%s: warning: --momentum applies to --optimizer sgd only; ignored with %s\n",
                prog, drnn_optimizer_name(hp->optimizer));
}

/* On resume, every setting the command line gave must match the checkpoint's. */
static void check_resume_options(const options *o, const drnn_hparams *ck, const char *path)
{
    const drnn_hparams *hp = &o->hp;
    struct {
        int code;
        const char *name;
        int differs;
    } checks[] = {
        {'l', "--layers", hp->model.layers != ck->model.layers},
        {'H', "--hidden", hp->model.hidden != ck->model.hidden},
        {OPT_CELL, "--cell", hp->model.cell != ck->model.cell},
        {'b', "--batch", hp->batch != ck->batch},
        {OPT_LR, "--lr", hp->lr != ck->lr},
        {OPT_OPTIMIZER, "--optimizer", hp->optimizer != ck->optimizer},
        {OPT_MOMENTUM, "--momentum", hp->momentum != ck->momentum},
        {OPT_DROPOUT, "--dropout", hp->dropout != ck->dropout},
        {OPT_WEIGHT_DECAY, "--weight-decay", hp->weight_decay != ck->weight_decay},
        {OPT_SCHEDULE, "--schedule", hp->schedule != ck->schedule},
        {OPT_CLIP, "--clip", hp->clip != ck->clip},
        {OPT_CLIP_MODE, "--clip-mode", hp->clip_mode != ck->clip_mode},
        {'s', "--seed", hp->seed != ck->seed},
        {OPT_VAL_FRACTION, "--val-fraction", hp->val_fraction != ck->val_fraction},
        {OPT_KEEP_CASE, "--keep-case", hp->keep_case != ck->keep_case},
        {OPT_VAL_DATA, "--val-data", !ck->has_val_file},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (o->given[checks[i].code] && checks[i].differs)
            cli_die(prog, EXIT_USAGE,
                    "%s contradicts the checkpoint %s, which was trained with other settings; "
                    "resume without it, or start a new run in another --checkpoint-dir",
                    checks[i].name, path);
    if (ck->has_val_file && !o->val_data)
        cli_die(prog, EXIT_USAGE,
                "the checkpoint %s was validated on its own file: give it again with --val-data",
                path);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int make_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? 0 : (errno = ENOTDIR, -1);
    return mkdir(dir, 0777);
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (!p)
        cli_die(prog, EXIT_RUNTIME, "out of memory");
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static int longest(const drnn_corpus *c)
{
    int n = 0;
    for (size_t i = 0; i < c->count; i++)
        if (drnn_corpus_len(c, i) > n)
            n = drnn_corpus_len(c, i);
    return n;
}

/* A model too big for the machine is refused before its weights are
 * initialised, instead of failing or swapping minutes into the run. */
static void check_memory(const drnn_hparams *hp, int vocab, const drnn_corpus *train,
                         const drnn_corpus *val, int threads)
{
    drnn_hparams h = *hp;
    h.model.vocab = vocab;
    int max_len = longest(train) > longest(val) ? longest(train) : longest(val);
    drnn_memory m;
    drnn_train_memory(&m, &h, max_len, train->count, threads);
    const char *what;
    double limit = cli_memory_limit(&what);
    if (limit <= 0 || m.total <= limit)
        return;
    char total[32], state[32], grads[32], work[32], have[32];
    cli_size(m.total, total, sizeof total);
    cli_size(m.state, state, sizeof state);
    cli_size(m.gradients, grads, sizeof grads);
    cli_size(m.workspaces, work, sizeof work);
    cli_size(limit, have, sizeof have);
    cli_die(prog, EXIT_RUNTIME,
            "training a %s %dx%d model needs %s of memory (%s of weights and optimizer "
            "moments and as much again to write a checkpoint, %s of gradients, %s of "
            "workspaces for batch %d and names of up to %d symbols), more than %s (%s): "
            "lower --hidden, --layers or --batch",
            drnn_cell_name(h.model.cell), h.model.layers, h.model.hidden, total, state, grads,
            work, h.batch, max_len, what, have);
}

/* A few names from the current weights, marking copies of training names.
 * Their generator depends only on the seed and the epoch, so showing samples
 * never changes training. */
static void print_samples(const drnn_train_state *st, const drnn_corpus *train, int count)
{
    drnn_stepper *stepper;
    drnn_error err;
    if (count <= 0 || drnn_stepper_new(&stepper, &st->hp.model, &err))
        return;
    drnn_rng rng;
    drnn_rng_seed(&rng, st->hp.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)st->epoch);
    drnn_sample_options sopt = {.temperature = 1.0, .top_k = 0, .max_len = 40};
    drnn_token tokens[40];
    char text[4 * 40 + 1];
    int novel = 0;
    printf("  samples:");
    for (int i = 0; i < count; i++) {
        int n = drnn_sample_name(&st->weights, stepper, &rng, &sopt, NULL, 0, tokens);
        int copy = drnn_corpus_contains(train, tokens, n);
        novel += !copy;
        drnn_vocab_decode(&st->vocab, tokens, n, !st->hp.keep_case, text, sizeof text);
        printf("%s %s%s", i ? "," : "", text, copy ? " (copy)" : "");
    }
    printf("  [%d of %d novel]\n", novel, count);
    drnn_stepper_free(stepper);
}

/* One line on stderr, redrawn in place: names done, speed, time left. */
static void draw_progress(const drnn_train_state *st, size_t names, long long epochs,
                          int64_t chars, int64_t done, double seconds)
{
    enum { WIDTH = 30 };
    double frac = names ? (double)st->epoch_pos / (double)names : 0;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < (int)(frac * WIDTH) ? '#' : '.';
    bar[WIDTH] = '\0';
    double left = done > 0 ? seconds * (double)((int64_t)names - st->epoch_pos) / (double)done : 0;
    fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%zu names  %.0f chars/s  %.1f s left",
            (long long)st->epoch + 1, epochs, bar, (long long)st->epoch_pos, names,
            seconds > 0 ? (double)chars / seconds : 0, left);
    fflush(stderr);
}

static void save_or_die(const drnn_train_state *st, const char *path)
{
    drnn_error err;
    if (drnn_checkpoint_save(st, path, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    drnn_hparams_default(&o.hp);
    o.epochs = 25;
    o.samples = 5;
    o.checkpoint_dir = "checkpoints";
    parse_options(&o, argc, argv);
    int threads = cli_threads(prog, o.threads, o.quiet);

    drnn_error err;
    drnn_train_state st;
    char *latest = join_path(o.checkpoint_dir, "latest.ckpt");
    char *best = join_path(o.checkpoint_dir, "best.ckpt");
    const char *resume_path = o.resume_file ? o.resume_file : latest;
    const char *data_path = o.data;

    if (o.resume) {
        if (drnn_checkpoint_load(&st, resume_path, &err))
            cli_die(prog, EXIT_RUNTIME, "%s%s", err.message,
                    err.code == DRNN_ERR_NOT_FOUND ? " (nothing to resume: start without --resume)"
                                                   : "");
        check_resume_options(&o, &st.hp, resume_path);
        if (!data_path)
            data_path = st.data_path;
    } else if (!data_path) {
        data_path = access("data/dinos.txt", F_OK) == 0 ? "data/dinos.txt"
                                                         : DRNN_PKGDATADIR "/dinos.txt";
    }

    /* The names straight into tokens (no copy of them as code points), their
     * vocabulary, and the train/validation corpora. */
    const drnn_hparams *hpp = o.resume ? &st.hp : &o.hp;
    drnn_names_options nopt = {.keep_case = hpp->keep_case};
    drnn_vocab vocab;
    drnn_corpus train, val;
    uint64_t fingerprint = 0, val_fingerprint = 0;
    memset(&vocab, 0, sizeof vocab);
    memset(&val, 0, sizeof val);
    if (o.resume)
        vocab = st.vocab;
    /* On resume a symbol outside the model's vocabulary is reported after
     * the check that the data is the one trained on, which explains it. */
    drnn_error data_err;
    int data_rc = drnn_corpus_load(&train, &vocab, &fingerprint, data_path, &nopt, 0, &data_err);
    if (data_rc && !(o.resume && data_rc == DRNN_ERR_UNKNOWN_SYMBOL))
        cli_die(prog, EXIT_RUNTIME, "%s", data_err.message);
    if (o.val_data) {
        drnn_vocab train_vocab = vocab;
        if (drnn_corpus_load(&val, &train_vocab, &val_fingerprint, o.val_data, &nopt, 1, &err))
            cli_die(prog, EXIT_RUNTIME, "%s", err.message);
        /* Without one validation name "best" would silently mean best on
         * the training data: refused, as dinornn-eval refuses an empty file. */
        if (val.count == 0)
            cli_die(prog, EXIT_RUNTIME,
                    "%s: no usable validation names: all %zu have symbols that are not in %s "
                    "(the first on line %ld); give a validation file written in the training "
                    "data's alphabet",
                    o.val_data, val.skipped, data_path, val.first_skipped_line);
        if (val.skipped && !o.quiet)
            fprintf(stderr, "%s: %s: %zu names with symbols not in %s skipped (first on line %ld)\n",
                    prog, o.val_data, val.skipped, data_path, val.first_skipped_line);
    }
    if (o.resume &&
        (fingerprint != st.data_fingerprint || val_fingerprint != st.val_fingerprint) && !o.force)
        cli_die(prog, EXIT_RUNTIME,
                "%s holds other names than the data %s was trained on (%s); "
                "use --force to continue on this data anyway",
                fingerprint != st.data_fingerprint ? data_path : o.val_data, resume_path,
                st.data_path);
    if (data_rc)
        cli_die(prog, EXIT_RUNTIME, "%s", data_err.message);
    if (!o.val_data) {
        /* The held-out names are taken out of the loaded ones in place. */
        size_t *ti, *vi, nt, nv;
        if (drnn_split(train.count, hpp->val_fraction, hpp->seed, &ti, &nt, &vi, &nv, &err))
            cli_die(prog, EXIT_RUNTIME, "%s", err.message);
        free(ti);
        if (drnn_corpus_extract(&train, vi, nv, &val, &err))
            cli_die(prog, EXIT_RUNTIME, "%s", err.message);
        free(vi);
    }

    check_memory(o.resume ? &st.hp : &o.hp, vocab.size, &train, &val, threads);
    if (!o.resume) {
        o.hp.has_val_file = o.val_data != NULL;
        if (o.hp.schedule == DRNN_SCHED_COSINE)
            o.hp.cosine_epochs = (int)o.epochs;
        /* The checkpoint records the data's absolute path, so that --resume
         * finds it from any directory. */
        char *absolute = realpath(data_path, NULL);
        int rc = drnn_state_new(&st, &o.hp, &vocab, fingerprint, val_fingerprint,
                                absolute ? absolute : data_path, &err);
        free(absolute);
        if (rc) /* out of memory is no usage error */
            cli_die(prog, rc == DRNN_ERR_NOMEM ? EXIT_RUNTIME : EXIT_USAGE, "%s", err.message);
    }
    drnn_trainer *trainer;
    if (drnn_trainer_new(&trainer, &st, &train, &val, &err))
        cli_die(prog, EXIT_RUNTIME, "%s: %s", o.resume ? resume_path : data_path, err.message);
    if (make_dir(o.checkpoint_dir) != 0)
        cli_die(prog, EXIT_RUNTIME, "cannot create checkpoint directory %s: %s", o.checkpoint_dir,
                strerror(errno));
    int stale = drnn_checkpoint_remove_stale(latest) + drnn_checkpoint_remove_stale(best);
    if (stale > 0 && !o.quiet)
        fprintf(stderr, "%s: removed %d unfinished checkpoint file%s left in %s by an interrupted write\n",
                prog, stale, stale == 1 ? "" : "s", o.checkpoint_dir);
    FILE *log = NULL;
    if (o.log && !(log = fopen(o.log, "a")))
        cli_die(prog, EXIT_RUNTIME, "cannot open log %s: %s", o.log, strerror(errno));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A file-size limit must fail the write (EFBIG), not kill us mid-save. */
    signal(SIGXFSZ, SIG_IGN);

    if (!o.quiet) {
        printf("%s: %zu training names, %zu validation, vocabulary %d; %s %dx%d, dropout %g, "
               "%zu parameters; %s lr %g, batch %d; %d thread%s\n",
               data_path, train.count, val.count, st.vocab.size, drnn_cell_name(st.hp.model.cell),
               st.hp.model.layers, st.hp.model.hidden, st.hp.dropout, st.weights.count,
               drnn_optimizer_name(st.hp.optimizer), st.hp.lr, st.hp.batch, threads,
               threads == 1 ? "" : "s");
        if (o.resume)
            printf("resuming from %s at epoch %lld%s\n", resume_path, (long long)st.epoch,
                   st.epoch_pos ? " (part way through)" : "");
        fflush(stdout);
    }
    if (st.hp.schedule == DRNN_SCHED_COSINE && o.epochs > st.hp.cosine_epochs)
        fprintf(stderr,
                "%s: warning: the cosine schedule was planned for %d epochs; epochs after it "
                "train at the final learning rate %g\n",
                prog, st.hp.cosine_epochs, st.hp.lr_min);
    if (st.epoch >= o.epochs && !o.quiet)
        printf("the checkpoint has already reached epoch %lld of %lld: nothing to do (raise --epochs)\n",
               (long long)st.epoch, o.epochs);

    double start = now_seconds();
    int status = EXIT_OK;
    /* A live progress line only on a terminal: logs stay clean. */
    const int bar = !o.quiet && isatty(STDERR_FILENO);
    while (st.epoch < o.epochs) {
        double t0 = now_seconds(), drawn = t0;
        int64_t pos0 = st.epoch_pos;
        drnn_epoch_report rep, part;
        memset(&rep, 0, sizeof rep);
        /* The epoch in chunks of a few mini-batches, so that the bar can
         * move; the state carries everything, so results do not change. */
        do {
            if (drnn_trainer_epoch(trainer, bar ? 4 : 0, &stop_signal, &part, &err))
                cli_die(prog, EXIT_RUNTIME, "%s; no checkpoint was written from this state",
                        err.message);
            rep.chars += part.chars;
            double t = now_seconds();
            if (bar && !part.finished && t - drawn >= 0.1) {
                draw_progress(&st, train.count, o.epochs, rep.chars, st.epoch_pos - pos0, t - t0);
                drawn = t;
            }
        } while (!part.finished && !stop_signal);
        if (bar)
            fputs("\r\033[K", stderr);
        rep.finished = part.finished;
        rep.train_loss = part.train_loss;
        rep.val_loss = part.val_loss;
        rep.improved = part.improved;
        double dt = now_seconds() - t0;
        if (!rep.finished) {
            save_or_die(&st, latest);
            /* The exact command that continues: the directory and the
             * validation file are the two things a checkpoint cannot supply. */
            int other_dir = strcmp(o.checkpoint_dir, "checkpoints") != 0;
            fprintf(stderr,
                    "%s: interrupted by %s during epoch %lld (%lld of %zu names done); "
                    "checkpoint written to %s\n"
                    "%s: continue with: %s --resume%s%s%s%s --epochs %lld\n",
                    prog, stop_signal == SIGINT ? "SIGINT" : "SIGTERM", (long long)st.epoch + 1,
                    (long long)st.epoch_pos, train.count, latest, prog, prog,
                    other_dir ? " --checkpoint-dir=" : "", other_dir ? o.checkpoint_dir : "",
                    o.val_data ? " --val-data=" : "", o.val_data ? o.val_data : "", o.epochs);
            status = 128 + stop_signal;
            break;
        }
        save_or_die(&st, latest);
        if (rep.improved)
            save_or_die(&st, best);
        double cps = dt > 0 ? (double)rep.chars / dt : 0;
        if (!o.quiet) {
            printf("epoch %lld/%lld  train %.4f  val %.4f%s  %.0f chars/s  %.2f s  [%d thread%s]\n",
                   (long long)st.epoch, o.epochs, rep.train_loss, rep.val_loss,
                   rep.improved ? " *best" : "", cps, dt, threads, threads == 1 ? "" : "s");
            print_samples(&st, &train, o.samples);
            fflush(stdout);
        }
        if (log) {
            char val_text[32] = "null"; /* JSON has no NaN */
            if (!isnan(rep.val_loss))
                snprintf(val_text, sizeof val_text, "%.6f", rep.val_loss);
            fprintf(log,
                    "{\"epoch\":%lld,\"train_loss\":%.6f,\"val_loss\":%s,\"chars_per_sec\":%.1f,"
                    "\"seconds\":%.3f,\"lr\":%g,\"threads\":%d}\n",
                    (long long)st.epoch, rep.train_loss, val_text, cps, now_seconds() - start,
                    drnn_learning_rate(&st.hp, st.epoch - 1), threads);
            fflush(log);
        }
    }
    if (status == EXIT_OK && !o.quiet && st.best_epoch >= 0)
        printf("best %s loss %.4f at epoch %lld, saved in %s; total %.1f s\n",
               val.count ? "validation" : "training", st.best_val_loss, (long long)st.best_epoch,
               best, now_seconds() - start);
    if (log && fclose(log) != 0)
        cli_die(prog, EXIT_RUNTIME, "cannot write log %s: %s", o.log, strerror(errno));

    drnn_trainer_free(trainer);
    drnn_corpus_free(&train);
    drnn_corpus_free(&val);
    drnn_state_free(&st);
    free(latest);
    free(best);
    return status;
}
