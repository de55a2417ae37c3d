/* vocab.c: the vocabulary: a set of code points built from names, a code
 * point's token and back again, and tokens as text. */
#include <stdlib.h>
#include <string.h>

#include "dinornn/names.h"
#include "dinornn/vocab.h"
#include "internal.h"
#include "names_scan.h"
#include "text.h"
#include "vocab_coder.h"

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

struct drnn_symbol_set {
    uint64_t bits[CODE_POINTS / 64];
    int count;
    uint32_t hi;           /* above every word of bits in use */
};

drnn_symbol_set *drnn_symbol_set_new(void)
{
    return calloc(1, sizeof(drnn_symbol_set));
}

void drnn_symbol_set_free(drnn_symbol_set *set)
{
    free(set);
}


/* Adds c (below CODE_POINTS). Returns 1 if it was new, 0 if already there,
 * -1 if new but the vocabulary would pass DRNN_MAX_VOCAB (c is not added). */
static int set_add(drnn_symbol_set *set, uint32_t c)
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

int drnn_symbol_set_to_vocab(const drnn_symbol_set *set, drnn_vocab *v, drnn_error *err)
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

int drnn_symbol_set_add_name(drnn_symbol_set *set, const uint32_t *cps, size_t n,
                             const char *label, long line, drnn_error *err)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t c = cps[j];
        if (c == DRNN_END || c >= CODE_POINTS) {
            const char *why = c ? "a code point above U+10FFFF"
                                : "code point 0 is reserved for the end marker";
            return label ? drnn_fail(err, DRNN_ERR_INVALID, "%s:%ld: %s", label, line, why)
                         : drnn_fail(err, DRNN_ERR_INVALID, "line %ld: %s", line, why);
        }
        if (set_add(set, c) < 0)
            return too_many_symbols(err, label, line, c);
    }
    return DRNN_OK;
}

int drnn_vocab_build(drnn_vocab *vocab, const drnn_names *names, drnn_error *err)
{
    if (!vocab || !names)
        return drnn_fail(err, DRNN_ERR_INVALID, "no names to build a vocabulary from");
    memset(vocab, 0, sizeof *vocab);
    drnn_symbol_set *set = drnn_symbol_set_new();
    if (!set)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a vocabulary");
    int rc = DRNN_OK;
    for (size_t i = 0; i < names->count && !rc; i++)
        rc = drnn_symbol_set_add_name(set, names->symbols + names->start[i],
                                      names->start[i + 1] - names->start[i], NULL,
                                      names->line[i], err);
    if (!rc)
        rc = drnn_symbol_set_to_vocab(set, vocab, err);
    drnn_symbol_set_free(set);
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

void drnn_coder_init(drnn_coder *coder, const drnn_vocab *vocab)
{
    coder->vocab = vocab;
    for (uint32_t c = 0; c < 128; c++)
        coder->ascii[c] = drnn_vocab_find(vocab, c);
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
        size_t k = drnn_utf8_put(drnn_is_control(text[i]) ? 0xFFFD : text[i], bytes);
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
