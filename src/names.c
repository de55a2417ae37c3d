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

/* One pass over the buffer. With out == NULL it validates and counts;
 * otherwise it fills out's arrays, which the counting pass sized. */
static int scan_names(const unsigned char *buf, size_t len, const char *label, int lower,
                      drnn_names *out, size_t *n_names, size_t *n_syms, drnn_error *err)
{
    size_t names = 0, syms = 0, pos = 0;
    long line = 0;

    /* A BOM is an encoding mark some editors add, not part of the first name. */
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        pos = 3;

    while (pos < len) {
        const unsigned char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t next = nl ? end + 1 : len;
        size_t b = pos, e = end;

        /* Columns count bytes from the true start of the line, BOM included. */
        size_t line_start = ++line == 1 ? 0 : pos;
        if (e > b && buf[e - 1] == '\r')
            e--;
        while (b < e && is_blank(buf[b]))
            b++;
        while (e > b && is_blank(buf[e - 1]))
            e--;
        pos = next;
        if (b == e)
            continue;

        size_t n_cp = 0;
        for (size_t i = b; i < e;) {
            uint32_t c;
            const char *why = NULL;
            size_t k = utf8_decode(buf + i, e - i, &c, &why);
            if (k == 0)
                return drnn_fail(err, DRNN_ERR_UTF8,
                                 "%s:%ld: invalid UTF-8 (%s, byte 0x%02X at column %zu); "
                                 "save the file as UTF-8",
                                 LABEL(label), line, why, buf[i], i - line_start + 1);
            if (++n_cp > DRNN_MAX_NAME_LEN)
                return drnn_fail(err, DRNN_ERR_NAME_TOO_LONG,
                                 "%s:%ld: name longer than %d symbols (the limit); "
                                 "the file should hold one name per line",
                                 LABEL(label), line, DRNN_MAX_NAME_LEN);
            if (out)
                out->symbols[syms] = lower ? lower_cp(c) : c;
            syms++;
            i += k;
        }
        if (out) {
            out->start[names] = syms - n_cp;
            out->line[names] = line;
        }
        names++;
    }
    if (out)
        out->start[names] = syms;
    *n_names = names;
    *n_syms = syms;
    return DRNN_OK;
}

int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err)
{
    const unsigned char *ub = (const unsigned char *)buf;
    int lower = !(opts && opts->keep_case);
    size_t n_names, n_syms;
    int rc;

    if (!out || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no buffer to parse", LABEL(label));
    memset(out, 0, sizeof *out);
    if (len > DRNN_MAX_NAMES_FILE)
        return drnn_fail(err, DRNN_ERR_TOO_BIG,
                         "%s: %zu bytes is more than the %u MiB limit for a names file",
                         LABEL(label), len, DRNN_MAX_NAMES_FILE >> 20);

    /* Checked first because a binary file would otherwise be reported as bad UTF-8. */
    const unsigned char *nul = len ? memchr(ub, '\0', len) : NULL;
    if (nul) {
        long line = 1;
        for (const unsigned char *p = ub; p < nul; p++)
            line += *p == '\n';
        return drnn_fail(err, DRNN_ERR_BINARY,
                         "%s:%ld: NUL byte: this looks like a binary file, not a list of names",
                         LABEL(label), line);
    }

    rc = scan_names(ub, len, label, lower, NULL, &n_names, &n_syms, err);
    if (rc != DRNN_OK)
        return rc;
    if (n_names == 0)
        return drnn_fail(err, DRNN_ERR_EMPTY,
                         "%s: no names (the file is empty or has only blank lines)",
                         LABEL(label));

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
    scan_names(ub, len, label, lower, out, &n_names, &n_syms, NULL);
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

uint64_t drnn_names_fingerprint(const drnn_names *names)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint64_t prime = 0x100000001b3ULL;

    if (!names)
        return h;
    for (size_t i = 0; i < names->count; i++) {
        /* Each code point is 4 little-endian bytes and 0 ends a name, so that
         * "ab","c" and "a","bc" differ. */
        for (size_t j = names->start[i]; j <= names->start[i + 1]; j++) {
            uint32_t c = j < names->start[i + 1] ? names->symbols[j] : 0;
            for (int k = 0; k < 4; k++) {
                h ^= (c >> (8 * k)) & 0xFF;
                h *= prime;
            }
        }
    }
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

/* Code points there are: one bit each marks those seen (136 KiB). */
#define CODE_POINTS 0x110000u
#define SEEN_WORDS (CODE_POINTS / 64)

int drnn_vocab_build(drnn_vocab *vocab, const drnn_names *names, drnn_error *err)
{
    if (!vocab || !names)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names to build a vocabulary from");
    memset(vocab, 0, sizeof *vocab);

    /* One pass marks each code point seen and counts the new ones, so the
     * limit is caught on the line that passes it; the marks, read in
     * order, are the sorted vocabulary. Linear in the symbols, whatever
     * the size of the alphabet. */
    uint64_t *seen = calloc(SEEN_WORDS, sizeof *seen);
    if (!seen)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary");
    int size = 1;
    for (size_t i = 0; i < names->count; i++) {
        for (size_t j = names->start[i]; j < names->start[i + 1]; j++) {
            uint32_t c = names->symbols[j];
            const char *bad = c == DRNN_END ? "code point 0 is reserved for the end marker"
                              : c >= CODE_POINTS ? "a code point above U+10FFFF"
                                                 : NULL;
            if (bad) {
                free(seen);
                return drnn_fail(err, DRNN_ERR_INVALID, "line %ld: %s", names->line[i], bad);
            }
            uint64_t bit = (uint64_t)1 << (c % 64);
            if (seen[c / 64] & bit)
                continue;
            if (size == DRNN_MAX_VOCAB) {
                free(seen);
                return drnn_fail(err, DRNN_ERR_VOCAB_TOO_BIG,
                                 "line %ld: more than %d distinct symbols (the limit) at "
                                 "U+%04X; is this a list of names?",
                                 names->line[i], DRNN_MAX_VOCAB - 1, (unsigned)c);
            }
            seen[c / 64] |= bit;
            size++;
        }
    }
    uint32_t *symbol = malloc((size_t)size * sizeof *symbol);
    if (!symbol) {
        free(seen);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary of %d symbols",
                         size - 1);
    }
    symbol[0] = DRNN_END;
    int n = 1;
    for (uint32_t w = 0; w < SEEN_WORDS; w++)
        for (uint64_t bits = seen[w]; bits; bits &= bits - 1)
            symbol[n++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
    free(seen);
    vocab->size = size;
    vocab->symbol = symbol;
    return drnn_ok(err);
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

    int overflow = 0;
    size_t perm_bytes = drnn_mul_size(count, sizeof(size_t), &overflow);
    size_t *perm = NULL, *tr = NULL, *va = NULL;
    unsigned char *in_val = NULL;
    if (!overflow) {
        perm = malloc(perm_bytes);
        in_val = calloc(count, 1);
        tr = malloc(nt * sizeof(size_t));
        va = malloc((nv ? nv : 1) * sizeof(size_t));
    }
    if (overflow || !perm || !in_val || !tr || !va) {
        free(perm);
        free(in_val);
        free(tr);
        free(va);
        return drnn_fail(err, DRNN_ERR_NOMEM, "split: out of memory for %zu names", count);
    }

    drnn_rng rng;
    drnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < count; i++)
        perm[i] = i;
    for (size_t i = count - 1; i >= 1; i--) {
        size_t j = (size_t)drnn_rng_below(&rng, (uint64_t)i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* Marking and sweeping yields both lists already sorted. */
    for (size_t i = 0; i < nv; i++)
        in_val[perm[i]] = 1;
    size_t a = 0, b = 0;
    for (size_t i = 0; i < count; i++) {
        if (in_val[i])
            va[b++] = i;
        else
            tr[a++] = i;
    }
    free(perm);
    free(in_val);
    *train = tr;
    *n_train = nt;
    *val = va;
    *n_val = nv;
    return drnn_ok(err);
}
