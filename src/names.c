/* names.c: from a names file's bytes to names: reading a file robustly,
 * the line scanner, decoding and normalising each name and its label
 * ("name<TAB>label"), and the one scan (drnn_names_scan) that
 * drnn_names_parse and drnn_corpus_parse both consume; the names'
 * fingerprint. */
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
    int labeled;       /* -1 before the first name, then 1 when its line had a tab, else 0 */
    long first_line;   /* the line of the first name, which decided labeled */
    size_t label_col;  /* the column of the line's label, for messages */
    char label_text[DRNN_MAX_LABEL_BYTES + 1]; /* the line's label, NFC UTF-8 */
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
    sc->labeled = -1;
    sc->first_line = 0;
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
/* [*b, *e) without the white space at both ends (read backwards at the
 * end: UTF-8 tells where a character starts; an invalid end stops there,
 * for the forward pass to report). */
static void trim_white(const scanner *sc, size_t *b, size_t *e)
{
    const unsigned char *p = sc->buf;
    uint32_t c;
    const char *why = NULL;
    size_t k;
    while (*b < *e && (k = drnn_utf8_next(p + *b, *e - *b, &c, &why)) && drnn_is_white_space(c))
        *b += k;
    while (*e > *b && (k = drnn_utf8_last(p + *b, *e - *b, &c)) != (size_t)-1 &&
           drnn_is_white_space(c))
        *e = *b + k;
}

static int decode_name(scanner *sc, size_t b, size_t e, uint32_t *cps, int *n, drnn_error *err)
{
    const unsigned char *p = sc->buf;
    uint32_t c;
    const char *why = NULL;
    size_t k;
    *n = 0;
    trim_white(sc, &b, &e);
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

/* ---- the label after a tab ---- */

/* The column of byte at on the current line, from 1. */
static size_t column(const scanner *sc, size_t at)
{
    return at - sc->line_start + 1;
}

static int label_too_long(const scanner *sc, size_t b, drnn_error *err)
{
    return drnn_fail(err, DRNN_ERR_INVALID,
                     "%s:%ld:%zu: label longer than %d bytes (the limit, in UTF-8 after NFC); "
                     "shorten it",
                     sc->label, sc->line, column(sc, b), DRNN_MAX_LABEL_BYTES);
}

/* The label's code points from bytes [b, e) (trimmed, not empty) into
 * sc->raw: valid UTF-8 without control characters; *count of them. */
static int label_code_points(scanner *sc, size_t b, size_t e, size_t *count, drnn_error *err)
{
    const unsigned char *p = sc->buf;
    const char *why = NULL;
    uint32_t c;
    size_t k;
    *count = 0;
    for (size_t i = b; i < e; i += k) {
        if (!(k = drnn_utf8_next(p + i, e - i, &c, &why)))
            return drnn_fail(err, DRNN_ERR_UTF8,
                             "%s:%ld:%zu: invalid UTF-8 in the label (%s, byte 0x%02X); save "
                             "the file as UTF-8",
                             sc->label, sc->line, column(sc, i), why, p[i]);
        if (drnn_is_control(c))
            return drnn_fail(err, DRNN_ERR_CONTROL_CHAR,
                             "%s:%ld:%zu: control character U+%04X%s in the label: a label must "
                             "be printable text; remove it",
                             sc->label, sc->line, column(sc, i), (unsigned)c, control_name(c));
        if (*count == MAX_LINE_CODE_POINTS)
            return label_too_long(sc, b, err);
        sc->raw[(*count)++] = c;
    }
    return DRNN_OK;
}

/* The label after the tab at byte tab, up to the line's end e, into
 * sc->label_text: one tab only, trimmed, not empty, NFC (case kept), at
 * most DRNN_MAX_LABEL_BYTES bytes. */
static int decode_label(scanner *sc, size_t tab, size_t e, drnn_error *err)
{
    const unsigned char *p = sc->buf;
    size_t b = tab + 1, count;
    const unsigned char *second = memchr(p + b, '\t', e - b);
    if (second)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: a second tab: a line holds one name and one label "
                         "(name<TAB>label), and a label may not contain a tab",
                         sc->label, sc->line, column(sc, (size_t)(second - p)));
    trim_white(sc, &b, &e);
    if (b == e)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: empty label after the tab: write the label "
                         "(name<TAB>label)",
                         sc->label, sc->line, column(sc, tab + 1));
    int rc = label_code_points(sc, b, e, &count, err);
    if (rc != DRNN_OK)
        return rc;
    uint32_t nfc[DRNN_MAX_LABEL_BYTES];
    size_t len = drnn_text_normalize(sc->raw, count, 0, nfc, DRNN_MAX_LABEL_BYTES);
    if (len == (size_t)-1)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s:%ld: out of memory normalising a label",
                         sc->label, sc->line);
    if (len > DRNN_MAX_LABEL_BYTES) /* each code point takes a byte at least */
        return label_too_long(sc, b, err);
    size_t bytes = 0;
    for (size_t i = 0; i < len && bytes <= DRNN_MAX_LABEL_BYTES; i++) {
        char u[4];
        size_t k = drnn_utf8_put(nfc[i], u);
        if (bytes + k <= DRNN_MAX_LABEL_BYTES)
            memcpy(sc->label_text + bytes, u, k);
        bytes += k;
    }
    if (bytes > DRNN_MAX_LABEL_BYTES)
        return label_too_long(sc, b, err);
    sc->label_text[bytes] = '\0';
    sc->label_col = column(sc, b);
    return DRNN_OK;
}

/* A line with a name: the tab (at byte tab, or none: e) must agree with
 * the file's first name, which decides whether the file is labeled; then
 * the label is read. */
static int check_label(scanner *sc, size_t tab, size_t e, int named, drnn_error *err)
{
    int has_tab = tab < e;
    if (sc->labeled < 0) {
        sc->labeled = has_tab;
        sc->first_line = sc->line;
    }
    if (sc->labeled && !has_tab)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: no label: the file is labeled (line %ld has a tab), so "
                         "every line must be name<TAB>label: add this name's label, or remove "
                         "every label",
                         sc->label, sc->line, column(sc, e), sc->first_line);
    if (!sc->labeled && has_tab)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: a tab, but the file is unlabeled (line %ld, its first "
                         "name, has none): give every name a label (name<TAB>label), or none",
                         sc->label, sc->line, column(sc, tab), sc->first_line);
    if (!named)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: no name before the tab: write name<TAB>label",
                         sc->label, sc->line, column(sc, tab));
    return has_tab ? decode_label(sc, tab, e, err) : DRNN_OK;
}

/* The next name of the buffer into cps (room for DRNN_MAX_NAME_LEN), blank
 * lines skipped (white space alone, tabs included): DRNN_OK with *n > 0,
 * DRNN_OK with *n == 0 at the end, or the error of the line that is no
 * name. A labeled line's label is in sc->label_text. */
static int next_name(scanner *sc, uint32_t *cps, int *n, drnn_error *err)
{
    size_t b, e;
    *n = 0;
    while (next_line(sc, &b, &e)) {
        const unsigned char *t = memchr(sc->buf + b, '\t', e - b);
        size_t tab = t ? (size_t)(t - sc->buf) : e, rb = tab + 1, re = e;
        int rc = decode_name(sc, b, tab, cps, n, err);
        if (rc != DRNN_OK)
            return rc;
        if (*n == 0 && tab < e)
            trim_white(sc, &rb, &re);
        if (*n == 0 && (tab == e || rb == re))
            continue; /* blank */
        return check_label(sc, tab, e, *n > 0, err);
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

/* ---- the labels of a file ---- */

static size_t label_hash(const char *text)
{
    uint64_t h = DRNN_FINGERPRINT_START;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (size_t)(h ^ (h >> 32)) & (DRNN_LABEL_SLOTS - 1);
}

/* *index = the line's label's index in the set, added when new; refused
 * past DRNN_MAX_LABELS. */
static int label_index(const scanner *sc, drnn_label_set *s, int *index, drnn_error *err)
{
    size_t at = label_hash(sc->label_text);
    for (; s->slot[at]; at = (at + 1) & (DRNN_LABEL_SLOTS - 1))
        if (strcmp(s->text[s->slot[at] - 1], sc->label_text) == 0) {
            *index = s->slot[at] - 1;
            return DRNN_OK;
        }
    if (s->count == DRNN_MAX_LABELS)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "%s:%ld:%zu: label '%s' is one more than the %d distinct labels a "
                         "file may have: merge some labels, or split the file",
                         sc->label, sc->line, sc->label_col, sc->label_text, DRNN_MAX_LABELS);
    if (!(s->text[s->count] = strdup(sc->label_text)))
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s:%ld: out of memory for a label", sc->label,
                         sc->line);
    *index = s->count;
    s->slot[at] = (uint16_t)++s->count;
    return DRNN_OK;
}

void drnn_label_set_free(drnn_label_set *s)
{
    for (int i = 0; s && i < s->count; i++)
        free(s->text[i]);
    if (s)
        memset(s, 0, sizeof *s);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int drnn_label_set_table(const drnn_label_set *s, drnn_label_table *t,
                         uint16_t remap[DRNN_MAX_LABELS], drnn_error *err)
{
    char *sorted[DRNN_MAX_LABELS];
    memset(t, 0, sizeof *t);
    if (s->count == 0)
        return DRNN_OK;
    memcpy(sorted, s->text, (size_t)s->count * sizeof *sorted);
    qsort(sorted, (size_t)s->count, sizeof *sorted, by_text);
    const drnn_label_table view = {.count = s->count, .text = sorted};
    int rc = drnn_label_table_copy(t, &view, err);
    for (int i = 0; rc == DRNN_OK && i < s->count; i++)
        remap[i] = (uint16_t)drnn_label_find(t, s->text[i]);
    return rc;
}

int drnn_names_scan(const char *buf, size_t len, const char *label,
                    const drnn_names_options *opts, drnn_label_set *labels,
                    drnn_name_visitor visit, void *ctx, drnn_error *err)
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
        int l = -1;
        if (sc.labeled && (rc = label_index(&sc, labels, &l, err)) != DRNN_OK)
            return rc;
        const drnn_scanned_name name = {cps, n, sc.line, sc.label, l,
                                        l >= 0 ? labels->text[l] : NULL};
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
    drnn_label_set labels; /* filled by the first scan, found again by the second */
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
    if (f->out->label)
        f->out->label[f->i] = (uint16_t)name->label;
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
    size_t label_bytes = drnn_mul_size(f->names, sizeof *out->label, &overflow);
    int labeled = f->labels.count > 0;
    if (!overflow) {
        out->symbols = malloc(sym_bytes);
        out->start = malloc(start_bytes);
        out->line = malloc(line_bytes);
        out->label = labeled ? malloc(label_bytes) : NULL;
    }
    if (overflow || !out->symbols || !out->start || !out->line || (labeled && !out->label)) {
        drnn_names_free(out);
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names",
                         DRNN_LABEL(label), f->names);
    }
    return DRNN_OK;
}

/* The names' labels as indices into their sorted table, with its counts. */
static int sort_labels(drnn_names *out, const drnn_label_set *set, drnn_error *err)
{
    uint16_t remap[DRNN_MAX_LABELS];
    int rc = drnn_label_set_table(set, &out->labels, remap, err);
    for (size_t i = 0; rc == DRNN_OK && out->label && i < out->count; i++) {
        out->label[i] = remap[out->label[i]];
        out->labels.names[out->label[i]]++;
    }
    return rc;
}

int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err)
{
    if (!out || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no buffer to parse", DRNN_LABEL(label));
    memset(out, 0, sizeof *out);
    names_fill f = {.out = out};

    /* Counting and validating first, so that the arrays are allocated once. */
    int rc = drnn_names_scan(buf, len, label, opts, &f.labels, count_name, &f, err);
    if (rc == DRNN_OK)
        rc = alloc_names(out, &f, label, err);
    /* The counting pass validated everything: only memory can fail now. */
    if (rc == DRNN_OK)
        rc = drnn_names_scan(buf, len, label, opts, &f.labels, copy_name, &f, err);
    if (rc == DRNN_OK) {
        out->start[f.i] = f.at;
        out->count = f.names;
        rc = sort_labels(out, &f.labels, err);
    }
    drnn_label_set_free(&f.labels);
    if (rc != DRNN_OK) {
        drnn_names_free(out);
        return rc;
    }
    return drnn_ok(err);
}

void drnn_names_free(drnn_names *names)
{
    if (!names)
        return;
    free(names->symbols);
    free(names->start);
    free(names->line);
    free(names->label);
    drnn_label_table_free(&names->labels);
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

/* A tab, the label's bytes and a 0: a label never holds a tab or a 0. */
uint64_t drnn_fingerprint_add_label(uint64_t h, const char *label)
{
    const uint64_t prime = 0x100000001b3ULL;
    if (!label)
        return h;
    h = (h ^ '\t') * prime;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        h = (h ^ *p) * prime;
    return h * prime; /* h ^ 0 */
}

uint64_t drnn_names_fingerprint(const drnn_names *names)
{
    uint64_t h = DRNN_FINGERPRINT_START;
    if (!names)
        return h;
    for (size_t i = 0; i < names->count; i++) {
        h = drnn_fingerprint_add(h, names->symbols + names->start[i],
                                 names->start[i + 1] - names->start[i]);
        if (names->label)
            h = drnn_fingerprint_add_label(h, names->labels.text[names->label[i]]);
    }
    return h;
}
