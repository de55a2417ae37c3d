/* dinosaurus.c: the whole of dinornn's algorithm in one plain C11 file, for
 * reading. A character-level deep RNN (tanh RNN, LSTM or GRU, L layers)
 * learns dinosaur names and then invents new ones, as in deeplearning.ai's
 * numpy exercise "Dinosaurus Island", in the exercise's six steps:
 *
 *   1. load the data                  load_data
 *   2. initialise the parameters      init_params
 *   3. forward propagation            forward
 *   4. the cost                       cost
 *   5. backward propagation           backward (through time)
 *   6. update the parameters          clip, update
 *   then sample (new names) and main (the training loop).
 *
 * Each step says where the fast library (src/) does the same. The library
 * computes the same numbers (tests/check_dinosaurus.c compares the two,
 * gradient element by gradient element); it is faster because it packs many
 * names into matrix products, splits a mini-batch over threads and writes
 * its inner loops for SIMD. Here every loop is written out, in double.
 * docs/model.md has the equations; docs/worked-example.md runs them by hand.
 *
 * Only libc and libm: cc -std=c11 -O2 dinosaurus.c -lm -o dinosaurus
 * Run: ./dinosaurus [options] [FILE]   (FILE: data/dinos.txt by default;
 *      --help lists the options)
 *
 * Not here, on purpose: dropout (tests/check_gradcheck.c checks the
 * library's), validation, checkpoints, Unicode beyond decoding UTF-8. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LAYERS = 16, END = 0 };

typedef enum cell_kind { CELL_RNN, CELL_LSTM, CELL_GRU } cell_kind;

/* The names file as symbol indices. */
typedef struct dataset {
    int vocab;          /* V: distinct symbols + 1 (END) */
    uint32_t *symbol;   /* [V] the code point of each index; symbol[END] unused */
    int count;          /* names */
    int *start;         /* [count] where each name starts in tokens */
    int *length;        /* [count] its symbols, n */
    int *tokens;        /* every name's symbol indices, one name after another */
    int max_length;
} dataset;

typedef struct config {
    cell_kind cell;
    int V, H, L;        /* vocabulary, hidden units per layer, layers */
} config;

/* Views of one layer's tensors in a parameter buffer. */
typedef struct layer_params {
    double *W_x, *W_h, *b, *b_h;
} layer_params;

/* One contiguous buffer (weights, gradients or Adam's moments) and views of
 * its tensors. layer[0] is layer 1 of docs/model.md. */
typedef struct params {
    config cfg;
    size_t count;
    double *data;
    layer_params layer[MAX_LAYERS];
    double *W_y, *b_y;
} params;

/* What forward() keeps for backward() (the exercise's "caches"), and
 * backward's own results, for one name of T = n + 1 steps. Every array is
 * indexed by the step t = 1 .. T as in docs/model.md; row 0 of h and c is
 * the zero state h_0, c_0, row 0 of the others is unused. */
typedef struct trace {
    config cfg;
    int T;
    int *x, *y;                   /* [T+1] inputs END c1..cn, targets c1..cn END */
    double *xp[MAX_LAYERS];       /* [T+1][G*H] W_x in_t + b */
    double *hp[MAX_LAYERS];       /* [T+1][G*H] W_h h_{t-1} (+ b_h in the GRU's n block) */
    double *gate[MAX_LAYERS];     /* [T+1][G*H] the activated blocks (tanh RNN: h_t) */
    double *h[MAX_LAYERS];        /* [T+1][H] */
    double *c[MAX_LAYERS];        /* [T+1][H] the LSTM's cell state */
    double *z, *p;                /* [T+1][V] logits, probabilities */
    double *dz;                   /* [T+1][V] dloss/dz_t = p_t - onehot(y_t) */
    double *dh_above[MAX_LAYERS]; /* [T+1][H] the gradient reaching h_t from above */
    double *dh[MAX_LAYERS];       /* [T+1][H] the same plus the path through time */
    double *dc[MAX_LAYERS];       /* [T+1][H] LSTM: dloss/dc_t through c_{t+1} */
    double *dxp[MAX_LAYERS];      /* [T+1][G*H] dloss/dxp_t */
    double *dhp[MAX_LAYERS];      /* [T+1][G*H] dloss/dhp_t */
    double *dh_next, *dc_next;    /* [H] what step t + 1 sends back to step t */
    double *block;                /* the one allocation behind the arrays */
} trace;

typedef enum optimizer_kind { OPT_SGD, OPT_ADAM } optimizer_kind;
typedef enum clip_mode { CLIP_NORM, CLIP_VALUE } clip_mode;

typedef struct optimizer {
    optimizer_kind kind;
    double lr, beta1, beta2, eps;
    long step;                    /* updates made */
    params m, v;                  /* Adam's moments */
} optimizer;

/* splitmix64: a whole random generator in one 64-bit word. */
typedef struct rng {
    uint64_t state;
} rng;

typedef struct options {
    cell_kind cell;
    int layers, hidden, batch;
    long iterations, print_every;
    uint64_t seed;
    optimizer_kind optimizer;
    double lr, clip;
    clip_mode clip_mode;
    int samples;                  /* names printed each time */
} options;

/* The functions, in the order they come: declared here so that a test or
 * the worked example can #include this file with DINOSAURUS_NO_MAIN. */
uint64_t rng_next(rng *r);
double rng_uniform(rng *r);
int load_data(const char *path, dataset *d);
void free_data(dataset *d);
int gates_of(cell_kind cell);
size_t param_count(const config *cfg);
int params_alloc(params *p, const config *cfg);
void params_free(params *p);
void init_params(params *w, rng *r);
int trace_alloc(trace *tr, const config *cfg, int max_length);
void trace_free(trace *tr);
void rnn_step(int H, const double *xp, const double *hp, double *gate, double *h);
void lstm_step(int H, const double *xp, const double *hp, const double *c_prev, double *gate,
               double *h, double *c);
void gru_step(int H, const double *xp, const double *hp, const double *h_prev, double *gate,
              double *h);
void forward_step(const params *w, trace *tr, int t);
void forward(const params *w, const int *name, int n, trace *tr);
double softmax(const double *z, double *p, int V);
double cost(trace *tr);
void rnn_step_backward(int H, const double *dh, const double *h, double *dxp, double *dhp);
void lstm_step_backward(int H, const double *dh, double *dc, const double *gate,
                        const double *c_prev, const double *c, double *dxp, double *dhp);
void gru_step_backward(int H, const double *dh, const double *gate, const double *hp,
                       const double *h_prev, double *dxp, double *dhp, double *dh_direct);
void backward(const params *w, trace *tr, params *grad);
void clip(params *grad, clip_mode mode, double bound);
int optimizer_init(optimizer *opt, const config *cfg, optimizer_kind kind, double lr);
void optimizer_free(optimizer *opt);
void update(params *w, const params *grad, optimizer *opt);
int sample(const params *w, trace *tr, rng *r, int max_length, int *name);
void print_name(FILE *out, const dataset *d, const int *name, int n);
double train(const dataset *d, const options *o, FILE *out);

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 random bits. */
double rng_uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* ===== Step 1: load the data ==========================================
 * Reads one name per line, strips white space around it, lowercases ASCII
 * letters and gives each distinct symbol (a Unicode code point) an index,
 * in code-point order, after index 0 = END. END marks the end of a name and
 * is also the first input of every name: the exercise feeds a zero vector
 * first, but a one-hot END row is a learned "start" input, costs no special
 * case in the first layer, and is what the library does.
 * The library (src/names.c, drnn_names_scan; src/vocab.c, drnn_vocab_build)
 * also normalises Unicode (NFC, full lowercase), refuses control characters
 * and over-long names; lowercasing ASCII is enough for dinos.txt. */

/* The code point at s[*i] (UTF-8), moving *i past it; -1 if invalid. */
static long next_code_point(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[(*i)++];
    /* The lead byte says how many continuation bytes follow. */
    int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
             : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (more < 0)
        return -1;
    unsigned long cp = more ? c & (0x3fu >> more) : c;
    for (int k = 0; k < more; k++) {
        if (*i >= n || (s[*i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[(*i)++] & 0x3fu);
    }
    static const unsigned long least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1; /* overlong, beyond Unicode, or a surrogate */
    return (long)(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The file's bytes; NULL (with a message) on failure. */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) {
            unsigned char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger)
                free(buf);
            buf = bigger, cap *= 2;
        }
    if (!buf || ferror(f)) {
        fprintf(stderr, "%s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Splits text into names, their code points one name after another in
 * cps[], and fills d's start, length, count and max_length; -1 on a bad
 * line. */
static int split_names(const char *path, const unsigned char *text, size_t len, uint32_t *cps,
                       dataset *d)
{
    size_t i = 0, line = 0;
    int total = 0;
    while (i < len) {
        size_t b = i, e = i;
        while (e < len && text[e] != '\n')
            e++;
        i = e + 1;
        line++;
        while (b < e && is_space(text[b]))
            b++;
        while (e > b && is_space(text[e - 1]))
            e--;
        if (b == e)
            continue; /* a blank line is no name */
        d->start[d->count] = total;
        while (b < e) {
            long cp = next_code_point(text, e, &b);
            if (cp <= 0) {
                fprintf(stderr, "%s:%zu: invalid UTF-8 or a NUL byte\n", path, line);
                return -1;
            }
            cps[total++] = (uint32_t)cp;
        }
        d->length[d->count] = total - d->start[d->count];
        if (d->length[d->count] > d->max_length)
            d->max_length = d->length[d->count];
        d->count++;
    }
    if (d->count == 0)
        fprintf(stderr, "%s: no names\n", path);
    return d->count ? total : -1;
}

/* The vocabulary, the distinct code points of cps[0 .. total) in order
 * after END, and every name as indices into it; -1 if out of memory. */
static int build_vocabulary(const uint32_t *cps, int total, uint32_t *sorted, dataset *d)
{
    memcpy(sorted, cps, (size_t)total * sizeof *cps);
    qsort(sorted, (size_t)total, sizeof *sorted, compare_u32);
    int V = 1;
    for (int k = 0; k < total; k++)
        if (V == 1 || sorted[k] != sorted[V - 2])
            sorted[V++ - 1] = sorted[k];
    d->symbol = malloc((size_t)V * sizeof *d->symbol);
    d->tokens = malloc(((size_t)total + 1) * sizeof *d->tokens);
    if (!d->symbol || !d->tokens)
        return -1;
    d->vocab = V;
    d->symbol[END] = 0;
    memcpy(d->symbol + 1, sorted, (size_t)(V - 1) * sizeof *sorted);
    for (int k = 0; k < total; k++) {
        const uint32_t *at = bsearch(&cps[k], d->symbol + 1, (size_t)(V - 1), sizeof *at,
                                     compare_u32);
        d->tokens[k] = (int)(at - d->symbol);
    }
    return 0;
}

/* Reads a names file into d; 0, or -1 after a message. */
int load_data(const char *path, dataset *d)
{
    memset(d, 0, sizeof *d);
    size_t len;
    unsigned char *text = read_file(path, &len);
    if (!text)
        return -1;
    /* At most one symbol per byte and one name per two bytes (a symbol and
     * a line break). */
    uint32_t *cps = malloc((len + 1) * sizeof *cps), *sorted = malloc((len + 1) * sizeof *cps);
    d->start = malloc((len / 2 + 1) * sizeof *d->start);
    d->length = malloc((len / 2 + 1) * sizeof *d->length);
    int rc = -1;
    if (!cps || !sorted || !d->start || !d->length) {
        fprintf(stderr, "%s: out of memory\n", path);
    } else {
        int total = split_names(path, text, len, cps, d);
        if (total >= 0 && (rc = build_vocabulary(cps, total, sorted, d)))
            fprintf(stderr, "%s: out of memory\n", path);
    }
    free(text), free(cps), free(sorted);
    if (rc)
        free_data(d);
    return rc;
}

void free_data(dataset *d)
{
    free(d->symbol), free(d->start), free(d->length), free(d->tokens);
    memset(d, 0, sizeof *d);
}

/* ===== Step 2: initialise the parameters ==============================
 * All parameters in one buffer, in the library's layout (docs/model.md,
 * "Parameter layout"; src/params.c, drnn_params_bind): for each layer W_x
 * (layer 1: V rows of G*H, row v is column v of the input matrix, so the
 * one-hot input is a row lookup; above: G*H rows of H), W_h (G*H x H),
 * b (G*H), b_h (the GRU's hidden-side bias, H; absent for the others),
 * then W_y (V x H), b_y (V). G, the cell's gate blocks: 1, 4 or 3.
 * Every value uniform in [-1/sqrt(H), 1/sqrt(H)] as PyTorch starts, but for
 * the LSTM's forget-gate bias: 1, so that the cell state flows at first
 * (src/params.c, drnn_params_init; the library draws from its own
 * generator, so the two start from different numbers of the same law).
 * The exercise draws the weights from a normal law of standard deviation
 * 0.01 and starts the biases at zero. */

int gates_of(cell_kind cell)
{
    return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
}

/* The hidden-side bias blocks: 1 for the GRU. */
static int hbias_of(cell_kind cell)
{
    return cell == CELL_GRU;
}

size_t param_count(const config *cfg)
{
    size_t V = (size_t)cfg->V, H = (size_t)cfg->H, GH = (size_t)gates_of(cfg->cell) * H;
    size_t n = 0;
    for (int l = 0; l < cfg->L; l++)
        n += (l == 0 ? V : H) * GH + GH * H + GH + (size_t)hbias_of(cfg->cell) * H;
    return n + V * H + V;
}

/* A zeroed buffer and its views; -1 if out of memory. */
int params_alloc(params *p, const config *cfg)
{
    memset(p, 0, sizeof *p);
    size_t V = (size_t)cfg->V, H = (size_t)cfg->H, GH = (size_t)gates_of(cfg->cell) * H;
    p->cfg = *cfg;
    p->count = param_count(cfg);
    p->data = calloc(p->count, sizeof *p->data);
    if (!p->data)
        return -1;
    double *at = p->data;
    for (int l = 0; l < cfg->L; l++) {
        p->layer[l].W_x = at, at += (l == 0 ? V : H) * GH;
        p->layer[l].W_h = at, at += GH * H;
        p->layer[l].b = at, at += GH;
        p->layer[l].b_h = at, at += (size_t)hbias_of(cfg->cell) * H;
    }
    p->W_y = at, at += V * H;
    p->b_y = at;
    return 0;
}

void params_free(params *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

void init_params(params *w, rng *r)
{
    const double scale = 1 / sqrt((double)w->cfg.H);
    /* The tensors lie one after another in drawing order: one loop. */
    for (size_t i = 0; i < w->count; i++)
        w->data[i] = (2 * rng_uniform(r) - 1) * scale;
    if (w->cfg.cell == CELL_LSTM)
        for (int l = 0; l < w->cfg.L; l++)
            for (int k = 0; k < w->cfg.H; k++)
                w->layer[l].b[w->cfg.H + k] = 1; /* block f of i, f, g, o */
}

/* The i-th row of width `width` of an array. */
static double *row(double *a, int i, int width)
{
    return a + (size_t)i * (size_t)width;
}

int trace_alloc(trace *tr, const config *cfg, int max_length)
{
    memset(tr, 0, sizeof *tr);
    const size_t S = (size_t)max_length + 2, H = (size_t)cfg->H, V = (size_t)cfg->V;
    const size_t GH = (size_t)gates_of(cfg->cell) * H, L = (size_t)cfg->L;
    tr->cfg = *cfg;
    tr->x = malloc(2 * S * sizeof *tr->x);
    tr->block = calloc(L * S * (5 * GH + 5 * H) + 3 * S * V + 2 * H, sizeof *tr->block);
    if (!tr->x || !tr->block) {
        trace_free(tr);
        return -1;
    }
    tr->y = tr->x + S;
    double *at = tr->block;
    for (size_t l = 0; l < L; l++) {
        tr->xp[l] = at, at += S * GH;
        tr->hp[l] = at, at += S * GH;
        tr->gate[l] = at, at += S * GH;
        tr->dxp[l] = at, at += S * GH;
        tr->dhp[l] = at, at += S * GH;
        tr->h[l] = at, at += S * H;
        tr->c[l] = at, at += S * H;
        tr->dh_above[l] = at, at += S * H;
        tr->dh[l] = at, at += S * H;
        tr->dc[l] = at, at += S * H;
    }
    tr->z = at, at += S * V;
    tr->p = at, at += S * V;
    tr->dz = at, at += S * V;
    tr->dh_next = at, at += H;
    tr->dc_next = at;
    return 0;
}

void trace_free(trace *tr)
{
    free(tr->x);
    free(tr->block);
    memset(tr, 0, sizeof *tr);
}

/* ===== Step 3: forward propagation ====================================
 * Each layer l, at each step t, projects its input (layer 1: the symbol
 * x_t; above: h_t of the layer below) and its own last output h_{t-1}:
 *     xp_t = W_x in_t + b      hp_t = W_h h_{t-1}  (+ b_h, GRU)
 * and its cell turns them into h_t. Then z_t = W_y h_t^L + b_y.
 * The library (src/bptt.c, forward) runs each layer over every step of a
 * whole group of names before the next layer, as matrix products; the
 * cells' steps are src/cell_rnn.c rnn_forward, src/cell_lstm.c
 * lstm_forward, src/cell_gru.c gru_forward. One step through every layer
 * for generation is src/stepper.c, feed_net. */

static double sigmoid(double a)
{
    return 1 / (1 + exp(-a));
}

/* tanh RNN: h_t = tanh(xp + hp). */
void rnn_step(int H, const double *xp, const double *hp, double *gate, double *h)
{
    for (int k = 0; k < H; k++)
        gate[k] = h[k] = tanh(xp[k] + hp[k]);
}

/* LSTM, blocks i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t). */
void lstm_step(int H, const double *xp, const double *hp, const double *c_prev, double *gate,
               double *h, double *c)
{
    for (int k = 0; k < H; k++) {
        double i = sigmoid(xp[k] + hp[k]);
        double f = sigmoid(xp[H + k] + hp[H + k]);
        double g = tanh(xp[2 * H + k] + hp[2 * H + k]);
        double o = sigmoid(xp[3 * H + k] + hp[3 * H + k]);
        c[k] = f * c_prev[k] + i * g;
        h[k] = o * tanh(c[k]);
        gate[k] = i, gate[H + k] = f, gate[2 * H + k] = g, gate[3 * H + k] = o;
    }
}

/* GRU as PyTorch defines it, blocks r, z, n; hp's n block already holds
 * W_hn h_{t-1} + b_h, which the reset gate scales:
 * n = tanh(xp_n + r (W_hn h_{t-1} + b_h)), h_t = (1 - z) n + z h_{t-1}. */
void gru_step(int H, const double *xp, const double *hp, const double *h_prev, double *gate,
              double *h)
{
    for (int k = 0; k < H; k++) {
        double r = sigmoid(xp[k] + hp[k]);
        double z = sigmoid(xp[H + k] + hp[H + k]);
        double n = tanh(xp[2 * H + k] + r * hp[2 * H + k]);
        h[k] = (1 - z) * n + z * h_prev[k];
        gate[k] = r, gate[H + k] = z, gate[2 * H + k] = n;
    }
}

/* Step t of every layer, from the input tr->x[t], then the logits z_t. */
void forward_step(const params *w, trace *tr, int t)
{
    const int V = w->cfg.V, H = w->cfg.H, GH = gates_of(w->cfg.cell) * H;
    for (int l = 0; l < w->cfg.L; l++) {
        const layer_params *p = &w->layer[l];
        const double *in = l > 0 ? row(tr->h[l - 1], t, H) : NULL;
        const double *h_prev = row(tr->h[l], t - 1, H);
        double *xp = row(tr->xp[l], t, GH), *hp = row(tr->hp[l], t, GH);
        for (int j = 0; j < GH; j++) {
            double s = p->b[j];
            if (l == 0)
                s += p->W_x[(size_t)tr->x[t] * GH + j]; /* W_x times a one-hot: a row */
            else
                for (int k = 0; k < H; k++)
                    s += p->W_x[(size_t)j * H + k] * in[k];
            xp[j] = s;
            s = 0;
            for (int k = 0; k < H; k++)
                s += p->W_h[(size_t)j * H + k] * h_prev[k];
            if (w->cfg.cell == CELL_GRU && j >= 2 * H)
                s += p->b_h[j - 2 * H];
            hp[j] = s;
        }
        double *gate = row(tr->gate[l], t, GH), *h = row(tr->h[l], t, H);
        if (w->cfg.cell == CELL_RNN)
            rnn_step(H, xp, hp, gate, h);
        else if (w->cfg.cell == CELL_LSTM)
            lstm_step(H, xp, hp, row(tr->c[l], t - 1, H), gate, h, row(tr->c[l], t, H));
        else
            gru_step(H, xp, hp, h_prev, gate, h);
    }
    const double *top = row(tr->h[w->cfg.L - 1], t, H);
    double *z = row(tr->z, t, V);
    for (int v = 0; v < V; v++) {
        double s = w->b_y[v];
        for (int k = 0; k < H; k++)
            s += w->W_y[(size_t)v * H + k] * top[k];
        z[v] = s;
    }
}

/* One name c1 .. cn (n at most trace_alloc's max_length) from the zero state: inputs
 * END, c1 .. cn, targets c1 .. cn, END (T = n + 1 steps). No state is
 * carried from one name to the next. */
void forward(const params *w, const int *name, int n, trace *tr)
{
    const int H = w->cfg.H;
    tr->T = n + 1;
    for (int t = 1; t <= tr->T; t++) {
        tr->x[t] = t == 1 ? END : name[t - 2];
        tr->y[t] = t <= n ? name[t - 1] : END;
    }
    for (int l = 0; l < w->cfg.L; l++) {
        memset(tr->h[l], 0, (size_t)H * sizeof *tr->h[l]); /* h_0 = 0 */
        memset(tr->c[l], 0, (size_t)H * sizeof *tr->c[l]); /* c_0 = 0 */
    }
    for (int t = 1; t <= tr->T; t++)
        forward_step(w, tr, t);
}

/* ===== Step 4: the cost ===============================================
 * p_t = softmax(z_t) and loss = -sum_t log p_t[y_t], the sum over the
 * name's T steps (its end counts as a symbol to predict). The library
 * computes it at the end of src/bptt.c forward, with drnn_softmax. */

/* p = softmax(z); returns log sum_v exp(z_v), so that -log p[y] =
 * result - z[y] exactly, without the log of a rounded p. The largest logit
 * is subtracted first so that exp cannot overflow. */
double softmax(const double *z, double *p, int V)
{
    double zmax = z[0], sum = 0;
    for (int v = 1; v < V; v++)
        zmax = z[v] > zmax ? z[v] : zmax;
    for (int v = 0; v < V; v++)
        sum += p[v] = exp(z[v] - zmax);
    for (int v = 0; v < V; v++)
        p[v] /= sum;
    return zmax + log(sum);
}

double cost(trace *tr)
{
    const int V = tr->cfg.V;
    double loss = 0;
    for (int t = 1; t <= tr->T; t++) {
        double *z = row(tr->z, t, V);
        loss += softmax(z, row(tr->p, t, V), V) - z[tr->y[t]];
    }
    return loss;
}

/* ===== Step 5: backward propagation through time ======================
 * The gradient of the name's loss (the sum; step 6 averages) with respect
 * to every parameter, added to grad. The loss is a sum over time steps and
 * the same weights serve at every step, so each weight's gradient is a sum
 * over the steps: the `+=` inside the loops over t below.
 * The output layer first: dz_t = p_t - onehot(y_t). Then each layer from
 * the top down, t = T .. 1: the gradient reaching h_t is what came from
 * above plus what step t + 1 sent back (the path through time); the cell's
 * chain rule turns it into dxp_t and dhp_t, the gradients of its two
 * projections, from which the weights' gradients and what goes to h_{t-1}
 * and to the layer below follow.
 * The library: src/bptt.c, backward (backward_output, backward_recurrence,
 * backward_recurrent_weights, backward_input), where the sums over t are
 * matrix products over all steps at once; the cells' steps are
 * rnn_backward, lstm_backward, gru_backward in src/cell_*.c. */

/* h = tanh(a): da = dh (1 - h^2); both projections get it. */
void rnn_step_backward(int H, const double *dh, const double *h, double *dxp, double *dhp)
{
    for (int k = 0; k < H; k++)
        dxp[k] = dhp[k] = dh[k] * (1 - h[k] * h[k]);
}

/* dc enters holding dloss/dc_t through c_{t+1} and leaves holding
 * dloss/dc_{t-1}; xp and hp enter each gate the same way: dhp = dxp. */
void lstm_step_backward(int H, const double *dh, double *dc, const double *gate,
                        const double *c_prev, const double *c, double *dxp, double *dhp)
{
    for (int k = 0; k < H; k++) {
        double i = gate[k], f = gate[H + k], g = gate[2 * H + k], o = gate[3 * H + k];
        double tc = tanh(c[k]);
        double dct = dc[k] + dh[k] * o * (1 - tc * tc); /* both paths into c_t */
        dxp[k] = dct * g * i * (1 - i);
        dxp[H + k] = dct * c_prev[k] * f * (1 - f);
        dxp[2 * H + k] = dct * i * (1 - g * g);
        dxp[3 * H + k] = dh[k] * tc * o * (1 - o);
        dc[k] = dct * f;
    }
    memcpy(dhp, dxp, (size_t)(4 * H) * sizeof *dhp);
}

/* hp's n block (W_hn h_{t-1} + b_h) is scaled by r, so its gradient is
 * r times xp's; h_{t-1} also reaches h_t directly, through z: dh_direct. */
void gru_step_backward(int H, const double *dh, const double *gate, const double *hp,
                       const double *h_prev, double *dxp, double *dhp, double *dh_direct)
{
    for (int k = 0; k < H; k++) {
        double r = gate[k], z = gate[H + k], n = gate[2 * H + k];
        double da_n = dh[k] * (1 - z) * (1 - n * n);
        double da_z = dh[k] * (h_prev[k] - n) * z * (1 - z);
        double da_r = da_n * hp[2 * H + k] * r * (1 - r);
        dxp[k] = dhp[k] = da_r;
        dxp[H + k] = dhp[H + k] = da_z;
        dxp[2 * H + k] = da_n;
        dhp[2 * H + k] = da_n * r;
        dh_direct[k] = dh[k] * z;
    }
}

/* The output layer: dW_y, db_y and, in dh_above of the top layer, W_y^T dz_t. */
static void backward_output(const params *w, trace *tr, params *grad)
{
    const int V = w->cfg.V, H = w->cfg.H, top = w->cfg.L - 1;
    for (int t = tr->T; t >= 1; t--) {
        double *dz = row(tr->dz, t, V), *dh = row(tr->dh_above[top], t, H);
        const double *h = row(tr->h[top], t, H), *p = row(tr->p, t, V);
        for (int v = 0; v < V; v++)
            dz[v] = p[v] - (v == tr->y[t]);
        memset(dh, 0, (size_t)H * sizeof *dh);
        for (int v = 0; v < V; v++) {
            grad->b_y[v] += dz[v];
            for (int k = 0; k < H; k++) {
                grad->W_y[(size_t)v * H + k] += dz[v] * h[k];
                dh[k] += w->W_y[(size_t)v * H + k] * dz[v];
            }
        }
    }
}

/* Layer l, t = T .. 1: the cell's chain rule, then every weight's share of
 * step t, what goes back to step t - 1, and (l > 0) to the layer below. */
static void backward_layer(const params *w, trace *tr, params *grad, int l)
{
    const int H = w->cfg.H, GH = gates_of(w->cfg.cell) * H;
    const layer_params *p = &w->layer[l];
    layer_params *g = &grad->layer[l];
    memset(tr->dh_next, 0, (size_t)H * sizeof *tr->dh_next); /* nothing after step T */
    memset(tr->dc_next, 0, (size_t)H * sizeof *tr->dc_next);
    for (int t = tr->T; t >= 1; t--) {
        double *dh = row(tr->dh[l], t, H), *dxp = row(tr->dxp[l], t, GH);
        double *dhp = row(tr->dhp[l], t, GH);
        const double *h_prev = row(tr->h[l], t - 1, H), *above = row(tr->dh_above[l], t, H);
        const double *gate = row(tr->gate[l], t, GH);
        for (int k = 0; k < H; k++)
            dh[k] = above[k] + tr->dh_next[k]; /* from above + through time */
        memset(tr->dh_next, 0, (size_t)H * sizeof *tr->dh_next);
        if (w->cfg.cell == CELL_RNN) {
            rnn_step_backward(H, dh, row(tr->h[l], t, H), dxp, dhp);
        } else if (w->cfg.cell == CELL_LSTM) {
            memcpy(row(tr->dc[l], t, H), tr->dc_next, (size_t)H * sizeof *tr->dc_next);
            lstm_step_backward(H, dh, tr->dc_next, gate, row(tr->c[l], t - 1, H),
                               row(tr->c[l], t, H), dxp, dhp);
        } else {
            gru_step_backward(H, dh, gate, row(tr->hp[l], t, GH), h_prev, dxp, dhp,
                              tr->dh_next);
        }
        /* The weights are shared across time: each step adds its share. */
        const double *in = l > 0 ? row(tr->h[l - 1], t, H) : NULL;
        double *below = l > 0 ? row(tr->dh_above[l - 1], t, H) : NULL;
        if (below)
            memset(below, 0, (size_t)H * sizeof *below);
        for (int j = 0; j < GH; j++) {
            g->b[j] += dxp[j];
            if (w->cfg.cell == CELL_GRU && j >= 2 * H)
                g->b_h[j - 2 * H] += dhp[j];
            for (int k = 0; k < H; k++) {
                g->W_h[(size_t)j * H + k] += dhp[j] * h_prev[k]; /* adds 0 at t = 1 */
                tr->dh_next[k] += p->W_h[(size_t)j * H + k] * dhp[j];
            }
            if (l == 0) {
                g->W_x[(size_t)tr->x[t] * GH + j] += dxp[j]; /* the row the input read */
                continue;
            }
            for (int k = 0; k < H; k++) {
                g->W_x[(size_t)j * H + k] += dxp[j] * in[k];
                below[k] += p->W_x[(size_t)j * H + k] * dxp[j];
            }
        }
    }
}

void backward(const params *w, trace *tr, params *grad)
{
    backward_output(w, tr, grad);
    for (int l = w->cfg.L - 1; l >= 0; l--)
        backward_layer(w, tr, grad, l);
}

/* ===== Step 6: update the parameters ==================================
 * The step's gradient is the mean per predicted symbol over the mini-batch
 * (train below divides the sum by the symbols), then clipped, then the
 * update. (The exercise clips the gradient of a name's sum, which the same
 * bound cuts harder the longer the name.) The library: the mean in src/trainer.c, train_step, with the
 * squared norm from src/reduce.c, drnn_reducer_sum; clipping and the
 * update in src/optim.c, drnn_clip_gradient and drnn_optimizer_step (which
 * also has momentum, Adagrad and weight decay, left out here). */

/* By global norm, as the library does by default (g *= bound / |g| when
 * |g| > bound: the direction is kept), or element by element into
 * [-bound, bound], as the exercise does. */
void clip(params *grad, clip_mode mode, double bound)
{
    double norm2 = 0;
    for (size_t i = 0; i < grad->count; i++)
        norm2 += grad->data[i] * grad->data[i];
    for (size_t i = 0; i < grad->count; i++) {
        double *g = &grad->data[i];
        if (mode == CLIP_NORM && norm2 > bound * bound)
            *g *= bound / sqrt(norm2);
        else if (mode == CLIP_VALUE)
            *g = *g > bound ? bound : *g < -bound ? -bound : *g;
    }
}

int optimizer_init(optimizer *opt, const config *cfg, optimizer_kind kind, double lr)
{
    memset(opt, 0, sizeof *opt);
    *opt = (optimizer){.kind = kind, .lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (kind == OPT_SGD)
        return 0;
    if (params_alloc(&opt->m, cfg) || params_alloc(&opt->v, cfg)) {
        optimizer_free(opt);
        return -1;
    }
    return 0;
}

void optimizer_free(optimizer *opt)
{
    params_free(&opt->m);
    params_free(&opt->v);
}

/* SGD: w -= lr g. Adam: running means of g and g^2, corrected for their
 * start at zero, and w -= lr m_hat / (sqrt(v_hat) + eps). */
void update(params *w, const params *grad, optimizer *opt)
{
    opt->step++;
    const double c1 = 1 / (1 - pow(opt->beta1, (double)opt->step));
    const double c2 = 1 / (1 - pow(opt->beta2, (double)opt->step));
    for (size_t i = 0; i < w->count; i++) {
        const double g = grad->data[i];
        if (opt->kind == OPT_SGD) {
            w->data[i] -= opt->lr * g;
            continue;
        }
        double *m = &opt->m.data[i], *v = &opt->v.data[i];
        *m = opt->beta1 * *m + (1 - opt->beta1) * g;
        *v = opt->beta2 * *v + (1 - opt->beta2) * g * g;
        w->data[i] -= opt->lr * (*m * c1) / (sqrt(*v * c2) + opt->eps);
    }
}

/* ===== Sampling =======================================================
 * Feeds END, then draws each symbol from p_t and feeds it back, until END
 * or max_length symbols; END is not drawn first (no empty names). Writes
 * the name to name[] and returns its length. The trace must hold
 * max_length steps. The library: src/stepper.c (drnn_stepper_feed) and
 * src/sample.c (drnn_sample_logits, with temperature and top-k). */
int sample(const params *w, trace *tr, rng *r, int max_length, int *name)
{
    const int V = w->cfg.V, H = w->cfg.H;
    for (int l = 0; l < w->cfg.L; l++) {
        memset(tr->h[l], 0, (size_t)H * sizeof *tr->h[l]);
        memset(tr->c[l], 0, (size_t)H * sizeof *tr->c[l]);
    }
    int n = 0;
    tr->x[1] = END;
    for (int t = 1; n < max_length; t++) {
        forward_step(w, tr, t);
        double *p = row(tr->p, t, V);
        softmax(row(tr->z, t, V), p, V);
        const int first = n == 0; /* skip END */
        double total = 0, u, sum = 0;
        for (int v = first; v < V; v++)
            total += p[v];
        u = rng_uniform(r) * total;
        int v = first;
        while (v < V - 1 && (sum += p[v]) <= u)
            v++;
        if (v == END)
            break;
        name[n++] = tr->x[t + 1] = v;
    }
    return n;
}

/* As the exercise prints them: the first letter capitalised. */
void print_name(FILE *out, const dataset *d, const int *name, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t c = d->symbol[name[i]];
        if (i == 0 && c >= 'a' && c <= 'z')
            c -= 'a' - 'A';
        if (c < 0x80)
            fputc((int)c, out);
        else if (c < 0x800)
            fprintf(out, "%c%c", 0xc0 | c >> 6, 0x80 | (c & 0x3f));
        else if (c < 0x10000)
            fprintf(out, "%c%c%c", 0xe0 | c >> 12, 0x80 | (c >> 6 & 0x3f), 0x80 | (c & 0x3f));
        else
            fprintf(out, "%c%c%c%c", 0xf0 | c >> 18, 0x80 | (c >> 12 & 0x3f),
                    0x80 | (c >> 6 & 0x3f), 0x80 | (c & 0x3f));
    }
    fputc('\n', out);
}

/* ===== The training loop ==============================================
 * Each iteration takes the next o->batch names of a shuffled order (a new
 * shuffle each pass, as the library's epochs; the exercise shuffles once),
 * runs steps 3 to 5 on each, adding their gradients, and divides the sum
 * by the symbols predicted: the gradient of the mean loss per symbol, as
 * the library's (src/trainer.c, train_step). The exercise uses the sum
 * over one name: then a long name takes a larger step than a short one,
 * and the learning rate would have to change with the batch size. Every
 * o->print_every iterations (and at the first) it prints the mean loss per
 * symbol since the last print (the exercise prints a smoothed sum per
 * name, about 7 times larger on dinos.txt) and o->samples sampled names.
 * Returns the last printed loss, NAN if out of memory. */
double train(const dataset *d, const options *o, FILE *out)
{
    enum { SAMPLE_MAX = 50 };
    const config cfg = {o->cell, d->vocab, o->hidden, o->layers};
    params w, grad;
    trace tr;
    optimizer opt;
    rng r = {o->seed};
    int *order = malloc((size_t)d->count * sizeof *order);
    int *name = malloc(SAMPLE_MAX * sizeof *name);
    int failed = params_alloc(&w, &cfg) | params_alloc(&grad, &cfg) | !order | !name;
    failed |= trace_alloc(&tr, &cfg, d->max_length > SAMPLE_MAX ? d->max_length : SAMPLE_MAX);
    failed |= optimizer_init(&opt, &cfg, o->optimizer, o->lr);
    double last = NAN, loss_sum = 0;
    long chars_sum = 0;
    if (!failed)
        init_params(&w, &r);
    for (long it = 0, pos = d->count; !failed && it < o->iterations; it++) {
        memset(grad.data, 0, grad.count * sizeof *grad.data);
        long chars = 0;
        for (int j = 0; j < o->batch; j++, pos++) {
            if (pos == d->count) { /* a new pass: a Fisher-Yates shuffle */
                for (int i = 0; i < d->count; i++)
                    order[i] = i;
                for (int i = d->count - 1; i > 0; i--) {
                    int k = (int)(rng_uniform(&r) * (i + 1)), tmp = order[i];
                    order[i] = order[k], order[k] = tmp;
                }
                pos = 0;
            }
            const int n = d->length[order[pos]];
            forward(&w, d->tokens + d->start[order[pos]], n, &tr);
            loss_sum += cost(&tr);
            backward(&w, &tr, &grad);
            chars += n + 1;
        }
        for (size_t i = 0; i < grad.count; i++)
            grad.data[i] /= (double)chars;
        chars_sum += chars;
        clip(&grad, o->clip_mode, o->clip);
        update(&w, &grad, &opt);
        if (it % o->print_every == 0 || it == o->iterations - 1) {
            last = loss_sum / (double)chars_sum;
            loss_sum = 0, chars_sum = 0;
            if (out)
                fprintf(out, "Iteration: %ld, Loss: %f\n\n", it, last);
            for (int s = 0; out && s < o->samples; s++)
                print_name(out, d, name, sample(&w, &tr, &r, SAMPLE_MAX, name));
            if (out)
                fputc('\n', out);
        }
    }
    if (failed)
        fprintf(stderr, "dinosaurus: out of memory\n");
    optimizer_free(&opt), trace_free(&tr), params_free(&grad), params_free(&w);
    free(order), free(name);
    return failed ? NAN : last;
}

#ifndef DINOSAURUS_NO_MAIN
static const char usage[] =
    "usage: dinosaurus [options] [FILE]   (FILE: data/dinos.txt)\n"
    "  --cell rnn|lstm|gru      the recurrent cell (rnn)\n"
    "  --layers N               layers, 1..16 (1)\n"
    "  --hidden N               hidden units per layer, 1..4096 (50)\n"
    "  --iterations N           updates (35000; a loss and names every 2000)\n"
    "  --batch N                names per update, 1..1024 (1)\n"
    "  --optimizer adam|sgd     (adam)\n"
    "  --lr X                   learning rate (adam 0.003, sgd 0.1)\n"
    "  --clip-mode norm|value   clip at 5 the global norm, or each value (norm)\n"
    "  --seed N                 the seed of the weights, the order and the samples (0)\n";

/* The index of s in the NULL-terminated list, or -1 after the usage. */
static int parse_choice(const char *s, const char *const *choices)
{
    for (int i = 0; s && choices[i]; i++)
        if (!strcmp(s, choices[i]))
            return i;
    fprintf(stderr, "dinosaurus: bad or missing choice '%s'\n%s", s ? s : "", usage);
    return -1;
}

/* A number in [lo, hi] (a whole number if integer) into *out, or -1 after
 * the usage. */
static int parse_number(const char *s, double lo, double hi, int integer, double *out)
{
    char *end;
    double x = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || !(x >= lo && x <= hi) || (integer && x != floor(x))) {
        fprintf(stderr, "dinosaurus: bad or missing number '%s'\n%s", s ? s : "", usage);
        return -1;
    }
    *out = x;
    return 0;
}

/* 0, 1 for --help, or -1 after the usage. */
static int parse_options(int argc, char **argv, options *o, const char **path)
{
    static const char *const cells[] = {"rnn", "lstm", "gru", NULL};
    static const char *const optimizers[] = {"sgd", "adam", NULL};
    static const char *const clip_modes[] = {"norm", "value", NULL};
    *o = (options){.cell = CELL_RNN, .layers = 1, .hidden = 50, .batch = 1, .iterations = 35000,
                   .print_every = 2000, .optimizer = OPT_ADAM, .clip = 5, .clip_mode = CLIP_NORM,
                   .samples = 7};
    *path = "data/dinos.txt";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        int k;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (a[0] != '-' && i == argc - 1) {
            *path = a;
            break;
        }
        /* The lists are in the order of the enums. */
        if (!strcmp(a, "--cell"))
            k = parse_choice(v, cells), o->cell = (cell_kind)k;
        else if (!strcmp(a, "--optimizer"))
            k = parse_choice(v, optimizers), o->optimizer = (optimizer_kind)k;
        else if (!strcmp(a, "--clip-mode"))
            k = parse_choice(v, clip_modes), o->clip_mode = (clip_mode)k;
        else if (!strcmp(a, "--layers"))
            k = parse_number(v, 1, MAX_LAYERS, 1, &x), o->layers = (int)x;
        else if (!strcmp(a, "--hidden"))
            k = parse_number(v, 1, 4096, 1, &x), o->hidden = (int)x;
        else if (!strcmp(a, "--iterations"))
            k = parse_number(v, 1, 1e9, 1, &x), o->iterations = (long)x;
        else if (!strcmp(a, "--batch"))
            k = parse_number(v, 1, 1024, 1, &x), o->batch = (int)x;
        else if (!strcmp(a, "--lr"))
            k = parse_number(v, 1e-12, 100, 0, &x), o->lr = x;
        else if (!strcmp(a, "--seed"))
            k = parse_number(v, 0, 0x1p53, 1, &x), o->seed = (uint64_t)x;
        else
            k = -1, fprintf(stderr, "dinosaurus: '%s' is no option (FILE comes last)\n%s", a,
                            usage);
        if (k < 0)
            return -1;
        i++; /* the option's value */
    }
    if (o->lr == 0)
        o->lr = o->optimizer == OPT_ADAM ? 0.003 : 0.1;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const cell_names[] = {"tanh RNN", "LSTM", "GRU"};
    options o;
    const char *path;
    dataset d;
    int rc = parse_options(argc, argv, &o, &path);
    if (rc)
        fputs(rc > 0 ? usage : "", stdout);
    if (rc || load_data(path, &d))
        return rc > 0 ? 0 : 2;
    printf("%d names, %d symbols and END; %s, %d layer(s) of %d, %s, lr %g, batch %d\n\n",
           d.count, d.vocab - 1, cell_names[o.cell], o.layers, o.hidden,
           o.optimizer == OPT_ADAM ? "Adam" : "SGD", o.lr, o.batch);
    double loss = train(&d, &o, stdout);
    free_data(&d);
    return isnan(loss) ? 1 : 0;
}
#endif
