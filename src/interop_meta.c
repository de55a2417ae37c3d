/* interop_meta.c: the metadata of an exported model (interop_meta.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "interop_meta.h"
#include "text.h"
#include "dinornn/interop.h"

void drnn_meta_free(drnn_meta *meta)
{
    for (size_t i = 0; i < meta->count; i++) {
        free(meta->entry[i].key);
        free(meta->entry[i].value);
    }
    free(meta->entry);
    memset(meta, 0, sizeof *meta);
}

/* Appends key = value, taking value (a malloc'd string, or NULL: out of memory). */
static int add_owned(drnn_meta *meta, const char *key, char *value, drnn_error *err)
{
    if (value && meta->count == meta->cap) {
        size_t cap = meta->cap ? 2 * meta->cap : 32;
        drnn_meta_entry *e = realloc(meta->entry, cap * sizeof *e);
        if (!e) {
            free(value);
            value = NULL;
        } else {
            meta->entry = e;
            meta->cap = cap;
        }
    }
    char *k = value ? strdup(key) : NULL;
    if (!k) {
        free(value);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the metadata key %s", key);
    }
    meta->entry[meta->count].key = k;
    meta->entry[meta->count++].value = value;
    return DRNN_OK;
}

static int add(drnn_meta *meta, const char *key, const char *value, drnn_error *err)
{
    return add_owned(meta, key, strdup(value), err);
}

static int add_int(drnn_meta *meta, const char *key, int64_t v, drnn_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return add(meta, key, buf, err);
}

/* The symbols of indices 1 .. V-1 as one UTF-8 string. */
static int add_symbols(drnn_meta *meta, const drnn_vocab *vocab, drnn_error *err)
{
    size_t n = vocab->size > 1 ? (size_t)vocab->size - 1 : 0;
    char *s = malloc(4 * n + 1), *p = s;
    if (!s)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %zu symbols", n);
    for (size_t i = 1; i <= n; i++) {
        uint32_t c = vocab->symbol[i];
        if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            free(s);
            return drnn_fail(err, DRNN_ERR_INVALID,
                             "symbol %zu (U+%04" PRIX32 ") is not a character that can be exported",
                             i, c);
        }
        p += drnn_utf8_put(c, p);
    }
    *p = '\0';
    return add_owned(meta, "symbols", s, err);
}

/* 1 when s is valid UTF-8. */
static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t c;
        const char *why;
        size_t k = drnn_utf8_next(p, n, &c, &why);
        if (!k)
            return 0;
        p += k;
        n -= k;
    }
    return 1;
}

/* The labels' texts as a JSON array of strings. */
static int add_label_names(drnn_meta *meta, const drnn_label_table *t, drnn_error *err)
{
    size_t size = 3;
    for (int i = 0; i < t->count; i++) {
        size_t n = strlen(t->text[i]);
        if (!utf8_valid(t->text[i]))
            return drnn_fail(err, DRNN_ERR_INVALID, "label %d is not UTF-8", i);
        if (n > (SIZE_MAX - size) / 6 - 3)
            return drnn_fail(err, DRNN_ERR_INVALID, "label %d is too long", i);
        size += 6 * n + 3; /* \u00XX at most a byte, quotes, comma */
    }
    char *s = malloc(size), *p = s;
    if (!s)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the labels' names");
    *p++ = '[';
    for (int i = 0; i < t->count; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const unsigned char *c = (const unsigned char *)t->text[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                p += sprintf(p, "\\%c", *c);
            else if (*c < 0x20)
                p += sprintf(p, "\\u%04x", *c);
            else
                *p++ = (char)*c;
        }
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    return add_owned(meta, "label_names", s, err);
}

static int add_label_counts(drnn_meta *meta, const drnn_label_table *t, drnn_error *err)
{
    char *s = malloc((size_t)t->count * 22 + 3), *p = s;
    if (!s)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the labels' counts");
    *p++ = '[';
    for (int i = 0; i < t->count; i++)
        p += sprintf(p, "%s%" PRId64, i ? "," : "", t->names ? t->names[i] : 0);
    *p++ = ']';
    *p = '\0';
    return add_owned(meta, "label_counts", s, err);
}

/* hp.OPTION for each of dinornn-train's settings, as the option takes it;
 * a real in the fewest digits that read back as the same double, so that
 * an import restores it exactly. */
static int add_settings(drnn_meta *meta, const drnn_hparams *hp, drnn_error *err)
{
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    for (size_t i = 0; i < n; i++) {
        char key[64], value[64];
        if (!table[i].option)
            continue;
        snprintf(key, sizeof key, "hp.%s", table[i].option);
        if (table[i].kind == DRNN_HP_REAL) {
            double x = drnn_hparam_get(hp, &table[i]);
            for (int digits = 15; digits <= 17; digits++) {
                snprintf(value, sizeof value, "%.*g", digits, x);
                if (strtod(value, NULL) == x)
                    break;
            }
        } else {
            drnn_hparam_format(hp, &table[i], value, sizeof value);
        }
        int rc = add(meta, key, value, err);
        if (rc)
            return rc;
    }
    return DRNN_OK;
}

static int add_fingerprint(drnn_meta *meta, const char *key, uint64_t v, drnn_error *err)
{
    char buf[17];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return add(meta, key, buf, err);
}

int drnn_meta_build(drnn_meta *meta, const drnn_train_state *st, const drnn_model *m,
                    drnn_error *err)
{
    const drnn_config *cfg = &m->cfg;
    const char *cell = drnn_cell_name(cfg->cell);
    int labeled = cfg->labels > 0;
    memset(meta, 0, sizeof *meta);
    if (!cell)
        return drnn_fail(err, DRNN_ERR_INVALID, "unknown cell kind %d", (int)cfg->cell);
    if (st->vocab.size != cfg->vocab || !st->vocab.symbol)
        return drnn_fail(err, DRNN_ERR_INVALID, "the model has %d symbols, its vocabulary %d",
                         cfg->vocab, st->vocab.size);
    if (labeled && st->labels.count != cfg->labels)
        return drnn_fail(err, DRNN_ERR_INVALID, "the model has %d labels, its table %d",
                         cfg->labels, st->labels.count);
    int rc = add(meta, "format", "dinornn", err);
    rc = rc ? rc : add_int(meta, "format_version", DRNN_INTEROP_VERSION, err);
    rc = rc ? rc : add(meta, "cell", cell, err);
    rc = rc ? rc : add_int(meta, "vocab", cfg->vocab, err);
    rc = rc ? rc : add_int(meta, "hidden", cfg->hidden, err);
    rc = rc ? rc : add_int(meta, "layers", cfg->layers, err);
    rc = rc ? rc : add_int(meta, "members", m->count, err);
    rc = rc ? rc : add_int(meta, "labels", cfg->labels, err);
    rc = rc ? rc : add_symbols(meta, &st->vocab, err);
    rc = rc ? rc : add_int(meta, "end_index", DRNN_END, err);
    rc = rc ? rc : add_int(meta, "keep_case", st->hp.keep_case != 0, err);
    if (labeled) {
        rc = rc ? rc : add_label_names(meta, &st->labels, err);
        rc = rc ? rc : add_label_counts(meta, &st->labels, err);
    }
    rc = rc ? rc : add_settings(meta, &st->hp, err);
    if (st->data_path && utf8_valid(st->data_path)) /* a path need not be text: left out */
        rc = rc ? rc : add(meta, "data_path", st->data_path, err);
    rc = rc ? rc : add_fingerprint(meta, "data_fingerprint", st->data_fingerprint, err);
    rc = rc ? rc : add_fingerprint(meta, "val_fingerprint", st->val_fingerprint, err);
    return rc ? rc : drnn_ok(err);
}
