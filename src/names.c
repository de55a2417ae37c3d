/* names.c: reading a names file, its vocabulary, token encoding and the train/validation split. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/names.h"
#include "dinornn/rng.h"
#include "internal.h"
#include "text.h"

#define LABEL(l) ((l) ? (l) : "<input>")

/* Code points a line may hold before normalisation: enough for a name of
 * DRNN_MAX_NAME_LEN symbols written decomposed (NFC joins at most four code
 * points into one), and a bound on the work a line costs. */
#define MAX_LINE_CODE_POINTS (4 * DRNN_MAX_NAME_LEN)

/* The code point as UTF-8 into out (room for 5 bytes), NUL-terminated, for
 * messages; "?" for control characters, which would garble a terminal. */
static void show_symbol(uint32_t c, char *out)
{
    size_t k = c < 0x20 || (c >= 0x7F && c <= 0x9F) ? 0 : drnn_utf8_put(c, out);
    if (k == 0)
        out[k++] = '?';
    out[k] = '\0';
}

/* A names buffer, line by line. A line ends at LF, CRLF or a lone CR (classic
 * Mac files), so that line numbers are right whichever convention a file
 * uses. Each line becomes a name as names.h says; raw holds the line's code
 * points between the two steps. */
typedef struct scanner {
    const unsigned char *buf;
    size_t len, pos;
    size_t next_lf, next_cr; /* the next '\n' and '\r' at or after pos (len: none;
                              * SIZE_MAX: not searched yet) */
    long line;         /* of the line last returned, from 1 */
    size_t line_start; /* its first byte: columns count from there, a BOM included */
    const char *label;
    int lower;         /* lowercase the names */
    uint32_t raw[MAX_LINE_CODE_POINTS];
} scanner;

static void scanner_init(scanner *sc, const unsigned char *buf, size_t len, const char *label,
                         int lower)
{
    sc->buf = buf;
    sc->len = len;
    sc->next_lf = sc->next_cr = SIZE_MAX;
    sc->line = 0;
    sc->line_start = 0;
    sc->label = LABEL(label);
    sc->lower = lower;
    /* A BOM is an encoding mark some editors add, not part of the first name. */
    sc->pos = len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF ? 3 : 0;
}

/* The first c at or after pos, or len. */
static size_t find_byte(const scanner *sc, size_t pos, int c)
{
    const unsigned char *p = pos < sc->len ? memchr(sc->buf + pos, c, sc->len - pos) : NULL;
    return p ? (size_t)(p - sc->buf) : sc->len;
}

/* The next line, without its line end: bytes [*b, *e). Returns 0 at the end
 * of the buffer. */
static int next_line(scanner *sc, size_t *b, size_t *e)
{
    const unsigned char *p = sc->buf;
    if (sc->pos >= sc->len)
        return 0;
    /* Each kind of line end is searched for once per occurrence (memchr),
     * so that a file with only one kind stays linear. */
    if (sc->next_lf < sc->pos || sc->next_lf == SIZE_MAX)
        sc->next_lf = find_byte(sc, sc->pos, '\n');
    if (sc->next_cr < sc->pos || sc->next_cr == SIZE_MAX)
        sc->next_cr = find_byte(sc, sc->pos, '\r');
    size_t start = sc->pos, end = sc->next_lf < sc->next_cr ? sc->next_lf : sc->next_cr;
    sc->pos = end;
    if (end < sc->len)
        sc->pos += p[end] == '\r' && end + 1 < sc->len && p[end + 1] == '\n' ? 2 : 1;
    sc->line_start = ++sc->line == 1 ? 0 : start;
    *b = start;
    *e = end;
    return 1;
}

/* C0 controls, DEL and C1 controls. Printed by the sampler, they would reach
 * the user's terminal, escape sequences included. */
static int is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

static const char *control_name(uint32_t c)
{
    switch (c) {
    case 0x07: return " (bell)";
    case 0x08: return " (backspace)";
    case 0x09: return " (tab)";
    case 0x0B: return " (vertical tab)";
    case 0x0C: return " (form feed)";
    case 0x1B: return " (escape)";
    case 0x7F: return " (delete)";
    default: return "";
    }
}

static int invalid_utf8(const scanner *sc, size_t at, const char *why, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_UTF8,
                     "%s:%ld: invalid UTF-8 (%s, byte 0x%02X at column %zu); save the file as "
                     "UTF-8",
                     sc->label, sc->line, why, sc->buf[at], at - sc->line_start + 1);
}

static int name_too_long(const scanner *sc, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_NAME_TOO_LONG,
                     "%s:%ld: name longer than %d symbols (the limit); the file should hold one "
                     "name per line",
                     sc->label, sc->line, DRNN_MAX_NAME_LEN);
}

/* The name on the line in bytes [b, e), into cps (room for
 * DRNN_MAX_NAME_LEN); *n is its length, 0 for a blank line. In order: the
 * UTF-8 is decoded (and must be valid), the white space at both ends is
 * stripped, what remains may hold no control character, and the code
 * points are normalised, lowercased unless the case is kept
 * (drnn_text_normalize). */
static int decode_name(scanner *sc, size_t b, size_t e, uint32_t *cps, int *n, drnn_error *err)
{
    const unsigned char *p = sc->buf;
    uint32_t c;
    const char *why = NULL;
    size_t k;
    *n = 0;
    /* Leading white space, then trailing (read backwards: UTF-8 tells where
     * a character starts; an invalid end stops there, for the forward pass
     * to report). */
    for (; b < e && (k = drnn_utf8_next(p + b, e - b, &c, &why)) && drnn_is_white_space(c); b += k)
        ;
    while (e > b && (k = drnn_utf8_last(p + b, e - b, &c)) != (size_t)-1 &&
           drnn_is_white_space(c))
        e = b + k;
    size_t count = 0;
    for (size_t i = b; i < e; i += k) {
        if (p[i] < 0x80) /* ASCII, most text: no call */
            c = p[i], k = 1;
        else if (!(k = drnn_utf8_next(p + i, e - i, &c, &why)))
            return invalid_utf8(sc, i, why, err);
        if (is_control(c))
            return drnn_fail(err, DRNN_ERR_CONTROL_CHAR,
                             "%s:%ld: control character U+%04X%s at column %zu: a name must be "
                             "printable text (white space may only surround it); remove it",
                             sc->label, sc->line, (unsigned)c, control_name(c),
                             i - sc->line_start + 1);
        if (count == MAX_LINE_CODE_POINTS)
            return name_too_long(sc, err);
        sc->raw[count++] = c;
    }
    if (count == 0)
        return DRNN_OK;
    size_t len = drnn_text_normalize(sc->raw, count, sc->lower, cps, DRNN_MAX_NAME_LEN);
    if (len == (size_t)-1)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s:%ld: out of memory normalising a name",
                         sc->label, sc->line);
    if (len > DRNN_MAX_NAME_LEN)
        return name_too_long(sc, err);
    *n = (int)len;
    return DRNN_OK;
}

/* The next name of the buffer into cps (room for DRNN_MAX_NAME_LEN), blank
 * lines skipped: DRNN_OK with *n > 0, DRNN_OK with *n == 0 at the end, or
 * the error of the line that is no name. */
static int next_name(scanner *sc, uint32_t *cps, int *n, drnn_error *err)
{
    size_t b, e;
    *n = 0;
    while (next_line(sc, &b, &e)) {
        int rc = decode_name(sc, b, e, cps, n, err);
        if (rc != DRNN_OK || *n > 0)
            return rc;
    }
    return DRNN_OK;
}

/* Checks done on the whole buffer before any line: its size, and NUL bytes
 * (a binary file would otherwise be reported as bad UTF-8). */
static int check_buffer(const unsigned char *ub, size_t len, const char *label, drnn_error *err)
{
    if (len > DRNN_MAX_NAMES_FILE)
        return drnn_fail(err, DRNN_ERR_TOO_BIG,
                         "%s: %zu bytes is more than the %u MiB limit for a names file",
                         LABEL(label), len, DRNN_MAX_NAMES_FILE >> 20);
    const unsigned char *nul = len ? memchr(ub, '\0', len) : NULL;
    if (nul) {
        long line = 1;
        for (const unsigned char *p = ub; p < nul; p++)
            line += *p == '\n' || (*p == '\r' && p[1] != '\n');
        return drnn_fail(err, DRNN_ERR_BINARY,
                         "%s:%ld: NUL byte: this looks like a binary file, not a list of names",
                         LABEL(label), line);
    }
    return DRNN_OK;
}

static int no_names(const char *label, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_EMPTY,
                     "%s: no names (the file is empty or has only blank lines)", LABEL(label));
}

int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err)
{
    const unsigned char *ub = (const unsigned char *)buf;
    int lower = !(opts && opts->keep_case);
    uint32_t cps[DRNN_MAX_NAME_LEN];
    size_t n_names = 0, n_syms = 0;
    scanner sc;
    int n, rc;

    if (!out || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no buffer to parse", LABEL(label));
    memset(out, 0, sizeof *out);
    rc = check_buffer(ub, len, label, err);
    if (rc != DRNN_OK)
        return rc;

    /* Counting and validating first, so that the arrays are allocated once. */
    scanner_init(&sc, ub, len, label, lower);
    while ((rc = next_name(&sc, cps, &n, err)) == DRNN_OK && n > 0) {
        n_names++;
        n_syms += (size_t)n;
    }
    if (rc != DRNN_OK)
        return rc;
    if (n_names == 0)
        return no_names(label, err);

    int overflow = 0;
    size_t sym_bytes = drnn_mul_size(n_syms, sizeof *out->symbols, &overflow);
    size_t start_bytes = drnn_mul_size(n_names + 1, sizeof *out->start, &overflow);
    size_t line_bytes = drnn_mul_size(n_names, sizeof *out->line, &overflow);
    if (!overflow) {
        out->symbols = malloc(sym_bytes);
        out->start = malloc(start_bytes);
        out->line = malloc(line_bytes);
    }
    if (overflow || !out->symbols || !out->start || !out->line) {
        drnn_names_free(out);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names", LABEL(label),
                         n_names);
    }
    /* The counting pass validated everything: only memory can fail now. */
    size_t i = 0, at = 0;
    scanner_init(&sc, ub, len, label, lower);
    while ((rc = next_name(&sc, cps, &n, err)) == DRNN_OK && n > 0) {
        memcpy(out->symbols + at, cps, (size_t)n * sizeof *cps);
        out->start[i] = at;
        out->line[i++] = sc.line;
        at += (size_t)n;
    }
    if (rc != DRNN_OK) {
        drnn_names_free(out);
        return rc;
    }
    out->start[i] = at;
    out->count = n_names;
    return drnn_ok(err);
}

void drnn_names_free(drnn_names *names)
{
    if (!names)
        return;
    free(names->symbols);
    free(names->start);
    free(names->line);
    memset(names, 0, sizeof *names);
}

static int too_big(const char *path, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_TOO_BIG,
                     "%s: the file is larger than the %u MiB limit for a names file", path,
                     DRNN_MAX_NAMES_FILE >> 20);
}

static int set_blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/* Reads a whole names file into a fresh buffer (*out, *len; the caller
 * frees it). Pipes are read as they come (standard input, a process
 * substitution, a FIFO that a program writes), but a FIFO that nothing
 * writes to is refused at once instead of waiting forever in open(). */
static int read_names_file(const char *path, char **out, size_t *out_len, drnn_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t cap, len = 0;
    int rc = DRNN_OK;

    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return drnn_fail(err, DRNN_ERR_NOT_FOUND, "%s: no such file", path);
        return drnn_fail(err, DRNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = drnn_fail(err, DRNN_ERR_IS_DIR, "%s: is a directory, not a names file", path);
        goto done;
    }
    if (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
        rc = drnn_fail(err, DRNN_ERR_NOT_REGULAR, "%s: is %s, not a names file", path,
                       drnn_file_kind((unsigned)st.st_mode));
        goto done;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > DRNN_MAX_NAMES_FILE) {
        rc = too_big(path, err);
        goto done;
    }
    /* A FIFO stays non-blocking for its first read, which tells whether
     * anything writes to it; a terminal must block from the start. */
    int probing = S_ISFIFO(st.st_mode);
    if (!probing && set_blocking(fd) != 0) {
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }

    /* One byte more than a regular file's size lets the first read see EOF;
     * pipes and devices grow from a modest chunk. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 16;
    buf = malloc(cap);
    if (!buf) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory reading the file", path);
        goto done;
    }
    for (;;) {
        if (len == cap) {
            if (cap > DRNN_MAX_NAMES_FILE) {
                rc = too_big(path, err);
                goto done;
            }
            /* Reading one byte past the limit is enough to know it is exceeded. */
            size_t ncap = cap > (DRNN_MAX_NAMES_FILE + (size_t)1) / 2
                              ? DRNN_MAX_NAMES_FILE + (size_t)1
                              : cap * 2;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory reading the file", path);
                goto done;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && !(probing && errno == EAGAIN)) {
            rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            goto done;
        }
        if (got == 0 && probing) {
            /* End of file before anything was written: no writer at all
             * (or one that closed the pipe without writing). */
            rc = drnn_fail(err, DRNN_ERR_NOT_REGULAR,
                           "%s: is a named pipe (FIFO) with no writer and nothing to read: "
                           "start the program that writes to it first, or give a regular file",
                           path);
            goto done;
        }
        if (probing) {
            /* Something writes to it: from now on wait for its data. */
            probing = 0;
            if (set_blocking(fd) != 0) {
                rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
                goto done;
            }
        }
        if (got <= 0) {
            if (got == 0)
                break;
            continue;
        }
        len += (size_t)got;
    }
    if (len > DRNN_MAX_NAMES_FILE) {
        rc = too_big(path, err);
        goto done;
    }
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

int drnn_names_load(drnn_names *out, const char *path, const drnn_names_options *opts,
                    drnn_error *err)
{
    if (!out || !path)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names file given");
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    int rc = read_names_file(path, &buf, &len, err);
    if (rc == DRNN_OK)
        rc = drnn_names_parse(out, buf, len, path, opts, err);
    free(buf);
    return rc;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* Adds one name to an FNV-1a hash: each code point as 4 little-endian
 * bytes, then a 0, so that "ab","c" and "a","bc" differ. */
static uint64_t fnv_name(uint64_t h, const uint32_t *cps, size_t n)
{
    const uint64_t prime = 0x100000001b3ULL;
    for (size_t j = 0; j <= n; j++) {
        uint32_t c = j < n ? cps[j] : 0;
        for (int k = 0; k < 4; k++) {
            h ^= (c >> (8 * k)) & 0xFF;
            h *= prime;
        }
    }
    return h;
}

uint64_t drnn_names_fingerprint(const drnn_names *names)
{
    uint64_t h = FNV_OFFSET;
    if (!names)
        return h;
    for (size_t i = 0; i < names->count; i++)
        h = fnv_name(h, names->symbols + names->start[i], names->start[i + 1] - names->start[i]);
    return h;
}

/* Index of the first of sym[lo..hi) that is >= c. */
static int lower_bound(const uint32_t *sym, int lo, int hi, uint32_t c)
{
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (sym[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the vocabulary: a set of code points ----
 * A bitmap over every code point (136 KiB) marks the symbols seen: adding
 * one costs O(1), and reading the marks in order gives the sorted
 * vocabulary, so building one is linear in the symbols whatever the size
 * of the alphabet (no insertion into a sorted array, no V^2). */
#define CODE_POINTS 0x110000u

typedef struct symbol_set {
    uint64_t bits[CODE_POINTS / 64];
    int count;
    uint32_t hi;           /* above every word of bits in use */
} symbol_set;

/* Adds c (below CODE_POINTS). Returns 1 if it was new, 0 if already there,
 * -1 if new but the vocabulary would pass DRNN_MAX_VOCAB (c is not added). */
static int set_add(symbol_set *set, uint32_t c)
{
    uint64_t bit = (uint64_t)1 << (c % 64);
    if (set->bits[c / 64] & bit)
        return 0;
    if (set->count == DRNN_MAX_VOCAB - 1)
        return -1;
    set->bits[c / 64] |= bit;
    set->count++;
    if (c / 64 >= set->hi)
        set->hi = c / 64 + 1;
    return 1;
}

/* The vocabulary of the set: END, then the members ascending. */
static int set_to_vocab(const symbol_set *set, drnn_vocab *v, drnn_error *err)
{
    memset(v, 0, sizeof *v);
    uint32_t *symbol = malloc(((size_t)set->count + 1) * sizeof *symbol);
    if (!symbol)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary of %d symbols",
                         set->count);
    int n = 0;
    symbol[n++] = DRNN_END;
    for (uint32_t w = 0; w < set->hi; w++)
        for (uint64_t bits = set->bits[w]; bits; bits &= bits - 1)
            symbol[n++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
    v->size = n;
    v->symbol = symbol;
    return DRNN_OK;
}

/* The refusal of symbol c, past the limit on line `line` (of file label, if given). */
#define TOO_MANY "more than %d distinct symbols (the limit) at U+%04X; is this a list of names?"
static int too_many_symbols(drnn_error *err, const char *label, long line, uint32_t c)
{
    if (label)
        return drnn_fail(err, DRNN_ERR_VOCAB_TOO_BIG, "%s:%ld: " TOO_MANY, label, line,
                         DRNN_MAX_VOCAB - 1, (unsigned)c);
    return drnn_fail(err, DRNN_ERR_VOCAB_TOO_BIG, "line %ld: " TOO_MANY, line,
                     DRNN_MAX_VOCAB - 1, (unsigned)c);
}
#undef TOO_MANY

int drnn_vocab_build(drnn_vocab *vocab, const drnn_names *names, drnn_error *err)
{
    if (!vocab || !names)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names to build a vocabulary from");
    memset(vocab, 0, sizeof *vocab);
    symbol_set *set = calloc(1, sizeof *set);
    if (!set)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary");
    int rc = DRNN_OK;
    for (size_t i = 0; i < names->count && !rc; i++) {
        for (size_t j = names->start[i]; j < names->start[i + 1] && !rc; j++) {
            uint32_t c = names->symbols[j];
            if (c == DRNN_END || c >= CODE_POINTS)
                rc = drnn_fail(err, DRNN_ERR_INVALID, "line %ld: %s", names->line[i],
                               c ? "a code point above U+10FFFF"
                                 : "code point 0 is reserved for the end marker");
            else if (set_add(set, c) < 0)
                rc = too_many_symbols(err, NULL, names->line[i], c);
        }
    }
    if (!rc)
        rc = set_to_vocab(set, vocab, err);
    free(set);
    return rc ? rc : drnn_ok(err);
}

int drnn_vocab_copy(drnn_vocab *dst, const drnn_vocab *src, drnn_error *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || src->size < 1 || src->size > DRNN_MAX_VOCAB || !src->symbol)
        return drnn_fail(err, DRNN_ERR_INVALID, "no vocabulary to copy");
    dst->symbol = malloc((size_t)src->size * sizeof *dst->symbol);
    if (!dst->symbol)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary of %d symbols",
                         src->size - 1);
    memcpy(dst->symbol, src->symbol, (size_t)src->size * sizeof *dst->symbol);
    dst->size = src->size;
    return drnn_ok(err);
}

void drnn_vocab_free(drnn_vocab *vocab)
{
    if (!vocab)
        return;
    free(vocab->symbol);
    memset(vocab, 0, sizeof *vocab);
}

int drnn_vocab_find(const drnn_vocab *vocab, uint32_t symbol)
{
    if (!vocab || !vocab->symbol || vocab->size <= 1 || vocab->size > DRNN_MAX_VOCAB)
        return -1;
    int at = lower_bound(vocab->symbol, 1, vocab->size, symbol);
    return (at < vocab->size && vocab->symbol[at] == symbol) ? at : -1;
}

int drnn_corpus_encode(drnn_corpus *out, const drnn_names *names, const drnn_vocab *vocab,
                       int skip_unknown, const char *label, drnn_error *err)
{
    if (!out || !names || !vocab)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: nothing to encode", LABEL(label));
    memset(out, 0, sizeof *out);
    if (vocab->size < 1 || vocab->size > DRNN_MAX_VOCAB || !vocab->symbol)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: vocabulary size %d is out of range",
                         LABEL(label), vocab->size);

    /* Sized for every name; names left out only leave the tail unused. */
    size_t n_syms = names->count ? names->start[names->count] : 0;
    int overflow = 0;
    size_t tok_bytes = drnn_mul_size(n_syms ? n_syms : 1, sizeof *out->tokens, &overflow);
    size_t start_bytes = drnn_mul_size(names->count + 1, sizeof *out->start, &overflow);
    size_t line_bytes = drnn_mul_size(names->count ? names->count : 1, sizeof *out->line,
                                      &overflow);
    if (!overflow) {
        out->tokens = malloc(tok_bytes);
        out->start = malloc(start_bytes);
        out->line = malloc(line_bytes);
    }
    if (overflow || !out->tokens || !out->start || !out->line) {
        drnn_corpus_free(out);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names", LABEL(label),
                         names->count);
    }

    size_t kept = 0, n_tok = 0;
    for (size_t i = 0; i < names->count; i++) {
        size_t mark = n_tok;
        int known = 1;
        for (size_t j = names->start[i]; j < names->start[i + 1]; j++) {
            uint32_t c = names->symbols[j];
            int t = drnn_vocab_find(vocab, c);
            if (t < 0) {
                if (skip_unknown) {
                    known = 0;
                    break;
                }
                char shown[8];
                show_symbol(c, shown);
                long line = names->line[i];
                drnn_corpus_free(out);
                return drnn_fail(err, DRNN_ERR_UNKNOWN_SYMBOL,
                                 "%s:%ld: symbol '%s' (U+%04X) is not in the model's vocabulary",
                                 LABEL(label), line, shown, (unsigned)c);
            }
            out->tokens[n_tok++] = (drnn_token)t;
        }
        if (!known) {
            n_tok = mark;
            if (out->skipped++ == 0)
                out->first_skipped_line = names->line[i];
            continue;
        }
        out->start[kept] = mark;
        out->line[kept] = names->line[i];
        kept++;
    }
    out->start[kept] = n_tok;
    out->count = kept;
    return drnn_ok(err);
}

void drnn_corpus_free(drnn_corpus *corpus)
{
    if (!corpus)
        return;
    free(corpus->tokens);
    free(corpus->start);
    free(corpus->line);
    memset(corpus, 0, sizeof *corpus);
}

/* What drnn_corpus_parse knows of the vocabulary while it scans. */
typedef struct encoder {
    drnn_vocab *vocab;
    int build;             /* collecting the vocabulary, not using one */
    int32_t ascii[128];    /* token of each ASCII code point, -1 if none */
    symbol_set *seen;      /* building: the symbols so far (NULL otherwise) */
} encoder;

/* The token of c, or -1 when the vocabulary lacks it. */
static int token_of(const encoder *en, uint32_t c)
{
    return c < 128 ? en->ascii[c] : drnn_vocab_find(en->vocab, c);
}

/* Building: records the symbols of a name, refusing the one past the limit. */
static int collect(encoder *en, const scanner *sc, const uint32_t *cps, int n, drnn_error *err)
{
    for (int i = 0; i < n; i++)
        if (set_add(en->seen, cps[i]) < 0)
            return too_many_symbols(err, sc->label, sc->line, cps[i]);
    return DRNN_OK;
}

static void encoder_free(encoder *en)
{
    if (en)
        free(en->seen);
    free(en);
}

/* Fills en->ascii from the vocabulary (built from the collected symbols first). */
static int finish_vocab(encoder *en, drnn_error *err)
{
    if (en->build) {
        int rc = set_to_vocab(en->seen, en->vocab, err);
        if (rc)
            return rc;
    }
    for (uint32_t c = 0; c < 128; c++)
        en->ascii[c] = drnn_vocab_find(en->vocab, c);
    return DRNN_OK;
}

int drnn_corpus_parse(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                      const char *buf, size_t len, const char *label,
                      const drnn_names_options *opts, int skip_unknown, drnn_error *err)
{
    const unsigned char *ub = (const unsigned char *)buf;
    const int lower = !(opts && opts->keep_case);
    uint32_t cps[DRNN_MAX_NAME_LEN];
    size_t n_names = 0, kept = 0, n_tok = 0;
    uint64_t h = FNV_OFFSET;
    scanner sc;
    int n, rc;

    if (!out || !vocab || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: nothing to parse", LABEL(label));
    memset(out, 0, sizeof *out);
    if (vocab->size < 0 || vocab->size > DRNN_MAX_VOCAB)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: vocabulary size %d is out of range",
                         LABEL(label), vocab->size);
    encoder *en = calloc(1, sizeof *en);
    if (en && vocab->size == 0 && !(en->seen = calloc(1, sizeof *en->seen))) {
        free(en);
        en = NULL;
    }
    if (!en)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", LABEL(label));
    en->vocab = vocab;
    en->build = vocab->size == 0;
    rc = en->build ? DRNN_OK : finish_vocab(en, err);
    if (rc == DRNN_OK)
        rc = check_buffer(ub, len, label, err);

    /* First pass: validate, count, collect the vocabulary or check every
     * symbol against it, and hash every name (the skipped ones too). A
     * symbol outside the vocabulary is reported once the hash is complete. */
    drnn_error unknown = {DRNN_OK, ""};
    scanner_init(&sc, ub, len, label, lower);
    while (rc == DRNN_OK) {
        if ((rc = next_name(&sc, cps, &n, err)) != DRNN_OK || n == 0)
            break;
        n_names++;
        h = fnv_name(h, cps, (size_t)n);
        if (en->build) {
            rc = collect(en, &sc, cps, n, err);
            kept++;
            n_tok += (size_t)n;
            continue;
        }
        int i = 0;
        while (i < n && token_of(en, cps[i]) >= 0)
            i++;
        if (i == n) {
            kept++;
            n_tok += (size_t)n;
        } else if (skip_unknown) {
            if (out->skipped++ == 0)
                out->first_skipped_line = sc.line;
        } else if (unknown.code == DRNN_OK) {
            char shown[8];
            show_symbol(cps[i], shown);
            drnn_fail(&unknown, DRNN_ERR_UNKNOWN_SYMBOL,
                      "%s:%ld: symbol '%s' (U+%04X) is not in the model's vocabulary",
                      sc.label, sc.line, shown, (unsigned)cps[i]);
            if (!fingerprint)
                break;
        }
    }
    if (rc == DRNN_OK && n_names == 0)
        rc = no_names(label, err);
    if (rc != DRNN_OK || unknown.code != DRNN_OK) {
        if (rc == DRNN_OK) {
            if (err)
                *err = unknown;
            rc = unknown.code;
            if (fingerprint)
                *fingerprint = h;
        }
        if (en->build)
            memset(vocab, 0, sizeof *vocab);
        memset(out, 0, sizeof *out);
        encoder_free(en);
        return rc;
    }
    if (en->build && (rc = finish_vocab(en, err)) != DRNN_OK) {
        memset(vocab, 0, sizeof *vocab);
        encoder_free(en);
        return rc;
    }

    /* Second pass: the tokens, in arrays allocated once at their size. */
    int overflow = 0;
    size_t tok_bytes = drnn_mul_size(n_tok ? n_tok : 1, sizeof *out->tokens, &overflow);
    size_t start_bytes = drnn_mul_size(kept + 1, sizeof *out->start, &overflow);
    if (!overflow) {
        out->tokens = malloc(tok_bytes);
        out->start = malloc(start_bytes);
    }
    if (overflow || !out->tokens || !out->start) {
        drnn_corpus_free(out);
        if (en->build)
            drnn_vocab_free(vocab);
        encoder_free(en);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names (%.0f MB)",
                         LABEL(label), kept,
                         ((double)n_tok * sizeof *out->tokens +
                          (double)kept * sizeof *out->start) / 1e6);
    }
    size_t i = 0, at = 0;
    scanner_init(&sc, ub, len, label, lower);
    while ((rc = next_name(&sc, cps, &n, err)) == DRNN_OK && n > 0) {
        /* A name with an unknown symbol was skipped and not counted by the
         * first pass: nothing of it is written (there is no room for it). */
        int k = 0;
        while (k < n && token_of(en, cps[k]) >= 0)
            k++;
        if (k < n)
            continue;
        out->start[i++] = at;
        for (k = 0; k < n; k++)
            out->tokens[at++] = (drnn_token)token_of(en, cps[k]);
    }
    if (rc != DRNN_OK) { /* out of memory: the first pass validated everything else */
        drnn_corpus_free(out);
        if (en->build)
            drnn_vocab_free(vocab);
        encoder_free(en);
        return rc;
    }
    out->start[i] = at;
    out->count = kept;
    encoder_free(en);
    if (fingerprint)
        *fingerprint = h;
    return drnn_ok(err);
}

int drnn_corpus_load(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                     const char *path, const drnn_names_options *opts, int skip_unknown,
                     drnn_error *err)
{
    if (!out || !vocab || !path)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names file given");
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    int rc = read_names_file(path, &buf, &len, err);
    if (rc == DRNN_OK)
        rc = drnn_corpus_parse(out, vocab, fingerprint, buf, len, path, opts, skip_unknown, err);
    free(buf);
    return rc;
}

/* ---- parts of a corpus ---- */

int drnn_corpus_select(drnn_corpus *out, const drnn_corpus *src, const size_t *idx, size_t n,
                       drnn_error *err)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += src->start[idx[i] + 1] - src->start[idx[i]];
    int overflow = 0;
    size_t tok_bytes = drnn_mul_size(total ? total : 1, sizeof *out->tokens, &overflow);
    size_t start_bytes = drnn_mul_size(n + 1, sizeof *out->start, &overflow);
    size_t line_bytes = drnn_mul_size(n ? n : 1, sizeof *out->line, &overflow);
    if (!overflow) {
        out->tokens = malloc(tok_bytes);
        out->start = malloc(start_bytes);
        out->line = src->line ? malloc(line_bytes) : NULL;
    }
    if (overflow || !out->tokens || !out->start || (src->line && !out->line)) {
        drnn_corpus_free(out);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %zu names", n);
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t from = src->start[idx[i]], len = src->start[idx[i] + 1] - from;
        out->start[i] = at;
        memcpy(out->tokens + at, src->tokens + from, len * sizeof *out->tokens);
        if (src->line)
            out->line[i] = src->line[idx[i]];
        at += len;
    }
    out->start[n] = at;
    out->count = n;
    return drnn_ok(err);
}

int drnn_corpus_extract(drnn_corpus *all, const size_t *idx, size_t n, drnn_corpus *out,
                        drnn_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < n; k++)
        if (idx[k] >= all->count || (k && idx[k] <= idx[k - 1]))
            return drnn_fail(err, DRNN_ERR_INVALID,
                             "extract: the indices must ascend and be below %zu", all->count);
    int rc = drnn_corpus_select(out, all, idx, n, err);
    if (rc != DRNN_OK)
        return rc;
    /* Each kept name moves down over the gaps; name i's bounds are read
     * before start[kept] (kept <= i) is overwritten. */
    size_t kept = 0, at = 0, k = 0;
    for (size_t i = 0; i < all->count; i++) {
        if (k < n && idx[k] == i) {
            k++;
            continue;
        }
        size_t from = all->start[i], len = all->start[i + 1] - from;
        memmove(all->tokens + at, all->tokens + from, len * sizeof *all->tokens);
        all->start[kept] = at;
        if (all->line)
            all->line[kept] = all->line[i];
        kept++;
        at += len;
    }
    all->start[kept] = at;
    all->count = kept;
    /* Give the freed tails back; a failed shrink only keeps them. */
    drnn_token *t = realloc(all->tokens, (at ? at : 1) * sizeof *t);
    size_t *st = realloc(all->start, (kept + 1) * sizeof *st);
    long *ln = all->line ? realloc(all->line, (kept ? kept : 1) * sizeof *ln) : NULL;
    all->tokens = t ? t : all->tokens;
    all->start = st ? st : all->start;
    all->line = ln ? ln : all->line;
    return drnn_ok(err);
}

int drnn_corpus_contains(const drnn_corpus *c, const drnn_token *tokens, int n)
{
    for (size_t i = 0; i < c->count; i++)
        if (drnn_corpus_len(c, i) == n &&
            memcmp(c->tokens + c->start[i], tokens, (size_t)n * sizeof *tokens) == 0)
            return 1;
    return 0;
}

/* ---- names as text again ---- */

size_t drnn_vocab_decode(const drnn_vocab *vocab, const drnn_token *tokens, int n,
                         int capitalize, char *buf, size_t size)
{
    uint32_t name[DRNN_MAX_NAME_LEN], title[3 * DRNN_MAX_NAME_LEN];
    size_t len = 0;
    for (int i = 0; i < n && len < DRNN_MAX_NAME_LEN; i++)
        if (tokens[i] != DRNN_END && tokens[i] < vocab->size)
            name[len++] = vocab->symbol[tokens[i]];
    const uint32_t *text = name;
    if (capitalize && len > 0) {
        /* By the title-case rule; with no memory for it, as the model wrote it. */
        size_t t = drnn_text_title(name, len, title, sizeof title / sizeof *title);
        if (t != (size_t)-1 && t <= sizeof title / sizeof *title) {
            text = title;
            len = t;
        }
    }
    size_t need = 0, used = 0;
    for (size_t i = 0; i < len; i++) {
        /* A vocabulary from an older or crafted checkpoint may hold control
         * characters, which printed would drive the terminal (ESC): each
         * shows as U+FFFD instead. */
        char bytes[4];
        size_t k = drnn_utf8_put(is_control(text[i]) ? 0xFFFD : text[i], bytes);
        need += k;
        /* Only whole characters go in, so a truncated name stays valid UTF-8. */
        if (size > 0 && used + k < size) {
            memcpy(buf + used, bytes, k);
            used += k;
        }
    }
    if (size > 0)
        buf[used] = '\0';
    return need;
}

int drnn_split(size_t count, double val_fraction, uint64_t seed, size_t **train,
               size_t *n_train, size_t **val, size_t *n_val, drnn_error *err)
{
    if (!train || !n_train || !val || !n_val)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: missing output arguments");
    *train = *val = NULL;
    *n_train = *n_val = 0;
    if (count == 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: there are no names to split");
    if (!isfinite(val_fraction) || val_fraction < 0.0 || val_fraction >= 1.0)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "validation fraction %g is out of range: use a value in [0, 1)",
                         val_fraction);

    /* Truncating a non-negative value is floor(), without needing libm. */
    double want = (double)count * val_fraction + 0.5;
    size_t nv = want >= (double)(count - 1) ? count - 1 : (size_t)want;
    size_t nt = count - nv;
    if (count > UINT32_MAX)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: %zu names is more than %u", count,
                         (unsigned)UINT32_MAX);

    /* The shuffle in 4-byte indices and the membership as bits: the split
     * costs little more than its two lists. */
    int overflow = 0;
    size_t perm_bytes = drnn_mul_size(count, sizeof(uint32_t), &overflow);
    uint32_t *perm = overflow ? NULL : malloc(perm_bytes);
    unsigned char *in_val = calloc(count / 8 + 1, 1);
    size_t *tr = NULL, *va = NULL;
    if (!perm || !in_val) {
        free(perm);
        free(in_val);
        return drnn_fail(err, DRNN_ERR_NOMEM, "split: out of memory for %zu names", count);
    }

    drnn_rng rng;
    drnn_rng_seed(&rng, seed);
    drnn_shuffle(perm, count, &rng);
    for (size_t i = 0; i < nv; i++)
        in_val[perm[i] / 8] |= (unsigned char)(1u << (perm[i] % 8));
    free(perm);
    tr = malloc(nt * sizeof(size_t));
    va = malloc((nv ? nv : 1) * sizeof(size_t));
    if (!tr || !va) {
        free(in_val);
        free(tr);
        free(va);
        return drnn_fail(err, DRNN_ERR_NOMEM, "split: out of memory for %zu names", count);
    }
    /* Marking and sweeping yields both lists already sorted. */
    size_t a = 0, b = 0;
    for (size_t i = 0; i < count; i++) {
        if (in_val[i / 8] >> (i % 8) & 1)
            va[b++] = i;
        else
            tr[a++] = i;
    }
    free(in_val);
    *train = tr;
    *n_train = nt;
    *val = va;
    *n_val = nv;
    return drnn_ok(err);
}
