/* dinornn-import: a safetensors file in torch.nn's layout (saved from
 * PyTorch, or written by dinornn-export) as a dinornn checkpoint, for
 * dinornn-sample and dinornn-eval (docs/interop.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"

const char cli_program_name[] = "dinornn-import";

typedef struct options {
    const char *output;
    int force, quiet;
} options;

#define AT(field) offsetof(options, field)

static void usage(const cli_table *t)
{
    printf("Usage: %s [OPTION]... FILE -o CHECKPOINT\n"
           "Read a character model from a safetensors file whose tensors are named as\n"
           "torch.nn.GRU, LSTM or RNN and torch.nn.Linear name theirs, with its vocabulary\n"
           "in the metadata (a file of dinornn-export, or of a PyTorch model saved by\n"
           "scripts/torch-train), and write it as a dinornn checkpoint for dinornn-sample\n"
           "and dinornn-eval.\n\n",
           cli_program_name);
    cli_print_options(t, NULL);
    printf("\ndocs/interop.md gives the tensors and metadata keys a file needs.\n\n"
           "Example:\n"
           "  %s names.safetensors -o names.ckpt\n"
           "\nExit status: 0 success, 1 runtime failure (the file, the output), 2 bad usage.\n",
           cli_program_name);
}

static const cli_option option_rows[] = {
    {.name = "output", .short_name = 'o', .arg = "CHECKPOINT",
     .help = "the checkpoint to write (required)", .kind = CLI_TEXT, .offset = AT(output)},
    {.name = "force", .help = "replace CHECKPOINT if it exists", .kind = CLI_FLAG,
     .offset = AT(force)},
    {.name = "quiet", .short_name = 'q', .help = "print nothing on success", .kind = CLI_FLAG,
     .offset = AT(quiet)},
    CLI_HELP_OPTION(NULL),
    CLI_VERSION_OPTION(NULL),
};
static const cli_table option_table = CLI_TABLE(option_rows, usage);

int main(int argc, char **argv)
{
    options o = {0};
    int first = cli_parse(&option_table, &o, argc, argv);
    if (first >= argc) {
        cli_message("no input: give the safetensors file to read");
        cli_usage_error();
    }
    if (first + 1 < argc) {
        cli_message("unexpected argument '%s'", argv[first + 1]);
        cli_usage_error();
    }
    if (!o.output) {
        cli_message("no output: give the checkpoint to write with -o CHECKPOINT");
        cli_usage_error();
    }
    const char *input = argv[first];
    cli_check_output(o.output, input, o.force, "checkpoint");
    drnn_train_state st;
    drnn_error err;
    if (drnn_safetensors_load(&st, input, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    if (drnn_checkpoint_save(&st, o.output, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    if (!o.quiet) {
        drnn_params parts[DRNN_MAX_MEMBERS];
        drnn_model m = drnn_state_model(&st, parts);
        printf("%s: %s %dx%d, %d symbol%s", o.output, drnn_cell_name(m.cfg.cell), m.cfg.layers,
               m.cfg.hidden, m.cfg.vocab - 1, m.cfg.vocab == 2 ? "" : "s");
        if (m.count > 1)
            printf(", a mixture of %d", m.count);
        if (m.cfg.labels > 0) {
            char list[256];
            drnn_label_table_list(&st.labels, list, sizeof list);
            printf(", labels %s", list);
        }
        printf("\n");
    }
    drnn_state_free(&st);
    cli_close_stdout();
    return EXIT_OK;
}
