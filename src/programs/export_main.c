/* dinornn-export: the model of a checkpoint as a safetensors file in
 * torch.nn's layout, or as an ONNX graph (docs/interop.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "dinornn/dinornn.h"

const char cli_program_name[] = "dinornn-export";

enum { FORMAT_AUTO = -1, FORMAT_SAFETENSORS, FORMAT_ONNX };
static const char *const formats[] = {"safetensors", "onnx", NULL};

typedef struct options {
    const char *checkpoint, *output;
    int format, force, quiet;
} options;

#define AT(field) offsetof(options, field)

static void usage(const cli_table *t)
{
    printf("Usage: %s [OPTION]... [CHECKPOINT] -o FILE\n"
           "Write the model of a checkpoint of dinornn-train for other programs: a\n"
           "safetensors file whose tensors are named as torch.nn.GRU, LSTM or RNN and\n"
           "torch.nn.Linear name theirs (for PyTorch), or an ONNX graph of one step of the\n"
           "model (for ONNX Runtime and the other ONNX runtimes). The vocabulary, the\n"
           "labels and the run's settings go with it. A mixture of models is written as\n"
           "its members. dinornn-import reads the safetensors file back.\n\n",
           cli_program_name);
    cli_print_options(t, NULL);
    printf("\nThe format follows FILE's extension (.onnx: ONNX; else safetensors) unless\n"
           "--format says. docs/interop.md gives the mapping, tensor by tensor.\n\n"
           "Examples:\n"
           "  %s checkpoints/best.ckpt -o dinos.safetensors\n"
           "  %s checkpoints/best.ckpt -o dinos.onnx\n"
           "\nExit status: 0 success, 1 runtime failure (checkpoint, output), 2 bad usage.\n",
           cli_program_name, cli_program_name);
}

static const cli_option option_rows[] = {
    {.name = "checkpoint", .short_name = 'c', .arg = "FILE",
     .help = "model to export (or give it as CHECKPOINT; default\ncheckpoints/best.ckpt, else "
             "checkpoints/latest.ckpt)",
     .kind = CLI_TEXT, .offset = AT(checkpoint)},
    {.name = "output", .short_name = 'o', .arg = "FILE", .help = "the file to write (required)",
     .kind = CLI_TEXT, .offset = AT(output)},
    {.name = "format", .short_name = 'f', .arg = "FORMAT",
     .help = "safetensors or onnx (default: from FILE's name)", .kind = CLI_CHOICE,
     .offset = AT(format), .choices = formats},
    {.name = "force", .help = "replace FILE if it exists (never a checkpoint)", .kind = CLI_FLAG,
     .offset = AT(force)},
    {.name = "quiet", .short_name = 'q', .help = "print nothing on success", .kind = CLI_FLAG,
     .offset = AT(quiet)},
    CLI_HELP_OPTION(NULL),
    CLI_VERSION_OPTION(NULL),
};
static const cli_table option_table = CLI_TABLE(option_rows, usage);

static void parse_options(options *o, int argc, char **argv)
{
    int first = cli_parse(&option_table, o, argc, argv);
    if (first < argc && !o->checkpoint)
        o->checkpoint = argv[first++];
    if (first < argc) {
        cli_message("unexpected argument '%s'", argv[first]);
        cli_usage_error();
    }
    if (!o->output) {
        cli_message("no output: give the file to write with -o FILE (.safetensors or .onnx)");
        cli_usage_error();
    }
    if (o->format == FORMAT_AUTO) {
        size_t n = strlen(o->output);
        o->format = n >= 5 && strcmp(o->output + n - 5, ".onnx") == 0 ? FORMAT_ONNX
                                                                      : FORMAT_SAFETENSORS;
    }
}

/* A checkpoint is never replaced by an export, --force or not: said before
 * "exists; give --force", which would not help. Only a regular file is
 * opened (a FIFO would block; cli_check_output refuses the others). */
static void refuse_checkpoint(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    FILE *fp = fopen(path, "rb");
    char magic[8];
    if (fp && fread(magic, 1, 8, fp) == 8 && memcmp(magic, DRNN_CKPT_MAGIC, 8) == 0) {
        fclose(fp);
        cli_die(EXIT_USAGE, "%s is a dinornn checkpoint; an export does not replace one: "
                "write it to another file", path);
    }
    if (fp)
        fclose(fp);
}

int main(int argc, char **argv)
{
    options o = {.format = FORMAT_AUTO};
    parse_options(&o, argc, argv);
    drnn_train_state st;
    const char *ckpt = cli_load_checkpoint(o.checkpoint, &st);
    refuse_checkpoint(o.output);
    cli_check_output(o.output, ckpt, o.force, formats[o.format]);
    unsigned char *buf;
    size_t len;
    drnn_error err;
    int rc = o.format == FORMAT_ONNX ? drnn_onnx_encode(&st, &buf, &len, &err)
                                     : drnn_safetensors_encode(&st, &buf, &len, &err);
    if (rc)
        cli_die(EXIT_RUNTIME, "%s: %s", ckpt, err.message);
    cli_write_file(o.output, buf, len);
    if (!o.quiet) {
        drnn_params parts[DRNN_MAX_MEMBERS];
        drnn_model m = drnn_state_model(&st, parts);
        printf("%s: %s, %s %dx%d, %d symbol%s%s", o.output, formats[o.format],
               drnn_cell_name(m.cfg.cell), m.cfg.layers, m.cfg.hidden, m.cfg.vocab - 1,
               m.cfg.vocab == 2 ? "" : "s", m.count > 1 ? ", " : "");
        if (m.count > 1)
            printf("a mixture of %d", m.count);
        if (m.cfg.labels > 0)
            printf(", %d label%s", m.cfg.labels, m.cfg.labels == 1 ? "" : "s");
        printf(" (%zu bytes)\n", len);
    }
    free(buf);
    drnn_state_free(&st);
    cli_close_stdout();
    return EXIT_OK;
}
