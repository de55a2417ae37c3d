/* cli.h: what the programs share: exit statuses, options from a table,
 * strict parsing of option values, and messages in the GNU "program: what
 * went wrong" form. */
#ifndef DINORNN_CLI_H
#define DINORNN_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dinornn/dinornn.h"

/* Exit statuses, the same for every program (docs/errors.md). An
 * interrupted run exits with 128 + the signal's number. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,   /* bad data or checkpoint, I/O error, diverged training */
    EXIT_USAGE = 2      /* bad command line */
};

/* Strict parsers behind the option helpers below. A number is plain
 * decimal, the whole string: no blanks, no hexadecimal, no inf or nan.
 * A value that overflows is out of range. *out is set only when OK. */
typedef enum cli_number { CLI_NUMBER_OK, CLI_BAD_SYNTAX, CLI_OUT_OF_RANGE } cli_number;
cli_number cli_parse_int(const char *arg, long long lo, long long hi, long long *out);
cli_number cli_parse_u64(const char *arg, uint64_t *out);
cli_number cli_parse_real(const char *arg, double lo, double hi, int lo_open, double *out);

/* The program's name in its messages ("dinornn-train"): each program
 * defines it, once. */
extern const char cli_program_name[];

/* Parses option value arg of option opt as an integer in [lo, hi]; on
 * failure prints why ("--opt: 0 is out of range (must be from 1 to 16)")
 * and exits EXIT_USAGE. */
long long cli_int(const char *opt, const char *arg, long long lo, long long hi);
uint64_t cli_u64(const char *opt, const char *arg);
/* A finite number in [lo, hi]; lo_open excludes lo itself. */
double cli_real(const char *opt, const char *arg, double lo, double hi, int lo_open);
/* Checks the OpenMP variables like options: OMP_NUM_THREADS (also its
 * list form "4,2") and OMP_THREAD_LIMIT must be whole numbers from 1 to
 * INT_MAX, OMP_DYNAMIC true or false; otherwise exits EXIT_USAGE naming the
 * variable, its value and what to write. Returns the most threads a
 * program may ask for (DRNN_MAX_THREADS, or OMP_THREAD_LIMIT if lower);
 * *dynamic: whether OMP_DYNAMIC lets OpenMP give fewer. */
int cli_thread_limit(int *dynamic);
/* Checks the OpenMP variables (cli_thread_limit), then sets OpenMP's
 * thread count: requested (from --threads) if > 0, refused (EXIT_USAGE)
 * above OMP_THREAD_LIMIT; else OMP_NUM_THREADS or the cores, within
 * OMP_THREAD_LIMIT and capped at DRNN_MAX_THREADS with a warning (unless
 * quiet). Returns the count in effect, at least 1. */
int cli_threads(int requested, int quiet);
/* bytes as "812 MB" or "54.3 GB" in buf; returns buf. */
const char *cli_size(double bytes, char *buf, size_t size);
/* The memory this process may still take, in bytes: the machine's, or less
 * under ulimit -v or -d; *what says which ("the machine's memory", "what
 * ulimit -v leaves"). 0 when unknown. */
double cli_memory_limit(const char **what);
/* Index of arg in the NULL-terminated list choices, or exits naming them. */
int cli_choice(const char *opt, const char *arg, const char *const *choices);
/* "program: message" on stderr. */
void cli_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "program: message" on stderr and exit(status). */
_Noreturn void cli_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says to try --help and exits EXIT_USAGE. */
_Noreturn void cli_usage_error(void);

/* How an option's value is read, and where it goes: the field of the
 * program's options struct at the row's offset. */
typedef enum cli_kind {
    CLI_FLAG,       /* no value: the int becomes 1 */
    CLI_TEXT,       /* the value as given (const char *; NULL: an optional one left out) */
    CLI_INT,        /* a whole number in [lo, hi], into an int */
    CLI_LLONG,      /* the same, into a long long */
    CLI_U64,        /* any uint64_t */
    CLI_REAL,       /* a finite number in [lo, hi] (lo excluded when lo_open), into a double */
    CLI_CHOICE,     /* the index of the value among choices, into an int */
    CLI_LIST,       /* the value appended to a cli_list, at most hi of them (a
                     * repeatable option; 0: CLI_LIST_MAX) */
    CLI_PARSE,      /* parse(options, value) reads it */
    CLI_HELP,       /* prints the help, exits 0 */
    CLI_VERSION     /* prints the version, exits 0 */
} cli_kind;

/* The values of a repeatable option (CLI_LIST), in the order given. */
enum { CLI_LIST_MAX = 32 };
typedef struct cli_list {
    const char *items[CLI_LIST_MAX];
    int count;
} cli_list;

/* A row's given: the int of the options struct that becomes 1 whenever the
 * option is given (its offset + 1, so that 0 means none). */
#define CLI_GIVEN(type, field) (offsetof(type, field) + 1)

/* One row of a program's options: getopt_long's tables and --help are
 * made from the rows, in their order. */
typedef struct cli_option {
    const char *name;         /* --name */
    char short_name;          /* -x, or 0 */
    const char *arg;          /* the value in --help ("FILE"; "[=FILE]": an optional
                               * one), NULL for none */
    const char *help;         /* "\n" starts a continuation line */
    cli_kind kind;
    size_t offset;            /* of the value in the options struct */
    double lo, hi;            /* CLI_INT, CLI_LLONG, CLI_REAL; hi: CLI_LIST's bound */
    int lo_open;              /* CLI_REAL */
    const char *const *choices;   /* CLI_CHOICE: NULL-terminated */
    void (*parse)(void *options, const char *value);  /* CLI_PARSE */
    size_t given;             /* CLI_GIVEN(...), or 0 */
    const char *group;        /* the --help section it is listed in, or NULL */
} cli_option;

/* The rows of --help and --version, in a --help section (or NULL). */
#define CLI_HELP_OPTION(section)                                            \
    {.name = "help", .short_name = 'h', .help = "display this help and exit", \
     .kind = CLI_HELP, .group = (section)}
#define CLI_VERSION_OPTION(section)                                          \
    {.name = "version", .help = "output version information and exit",      \
     .kind = CLI_VERSION, .group = (section)}

/* --format's choices: the index is whether the output is JSON. */
extern const char *const cli_formats[];

/* A program's options, and what its --help and --version print. */
typedef struct cli_table cli_table;
struct cli_table {
    const cli_option *rows;
    size_t count;
    void (*usage)(const cli_table *t);  /* the whole --help text (cli_print_options(t, ...)
                                         * lists the rows) */
    const char *package, *version;  /* --version: "PROGRAM (PACKAGE) VERSION" */
};

/* A program's table of its array of rows and its usage (config.h included). */
#define CLI_TABLE(rows, usage) \
    {(rows), sizeof(rows) / sizeof((rows)[0]), (usage), PACKAGE_NAME, PACKAGE_VERSION}

/* Reads argv's options by the table into *options; --help and --version
 * print and exit 0; an unknown option exits EXIT_USAGE. Returns the index
 * of the first operand. */
int cli_parse(const cli_table *t, void *options, int argc, char **argv);

/* The codes getopt_long returns for the rows: a row's short option, else
 * CLI_LONG_CODE + its index. */
enum { CLI_LONG_CODE = 256 };
/* Appends the rows to getopt_long's tables (longopts from *n on, shorts
 * from its end; both with room for them), advancing *n. */
void cli_getopt_tables(const cli_table *t, struct option *longopts, size_t *n, char *shorts);
/* The row that getopt_long's code c stands for, or -1. */
int cli_row_of(const cli_table *t, int c);
/* Sets row's value in *options from value (optarg). */
void cli_apply(const cli_table *t, size_t row, void *options, const char *value);

/* One --help entry: "  -b, --batch=N" then its help from column 28, and
 * def (when not NULL) as "(default DEF)" after its last line. */
void cli_print_option(char short_name, const char *name, const char *arg, const char *help,
                      const char *def);
/* The entries of the rows of a group (NULL: every row), in order. */
void cli_print_options(const cli_table *t, const char *group);

/* Loads the checkpoint at path, or when path is NULL checkpoints/best.ckpt,
 * else checkpoints/latest.ckpt; exits EXIT_RUNTIME with a message on failure.
 * Returns the path used. */
const char *cli_load_checkpoint(const char *path, drnn_train_state *st);

/* Encodes text (UTF-8, lowercased unless the model keeps case) as tokens of
 * the model's vocabulary into out (room for DRNN_MAX_NAME_LEN); what names
 * the text in messages. Exits EXIT_USAGE on a symbol outside the vocabulary. */
int cli_encode(const char *what, const char *text, const drnn_train_state *st, drnn_token *out);
/* The same, returning -1 with the message in msg (size bytes) instead of
 * exiting: an empty or blank text ("WHAT: '' is empty: ..."), several
 * lines, or the library's message ("WHAT:1: symbol '7' ..."). */
int cli_encode_try(const char *what, const char *text, const drnn_train_state *st,
                   drnn_token *out, char *msg, size_t size);
/* msg without the "LABEL:LINE: " or "LABEL: " it starts with (the library
 * names text it was given as a file's line). */
const char *cli_after_label(const char *msg, const char *label);

/* Writes s as a JSON string literal. */
void cli_json_string(FILE *fp, const char *s);
/* x as a JSON number that reads back as exactly x (the shortest of %.15g,
 * %.16g, %.17g that does), or "null" when x is NaN or infinite, which JSON
 * cannot write. Returns buf (at least 32 bytes). */
const char *cli_json_number(char *buf, size_t size, double x);

/* Exits EXIT_RUNTIME ("cannot write to standard output: WHY") once a write
 * to standard output has failed: a program stops as soon as its output is
 * gone (a full disk; a closed pipe when SIGPIPE is ignored). */
void cli_check_stdout(void);
/* Flushes and closes standard output, exiting EXIT_RUNTIME if anything
 * written to it was lost. Call it last, or before exit(EXIT_OK). */
void cli_close_stdout(void);

/* Writes len bytes to path crash-safe (a temporary file beside it, flushed,
 * renamed over it); exits EXIT_RUNTIME naming path on failure. */
void cli_write_file(const char *path, const unsigned char *buf, size_t len);
/* Exits EXIT_USAGE unless path may be written as a new kind file: absent,
 * or (with force) a regular file that is not input. */
void cli_check_output(const char *path, const char *input, int force, const char *kind);

/* s as one word of a POSIX shell command line: as it is when it holds only
 * characters that need no quoting, else in single quotes. The caller frees it. */
char *cli_shell_word(const char *s);
#endif
