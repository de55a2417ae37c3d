/* text.c: corpus subsets and turning tokens back into text. */
#include <stdlib.h>
#include <string.h>

#include "dinornn/names.h"
#include "internal.h"

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

/* Simple upper-case mapping, the inverse of the loader's lowercasing. */
static uint32_t to_upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 0x20;
    if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
        return c - 0x20;
    if (c == 0xff)
        return 0x178;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return c & 1 ? c - 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return c & 1 ? c : c - 1;
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
        return c - 0x20;
    if (c >= 0x430 && c <= 0x44f)
        return c - 0x20;
    if (c >= 0x450 && c <= 0x45f)
        return c - 0x50;
    return c;
}

static size_t utf8_encode(uint32_t c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

size_t drnn_vocab_decode(const drnn_vocab *vocab, const drnn_token *tokens, int n,
                         int capitalize, char *buf, size_t size)
{
    size_t need = 0, used = 0;
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (tokens[i] == DRNN_END || tokens[i] >= vocab->size)
            continue;
        uint32_t c = vocab->symbol[tokens[i]];
        if (first && capitalize)
            c = to_upper(c);
        first = 0;
        /* A vocabulary from an older or crafted checkpoint may hold control
         * characters, which printed would drive the terminal (ESC): each
         * shows as U+FFFD instead. */
        if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
            c = 0xFFFD;
        char bytes[4];
        size_t k = utf8_encode(c, bytes);
        need += k;
        /* Only whole symbols go in, so a truncated name stays valid UTF-8. */
        if (size > 0 && used + k < size) {
            memcpy(buf + used, bytes, k);
            used += k;
        }
    }
    if (size > 0)
        buf[used] = '\0';
    return need;
}
