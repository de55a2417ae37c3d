/* cli.c: strict option-value parsing shared by the programs. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#ifdef _OPENMP
#include <omp.h>
#endif

void cli_die(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

void cli_usage_error(const char *prog)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    exit(EXIT_USAGE);
}

/* Every number on a command line is plain decimal: an optional sign, digits
 * with at most one '.', an optional exponent; nothing before or after it.
 * strtod alone would also take blanks, hex floats, "inf" and "nan". */
static int decimal_syntax(const char *s, int real)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (real && *p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (digits == 0)
        return 0;
    if (real && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return 0;
        p += exp;
    }
    return *p == '\0';
}

cli_number cli_parse_int(const char *arg, long long lo, long long hi, long long *out)
{
    if (!decimal_syntax(arg, 0))
        return CLI_BAD_SYNTAX;
    char *end;
    errno = 0;
    long long x = strtoll(arg, &end, 10);
    /* Overflow is a value out of range, like any other. */
    if (errno == ERANGE || x < lo || x > hi)
        return CLI_OUT_OF_RANGE;
    *out = x;
    return CLI_NUMBER_OK;
}

cli_number cli_parse_u64(const char *arg, uint64_t *out)
{
    if (!decimal_syntax(arg, 0))
        return CLI_BAD_SYNTAX;
    /* strtoull would turn "-1" into a huge number. */
    if (arg[0] == '-')
        return strspn(arg + 1, "0") == strlen(arg + 1) ? (*out = 0, CLI_NUMBER_OK)
                                                        : CLI_OUT_OF_RANGE;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    if (errno == ERANGE)
        return CLI_OUT_OF_RANGE;
    *out = (uint64_t)x;
    return CLI_NUMBER_OK;
}

cli_number cli_parse_real(const char *arg, double lo, double hi, int lo_open, double *out)
{
    if (!decimal_syntax(arg, 1))
        return CLI_BAD_SYNTAX;
    char *end;
    errno = 0;
    /* An underflow gives 0 or a tiny value, which the range then judges;
     * an overflow gives infinity, which it refuses. */
    double x = strtod(arg, &end);
    if (!isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
        return CLI_OUT_OF_RANGE;
    *out = x;
    return CLI_NUMBER_OK;
}

/* Why arg is not a number, for the message. */
static const char *syntax_problem(const char *arg)
{
    size_t n = strlen(arg);
    if (n == 0)
        return "is empty";
    if (isspace((unsigned char)arg[0]) || isspace((unsigned char)arg[n - 1]))
        return "has blanks around it";
    const char *p = arg + (arg[0] == '+' || arg[0] == '-');
    if (strncasecmp(p, "inf", 3) == 0 || strncasecmp(p, "nan", 3) == 0)
        return "is not a finite number";
    return NULL;
}

long long cli_int(const char *prog, const char *opt, const char *arg, long long lo, long long hi)
{
    long long x;
    switch (cli_parse_int(arg, lo, hi, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(prog, EXIT_USAGE, "%s: %s is out of range (must be from %lld to %lld)", opt, arg,
                lo, hi);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(prog, EXIT_USAGE,
                "%s: '%s' %s (write it in decimal digits; it must be from %lld to %lld)", opt,
                arg, why ? why : "is not a whole number", lo, hi);
    }
    }
}

uint64_t cli_u64(const char *prog, const char *opt, const char *arg)
{
    uint64_t x;
    switch (cli_parse_u64(arg, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(prog, EXIT_USAGE, "%s: %s is out of range (must be from 0 to %" PRIu64 ")", opt,
                arg, UINT64_MAX);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(prog, EXIT_USAGE,
                "%s: '%s' %s (write it in decimal digits; it must be from 0 to %" PRIu64 ")",
                opt, arg, why ? why : "is not a whole number", UINT64_MAX);
    }
    }
}

double cli_real(const char *prog, const char *opt, const char *arg, double lo, double hi,
                int lo_open)
{
    double x;
    switch (cli_parse_real(arg, lo, hi, lo_open, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(prog, EXIT_USAGE, "%s: %s is out of range (must be %s %g and <= %g)", opt, arg,
                lo_open ? ">" : ">=", lo, hi);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(prog, EXIT_USAGE,
                "%s: '%s' %s (write it like 0.5 or 1e-3; it must be %s %g and <= %g)",
                opt, arg, why ? why : "is not a decimal number", lo_open ? ">" : ">=", lo, hi);
    }
    }
}

int cli_threads(const char *prog, int requested, int quiet)
{
#ifdef _OPENMP
    if (requested > 0) {
        omp_set_num_threads(requested);
    } else if (omp_get_max_threads() > DRNN_MAX_THREADS) {
        /* The same cap as --threads: libgomp crashes trying to start 70000. */
        if (!quiet)
            fprintf(stderr,
                    "%s: warning: OMP_NUM_THREADS asks for %d threads, more than the %d "
                    "allowed (as with --threads); using %d\n",
                    prog, omp_get_max_threads(), DRNN_MAX_THREADS, DRNN_MAX_THREADS);
        omp_set_num_threads(DRNN_MAX_THREADS);
    }
    return omp_get_max_threads();
#else
    (void)prog, (void)requested, (void)quiet;
    return 1;
#endif
}

const char *cli_size(double bytes, char *buf, size_t size)
{
    if (bytes >= 1e9)
        snprintf(buf, size, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, size, "%.0f MB", bytes / 1e6);
    else
        snprintf(buf, size, "%.0f kB", bytes / 1e3);
    return buf;
}

/* The address space this process already takes (Linux), else 0. */
static double vm_in_use(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (fp) {
        if (fscanf(fp, "%lu", &pages) != 1)
            pages = 0;
        fclose(fp);
    }
    return (double)pages * (double)sysconf(_SC_PAGESIZE);
}

double cli_memory_limit(const char **what)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double limit = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    *what = "the machine's memory";
    /* ulimit -v and -d bound what is left of them. */
    static const struct { int resource; const char *what; } limits[] = {
        {RLIMIT_AS, "what ulimit -v leaves"},
        {RLIMIT_DATA, "what ulimit -d leaves"},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit rl;
        if (getrlimit(limits[i].resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
            continue;
        double left = (double)rl.rlim_cur - vm_in_use();
        if (left < 0)
            left = 0;
        if (limit == 0 || left < limit) {
            limit = left;
            *what = limits[i].what;
        }
    }
    return limit;
}

int cli_choice(const char *prog, const char *opt, const char *arg, const char *const *choices)
{
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(arg, choices[i]) == 0)
            return i;
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    cli_die(prog, EXIT_USAGE, "invalid value '%s' for %s: expected one of %s", arg, opt, list);
}

const char *cli_load_checkpoint(const char *prog, const char *path, drnn_train_state *st)
{
    drnn_error err;
    if (!path) {
        path = access("checkpoints/best.ckpt", F_OK) == 0 ? "checkpoints/best.ckpt"
                                                           : "checkpoints/latest.ckpt";
        if (access(path, F_OK) != 0)
            cli_die(prog, EXIT_RUNTIME,
                    "no checkpoint in checkpoints/: train one with dinornn-train, or give "
                    "--checkpoint FILE");
    }
    if (drnn_checkpoint_load(st, path, &err))
        cli_die(prog, EXIT_RUNTIME, "%s", err.message);
    return path;
}

int cli_encode(const char *prog, const char *what, const char *text, const drnn_train_state *st,
               drnn_token *out)
{
    drnn_names names;
    drnn_corpus corpus;
    drnn_error err;
    drnn_names_options opts = {.keep_case = st->hp.keep_case};
    if (drnn_names_parse(&names, text, strlen(text), what, &opts, &err))
        cli_die(prog, EXIT_USAGE, "%s", err.message);
    if (names.count != 1)
        cli_die(prog, EXIT_USAGE, "%s: '%s' must be one name on one line", what, text);
    if (drnn_corpus_encode(&corpus, &names, &st->vocab, 0, what, &err))
        cli_die(prog, EXIT_USAGE, "%s", err.message);
    int len = drnn_corpus_len(&corpus, 0);
    memcpy(out, corpus.tokens, (size_t)len * sizeof *out);
    drnn_corpus_free(&corpus);
    drnn_names_free(&names);
    return len;
}

void cli_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

const char *cli_json_number(char *buf, size_t size, double x)
{
    if (!buf || size < 32)
        return "null"; /* a caller's mistake: room for 17 digits and an exponent */
    if (!isfinite(x)) {
        snprintf(buf, size, "null");
        return buf;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

/* Exits naming standard output and why it failed (errno of the failure, when known). */
static _Noreturn void stdout_failed(const char *prog, int e)
{
    if (e)
        cli_die(prog, EXIT_RUNTIME, "cannot write to standard output: %s", strerror(e));
    cli_die(prog, EXIT_RUNTIME, "cannot write to standard output");
}

void cli_check_stdout(const char *prog)
{
    if (ferror(stdout))
        stdout_failed(prog, errno);
}

void cli_close_stdout(const char *prog)
{
    /* A failed write leaves its bytes buffered: flushing again says why. */
    int failed = ferror(stdout), e = 0;
    if (fflush(stdout) != 0) {
        failed = 1;
        e = errno;
    }
    if (fclose(stdout) != 0) {
        failed = 1;
        e = e ? e : errno;
    }
    if (failed)
        stdout_failed(prog, e);
}

char *cli_shell_word(const char *s)
{
    static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_-./:=,+@%";
    size_t n = strlen(s), quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += s[i] == '\'';
    char *out = malloc(n + 3 * quotes + 3);
    if (!out)
        return NULL;
    if (n > 0 && strspn(s, safe) == n) {
        memcpy(out, s, n + 1);
        return out;
    }
    /* Inside single quotes only ' itself is special: close, escape, reopen. */
    char *o = out;
    *o++ = '\'';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = s[i];
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}
