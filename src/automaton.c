/* automaton.c: the constraints' one deterministic automaton over tokens.
 *
 * A state is a product of three parts: how much of the prefix has been
 * read; the node of an Aho-Corasick automaton of the keywords (the
 * contains strings and the suffix), with the mask of contains strings found
 * so far; and the set of positions of the glob's NFA (the subset
 * construction). States are made breadth-first from the start, one
 * transition per symbol class: tokens that no constraint tells apart (no
 * literal, the same membership in each class of the pattern) share a
 * class, so the table has states x classes entries however large the
 * vocabulary. Excluded tokens have no class: they lead nowhere.
 *
 * Then each state gets the set of lengths m such that m more symbols can
 * reach an accepting state, by a backward worklist (a state's set is the
 * union of its successors' sets shifted by one, plus 0 if it accepts);
 * transitions into states whose set is empty are cut. */
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "internal.h"

/* Table entries at most (transitions, and the keyword automaton's): 16 MB
 * each, whatever max_states allows. */
#define CELLS_MAX ((size_t)1 << 22)

typedef struct builder {
    const drnn_shape *sh;
    drnn_automaton *a;
    int V, C;
    drnn_token *rep;   /* [V]: a token of each class */
    int nodes;         /* of the keyword automaton */
    int32_t *ac;       /* [nodes * C]: its transitions */
    uint64_t *out;     /* [nodes]: the keywords that end there (bits) */
    uint64_t full;     /* the mask with every contains string found */
    uint8_t *match;    /* [glob_len * C]: item i takes a symbol of class c */
    int nw, W;         /* words of a set of NFA positions, of a state's key */
    uint64_t *keys;    /* [cap * W] */
    size_t cap;        /* states that keys, next and accept have room for */
    int32_t *table;    /* open addressing of the keys: a state, or -1 */
    size_t table_cap;  /* a power of 2 */
} builder;

static int too_complex(drnn_error *err, const char *what, long long bound)
{
    return drnn_fail(err, DRNN_ERR_INVALID,
                     "the constraints are too complex: their automaton needs more than %lld %s; "
                     "a pattern with fewer '?' or classes after a '*', or fewer contains strings, "
                     "needs fewer", bound, what);
}

static void *alloc_array(size_t n, size_t size)
{
    int overflow = 0;
    size_t bytes = drnn_mul_size(n ? n : 1, size, &overflow);
    return overflow ? NULL : malloc(bytes);
}

int drnn_glob_class_has(const drnn_shape *sh, int k, uint32_t cp)
{
    const drnn_glob_class *cl = &sh->classes[k];
    int in = 0;
    for (int i = 0; i < cl->count && !in; i++)
        in = sh->ranges[cl->first + i].lo <= cp && cp <= sh->ranges[cl->first + i].hi;
    return in != cl->negate;
}

/* Gives token t a class of its own (count[]: tokens per class). */
static void split_off(int32_t *cls, int32_t *count, int *C, drnn_token t)
{
    if (cls[t] >= 0 && count[cls[t]] > 1) {
        count[cls[t]]--;
        cls[t] = *C;
        count[(*C)++] = 1;
    }
}

/* Refines the classes by membership in class k of the pattern. */
static void refine(builder *b, int32_t *map, int k)
{
    int32_t *cls = b->a->cls;
    int m = 0;
    for (int i = 0; i < 2 * b->C; i++)
        map[i] = -1;
    for (int t = 1; t < b->V; t++) {
        int key = 2 * cls[t] + drnn_glob_class_has(b->sh, k, b->sh->vocab->symbol[t]);
        if (map[key] < 0)
            map[key] = m++;
        cls[t] = map[key];
    }
    b->C = m;
}

/* The tokens' classes: split by each class of the pattern, then each
 * literal token alone (the keyword automaton and the prefix tell them
 * apart by class); excluded tokens none; numbered by first token. */
static int partition(builder *b)
{
    const drnn_shape *sh = b->sh;
    int32_t *cls = b->a->cls, *map = alloc_array(2 * (size_t)b->V, sizeof *map),
            *count = alloc_array((size_t)b->V, sizeof *count);
    if (!map || !count) {
        free(map);
        free(count);
        return -1;
    }
    cls[0] = -1;
    for (int t = 1; t < b->V; t++)
        cls[t] = 0;
    b->C = b->V > 1;
    for (int i = 0; i < sh->glob_len; i++)
        if (sh->glob[i].kind == DRNN_GLOB_CLASS)
            refine(b, map, sh->glob[i].arg);
    memset(count, 0, (size_t)b->V * sizeof *count);
    for (int t = 1; t < b->V; t++)
        count[cls[t]]++;
    for (int i = 0; i < sh->prefix_len; i++)
        split_off(cls, count, &b->C, sh->prefix[i]);
    for (int i = 0; i < sh->keyword_start[sh->n_contains + sh->has_suffix]; i++)
        split_off(cls, count, &b->C, sh->keywords[i]);
    for (int i = 0; i < sh->glob_len; i++)
        if (sh->glob[i].kind == DRNN_GLOB_LITERAL)
            split_off(cls, count, &b->C, (drnn_token)sh->glob[i].arg);
    for (int i = 0; i < b->C; i++)
        map[i] = -1;
    int m = 0;
    for (int t = 1; t < b->V; t++) {
        if (sh->excluded[t]) {
            cls[t] = -1;
            continue;
        }
        if (map[cls[t]] < 0) {
            map[cls[t]] = m;
            b->rep[m++] = (drnn_token)t;
        }
        cls[t] = map[cls[t]];
    }
    b->C = m;
    free(map);
    free(count);
    return 0;
}

/* The keyword automaton, complete: a trie of the keywords by class, its
 * missing transitions filled from the failure links breadth-first. A
 * keyword with an excluded symbol never ends anywhere. */
static int build_keywords(builder *b, drnn_error *err)
{
    const drnn_shape *sh = b->sh;
    int n = sh->n_contains + sh->has_suffix, C = b->C;
    size_t nodes = (size_t)sh->keyword_start[n] + 1;
    if (nodes * (size_t)(C ? C : 1) > CELLS_MAX)
        return too_complex(err, "keyword transitions", (long long)CELLS_MAX);
    b->ac = alloc_array(nodes * (size_t)C, sizeof *b->ac);
    b->out = calloc(nodes, sizeof *b->out);
    int32_t *fail = alloc_array(nodes, sizeof *fail), *queue = alloc_array(nodes, sizeof *queue);
    if (!b->ac || !b->out || !fail || !queue) {
        free(fail);
        free(queue);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    }
    for (size_t i = 0; i < nodes * (size_t)C; i++)
        b->ac[i] = -1;
    b->nodes = 1;
    for (int w = 0; w < n; w++) {
        int u = 0, i = sh->keyword_start[w];
        for (; i < sh->keyword_start[w + 1] && b->a->cls[sh->keywords[i]] >= 0; i++) {
            int32_t *to = &b->ac[(size_t)u * C + b->a->cls[sh->keywords[i]]];
            if (*to < 0)
                *to = b->nodes++;
            u = *to;
        }
        if (i == sh->keyword_start[w + 1])
            b->out[u] |= 1ull << w;
    }
    int head = 0, tail = 0;
    for (int c = 0; c < C; c++) {
        if (b->ac[c] < 0)
            b->ac[c] = 0;
        else
            fail[b->ac[c]] = 0, queue[tail++] = b->ac[c];
    }
    while (head < tail) {
        int u = queue[head++];
        b->out[u] |= b->out[fail[u]]; /* the failure node is shallower: done */
        for (int c = 0; c < C; c++) {
            int32_t *to = &b->ac[(size_t)u * C + c], f = b->ac[(size_t)fail[u] * C + c];
            if (*to < 0)
                *to = f;
            else
                fail[*to] = f, queue[tail++] = *to;
        }
    }
    free(fail);
    free(queue);
    b->full = sh->n_contains ? (1ull << sh->n_contains) - 1 : 0;
    return DRNN_OK;
}

static int has_bit(const uint64_t *set, int i)
{
    return (int)(set[i / 64] >> (i % 64) & 1);
}

static void add_bit(uint64_t *set, int i)
{
    set[i / 64] |= 1ull << (i % 64);
}

/* The positions a '*' reaches without a symbol (left to right: a '*'
 * never follows a '*'). */
static void glob_close(const builder *b, uint64_t *set)
{
    for (int i = 0; i < b->sh->glob_len; i++)
        if (b->sh->glob[i].kind == DRNN_GLOB_STAR && has_bit(set, i))
            add_bit(set, i + 1);
}

/* The NFA positions after a symbol of class c; 0 when none is left. */
static int glob_step(const builder *b, const uint64_t *in, int c, uint64_t *out)
{
    memset(out, 0, (size_t)b->nw * sizeof *out);
    for (int i = 0; i < b->sh->glob_len; i++) {
        if (!has_bit(in, i))
            continue;
        if (b->sh->glob[i].kind == DRNN_GLOB_STAR)
            add_bit(out, i);
        else if (b->match[(size_t)i * b->C + c])
            add_bit(out, i + 1);
    }
    glob_close(b, out);
    uint64_t any = 0;
    for (int w = 0; w < b->nw; w++)
        any |= out[w];
    return any != 0;
}

static int build_glob(builder *b)
{
    const drnn_shape *sh = b->sh;
    b->match = alloc_array((size_t)sh->glob_len * (size_t)b->C, 1);
    if (!b->match)
        return -1;
    for (int i = 0; i < sh->glob_len; i++)
        for (int c = 0; c < b->C; c++) {
            const drnn_glob_item *it = &sh->glob[i];
            b->match[(size_t)i * b->C + c] =
                it->kind == DRNN_GLOB_ANY ||
                (it->kind == DRNN_GLOB_LITERAL && b->a->cls[it->arg] == c) ||
                (it->kind == DRNN_GLOB_CLASS &&
                 drnn_glob_class_has(sh, it->arg, sh->vocab->symbol[b->rep[c]]));
        }
    return 0;
}

/* A state's key: [0] prefix read | keyword node << 16, [1] the found
 * mask, [2 ..] the NFA positions. The next key after class c into out;
 * 0 when the symbol breaks the prefix or the pattern. */
static int step_key(const builder *b, const uint64_t *in, int c, uint64_t *out)
{
    const drnn_shape *sh = b->sh;
    int pos = (int)(in[0] & 0xffff), node = (int)(in[0] >> 16);
    if (pos < sh->prefix_len) {
        if (b->a->cls[sh->prefix[pos]] != c)
            return 0;
        pos++;
    }
    node = b->ac[(size_t)node * b->C + c];
    uint64_t mask = in[1] | (b->out[node] & b->full);
    if (!sh->has_suffix && mask == b->full)
        node = 0; /* nothing left to find: one state, not one per node */
    if (sh->glob && !glob_step(b, in + 2, c, out + 2))
        return 0;
    out[0] = (uint64_t)pos | (uint64_t)node << 16;
    out[1] = mask;
    return 1;
}

static int key_accepts(const builder *b, const uint64_t *k)
{
    const drnn_shape *sh = b->sh;
    uint64_t node = k[0] >> 16;
    return (int)(k[0] & 0xffff) == sh->prefix_len && k[1] == b->full &&
           (!sh->glob || has_bit(k + 2, sh->glob_len)) &&
           (!sh->has_suffix || (b->out[node] >> sh->n_contains & 1));
}

static size_t hash_key(const uint64_t *k, int W)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < W; i++) {
        h = (h ^ k[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return (size_t)h;
}

/* find_or_add's failures (a state is >= 0; -1 is a dead transition). */
enum { NO_MEMORY = -2, TOO_MANY = -3 };

/* Room for one more state: NO_MEMORY or TOO_MANY when there is none. */
static int grow_states(builder *b)
{
    drnn_automaton *a = b->a;
    if ((size_t)a->states < b->cap)
        return 0;
    if (a->states >= b->sh->max_states || (size_t)(a->states + 1) * (size_t)b->C > CELLS_MAX)
        return TOO_MANY;
    size_t cap = b->cap ? 2 * b->cap : 64;
    if (cap > (size_t)b->sh->max_states)
        cap = (size_t)b->sh->max_states;
    if (cap * (size_t)b->C > CELLS_MAX)
        cap = CELLS_MAX / (size_t)b->C;
    uint64_t *keys = realloc(b->keys, cap * (size_t)b->W * sizeof *keys);
    if (keys)
        b->keys = keys;
    int32_t *next = realloc(a->next, cap * (size_t)(b->C ? b->C : 1) * sizeof *next);
    if (next)
        a->next = next;
    uint8_t *accept = realloc(a->accept, cap);
    if (accept)
        a->accept = accept;
    if (!keys || !next || !accept)
        return NO_MEMORY;
    b->cap = cap;
    return 0;
}

/* Doubles the hash table and places every state again. */
static int rehash(builder *b)
{
    size_t cap = b->table_cap ? 2 * b->table_cap : 256;
    int32_t *t = alloc_array(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t[i] = -1;
    for (int s = 0; s < b->a->states; s++) {
        size_t h = hash_key(b->keys + (size_t)s * b->W, b->W) & (cap - 1);
        while (t[h] >= 0)
            h = (h + 1) & (cap - 1);
        t[h] = s;
    }
    free(b->table);
    b->table = t;
    b->table_cap = cap;
    return 0;
}

/* The state of key k, made if new; NO_MEMORY or TOO_MANY. */
static int find_or_add(builder *b, const uint64_t *k)
{
    size_t bytes = (size_t)b->W * sizeof *k, h;
    if (2 * (size_t)(b->a->states + 1) > b->table_cap && rehash(b))
        return NO_MEMORY;
    for (h = hash_key(k, b->W) & (b->table_cap - 1); b->table[h] >= 0;
         h = (h + 1) & (b->table_cap - 1))
        if (!memcmp(b->keys + (size_t)b->table[h] * b->W, k, bytes))
            return b->table[h];
    int rc = grow_states(b);
    if (rc)
        return rc;
    int s = b->a->states++;
    memcpy(b->keys + (size_t)s * b->W, k, bytes);
    b->a->accept[s] = (uint8_t)key_accepts(b, k);
    b->table[h] = s;
    return s;
}

/* Every state reachable from the start, breadth-first. */
static int explore(builder *b, drnn_error *err)
{
    uint64_t *cur = calloc((size_t)b->W, sizeof *cur), *nxt = calloc((size_t)b->W, sizeof *nxt);
    int t = cur && nxt ? 0 : NO_MEMORY;
    if (t == 0 && b->sh->glob) {
        add_bit(cur + 2, 0);
        glob_close(b, cur + 2);
    }
    if (t == 0)
        t = find_or_add(b, cur);
    for (int s = 0; t >= -1 && s < b->a->states; s++) {
        memcpy(cur, b->keys + (size_t)s * b->W, (size_t)b->W * sizeof *cur);
        for (int c = 0; c < b->C && t >= -1; c++) {
            t = step_key(b, cur, c, nxt) ? find_or_add(b, nxt) : -1;
            b->a->next[(size_t)s * b->C + c] = t;
        }
    }
    free(cur);
    free(nxt);
    if (t == TOO_MANY)
        return too_complex(err, "states", b->a->states >= b->sh->max_states
                                              ? b->sh->max_states
                                              : (long long)(CELLS_MAX / (size_t)b->C));
    if (t == NO_MEMORY)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the constraints");
    return DRNN_OK;
}

/* lengths[s] |= lengths[t] shifted by one (lengths past DRNN_MAX_NAME_LEN
 * dropped); 1 if it changed. */
static int or_shifted(uint64_t *s, const uint64_t *t)
{
    int changed = 0;
    for (int w = 0; w < DRNN_LEN_WORDS; w++) {
        uint64_t v = t[w] << 1 | (w ? t[w - 1] >> 63 : 0);
        if (w == DRNN_LEN_WORDS - 1 && (DRNN_MAX_NAME_LEN + 1) % 64)
            v &= (1ull << ((DRNN_MAX_NAME_LEN + 1) % 64)) - 1;
        changed |= (s[w] | v) != s[w];
        s[w] |= v;
    }
    return changed;
}

/* The lengths from each state to an accepting one, from the accepting
 * states backwards along reversed transitions until nothing changes
 * (each set only grows, so this ends). */
static int reach_lengths(drnn_automaton *a)
{
    size_t S = (size_t)a->states, C = (size_t)a->classes, edges = 0;
    int32_t *start = calloc(S + 1, sizeof *start), *queue = alloc_array(S, sizeof *queue);
    uint8_t *queued = calloc(S, 1);
    a->lengths = calloc(S * DRNN_LEN_WORDS, sizeof *a->lengths);
    for (size_t i = 0; start && i < S * C; i++)
        if (a->next[i] >= 0)
            start[a->next[i] + 1]++, edges++;
    int32_t *from = alloc_array(edges, sizeof *from);
    if (!start || !queue || !queued || !a->lengths || !from) {
        free(start), free(queue), free(queued), free(from);
        return -1;
    }
    for (size_t s = 0; s < S; s++)
        start[s + 1] += start[s];
    for (size_t i = 0; i < S * C; i++) /* fills each target's edges in place */
        if (a->next[i] >= 0)
            from[start[a->next[i]]++] = (int32_t)(i / C);
    for (size_t s = S; s > 0; s--) /* and moves the starts back */
        start[s] = start[s - 1];
    start[0] = 0;
    size_t head = 0, n = 0;
    for (size_t s = 0; s < S; s++)
        if (a->accept[s])
            a->lengths[s * DRNN_LEN_WORDS] = 1, queue[n++] = (int32_t)s, queued[s] = 1;
    while (n > 0) {
        int32_t t = queue[head];
        head = (head + 1) % S, n--, queued[t] = 0;
        for (int32_t e = start[t]; e < start[t + 1]; e++) {
            int32_t s = from[e];
            if (or_shifted(a->lengths + (size_t)s * DRNN_LEN_WORDS,
                           a->lengths + (size_t)t * DRNN_LEN_WORDS) && !queued[s])
                queue[(head + n++) % S] = s, queued[s] = 1;
        }
    }
    free(start), free(queue), free(queued), free(from);
    return 0;
}

static int reaches_nothing(const drnn_automaton *a, int s)
{
    uint64_t any = 0;
    for (int w = 0; w < DRNN_LEN_WORDS; w++)
        any |= a->lengths[(size_t)s * DRNN_LEN_WORDS + w];
    return !any;
}

/* 1 if the pattern's NFA alone dies on the prefix. */
static int glob_refuses_prefix(const builder *b)
{
    const drnn_shape *sh = b->sh;
    uint64_t set[2 * DRNN_MAX_CONSTRAINT_TEXT / 64 + 2] = {0}, *cur = set,
             *nxt = set + b->nw;
    add_bit(cur, 0);
    glob_close(b, cur);
    for (int i = 0; i < sh->prefix_len; i++) {
        int c = b->a->cls[sh->prefix[i]];
        if (c < 0 || !glob_step(b, cur, c, nxt))
            return 1;
        memcpy(cur, nxt, (size_t)b->nw * sizeof *cur);
    }
    return 0;
}

int drnn_automaton_build(drnn_automaton *a, const drnn_shape *sh, drnn_error *err)
{
    memset(a, 0, sizeof *a);
    builder b = {.sh = sh, .a = a, .V = sh->vocab->size};
    b.nw = sh->glob ? (sh->glob_len + 1 + 63) / 64 : 0;
    b.W = 2 + b.nw;
    a->cls = alloc_array((size_t)b.V, sizeof *a->cls);
    b.rep = alloc_array((size_t)b.V, sizeof *b.rep);
    int rc = a->cls && b.rep && !partition(&b) ? DRNN_OK : DRNN_ERR_NOMEM;
    a->classes = b.C;
    if (!rc)
        rc = build_keywords(&b, err);
    if (!rc && build_glob(&b))
        rc = DRNN_ERR_NOMEM;
    if (!rc) {
        a->glob_refuses_prefix = sh->glob && glob_refuses_prefix(&b);
        rc = explore(&b, err);
    }
    if (!rc && reach_lengths(a))
        rc = DRNN_ERR_NOMEM;
    for (size_t i = 0; !rc && i < (size_t)a->states * (size_t)b.C; i++)
        if (a->next[i] >= 0 && reaches_nothing(a, a->next[i]))
            a->next[i] = -1; /* a dead end: prune it at once */
    free(b.rep), free(b.ac), free(b.out), free(b.match), free(b.keys), free(b.table);
    if (rc == DRNN_ERR_NOMEM)
        drnn_fail(err, rc, "out of memory for the constraints");
    if (rc)
        drnn_automaton_free(a);
    return rc;
}

void drnn_automaton_free(drnn_automaton *a)
{
    free(a->cls);
    free(a->next);
    free(a->accept);
    free(a->lengths);
    memset(a, 0, sizeof *a);
}

int drnn_automaton_live(const drnn_automaton *a, int state, int len, int lo, int hi)
{
    int from = lo - len > 0 ? lo - len : 0, to = hi - len;
    if (to > DRNN_MAX_NAME_LEN)
        to = DRNN_MAX_NAME_LEN;
    if (to < from)
        return 0;
    const uint64_t *set = a->lengths + (size_t)state * DRNN_LEN_WORDS;
    for (int w = from / 64; w <= to / 64; w++) {
        uint64_t word = set[w];
        if (w == from / 64)
            word &= ~0ull << (from % 64);
        if (w == to / 64 && to % 64 < 63)
            word &= (1ull << (to % 64 + 1)) - 1;
        if (word)
            return 1;
    }
    return 0;
}
