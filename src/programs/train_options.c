/* train_options.c: dinornn-train's command line (train_options.h): the
 * options of a run (a table like every program's, cli.h) and the
 * hyperparameters (the library's table); both drive getopt, --help and the
 * checks on resume. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "train_options.h"

static const char data_group[] = "Data", model_group[] = "Model", training_group[] = "Training",
                  output_group[] = "Checkpoints and output";

#define AT(field) offsetof(train_options, field)

static void usage(const cli_table *t)
{
    static const char *const groups[] = {data_group, model_group, training_group, output_group};
    printf("Usage: %s [OPTION]...\n"
           "Train a character-level recurrent network on a list of names (one per line),\n"
           "writing checkpoints between epochs. A list of NAME<TAB>LABEL lines trains a\n"
           "model of names by kind (dinornn-sample --label, --classify).\n",
           cli_program_name);
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    drnn_hparams def;
    drnn_hparams_default(&def);
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        printf("\n%s:\n", groups[g]);
        cli_print_options(t, groups[g]);
        for (size_t i = 0; i < n; i++) {
            const drnn_hparam_info *h = &table[i];
            if (!h->option || strcmp(h->group, groups[g]) != 0)
                continue;
            char value[32];
            drnn_hparam_format(&def, h, value, sizeof value);
            cli_print_option(h->short_option, h->option, h->arg, h->help,
                             h->kind == DRNN_HP_FLAG ? NULL : value);
        }
    }
    printf("\nLosses are mean nats per predicted character (the end of a name counts as one).\n"
           "On SIGINT or SIGTERM the current mini-batch is finished, a checkpoint written,\n"
           "and the run can go on with --resume; a second Ctrl-C stops at once.\n\n"
           "Exit status: 0 success, 1 runtime failure (data, checkpoint, I/O, divergence),\n"
           "2 bad usage, 128+N interrupted by signal N (checkpoint written).\n");
}

/* The options that are not hyperparameters. */
static const cli_option run_rows[] = {
    {.name = "data", .short_name = 'd', .arg = "FILE",
     .help = "names to learn, one per line or NAME<TAB>LABEL\n(default: data/dinos.txt, else\n" DRNN_PKGDATADIR "/dinos.txt)",
     .kind = CLI_TEXT, .offset = AT(data), .group = data_group},
    {.name = "val-data", .arg = "FILE", .help = "validation names from FILE instead of a split",
     .kind = CLI_TEXT, .offset = AT(val_data), .group = data_group},
    {.name = "epochs", .short_name = 'e', .arg = "N",
     .help = "epochs to reach at most, counting resumed ones\n(default 100; --patience stops "
             "earlier)",
     .kind = CLI_LLONG, .offset = AT(epochs), .lo = 1, .hi = 1000000, .group = training_group},
    {.name = "threads", .short_name = 'j', .arg = "N",
     .help = "OpenMP threads (default: OMP_NUM_THREADS or all cores)", .kind = CLI_INT,
     .offset = AT(threads), .lo = 1, .hi = DRNN_MAX_THREADS, .group = training_group},
    {.name = "checkpoint-dir", .short_name = 'c', .arg = "DIR",
     .help = "where latest.ckpt and best.ckpt go\n(default checkpoints)", .kind = CLI_TEXT,
     .offset = AT(checkpoint_dir), .group = output_group},
    {.name = "resume", .short_name = 'r', .arg = "[=FILE]",
     .help = "continue from FILE (default DIR/latest.ckpt) with\nits settings", .kind = CLI_TEXT,
     .offset = AT(resume_file), .given = CLI_GIVEN(train_options, resume),
     .group = output_group},
    {.name = "force", .help = "resume even if the data differs from the checkpoint's",
     .kind = CLI_FLAG, .offset = AT(force), .group = output_group},
    {.name = "overwrite",
     .help = "start a new run in DIR although it holds the\ncheckpoints of another one (they "
             "are deleted)",
     .kind = CLI_FLAG, .offset = AT(overwrite), .group = output_group},
    {.name = "samples", .arg = "N", .help = "names sampled after each epoch (default 5)",
     .kind = CLI_INT, .offset = AT(samples), .lo = 0, .hi = 1000, .group = output_group},
    {.name = "log", .arg = "FILE", .help = "append each epoch's figures to FILE as JSON lines",
     .kind = CLI_TEXT, .offset = AT(log), .group = output_group},
    {.name = "quiet", .short_name = 'q', .help = "print nothing but errors", .kind = CLI_FLAG,
     .offset = AT(quiet), .group = output_group},
    CLI_HELP_OPTION(output_group),
    CLI_VERSION_OPTION(output_group),
};
static const cli_table run_table = CLI_TABLE(run_rows, usage);

enum {
    MAX_RUN_ROWS = sizeof run_rows / sizeof run_rows[0],
    OPT_HPARAM = 1024      /* getopt's code of a hyperparameter: + its row */
};


/* getopt_long's tables: the run's options, then the hyperparameters'. */
static void build_getopt(struct option *longopts, char *shorts, size_t n_hp,
                         const drnn_hparam_info *table)
{
    size_t k = 0;
    shorts[0] = '\0';
    cli_getopt_tables(&run_table, longopts, &k, shorts);
    char *s = shorts + strlen(shorts);
    for (size_t i = 0; i < n_hp; i++) {
        const drnn_hparam_info *h = &table[i];
        if (!h->option)
            continue;
        int has_arg = h->kind == DRNN_HP_FLAG ? no_argument : required_argument;
        longopts[k++] = (struct option){h->option, has_arg, NULL,
                                        h->short_option ? h->short_option : OPT_HPARAM + (int)i};
        if (h->short_option) {
            *s++ = h->short_option;
            *s++ = ':';
        }
    }
    longopts[k] = (struct option){NULL, 0, NULL, 0};
    *s = '\0';
}

/* A hyperparameter option's value, parsed by its row's type and range. */
static void set_hparam(train_options *o, size_t row, const drnn_hparam_info *h, const char *arg)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", h->option);
    double x = 1;
    switch (h->kind) {
    case DRNN_HP_INT: x = (double)cli_int(opt, arg, (long long)h->lo, (long long)h->hi); break;
    case DRNN_HP_REAL: x = cli_real(opt, arg, h->lo, h->hi, h->lo_open); break;
    case DRNN_HP_CHOICE: x = cli_choice(opt, arg, h->choices); break;
    case DRNN_HP_SEED: o->hp.seed = cli_u64(opt, arg); break;
    case DRNN_HP_FLAG: break;
    }
    if (h->kind != DRNN_HP_SEED)
        drnn_hparam_set(&o->hp, h, x);
    o->hp_given[row] = 1;
}

/* The row of a hyperparameter getopt returned, or -1 for another option. */
static int hparam_row(int c, const drnn_hparam_info *table, size_t n)
{
    if (c >= OPT_HPARAM && (size_t)(c - OPT_HPARAM) < n)
        return c - OPT_HPARAM;
    for (size_t i = 0; c > 0 && c < 256 && i < n; i++)
        if (table[i].option && table[i].short_option == c)
            return (int)i;
    return -1;
}

void train_parse_options(train_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    drnn_hparams_default(&o->hp);
    o->epochs = 100;
    o->samples = 5;
    o->checkpoint_dir = "checkpoints";
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    struct option longopts[MAX_RUN_ROWS + TRAIN_MAX_HPARAMS + 1];
    char shorts[3 * (MAX_RUN_ROWS + TRAIN_MAX_HPARAMS) + 1];
    if (n > TRAIN_MAX_HPARAMS)
        cli_die(EXIT_RUNTIME, "too many hyperparameters for this program's tables");
    build_getopt(longopts, shorts, n, table);
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        int row = hparam_row(c, table, n), run_row = cli_row_of(&run_table, c);
        if (row >= 0)
            set_hparam(o, (size_t)row, &table[row], optarg);
        else if (run_row >= 0)
            cli_apply(&run_table, (size_t)run_row, o, optarg);
        else
            cli_usage_error();
    }
    if (optind < argc) {
        cli_message("unexpected argument '%s'", argv[optind]);
        cli_usage_error();
    }
    /* (On resume the checkpoint's optimizer counts, and --momentum must
     * match its value anyway.) */
    if (o->hp.momentum > 0 && o->hp.optimizer != DRNN_OPT_SGD && !o->resume && !o->quiet)
        cli_message("warning: --momentum applies to --optimizer sgd only; ignored with %s",
                    drnn_optimizer_name(o->hp.optimizer));
    const drnn_hparam_info *vf = drnn_hparam_by_option("val-fraction");
    if (vf && o->val_data && o->hp_given[vf - table] && !o->resume && !o->quiet)
        cli_message("warning: --val-fraction does not apply with --val-data (the validation "
                    "names are that file's, the training names all of --data's); ignored");
}

void train_check_resume_options(const train_options *o, const drnn_hparams *ck, const char *path)
{
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    for (size_t i = 0; i < n; i++)
        if (o->hp_given[i] && !table[i].resume_may_change && !drnn_hparam_equal(&o->hp, ck, &table[i])) {
            /* Both values, as the user would write them. */
            char given[64], trained[64];
            drnn_hparam_format(&o->hp, &table[i], given, sizeof given);
            drnn_hparam_format(ck, &table[i], trained, sizeof trained);
            cli_die(EXIT_USAGE,
                    "--%s %s contradicts the checkpoint %s, trained with --%s %s; resume "
                    "without --%s, or start a new run in another --checkpoint-dir",
                    table[i].option, given, path, table[i].option, trained, table[i].option);
        }
    if (o->val_data && !ck->has_val_file) {
        char fraction[64];
        drnn_hparam_format(ck, drnn_hparam_by_option("val-fraction"), fraction, sizeof fraction);
        cli_die(EXIT_USAGE,
                "--val-data contradicts the checkpoint %s, which validates on the part of its "
                "training names that --val-fraction %s held out; resume without --val-data, or "
                "start a new run in another --checkpoint-dir", path, fraction);
    }
    if (ck->has_val_file && !o->val_data)
        cli_die(EXIT_USAGE,
                "the checkpoint %s was validated on its own file: give it again with --val-data",
                path);
}

void train_apply_resume_options(const train_options *o, drnn_hparams *ck)
{
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    for (size_t i = 0; i < n; i++)
        if (o->hp_given[i] && table[i].resume_may_change)
            drnn_hparam_set(ck, &table[i], drnn_hparam_get(&o->hp, &table[i]));
}
