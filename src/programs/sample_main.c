/* dinornn-sample: names from a trained model: random, from a prefix, the
 * most likely ones (an exact search), only novel ones, or the score of a name. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"

static const char *const prog = "dinornn-sample";

enum {
    OPT_MAX_LENGTH = 256, OPT_MIN_LENGTH, OPT_BEST, OPT_MAX_EXPANSIONS, OPT_NOVEL, OPT_SCORE,
    OPT_FORMAT, OPT_DATA, OPT_VERSION
};

typedef struct options {
    const char *checkpoint, *prefix, *data;
    long long count, max_expansions;
    drnn_sample_options sample;
    uint64_t seed;
    int best, novel, score, json;
    int sampling_set;   /* --count, --temperature or --top-k given */
} options;

static void usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "  or:  %s --score [OPTION]... NAME...\n"
           "Generate names with a model trained by dinornn-train, or score names under it.\n\n"
           "  -c, --checkpoint=FILE    model to use (default checkpoints/best.ckpt, else\n"
           "                           checkpoints/latest.ckpt)\n"
           "  -n, --count=N            names to generate, 1..1000000 (default 10)\n"
           "  -p, --prefix=STR         names start with STR; the model continues it\n"
           "  -t, --temperature=T      randomness, T >= 0; 0 always takes the most likely\n"
           "                           symbol (default 1)\n"
           "  -k, --top-k=K            draw among the K most likely symbols only, K >= 1\n"
           "                           (default: all)\n"
           "  -s, --seed=N             seed of the random draws (default 1)\n"
           "      --min-length=N       shortest name, prefix included (default 1)\n"
           "      --max-length=N       longest name, prefix included, 1..%d (default 32)\n"
           "      --best=K             exactly the K most likely complete names, with their\n"
           "                           log-probabilities, 1..%d\n"
           "      --max-expansions=N   bound on --best's work: partial names extended\n"
           "                           (default %lld; memory: 1 GiB); past it, the names\n"
           "                           not proven best are marked as such\n"
           "      --novel              only names that are not in the training data\n"
           "      --data=FILE          the training names for --novel (default: the file\n"
           "                           recorded in the checkpoint)\n"
           "      --score              print the log-probability of each NAME\n"
           "      --format=FORMAT      text (default) or json (one object per line)\n"
           "  -h, --help               display this help and exit\n"
           "      --version            output version information and exit\n\n"
           "Log-probabilities are natural logarithms of the whole name, its end included;\n"
           "nats per character divide by its length plus one. --best searches every name\n"
           "that fits the prefix and the lengths, most likely first, so its answer is\n"
           "exact unless the bound stops it (then it says so); equal log-probabilities go\n"
           "to the shorter name, then in the order of the model's symbols.\n\n"
           "Examples:\n"
           "  %s --prefix tyr --count 5\n"
           "  %s --prefix tyr --best 5\n"
           "  %s --score Tyrannosaurus Velociraptor\n\n"
           "Exit status: 0 success, 1 runtime failure (checkpoint, data), 2 bad usage.\n",
           prog, prog, DRNN_MAX_NAME_LEN, DRNN_MAX_BEST, DRNN_SEARCH_EXPANSIONS, prog, prog, prog);
}

static void parse_options(options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"checkpoint", required_argument, NULL, 'c'},
        {"count", required_argument, NULL, 'n'},
        {"prefix", required_argument, NULL, 'p'},
        {"temperature", required_argument, NULL, 't'},
        {"top-k", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"min-length", required_argument, NULL, OPT_MIN_LENGTH},
        {"max-length", required_argument, NULL, OPT_MAX_LENGTH},
        {"best", required_argument, NULL, OPT_BEST},
        {"max-expansions", required_argument, NULL, OPT_MAX_EXPANSIONS},
        {"novel", no_argument, NULL, OPT_NOVEL},
        {"data", required_argument, NULL, OPT_DATA},
        {"score", no_argument, NULL, OPT_SCORE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    static const char *const formats[] = {"text", "json", NULL};
    int c;
    while ((c = getopt_long(argc, argv, "c:n:p:t:k:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->checkpoint = optarg; break;
        case 'n':
            o->count = cli_int(prog, "--count", optarg, 1, 1000000);
            o->sampling_set = 1;
            break;
        case 'p': o->prefix = optarg; break;
        case 't':
            o->sample.temperature = cli_real(prog, "--temperature", optarg, 0, 1e6, 0);
            o->sampling_set = 1;
            break;
        case 'k':
            o->sample.top_k = (int)cli_int(prog, "--top-k", optarg, 1, DRNN_MAX_VOCAB);
            o->sampling_set = 1;
            break;
        case 's': o->seed = cli_u64(prog, "--seed", optarg); break;
        case OPT_MAX_LENGTH:
            o->sample.max_len = (int)cli_int(prog, "--max-length", optarg, 1, DRNN_MAX_NAME_LEN);
            break;
        case OPT_MIN_LENGTH:
            o->sample.min_len = (int)cli_int(prog, "--min-length", optarg, 1, DRNN_MAX_NAME_LEN);
            break;
        case OPT_BEST: o->best = (int)cli_int(prog, "--best", optarg, 1, DRNN_MAX_BEST); break;
        case OPT_MAX_EXPANSIONS:
            o->max_expansions = cli_int(prog, "--max-expansions", optarg, 1, 1000000000000LL);
            break;
        case OPT_NOVEL: o->novel = 1; break;
        case OPT_DATA: o->data = optarg; break;
        case OPT_SCORE: o->score = 1; break;
        case OPT_FORMAT: o->json = cli_choice(prog, "--format", optarg, formats); break;
        case 'h': usage(); cli_close_stdout(prog); exit(EXIT_OK);
        case OPT_VERSION:
            printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
            cli_close_stdout(prog);
            exit(EXIT_OK);
        default: cli_usage_error(prog);
        }
    }
    if (o->score && optind == argc)
        cli_die(prog, EXIT_USAGE, "--score needs at least one NAME");
    if (!o->score && optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (names to score need --score)\n", prog,
                argv[optind]);
        cli_usage_error(prog);
    }
    if (o->score && (o->best || o->novel || o->prefix))
        cli_die(prog, EXIT_USAGE, "--score cannot be combined with --best, --novel or --prefix");
    if (o->best && o->sampling_set)
        fprintf(stderr, "%s: warning: --count, --temperature and --top-k do not apply to --best "
                "(an exact search); ignored\n", prog);
    if (o->max_expansions && !o->best)
        fprintf(stderr, "%s: warning: --max-expansions applies to --best only; ignored\n", prog);
    if (o->sample.min_len > o->sample.max_len)
        cli_die(prog, EXIT_USAGE, "--min-length %d is above --max-length %d", o->sample.min_len,
                o->sample.max_len);
}

/* The training names, for --novel: tokens of every name in the file. */
static void load_known(const options *o, const drnn_train_state *st, const char *ckpt,
                       drnn_names *names, drnn_corpus *known, drnn_name_set **set)
{
    drnn_error err;
    const char *path = o->data ? o->data : st->data_path;
    drnn_names_options nopt = {.keep_case = st->hp.keep_case};
    if (drnn_names_load(names, path, &nopt, &err))
        cli_die(prog, EXIT_RUNTIME, "%s (--novel needs the training names: give --data FILE)",
                err.message);
    const drnn_data_read read = {.path = path, .fingerprint = drnn_names_fingerprint(names)};
    if (drnn_rundir_check_data(st, ckpt, &read, NULL, &err))
        fprintf(stderr, "%s: warning: %s is not the data %s was trained on\n", prog, path, ckpt);
    /* Names with unknown symbols can never be generated: leaving them out is exact. */
    if (drnn_corpus_encode(known, names, &st->vocab, 1, path, &err) ||
        drnn_name_set_new(set, known, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
}

/* One name; with its log-probability when logprob is given, and in JSON
 * whether it is proven among the most likely when exact >= 0. */
static void print_name(const options *o, const drnn_train_state *st, const drnn_token *t, int n,
                       const double *logprob, int exact)
{
    char text[4 * DRNN_MAX_NAME_LEN + 1];
    drnn_vocab_decode(&st->vocab, t, n, !st->hp.keep_case, text, sizeof text);
    if (o->json) {
        fputs("{\"name\":", stdout);
        cli_json_string(stdout, text);
        char num[32];
        if (logprob)
            printf(",\"logprob\":%s", cli_json_number(num, sizeof num, *logprob));
        if (exact >= 0)
            printf(",\"exact\":%s", exact ? "true" : "false");
        puts("}");
    } else if (logprob) {
        printf("%s\t%.4f\n", text, *logprob);
    } else {
        puts(text);
    }
    cli_check_stdout(prog); /* no more names once the output is gone */
}

static int score_names(const options *o, const drnn_train_state *st, char **names, int n)
{
    drnn_scratch *scratch;
    drnn_stepper *stepper;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_params model = drnn_state_model(st, parts);
    if (drnn_scratch_new(&scratch, &st->hp.model, DRNN_MAX_NAME_LEN, &err) ||
        drnn_stepper_new_for(&stepper, &model, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    for (int i = 0; i < n; i++) {
        drnn_token t[DRNN_MAX_NAME_LEN];
        int len = cli_encode(prog, names[i], names[i], st, t);
        /* A plain model's through the training loss, bit for bit; a
         * mixture's through the stepper. */
        double logprob = model.mixture > 1 ? -drnn_name_nats(&model, stepper, t, len)
                                           : -drnn_name_loss(&model, scratch, t, len);
        double per_char = -logprob / (len + 1);
        char text[4 * DRNN_MAX_NAME_LEN + 1];
        drnn_vocab_decode(&st->vocab, t, len, !st->hp.keep_case, text, sizeof text);
        if (o->json) {
            fputs("{\"name\":", stdout);
            cli_json_string(stdout, text);
            char a[32], b[32];
            printf(",\"logprob\":%s,\"nats_per_char\":%s}\n", cli_json_number(a, sizeof a, logprob),
                   cli_json_number(b, sizeof b, per_char));
        } else {
            printf("%s\t%.4f\t%.4f nats/char\n", text, logprob, per_char);
        }
        cli_check_stdout(prog);
    }
    drnn_scratch_free(scratch);
    drnn_stepper_free(stepper);
    return EXIT_OK;
}

/* --best: the exact search, and what to say when a bound stopped it. */
static void print_best(const options *o, const drnn_train_state *st, const drnn_token *prefix,
                       int prefix_len, const drnn_name_set *known)
{
    drnn_search_options so = {
        .k = o->best, .prefix = prefix, .prefix_len = prefix_len,
        .min_len = o->sample.min_len > 1 ? o->sample.min_len : 1, .max_len = o->sample.max_len,
        .exclude = known, .max_expansions = o->max_expansions,
    };
    drnn_search_result res;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_params model = drnn_state_model(st, parts);
    if (drnn_search_best(&model, &so, &res, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    for (int i = 0; i < res.count; i++)
        print_name(o, st, res.names[i].tokens, res.names[i].len, &res.names[i].logprob,
                   i < res.certified);
    if (!res.exact && res.out_of_memory)
        fprintf(stderr, "%s: the search stopped at its memory bound (%.0f MB, after %lld partial "
                "names extended): the first %d names are exactly the most likely, the other %d "
                "the best found, %d in all; a smaller --best or --max-length, or a longer "
                "--prefix, narrows it\n", prog, res.peak_bytes / 1e6, res.expanded, res.certified,
                res.count - res.certified, res.count);
    else if (!res.exact)
        fprintf(stderr, "%s: the search stopped at its bound (%lld partial names extended, "
                "%.0f MB): the first %d names are exactly the most likely, the other %d the "
                "best found, %d in all; raise --max-expansions for an exact answer\n", prog,
                res.expanded, res.peak_bytes / 1e6, res.certified, res.count - res.certified,
                res.count);
    else if (res.count < o->best)
        fprintf(stderr, "%s: only %d %sname%s of %d to %d symbols exist%s\n", prog, res.count,
                known ? "novel " : "", res.count == 1 ? "" : "s", so.min_len, so.max_len,
                prefix_len ? " with this prefix" : "");
    drnn_search_result_free(&res);
}

/* Random names; with --novel, copies are redrawn until fewer than one draw
 * in 100 gives a new name (after at least 1000), so it always ends soon. */
static void print_samples(const options *o, const drnn_train_state *st, const drnn_token *prefix,
                          int prefix_len, const drnn_name_set *known)
{
    drnn_stepper *stepper;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_params model = drnn_state_model(st, parts);
    if (drnn_stepper_new_for(&stepper, &model, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    drnn_rng rng;
    drnn_rng_seed(&rng, o->seed);
    drnn_token t[DRNN_MAX_NAME_LEN];
    long long shown = 0, attempts = 0;
    while (shown < o->count) {
        if (known && attempts >= 1000 && attempts >= 100 * (shown + 1))
            break;
        attempts++;
        int n = drnn_sample_name(&model, stepper, &rng, &o->sample, prefix, prefix_len, t);
        if (known && drnn_name_set_contains(known, t, n))
            continue;
        print_name(o, st, t, n, NULL, -1);
        shown++;
    }
    if (shown < o->count)
        fprintf(stderr, "%s: only %lld novel names in %lld draws (it stops when fewer than 1 "
                "draw in 100 is novel)\n", prog, shown, attempts);
    drnn_stepper_free(stepper);
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.count = 10;
    o.seed = 1;
    o.sample.temperature = 1;
    o.sample.max_len = 32;
    parse_options(&o, argc, argv);

    drnn_train_state st;
    const char *ckpt = cli_load_checkpoint(prog, o.checkpoint, &st);
    if (o.sample.top_k > st.vocab.size)
        o.sample.top_k = st.vocab.size;
    if (o.score) {
        int status = score_names(&o, &st, argv + optind, argc - optind);
        drnn_state_free(&st);
        cli_close_stdout(prog);
        return status;
    }

    drnn_token prefix[DRNN_MAX_NAME_LEN];
    /* An empty prefix is no prefix. */
    int prefix_len = o.prefix && *o.prefix ? cli_encode(prog, "--prefix", o.prefix, &st, prefix) : 0;
    if (prefix_len > o.sample.max_len)
        cli_die(prog, EXIT_USAGE, "--prefix is %d symbols long: --max-length must be at least that",
                prefix_len);
    drnn_names names;
    drnn_corpus known;
    drnn_name_set *known_set = NULL;
    memset(&names, 0, sizeof names);
    memset(&known, 0, sizeof known);
    if (o.novel)
        load_known(&o, &st, ckpt, &names, &known, &known_set);

    if (o.best)
        print_best(&o, &st, prefix, prefix_len, known_set);
    else
        print_samples(&o, &st, prefix, prefix_len, known_set);
    drnn_name_set_free(known_set);
    drnn_corpus_free(&known);
    drnn_names_free(&names);
    drnn_state_free(&st);
    cli_close_stdout(prog);
    return EXIT_OK;
}
