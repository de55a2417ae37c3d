/* dinornn-sample: names from a trained model: random, from a prefix, the
 * most likely ones (an exact search), only novel ones, of a given shape
 * (sample_constraints.c), of a given kind (--label), the score of a name,
 * or the label a name most likely has (--classify). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"
#include "sample_constraints.h"

const char cli_program_name[] = "dinornn-sample";

typedef struct options {
    const char *checkpoint, *prefix, *data, *label;
    long long count, max_expansions, max_draws;
    drnn_sample_options sample;
    uint64_t seed;
    int best, novel, score, classify, json;
    int label_index;    /* --label's index in the model's labels; DRNN_LABEL_MIXTURE */
    int sampling_set;   /* --count, --temperature or --top-k given */
    sample_shape shape; /* --suffix, --contains, --exclude, --pattern */
} options;

#define AT(field) offsetof(options, field)
_Static_assert(DRNN_MAX_NAME_LEN == 256 && DRNN_MAX_BEST == 1000 &&
                   DRNN_SEARCH_EXPANSIONS == 500000 && DRNN_SAMPLE_DRAWS == 1000 &&
                   DRNN_MAX_CONTAINS == 32,
               "the numbers that --help quotes");

static void usage(const cli_table *t)
{
    printf("Usage: %s [OPTION]...\n"
           "  or:  %s --score [OPTION]... NAME...\n"
           "  or:  %s --classify [OPTION]... NAME...\n"
           "Generate names with a model trained by dinornn-train, score names under it, or\n"
           "tell the label each name most likely has.\n\n",
           cli_program_name, cli_program_name, cli_program_name);
    cli_print_options(t, NULL);
    printf("\nLog-probabilities are natural logarithms of the whole name, its end included;\n"
           "nats per character divide by its length plus one. --best searches every name\n"
           "that fits the prefix, the lengths and the constraints, most likely first, so\n"
           "its answer is exact unless the bound stops it (then it says so); equal\n"
           "log-probabilities go to the shorter name, then in the order of the model's\n"
           "symbols.\n\n"
           "--prefix, --suffix, --contains, --exclude, --pattern, the lengths and --novel\n"
           "combine, for --best and for sampling. They are read as the training names were\n"
           "(NFC, lowercase unless the model keeps case); a symbol the model never saw is\n"
           "refused, except in --exclude or in a class among others. Sampling draws from\n"
           "the model's distribution given them, rejecting the draws that miss, up to\n"
           "--max-draws draws. When no name can meet them, nothing is printed and one line\n"
           "says why. With --score, each name is also said to meet them or not.\n\n"
           "A model trained on a labeled list (NAME<TAB>LABEL lines) gives names of one\n"
           "kind with --label. Without it, sampling, --best and --score take the model of\n"
           "all kinds together (the labels' models weighted by their shares of the\n"
           "training names), and sampling prints each name with a label drawn from\n"
           "P(label | name). --classify gives P(label | name) by Bayes' rule, most likely\n"
           "first. An unknown --label, or --label or --classify on a model trained\n"
           "without labels, is bad usage (status 2).\n\n"
           "Examples:\n"
           "  %s --prefix tyr --count 5\n"
           "  %s --prefix tyr --best 5\n"
           "  %s --suffix saurus --best 10\n"
           "  %s --pattern '%s' --best 10\n"
           "  %s --prefix ar --contains on --exclude q --count 5\n"
           "  %s --score Tyrannosaurus Velociraptor\n"
           "  %s --label female --prefix ha --best 5\n"
           "  %s --classify haruka takeshi\n\n"
           "Exit status: 0 success (also when no name can meet the constraints), 1 runtime\n"
           "failure (checkpoint, data; too few names met the constraints in --max-draws),\n"
           "2 bad usage.\n",
           cli_program_name, cli_program_name, cli_program_name, cli_program_name,
           "??????", cli_program_name, cli_program_name, cli_program_name,
           cli_program_name); /* not a trigraph in the literal */
}

static const cli_option option_rows[] = {
    {.name = "checkpoint", .short_name = 'c', .arg = "FILE",
     .help = "model to use (default checkpoints/best.ckpt, else\ncheckpoints/latest.ckpt)",
     .kind = CLI_TEXT, .offset = AT(checkpoint)},
    {.name = "count", .short_name = 'n', .arg = "N",
     .help = "names to generate, 1..1000000 (default 10)", .kind = CLI_LLONG,
     .offset = AT(count), .lo = 1, .hi = 1000000, .given = CLI_GIVEN(options, sampling_set)},
    {.name = "prefix", .short_name = 'p', .arg = "STR",
     .help = "names start with STR; the model continues it", .kind = CLI_TEXT,
     .offset = AT(prefix)},
    {.name = "temperature", .short_name = 't', .arg = "T",
     .help = "randomness, T >= 0; 0 always takes the most likely\nsymbol (default 1)",
     .kind = CLI_REAL, .offset = AT(sample.temperature), .lo = 0, .hi = 1e6,
     .given = CLI_GIVEN(options, sampling_set)},
    {.name = "top-k", .short_name = 'k', .arg = "K",
     .help = "draw among the K most likely symbols only, K >= 1\n(default: all)",
     .kind = CLI_INT, .offset = AT(sample.top_k), .lo = 1, .hi = DRNN_MAX_VOCAB,
     .given = CLI_GIVEN(options, sampling_set)},
    {.name = "seed", .short_name = 's', .arg = "N", .help = "seed of the random draws (default 1)",
     .kind = CLI_U64, .offset = AT(seed)},
    {.name = "min-length", .arg = "N", .help = "shortest name, prefix included (default 1)",
     .kind = CLI_INT, .offset = AT(sample.min_len), .lo = 1, .hi = DRNN_MAX_NAME_LEN},
    {.name = "max-length", .arg = "N",
     .help = "longest name, prefix included, 1..256 (default 32)", .kind = CLI_INT,
     .offset = AT(sample.max_len), .lo = 1, .hi = DRNN_MAX_NAME_LEN},
    {.name = "suffix", .arg = "STR", .help = "names end with STR", .kind = CLI_TEXT,
     .offset = AT(shape.suffix)},
    {.name = "contains", .arg = "STR",
     .help = "names contain STR somewhere (give it again for more\nstrings, up to 32)",
     .kind = CLI_LIST, .offset = AT(shape.contains), .hi = DRNN_MAX_CONTAINS},
    {.name = "exclude", .arg = "CHARS", .help = "names use none of the symbols in CHARS",
     .kind = CLI_TEXT, .offset = AT(shape.exclude)},
    {.name = "pattern", .arg = "GLOB",
     .help = "the whole name matches GLOB: ? one symbol, * any\nrun of symbols, [a-z] or [!aeiou] "
             "one symbol of a\nclass; \\ makes the next character a literal",
     .kind = CLI_TEXT, .offset = AT(shape.pattern)},
    {.name = "best", .arg = "K",
     .help = "exactly the K most likely complete names, with their\nlog-probabilities, 1..1000",
     .kind = CLI_INT, .offset = AT(best), .lo = 1, .hi = DRNN_MAX_BEST},
    {.name = "max-expansions", .arg = "N",
     .help = "bound on --best's work: partial names extended\n(default 500000; memory: 1 GiB); "
             "past it, the names\nnot proven best are marked as such",
     .kind = CLI_LLONG, .offset = AT(max_expansions), .lo = 1, .hi = 1e12},
    {.name = "max-draws", .arg = "N",
     .help = "bound on the draws when sampling under constraints\n(default 1000 x --count)",
     .kind = CLI_LLONG, .offset = AT(max_draws), .lo = 1, .hi = 1e12},
    {.name = "novel", .help = "only names that are not in the training data", .kind = CLI_FLAG,
     .offset = AT(novel)},
    {.name = "data", .arg = "FILE",
     .help = "the training names for --novel (default: the file\nrecorded in the checkpoint)",
     .kind = CLI_TEXT, .offset = AT(data)},
    {.name = "score", .help = "print the log-probability of each NAME", .kind = CLI_FLAG,
     .offset = AT(score)},
    {.name = "label", .short_name = 'l', .arg = "LABEL",
     .help = "names of the kind LABEL, one of the labels of a\nmodel trained on a labeled list",
     .kind = CLI_TEXT, .offset = AT(label)},
    {.name = "classify",
     .help = "print the probability of each label for each NAME,\nmost likely first",
     .kind = CLI_FLAG, .offset = AT(classify)},
    {.name = "format", .arg = "FORMAT", .help = "text (default) or json (one object per line)",
     .kind = CLI_CHOICE, .offset = AT(json), .choices = cli_formats},
    CLI_HELP_OPTION(NULL),
    CLI_VERSION_OPTION(NULL),
};
static const cli_table option_table = CLI_TABLE(option_rows, usage);

/* The defaults, the options, and the checks between them that the table
 * cannot make; returns the index of the first NAME. */
static int parse_options(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->count = 10;
    o->seed = 1;
    o->sample.temperature = 1;
    o->sample.max_len = 32;
    int first = cli_parse(&option_table, o, argc, argv);
    if (o->score && o->classify)
        cli_die(EXIT_USAGE, "--score and --classify cannot be combined: give one of them");
    if ((o->score || o->classify) && first == argc)
        cli_die(EXIT_USAGE, "%s needs at least one NAME", o->score ? "--score" : "--classify");
    if (!o->score && !o->classify && first < argc) {
        cli_message("unexpected argument '%s' (names to score need --score, names to "
                    "classify --classify)", argv[first]);
        cli_usage_error();
    }
    if (o->classify && (o->best || o->novel || o->prefix || o->label ||
                        sample_shape_given(&o->shape)))
        cli_die(EXIT_USAGE, "--classify takes names only: it cannot be combined with --best, "
                "--novel, --prefix, --label or a constraint");
    if (o->score && (o->best || o->novel || o->prefix))
        cli_die(EXIT_USAGE, "--score cannot be combined with --best, --novel or --prefix");
    if (o->best && o->sampling_set)
        cli_message("warning: --count, --temperature and --top-k do not apply to --best "
                    "(an exact search); ignored");
    if (o->max_expansions && !o->best)
        cli_message("warning: --max-expansions applies to --best only; ignored");
    if (o->max_draws && (o->best || o->score || !sample_shape_given(&o->shape)))
        cli_message("warning: --max-draws applies to sampling under --suffix, --contains, "
                    "--exclude or --pattern only; ignored");
    if (o->sample.min_len > o->sample.max_len)
        cli_die(EXIT_USAGE, "--min-length %d is above --max-length %d", o->sample.min_len,
                o->sample.max_len);
    return first;
}

/* The training names, for --novel: tokens of every name in the file. Names
 * with unknown symbols can never be generated: leaving them out is exact. */
static void load_known(const options *o, const drnn_train_state *st, const char *ckpt,
                       drnn_corpus *known, drnn_name_set **set)
{
    drnn_error err;
    const char *path = o->data ? o->data : st->data_path;
    drnn_names_options nopt = {.keep_case = st->hp.keep_case};
    drnn_data_read read = {.path = path};
    /* A pipe recorded as the data would be waited on forever. */
    if (!o->data && drnn_rundir_data_rereadable(path, ckpt, &err))
        cli_die(EXIT_RUNTIME, "%s; --novel needs the training names: give them with --data FILE",
                err.message);
    if (drnn_corpus_load_with(known, &st->vocab, &read.fingerprint, path, &nopt, 1, &err))
        cli_die(EXIT_RUNTIME, "%s%s", err.message,
                o->data ? "" : " (the training names recorded in the checkpoint, which --novel "
                               "needs: give them with --data FILE)");
    if (drnn_rundir_check_data(st, ckpt, &read, NULL, &err))
        cli_message("warning: %s is not the data %s was trained on", path, ckpt);
    if (drnn_name_set_new(set, known, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
}

/* One name; with its log-probability when logprob is given, and in JSON
 * whether it is proven among the most likely when exact >= 0. */
static void print_name(const options *o, const drnn_train_state *st, const drnn_token *t, int n,
                       const double *logprob, int exact, const char *label)
{
    char text[4 * DRNN_MAX_NAME_LEN + 1];
    drnn_vocab_decode(&st->vocab, t, n, !st->hp.keep_case, text, sizeof text);
    if (o->json) {
        fputs("{\"name\":", stdout);
        cli_json_string(stdout, text);
        if (label) {
            fputs(",\"label\":", stdout);
            cli_json_string(stdout, label);
        }
        char num[32];
        if (logprob)
            printf(",\"logprob\":%s", cli_json_number(num, sizeof num, *logprob));
        if (exact >= 0)
            printf(",\"exact\":%s", exact ? "true" : "false");
        if (sample_shape_given(&o->shape))
            sample_shape_json(stdout, &o->shape, o->prefix);
        puts("}");
    } else if (logprob) {
        printf("%s\t%.4f\n", text, *logprob);
    } else if (label) {
        printf("%s\t%s\n", text, label);
    } else {
        puts(text);
    }
    cli_check_stdout(); /* no more names once the output is gone */
}

/* The model the options ask for: of the kind --label names, or (a labeled
 * model without it) of all kinds together. */
static drnn_model sample_model(const options *o, const drnn_train_state *st, drnn_params *parts)
{
    drnn_model m = drnn_state_model(st, parts);
    m.label = o->label_index;
    return m;
}

/* The index of --label's text among the model's labels, read as the
 * labels of a names file are (white space around it removed, NFC), so that
 * a label typed decomposed finds its composed self; -1 when none. */
static int find_label(const drnn_label_table *t, const char *label)
{
    int found = drnn_label_find(t, label);
    size_t len = strlen(label);
    char *line = found < 0 && len < 4096 ? malloc(len + 3) : NULL;
    drnn_names one;
    drnn_error err;
    drnn_names_options nopt = {.keep_case = 1};
    if (!line) /* nothing to normalise, or too long to be a label */
        return found;
    memcpy(line, "x\t", 2);
    memcpy(line + 2, label, len + 1);
    /* A label the file format refuses (empty, a tab, a control character)
     * is no label: the caller lists those there are. */
    if (drnn_names_parse(&one, line, len + 2, "--label", &nopt, &err) == 0) {
        if (one.count == 1 && one.labels.count == 1)
            found = drnn_label_find(t, one.labels.text[0]);
        drnn_names_free(&one);
    }
    free(line);
    return found;
}

/* --label against the model's labels: its index, or status 2 with the
 * labels there are. */
static void resolve_label(options *o, const drnn_train_state *st, const char *ckpt)
{
    o->label_index = DRNN_LABEL_MIXTURE;
    if (o->classify && st->labels.count == 0)
        cli_die(EXIT_USAGE, "--classify: %s was trained on names without labels, so it has no "
                "labels to tell; train on a list of NAME<TAB>LABEL lines", ckpt);
    if (!o->label)
        return;
    if (st->labels.count == 0)
        cli_die(EXIT_USAGE, "--label '%s': %s was trained on names without labels; train on a "
                "list of NAME<TAB>LABEL lines to ask for names by kind", o->label, ckpt);
    o->label_index = find_label(&st->labels, o->label);
    if (o->label_index < 0) {
        char list[1024];
        drnn_label_table_list(&st->labels, list, sizeof list);
        cli_die(EXIT_USAGE, "--label '%s': %s has no such label; its labels are: %s", o->label,
                ckpt, list);
    }
    o->label = st->labels.text[o->label_index]; /* printed as the model has it */
}

/* NAME, an argument of `what` (--score, --classify), as tokens in t;
 * returns its length, or -1 after saying why it cannot be taken. */
static int encode_name_arg(const char *what, const char *name, const drnn_train_state *st,
                           drnn_token *t)
{
    char msg[DRNN_ERROR_MESSAGE_SIZE + 4 * DRNN_MAX_NAME_LEN];
    /* At most 60 bytes of the name in a message, cut before a UTF-8 symbol. */
    int shown = (int)strlen(name);
    while (shown > 60 || (shown > 0 && (name[shown] & 0xC0) == 0x80))
        shown--;
    const char *more = name[shown] ? "..." : "";
    const char *why = NULL;
    int len = -1;
    if (!name[strspn(name, " \t\n\v\f\r")]) /* not "no names in the file" */
        why = *name ? "it is only white space" : "it is empty";
    else if (strpbrk(name, "\n\r"))
        why = "it is several lines: give each name as an argument of its own";
    else if ((len = cli_encode_try(what, name, st, t, msg, sizeof msg)) < 0)
        why = cli_after_label(msg, what);
    if (why)
        cli_message("%s: '%.*s%s' not %s: %s", what, shown, name, more,
                    strcmp(what, "--score") == 0 ? "scored" : "classified", why);
    return why ? -1 : len;
}

/* "steps": how likely each next symbol of the name was, its end last
 * ("symbol" null), through the stepper (they sum to the name's logprob
 * within rounding). */
static void print_steps(const drnn_train_state *st, const drnn_model *model,
                        drnn_stepper *stepper, const drnn_token *t, int len)
{
    double steps[DRNN_MAX_NAME_LEN + 1];
    if (isnan(drnn_name_step_nats(model, stepper, t, len, steps)))
        cli_die(EXIT_RUNTIME, "out of memory");
    fputs(",\"steps\":[", stdout);
    for (int i = 0; i <= len; i++) {
        char sym[8], num[32];
        fputs(i ? ",{\"symbol\":" : "{\"symbol\":", stdout);
        if (i < len) {
            drnn_vocab_decode(&st->vocab, &t[i], 1, 0, sym, sizeof sym);
            cli_json_string(stdout, sym);
        } else {
            fputs("null", stdout);
        }
        printf(",\"logprob\":%s}", cli_json_number(num, sizeof num, -steps[i]));
    }
    fputs("]", stdout);
}

/* One name's log-probability, printed, and whether it meets c (when not
 * NULL); returns 0, or -1 after saying why it cannot be scored. */
static int score_name(const options *o, const drnn_train_state *st, const drnn_model *model,
                      drnn_scratch *scratch, drnn_stepper *stepper, const drnn_constraint *c,
                      const char *name)
{
    drnn_token t[DRNN_MAX_NAME_LEN];
    const int len = encode_name_arg("--score", name, st, t);
    if (len < 0)
        return -1;
    /* A plain model's through the training loss, bit for bit; a mixture's,
     * and a labeled model's without a label, through the stepper. */
    const int label = model->cfg.labels ? model->label : 0;
    double logprob = model->count > 1 || label < 0
                         ? -drnn_name_nats(model, stepper, t, len)
                         : -drnn_name_loss_labeled(&model->nets[0], scratch, t, len, label);
    double per_char = -logprob / (len + 1);
    char text[4 * DRNN_MAX_NAME_LEN + 1];
    drnn_vocab_decode(&st->vocab, t, len, !st->hp.keep_case, text, sizeof text);
    const int meets = c && drnn_constraint_match(c, t, len);
    if (o->json) {
        fputs("{\"name\":", stdout);
        cli_json_string(stdout, text);
        char a[32], b[32];
        printf(",\"logprob\":%s,\"nats_per_char\":%s", cli_json_number(a, sizeof a, logprob),
               cli_json_number(b, sizeof b, per_char));
        if (o->label) {
            fputs(",\"label\":", stdout);
            cli_json_string(stdout, o->label);
        }
        if (c) {
            printf(",\"meets_constraints\":%s", meets ? "true" : "false");
            sample_shape_json(stdout, &o->shape, NULL);
        }
        print_steps(st, model, stepper, t, len);
        puts("}");
    } else {
        printf("%s\t%.4f\t%.4f nats/char%s\n", text, logprob, per_char,
               !c ? "" : meets ? "\tmeets the constraints" : "\tdoes not meet the constraints");
    }
    cli_check_stdout();
    return 0;
}

/* Every name that can be scored is; each that cannot is reported with why,
 * and then the status is EXIT_USAGE. */
static int score_names(const options *o, const drnn_train_state *st, char **names, int n)
{
    drnn_scratch *scratch;
    drnn_stepper *stepper;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = sample_model(o, st, parts);
    /* The shape alone: --prefix is refused with --score, the lengths are
     * what the name has. */
    drnn_constraint *c = sample_shape_given(&o->shape)
                             ? sample_shape_compile(&o->shape, st, NULL, 0, 0, 0) : NULL;
    if (c && !drnn_constraint_satisfiable(c))
        cli_message("no name can meet the constraints: %s", drnn_constraint_reason(c));
    if (drnn_scratch_new(&scratch, &st->hp.model, DRNN_MAX_NAME_LEN, &err) ||
        drnn_stepper_new(&stepper, &model, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += score_name(o, st, &model, scratch, stepper, c, names[i]) != 0;
    drnn_scratch_free(scratch);
    drnn_stepper_free(stepper);
    drnn_constraint_free(c);
    if (failed)
        cli_message("--score: %d of %d names not scored (see above)", failed, n);
    return failed ? EXIT_USAGE : EXIT_OK;
}

/* A scorer of m's names under each of its labels, made once for all names. */
static drnn_label_scorer *label_scorer(const drnn_model *m)
{
    drnn_label_scorer *s;
    drnn_error err;
    if (drnn_label_scorer_new(&s, m, DRNN_MAX_NAME_LEN, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    return s;
}

/* One name's labels, most likely first; returns 0, or -1 after saying why
 * it cannot be classified. */
static int classify_name(const options *o, const drnn_train_state *st,
                         drnn_label_scorer *scorer, const char *name)
{
    drnn_token t[DRNN_MAX_NAME_LEN];
    double nats[DRNN_MAX_LABELS], post[DRNN_MAX_LABELS];
    int order[DRNN_MAX_LABELS];
    const int len = encode_name_arg("--classify", name, st, t), N = st->labels.count;
    if (len < 0)
        return -1;
    drnn_label_scorer_nats(scorer, t, len, nats);
    drnn_label_posterior(&st->labels, nats, post);
    drnn_label_order(post, N, order);
    char text[4 * DRNN_MAX_NAME_LEN + 1], a[32], b[32];
    drnn_vocab_decode(&st->vocab, t, len, !st->hp.keep_case, text, sizeof text);
    if (o->json) {
        fputs("{\"name\":", stdout);
        cli_json_string(stdout, text);
        fputs(",\"label\":", stdout);
        cli_json_string(stdout, st->labels.text[order[0]]);
        fputs(",\"labels\":[", stdout);
        for (int i = 0; i < N; i++) {
            fputs(i ? ",{\"label\":" : "{\"label\":", stdout);
            cli_json_string(stdout, st->labels.text[order[i]]);
            printf(",\"probability\":%s,\"logprob\":%s}",
                   cli_json_number(a, sizeof a, post[order[i]]),
                   cli_json_number(b, sizeof b, -nats[order[i]]));
        }
        puts("]}");
    } else {
        fputs(text, stdout);
        for (int i = 0; i < N; i++)
            printf("\t%s %.4f", st->labels.text[order[i]], post[order[i]]);
        putchar('\n');
    }
    cli_check_stdout();
    return 0;
}

/* --classify: every name that can be classified is; status as --score's. */
static int classify_names(const options *o, const drnn_train_state *st, char **names, int n)
{
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = sample_model(o, st, parts);
    drnn_label_scorer *scorer = label_scorer(&model);
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += classify_name(o, st, scorer, names[i]) != 0;
    drnn_label_scorer_free(scorer);
    if (failed)
        cli_message("--classify: %d of %d names not classified (see above)", failed, n);
    return failed ? EXIT_USAGE : EXIT_OK;
}

/* What --best says after its names: that a bound stopped it, or that
 * fewer names than asked for exist. */
static void report_search(const options *o, const drnn_search_result *res,
                          const drnn_search_options *so, int prefix_len, int constrained)
{
    if (!res->exact && res->out_of_memory)
        cli_message("the search stopped at its memory bound (%.0f MB, after %lld partial "
                    "names extended): the first %d names are exactly the most likely, the other "
                    "%d the best found, %d in all; a smaller --best or --max-length, or a longer "
                    "--prefix, narrows it", res->peak_bytes / 1e6, res->expanded, res->certified,
                    res->count - res->certified, res->count);
    else if (!res->exact)
        cli_message("the search stopped at its bound (%lld partial names extended, "
                    "%.0f MB): the first %d names are exactly the most likely, the other %d the "
                    "best found, %d in all; raise --max-expansions for an exact answer",
                    res->expanded, res->peak_bytes / 1e6, res->certified,
                    res->count - res->certified, res->count);
    else if (res->count < o->best && constrained)
        cli_message("only %d %sname%s of %d to %d symbols meet%s the constraints", res->count,
                    so->exclude ? "novel " : "", res->count == 1 ? "" : "s", so->min_len,
                    so->max_len, res->count == 1 ? "s" : "");
    else if (res->count < o->best)
        cli_message("only %d %sname%s of %d to %d symbols exist%s", res->count,
                    so->exclude ? "novel " : "", res->count == 1 ? "" : "s", so->min_len,
                    so->max_len, prefix_len ? " with this prefix" : "");
}

/* --best: the exact search, and what to say when a bound stopped it. */
static void print_best(const options *o, const drnn_train_state *st, const drnn_token *prefix,
                       int prefix_len, const drnn_name_set *known, const drnn_constraint *c)
{
    /* Under a constraint the prefix is in it, which then explains an empty answer. */
    drnn_search_options so = {
        .k = o->best, .prefix = c ? NULL : prefix, .prefix_len = c ? 0 : prefix_len,
        .min_len = o->sample.min_len > 1 ? o->sample.min_len : 1, .max_len = o->sample.max_len,
        .exclude = known, .max_expansions = o->max_expansions, .constraint = c,
    };
    drnn_search_result res;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = sample_model(o, st, parts);
    if (drnn_search_best(&model, &so, &res, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    for (int i = 0; i < res.count; i++)
        print_name(o, st, res.names[i].tokens, res.names[i].len, &res.names[i].logprob,
                   i < res.certified, o->label);
    if (res.unsatisfiable) /* not expected: the constraint holds the same lengths */
        cli_message("no name of %d to %d symbols meets the constraints", so.min_len, so.max_len);
    else
        report_search(o, &res, &so, prefix_len, c != NULL);
    drnn_search_result_free(&res);
}

/* What sampling says when it printed fewer than --count names (last: the
 * sampler's last answer, 0 or -1 when it gave up); returns the status. */
static int report_samples(const options *o, const drnn_constraint *c, long long shown,
                          long long accepted, long long draws, int last)
{
    const long long best = o->count < DRNN_MAX_BEST ? o->count : DRNN_MAX_BEST;
    if (shown == o->count)
        return EXIT_OK;
    if (c && last < 0) {
        cli_message("the one name that --temperature 0 or --top-k 1 draws does not meet the "
                    "constraints: give a temperature above 0 and no --top-k 1, or --best %lld "
                    "for the most likely names that meet them", best);
        return EXIT_RUNTIME;
    }
    if (c && last == 0) {
        cli_message("found %lld of %lld names in %lld draws (the bound, --max-draws): names "
                    "that meet the constraints%s are too rare to draw; --best %lld gives the "
                    "most likely ones, or raise --max-draws", shown, o->count, draws,
                    o->novel ? " and are novel" : "", best);
        return EXIT_RUNTIME;
    }
    cli_message("only %lld novel names in %lld draws%s (it stops when fewer than 1 draw in 100 "
                "is novel)", shown, accepted, c ? " that meet the constraints" : "");
    return EXIT_OK;
}

/* A label drawn from P(label | name) (scorer: a labeled model's). */
static int draw_label_of(drnn_label_scorer *scorer, const drnn_label_table *t, drnn_rng *rng,
                         const drnn_token *name, int len)
{
    double nats[DRNN_MAX_LABELS], post[DRNN_MAX_LABELS];
    drnn_label_scorer_nats(scorer, name, len, nats);
    drnn_label_posterior(t, nats, post);
    double u = drnn_rng_uniform(rng), sum = 0;
    for (int k = 0; k < t->count; k++)
        if (u < (sum += post[k]))
            return k;
    return t->count - 1; /* rounding left u above the sum */
}

/* Random names; with --novel, copies are redrawn until fewer than one draw
 * in 100 gives a new name (after at least 1000), so it always ends soon.
 * Under a constraint, drawn given it (by rejection) within --max-draws
 * draws. Returns the exit status. */
static int print_samples(const options *o, const drnn_train_state *st, const drnn_token *prefix,
                         int prefix_len, const drnn_name_set *known, const drnn_constraint *c)
{
    drnn_stepper *stepper;
    drnn_error err;
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = sample_model(o, st, parts);
    if (drnn_stepper_new(&stepper, &model, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    /* Without --label, a labeled model's names are drawn from the model of
     * all kinds together, and each one's label from P(label | name): a draw
     * of (label, name) from the joint distribution that stays exact under a
     * prefix, constraints and --novel. */
    drnn_label_scorer *scorer =
        st->labels.count > 0 && o->label_index < 0 ? label_scorer(&model) : NULL;
    const char *label = o->label;
    drnn_rng rng;
    drnn_rng_seed(&rng, o->seed);
    drnn_token t[DRNN_MAX_NAME_LEN];
    const long long bound = o->max_draws ? o->max_draws : DRNN_SAMPLE_DRAWS * o->count;
    long long shown = 0, attempts = 0, draws_left = bound;
    int n = 1;
    while (shown < o->count) {
        if (known && attempts >= 1000 && attempts >= 100 * (shown + 1))
            break;
        /* The constraint's prefix and lengths are the options'. */
        n = c ? drnn_sample_constrained(&model, stepper, &rng, &o->sample, c, NULL, 0,
                                        &draws_left, t)
              : drnn_sample_name(&model, stepper, &rng, &o->sample, prefix, prefix_len, t);
        if (n <= 0)
            break;
        attempts++;
        if (known && drnn_name_set_contains(known, t, n))
            continue;
        if (scorer)
            label = st->labels.text[draw_label_of(scorer, &st->labels, &rng, t, n)];
        print_name(o, st, t, n, NULL, -1, label);
        shown++;
    }
    drnn_stepper_free(stepper);
    drnn_label_scorer_free(scorer);
    return report_samples(o, c, shown, attempts, bound - draws_left, n);
}

/* The constraints, compiled with the prefix and the lengths, into *out
 * (NULL when none is given). Returns 0, or 1 after saying why no name can
 * meet them. */
static int compile_shape(const options *o, const drnn_train_state *st, const drnn_token *prefix,
                         int prefix_len, drnn_constraint **out)
{
    *out = NULL;
    if (!sample_shape_given(&o->shape))
        return 0;
    drnn_constraint *c = sample_shape_compile(&o->shape, st, prefix, prefix_len,
                                              o->sample.min_len, o->sample.max_len);
    if (!drnn_constraint_satisfiable(c)) {
        cli_message("no name meets the constraints: %s", drnn_constraint_reason(c));
        drnn_constraint_free(c);
        return 1;
    }
    *out = c;
    return 0;
}

/* Names from the model, after the prefix: the most likely (--best) or drawn
 * at random; only novel ones with --novel, only those of the shape asked
 * for. Returns the exit status. */
static int generate_names(const options *o, const drnn_train_state *st, const char *ckpt)
{
    drnn_token prefix[DRNN_MAX_NAME_LEN];
    /* An empty prefix is no prefix. */
    int prefix_len = o->prefix && *o->prefix ? cli_encode("--prefix", o->prefix, st, prefix) : 0;
    if (prefix_len > o->sample.max_len)
        cli_die(EXIT_USAGE, "--prefix is %d symbols long: --max-length must be at least that",
                prefix_len);
    /* Before --novel's names are read: an empty answer is given at once. */
    drnn_constraint *c;
    if (compile_shape(o, st, prefix, prefix_len, &c))
        return EXIT_OK;
    drnn_corpus known;
    drnn_name_set *known_set = NULL;
    memset(&known, 0, sizeof known);
    if (o->novel)
        load_known(o, st, ckpt, &known, &known_set);

    int status = EXIT_OK;
    if (o->best)
        print_best(o, st, prefix, prefix_len, known_set, c);
    else
        status = print_samples(o, st, prefix, prefix_len, known_set, c);
    drnn_name_set_free(known_set);
    drnn_corpus_free(&known);
    drnn_constraint_free(c);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    int first = parse_options(&o, argc, argv);
    cli_threads(0, 1); /* one thread, but the OpenMP variables checked like everywhere */
    drnn_train_state st;
    const char *ckpt = cli_load_checkpoint(o.checkpoint, &st);
    if (o.sample.top_k > st.vocab.size)
        o.sample.top_k = st.vocab.size;
    resolve_label(&o, &st, ckpt);
    int status = o.score      ? score_names(&o, &st, argv + first, argc - first)
                 : o.classify ? classify_names(&o, &st, argv + first, argc - first)
                              : generate_names(&o, &st, ckpt);
    drnn_state_free(&st);
    cli_close_stdout();
    return status;
}
