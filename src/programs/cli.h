/* cli.h: what the three programs share: exit statuses, strict parsing of
 * option values, and messages in the GNU "program: what went wrong" form. */
#ifndef DINORNN_CLI_H
#define DINORNN_CLI_H

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

/* Parses option value arg of option opt as an integer in [lo, hi]; on
 * failure prints why ("--opt: 0 is out of range (must be from 1 to 16)")
 * and exits EXIT_USAGE. */
long long cli_int(const char *prog, const char *opt, const char *arg, long long lo, long long hi);
uint64_t cli_u64(const char *prog, const char *opt, const char *arg);
/* A finite number in [lo, hi]; lo_open excludes lo itself. */
double cli_real(const char *prog, const char *opt, const char *arg, double lo, double hi,
                int lo_open);
/* Sets OpenMP's thread count: requested (from --threads) if > 0, else
 * OMP_NUM_THREADS or the cores, capped at DRNN_MAX_THREADS with a warning
 * (unless quiet). Returns the count in effect. */
int cli_threads(const char *prog, int requested, int quiet);
/* bytes as "812 MB" or "54.3 GB" in buf; returns buf. */
const char *cli_size(double bytes, char *buf, size_t size);
/* The memory this process may still take, in bytes: the machine's, or less
 * under ulimit -v or -d; *what says which ("the machine's memory", "what
 * ulimit -v leaves"). 0 when unknown. */
double cli_memory_limit(const char **what);
/* Index of arg in the NULL-terminated list choices, or exits naming them. */
int cli_choice(const char *prog, const char *opt, const char *arg, const char *const *choices);
/* "prog: message" on stderr and exit(status). */
_Noreturn void cli_die(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Says to try --help and exits EXIT_USAGE. */
_Noreturn void cli_usage_error(const char *prog);


/* Loads the checkpoint at path, or when path is NULL checkpoints/best.ckpt,
 * else checkpoints/latest.ckpt; exits EXIT_RUNTIME with a message on failure.
 * Returns the path used. */
const char *cli_load_checkpoint(const char *prog, const char *path, drnn_train_state *st);

/* Encodes text (UTF-8, lowercased unless the model keeps case) as tokens of
 * the model's vocabulary into out (room for DRNN_MAX_NAME_LEN); what names
 * the text in messages. Exits EXIT_USAGE on a symbol outside the vocabulary. */
int cli_encode(const char *prog, const char *what, const char *text, const drnn_train_state *st,
               drnn_token *out);

/* Writes s as a JSON string literal. */
void cli_json_string(FILE *fp, const char *s);
/* x as a JSON number that reads back as exactly x (the shortest of %.15g,
 * %.16g, %.17g that does), or "null" when x is NaN or infinite, which JSON
 * cannot write. Returns buf (at least 32 bytes). */
const char *cli_json_number(char *buf, size_t size, double x);

/* Exits EXIT_RUNTIME ("cannot write to standard output: WHY") once a write
 * to standard output has failed: a program stops as soon as its output is
 * gone (a full disk; a closed pipe when SIGPIPE is ignored). */
void cli_check_stdout(const char *prog);
/* Flushes and closes standard output, exiting EXIT_RUNTIME if anything
 * written to it was lost. Call it last, or before exit(EXIT_OK). */
void cli_close_stdout(const char *prog);

/* s as one word of a POSIX shell command line: as it is when it holds only
 * characters that need no quoting, else in single quotes. The caller frees it. */
char *cli_shell_word(const char *s);
#endif
