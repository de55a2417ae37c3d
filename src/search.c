/* search.c: the k most likely complete names, exactly, by best-first search.
 *
 * Every partial name is a node of a tree rooted at the prefix; extending a
 * name by one symbol multiplies its probability by p(symbol | name) <= 1,
 * so scores (log-probabilities) only fall along a path. A priority queue
 * holds the frontier: partial names not yet expanded, and finished names
 * (a name followed by END). Taking the highest score first, a finished name
 * that reaches the front can be overtaken by nothing left in the queue: it
 * is the next most likely name. Expanding a partial name costs one model
 * step from its parent's saved state.
 *
 * Three savings keep the queue small: the best k finished names seen so far
 * (popped or not) give a threshold below which nothing can enter the top k,
 * so nothing below it is queued or expanded, and a pre-pass (search_floor.c)
 * raises it from the start: the k-th score of k real names that meet every
 * condition is at most the true k-th, so an entry strictly below it leads
 * to no answer; only the recurrent state of expanded names that still have
 * a child in the queue, or a child that may need it, is kept (children are
 * queued as parent + symbol; see hold); and the
 * children of a name are queued one at a time, best first: when one leaves
 * the queue, the next best takes its place. Each node keeps its next
 * CHILD_BLOCK children ranked (a refill, rarely needed, steps the model
 * again from the parent's state), so that neither time nor memory per
 * expansion grows with the vocabulary beyond the one softmax and selection:
 * at 3,702 symbols a queue of every child took a gigabyte in 16,000
 * expansions. The names leave the queue in the same order either way,
 * since a node's next child never precedes the one before it.
 *
 * Constraints (constraint.h) make the tree the product of the model and
 * the constraints' automaton: each node carries its automaton state, a
 * child is queued only if its state can still reach an accepting one
 * within the lengths left (the automaton's length sets make that test
 * exact), and a name finishes only in an accepting state. This only
 * removes names, so every argument above holds as it is. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/search.h"
#include "internal.h"
#include "search_depth.h"
#include "search_floor.h"

/* ---- the search ---- */

typedef struct node {      /* an expanded partial name */
    int32_t parent;        /* -1 for the root (the prefix) */
    drnn_token symbol;     /* its last symbol (not the root's) */
    uint16_t len;          /* symbols, prefix included */
    uint8_t ranked;        /* children in its block, best first */
    uint8_t taken;         /* of them, those queued so far */
    int32_t state;         /* the constraints' automaton's (0 without) */
    int32_t slot;          /* of its recurrent state and ranked children; -1: freed */
    int32_t refs;          /* holds on the slot (see hold) */
    double logprob;        /* of the name so far */
} node;

/* Partial names expanded together, at most: enough rows to share each pass
 * over the weights (the products' blocks are 4 rows), few enough that the
 * names expanded beyond one-at-a-time's stay a small part of the work. */
#define SEARCH_BATCH 32

/* A node's next children, ranked: by score, then by symbol (the queue's
 * order among siblings: same length, names that differ in the last symbol). */
#define CHILD_BLOCK 16
typedef struct child {
    double logprob;
    drnn_token symbol;
} child;

/* Slots, SLOT_CHUNK to an allocation: the memory in use follows the slots
 * in use, with no doubled array to copy as it grows. */
#define SLOT_CHUNK 64
typedef struct slot_chunk {
    drnn_real *states;     /* S per slot */
    child *children;       /* CHILD_BLOCK per slot */
} slot_chunk;

typedef struct entry {     /* a name in the queue: node parent + symbol */
    double logprob;
    int32_t parent;
    int32_t symbol;        /* DRNN_END: parent's name, finished */
} entry;

typedef struct search {
    const drnn_model *m;
    const drnn_search_options *opt;
    const drnn_constraint *c; /* or NULL */
    const drnn_token *root;   /* the prefix every name starts with */
    int root_len;
    int lo, hi;               /* lengths: the options' and the constraint's */
    int V;
    size_t S;              /* scalars of one saved state */
    drnn_stepper *stepper;
    node *nodes;           /* expanded names; their states are kept apart */
    slot_chunk *chunks;    /* slot j in chunks[j / SLOT_CHUNK] */
    int32_t *free_slots;   /* slots given back, to be reused */
    size_t n_nodes, cap_nodes, n_chunks, cap_chunks;
    size_t n_slots, n_free, cap_free;
    double floor;          /* the pre-pass's bound on the k-th score */
    entry *heap;           /* the queue, best first */
    size_t n_heap, cap_heap;
    double *top;           /* min-heap of the best k finished scores queued */
    int n_top;
    entry *batch;          /* [SEARCH_BATCH] entries expanded together */
    int *again;            /* [SEARCH_BATCH] 1: its parent queued the next sibling */
    const drnn_real **from;/* [SEARCH_BATCH] their parents' states */
    drnn_token *in;        /* [SEARCH_BATCH] their last symbols */
    drnn_real *next;       /* [SEARCH_BATCH * S] their states */
    drnn_real *logits;     /* [SEARCH_BATCH * V] their next symbols' logits */
    drnn_real *probs;      /* [V] softmax scratch */
    double *scores;        /* [V] scores of a node's children */
    drnn_token a[DRNN_MAX_NAME_LEN], b[DRNN_MAX_NAME_LEN]; /* tie-break scratch */
    size_t bytes, peak_bytes, max_bytes;
} search;

/* Slot j's saved state, and its ranked children. */
static drnn_real *slot_state(const search *s, int32_t j)
{
    return s->chunks[j / SLOT_CHUNK].states + (size_t)(j % SLOT_CHUNK) * s->S;
}

static child *slot_children(const search *s, int32_t j)
{
    return s->chunks[j / SLOT_CHUNK].children + (size_t)(j % SLOT_CHUNK) * CHILD_BLOCK;
}

static int entry_len(const search *s, const entry *e)
{
    return s->nodes[e->parent].len + (e->symbol != DRNN_END);
}

/* The tokens of node i into out (room for its len); returns len. */
static int node_tokens(const search *s, int32_t i, drnn_token *out)
{
    int len = s->nodes[i].len;
    int at = len;
    for (; s->nodes[i].parent >= 0; i = s->nodes[i].parent)
        out[--at] = s->nodes[i].symbol;
    if (at > 0) /* at == root_len; the root may be NULL when empty */
        memcpy(out, s->root, (size_t)at * sizeof *out);
    return len;
}

static int entry_tokens(const search *s, const entry *e, drnn_token *out)
{
    int len = node_tokens(s, e->parent, out);
    if (e->symbol != DRNN_END)
        out[len++] = (drnn_token)e->symbol;
    return len;
}

/* 1 if x leaves the queue before y: the higher score; on a tie the shorter
 * name, then the lower tokens from the first on. This is the order of the
 * results: an entry after x can only lead to names after x, as it scores
 * no higher, is no shorter, and at x's length can only end as itself. Two
 * distinct entries never hold the same tokens. */
static int before(search *s, const entry *x, const entry *y)
{
    if (x->logprob != y->logprob)
        return x->logprob > y->logprob;
    int lx = entry_len(s, x), ly = entry_len(s, y);
    if (lx != ly)
        return lx < ly;
    entry_tokens(s, x, s->a);
    entry_tokens(s, y, s->b);
    for (int i = 0; i < lx; i++)
        if (s->a[i] != s->b[i])
            return s->a[i] < s->b[i];
    return x->symbol == DRNN_END && y->symbol != DRNN_END;
}

/* Grows *p (of *cap elements of size each) to hold need, within the memory bound. */
static int grow(search *s, void **p, size_t *cap, size_t need, size_t each)
{
    if (need <= *cap)
        return 0;
    size_t want = *cap ? *cap : 64;
    while (want < need)
        want *= 2;
    size_t more = (want - *cap) * each;
    if (s->bytes + more > s->max_bytes) {
        if (s->bytes >= s->max_bytes)
            return -1; /* nothing is left of the bound (the batch's buffers may fill it) */
        want = *cap + (s->max_bytes - s->bytes) / each; /* what is left of the bound */
        if (want < need)
            return -1;
        more = (want - *cap) * each;
    }
    void *q = realloc(*p, want * each);
    if (!q)
        return -1;
    *p = q;
    *cap = want;
    s->bytes += more;
    if (s->bytes > s->peak_bytes)
        s->peak_bytes = s->bytes;
    return 0;
}

/* Queues e (room reserved). */
static void push(search *s, entry e)
{
    size_t i = s->n_heap++;
    while (i > 0 && before(s, &e, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = e;
}

static entry pop(search *s)
{
    entry top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(s, &s->heap[c + 1], &s->heap[c]))
            c++;
        if (!before(s, &s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

/* Scores below this cannot enter the top k: the k-th best finished score
 * queued so far (any name at all, once k are known). */
static double threshold(const search *s)
{
    double t = s->n_top == s->opt->k ? s->top[0] : -INFINITY;
    return t > s->floor ? t : s->floor;
}

/* Records a finished score among the best k (a min-heap). */
static void note_finished(search *s, double x)
{
    double *h = s->top;
    int n = s->n_top, i;
    if (n == s->opt->k) {
        if (x <= h[0])
            return;
        for (i = 0;;) { /* replace the smallest, sift down */
            int c = 2 * i + 1;
            if (c >= n)
                break;
            if (c + 1 < n && h[c + 1] < h[c])
                c++;
            if (h[c] >= x)
                break;
            h[i] = h[c];
            i = c;
        }
        h[i] = x;
        return;
    }
    for (i = s->n_top++; i > 0 && h[(i - 1) / 2] > x; i = (i - 1) / 2)
        h[i] = h[(i - 1) / 2];
    h[i] = x;
}

/* scores[v] = base + log p(v | the stepper's last feed), summed exactly as
 * drnn_name_loss sums a name's terms. */
static void child_scores(search *s, const drnn_real *logits, double base)
{
    drnn_search_scores(logits, s->V, base, s->probs, s->scores);
}

static int excluded(search *s, const entry *e)
{
    if (!s->opt->exclude)
        return 0;
    int n = entry_tokens(s, e, s->a);
    return drnn_name_set_contains(s->opt->exclude, s->a, n);
}

/* Room for b more nodes and all their children, so that adding them cannot
 * fail half-way. Returns -1 at the memory bound. */
static int reserve(search *s, size_t b)
{
    size_t n = s->n_nodes + b;
    if (n > INT32_MAX)
        return -1; /* node indices are int32_t */
    size_t slots = s->n_slots + (s->n_free < b ? b - s->n_free : 0);
    size_t chunks = (slots + SLOT_CHUNK - 1) / SLOT_CHUNK;
    if (grow(s, (void **)&s->chunks, &s->cap_chunks, chunks, sizeof *s->chunks))
        return -1;
    const size_t chunk_bytes = SLOT_CHUNK * (s->S * sizeof(drnn_real) + CHILD_BLOCK * sizeof(child));
    for (; s->n_chunks < chunks; s->n_chunks++) {
        slot_chunk *c = &s->chunks[s->n_chunks];
        if (s->bytes + chunk_bytes > s->max_bytes)
            return -1;
        c->states = malloc(SLOT_CHUNK * s->S * sizeof *c->states);
        c->children = malloc(SLOT_CHUNK * CHILD_BLOCK * sizeof *c->children);
        if (!c->states || !c->children) {
            free(c->states), free(c->children);
            return -1;
        }
        s->bytes += chunk_bytes;
        s->peak_bytes = s->bytes > s->peak_bytes ? s->bytes : s->peak_bytes;
    }
    return grow(s, (void **)&s->nodes, &s->cap_nodes, n, sizeof *s->nodes) ||
                   grow(s, (void **)&s->free_slots, &s->cap_free, slots, sizeof *s->free_slots) ||
                   grow(s, (void **)&s->heap, &s->cap_heap, s->n_heap + 2 * b, sizeof *s->heap)
               ? -1
               : 0;
}

/* 1 if a name of len symbols in automaton state may go on with symbol v
 * (not END) towards a name that meets everything. */
static int may_continue(const search *s, int32_t state, int len, int v)
{
    if (len >= s->hi)
        return 0;
    return !s->c || drnn_constraint_live(s->c, drnn_constraint_step(s->c, state, (drnn_token)v),
                                         len + 1, s->lo, s->hi);
}

/* 1 if a name of len symbols in automaton state may end there. */
static int may_end(const search *s, int32_t state, int len)
{
    return len >= s->lo && (!s->c || drnn_constraint_accepts(s->c, state, len));
}

/* 1 if child (x, v) ranks before child (y, u) among siblings. */
static int ranks_before(double x, int v, double y, int u)
{
    return x != y ? x > y : v < u;
}

/* Fills node n's block with its best children (s->scores, symbols 1 ..
 * V-1) that rank after child (after, after_v) (all, when after_v is 0),
 * best first: a selection in one pass over the vocabulary. */
static void rank_children(search *s, size_t n, double after, int after_v)
{
    child *block = slot_children(s, s->nodes[n].slot);
    const node *nd = &s->nodes[n];
    int m = 0;
    for (int v = 1; v < s->V; v++) {
        double x = s->scores[v];
        if ((after_v && !ranks_before(after, after_v, x, v)) ||
            (s->c && !may_continue(s, nd->state, nd->len, v)) ||
            (m == CHILD_BLOCK && !ranks_before(x, v, block[m - 1].logprob, block[m - 1].symbol)))
            continue;
        int at = m < CHILD_BLOCK ? m++ : m - 1;
        for (; at > 0 && ranks_before(x, v, block[at - 1].logprob, block[at - 1].symbol); at--)
            block[at] = block[at - 1];
        block[at] = (child){x, (drnn_token)v};
    }
    s->nodes[n].ranked = (uint8_t)m;
    s->nodes[n].taken = 0;
}

/* The next-symbol logits of node n, stepped again from its parent's state
 * (from the zero state through the prefix for the root). */
static const drnn_real *node_logits(search *s, size_t n)
{
    const node *nd = &s->nodes[n];
    if (nd->parent >= 0) {
        drnn_stepper_load_state(s->stepper, slot_state(s, s->nodes[nd->parent].slot));
        return drnn_stepper_feed(s->stepper, s->m, nd->symbol);
    }
    drnn_stepper_reset(s->stepper);
    const drnn_real *logits = drnn_stepper_feed(s->stepper, s->m, DRNN_END);
    for (int i = 0; i < s->root_len; i++)
        logits = drnn_stepper_feed(s->stepper, s->m, s->root[i]);
    return logits;
}

/* Queues node n's best child not queued yet, if it can still enter the top
 * k (room reserved); returns 1 if it did. A node has one partial child in
 * the queue at a time: this is called when it is added and when its child
 * leaves the queue; once it queues none, it never queues one again. */
static int queue_next_child(search *s, size_t n)
{
    node *nd = &s->nodes[n];
    if (nd->len >= s->hi)
        return 0;
    child *block = slot_children(s, nd->slot);
    if (nd->taken == nd->ranked) {
        if (nd->ranked < CHILD_BLOCK)
            return 0; /* the block held every child left */
        const child last = block[CHILD_BLOCK - 1];
        child_scores(s, node_logits(s, n), nd->logprob);
        rank_children(s, n, last.logprob, last.symbol);
        if (nd->ranked == 0)
            return 0;
    }
    const child c = block[nd->taken];
    if (c.logprob < threshold(s))
        return 0; /* nor can any later sibling */
    nd->taken++;
    push(s, (entry){c.logprob, (int32_t)n, c.symbol});
    return 1;
}

/* Which states are kept. Node n's slot (its state and ranked children) is
 * read only to expand a child of n (step_to: n has a partial child queued)
 * and to rank a child c's children again (node_logits(c) steps from n's
 * state: c has a partial child queued). So n holds its own slot, and its
 * parent's, while it has a partial child queued; refs counts the holds on
 * n's slot, which is given back at 0 and never read again. A node that
 * stops queueing children never starts again (queue_next_child), so the
 * states kept are those of the queue's partial entries' parents and
 * grandparents, not of every node expanded. */
static void drop(search *s, int32_t n)
{
    if (--s->nodes[n].refs == 0) {
        s->free_slots[s->n_free++] = s->nodes[n].slot;
        s->nodes[n].slot = -1;
    }
}

static void hold(search *s, int32_t n)
{
    s->nodes[n].refs++;
    if (s->nodes[n].parent >= 0)
        s->nodes[s->nodes[n].parent].refs++;
}

static void unhold(search *s, int32_t n)
{
    int32_t parent = s->nodes[n].parent;
    drop(s, n);
    if (parent >= 0)
        drop(s, parent);
}

/* Adds node nd (after reserve), whose state is state[] and whose
 * next-symbol logits are logits: queues its finished name and its best
 * child, if they can still enter the top k. */
static void add_node(search *s, node nd, const drnn_real *state, const drnn_real *logits)
{
    size_t n = s->n_nodes++;
    nd.slot = s->n_free ? s->free_slots[--s->n_free] : (int32_t)s->n_slots++;
    nd.refs = 1; /* its own, until its first child is queued or not */
    s->nodes[n] = nd;

    child_scores(s, logits, nd.logprob);
    if (may_end(s, nd.state, nd.len)) {
        entry e = {s->scores[DRNN_END], (int32_t)n, DRNN_END};
        if (e.logprob >= threshold(s) && !excluded(s, &e)) {
            push(s, e);
            note_finished(s, e.logprob);
        }
    }
    rank_children(s, n, 0, 0);
    if (queue_next_child(s, n))
        hold(s, (int32_t)n);
    drop(s, (int32_t)n);
    if (s->nodes[n].slot >= 0) /* kept: a child of it is queued (most nodes have none) */
        memcpy(slot_state(s, s->nodes[n].slot), state, s->S * sizeof *state);
}

/* The automaton state of entry e's name (not finished). */
static int32_t child_state(const search *s, const entry *e)
{
    int32_t state = s->nodes[e->parent].state;
    return s->c ? drnn_constraint_step(s->c, state, (drnn_token)e->symbol) : 0;
}

/* The stepper at entry e's name (its parent's state, then e's symbol);
 * returns the logits that follow. */
static const drnn_real *step_to(search *s, const entry *e)
{
    drnn_stepper_load_state(s->stepper, slot_state(s, s->nodes[e->parent].slot));
    return drnn_stepper_feed(s->stepper, s->m, (drnn_token)e->symbol);
}

/* Finishes entry e the greedy way (the most likely allowed symbol at each
 * step) into out. */
static void complete_greedily(search *s, const entry *e, drnn_scored_name *out)
{
    out->len = entry_tokens(s, e, out->tokens);
    out->logprob = e->logprob;
    if (e->symbol == DRNN_END)
        return;
    int32_t state = child_state(s, e);
    const drnn_real *logits = step_to(s, e);
    for (;;) {
        child_scores(s, logits, out->logprob);
        int best = -1; /* there is one: the entry's state is live */
        for (int v = 0; v < s->V; v++) {
            int allowed = v == DRNN_END ? may_end(s, state, out->len)
                                        : may_continue(s, state, out->len, v);
            if (allowed && (best < 0 || s->scores[v] > s->scores[best]))
                best = v;
        }
        out->logprob = s->scores[best];
        if (best == DRNN_END)
            return;
        out->tokens[out->len++] = (drnn_token)best;
        state = s->c ? drnn_constraint_step(s->c, state, (drnn_token)best) : 0;
        logits = drnn_stepper_feed(s->stepper, s->m, (drnn_token)best);
    }
}

/* After a bound: the best names that the queue's front entries lead to,
 * each finished greedily, sorted, after the certified ones. They are all
 * distinct: a partial entry's name is never another partial entry's
 * prefix, and a finished entry's name is shorter than any name its node's
 * queued children lead to. */
static void fill_greedily(search *s, drnn_search_result *res)
{
    int need = s->opt->k - res->count;
    drnn_scored_name *more = res->names + res->count;
    int got = 0;
    for (long tries = 4L * need + 64; got < need && s->n_heap > 0 && tries > 0; tries--) {
        entry e = pop(s); /* nothing is given back here: e's parent keeps its state */
        if (e.symbol != DRNN_END)
            queue_next_child(s, (size_t)e.parent);
        complete_greedily(s, &e, &more[got]);
        if (s->opt->exclude &&
            drnn_name_set_contains(s->opt->exclude, more[got].tokens, more[got].len))
            continue;
        got++;
    }
    qsort(more, (size_t)got, sizeof *more, drnn_search_name_order);
    res->count += got;
}

static int check_options(const drnn_model *m, const drnn_search_options *o, drnn_error *err)
{
    if (o->k < 1 || o->k > DRNN_MAX_BEST)
        return drnn_fail(err, DRNN_ERR_INVALID, "asked for %d names (1 to %d)", o->k,
                         DRNN_MAX_BEST);
    if (o->min_len < 1 || o->min_len > o->max_len || o->max_len > DRNN_MAX_NAME_LEN)
        return drnn_fail(err, DRNN_ERR_INVALID, "name lengths %d to %d (1 <= min <= max <= %d)",
                         o->min_len, o->max_len, DRNN_MAX_NAME_LEN);
    if (o->prefix_len < 0 || o->prefix_len > o->max_len || (o->prefix_len > 0 && !o->prefix))
        return drnn_fail(err, DRNN_ERR_INVALID, "a prefix of %d symbols with names of at most %d",
                         o->prefix_len, o->max_len);
    for (int i = 0; i < o->prefix_len; i++)
        if (o->prefix[i] == DRNN_END || o->prefix[i] >= m->cfg.vocab)
            return drnn_fail(err, DRNN_ERR_INVALID, "prefix symbol %d is not in the vocabulary",
                             o->prefix[i]);
    if (o->max_expansions < 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "a negative bound on expansions");
    if (o->constraint && drnn_constraint_vocab_size(o->constraint) != m->cfg.vocab)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "the constraint was compiled for a vocabulary of %d tokens, the model "
                         "has %d", drnn_constraint_vocab_size(o->constraint), m->cfg.vocab);
    return DRNN_OK;
}

/* The root and the lengths: the options' and the constraint's together.
 * Returns the root's automaton state, or -1 when no name can meet them. */
static int32_t plant_root(search *s)
{
    const drnn_search_options *o = s->opt;
    s->c = o->constraint;
    s->root = o->prefix;
    s->root_len = o->prefix_len;
    s->lo = o->min_len;
    s->hi = o->max_len;
    if (!s->c)
        return 0;
    int c_lo, c_hi, state;
    drnn_constraint_lengths(s->c, &c_lo, &c_hi);
    s->lo = c_lo > s->lo ? c_lo : s->lo;
    s->hi = c_hi < s->hi ? c_hi : s->hi;
    s->root_len = drnn_constraint_root(s->c, o->prefix, o->prefix_len, s->lo, s->hi, &s->root,
                                       &state);
    return state;
}

/* The pre-pass (search_floor.c), with the stepper at the root (of
 * automaton state root and score logprob): from the start, nothing below
 * the k-th score of k names that meet everything is queued. */
static void set_floor(search *s, int32_t root, double logprob, drnn_search_result *res)
{
    const drnn_search_floor_args a = {s->m, s->stepper, s->c, s->opt->exclude, s->root,
                                      s->root_len, root, logprob, s->lo, s->hi, s->opt->k, s->V};
    size_t bytes;
    s->floor = res->floor = drnn_search_floor(&a, &bytes);
    if (s->bytes + bytes > s->peak_bytes)
        s->peak_bytes = s->bytes + bytes;
}

/* Gives back the best-first search's memory: its nodes, states and queue. */
static void free_queue(search *s)
{
    for (size_t c = 0; c < s->n_chunks; c++) {
        free(s->chunks[c].states);
        free(s->chunks[c].children);
    }
    free(s->chunks);
    free(s->nodes);
    free(s->free_slots);
    free(s->heap);
    s->chunks = NULL, s->nodes = NULL, s->free_slots = NULL, s->heap = NULL;
    s->n_chunks = s->cap_chunks = s->n_nodes = s->cap_nodes = s->n_heap = s->cap_heap = 0;
    s->n_slots = s->n_free = s->cap_free = 0;
    s->bytes = 0;
}

/* After the memory bound stopped the best-first search: the depth-first
 * walk (search_depth.c) from the root (automaton state root, score
 * logprob), in the memory the queue held, with what is left of the
 * expansions and the best lower bound on the k-th score known. When it
 * finishes, res holds the exact answer; otherwise the names it found
 * follow the certified ones. */
static void depth_first(search *s, int32_t root, double logprob, long long max_expansions,
                        drnn_search_result *res)
{
    const double bound = threshold(s);
    free_queue(s);
    drnn_scored_name *found = malloc((size_t)s->opt->k * sizeof *found);
    if (!found)
        return;
    drnn_stepper_reset(s->stepper);
    drnn_stepper_feed(s->stepper, s->m, DRNN_END);
    for (int i = 0; i < s->root_len; i++)
        drnn_stepper_feed(s->stepper, s->m, s->root[i]);
    const drnn_search_depth_args a = {
        {s->m, s->stepper, s->c, s->opt->exclude, s->root, s->root_len, root, logprob, s->lo,
         s->hi, s->opt->k, s->V},
        bound, max_expansions - res->expanded, s->max_bytes};
    long long expanded;
    size_t bytes;
    int complete, n = drnn_search_depth(&a, found, &expanded, &bytes, &complete);
    res->depth_first = 1;
    res->expanded += expanded;
    if (bytes > s->peak_bytes)
        s->peak_bytes = bytes;
    if (complete) {
        memcpy(res->names, found, (size_t)n * sizeof *found);
        res->count = res->certified = n;
        res->exact = 1;
        res->out_of_memory = 0;
    } else {
        res->out_of_memory = res->expanded < max_expansions;
        for (int i = 0; i < n && res->count < s->opt->k; i++) {
            int seen = 0;
            for (int j = 0; j < res->certified && !seen; j++)
                seen = !drnn_search_name_order(&found[i], &res->names[j]);
            if (!seen)
                res->names[res->count++] = found[i];
        }
    }
    free(found);
}

/* The search proper, once s is set up: certified names into res until k,
 * an empty queue, or a bound; from the root in automaton state root. */
static void run(search *s, int32_t root, drnn_search_result *res)
{
    const drnn_search_options *o = s->opt;
    long long max_expansions = o->max_expansions ? o->max_expansions : DRNN_SEARCH_EXPANSIONS;

    /* The root: the prefix, scored step by step from the zero state. */
    drnn_stepper_reset(s->stepper);
    const drnn_real *logits = drnn_stepper_feed(s->stepper, s->m, DRNN_END);
    double logprob = 0;
    for (int i = 0; i < s->root_len; i++) {
        child_scores(s, logits, logprob);
        logprob = s->scores[s->root[i]];
        logits = drnn_stepper_feed(s->stepper, s->m, s->root[i]);
    }
    const double root_logprob = logprob;
    set_floor(s, root, logprob, res);
    res->exact = reserve(s, 1) == 0;
    res->out_of_memory = !res->exact;
    if (res->exact) {
        drnn_stepper_save_state(s->stepper, s->next);
        add_node(s, (node){-1, 0, (uint16_t)s->root_len, 0, 0, root, 0, 0, logprob}, s->next,
                 logits);
    }

    while (res->exact && res->count < o->k && s->n_heap > 0) {
        if (s->heap[0].logprob < threshold(s)) {
            entry e = pop(s); /* queued before k better names were known */
            if (e.symbol != DRNN_END)
                unhold(s, e.parent); /* nor can its later siblings enter */
            continue;
        }
        if (s->heap[0].symbol == DRNN_END) {
            entry e = pop(s);
            drnn_scored_name *out = &res->names[res->count++];
            out->len = entry_tokens(s, &e, out->tokens);
            out->logprob = e.logprob;
            continue;
        }
        if (res->expanded >= max_expansions) {
            res->exact = 0;
            break;
        }
        long long left = max_expansions - res->expanded;
        int want = left < SEARCH_BATCH ? (int)left : SEARCH_BATCH;
        if (reserve(s, (size_t)want)) {
            res->exact = 0;
            res->out_of_memory = 1;
            break;
        }
        /* The front's partial names, up to want of them, expanded together:
         * one pass over the weights steps them all. Names leave the queue
         * in the same order: the finished name at the front is still the
         * best of everything queued, the batch's children queued before
         * it is taken; the batch only may expand a few names that one at
         * a time would have left. */
        int b = 0;
        while (b < want && s->n_heap > 0 && s->heap[0].symbol != DRNN_END &&
               s->heap[0].logprob >= threshold(s)) {
            entry e = pop(s);
            s->again[b] = queue_next_child(s, (size_t)e.parent); /* its next sibling takes its place */
            s->batch[b++] = e;
        }
        for (int i = 0; i < b; i++) {
            s->from[i] = slot_state(s, s->nodes[s->batch[i].parent].slot);
            s->in[i] = (drnn_token)s->batch[i].symbol;
        }
        if (drnn_stepper_feed_batch(s->stepper, s->m, b, s->from, s->in, s->next, s->logits,
                                    NULL)) {
            res->exact = 0; /* its scratch: out of memory */
            res->out_of_memory = 1;
            break;
        }
        for (int i = 0; i < b; i++) {
            const entry *e = &s->batch[i];
            add_node(s,
                     (node){e->parent, (drnn_token)e->symbol,
                            (uint16_t)(s->nodes[e->parent].len + 1), 0, 0, child_state(s, e), 0,
                            0, e->logprob},
                     s->next + (size_t)i * s->S, s->logits + (size_t)i * s->V);
        }
        for (int i = 0; i < b; i++)
            if (!s->again[i])
                unhold(s, s->batch[i].parent); /* after add_node: a child may hold it */
        res->expanded += b;
    }
    res->certified = res->count;
    if (!res->exact && res->out_of_memory)
        depth_first(s, root, root_logprob, max_expansions, res);
    else if (!res->exact)
        fill_greedily(s, res);
}

int drnn_search_best(const drnn_model *m, const drnn_search_options *opt,
                     drnn_search_result *res, drnn_error *err)
{
    memset(res, 0, sizeof *res);
    int rc = check_options(m, opt, err);
    if (rc)
        return rc;
    search s;
    memset(&s, 0, sizeof s);
    s.m = m;
    s.opt = opt;
    s.V = m->cfg.vocab;
    s.max_bytes = opt->max_bytes ? opt->max_bytes : DRNN_SEARCH_BYTES;
    s.floor = res->floor = -INFINITY;
    int32_t root = plant_root(&s);
    rc = drnn_stepper_new(&s.stepper, m, err);
    if (rc)
        return rc;
    s.S = drnn_stepper_state_size(s.stepper);
    s.batch = malloc(SEARCH_BATCH * sizeof *s.batch);
    s.again = malloc(SEARCH_BATCH * sizeof *s.again);
    s.from = malloc(SEARCH_BATCH * sizeof *s.from);
    s.in = malloc(SEARCH_BATCH * sizeof *s.in);
    s.next = malloc(SEARCH_BATCH * s.S * sizeof *s.next);
    s.logits = malloc(SEARCH_BATCH * (size_t)s.V * sizeof *s.logits);
    /* The batch's buffers count against the bound like the rest. */
    s.bytes = s.peak_bytes = SEARCH_BATCH * (sizeof *s.batch + sizeof *s.again + sizeof *s.from +
                                            sizeof *s.in + (s.S + (size_t)s.V) * sizeof(drnn_real));
    s.probs = malloc((size_t)s.V * sizeof *s.probs);
    s.scores = malloc((size_t)s.V * sizeof *s.scores);
    s.top = malloc((size_t)opt->k * sizeof *s.top);
    res->names = malloc((size_t)opt->k * sizeof *res->names);
    if (!s.batch || !s.again || !s.from || !s.in || !s.next || !s.logits || !s.probs ||
        !s.scores || !s.top || !res->names)
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the search");
    else if (root < 0) /* nothing to search: say so at once */
        res->exact = res->unsatisfiable = 1;
    else
        run(&s, root, res);
    res->peak_bytes = s.peak_bytes;
    drnn_stepper_free(s.stepper);
    free(s.batch);
    free(s.again);
    free(s.from);
    free(s.in);
    free(s.next);
    free(s.logits);
    free(s.probs);
    free(s.scores);
    free(s.top);
    free_queue(&s);
    if (rc)
        drnn_search_result_free(res);
    return rc ? rc : drnn_ok(err);
}

void drnn_search_result_free(drnn_search_result *res)
{
    free(res->names);
    memset(res, 0, sizeof *res);
}
