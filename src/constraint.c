/* constraint.c: constraints on a name's shape, from the user's text to
 * tokens (normalised as names are), checked, explained when no name can
 * meet them, and compiled into one automaton (automaton.c).
 *
 * Errors are the user's mistakes (a malformed pattern, a symbol the model
 * never saw where the name needs it); constraints that are well formed but
 * contradict each other are no error: the result says why no name meets
 * them, and the search and the sampler stop at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "dinornn/constraint.h"
#include "internal.h"
#include "names_scan.h"
#include "text.h"

struct drnn_constraint {
    drnn_automaton a;
    int vocab_size;
    int min_len, max_len;
    drnn_token *prefix;
    int prefix_len;
    int satisfiable;
    char reason[DRNN_ERROR_MESSAGE_SIZE];
};

enum { TEXT_MAX = DRNN_MAX_CONSTRAINT_TEXT };

/* The constraints as tokens while they are compiled. */
typedef struct parsed {
    const drnn_constraint_spec *spec;
    const drnn_vocab *vocab;
    int min_len, max_len;
    drnn_token prefix[TEXT_MAX];
    int prefix_len;
    drnn_token *keywords;      /* the contains strings, then the suffix */
    int keyword_start[DRNN_MAX_CONTAINS + 2];
    int n_contains, has_suffix;
    const char *keyword_text[DRNN_MAX_CONTAINS + 1];
    uint8_t *excluded;         /* [vocab->size] */
    drnn_glob_item *glob;      /* NULL: no pattern */
    int glob_len;
    drnn_glob_class *classes;
    drnn_glob_range *ranges;
    int n_classes, n_ranges;
    uint32_t cps[TEXT_MAX];    /* the string being read, normalised */
    int n;
} parsed;

/* Up to 60 bytes of s, cut before a UTF-8 character, with "..." if cut:
 * for messages. */
static const char *shown(const char *s, char out[72])
{
    size_t n = strlen(s);
    if (n <= 60)
        return s;
    n = 60;
    while (n > 0 && (s[n] & 0xC0) == 0x80)
        n--;
    snprintf(out, 72, "%.*s...", (int)n, s);
    return out;
}

/* Symbol c for messages: itself, '?' for a control character. */
static const char *symbol_text(uint32_t c, char out[8])
{
    size_t k = drnn_is_control(c) ? 0 : drnn_utf8_put(c, out);
    if (k == 0)
        out[k++] = '?';
    out[k] = '\0';
    return out;
}

static int unknown_symbol(drnn_error *err, const char *what, const char *text, uint32_t c)
{
    char cut[72], sym[8];
    return drnn_fail(err, DRNN_ERR_UNKNOWN_SYMBOL,
                     "%s '%s': symbol '%s' (U+%04X) is not in the model's vocabulary", what,
                     shown(text, cut), symbol_text(c, sym), (unsigned)c);
}

/* text as code points into p->cps, normalised as names are (names.h). */
static int read_text(parsed *p, const char *what, const char *text, drnn_error *err)
{
    uint32_t raw[TEXT_MAX];
    size_t len = strlen(text), at = 0;
    int n = 0;
    char cut[72];
    while (at < len && n < TEXT_MAX) {
        const char *why;
        size_t k = drnn_utf8_next((const unsigned char *)text + at, len - at, &raw[n], &why);
        if (k == 0)
            return drnn_fail(err, DRNN_ERR_UTF8, "%s: invalid UTF-8 (%s, byte 0x%02X at byte %zu)",
                             what, why, (unsigned char)text[at], at + 1);
        at += k;
        n++;
    }
    size_t got = at < len ? (size_t)TEXT_MAX + 1
                          : drnn_text_normalize(raw, (size_t)n, !p->spec->keep_case, p->cps,
                                                TEXT_MAX);
    if (got == (size_t)-1)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    if (got > TEXT_MAX)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s '%s' is longer than %d characters", what,
                         shown(text, cut), TEXT_MAX);
    p->n = (int)got;
    return DRNN_OK;
}

/* p->cps as tokens into out: each symbol must be known. */
static int to_tokens(const parsed *p, const char *what, const char *text, drnn_token *out,
                     drnn_error *err)
{
    for (int i = 0; i < p->n; i++) {
        int t = drnn_vocab_find(p->vocab, p->cps[i]);
        if (t <= 0)
            return unknown_symbol(err, what, text, p->cps[i]);
        out[i] = (drnn_token)t;
    }
    return DRNN_OK;
}

static int too_long(drnn_error *err, const char *what, const char *text, int n, int max_len)
{
    char cut[72];
    return drnn_fail(err, DRNN_ERR_INVALID,
                     "%s '%s' has %d symbols, more than the longest name allowed (%d)", what,
                     shown(text, cut), n, max_len);
}

static int read_prefix(parsed *p, drnn_error *err)
{
    const char *text = p->spec->prefix;
    if (!text || !*text)
        return DRNN_OK;
    int rc = read_text(p, "prefix", text, err);
    if (!rc && p->n > p->max_len)
        rc = too_long(err, "prefix", text, p->n, p->max_len);
    if (!rc)
        rc = to_tokens(p, "prefix", text, p->prefix, err);
    p->prefix_len = rc ? 0 : p->n;
    return rc;
}

/* The contains strings, then the suffix, one after another as tokens. A
 * contains string longer than any name leaves the constraints
 * unsatisfiable; a suffix longer than that is the user's mistake. */
static int read_keywords(parsed *p, drnn_error *err)
{
    const drnn_constraint_spec *s = p->spec;
    int count = 0;
    for (int i = 0; i < s->n_contains; i++)
        if (s->contains[i] && *s->contains[i])
            p->keyword_text[count++] = s->contains[i];
    p->n_contains = count;
    p->has_suffix = s->suffix && *s->suffix;
    if (p->has_suffix)
        p->keyword_text[count++] = s->suffix;
    p->keywords = malloc((size_t)(count ? count : 1) * TEXT_MAX * sizeof *p->keywords);
    if (!p->keywords)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    for (int w = 0; w < count; w++) {
        const char *what = w < p->n_contains ? "contains" : "suffix", *text = p->keyword_text[w];
        int rc = read_text(p, what, text, err);
        if (!rc && w == p->n_contains && p->n > p->max_len)
            rc = too_long(err, what, text, p->n, p->max_len);
        if (!rc)
            rc = to_tokens(p, what, text, p->keywords + p->keyword_start[w], err);
        if (rc)
            return rc;
        p->keyword_start[w + 1] = p->keyword_start[w] + p->n;
    }
    return DRNN_OK;
}

static int read_exclude(parsed *p, drnn_error *err)
{
    const char *text = p->spec->exclude;
    p->excluded = calloc((size_t)p->vocab->size, 1);
    if (!p->excluded)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    if (!text || !*text)
        return DRNN_OK;
    int rc = read_text(p, "exclude", text, err);
    for (int i = 0; !rc && i < p->n; i++) {
        int t = drnn_vocab_find(p->vocab, p->cps[i]);
        if (t > 0) /* an unknown symbol never occurs anyway */
            p->excluded[t] = 1;
    }
    return rc;
}

/* ---- the pattern ---- */

static int pattern_error(drnn_error *err, drnn_status code, const parsed *p, const char *fmt,
                         int at)
{
    char cut[72], what[160];
    snprintf(what, sizeof what, fmt, at + 1);
    return drnn_fail(err, code, "pattern '%s': %s", shown(p->spec->pattern, cut), what);
}

/* The symbol at cps[*at] (after a '\', itself), moving *at past it; -1
 * when a '\' ends the pattern. */
static int64_t glob_symbol(const parsed *p, int *at)
{
    if (p->cps[*at] == '\\') {
        if (*at + 1 == p->n)
            return -1;
        ++*at;
    }
    return p->cps[(*at)++];
}

/* The class that starts at cps[at] ('['): its ranges into p; returns the
 * index past its ']', or -1 after failing. */
static int parse_class(parsed *p, int at, drnn_error *err)
{
    drnn_glob_class *cl = &p->classes[p->n_classes];
    int i = at + 1;
    cl->negate = i < p->n && (p->cps[i] == '!' || p->cps[i] == '^');
    i += cl->negate;
    cl->first = p->n_ranges;
    for (int first = 1; i < p->n && (first || p->cps[i] != ']'); first = 0) {
        int64_t lo = glob_symbol(p, &i), hi = lo;
        if (lo >= 0 && i + 1 < p->n && p->cps[i] == '-' && p->cps[i + 1] != ']') {
            int dash = i++;
            hi = glob_symbol(p, &i);
            if (hi >= 0 && hi < lo)
                return pattern_error(err, DRNN_ERR_INVALID, p,
                                     "the range at character %d is reversed", dash), -1;
        }
        if (lo < 0 || hi < 0) {
            i = p->n; /* a '\' at the end: the class is not closed */
            break;
        }
        p->ranges[p->n_ranges++] = (drnn_glob_range){(uint32_t)lo, (uint32_t)hi};
    }
    if (i >= p->n)
        return pattern_error(err, DRNN_ERR_INVALID, p,
                             "the '[' at character %d is not closed by ']'", at), -1;
    cl->count = p->n_ranges - cl->first;
    int known = 0;
    for (int t = 1; t < p->vocab->size && !known; t++)
        known = drnn_glob_class_has(&(drnn_shape){.classes = p->classes, .ranges = p->ranges},
                                    p->n_classes, p->vocab->symbol[t]);
    if (!known)
        return pattern_error(err, DRNN_ERR_UNKNOWN_SYMBOL, p,
                             "the class at character %d matches no symbol of the model's "
                             "vocabulary", at), -1;
    p->glob[p->glob_len++] = (drnn_glob_item){DRNN_GLOB_CLASS, p->n_classes++};
    return i + 1;
}

/* The pattern, item by item; consecutive '*' are one. */
static int read_pattern(parsed *p, drnn_error *err)
{
    const char *text = p->spec->pattern;
    if (!text)
        return DRNN_OK;
    if (!*text)
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "pattern: empty (a glob such as 'ar*on*' or '*[aeiou]x')");
    int rc = read_text(p, "pattern", text, err);
    if (rc)
        return rc;
    size_t n = (size_t)p->n;
    p->glob = malloc(n * sizeof *p->glob);
    p->classes = malloc(n * sizeof *p->classes);
    p->ranges = malloc(n * sizeof *p->ranges);
    if (!p->glob || !p->classes || !p->ranges)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    for (int i = 0; i < p->n;) {
        uint32_t c = p->cps[i];
        if (c == '[') {
            if ((i = parse_class(p, i, err)) < 0)
                return err ? err->code : DRNN_ERR_INVALID;
            continue;
        }
        if (c == '*' || c == '?') {
            if (c == '?' || !p->glob_len || p->glob[p->glob_len - 1].kind != DRNN_GLOB_STAR)
                p->glob[p->glob_len++] = (drnn_glob_item){c == '*' ? DRNN_GLOB_STAR
                                                                   : DRNN_GLOB_ANY, 0};
            i++;
            continue;
        }
        int at = i;
        int64_t sym = glob_symbol(p, &i);
        if (sym < 0)
            return pattern_error(err, DRNN_ERR_INVALID, p,
                                 "the '\\' at character %d escapes nothing", at);
        int t = drnn_vocab_find(p->vocab, (uint32_t)sym);
        if (t <= 0)
            return unknown_symbol(err, "pattern", text, (uint32_t)sym);
        p->glob[p->glob_len++] = (drnn_glob_item){DRNN_GLOB_LITERAL, t};
    }
    return DRNN_OK;
}

/* ---- constraints that no name meets: why ---- */

/* The first of t[0 .. n) that exclude forbids, or -1. */
static int first_excluded(const parsed *p, const drnn_token *t, int n)
{
    for (int i = 0; i < n; i++)
        if (p->excluded[t[i]])
            return t[i];
    return -1;
}

static void excluded_reason(const parsed *p, char *reason, const char *what, const char *text,
                            int t)
{
    char cut[72], sym[8];
    snprintf(reason, DRNN_ERROR_MESSAGE_SIZE, "%s '%s' uses '%s', which exclude forbids", what,
             shown(text, cut), symbol_text(p->vocab->symbol[t], sym));
}

/* Contradictions that need no automaton, in reason; 1 if one is found. */
static int contradiction(const parsed *p, char *reason)
{
    char cut[72];
    int t, least = 0, star = 0;
    if ((t = first_excluded(p, p->prefix, p->prefix_len)) >= 0)
        return excluded_reason(p, reason, "the prefix", p->spec->prefix, t), 1;
    for (int w = 0; w < p->n_contains + p->has_suffix; w++) {
        const char *what = w < p->n_contains ? "the contains string" : "the suffix";
        int n = p->keyword_start[w + 1] - p->keyword_start[w];
        if ((t = first_excluded(p, p->keywords + p->keyword_start[w], n)) >= 0)
            return excluded_reason(p, reason, what, p->keyword_text[w], t), 1;
        if (n > p->max_len)
            return snprintf(reason, DRNN_ERROR_MESSAGE_SIZE,
                            "%s '%s' has %d symbols, more than the longest name allowed (%d)",
                            what, shown(p->keyword_text[w], cut), n, p->max_len), 1;
    }
    for (int i = 0; i < p->glob_len; i++) {
        const drnn_glob_item *it = &p->glob[i];
        if (it->kind == DRNN_GLOB_LITERAL && p->excluded[it->arg])
            return excluded_reason(p, reason, "the pattern", p->spec->pattern, it->arg), 1;
        least += it->kind != DRNN_GLOB_STAR;
        star |= it->kind == DRNN_GLOB_STAR;
    }
    if (p->glob && least > p->max_len)
        return snprintf(reason, DRNN_ERROR_MESSAGE_SIZE,
                        "the pattern '%s' needs at least %d symbols, more than the longest name "
                        "allowed (%d)", shown(p->spec->pattern, cut), least, p->max_len), 1;
    if (p->glob && !star && least < p->min_len)
        return snprintf(reason, DRNN_ERROR_MESSAGE_SIZE,
                        "the pattern '%s' matches only names of %d symbols, fewer than the "
                        "shortest allowed (%d)", shown(p->spec->pattern, cut), least,
                        p->min_len), 1;
    return 0;
}

/* The automaton of constraints that nothing meets: one state, no way on. */
static int dead_automaton(drnn_automaton *a, int V)
{
    memset(a, 0, sizeof *a);
    a->states = 1;
    a->cls = malloc((size_t)V * sizeof *a->cls);
    a->next = malloc(sizeof *a->next);
    a->accept = calloc(1, 1);
    a->lengths = calloc(DRNN_LEN_WORDS, sizeof *a->lengths);
    if (!a->cls || !a->next || !a->accept || !a->lengths)
        return DRNN_ERR_NOMEM;
    for (int t = 0; t < V; t++)
        a->cls[t] = -1;
    return DRNN_OK;
}

/* The automaton of p into c, or the reason why no name meets p. */
static int build(parsed *p, drnn_constraint *c, drnn_error *err)
{
    char cut[72], cut2[72];
    if (contradiction(p, c->reason)) {
        if (dead_automaton(&c->a, p->vocab->size))
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
        return DRNN_OK;
    }
    const drnn_shape sh = {
        .vocab = p->vocab, .prefix = p->prefix, .prefix_len = p->prefix_len,
        .keywords = p->keywords, .keyword_start = p->keyword_start,
        .n_contains = p->n_contains, .has_suffix = p->has_suffix, .excluded = p->excluded,
        .glob = p->glob, .glob_len = p->glob_len, .classes = p->classes, .ranges = p->ranges,
        .max_states = p->spec->max_states ? p->spec->max_states : DRNN_CONSTRAINT_STATES,
    };
    int rc = drnn_automaton_build(&c->a, &sh, err);
    if (rc)
        return rc;
    c->satisfiable = drnn_automaton_live(&c->a, c->a.start, 0, p->min_len, p->max_len);
    if (c->satisfiable)
        return DRNN_OK;
    if (c->a.glob_refuses_prefix)
        snprintf(c->reason, sizeof c->reason,
                 "the pattern '%s' does not allow names that start with the prefix '%s'",
                 shown(p->spec->pattern, cut), shown(p->spec->prefix, cut2));
    else
        snprintf(c->reason, sizeof c->reason,
                 "no name of %d to %d symbols meets all the constraints together", p->min_len,
                 p->max_len);
    return DRNN_OK;
}

static int check_spec(const drnn_constraint_spec *s, drnn_error *err)
{
    if (s->min_len < 0 || s->max_len < 0 || s->min_len > DRNN_MAX_NAME_LEN ||
        s->max_len > DRNN_MAX_NAME_LEN)
        return drnn_fail(err, DRNN_ERR_INVALID, "lengths %d to %d: each must be 0 (none) or 1 to %d",
                         s->min_len, s->max_len, DRNN_MAX_NAME_LEN);
    if (s->min_len > (s->max_len ? s->max_len : DRNN_MAX_NAME_LEN))
        return drnn_fail(err, DRNN_ERR_INVALID, "lengths: the shortest, %d, is above the longest, %d",
                         s->min_len, s->max_len);
    if (s->n_contains < 0 || s->n_contains > DRNN_MAX_CONTAINS || (s->n_contains && !s->contains))
        return drnn_fail(err, DRNN_ERR_INVALID, "contains: %d strings (at most %d)", s->n_contains,
                         DRNN_MAX_CONTAINS);
    if (s->max_states < 0 || s->max_states > DRNN_CONSTRAINT_MAX_STATES)
        return drnn_fail(err, DRNN_ERR_INVALID, "a bound of %d states on the constraints' automaton "
                         "(0 to %d)", s->max_states, DRNN_CONSTRAINT_MAX_STATES);
    return DRNN_OK;
}

static void parsed_free(parsed *p)
{
    free(p->keywords);
    free(p->excluded);
    free(p->glob);
    free(p->classes);
    free(p->ranges);
    free(p);
}

int drnn_constraint_compile(drnn_constraint **out, const drnn_constraint_spec *spec,
                            const drnn_vocab *vocab, drnn_error *err)
{
    *out = NULL;
    int rc = check_spec(spec, err);
    if (rc)
        return rc;
    parsed *p = calloc(1, sizeof *p);
    drnn_constraint *c = calloc(1, sizeof *c);
    if (!p || !c) {
        free(p);
        free(c);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    }
    p->spec = spec;
    p->vocab = vocab;
    p->min_len = spec->min_len ? spec->min_len : 1;
    p->max_len = spec->max_len ? spec->max_len : DRNN_MAX_NAME_LEN;
    rc = read_prefix(p, err);
    rc = rc ? rc : read_keywords(p, err);
    rc = rc ? rc : read_exclude(p, err);
    rc = rc ? rc : read_pattern(p, err);
    rc = rc ? rc : build(p, c, err);
    c->vocab_size = vocab->size;
    c->min_len = p->min_len;
    c->max_len = p->max_len;
    c->prefix_len = p->prefix_len;
    c->prefix = malloc((size_t)(p->prefix_len ? p->prefix_len : 1) * sizeof *c->prefix);
    if (!rc && !c->prefix)
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    if (!rc)
        memcpy(c->prefix, p->prefix, (size_t)p->prefix_len * sizeof *c->prefix);
    parsed_free(p);
    if (rc) {
        drnn_constraint_free(c);
        return rc;
    }
    *out = c;
    return drnn_ok(err);
}

void drnn_constraint_free(drnn_constraint *c)
{
    if (!c)
        return;
    drnn_automaton_free(&c->a);
    free(c->prefix);
    free(c);
}

/* ---- the compiled constraint ---- */

int drnn_constraint_satisfiable(const drnn_constraint *c)
{
    return c->satisfiable;
}

const char *drnn_constraint_reason(const drnn_constraint *c)
{
    return c->satisfiable ? "" : c->reason;
}

void drnn_constraint_lengths(const drnn_constraint *c, int *min_len, int *max_len)
{
    *min_len = c->min_len;
    *max_len = c->max_len;
}

int drnn_constraint_prefix(const drnn_constraint *c, const drnn_token **tokens)
{
    *tokens = c->prefix_len ? c->prefix : NULL;
    return c->prefix_len;
}

int drnn_constraint_states(const drnn_constraint *c)
{
    return c->a.states;
}

int drnn_constraint_classes(const drnn_constraint *c)
{
    return c->a.classes;
}

int drnn_constraint_vocab_size(const drnn_constraint *c)
{
    return c->vocab_size;
}

int drnn_constraint_start(const drnn_constraint *c)
{
    return c->a.start;
}

int drnn_constraint_step(const drnn_constraint *c, int state, drnn_token t)
{
    if (state < 0 || t >= c->vocab_size || c->a.cls[t] < 0)
        return -1;
    return c->a.next[(size_t)state * (size_t)c->a.classes + (size_t)c->a.cls[t]];
}

int drnn_constraint_accepts(const drnn_constraint *c, int state, int len)
{
    return state >= 0 && c->a.accept[state] && len >= c->min_len && len <= c->max_len;
}

int drnn_constraint_live(const drnn_constraint *c, int state, int len, int min_len, int max_len)
{
    int lo = min_len > c->min_len ? min_len : c->min_len;
    int hi = max_len < c->max_len ? max_len : c->max_len;
    return state >= 0 && drnn_automaton_live(&c->a, state, len, lo, hi);
}

int drnn_constraint_match(const drnn_constraint *c, const drnn_token *t, int n)
{
    int s = c->a.start;
    for (int i = 0; i < n && s >= 0; i++)
        s = drnn_constraint_step(c, s, t[i]);
    return drnn_constraint_accepts(c, s, n);
}

int drnn_constraint_root(const drnn_constraint *c, const drnn_token *prefix, int prefix_len,
                         int min_len, int max_len, const drnn_token **root, int *state)
{
    int n = prefix_len;
    *root = prefix_len ? prefix : NULL;
    if (c->prefix_len > prefix_len &&
        (!prefix_len || !memcmp(c->prefix, prefix, (size_t)prefix_len * sizeof *prefix))) {
        *root = c->prefix;
        n = c->prefix_len;
    }
    int s = c->a.start;
    for (int i = 0; i < n && s >= 0; i++)
        s = drnn_constraint_step(c, s, (*root)[i]);
    *state = c->satisfiable && drnn_constraint_live(c, s, n, min_len, max_len) ? s : -1;
    return n;
}
