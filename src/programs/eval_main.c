/* dinornn-eval: how well a trained model predicts a list of names, in nats
 * and bits per character and perplexity. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"

const char cli_program_name[] = "dinornn-eval";

enum { SPLIT_NONE = -1, SPLIT_VAL, SPLIT_TRAIN, SPLIT_ALL };

typedef struct options {
    const char *checkpoint, *data;
    int split, strict, json, force;
} options;

#define AT(field) offsetof(options, field)
static const char *const splits[] = {"val", "train", "all", NULL};

static void usage(const cli_table *t)
{
    printf("Usage: %s [OPTION]...\n"
           "Measure how well a model trained by dinornn-train predicts names: mean nats per\n"
           "character (the end of each name counts as one), bits per character and\n"
           "perplexity. For a model trained on a labeled list (NAME<TAB>LABEL lines), also\n"
           "each label's loss, the accuracy of the most likely label P(label | name) and\n"
           "the confusion matrix (rows: the names' labels; columns: the labels they were\n"
           "given, in the same order).\n\n",
           cli_program_name);
    cli_print_options(t, NULL);
    printf("\nExit status: 0 success, 1 runtime failure (checkpoint, data), 2 bad usage.\n");
}

static const cli_option option_rows[] = {
    {.name = "checkpoint", .short_name = 'c', .arg = "FILE",
     .help = "model to evaluate (default checkpoints/best.ckpt,\nelse checkpoints/latest.ckpt)",
     .kind = CLI_TEXT, .offset = AT(checkpoint)},
    {.name = "data", .short_name = 'd', .arg = "FILE",
     .help = "names to evaluate, one per line (all of them);\nNAME<TAB>LABEL for a labeled model", .kind = CLI_TEXT, .offset = AT(data)},
    {.name = "split", .arg = "PART",
     .help = "val, train or all: the part of the training file\nrecorded in the checkpoint "
             "(default val, unless\n--data is given)",
     .kind = CLI_CHOICE, .offset = AT(split), .choices = splits},
    {.name = "strict",
     .help = "refuse names with symbols outside the model's\nvocabulary instead of skipping them",
     .kind = CLI_FLAG, .offset = AT(strict)},
    {.name = "force", .help = "with --split, accept a file other than the one\ntrained on",
     .kind = CLI_FLAG, .offset = AT(force)},
    {.name = "format", .arg = "FORMAT", .help = "text (default) or json", .kind = CLI_CHOICE,
     .offset = AT(json), .choices = cli_formats},
    CLI_HELP_OPTION(NULL),
    CLI_VERSION_OPTION(NULL),
};
static const cli_table option_table = CLI_TABLE(option_rows, usage);

static void parse_options(options *o, int argc, char **argv)
{
    int first = cli_parse(&option_table, o, argc, argv);
    if (first < argc) {
        cli_message("unexpected argument '%s'", argv[first]);
        cli_usage_error();
    }
    if (o->split == SPLIT_NONE && !o->data)
        o->split = SPLIT_VAL;
}

/* The names to evaluate: the file straight into tokens, then the split's
 * part of it. An unknown symbol under --strict is reported after the check
 * that the file is the one trained on. */
static void load_names(const options *o, const drnn_train_state *st, const char *ckpt,
                       const char *path, drnn_corpus *part)
{
    drnn_error err;
    drnn_names_options nopt = {.keep_case = st->hp.keep_case};
    drnn_corpus all;
    drnn_vocab vocab = st->vocab;
    uint64_t fingerprint = 0;
    int rc = drnn_corpus_load(&all, &vocab, &fingerprint, path, &nopt, !o->strict, &err);
    if (rc && rc != DRNN_ERR_UNKNOWN_SYMBOL) {
        if (!o->data && rc == DRNN_ERR_NOT_FOUND)
            cli_die(EXIT_RUNTIME,
                    "%s (the training data recorded in %s): if the file has moved, give its "
                    "new location with --data FILE (and --force if its names differ)",
                    err.message, ckpt);
        cli_die(EXIT_RUNTIME, "%s", err.message);
    }
    const drnn_data_read read = {.path = path, .fingerprint = fingerprint};
    drnn_error other; /* (err still says what the --strict refusal below is) */
    if (o->split != SPLIT_NONE && !o->force && drnn_rundir_check_data(st, ckpt, &read, NULL, &other))
        cli_die(EXIT_RUNTIME, "%s: its split would mean nothing; use --data to evaluate all of "
                "it, or --force", other.message);
    if (rc)
        cli_die(EXIT_RUNTIME, "%s (--strict refuses such names; without it they are skipped)",
                err.message);
    if (st->labels.count > 0 && drnn_corpus_use_labels(&all, &st->labels, path, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    if (st->labels.count == 0) { /* a model without labels: the names alone */
        free(all.labels);
        all.labels = NULL;
        drnn_label_table_free(&all.label_table);
    }
    if (all.skipped)
        cli_message("%s: %zu name%s with symbols outside the model's vocabulary skipped "
                    "(first on line %ld; --strict refuses them)",
                    path, all.skipped, all.skipped == 1 ? "" : "s", all.first_skipped_line);
    if (o->split != SPLIT_VAL && o->split != SPLIT_TRAIN) {
        *part = all;
        return;
    }
    if (all.skipped) /* the split is of every name, these included */
        cli_die(EXIT_RUNTIME, "%s: cannot rebuild the training split without the names "
                "skipped: evaluate all of the file with --split all, or another with --data FILE",
                path);
    size_t *ti, *vi, nt, nv;
    /* A labeled run's split was stratified by label (the same as drnn_split
     * for a list without labels). */
    if (drnn_split_labeled(&all, st->hp.val_fraction, st->hp.seed, &ti, &nt, &vi, &nv, &err) ||
        drnn_corpus_select(part, &all, o->split == SPLIT_VAL ? vi : ti,
                           o->split == SPLIT_VAL ? nv : nt, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    free(ti);
    free(vi);
    drnn_corpus_free(&all);
}

/* labeled: the labels' figures follow, in the same JSON object. */
static void print_result(const options *o, size_t names, int64_t chars, double per_char,
                         int labeled)
{
    if (o->json) {
        /* Exact figures; an overflowing perplexity is null, as JSON has no inf. */
        char a[32], b[32], c[32];
        printf("{\"names\":%zu,\"chars\":%lld,\"nats_per_char\":%s,\"bits_per_char\":%s,"
               "\"perplexity\":%s%s",
               names, (long long)chars, cli_json_number(a, sizeof a, per_char),
               cli_json_number(b, sizeof b, per_char / log(2.0)),
               cli_json_number(c, sizeof c, exp(per_char)), labeled ? "," : "}\n");
    } else {
        printf("%zu names, %lld characters: %.4f nats/char, %.4f bits/char, perplexity %.4f\n",
               names, (long long)chars, per_char, per_char / log(2.0), exp(per_char));
    }
}

/* A labeled model's loss per label, its accuracy at telling the names'
 * labels, and the confusion matrix (rows: the true label). */
static void print_labels(const options *o, const drnn_train_state *st, const drnn_label_report *r)
{
    const drnn_label_table *t = &st->labels;
    const int N = r->labels;
    const double accuracy = r->names ? (double)r->correct / (double)r->names : 0;
    char a[32], b[32];
    if (o->json) {
        printf("\"accuracy\":%s,\"correct\":%zu,\"labels\":[",
               cli_json_number(a, sizeof a, accuracy), r->correct);
        for (int k = 0; k < N; k++) {
            fputs(k ? ",{\"label\":" : "{\"label\":", stdout);
            cli_json_string(stdout, t->text[k]);
            double per_char = r->chars[k] ? r->nats[k] / (double)r->chars[k] : 0;
            printf(",\"names\":%zu,\"chars\":%lld,\"nats_per_char\":%s,\"confusion\":[",
                   r->count[k], (long long)r->chars[k], cli_json_number(b, sizeof b, per_char));
            for (int j = 0; j < N; j++)
                printf("%s%zu", j ? "," : "", r->confusion[(size_t)k * (size_t)N + (size_t)j]);
            fputs("]}", stdout);
        }
        puts("]}");
        return;
    }
    printf("labels: accuracy %.2f%% (%zu of %zu names given their own label as the most "
           "likely)\n", 100 * accuracy, r->correct, r->names);
    printf("%-16s %8s %12s  %s\n", "label", "names", "nats/char",
           "classified as (the labels in this order)");
    for (int k = 0; k < N; k++) {
        double per_char = r->chars[k] ? r->nats[k] / (double)r->chars[k] : 0;
        printf("%-16s %8zu %12.4f ", t->text[k], r->count[k], per_char);
        for (int j = 0; j < N; j++)
            printf(" %zu", r->confusion[(size_t)k * (size_t)N + (size_t)j]);
        putchar('\n');
    }
}

/* The names the options ask for: a file, or a part of the one trained on. */
static void names_to_evaluate(const options *o, const drnn_train_state *st, const char *ckpt,
                              drnn_corpus *part)
{
    const char *path = o->data ? o->data : st->data_path;
    drnn_error err;
    if (o->split != SPLIT_NONE && st->hp.has_val_file && o->split != SPLIT_ALL)
        cli_die(EXIT_USAGE,
                "%s was validated on a file of its own and trained on all of %s: evaluate "
                "with --data FILE", ckpt, st->data_path);
    /* A pipe recorded as the data would be waited on forever. */
    if (!o->data && drnn_rundir_data_rereadable(path, ckpt, &err))
        cli_die(EXIT_RUNTIME, "%s; give the names to evaluate with --data FILE", err.message);
    load_names(o, st, ckpt, path, part);
    if (part->count == 0)
        cli_die(EXIT_RUNTIME, "%s: no names to evaluate%s", path,
                o->split == SPLIT_VAL ? " (the run had no validation split): evaluate "
                                        "--split train or all, or --data FILE" : "");
}

/* The model's loss on the names, and what it means, printed. */
static void evaluate_names(const options *o, const drnn_train_state *st, const drnn_corpus *part)
{
    drnn_error err;
    double nats;
    int64_t chars;
    drnn_params parts[DRNN_MAX_MEMBERS];
    drnn_model model = drnn_state_model(st, parts); /* a mixture's too */
    if (drnn_evaluate(&model, part, &nats, &chars, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    print_result(o, part->count, chars, nats / (double)chars, st->labels.count > 0);
    if (st->labels.count > 0) {
        drnn_label_report rep;
        if (drnn_evaluate_labels(&model, &st->labels, part, &rep, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        print_labels(o, st, &rep);
        drnn_label_report_free(&rep);
    }
}

int main(int argc, char **argv)
{
    options o = {.split = SPLIT_NONE};
    parse_options(&o, argc, argv);
    cli_threads(0, 0);
    drnn_train_state st;
    const char *ckpt = cli_load_checkpoint(o.checkpoint, &st);
    drnn_corpus names;
    names_to_evaluate(&o, &st, ckpt, &names);
    evaluate_names(&o, &st, &names);
    drnn_corpus_free(&names);
    drnn_state_free(&st);
    cli_close_stdout();
    return EXIT_OK;
}
