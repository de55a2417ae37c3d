/* check_shape.h: what the tests of constraints share (check_constraint.c,
 * check_constrained.c): a small alphabet, constraints as text (random ones
 * of every kind), and a plain matcher that checks a name against them
 * directly: a backtracking glob, strstr, strncmp. */
#ifndef DINORNN_CHECK_SHAPE_H
#define DINORNN_CHECK_SHAPE_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"

/* The tests' symbols, ascending after END: '-' and '?' are metacharacters
 * of a pattern, so that escapes and classes' dashes matter. */
static const char ALPHA[] = "-?abc";
enum { A = 5, V = A + 1, LMAX = 6 };

static inline drnn_vocab test_vocab(uint32_t symbols[V])
{
    symbols[0] = DRNN_END;
    for (int i = 0; i < A; i++)
        symbols[i + 1] = (uint32_t)ALPHA[i];
    return (drnn_vocab){V, symbols};
}

/* ---- a constraint as text, and the plain matcher ---- */

typedef struct spec {
    char prefix[8], suffix[8], contains[3][8], exclude[8], pattern[64];
    const char *contains_p[3];
    drnn_constraint_spec cs; /* the text above, maybe in capitals */
    char low[6][64];         /* prefix, suffix, 3 contains, exclude: lowercased */
    char low_pattern[64];
} spec;

static inline void lower(char *out, const char *in)
{
    size_t i = 0;
    for (; in[i]; i++)
        out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] - 'A' + 'a') : in[i];
    out[i] = '\0';
}

/* One symbol of a class at *q (after a '\', the next); moves past it. */
static inline char class_symbol(const char **q)
{
    if (**q == '\\')
        ++*q;
    return *(*q)++;
}

/* 1 if the class at p ('[') holds ch; *end: past its ']'. */
static inline int class_has(const char *p, char ch, const char **end)
{
    const char *q = p + 1;
    int negate = *q == '!' || *q == '^', in = 0;
    q += negate;
    for (int first = 1; first || *q != ']'; first = 0) {
        char lo = class_symbol(&q), hi = lo;
        if (q[0] == '-' && q[1] != ']') {
            q++;
            hi = class_symbol(&q);
        }
        in |= lo <= ch && ch <= hi;
    }
    *end = q + 1;
    return in != negate;
}

/* The glob, by backtracking over the name. */
static inline int glob_matches(const char *p, const char *s)
{
    if (!*p)
        return !*s;
    if (*p == '*')
        return glob_matches(p + 1, s) || (*s && glob_matches(p, s + 1));
    if (!*s)
        return 0;
    if (*p == '?')
        return glob_matches(p + 1, s + 1);
    if (*p == '[') {
        const char *end;
        return class_has(p, *s, &end) && glob_matches(end, s + 1);
    }
    if (*p == '\\')
        p++;
    return *p == *s && glob_matches(p + 1, s + 1);
}

/* The constraint, checked directly on the name's text. */
static inline int plain_match(const spec *sp, const char *name)
{
    int n = (int)strlen(name);
    int lo = sp->cs.min_len ? sp->cs.min_len : 1,
        hi = sp->cs.max_len ? sp->cs.max_len : DRNN_MAX_NAME_LEN;
    if (n < lo || n > hi)
        return 0;
    const char *pre = sp->low[0], *suf = sp->low[1];
    if (strncmp(name, pre, strlen(pre)) != 0)
        return 0;
    if (strlen(suf) > (size_t)n || strcmp(name + n - strlen(suf), suf) != 0)
        return 0;
    for (int i = 0; i < sp->cs.n_contains; i++)
        if (!strstr(name, sp->low[2 + i]))
            return 0;
    if (strpbrk(name, sp->low[5]))
        return 0;
    return !sp->cs.pattern || glob_matches(sp->low_pattern, name);
}

/* ---- random constraints ---- */

static inline char random_symbol(drnn_rng *r, int capitals)
{
    char c = ALPHA[drnn_rng_below(r, A)];
    return capitals && c >= 'a' && drnn_rng_below(r, 4) == 0 ? (char)(c - 'a' + 'A') : c;
}

static inline void random_text(drnn_rng *r, char *out, int min, int max)
{
    int n = min + (int)drnn_rng_below(r, (uint64_t)(max - min + 1));
    for (int i = 0; i < n; i++)
        out[i] = random_symbol(r, 1);
    out[n] = '\0';
}

/* A class: some symbols and ranges (with 'z', unknown, now and then),
 * maybe negated; '-' first as itself, elsewhere escaped. */
static inline void random_class(drnn_rng *r, char *out, size_t *at)
{
    out[(*at)++] = '[';
    if (drnn_rng_below(r, 3) == 0)
        out[(*at)++] = drnn_rng_below(r, 2) ? '!' : '^';
    int items = 1 + (int)drnn_rng_below(r, 3);
    for (int i = 0; i < items; i++) {
        char c = drnn_rng_below(r, 8) == 0 ? 'z' : random_symbol(r, 0);
        if (c == '-' && i > 0)
            out[(*at)++] = '\\';
        out[(*at)++] = c;
        if (c != '-' && drnn_rng_below(r, 3) == 0) { /* a range up from c */
            char hi = c == 'z' ? 'z' : ALPHA[drnn_rng_below(r, A)];
            out[(*at)++] = '-';
            out[(*at)++] = hi < c ? c : hi;
        }
    }
    out[(*at)++] = ']';
}

static inline void random_pattern(drnn_rng *r, char *out)
{
    size_t at = 0;
    int items = 1 + (int)drnn_rng_below(r, 5);
    for (int i = 0; i < items; i++) {
        switch (drnn_rng_below(r, 5)) {
        case 0:
            out[at++] = '?';
            break;
        case 1:
            out[at++] = '*';
            break;
        case 2:
            random_class(r, out, &at);
            break;
        default: {
            char c = random_symbol(r, 1);
            if (c == '?' || drnn_rng_below(r, 5) == 0)
                out[at++] = '\\';
            out[at++] = c;
        }
        }
    }
    out[at] = '\0';
}

/* Kinds of constraint: bit 0 prefix, 1 suffix, 2 contains, 3 exclude,
 * 4 pattern, 5 lengths (up to LMAX). */
static inline void random_spec(drnn_rng *r, int kinds, spec *sp)
{
    memset(sp, 0, sizeof *sp);
    if (kinds & 1)
        random_text(r, sp->prefix, 1, 2);
    if (kinds & 2)
        random_text(r, sp->suffix, 1, 3);
    if (kinds & 4)
        sp->cs.n_contains = 1 + (int)drnn_rng_below(r, 3);
    for (int i = 0; i < sp->cs.n_contains; i++) {
        random_text(r, sp->contains[i], 1, 3);
        sp->contains_p[i] = sp->contains[i];
    }
    if (kinds & 8) {
        random_text(r, sp->exclude, 1, 2);
        if (drnn_rng_below(r, 3) == 0)
            strcat(sp->exclude, "z");
    }
    if (kinds & 16)
        random_pattern(r, sp->pattern);
    if (kinds & 32) {
        sp->cs.max_len = 1 + (int)drnn_rng_below(r, LMAX);
        sp->cs.min_len = (int)drnn_rng_below(r, (uint64_t)sp->cs.max_len + 1);
    }
    sp->cs.prefix = sp->prefix;
    sp->cs.suffix = sp->suffix;
    sp->cs.contains = sp->contains_p;
    sp->cs.exclude = sp->exclude;
    sp->cs.pattern = kinds & 16 ? sp->pattern : NULL;
    lower(sp->low[0], sp->prefix);
    lower(sp->low[1], sp->suffix);
    for (int i = 0; i < 3; i++)
        lower(sp->low[2 + i], sp->contains[i]);
    lower(sp->low[5], sp->exclude);
    lower(sp->low_pattern, sp->pattern);
}

/* The status compiling sp must give: a prefix or suffix longer than the
 * lengths allow, or a class of no known symbol, is refused. */
static inline int expected_status(const spec *sp)
{
    int hi = sp->cs.max_len ? sp->cs.max_len : DRNN_MAX_NAME_LEN;
    if ((int)strlen(sp->prefix) > hi || (int)strlen(sp->suffix) > hi)
        return DRNN_ERR_INVALID;
    for (const char *p = sp->low_pattern; sp->cs.pattern && *p; p++) {
        if (*p == '\\') {
            p++;
        } else if (*p == '[') {
            const char *end = p;
            int known = 0;
            for (int i = 0; i < A; i++)
                known |= class_has(p, ALPHA[i], &end);
            if (!known)
                return DRNN_ERR_UNKNOWN_SYMBOL;
            p = end - 1;
        }
    }
    return DRNN_OK;
}

static inline drnn_constraint *compile_or_skip(const spec *sp, const drnn_vocab *vocab)
{
    drnn_constraint *c;
    drnn_error err;
    int rc = drnn_constraint_compile(&c, &sp->cs, vocab, &err);
    ck_assert_msg(rc == expected_status(sp), "pattern '%s' prefix '%s' suffix '%s': status %d (%s)",
                  sp->pattern, sp->prefix, sp->suffix, rc, rc ? err.message : "");
    return rc ? NULL : c;
}

/* String code of length L, symbol by symbol (the first most significant),
 * as text and tokens. */
static inline void spell(int L, int code, char *text, drnn_token *t)
{
    for (int i = L - 1; i >= 0; i--, code /= A) {
        text[i] = ALPHA[code % A];
        t[i] = (drnn_token)(1 + code % A);
    }
    text[L] = '\0';
}

/* A name_filter (check_search.h): the plain matcher on tokens. */
static inline int keep_plain(const void *sp, const drnn_token *t, int len)
{
    char text[LMAX + 1];
    for (int i = 0; i < len; i++)
        text[i] = ALPHA[t[i] - 1];
    text[len] = '\0';
    return plain_match(sp, text);
}

#endif
