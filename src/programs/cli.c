/* cli.c: what the programs share: messages, strict option-value parsing,
 * options (getopt_long's tables and --help) from a table, and output. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static void vmessage(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", cli_program_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

void cli_die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    exit(status);
}

void cli_usage_error(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", cli_program_name);
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

long long cli_int(const char *opt, const char *arg, long long lo, long long hi)
{
    long long x;
    switch (cli_parse_int(arg, lo, hi, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(EXIT_USAGE, "%s: %s is out of range (must be from %lld to %lld)", opt, arg,
                lo, hi);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(EXIT_USAGE,
                "%s: '%s' %s (write it in decimal digits; it must be from %lld to %lld)", opt,
                arg, why ? why : "is not a whole number", lo, hi);
    }
    }
}

uint64_t cli_u64(const char *opt, const char *arg)
{
    uint64_t x;
    switch (cli_parse_u64(arg, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(EXIT_USAGE, "%s: %s is out of range (must be from 0 to %" PRIu64 ")", opt,
                arg, UINT64_MAX);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(EXIT_USAGE,
                "%s: '%s' %s (write it in decimal digits; it must be from 0 to %" PRIu64 ")",
                opt, arg, why ? why : "is not a whole number", UINT64_MAX);
    }
    }
}

double cli_real(const char *opt, const char *arg, double lo, double hi, int lo_open)
{
    double x;
    switch (cli_parse_real(arg, lo, hi, lo_open, &x)) {
    case CLI_NUMBER_OK:
        return x;
    case CLI_OUT_OF_RANGE:
        cli_die(EXIT_USAGE, "%s: %s is out of range (must be %s %g and <= %g)", opt, arg,
                lo_open ? ">" : ">=", lo, hi);
    default: {
        const char *why = syntax_problem(arg);
        cli_die(EXIT_USAGE,
                "%s: '%s' %s (write it like 0.5 or 1e-3; it must be %s %g and <= %g)",
                opt, arg, why ? why : "is not a decimal number", lo_open ? ">" : ">=", lo, hi);
    }
    }
}

/* ---- the OpenMP variables, read like options ---- */

/* An OpenMP count variable: whole numbers from 1 to INT_MAX (what OpenMP
 * holds: a larger one comes back from the runtime as 0 or negative), a
 * comma-separated list of them when list (OMP_NUM_THREADS's levels of
 * nesting); use says what to write instead. Exits EXIT_USAGE naming the
 * variable, its value and the item at fault. Returns the first number, or 0
 * when the variable is not set. */
static int env_count(const char *name, int list, const char *use)
{
    const char *value = getenv(name);
    if (!value)
        return 0;
    char *copy = strdup(value);
    if (!copy)
        cli_die(EXIT_RUNTIME, "out of memory");
    long long first = 0;
    for (char *item = copy, *comma;; item = comma + 1) {
        comma = list ? strchr(item, ',') : NULL;
        if (comma)
            *comma = '\0';
        long long x;
        cli_number rc = cli_parse_int(item, 1, INT_MAX, &x);
        if (rc != CLI_NUMBER_OK) {
            const char *why = rc == CLI_OUT_OF_RANGE ? "is out of range" : syntax_problem(item);
            why = why ? why : "is not a whole number";
            if (strcmp(item, value) == 0)
                cli_die(EXIT_USAGE, "%s='%s' %s: %s", name, value, why, use);
            cli_die(EXIT_USAGE, "%s='%s': '%s' %s: %s", name, value, item, why, use);
        }
        first = first ? first : x;
        if (!comma)
            break;
    }
    free(copy);
    return (int)first;
}

int cli_thread_limit(int *dynamic)
{
    env_count("OMP_NUM_THREADS", 1,
              "write a thread count from 1 to 2147483647 (of which dinornn uses up to 1024), "
              "or such counts separated by commas, like OMP_NUM_THREADS=4; or unset it "
              "(unset OMP_NUM_THREADS) to use every core");
    int limit = env_count("OMP_THREAD_LIMIT", 0,
                          "write the most threads to use, from 1 to 2147483647, like "
                          "OMP_THREAD_LIMIT=4; or unset it (unset OMP_THREAD_LIMIT)");
    const char *dyn = getenv("OMP_DYNAMIC");
    if (dyn && strcasecmp(dyn, "true") != 0 && strcasecmp(dyn, "false") != 0)
        cli_die(EXIT_USAGE, "OMP_DYNAMIC='%s' is neither true nor false: write OMP_DYNAMIC=false "
                "(or true), or unset it (unset OMP_DYNAMIC)", dyn);
    *dynamic = dyn && strcasecmp(dyn, "true") == 0;
    return limit > 0 && limit < DRNN_MAX_THREADS ? limit : DRNN_MAX_THREADS;
}

int cli_threads(int requested, int quiet)
{
    int dynamic;
    const int limit = cli_thread_limit(&dynamic);
    if (requested > limit)
        cli_die(EXIT_USAGE, "--threads %d is above OMP_THREAD_LIMIT=%d, which OpenMP does not "
                "exceed: give --threads %d or fewer, or raise OMP_THREAD_LIMIT",
                requested, limit, limit);
#ifdef _OPENMP
    int n = requested;
    if (n <= 0) {
        /* OMP_NUM_THREADS (checked above), else the cores; never below 1. */
        n = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
        if (n > limit && limit == DRNN_MAX_THREADS && !quiet)
            /* The same cap as --threads: libgomp crashes trying to start 70000. */
            cli_message("warning: OMP_NUM_THREADS asks for %d threads, more than the %d "
                        "allowed (as with --threads); using %d",
                        n, DRNN_MAX_THREADS, DRNN_MAX_THREADS);
        n = n < limit ? n : limit; /* what OMP_THREAD_LIMIT leaves, as OpenMP would */
    }
    omp_set_num_threads(n);
    if (dynamic && n > 1 && !quiet)
        cli_message("warning: OMP_DYNAMIC=true lets OpenMP run fewer than these %d threads, "
                    "down to 1 on a busy machine (the results stay the same); unset it for a "
                    "steady count", n);
    return n;
#else
    (void)quiet, (void)dynamic;
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

int cli_choice(const char *opt, const char *arg, const char *const *choices)
{
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(arg, choices[i]) == 0)
            return i;
        if (i)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    cli_die(EXIT_USAGE, "invalid value '%s' for %s: expected one of %s", arg, opt, list);
}

/* ---- options from a table ---- */

const char *const cli_formats[] = {"text", "json", NULL};

/* getopt_long's has_arg of a row, from how --help writes its value. */
static int has_arg_of(const cli_option *r)
{
    if (!r->arg)
        return no_argument;
    return r->arg[0] == '[' ? optional_argument : required_argument;
}

void cli_getopt_tables(const cli_table *t, struct option *longopts, size_t *n, char *shorts)
{
    char *s = shorts + strlen(shorts);
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *r = &t->rows[i];
        const int has_arg = has_arg_of(r);
        longopts[(*n)++] = (struct option){r->name, has_arg, NULL,
                                           r->short_name ? r->short_name : CLI_LONG_CODE + (int)i};
        if (r->short_name) {
            *s++ = r->short_name;
            if (has_arg != no_argument)
                *s++ = ':';
            if (has_arg == optional_argument)
                *s++ = ':';
        }
    }
    longopts[*n] = (struct option){NULL, 0, NULL, 0};
    *s = '\0';
}

int cli_row_of(const cli_table *t, int c)
{
    if (c >= CLI_LONG_CODE && (size_t)(c - CLI_LONG_CODE) < t->count)
        return c - CLI_LONG_CODE;
    for (size_t i = 0; c > 0 && c < CLI_LONG_CODE && i < t->count; i++)
        if (t->rows[i].short_name == c)
            return (int)i;
    return -1;
}

void cli_apply(const cli_table *t, size_t row, void *options, const char *value)
{
    const cli_option *r = &t->rows[row];
    char *at = (char *)options + r->offset;
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", r->name);
    switch (r->kind) {
    case CLI_FLAG: *(int *)at = 1; break;
    case CLI_TEXT: *(const char **)at = value; break;
    case CLI_INT: *(int *)at = (int)cli_int(opt, value, (long long)r->lo, (long long)r->hi); break;
    case CLI_LLONG:
        *(long long *)at = cli_int(opt, value, (long long)r->lo, (long long)r->hi);
        break;
    case CLI_U64: *(uint64_t *)at = cli_u64(opt, value); break;
    case CLI_REAL: *(double *)at = cli_real(opt, value, r->lo, r->hi, r->lo_open); break;
    case CLI_CHOICE: *(int *)at = cli_choice(opt, value, r->choices); break;
    case CLI_LIST: {
        cli_list *list = (cli_list *)(void *)at;
        const int bound = r->hi > 0 && r->hi < CLI_LIST_MAX ? (int)r->hi : CLI_LIST_MAX;
        if (list->count == bound) /* a fixed array: no allocation to check or free */
            cli_die(EXIT_USAGE, "%s: given more than %d times, the most it takes", opt, bound);
        list->items[list->count++] = value;
        break;
    }
    case CLI_PARSE: r->parse(options, value); break;
    case CLI_HELP:
        t->usage(t);
        cli_close_stdout();
        exit(EXIT_OK);
    case CLI_VERSION:
        printf("%s (%s) %s\n", cli_program_name, t->package, t->version);
        cli_close_stdout();
        exit(EXIT_OK);
    }
    if (r->given)
        *(int *)((char *)options + r->given - 1) = 1;
}

int cli_parse(const cli_table *t, void *options, int argc, char **argv)
{
    enum { MAX_ROWS = 32 };
    struct option longopts[MAX_ROWS + 1];
    char shorts[3 * MAX_ROWS + 1] = "";
    size_t n = 0;
    if (t->count > MAX_ROWS)
        cli_die(EXIT_RUNTIME, "too many options for this program's tables");
    cli_getopt_tables(t, longopts, &n, shorts);
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        int row = cli_row_of(t, c);
        if (row < 0)
            cli_usage_error();
        cli_apply(t, (size_t)row, options, optarg);
    }
    return optind;
}

void cli_print_option(char short_name, const char *name, const char *arg, const char *help,
                      const char *def)
{
    char head[64];
    const int optional = arg && arg[0] == '[';
    int n = snprintf(head, sizeof head, "  %c%c%c --%s%s%s", short_name ? '-' : ' ',
                     short_name ? short_name : ' ', short_name ? ',' : ' ', name,
                     arg && !optional ? "=" : "", arg ? arg : "");
    printf("%s", head);
    for (const char *line = help; line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        printf("%*s%.*s", n < 27 ? 27 - n : 1, "", len, line);
        n = n < 27 ? 27 : n;
        if (!end && def) {
            if (n + len + 11 + (int)strlen(def) > 80)
                printf("\n%27s(default %s)", "", def);
            else
                printf(" (default %s)", def);
        }
        printf("\n");
        n = 0;
        line = end ? end + 1 : NULL;
    }
}

void cli_print_options(const cli_table *t, const char *group)
{
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *r = &t->rows[i];
        if (!group || (r->group && strcmp(r->group, group) == 0))
            cli_print_option(r->short_name, r->name, r->arg, r->help, NULL);
    }
}

const char *cli_load_checkpoint(const char *path, drnn_train_state *st)
{
    drnn_error err;
    if (!path) {
        path = access("checkpoints/best.ckpt", F_OK) == 0 ? "checkpoints/best.ckpt"
                                                           : "checkpoints/latest.ckpt";
        if (access(path, F_OK) != 0)
            cli_die(EXIT_RUNTIME,
                    "no checkpoint in checkpoints/: train one with dinornn-train, or give "
                    "--checkpoint FILE");
    }
    if (drnn_checkpoint_load(st, path, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    return path;
}

int cli_encode_try(const char *what, const char *text, const drnn_train_state *st,
                   drnn_token *out, char *msg, size_t size)
{
    drnn_corpus corpus;
    drnn_error err;
    drnn_names_options opts = {.keep_case = st->hp.keep_case};
    const char *blanks = " \t\n\v\f\r", *end = text + strlen(text);
    if (text[strspn(text, blanks)] == '\0') { /* not "no names in the file" */
        snprintf(msg, size, "%s: '%s' is %s: a name needs at least one symbol", what, text,
                 *text ? "only white space" : "empty");
        return -1;
    }
    /* Counted here: the library's message would speak of a file. */
    long symbols = 0;
    while (end > text && strchr(blanks, end[-1]))
        end--;
    const char *start = text + strspn(text, blanks);
    for (const char *p = start; p < end; p++)
        symbols += (*p & 0xC0) != 0x80;
    if (symbols > DRNN_MAX_NAME_LEN) {
        snprintf(msg, size, "%s: %ld symbols, more than the %d a name may have", what, symbols,
                 DRNN_MAX_NAME_LEN);
        return -1;
    }
    /* In a file a tab separates a label; a name given here has none. */
    const char *tab = memchr(text, '\t', (size_t)(end - text));
    if (tab && tab > text + strspn(text, blanks)) {
        snprintf(msg, size,
                 "%s: control character U+0009 (tab) at column %ld: a name must be printable "
                 "text; remove it",
                 what, (long)(tab - text) + 1);
        return -1;
    }
    /* Names with unknown symbols skipped at first, so that text of several
     * names is refused as such before any symbol is; then the one name,
     * if skipped, again for the message that names its symbol. */
    if (drnn_corpus_parse_with(&corpus, &st->vocab, NULL, start, (size_t)(end - start), what,
                               &opts, 1, &err)) {
        snprintf(msg, size, "%s", err.message);
        return -1;
    }
    if (corpus.count + corpus.skipped != 1) {
        drnn_corpus_free(&corpus);
        snprintf(msg, size, "%s: '%s' must be one name on one line", what, text);
        return -1;
    }
    if (corpus.skipped) {
        drnn_corpus_free(&corpus);
        drnn_corpus_parse_with(&corpus, &st->vocab, NULL, start, (size_t)(end - start), what,
                               &opts, 0, &err);
        snprintf(msg, size, "%s", err.message);
        return -1;
    }
    int len = drnn_corpus_len(&corpus, 0);
    memcpy(out, corpus.tokens, (size_t)len * sizeof *out);
    drnn_corpus_free(&corpus);
    return len;
}

int cli_encode(const char *what, const char *text, const drnn_train_state *st, drnn_token *out)
{
    char msg[DRNN_ERROR_MESSAGE_SIZE + 4 * DRNN_MAX_NAME_LEN];
    int len = cli_encode_try(what, text, st, out, msg, sizeof msg);
    if (len < 0) /* "--prefix: ...", not the "--prefix:1: " of a file's line */
        cli_die(EXIT_USAGE, "%s: %s", what, cli_after_label(msg, what));
    return len;
}

const char *cli_after_label(const char *msg, const char *label)
{
    size_t n = strlen(label);
    if (strncmp(msg, label, n) != 0 || msg[n] != ':')
        return msg;
    const char *p = msg + n + 1;
    p += strspn(p, "0123456789");
    p += *p == ':';
    return p + (*p == ' ');
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
static _Noreturn void stdout_failed(int e)
{
    if (e)
        cli_die(EXIT_RUNTIME, "cannot write to standard output: %s", strerror(e));
    cli_die(EXIT_RUNTIME, "cannot write to standard output");
}

void cli_check_stdout(void)
{
    if (ferror(stdout))
        stdout_failed(errno);
}

void cli_close_stdout(void)
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
        stdout_failed(e);
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

/* Writes all of buf to fd; 0, or -1 with errno set. */
static int write_whole(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void cli_write_file(const char *path, const unsigned char *buf, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        cli_die(EXIT_RUNTIME, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        cli_die(EXIT_RUNTIME, "%s: cannot create a file beside it: %s", path, strerror(errno));
    if (write_whole(fd, buf, len) != 0 || fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        cli_die(EXIT_RUNTIME, "%s: cannot write: %s%s", path, strerror(e),
                e == ENOSPC ? " (free some space, or write elsewhere)" : "");
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        cli_die(EXIT_RUNTIME, "%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    /* The rename itself made durable, as a checkpoint's is. */
    char *dir = strdup(path);
    if (!dir)
        cli_die(EXIT_RUNTIME, "out of memory");
    char *slash = strrchr(dir, '/');
    int dfd = open(slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".", O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
}

void cli_check_output(const char *path, const char *input, int force, const char *kind)
{
    struct stat out, in;
    if (stat(path, &out) != 0)
        return; /* a new file */
    if (S_ISDIR(out.st_mode))
        cli_die(EXIT_USAGE, "%s is a directory; give the name of the %s file to write", path,
                kind);
    if (!S_ISREG(out.st_mode))
        cli_die(EXIT_USAGE, "%s is not a regular file; give the name of the %s file to write",
                path, kind);
    if (input && stat(input, &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        cli_die(EXIT_USAGE, "%s is the file read (%s); write the %s to another file", path, input,
                kind);
    if (!force)
        cli_die(EXIT_USAGE, "%s exists; give --force to replace it, or another name", path);
}
