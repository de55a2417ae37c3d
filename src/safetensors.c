/* safetensors.c: the safetensors container (safetensors.h). The reader takes
 * untrusted bytes: every length is checked against what is left before it
 * is used, and nothing is allocated beyond what the header's own size
 * bounds. The JSON is the subset the format uses: objects, strings, arrays
 * of whole numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/interop.h"
#include "error_internal.h"
#include "safetensors.h"
#include "text.h"

/* ---- dtypes ---- */

static const struct {
    const char *name;
    int size;
} dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
    {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1},
    {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

static int dtype_size(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(name, dtypes[i].name) == 0)
            return dtypes[i].size;
    return 0;
}

/* ---- a JSON scanner over [p, end) ---- */

typedef struct scan {
    const unsigned char *start, *p, *end;
    const char *why;              /* the first fault found */
} scan;

static int fault(scan *s, const char *why)
{
    if (!s->why)
        s->why = why;
    return -1;
}

static void skip_space(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int expect(scan *s, unsigned char c)
{
    skip_space(s);
    if (s->p >= s->end || *s->p != c)
        return fault(s, c == ':' ? "a ':' expected" : c == '{' ? "an object expected"
                        : c == '[' ? "an array expected" : "a string expected");
    s->p++;
    return 0;
}

static int hex4(scan *s, uint32_t *u)
{
    if (s->end - s->p < 4)
        return fault(s, "a \\u escape cut short");
    *u = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = *s->p++;
        int d = c >= '0' && c <= '9' ? (int)c - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
                : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
        if (d < 0)
            return fault(s, "a \\u escape that is not four hexadecimal digits");
        *u = *u * 16 + (uint32_t)d;
    }
    return 0;
}

/* One escape after the backslash, into a code point. */
static int escape(scan *s, uint32_t *c)
{
    if (s->p >= s->end)
        return fault(s, "a string cut short");
    unsigned char e = *s->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *at = e ? strchr(from, e) : NULL;
    if (at) {
        *c = (unsigned char)to[at - from];
        return 0;
    }
    if (e != 'u')
        return fault(s, "an unknown escape in a string");
    if (hex4(s, c))
        return -1;
    if (*c >= 0xDC00 && *c <= 0xDFFF)
        return fault(s, "a lone low surrogate in a string");
    if (*c >= 0xD800 && *c <= 0xDBFF) {
        uint32_t lo;
        if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
            return fault(s, "a lone high surrogate in a string");
        s->p += 2;
        if (hex4(s, &lo))
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fault(s, "a high surrogate without its low surrogate");
        *c = 0x10000 + ((*c - 0xD800) << 10) + (lo - 0xDC00);
    }
    return 0;
}

/* A string, decoded into a new NUL-terminated buffer (its UTF-8 is never
 * longer than its JSON). NUL itself is refused: names are C strings. */
static char *string(scan *s)
{
    if (expect(s, '"'))
        return NULL;
    const unsigned char *q = s->p;
    while (q < s->end && *q != '"')
        q += *q == '\\' && q + 1 < s->end ? 2 : 1;
    if (q >= s->end) {
        fault(s, "a string without its closing quote");
        return NULL;
    }
    char *out = malloc((size_t)(q - s->p) + 1);
    if (!out) {
        fault(s, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (*s->p != '"') {
        uint32_t c;
        if (*s->p == '\\') {
            s->p++;
            if (escape(s, &c))
                goto bad;
        } else if (*s->p < 0x20) {
            fault(s, "a control character inside a string");
            goto bad;
        } else {
            const char *why;
            size_t k = drnn_utf8_next(s->p, (size_t)(s->end - s->p), &c, &why);
            if (!k) {
                fault(s, "invalid UTF-8 in a string");
                goto bad;
            }
            s->p += k;
        }
        if (c == 0) {
            fault(s, "a NUL character in a string");
            goto bad;
        }
        n += drnn_utf8_put(c, out + n);
    }
    s->p++;
    out[n] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* A whole number 0 .. 2^63-1, no sign, fraction or exponent. */
static int whole(scan *s, uint64_t *x)
{
    skip_space(s);
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return fault(s, "a whole number expected");
    if (*s->p == '0' && s->p + 1 < s->end && s->p[1] >= '0' && s->p[1] <= '9')
        return fault(s, "a number with a leading zero");
    *x = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (*x > (UINT64_C(1) << 63) / 10)
            return fault(s, "a number too large");
        *x = *x * 10 + (uint64_t)(*s->p++ - '0');
    }
    if (*x >= UINT64_C(1) << 63)
        return fault(s, "a number too large");
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return fault(s, "a number that is not whole");
    return 0;
}

/* After a member or an item: 1 for ',' (more follow), 0 for the closer. */
static int more(scan *s, unsigned char closer)
{
    skip_space(s);
    if (s->p < s->end && *s->p == ',') {
        s->p++;
        return 1;
    }
    if (s->p < s->end && *s->p == closer) {
        s->p++;
        return 0;
    }
    return fault(s, closer == '}' ? "a ',' or '}' expected" : "a ',' or ']' expected");
}

/* 1 when the next character (after spaces) is c, which is then consumed. */
static int empty_next(scan *s, unsigned char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* Calls item(s, ctx) for each item of an array (open '[') or each member of
 * an object (open '{': item reads the key, the ':' and the value). */
static int each(scan *s, unsigned char open, int (*item)(scan *, void *), void *ctx)
{
    unsigned char close = open == '[' ? ']' : '}';
    if (expect(s, open))
        return -1;
    if (empty_next(s, close))
        return 0;
    int rc;
    do {
        if (item(s, ctx))
            return -1;
    } while ((rc = more(s, close)) == 1);
    return rc;
}

/* A member's key and its ':' (the key into a new string, or NULL). */
static char *key_of(scan *s)
{
    char *key = string(s);
    if (key && expect(s, ':')) {
        free(key);
        return NULL;
    }
    return key;
}

/* ---- the header ---- */

typedef struct number_list {
    uint64_t *x;
    int max, n;
} number_list;

static int number_item(scan *s, void *ctx)
{
    number_list *l = ctx;
    if (l->n >= l->max)
        return fault(s, "an array too long");
    return whole(s, &l->x[l->n++]);
}

/* An array of at most max whole numbers. */
static int numbers(scan *s, uint64_t *x, int max, int *n)
{
    number_list l = {x, max, 0};
    int rc = each(s, '[', number_item, &l);
    *n = l.n;
    return rc;
}

typedef struct tensor_ctx {
    drnn_st_tensor *t;
    int have;                     /* bits: dtype 1, shape 2, data_offsets 4 */
} tensor_ctx;

static int dtype_value(scan *s, drnn_st_tensor *t)
{
    char *d = string(s);
    if (!d)
        return -1;
    t->element_size = dtype_size(d);
    snprintf(t->dtype, sizeof t->dtype, "%s", d);
    free(d);
    return t->element_size ? 0 : fault(s, "an unknown dtype");
}

static int offsets_value(scan *s, drnn_st_tensor *t)
{
    uint64_t off[2];
    int n;
    if (numbers(s, off, 2, &n))
        return -1;
    if (n != 2 || off[0] > off[1])
        return fault(s, "data_offsets must be [begin, end], begin <= end");
    t->begin = off[0];
    t->end = off[1];
    return 0;
}

static int tensor_member(scan *s, void *ctx)
{
    tensor_ctx *c = ctx;
    char *key = key_of(s);
    if (!key)
        return -1;
    int bit = strcmp(key, "dtype") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2
              : strcmp(key, "data_offsets") == 0 ? 4 : 0;
    free(key);
    if (!bit || (c->have & bit))
        return fault(s, bit ? "a tensor's key given twice" : "an unknown key in a tensor");
    c->have |= bit;
    return bit == 1 ? dtype_value(s, c->t)
           : bit == 2 ? numbers(s, c->t->shape, DRNN_ST_MAX_DIMS, &c->t->ndim)
                      : offsets_value(s, c->t);
}

/* A tensor's object: dtype, shape and data_offsets, each once. */
static int tensor_info(scan *s, drnn_st_tensor *t)
{
    tensor_ctx c = {t, 0};
    if (each(s, '{', tensor_member, &c))
        return -1;
    return c.have == 7 ? 0 : fault(s, "a tensor without dtype, shape and data_offsets");
}

/* Room for one more of n items of size bytes in *items (capacity *cap,
 * doubled as it grows): 0, or -1 when memory ran out. */
static int room_for(void **items, int n, int *cap, size_t size)
{
    if (n < *cap)
        return 0;
    int c = *cap ? 2 * *cap : 16;
    void *grown = realloc(*items, (size_t)c * size);
    if (!grown)
        return -1;
    *items = grown;
    *cap = c;
    return 0;
}

static int meta_member(scan *s, void *ctx)
{
    drnn_st_file *f = ctx;
    if (f->meta_count >= DRNN_ST_MAX_META)
        return fault(s, "more metadata than dinornn reads (4096 keys)");
    if (room_for((void **)&f->meta, f->meta_count, &f->meta_cap, sizeof *f->meta))
        return fault(s, "out of memory");
    drnn_st_entry *e = &f->meta[f->meta_count];
    e->value = NULL;
    if (!(e->key = key_of(s)))
        return -1;
    f->meta_count++;
    return (e->value = string(s)) ? 0 : -1; /* a key given twice: check_twice */
}

static int add_tensor(scan *s, drnn_st_file *f, char *name)
{
    if (f->count >= DRNN_ST_MAX_TENSORS) {
        free(name);
        return fault(s, "more tensors than dinornn reads (65536)");
    }
    if (room_for((void **)&f->tensor, f->count, &f->tensor_cap, sizeof *f->tensor)) {
        free(name);
        return fault(s, "out of memory");
    }
    drnn_st_tensor *t = &f->tensor[f->count++];
    memset(t, 0, sizeof *t);
    t->name = name;
    return tensor_info(s, t);
}

typedef struct header_ctx {
    drnn_st_file *f;
    int seen_meta;
} header_ctx;

static int header_member(scan *s, void *ctx)
{
    header_ctx *h = ctx;
    char *name = key_of(s);
    if (!name)
        return -1;
    if (strcmp(name, "__metadata__") != 0)
        return add_tensor(s, h->f, name);
    free(name);
    if (h->seen_meta++)
        return fault(s, "__metadata__ given twice");
    return each(s, '{', meta_member, h->f);
}

static int header(scan *s, drnn_st_file *f)
{
    header_ctx h = {f, 0};
    if (each(s, '{', header_member, &h))
        return -1;
    skip_space(s);
    return s->p == s->end ? 0 : fault(s, "bytes after the header's object");
}

/* ---- the tensors against the data ---- */

static int by_begin(const void *a, const void *b)
{
    const drnn_st_tensor *x = *(drnn_st_tensor *const *)a, *y = *(drnn_st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int check_sizes(const drnn_st_file *f, const char *label, drnn_error *err)
{
    for (int i = 0; i < f->count; i++) {
        const drnn_st_tensor *t = &f->tensor[i];
        uint64_t bytes = (uint64_t)t->element_size;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] && bytes > UINT64_MAX / t->shape[d])
                return drnn_fail(err, DRNN_ERR_SAFETENSORS,
                                 "%s: not a valid safetensors file: tensor '%s' has a shape "
                                 "too large", label, t->name);
            bytes *= t->shape[d];
        }
        if (t->end - t->begin != bytes)
            return drnn_fail(err, DRNN_ERR_SAFETENSORS,
                             "%s: not a valid safetensors file: tensor '%s' has %llu bytes at "
                             "data_offsets [%llu, %llu], its dtype %s and shape need %llu",
                             label, t->name, (unsigned long long)(t->end - t->begin),
                             (unsigned long long)t->begin, (unsigned long long)t->end,
                             t->dtype, (unsigned long long)bytes);
    }
    return DRNN_OK;
}

/* The tensors must tile [0, data_len): sorted by offset, each begins where
 * the one before ends. */
static int check_tiling(const drnn_st_file *f, const char *label, drnn_error *err)
{
    const drnn_st_tensor **order = malloc((size_t)(f->count ? f->count : 1) * sizeof *order);
    if (!order)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", label);
    for (int i = 0; i < f->count; i++)
        order[i] = &f->tensor[i];
    qsort(order, (size_t)f->count, sizeof *order, by_begin);
    uint64_t at = 0;
    int rc = DRNN_OK;
    for (int i = 0; i < f->count && !rc; i++) {
        if (order[i]->begin != at)
            rc = drnn_fail(err, DRNN_ERR_SAFETENSORS,
                           "%s: not a valid safetensors file: tensor '%s' begins at byte %llu "
                           "of the data, where %s", label, order[i]->name,
                           (unsigned long long)order[i]->begin,
                           order[i]->begin < at ? "another tensor's bytes lie (they overlap)"
                                                : "a gap of bytes no tensor owns begins");
        at = order[i]->end;
        if (!rc && at > f->data_len)
            rc = drnn_fail(err, DRNN_ERR_SAFETENSORS,
                           "%s: not a valid safetensors file: tensor '%s' ends at byte %llu of "
                           "the data, past its end (the data is %llu byte%s): the file is "
                           "truncated or its offsets lie", label, order[i]->name,
                           (unsigned long long)at, (unsigned long long)f->data_len,
                           f->data_len == 1 ? "" : "s");
    }
    if (!rc && at != f->data_len)
        rc = drnn_fail(err, DRNN_ERR_SAFETENSORS,
                       "%s: not a valid safetensors file: %llu bytes after the last tensor "
                       "belong to none", label, (unsigned long long)(f->data_len - at));
    free(order);
    return rc;
}

/* Names in strcmp order, to find one given twice in n log n. */
static int by_name_ptr(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* The first name of items[0 .. n) (each a char * at stride bytes) given
 * twice, or NULL; -1 in *nomem when the sort could not be made. */
static const char *twice(const void *items, int n, size_t stride, int *nomem)
{
    char *const **order = malloc((size_t)(n ? n : 1) * sizeof *order);
    *nomem = !order;
    if (!order)
        return NULL;
    for (int i = 0; i < n; i++)
        order[i] = (char *const *)((const char *)items + (size_t)i * stride);
    qsort(order, (size_t)n, sizeof *order, by_name_ptr);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++)
        if (strcmp(*order[i], *order[i - 1]) == 0)
            dup = *order[i];
    free(order);
    return dup;
}

static int check_twice(const drnn_st_file *f, const char *label, drnn_error *err)
{
    int nomem;
    const char *dup = twice(f->tensor, f->count, sizeof *f->tensor, &nomem);
    if (!nomem && !dup && (dup = twice(f->meta, f->meta_count, sizeof *f->meta, &nomem)))
        return drnn_fail(err, DRNN_ERR_SAFETENSORS,
                         "%s: not a valid safetensors file: metadata key '%s' given twice",
                         label, dup);
    if (nomem)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", label);
    return dup ? drnn_fail(err, DRNN_ERR_SAFETENSORS,
                           "%s: not a valid safetensors file: tensor '%s' given twice", label, dup)
               : DRNN_OK;
}

uint64_t drnn_st_header_length(const unsigned char *buf)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    return n;
}

int drnn_st_parse_header(drnn_st_file *f, const unsigned char *buf, size_t len,
                         uint64_t file_len, const char *label, drnn_error *err)
{
    memset(f, 0, sizeof *f);
    if (len < 8 || file_len < 8)
        return drnn_fail(err, DRNN_ERR_SAFETENSORS,
                         "%s: not a safetensors file: %llu bytes, fewer than the 8 of the "
                         "header's length", label, (unsigned long long)file_len);
    uint64_t n = drnn_st_header_length(buf);
    if (n > DRNN_SAFETENSORS_MAX_HEADER || n > file_len - 8 || n < 2 || n > len - 8)
        return drnn_fail(err, DRNN_ERR_SAFETENSORS,
                         "%s: not a safetensors file: its header length %llu is %s", label,
                         (unsigned long long)n,
                         n < 2 ? "too small for a JSON object"
                         : n > file_len - 8 ? "past the end of the file (truncated, or not safetensors)"
                         : n > DRNN_SAFETENSORS_MAX_HEADER ? "over the 16 MB dinornn reads"
                                                           : "past the bytes given");
    scan s = {buf + 8, buf + 8, buf + 8 + n, NULL};
    if (header(&s, f) || s.why) {
        int code = s.why && strcmp(s.why, "out of memory") == 0 ? DRNN_ERR_NOMEM
                                                                 : DRNN_ERR_SAFETENSORS;
        drnn_fail(err, code, "%s: not a valid safetensors file: its JSON header, byte %zu: %s",
                  label, (size_t)(s.p - buf), s.why ? s.why : "malformed");
        drnn_st_free(f);
        return code;
    }
    f->data_len = file_len - 8 - n;
    int rc = check_twice(f, label, err);
    if (!rc)
        rc = check_sizes(f, label, err);
    if (!rc)
        rc = check_tiling(f, label, err);
    if (rc)
        drnn_st_free(f);
    return rc;
}

int drnn_st_parse(drnn_st_file *f, const unsigned char *buf, size_t len, const char *label,
                  drnn_error *err)
{
    int rc = drnn_st_parse_header(f, buf, len, len, label, err);
    if (!rc)
        f->data = buf + 8 + drnn_st_header_length(buf);
    return rc;
}

void drnn_st_free(drnn_st_file *f)
{
    for (int i = 0; i < f->count; i++)
        free(f->tensor[i].name);
    for (int i = 0; i < f->meta_count; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->tensor);
    free(f->meta);
    memset(f, 0, sizeof *f);
}

const drnn_st_tensor *drnn_st_find(const drnn_st_file *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensor[i].name, name) == 0)
            return &f->tensor[i];
    return NULL;
}

const char *drnn_st_meta(const drnn_st_file *f, const char *key)
{
    for (int i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

/* ---- arrays inside metadata values ---- */

typedef struct string_list {
    char **items;
    int max, n;
} string_list;

static int string_item(scan *s, void *ctx)
{
    string_list *l = ctx;
    if (l->n >= l->max)
        return fault(s, "an array too long");
    return (l->items[l->n] = string(s)) ? (l->n++, 0) : -1;
}

/* The whole of text as one array of each's items: the scan, then its end. */
static int whole_array(const char *text, int (*item)(scan *, void *), void *ctx)
{
    scan s = {(const unsigned char *)text, (const unsigned char *)text,
              (const unsigned char *)text + strlen(text), NULL};
    if (each(&s, '[', item, ctx))
        return -1;
    skip_space(&s);
    return s.p == s.end ? 0 : -1;
}

int drnn_json_string_array(const char *text, char **items, int count)
{
    string_list l = {items, count, 0};
    if (whole_array(text, string_item, &l) == 0)
        return l.n;
    while (l.n > 0) {
        free(items[--l.n]);
        items[l.n] = NULL;
    }
    return -1;
}

int drnn_json_int_array(const char *text, int64_t *items, int count)
{
    /* (whole numbers are below 2^63: int64_t holds them; signed and unsigned
     * variants of a type may alias) */
    number_list l = {(uint64_t *)items, count, 0};
    return whole_array(text, number_item, &l) == 0 ? l.n : -1;
}

/* ---- the writer ---- */

void drnn_st_writer_init(drnn_st_writer *w)
{
    memset(w, 0, sizeof *w);
}

void drnn_st_writer_free(drnn_st_writer *w)
{
    free(w->json);
    memset(w, 0, sizeof *w);
}

static void put(drnn_st_writer *w, const char *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = (w->len + n + 1) * 2;
        char *grown = realloc(w->json, cap);
        if (!grown) {
            w->failed = 1;
            return;
        }
        w->json = grown;
        w->cap = cap;
    }
    memcpy(w->json + w->len, p, n);
    w->len += n;
    w->json[w->len] = '\0';
}

static void put_str(drnn_st_writer *w, const char *p)
{
    put(w, p, strlen(p));
}

size_t drnn_json_quote(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    char esc[8];
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        const char *piece = (const char *)p;
        size_t k = 1;
        if (*p == '"' || *p == '\\' || *p == 0) {
            esc[0] = *p ? '\\' : '"';
            esc[1] = (char)*p;
            piece = esc;
            k = *p ? 2 : 1;
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            piece = esc;
            k = 6;
        }
        if (n == 0) { /* the opening quote */
            if (out && cap > 1)
                out[0] = '"';
            n = 1;
        }
        if (out && n + k < cap)
            memcpy(out + n, piece, k);
        n += k;
        if (!*p)
            break;
    }
    if (out && cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

static void put_quoted(drnn_st_writer *w, const char *text)
{
    size_t n = drnn_json_quote(text, NULL, 0);
    char *q = malloc(n + 1);
    if (!q) {
        w->failed = 1;
        return;
    }
    drnn_json_quote(text, q, n + 1);
    put(w, q, n);
    free(q);
}

void drnn_st_add_meta(drnn_st_writer *w, const char *key, const char *value)
{
    put_str(w, w->in_meta ? "," : "{\"__metadata__\":{");
    w->in_meta = 1;
    put_quoted(w, key);
    put_str(w, ":");
    put_quoted(w, value);
}

/* Closes the metadata object, or opens the header's when nothing came before. */
static void next_member(drnn_st_writer *w)
{
    if (w->in_meta) {
        put_str(w, "},");
        w->in_meta = 0;
    } else {
        put_str(w, w->len == 0 ? "{" : ",");
    }
}

void drnn_st_add_f32(drnn_st_writer *w, const char *name, int ndim, const uint64_t *shape)
{
    next_member(w);
    uint64_t bytes = 4;
    char buf[160];
    put_quoted(w, name);
    put_str(w, ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < ndim; d++) {
        snprintf(buf, sizeof buf, "%s%llu", d ? "," : "", (unsigned long long)shape[d]);
        put_str(w, buf);
        bytes *= shape[d];
    }
    snprintf(buf, sizeof buf, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)w->data_len,
             (unsigned long long)(w->data_len + bytes));
    put_str(w, buf);
    w->data_len += bytes;
}

int drnn_st_finish(drnn_st_writer *w, unsigned char **out, size_t *len, drnn_error *err)
{
    *out = NULL;
    *len = 0;
    if (w->in_meta)
        put_str(w, "}");
    else if (w->len == 0)
        put_str(w, "{");
    w->in_meta = 0;
    put_str(w, "}");
    put(w, "        ", (8 - w->len % 8) % 8); /* the header's end at a multiple of 8 */
    if (w->failed || w->data_len > SIZE_MAX - 8 - w->len)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the safetensors header");
    size_t head = 8 + w->len;
    unsigned char *buf = malloc(head + (size_t)w->data_len);
    if (!buf)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %llu bytes of safetensors",
                         (unsigned long long)(head + w->data_len));
    uint64_t n = w->len;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, w->json, w->len);
    *out = buf;
    *len = head;
    return drnn_ok(err);
}
