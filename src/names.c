/* names.c: from a names file's bytes to names: reading a file robustly,
 * the line scanner, decoding and normalising each name, and the one scan
 * (drnn_names_scan) that drnn_names_parse and drnn_corpus_parse both
 * consume; the names' fingerprint. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/names.h"
#include "internal.h"
#include "names_scan.h"
#include "text.h"

/* Code points a line may hold before normalisation: enough for a name of
 * DRNN_MAX_NAME_LEN symbols written decomposed (NFC joins at most four code
 * points into one), and a bound on the work a line costs. */
#define MAX_LINE_CODE_POINTS (4 * DRNN_MAX_NAME_LEN)

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
    sc->label = DRNN_LABEL(label);
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
        if (drnn_is_control(c))
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

/* The iconv name of the UTF-16 the buffer is in, or NULL: a byte-order
 * mark ("UTF-16", which iconv reads by it), else in its first 512 bytes NUL
 * at most odd (little-endian) or even (big-endian) positions and at no
 * other: text in the Latin script. Such a file is no binary one. */
static const char *utf16_encoding(const unsigned char *ub, size_t len)
{
    if (len >= 2 && ((ub[0] == 0xFF && ub[1] == 0xFE) || (ub[0] == 0xFE && ub[1] == 0xFF)))
        return "UTF-16";
    size_t n = (len < 512 ? len : 512) & ~(size_t)1, zeros[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        zeros[i & 1] += ub[i] == 0;
    if (n >= 4 && zeros[0] == 0 && zeros[1] * 4 >= n * 3 / 2)
        return "UTF-16LE";
    if (n >= 4 && zeros[1] == 0 && zeros[0] * 4 >= n * 3 / 2)
        return "UTF-16BE";
    return NULL;
}

/* Checks done on the whole buffer before any line: its size, UTF-16, and
 * NUL bytes (a binary file would otherwise be reported as bad UTF-8). */
static int check_buffer(const unsigned char *ub, size_t len, const char *label, drnn_error *err)
{
    if (len > DRNN_MAX_NAMES_FILE)
        return drnn_fail(err, DRNN_ERR_TOO_BIG,
                         "%s: %zu bytes is more than the %u MiB limit for a names file",
                         DRNN_LABEL(label), len, DRNN_MAX_NAMES_FILE >> 20);
    const char *utf16 = utf16_encoding(ub, len);
    if (utf16)
        return drnn_fail(err, DRNN_ERR_UTF8,
                         "%s: this looks like UTF-16 text (%s), not UTF-8: convert it, for "
                         "example with iconv -f %s -t UTF-8 OLD > NEW",
                         DRNN_LABEL(label),
                         strcmp(utf16, "UTF-16") == 0 ? "it starts with a byte-order mark"
                         : strcmp(utf16, "UTF-16LE") == 0 ? "little-endian, no byte-order mark"
                                                          : "big-endian, no byte-order mark",
                         utf16);
    const unsigned char *nul = len ? memchr(ub, '\0', len) : NULL;
    if (nul) {
        long line = 1;
        for (const unsigned char *p = ub; p < nul; p++)
            line += *p == '\n' || (*p == '\r' && p[1] != '\n');
        return drnn_fail(err, DRNN_ERR_BINARY,
                         "%s:%ld: NUL byte: this looks like a binary file, not a list of names",
                         DRNN_LABEL(label), line);
    }
    return DRNN_OK;
}

static int no_names(const char *label, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_EMPTY,
                     "%s: no names (the file is empty or has only blank lines)",
                     DRNN_LABEL(label));
}

int drnn_names_scan(const char *buf, size_t len, const char *label,
                    const drnn_names_options *opts, drnn_name_visitor visit, void *ctx,
                    drnn_error *err)
{
    const unsigned char *ub = (const unsigned char *)buf;
    int rc = check_buffer(ub, len, label, err);
    if (rc != DRNN_OK)
        return rc;
    uint32_t cps[DRNN_MAX_NAME_LEN];
    size_t names = 0;
    scanner sc;
    int n;
    scanner_init(&sc, ub, len, label, !(opts && opts->keep_case));
    while ((rc = next_name(&sc, cps, &n, err)) == DRNN_OK && n > 0) {
        const drnn_scanned_name name = {cps, n, sc.line, sc.label};
        names++;
        if ((rc = visit(ctx, &name, err)) != DRNN_OK)
            return rc;
    }
    if (rc == DRNN_OK && names == 0)
        return no_names(label, err);
    return rc;
}

/* ---- names as code points ---- */

/* What drnn_names_parse carries through its two scans. */
typedef struct names_fill {
    drnn_names *out;
    size_t names, symbols; /* counted by the first scan */
    size_t i, at;          /* the next name and symbol the second scan writes */
} names_fill;

static int count_name(void *ctx, const drnn_scanned_name *name, drnn_error *err)
{
    names_fill *f = ctx;
    (void)err;
    f->names++;
    f->symbols += (size_t)name->n;
    return DRNN_OK;
}

static int copy_name(void *ctx, const drnn_scanned_name *name, drnn_error *err)
{
    names_fill *f = ctx;
    (void)err;
    memcpy(f->out->symbols + f->at, name->cps, (size_t)name->n * sizeof *name->cps);
    f->out->start[f->i] = f->at;
    f->out->line[f->i++] = name->line;
    f->at += (size_t)name->n;
    return DRNN_OK;
}

/* out's arrays for the names that f counted. */
static int alloc_names(drnn_names *out, const names_fill *f, const char *label, drnn_error *err)
{
    int overflow = 0;
    size_t sym_bytes = drnn_mul_size(f->symbols, sizeof *out->symbols, &overflow);
    size_t start_bytes = drnn_mul_size(f->names + 1, sizeof *out->start, &overflow);
    size_t line_bytes = drnn_mul_size(f->names, sizeof *out->line, &overflow);
    if (!overflow) {
        out->symbols = malloc(sym_bytes);
        out->start = malloc(start_bytes);
        out->line = malloc(line_bytes);
    }
    if (overflow || !out->symbols || !out->start || !out->line) {
        drnn_names_free(out);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names",
                         DRNN_LABEL(label), f->names);
    }
    return DRNN_OK;
}

int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err)
{
    if (!out || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no buffer to parse", DRNN_LABEL(label));
    memset(out, 0, sizeof *out);
    names_fill f = {.out = out};

    /* Counting and validating first, so that the arrays are allocated once. */
    int rc = drnn_names_scan(buf, len, label, opts, count_name, &f, err);
    if (rc == DRNN_OK)
        rc = alloc_names(out, &f, label, err);
    if (rc != DRNN_OK)
        return rc;
    /* The counting pass validated everything: only memory can fail now. */
    rc = drnn_names_scan(buf, len, label, opts, copy_name, &f, err);
    if (rc != DRNN_OK) {
        drnn_names_free(out);
        return rc;
    }
    out->start[f.i] = f.at;
    out->count = f.names;
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

/* A names file being read. */
typedef struct file_reader {
    const char *path;
    int fd;
    int probing;       /* a FIFO before its first read: does anything write to it? */
    char *buf;
    size_t len, cap;
} file_reader;

/* Opens path without blocking (open() would wait forever for a FIFO's
 * writer) and refuses what cannot be a names file: a directory, a block
 * device, a socket, a regular file over the limit. */
static int open_names_file(const char *path, int *fd_out, struct stat *st, drnn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return drnn_fail(err, DRNN_ERR_NOT_FOUND, "%s: no such file", path);
        return drnn_fail(err, DRNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    int rc = DRNN_OK;
    if (fstat(fd, st) != 0)
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (S_ISDIR(st->st_mode))
        rc = drnn_fail(err, DRNN_ERR_IS_DIR, "%s: is a directory, not a names file", path);
    else if (S_ISBLK(st->st_mode) || S_ISSOCK(st->st_mode))
        rc = drnn_fail(err, DRNN_ERR_NOT_REGULAR, "%s: is %s, not a names file", path,
                       drnn_file_kind((unsigned)st->st_mode));
    else if (S_ISREG(st->st_mode) && (uintmax_t)st->st_size > DRNN_MAX_NAMES_FILE)
        rc = too_big(path, err);
    if (rc != DRNN_OK) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return DRNN_OK;
}

/* A full buffer doubles, up to one byte past the limit. */
static int grow_buffer(file_reader *r, drnn_error *err)
{
    if (r->cap > DRNN_MAX_NAMES_FILE)
        return too_big(r->path, err);
    /* Reading one byte past the limit is enough to know it is exceeded. */
    size_t ncap = r->cap > (DRNN_MAX_NAMES_FILE + (size_t)1) / 2 ? DRNN_MAX_NAMES_FILE + (size_t)1
                                                                 : r->cap * 2;
    char *nbuf = realloc(r->buf, ncap);
    if (!nbuf)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory reading the file", r->path);
    r->buf = nbuf;
    r->cap = ncap;
    return DRNN_OK;
}

/* One read(), into the buffer; *done once the file has ended. */
static int read_some(file_reader *r, int *done, drnn_error *err)
{
    int rc = r->len == r->cap ? grow_buffer(r, err) : DRNN_OK;
    if (rc != DRNN_OK)
        return rc;
    ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
    if (got < 0 && errno == EINTR)
        return DRNN_OK;
    if (got < 0 && !(r->probing && errno == EAGAIN))
        return drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", r->path, strerror(errno));
    if (got == 0 && r->probing)
        /* End of file before anything was written: no writer at all
         * (or one that closed the pipe without writing). */
        return drnn_fail(err, DRNN_ERR_NOT_REGULAR,
                         "%s: is a named pipe (FIFO) with no writer and nothing to read: "
                         "start the program that writes to it first, or give a regular file",
                         r->path);
    if (r->probing) {
        /* Something writes to it: from now on wait for its data. */
        r->probing = 0;
        if (set_blocking(r->fd) != 0)
            return drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", r->path, strerror(errno));
    }
    if (got > 0)
        r->len += (size_t)got;
    *done = got == 0;
    return DRNN_OK;
}

/* Pipes are read as they come (standard input, a process substitution, a
 * FIFO that a program writes), but a FIFO that nothing writes to is refused
 * at once instead of waiting forever in open(). */
int drnn_names_read_file(const char *path, char **out, size_t *out_len, drnn_error *err)
{
    file_reader r = {.path = path};
    struct stat st;
    *out = NULL;
    *out_len = 0;
    int rc = open_names_file(path, &r.fd, &st, err);
    if (rc != DRNN_OK)
        return rc;
    /* A FIFO stays non-blocking for its first read, which tells whether
     * anything writes to it; a terminal must block from the start. */
    r.probing = S_ISFIFO(st.st_mode);
    if (!r.probing && set_blocking(r.fd) != 0)
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    /* One byte more than a regular file's size lets the first read see EOF;
     * pipes and devices grow from a modest chunk. */
    r.cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 16;
    if (rc == DRNN_OK && !(r.buf = malloc(r.cap)))
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory reading the file", path);
    for (int done = 0; rc == DRNN_OK && !done;)
        rc = read_some(&r, &done, err);
    if (rc == DRNN_OK && r.len > DRNN_MAX_NAMES_FILE)
        rc = too_big(path, err);
    close(r.fd);
    if (rc != DRNN_OK) {
        free(r.buf);
        return rc;
    }
    *out = r.buf;
    *out_len = r.len;
    return DRNN_OK;
}

int drnn_names_load(drnn_names *out, const char *path, const drnn_names_options *opts,
                    drnn_error *err)
{
    if (!out || !path)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names file given");
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    int rc = drnn_names_read_file(path, &buf, &len, err);
    if (rc == DRNN_OK)
        rc = drnn_names_parse(out, buf, len, path, opts, err);
    free(buf);
    return rc;
}

/* Adds one name to an FNV-1a hash: each code point as 4 little-endian
 * bytes, then a 0, so that "ab","c" and "a","bc" differ. */
uint64_t drnn_fingerprint_add(uint64_t h, const uint32_t *cps, size_t n)
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
    uint64_t h = DRNN_FINGERPRINT_START;
    if (!names)
        return h;
    for (size_t i = 0; i < names->count; i++)
        h = drnn_fingerprint_add(h, names->symbols + names->start[i],
                                 names->start[i + 1] - names->start[i]);
    return h;
}
