/* corpus.c: a data set: names as tokens, read straight from a names file
 * (drnn_corpus_parse, a visitor of the one scan in names.c) or encoded from
 * parsed names; its parts, its longest name, the set of its names and the
 * train/validation split. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/corpus.h"
#include "dinornn/names.h"
#include "dinornn/rng.h"
#include "internal.h"
#include "names_scan.h"
#include "text.h"
#include "vocab_coder.h"

/* The code point as UTF-8 into out (room for 5 bytes), NUL-terminated, for
 * messages; "?" for control characters, which would garble a terminal. */
static void show_symbol(uint32_t c, char *out)
{
    size_t k = drnn_is_control(c) ? 0 : drnn_utf8_put(c, out);
    if (k == 0)
        out[k++] = '?';
    out[k] = '\0';
}

/* The refusal of symbol c, outside the vocabulary, on line `line` of file label. */
static int unknown_symbol(drnn_error *err, const char *label, long line, uint32_t c)
{
    char shown[8];
    show_symbol(c, shown);
    return drnn_fail(err, DRNN_ERR_UNKNOWN_SYMBOL,
                     "%s:%ld: symbol '%s' (U+%04X) is not in the model's vocabulary", label, line,
                     shown, (unsigned)c);
}

/* out's arrays for `names` names of n_tok tokens in all, their lines when
 * with_lines, their labels when with_labels: 0, or -1 (out freed) when out
 * of memory. */
static int corpus_alloc(drnn_corpus *out, size_t names, size_t n_tok, int with_lines,
                        int with_labels)
{
    int overflow = 0;
    size_t tok_bytes = drnn_mul_size(n_tok ? n_tok : 1, sizeof *out->tokens, &overflow);
    size_t start_bytes = drnn_mul_size(names + 1, sizeof *out->start, &overflow);
    size_t line_bytes =
        with_lines ? drnn_mul_size(names ? names : 1, sizeof *out->line, &overflow) : 0;
    size_t label_bytes =
        with_labels ? drnn_mul_size(names ? names : 1, sizeof *out->labels, &overflow) : 0;
    if (!overflow) {
        out->tokens = malloc(tok_bytes);
        out->start = malloc(start_bytes);
        out->line = with_lines ? malloc(line_bytes) : NULL;
        out->labels = with_labels ? malloc(label_bytes) : NULL;
    }
    if (overflow || !out->tokens || !out->start || (with_lines && !out->line) ||
        (with_labels && !out->labels)) {
        drnn_corpus_free(out);
        return -1;
    }
    return 0;
}

void drnn_corpus_free(drnn_corpus *corpus)
{
    if (corpus) {
        free(corpus->tokens);
        free(corpus->start);
        free(corpus->line);
        free(corpus->labels);
        drnn_label_table_free(&corpus->label_table);
        *corpus = (drnn_corpus){0};
    }
}

int drnn_corpus_encode(drnn_corpus *out, const drnn_names *names, const drnn_vocab *vocab,
                       int skip_unknown, const char *label, drnn_error *err)
{
    if (!out || !names || !vocab)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: nothing to encode", DRNN_LABEL(label));
    memset(out, 0, sizeof *out);
    if (vocab->size < 1 || vocab->size > DRNN_MAX_VOCAB || !vocab->symbol)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: vocabulary size %d is out of range",
                         DRNN_LABEL(label), vocab->size);

    /* Sized for every name; names left out only leave the tail unused. */
    size_t n_syms = names->count ? names->start[names->count] : 0;
    if (corpus_alloc(out, names->count, n_syms, 1, names->label != NULL) != 0)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names",
                         DRNN_LABEL(label), names->count);
    size_t kept = 0, n_tok = 0;
    for (size_t i = 0; i < names->count; i++) {
        const uint32_t *cps = names->symbols + names->start[i];
        size_t n = names->start[i + 1] - names->start[i], j = 0;
        int t;
        for (; j < n && (t = drnn_vocab_find(vocab, cps[j])) >= 0; j++)
            out->tokens[n_tok + j] = (drnn_token)t;
        if (j < n && !skip_unknown) {
            long line = names->line[i];
            drnn_corpus_free(out);
            return unknown_symbol(err, DRNN_LABEL(label), line, cps[j]);
        }
        if (j < n) {
            if (out->skipped++ == 0)
                out->first_skipped_line = names->line[i];
            continue;
        }
        out->start[kept] = n_tok;
        if (out->labels)
            out->labels[kept] = names->label[i];
        out->line[kept++] = names->line[i];
        n_tok += n;
    }
    out->start[kept] = n_tok;
    out->count = kept;
    int rc = drnn_corpus_count_labels(out, &names->labels, err);
    if (rc != DRNN_OK)
        drnn_corpus_free(out);
    return rc;
}

/* ---- a names file straight into tokens ---- */

/* A drnn_corpus_parse: what it was asked, then what its two scans of the
 * buffer (names_scan.h) carry. */
typedef struct corpus_parse {
    drnn_corpus *out;
    drnn_vocab *build;        /* the vocabulary being built (vocab == build), or NULL */
    const drnn_vocab *vocab;  /* the vocabulary to encode with */
    uint64_t *fingerprint;    /* may be NULL */
    const drnn_names_options *opts;
    int skip_unknown;
    drnn_symbol_set *seen;    /* building: the symbols so far */
    drnn_coder coder;         /* the vocabulary's tokens, once it is known */
    uint64_t hash;            /* the fingerprint of the names so far */
    drnn_label_set labels;    /* the file's labels in the order they appear */
    size_t kept, n_tok;       /* names and tokens the corpus will hold */
    drnn_error unknown;       /* the first unknown symbol, reported once the hash is complete */
    size_t i, at;             /* the second scan's next name and token */
} corpus_parse;

/* First scan: validate, count, collect the vocabulary or check every symbol
 * against it, and hash every name (the skipped ones too). */
static int count_name(void *ctx, const drnn_scanned_name *name, drnn_error *err)
{
    corpus_parse *p = ctx;
    p->hash = drnn_fingerprint_add(p->hash, name->cps, (size_t)name->n);
    p->hash = drnn_fingerprint_add_label(p->hash, name->label_text);
    int i = p->seen ? name->n : drnn_coder_first_unknown(&p->coder, name->cps, name->n);
    if (i == name->n) {
        p->kept++;
        p->n_tok += (size_t)name->n;
        return p->seen ? drnn_symbol_set_add_name(p->seen, name->cps, (size_t)name->n,
                                                  name->file, name->line, err)
                       : DRNN_OK;
    }
    if (p->skip_unknown) {
        if (p->out->skipped++ == 0)
            p->out->first_skipped_line = name->line;
    } else if (p->unknown.code == DRNN_OK) {
        /* With no fingerprint to complete, the scan ends here. */
        if (!p->fingerprint)
            return unknown_symbol(err, name->file, name->line, name->cps[i]);
        unknown_symbol(&p->unknown, name->file, name->line, name->cps[i]);
    }
    return DRNN_OK;
}

/* Second scan: each kept name's tokens. */
static int write_name(void *ctx, const drnn_scanned_name *name, drnn_error *err)
{
    corpus_parse *p = ctx;
    (void)err;
    /* A name with an unknown symbol was skipped and not counted by the
     * first pass: nothing of it is written (there is no room for it). */
    if (drnn_coder_first_unknown(&p->coder, name->cps, name->n) < name->n)
        return DRNN_OK;
    if (p->out->labels)
        p->out->labels[p->i] = (uint16_t)name->label;
    p->out->start[p->i++] = p->at;
    for (int k = 0; k < name->n; k++)
        p->out->tokens[p->at++] = (drnn_token)drnn_coder_token(&p->coder, name->cps[k]);
    return DRNN_OK;
}

/* The first scan and its outcome: the first unknown symbol refused once
 * the hash is complete, or the vocabulary built. On failure *out and the
 * vocabulary being built are left empty. */
static int scan_names(corpus_parse *p, const char *buf, size_t len, const char *label,
                      drnn_error *err)
{
    int rc = drnn_names_scan(buf, len, label, p->opts, &p->labels, count_name, p, err);
    if (rc == DRNN_OK && p->unknown.code != DRNN_OK) {
        if (err)
            *err = p->unknown;
        rc = p->unknown.code;
        if (p->fingerprint)
            *p->fingerprint = p->hash;
    }
    if (rc == DRNN_OK && p->build && (rc = drnn_symbol_set_to_vocab(p->seen, p->build, err)) == 0)
        drnn_coder_init(&p->coder, p->build);
    if (rc != DRNN_OK) {
        if (p->build)
            memset(p->build, 0, sizeof *p->build);
        memset(p->out, 0, sizeof *p->out);
    }
    return rc;
}

/* The kept names' labels as indices into the file's sorted labels, with
 * their counts. */
static int sort_labels(drnn_corpus *out, const drnn_label_set *set, drnn_error *err)
{
    uint16_t remap[DRNN_MAX_LABELS];
    drnn_label_table table;
    int rc = drnn_label_set_table(set, &table, remap, err);
    for (size_t i = 0; rc == DRNN_OK && out->labels && i < out->count; i++)
        out->labels[i] = remap[out->labels[i]];
    if (rc == DRNN_OK)
        rc = drnn_corpus_count_labels(out, &table, err);
    drnn_label_table_free(&table);
    return rc;
}

/* The second scan: the tokens, in arrays allocated once at their size. */
static int write_tokens(corpus_parse *p, const char *buf, size_t len, const char *label,
                        drnn_error *err)
{
    drnn_corpus *out = p->out;
    if (corpus_alloc(out, p->kept, p->n_tok, 0, p->labels.count > 0) != 0)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu names (%.0f MB)",
                         DRNN_LABEL(label), p->kept,
                         ((double)p->n_tok * sizeof *out->tokens +
                          (double)p->kept * sizeof *out->start) / 1e6);
    int rc = drnn_names_scan(buf, len, label, p->opts, &p->labels, write_name, p, err);
    if (rc == DRNN_OK) { /* else out of memory: the first pass validated everything else */
        out->start[p->i] = p->at;
        out->count = p->kept;
        rc = sort_labels(out, &p->labels, err);
    }
    if (rc != DRNN_OK)
        drnn_corpus_free(out);
    return rc;
}

static int parse_corpus(corpus_parse *p, const char *buf, size_t len, const char *label,
                        drnn_error *err)
{
    if (!p->out || !p->vocab || (!buf && len > 0))
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: nothing to parse", DRNN_LABEL(label));
    memset(p->out, 0, sizeof *p->out);
    if (p->vocab->size < (p->build ? 0 : 1) || p->vocab->size > DRNN_MAX_VOCAB)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: vocabulary size %d is out of range",
                         DRNN_LABEL(label), p->vocab->size);
    if (p->build && !(p->seen = drnn_symbol_set_new()))
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", DRNN_LABEL(label));
    if (!p->build)
        drnn_coder_init(&p->coder, p->vocab);
    p->hash = DRNN_FINGERPRINT_START;
    int rc = scan_names(p, buf, len, label, err);
    if (rc == DRNN_OK && (rc = write_tokens(p, buf, len, label, err)) != DRNN_OK && p->build)
        drnn_vocab_free(p->build);
    drnn_symbol_set_free(p->seen);
    drnn_label_set_free(&p->labels);
    if (rc != DRNN_OK)
        return rc;
    if (p->fingerprint)
        *p->fingerprint = p->hash;
    return drnn_ok(err);
}

static int load_corpus(corpus_parse *p, const char *path, drnn_error *err)
{
    if (!p->out || !p->vocab || !path)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names file given");
    memset(p->out, 0, sizeof *p->out);
    char *buf;
    size_t len;
    int rc = drnn_names_read_file(path, &buf, &len, err);
    if (rc == DRNN_OK)
        rc = parse_corpus(p, buf, len, path, err);
    free(buf);
    return rc;
}

/* A vocabulary of size 0 is one to build. */
#define BUILD_IF_EMPTY(vocab) ((vocab) && (vocab)->size == 0 ? (vocab) : NULL)

int drnn_corpus_parse(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                      const char *buf, size_t len, const char *label,
                      const drnn_names_options *opts, int skip_unknown, drnn_error *err)
{
    corpus_parse p = {.out = out, .build = BUILD_IF_EMPTY(vocab), .vocab = vocab,
                      .fingerprint = fingerprint, .opts = opts, .skip_unknown = skip_unknown};
    return parse_corpus(&p, buf, len, label, err);
}

int drnn_corpus_parse_with(drnn_corpus *out, const drnn_vocab *vocab, uint64_t *fingerprint,
                           const char *buf, size_t len, const char *label,
                           const drnn_names_options *opts, int skip_unknown, drnn_error *err)
{
    corpus_parse p = {.out = out, .vocab = vocab, .fingerprint = fingerprint, .opts = opts,
                      .skip_unknown = skip_unknown};
    return parse_corpus(&p, buf, len, label, err);
}

int drnn_corpus_load(drnn_corpus *out, drnn_vocab *vocab, uint64_t *fingerprint,
                     const char *path, const drnn_names_options *opts, int skip_unknown,
                     drnn_error *err)
{
    corpus_parse p = {.out = out, .build = BUILD_IF_EMPTY(vocab), .vocab = vocab,
                      .fingerprint = fingerprint, .opts = opts, .skip_unknown = skip_unknown};
    return load_corpus(&p, path, err);
}

int drnn_corpus_load_with(drnn_corpus *out, const drnn_vocab *vocab, uint64_t *fingerprint,
                          const char *path, const drnn_names_options *opts, int skip_unknown,
                          drnn_error *err)
{
    corpus_parse p = {.out = out, .vocab = vocab, .fingerprint = fingerprint, .opts = opts,
                      .skip_unknown = skip_unknown};
    return load_corpus(&p, path, err);
}

/* ---- parts of a corpus ---- */

int drnn_corpus_select(drnn_corpus *out, const drnn_corpus *src, const size_t *idx, size_t n,
                       drnn_error *err)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += src->start[idx[i] + 1] - src->start[idx[i]];
    if (corpus_alloc(out, n, total, src->line != NULL, src->labels != NULL) != 0)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %zu names", n);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t from = src->start[idx[i]], len = src->start[idx[i] + 1] - from;
        out->start[i] = at;
        memcpy(out->tokens + at, src->tokens + from, len * sizeof *out->tokens);
        if (src->line)
            out->line[i] = src->line[idx[i]];
        if (src->labels)
            out->labels[i] = src->labels[idx[i]];
        at += len;
    }
    out->start[n] = at;
    out->count = n;
    int rc = drnn_corpus_count_labels(out, &src->label_table, err);
    if (rc != DRNN_OK)
        drnn_corpus_free(out);
    return rc == DRNN_OK ? drnn_ok(err) : rc;
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
        if (all->labels)
            all->labels[kept] = all->labels[i];
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
    drnn_corpus_count_labels(all, &all->label_table, err); /* in place: cannot fail */
    return drnn_ok(err);
}

/* 1 if name i of c is tokens t[0 .. n-1]. */
static int same_name(const drnn_corpus *c, size_t i, const drnn_token *t, int n)
{
    return drnn_corpus_len(c, i) == n &&
           memcmp(c->tokens + c->start[i], t, (size_t)n * sizeof *t) == 0;
}

int drnn_corpus_contains(const drnn_corpus *c, const drnn_token *tokens, int n)
{
    for (size_t i = 0; i < c->count; i++)
        if (same_name(c, i, tokens, n))
            return 1;
    return 0;
}

int drnn_longest_name(const drnn_corpus *c)
{
    int n = 0;
    for (size_t i = 0; c && i < c->count; i++)
        if (drnn_corpus_len(c, i) > n)
            n = drnn_corpus_len(c, i);
    return n;
}

/* ---- the set of a corpus's names: open addressing over its names ---- */

struct drnn_name_set {
    const drnn_corpus *corpus;
    size_t mask;      /* slots - 1, slots a power of two */
    size_t *slot;     /* name index + 1, 0 when empty */
};

static uint64_t hash_tokens(const drnn_token *t, int n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a over the tokens' values */
    for (int i = 0; i < n; i++) {
        h ^= t[i];
        h *= 0x100000001b3u;
    }
    return h ^ (h >> 29);
}

int drnn_name_set_new(drnn_name_set **out, const drnn_corpus *corpus, drnn_error *err)
{
    *out = NULL;
    size_t slots = 16;
    while (slots / 2 < corpus->count) {
        if (slots > ((size_t)-1 >> 2) / sizeof(size_t))
            return drnn_fail(err, DRNN_ERR_NOMEM, "too many names for a name set");
        slots *= 2;
    }
    drnn_name_set *set = calloc(1, sizeof *set);
    size_t *slot = calloc(slots, sizeof *slot);
    if (!set || !slot) {
        free(set), free(slot);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a set of %zu names",
                         corpus->count);
    }
    set->corpus = corpus;
    set->mask = slots - 1;
    set->slot = slot;
    for (size_t i = 0; i < corpus->count; i++) {
        const drnn_token *t = corpus->tokens + corpus->start[i];
        int n = drnn_corpus_len(corpus, i);
        size_t at = hash_tokens(t, n) & set->mask;
        while (slot[at] && !same_name(corpus, slot[at] - 1, t, n))
            at = (at + 1) & set->mask;
        if (!slot[at])
            slot[at] = i + 1;
    }
    *out = set;
    return drnn_ok(err);
}

void drnn_name_set_free(drnn_name_set *set)
{
    if (!set)
        return;
    free(set->slot);
    free(set);
}

int drnn_name_set_contains(const drnn_name_set *set, const drnn_token *tokens, int n)
{
    size_t at = hash_tokens(tokens, n) & set->mask;
    for (; set->slot[at]; at = (at + 1) & set->mask)
        if (same_name(set->corpus, set->slot[at] - 1, tokens, n))
            return 1;
    return 0;
}

/* ---- the train/validation split ---- */

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
