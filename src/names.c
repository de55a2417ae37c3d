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

#define LABEL(l) ((l) ? (l) : "<input>")

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Unicode simple lowercase mapping for the scripts that names commonly use;
 * everything else is returned unchanged. */
static uint32_t lower_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130)
            return 0x69;
        if (c == 0x178)
            return 0xFF;
        if (c <= 0x137 || (c >= 0x14A && c <= 0x177))
            return (c % 2 == 0) ? c + 1 : c;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c % 2 == 1) ? c + 1 : c;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

/* Decodes one strict UTF-8 sequence from p[0..n). Returns its length, or 0
 * with *why set to what is wrong. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp, const char **why)
{
    unsigned char b = p[0];
    size_t need;
    uint32_t c, min;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b < 0xC0) {
        *why = "a continuation byte without a lead byte";
        return 0;
    }
    if (b < 0xE0) {
        need = 2, c = b & 0x1F, min = 0x80;
    } else if (b < 0xF0) {
        need = 3, c = b & 0x0F, min = 0x800;
    } else if (b < 0xF8) {
        need = 4, c = b & 0x07, min = 0x10000;
    } else {
        *why = "a byte that never occurs in UTF-8";
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n || (p[i] & 0xC0) != 0x80) {
            *why = "a truncated multi-byte sequence";
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min) {
        *why = "an overlong encoding";
        return 0;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
        *why = "an encoded UTF-16 surrogate";
        return 0;
    }
    if (c > 0x10FFFF) {
        *why = "a code point above U+10FFFF";
        return 0;
    }
    *cp = c;
    return need;
}

/* Writes c as UTF-8 into out (at least 5 bytes) and terminates it. */
static void utf8_encode(uint32_t c, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (c < 0x80) {
        *o++ = (unsigned char)c;
    } else if (c < 0x800) {
        *o++ = (unsigned char)(0xC0 | (c >> 6));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (c >> 12));
        *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (c >> 18));
        *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    *o = '\0';
}

/* A names buffer, line by line. A line ends at LF, CRLF or a lone CR (classic
 * Mac files), so that line numbers are right whichever convention a file uses. */
typedef struct scanner {
    const unsigned char *buf;
    size_t len, pos;
    size_t next_lf, next_cr; /* the next '\n' and '\r' at or after pos (len: none;
                              * SIZE_MAX: not searched yet) */
    long line;         /* of the line last returned, from 1 */
    size_t line_start; /* its first byte: columns count from there, a BOM included */
    const char *label;
} scanner;

static void scanner_init(scanner *sc, const unsigned char *buf, size_t len, const char *label)
{
    sc->buf = buf;
    sc->len = len;
    sc->next_lf = sc->next_cr = SIZE_MAX;
    sc->line = 0;
    sc->line_start = 0;
    sc->label = LABEL(label);
    /* A BOM is an encoding mark some editors add, not part of the first name. */
    sc->pos = len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF ? 3 : 0;
}

/* The first c at or after pos, or len. */
static size_t find_byte(const scanner *sc, size_t pos, int c)
{
    const unsigned char *p = pos < sc->len ? memchr(sc->buf + pos, c, sc->len - pos) : NULL;
    return p ? (size_t)(p - sc->buf) : sc->len;
}

/* The next line that is not blank, without its line end and surrounding
 * blanks: bytes [*b, *e). Returns 0 at the end of the buffer. */
static int next_name(scanner *sc, size_t *b, size_t *e)
{
    const unsigned char *p = sc->buf;
    while (sc->pos < sc->len) {
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
        while (start < end && is_blank(p[start]))
            start++;
        while (end > start && is_blank(p[end - 1]))
            end--;
        if (start < end) {
            *b = start;
            *e = end;
            return 1;
        }
    }
    return 0;
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

/* Decodes the name in bytes [b, e) of the scanner's current line into cps
 * (room for DRNN_MAX_NAME_LEN), lowercased if lower; *n is its length. */
static int decode_name(const scanner *sc, size_t b, size_t e, int lower, uint32_t *cps, int *n,
                       drnn_error *err)
{
    const unsigned char *p = sc->buf;
    int count = 0;
    for (size_t i = b; i < e;) {
        uint32_t c = p[i];
        size_t k = 1;
        if (c >= 0x80) {
            const char *why = NULL;
            k = utf8_decode(p + i, e - i, &c, &why);
            if (k == 0)
                return drnn_fail(err, DRNN_ERR_UTF8,
                                 "%s:%ld: invalid UTF-8 (%s, byte 0x%02X at column %zu); "
                                 "save the file as UTF-8",
                                 sc->label, sc->line, why, p[i], i - sc->line_start + 1);
        }
        if (is_control(c))
            return drnn_fail(err, DRNN_ERR_CONTROL_CHAR,
                             "%s:%ld: control character U+%04X%s at column %zu: a name must be "
                             "printable text (blanks may only surround it); remove it",
                             sc->label, sc->line, (unsigned)c, control_name(c),
                             i - sc->line_start + 1);
        if (count == DRNN_MAX_NAME_LEN)
            return drnn_fail(err, DRNN_ERR_NAME_TOO_LONG,
                             "%s:%ld: name longer than %d symbols (the limit); "
                             "the file should hold one name per line",
                             sc->label, sc->line, DRNN_MAX_NAME_LEN);
        cps[count++] = lower ? lower_cp(c) : c;
        i += k;
    }
    *n = count;
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
    size_t n_names = 0, n_syms = 0, b, e;
    scanner sc;
    int n, rc;

    if (!out || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no buffer to parse", LABEL(label));
    memset(out, 0, sizeof *out);
    rc = check_buffer(ub, len, label, err);
    if (rc != DRNN_OK)
        return rc;

    /* Counting and validating first, so that the arrays are allocated once. */
    scanner_init(&sc, ub, len, label);
    while (next_name(&sc, &b, &e)) {
        rc = decode_name(&sc, b, e, lower, cps, &n, err);
        if (rc != DRNN_OK)
            return rc;
        n_names++;
        n_syms += (size_t)n;
    }
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
    /* The counting pass validated everything, so this one cannot fail. */
    size_t i = 0, at = 0;
    scanner_init(&sc, ub, len, label);
    while (next_name(&sc, &b, &e)) {
        decode_name(&sc, b, e, lower, out->symbols + at, &n, NULL);
        out->start[i] = at;
        out->line[i++] = sc.line;
        at += (size_t)n;
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

int drnn_vocab_build(drnn_vocab *vocab, const drnn_names *names, drnn_error *err)
{
    if (!vocab || !names)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names to build a vocabulary from");
    memset(vocab, 0, sizeof *vocab);
    vocab->symbol[0] = DRNN_END;

    /* Insertion into the sorted array itself: at most DRNN_MAX_VOCAB - 1 entries,
     * so no table indexed by code point and no copy of the names. */
    int size = 1;
    uint32_t last = 0;
    for (size_t i = 0; i < names->count; i++) {
        for (size_t j = names->start[i]; j < names->start[i + 1]; j++) {
            uint32_t c = names->symbols[j];
            if (c == last && size > 1)
                continue;
            if (c == DRNN_END) {
                memset(vocab, 0, sizeof *vocab);
                return drnn_fail(err, DRNN_ERR_INVALID,
                                 "line %ld: code point 0 is reserved for the end marker",
                                 names->line[i]);
            }
            last = c;
            int at = lower_bound(vocab->symbol, 1, size, c);
            if (at < size && vocab->symbol[at] == c)
                continue;
            if (size == DRNN_MAX_VOCAB) {
                memset(vocab, 0, sizeof *vocab);
                return drnn_fail(err, DRNN_ERR_VOCAB_TOO_BIG,
                                 "line %ld: more than %d distinct symbols (the limit) at "
                                 "U+%04X; is this a list of names?",
                                 names->line[i], DRNN_MAX_VOCAB - 1, (unsigned)c);
            }
            memmove(&vocab->symbol[at + 1], &vocab->symbol[at],
                    (size_t)(size - at) * sizeof vocab->symbol[0]);
            vocab->symbol[at] = c;
            size++;
        }
    }
    vocab->size = size;
    return drnn_ok(err);
}

int drnn_vocab_find(const drnn_vocab *vocab, uint32_t symbol)
{
    if (!vocab || vocab->size <= 1 || vocab->size > DRNN_MAX_VOCAB)
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
    if (vocab->size < 1 || vocab->size > DRNN_MAX_VOCAB)
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
                /* Control characters would garble the user's terminal. */
                if (c < 0x20 || c == 0x7F)
                    strcpy(shown, "?");
                else
                    utf8_encode(c, shown);
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
    int16_t ascii[128];    /* token of each ASCII code point, -1 if none */
    unsigned char seen[128];
    uint32_t other[DRNN_MAX_VOCAB]; /* non-ASCII code points seen, ascending */
    int n_other, distinct;
} encoder;

/* The token of c, or -1 when the vocabulary lacks it. */
static int token_of(const encoder *en, uint32_t c)
{
    return c < 128 ? en->ascii[c] : drnn_vocab_find(en->vocab, c);
}

/* Building: records the symbols of a name, refusing the one past the limit. */
static int collect(encoder *en, const scanner *sc, const uint32_t *cps, int n, drnn_error *err)
{
    for (int i = 0; i < n; i++) {
        uint32_t c = cps[i];
        int at = 0;
        if (c < 128 ? en->seen[c] : ((at = lower_bound(en->other, 0, en->n_other, c)) <
                                         en->n_other && en->other[at] == c))
            continue;
        if (en->distinct == DRNN_MAX_VOCAB - 1)
            return drnn_fail(err, DRNN_ERR_VOCAB_TOO_BIG,
                             "%s:%ld: more than %d distinct symbols (the limit) at U+%04X; is "
                             "this a list of names?",
                             sc->label, sc->line, DRNN_MAX_VOCAB - 1, (unsigned)c);
        if (c < 128) {
            en->seen[c] = 1;
        } else {
            memmove(&en->other[at + 1], &en->other[at],
                    (size_t)(en->n_other - at) * sizeof en->other[0]);
            en->other[at] = c;
            en->n_other++;
        }
        en->distinct++;
    }
    return DRNN_OK;
}

/* Fills en->ascii from the vocabulary (built from the collected symbols first). */
static void finish_vocab(encoder *en)
{
    if (en->build) {
        drnn_vocab *v = en->vocab;
        memset(v, 0, sizeof *v);
        v->symbol[0] = DRNN_END;
        int size = 1;
        for (uint32_t c = 1; c < 128; c++)
            if (en->seen[c])
                v->symbol[size++] = c;
        for (int i = 0; i < en->n_other; i++)
            v->symbol[size++] = en->other[i];
        v->size = size;
    }
    for (uint32_t c = 0; c < 128; c++)
        en->ascii[c] = (int16_t)drnn_vocab_find(en->vocab, c);
}

int drnn_corpus_parse(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                      const char *buf, size_t len, const char *label,
                      const drnn_names_options *opts, int skip_unknown, drnn_error *err)
{
    const unsigned char *ub = (const unsigned char *)buf;
    const int lower = !(opts && opts->keep_case);
    uint32_t cps[DRNN_MAX_NAME_LEN];
    size_t n_names = 0, kept = 0, n_tok = 0, b, e;
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
    if (!en)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", LABEL(label));
    en->vocab = vocab;
    en->build = vocab->size == 0;
    if (!en->build)
        finish_vocab(en);
    rc = check_buffer(ub, len, label, err);

    /* First pass: validate, count, collect the vocabulary or check every
     * symbol against it, and hash every name (the skipped ones too). A
     * symbol outside the vocabulary is reported once the hash is complete. */
    drnn_error unknown = {DRNN_OK, ""};
    scanner_init(&sc, ub, len, label);
    while (rc == DRNN_OK && next_name(&sc, &b, &e)) {
        rc = decode_name(&sc, b, e, lower, cps, &n, err);
        if (rc != DRNN_OK)
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
            utf8_encode(cps[i], shown);
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
        free(en);
        return rc;
    }
    if (en->build)
        finish_vocab(en);

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
            memset(vocab, 0, sizeof *vocab);
        free(en);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names (%.0f MB)",
                         LABEL(label), kept,
                         ((double)n_tok * sizeof *out->tokens +
                          (double)kept * sizeof *out->start) / 1e6);
    }
    size_t i = 0, at = 0;
    scanner_init(&sc, ub, len, label);
    while (next_name(&sc, &b, &e)) {
        decode_name(&sc, b, e, lower, cps, &n, NULL);
        /* A skipped name (known from the first pass) writes nothing: the
         * tokens array has room for the kept ones only. */
        int k = 0;
        while (k < n && token_of(en, cps[k]) >= 0)
            k++;
        if (k < n)
            continue;
        out->start[i++] = at;
        for (k = 0; k < n; k++)
            out->tokens[at++] = (drnn_token)token_of(en, cps[k]);
    }
    out->start[i] = at;
    out->count = kept;
    free(en);
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
    for (size_t i = 0; i < count; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = count - 1; i >= 1; i--) {
        size_t j = (size_t)drnn_rng_below(&rng, (uint64_t)i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
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
