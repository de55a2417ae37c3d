/* dinosaurus.c: the whole of dinornn's algorithm in one plain C11 file, for
 * reading top to bottom. A character-level deep RNN (tanh RNN, LSTM or GRU,
 * L layers) learns dinosaur names and invents new ones, as in
 * deeplearning.ai's numpy exercise "Dinosaurus Island", in its six steps:
 *
 *   1. load the data                  load_data
 *   2. initialise the parameters      init_params
 *   3. forward propagation            forward: rnn_step, lstm_step, gru_step
 *   4. the cost                       cost
 *   5. backward propagation           backward: rnn_step_backward, ...
 *   6. update the parameters          clip, update
 *   then sample (new names), train (the loop) and main.
 *
 * The notation is the legend of docs/model.md: s_t and y_t the symbol read
 * and the symbol to predict at step t, in_t a layer's input, a_t and u_t the
 * input and recurrent projections, gates i f g o (LSTM) and r z n (GRU), c_t
 * the LSTM's cell state, q_t the logits, p_t the probabilities; dX (d X
 * there) the gradient of the loss with respect to X, e_k that of gate k's
 * pre-activation, carry the LSTM's dc, dh_next the GRU's direct path to
 * h_{t-1}. Layers count from 0 here, from 1 in docs/model.md.
 *
 * Each step says where the fast library (src/) does the same. It computes
 * the same numbers (tests/check_dinosaurus.c compares every gradient
 * element), faster: it packs names into matrix products, splits a batch
 * over threads, writes its loops for SIMD. Here every loop is written out,
 * in double; docs/worked-example.md prints their numbers for two units.
 *
 * Only libc and libm: cc -std=c11 -O2 dinosaurus.c -lm -o dinosaurus
 * Run: ./dinosaurus [options] [FILE]   (data/dinos.txt by default; --help)
 * Not here, on purpose: dropout, validation, checkpoints, Unicode (this
 * file reads ASCII; dinornn-train reads names in any script). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LAYERS = 16, END = 0 };

/* calloc, or the end of the program when memory runs out. */
static void *zalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "dinosaurus: out of memory\n");
        exit(1);
    }
    return p;
}

static void zero(double *x, size_t n)
{
    memset(x, 0, n * sizeof *x);
}

/* Uniform in [0, 1), 53 random bits, from splitmix64: a whole random
 * generator in one 64-bit word, its state. */
static double rng_uniform(uint64_t *state)
{
    uint64_t x = (*state += 0x9e3779b97f4a7c15u);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return (double)((x ^ (x >> 31)) >> 11) * 0x1.0p-53;
}

/* ===== Step 1: load the data ==========================================
 * One name per line, the white space around it stripped, lowercased; each
 * distinct character gets an index, in ASCII order, after index 0 = END.
 * END marks the end of a name and is also the first input of every name
 * (forward() lays out the shift: docs/model.md, "Framing a name"). The
 * exercise feeds a zero vector first; a one-hot END is a learned "start"
 * input that costs no special case, and is what the library does.
 * The library (src/names.c, drnn_names_scan; src/vocab.c, drnn_vocab_build)
 * reads UTF-8 in any script and normalises it (NFC, full lowercase); this
 * file refuses any byte that is not printable ASCII. */
typedef struct dataset {
    int vocab;          /* V: distinct symbols + 1 (END) */
    char symbol[128];   /* the character of each index; symbol[END] unused */
    int count;          /* names */
    int *start;         /* [count] where each name starts in tokens */
    int *length;        /* [count] its symbols, n */
    int *tokens;        /* every name's symbol indices, one name after another */
    int max_length;
} dataset;

static void free_data(dataset *d)
{
    free(d->start), free(d->length), free(d->tokens);
    memset(d, 0, sizeof *d);
}

/* Splits the file's bytes into names and numbers their symbols; -1 after
 * a message. */
static int split_names(const char *path, const unsigned char *text, size_t len, dataset *d)
{
    int index[128] = {0}, total = 0; /* a character's symbol index */
    size_t line = 0;
    for (size_t i = 0; i < len;) {
        size_t b = i, e = i;
        while (e < len && text[e] != '\n')
            e++;
        i = e + 1, line++;
        while (b < e && isspace(text[b]))
            b++;
        while (e > b && isspace(text[e - 1]))
            e--;
        if (b == e)
            continue; /* a blank line is no name */
        d->start[d->count] = total;
        for (; b < e; b++) {
            if (text[b] > 127 || !isprint(text[b])) {
                fprintf(stderr, "%s:%zu: byte 0x%02x is not printable ASCII; this example reads "
                        "ASCII only (dinornn-train reads names in any script)\n", path, line,
                        text[b]);
                return -1;
            }
            d->tokens[total++] = tolower(text[b]); /* numbered below */
            index[tolower(text[b])] = 1;
        }
        d->length[d->count] = total - d->start[d->count];
        if (d->length[d->count] > d->max_length)
            d->max_length = d->length[d->count];
        d->count++;
    }
    if (d->count == 0) {
        fprintf(stderr, "%s: no names\n", path);
        return -1;
    }
    d->vocab = 1;
    for (int ch = 1; ch < 128; ch++)
        if (index[ch])
            d->symbol[d->vocab] = (char)ch, index[ch] = d->vocab++;
    for (int k = 0; k < total; k++)
        d->tokens[k] = index[d->tokens[k]];
    return 0;
}

/* Reads a names file into d; 0, or -1 after a message. */
static int load_data(const char *path, dataset *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    long len = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
    if (len < 0) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    rewind(f);
    unsigned char *text = zalloc((size_t)len, 1);
    /* At most one symbol per byte, one name per two bytes (with its '\n'). */
    d->tokens = zalloc((size_t)len, sizeof *d->tokens);
    d->start = zalloc((size_t)len / 2 + 1, sizeof *d->start);
    d->length = zalloc((size_t)len / 2 + 1, sizeof *d->length);
    int rc = -1;
    if (fread(text, 1, (size_t)len, f) != (size_t)len)
        fprintf(stderr, "%s: read error\n", path);
    else
        rc = split_names(path, text, (size_t)len, d);
    fclose(f);
    free(text);
    if (rc)
        free_data(d);
    return rc;
}

/* ===== Step 2: initialise the parameters ==============================
 * All parameters in one buffer, in the library's layout (docs/model.md,
 * "Parameter layout"; src/params.c, drnn_params_bind): for each layer W_x
 * (layer 0: V rows of G*H, row v is column v of the input matrix, so the
 * one-hot input is a row lookup; above: G*H rows of H), W_h (G*H x H),
 * b (G*H), b_h (the GRU's hidden-side bias, H; absent for the others),
 * then W_y (V x H), b_y (V). G, the cell's gate blocks: 1, 4 or 3.
 * Every value uniform in [-1/sqrt(H), 1/sqrt(H)] as PyTorch starts, but
 * the LSTM's forget-gate bias: 1, so that the cell state flows at first
 * (src/params.c, drnn_params_init, from the library's own generator). The
 * exercise draws weights of standard deviation 0.01 and zero biases. */
typedef enum cell_kind { CELL_RNN, CELL_LSTM, CELL_GRU } cell_kind;

typedef struct config {
    cell_kind cell;
    int V, H, L;        /* vocabulary, hidden units per layer, layers */
} config;

/* Views of one layer's tensors in a parameter buffer. */
typedef struct layer_params {
    double *W_x, *W_h, *b, *b_h;
} layer_params;

/* One buffer (the weights, or their gradients) and views of its tensors. */
typedef struct params {
    config cfg;
    size_t count;
    double *data;
    layer_params layer[MAX_LAYERS];
    double *W_y, *b_y;
} params;

static int gates_of(cell_kind cell)
{
    return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
}

/* A zeroed buffer and its views. */
static void params_alloc(params *p, const config *cfg)
{
    const size_t V = (size_t)cfg->V, H = (size_t)cfg->H, GH = (size_t)gates_of(cfg->cell) * H;
    const size_t hbias = cfg->cell == CELL_GRU ? H : 0;
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    for (int l = 0; l < cfg->L; l++)
        p->count += (l == 0 ? V : H) * GH + GH * H + GH + hbias;
    p->count += V * H + V;
    double *at = p->data = zalloc(p->count, sizeof *p->data);
    for (int l = 0; l < cfg->L; l++) {
        p->layer[l].W_x = at, at += (l == 0 ? V : H) * GH;
        p->layer[l].W_h = at, at += GH * H;
        p->layer[l].b = at, at += GH;
        p->layer[l].b_h = at, at += hbias;
    }
    p->W_y = at, at += V * H;
    p->b_y = at;
}

static void params_free(params *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

static void init_params(params *w, uint64_t *rng)
{
    const double scale = 1 / sqrt((double)w->cfg.H);
    /* The tensors lie one after another in drawing order: one loop. */
    for (size_t i = 0; i < w->count; i++)
        w->data[i] = (2 * rng_uniform(rng) - 1) * scale;
    if (w->cfg.cell == CELL_LSTM)
        for (int l = 0; l < w->cfg.L; l++)
            for (int k = 0; k < w->cfg.H; k++)
                w->layer[l].b[w->cfg.H + k] = 1; /* block f of i, f, g, o */
}

/* ===== Step 3: forward propagation ====================================
 * docs/model.md, "The forward pass". Each layer, at each step t, projects
 * its input in_t (layer 0: the one-hot of s_t; above: h_t of the layer
 * below) and its own last output h_{t-1}:
 *     a_t = W_x in_t + b      u_t = W_h h_{t-1}  (+ b_h on the GRU's n block)
 * and its cell turns them into h_t. On top, q_t = W_y h_t + b_y.
 * The library (src/bptt.c, forward) runs each layer over every step of a
 * group of names before the next layer, as matrix products; the cells'
 * steps are rnn_forward, lstm_forward, gru_forward in src/cell_*.c. One
 * step through every layer, for generation, is src/stepper.c, feed_net.
 *
 * The trace keeps forward's values for backward (the exercise's "caches"),
 * and backward's, for one name of T = n + 1 steps: row t (= 1 .. T) of an
 * array of width w starts at t * w; row 0 of h and c is h_0 = c_0 = 0. */
typedef struct trace {
    config cfg;
    int T;
    int *s, *y;                   /* symbols read END c1..cn, to predict c1..cn END */
    double *a[MAX_LAYERS];        /* [G*H] a_t = W_x in_t + b */
    double *u[MAX_LAYERS];        /* [G*H] u_t = W_h h_{t-1} (+ b_h on the GRU's n block) */
    double *gate[MAX_LAYERS];     /* [G*H] the activated gates (i f g o, r z n) */
    double *h[MAX_LAYERS];        /* [H] h_t */
    double *c[MAX_LAYERS];        /* [H] c_t, the LSTM's cell state */
    double *q, *p, *dq;           /* [V] logits q_t, p_t = softmax(q_t), dq_t */
    double *dh_up[MAX_LAYERS];    /* [H] dh_t from above (W_y^T dq_t, or the layer above) */
    double *dh[MAX_LAYERS];       /* [H] dh_t: from above and from step t + 1 */
    double *dh_next[MAX_LAYERS];  /* [H] GRU: what step t + 1 sends to h_t directly */
    double *carry[MAX_LAYERS];    /* [H] LSTM: dc_t from step t + 1 */
    double *da[MAX_LAYERS];       /* [G*H] da_t */
    double *du[MAX_LAYERS];       /* [G*H] du_t; row T + 1 is zero */
    double *block;                /* the one allocation behind the arrays */
} trace;

/* A trace for names of up to max_length symbols. */
static void trace_alloc(trace *tr, const config *cfg, int max_length)
{
    const size_t S = (size_t)max_length + 3, H = (size_t)cfg->H, V = (size_t)cfg->V;
    const size_t GH = (size_t)gates_of(cfg->cell) * H;
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->s = zalloc(2 * S, sizeof *tr->s);
    tr->y = tr->s + S;
    double *at = tr->block = zalloc((size_t)cfg->L * S * (5 * GH + 6 * H) + 3 * S * V, sizeof *at);
    for (int l = 0; l < cfg->L; l++) {
        double **wide[] = {&tr->a[l], &tr->u[l], &tr->gate[l], &tr->da[l], &tr->du[l]};
        double **narrow[] = {&tr->h[l], &tr->c[l], &tr->dh_up[l], &tr->dh[l], &tr->dh_next[l],
                             &tr->carry[l]};
        for (int k = 0; k < 5; k++)
            *wide[k] = at, at += S * GH;
        for (int k = 0; k < 6; k++)
            *narrow[k] = at, at += S * H;
    }
    tr->q = at, tr->p = at + S * V, tr->dq = at + 2 * S * V;
}

static void trace_free(trace *tr)
{
    free(tr->s), free(tr->block);
    memset(tr, 0, sizeof *tr);
}

/* The i-th row of width `width` of an array. */
static double *row(double *array, int i, int width)
{
    return array + (size_t)i * (size_t)width;
}

static double sigmoid(double x)
{
    return 1 / (1 + exp(-x));
}

/* tanh RNN: h_t = tanh(a_t + u_t). */
static void rnn_step(int H, const double *a, const double *u, double *h)
{
    for (int k = 0; k < H; k++)
        h[k] = tanh(a[k] + u[k]);
}

/* LSTM, blocks i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t). */
static void lstm_step(int H, const double *a, const double *u, const double *c_prev,
                      double *gate, double *h, double *c)
{
    for (int k = 0; k < H; k++) {
        double i = sigmoid(a[k] + u[k]);
        double f = sigmoid(a[H + k] + u[H + k]);
        double g = tanh(a[2 * H + k] + u[2 * H + k]);
        double o = sigmoid(a[3 * H + k] + u[3 * H + k]);
        c[k] = f * c_prev[k] + i * g;
        h[k] = o * tanh(c[k]);
        gate[k] = i, gate[H + k] = f, gate[2 * H + k] = g, gate[3 * H + k] = o;
    }
}

/* GRU as PyTorch defines it, blocks r, z, n; u_n already holds
 * W_hn h_{t-1} + b_h, which the reset gate scales:
 * n = tanh(a_n + r u_n), h_t = (1 - z) n + z h_{t-1}. */
static void gru_step(int H, const double *a, const double *u, const double *h_prev,
                     double *gate, double *h)
{
    for (int k = 0; k < H; k++) {
        double r = sigmoid(a[k] + u[k]);
        double z = sigmoid(a[H + k] + u[H + k]);
        double n = tanh(a[2 * H + k] + r * u[2 * H + k]);
        h[k] = (1 - z) * n + z * h_prev[k];
        gate[k] = r, gate[H + k] = z, gate[2 * H + k] = n;
    }
}

/* Step t of every layer, from the symbol tr->s[t], then the logits q_t. */
static void forward_step(const params *w, trace *tr, int t)
{
    const int V = w->cfg.V, H = w->cfg.H, GH = gates_of(w->cfg.cell) * H;
    for (int l = 0; l < w->cfg.L; l++) {
        const layer_params *p = &w->layer[l];
        const double *in = l > 0 ? row(tr->h[l - 1], t, H) : NULL;
        const double *h_prev = row(tr->h[l], t - 1, H);
        double *a = row(tr->a[l], t, GH), *u = row(tr->u[l], t, GH), *h = row(tr->h[l], t, H);
        for (int j = 0; j < GH; j++) {
            a[j] = p->b[j];
            if (l == 0)
                a[j] += p->W_x[(size_t)tr->s[t] * GH + j]; /* W_x times a one-hot: a row */
            else
                for (int k = 0; k < H; k++)
                    a[j] += p->W_x[(size_t)j * H + k] * in[k];
            u[j] = w->cfg.cell == CELL_GRU && j >= 2 * H ? p->b_h[j - 2 * H] : 0;
            for (int k = 0; k < H; k++)
                u[j] += p->W_h[(size_t)j * H + k] * h_prev[k];
        }
        if (w->cfg.cell == CELL_RNN)
            rnn_step(H, a, u, h);
        else if (w->cfg.cell == CELL_LSTM)
            lstm_step(H, a, u, row(tr->c[l], t - 1, H), row(tr->gate[l], t, GH), h,
                      row(tr->c[l], t, H));
        else
            gru_step(H, a, u, h_prev, row(tr->gate[l], t, GH), h);
    }
    const double *top = row(tr->h[w->cfg.L - 1], t, H);
    double *q = row(tr->q, t, V);
    for (int v = 0; v < V; v++) {
        q[v] = w->b_y[v];
        for (int k = 0; k < H; k++)
            q[v] += w->W_y[(size_t)v * H + k] * top[k];
    }
}

/* One name c1 .. cn (n at most trace_alloc's max_length) from the zero
 * state, T = n + 1 steps: read s = END, c1 .. cn, predict y = c1 .. cn,
 * END (in the library, src/bptt.c, frame_group). No state is carried from
 * one name to the next. */
static void forward(const params *w, const int *name, int n, trace *tr)
{
    tr->T = n + 1;
    for (int t = 1; t <= tr->T; t++) {
        tr->s[t] = t == 1 ? END : name[t - 2];
        tr->y[t] = t <= n ? name[t - 1] : END;
    }
    for (int l = 0; l < w->cfg.L; l++) {
        zero(tr->h[l], (size_t)w->cfg.H); /* h_0 = 0 */
        zero(tr->c[l], (size_t)w->cfg.H); /* c_0 = 0 */
    }
    for (int t = 1; t <= tr->T; t++)
        forward_step(w, tr, t);
}

/* ===== Step 4: the cost ===============================================
 * docs/model.md, "The cost": p_t = softmax(q_t), and the name's loss
 * -sum_t log p_t[y_t] over its T steps (its end counts as a symbol to
 * predict); train() divides the sum by the symbols predicted. The library
 * computes it at the end of src/bptt.c, forward, with drnn_softmax. */

/* p = softmax(q); returns log sum_v exp(q_v), so that -log p[y] =
 * result - q[y] exactly, without the log of a rounded p. The largest logit
 * is subtracted first so that exp cannot overflow. */
static double softmax(const double *q, double *p, int V)
{
    double qmax = q[0], sum = 0;
    for (int v = 1; v < V; v++)
        qmax = q[v] > qmax ? q[v] : qmax;
    for (int v = 0; v < V; v++)
        sum += p[v] = exp(q[v] - qmax);
    for (int v = 0; v < V; v++)
        p[v] /= sum;
    return qmax + log(sum);
}

static double cost(trace *tr)
{
    const int V = tr->cfg.V;
    double loss = 0;
    for (int t = 1; t <= tr->T; t++) {
        double *q = row(tr->q, t, V);
        loss += softmax(q, row(tr->p, t, V), V) - q[tr->y[t]];
    }
    return loss;
}

/* ===== Step 5: backward propagation through time ======================
 * docs/model.md, "Backpropagation through time", line for line: the
 * gradient of the name's loss (the sum; train() averages) with respect to
 * every parameter, added to grad. The same weights serve at every step, so
 * each weight's gradient is a sum over the steps: the `+=` inside the loops
 * over t below. The output layer first, dq_t = p_t - onehot(y_t); then each
 * layer from the top down, t = T .. 1: dh_t collects what comes from above
 * and from step t + 1, the cell's chain rule turns it into da_t and du_t,
 * and those give the weights' gradients and what goes to the layer below.
 * The library: src/bptt.c, backward (backward_output, backward_recurrence,
 * backward_recurrent_weights, backward_input), where the sums over t are
 * matrix products over all steps at once; the cells' steps are
 * rnn_backward, lstm_backward, gru_backward in src/cell_*.c. */

/* h = tanh(a + u): e = dh (1 - h^2), and da = du = e. */
static void rnn_step_backward(int H, const double *dh, const double *h, double *da, double *du)
{
    for (int k = 0; k < H; k++)
        da[k] = du[k] = dh[k] * (1 - h[k] * h[k]);
}

/* carry enters holding dc_t from step t + 1; carry_prev gets dc_{t-1}. a
 * and u enter each gate the same way: du = da. */
static void lstm_step_backward(int H, const double *dh, const double *carry, const double *gate,
                               const double *c_prev, const double *c, double *da, double *du,
                               double *carry_prev)
{
    for (int k = 0; k < H; k++) {
        double i = gate[k], f = gate[H + k], g = gate[2 * H + k], o = gate[3 * H + k];
        double tc = tanh(c[k]);
        double dc = carry[k] + dh[k] * o * (1 - tc * tc); /* both paths into c_t */
        du[k] = da[k] = dc * g * i * (1 - i);                     /* e_i */
        du[H + k] = da[H + k] = dc * c_prev[k] * f * (1 - f);     /* e_f */
        du[2 * H + k] = da[2 * H + k] = dc * i * (1 - g * g);     /* e_g */
        du[3 * H + k] = da[3 * H + k] = dh[k] * tc * o * (1 - o); /* e_o */
        carry_prev[k] = dc * f;                                   /* the forget path */
    }
}

/* u_n is scaled by r, so du_n = r e_n; h_{t-1} also reaches h_t directly,
 * through z: dh_next. */
static void gru_step_backward(int H, const double *dh, const double *gate, const double *u,
                              const double *h_prev, double *da, double *du, double *dh_next)
{
    for (int k = 0; k < H; k++) {
        double r = gate[k], z = gate[H + k], n = gate[2 * H + k];
        double e_n = dh[k] * (1 - z) * (1 - n * n);
        double e_z = dh[k] * (h_prev[k] - n) * z * (1 - z);
        double e_r = e_n * u[2 * H + k] * r * (1 - r);
        da[k] = du[k] = e_r;
        da[H + k] = du[H + k] = e_z;
        da[2 * H + k] = e_n;
        du[2 * H + k] = r * e_n;
        dh_next[k] = dh[k] * z;
    }
}

/* The output layer: dW_y, db_y and, in the top layer's dh_up, W_y^T dq_t. */
static void backward_output(const params *w, trace *tr, params *grad)
{
    const int V = w->cfg.V, H = w->cfg.H, top = w->cfg.L - 1;
    for (int t = tr->T; t >= 1; t--) {
        double *dq = row(tr->dq, t, V), *dh_up = row(tr->dh_up[top], t, H);
        const double *h = row(tr->h[top], t, H), *p = row(tr->p, t, V);
        zero(dh_up, (size_t)H);
        for (int v = 0; v < V; v++) {
            dq[v] = p[v] - (v == tr->y[t]);
            grad->b_y[v] += dq[v];
            for (int k = 0; k < H; k++) {
                grad->W_y[(size_t)v * H + k] += dq[v] * h[k];
                dh_up[k] += w->W_y[(size_t)v * H + k] * dq[v];
            }
        }
    }
}

/* Layer l, t = T .. 1: dh_t, the cell's chain rule, every weight's share
 * of step t, and (l > 0) d in_t, the layer below's dh_up. */
static void backward_layer(const params *w, trace *tr, params *grad, int l)
{
    const int H = w->cfg.H, GH = gates_of(w->cfg.cell) * H, T = tr->T;
    const layer_params *p = &w->layer[l];
    layer_params *g = &grad->layer[l];
    zero(row(tr->du[l], T + 1, GH), (size_t)GH); /* nothing after step T */
    zero(row(tr->dh_next[l], T, H), (size_t)H);
    zero(row(tr->carry[l], T, H), (size_t)H);
    for (int t = T; t >= 1; t--) {
        double *dh = row(tr->dh[l], t, H), *da = row(tr->da[l], t, GH);
        double *du = row(tr->du[l], t, GH);
        const double *du_next = row(tr->du[l], t + 1, GH), *dh_up = row(tr->dh_up[l], t, H);
        const double *dh_next = row(tr->dh_next[l], t, H), *h_prev = row(tr->h[l], t - 1, H);
        /* dh_t = dh_up_t + W_h^T du_{t+1} + dh_next */
        for (int k = 0; k < H; k++) {
            dh[k] = dh_up[k] + dh_next[k];
            for (int j = 0; j < GH; j++)
                dh[k] += p->W_h[(size_t)j * H + k] * du_next[j];
        }
        if (w->cfg.cell == CELL_RNN)
            rnn_step_backward(H, dh, row(tr->h[l], t, H), da, du);
        else if (w->cfg.cell == CELL_LSTM)
            lstm_step_backward(H, dh, row(tr->carry[l], t, H), row(tr->gate[l], t, GH),
                               row(tr->c[l], t - 1, H), row(tr->c[l], t, H), da, du,
                               row(tr->carry[l], t - 1, H));
        else
            gru_step_backward(H, dh, row(tr->gate[l], t, GH), row(tr->u[l], t, GH), h_prev, da,
                              du, row(tr->dh_next[l], t - 1, H));
        /* The weights are shared across time: each step adds its share. */
        const double *in = l > 0 ? row(tr->h[l - 1], t, H) : NULL;
        double *din = l > 0 ? row(tr->dh_up[l - 1], t, H) : NULL;
        if (din)
            zero(din, (size_t)H);
        for (int j = 0; j < GH; j++) {
            g->b[j] += da[j];
            if (w->cfg.cell == CELL_GRU && j >= 2 * H)
                g->b_h[j - 2 * H] += du[j]; /* db_h += du_n */
            for (int k = 0; k < H; k++)
                g->W_h[(size_t)j * H + k] += du[j] * h_prev[k]; /* adds 0 at t = 1 */
            if (l == 0) {
                g->W_x[(size_t)tr->s[t] * GH + j] += da[j]; /* the row that s_t read */
                continue;
            }
            for (int k = 0; k < H; k++) {
                g->W_x[(size_t)j * H + k] += da[j] * in[k];
                din[k] += p->W_x[(size_t)j * H + k] * da[j]; /* d in_t = W_x^T da_t */
            }
        }
    }
}

static void backward(const params *w, trace *tr, params *grad)
{
    backward_output(w, tr, grad);
    for (int l = w->cfg.L - 1; l >= 0; l--)
        backward_layer(w, tr, grad, l);
}

/* ===== Step 6: update the parameters ==================================
 * The mean gradient per predicted symbol (train() divides the sum), clipped,
 * then the update. (The exercise clips the gradient of a name's sum, which
 * the same bound cuts harder the longer the name.) The library: the mean in
 * src/trainer.c, train_step, with src/reduce.c, drnn_reducer_sum; the rest
 * in src/optim.c, drnn_clip_gradient and drnn_optimizer_step (which also
 * has momentum, Adagrad and weight decay). */
typedef enum clip_mode { CLIP_NORM, CLIP_VALUE } clip_mode;
typedef enum optimizer_kind { OPT_SGD, OPT_ADAM } optimizer_kind;

typedef struct optimizer {
    optimizer_kind kind;
    double lr;
    long step;                    /* updates made */
    double *m, *v;                /* Adam's moments, one of each per parameter */
} optimizer;

/* By global norm, as the library does by default (g *= bound / |g| when
 * |g| > bound: the direction is kept), or element by element into
 * [-bound, bound], as the exercise does. */
static void clip(params *grad, clip_mode mode, double bound)
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

/* Adam's moments, zero at first; none for SGD. */
static optimizer optimizer_new(size_t count, optimizer_kind kind, double lr)
{
    optimizer opt = {.kind = kind, .lr = lr};
    if (kind == OPT_ADAM)
        opt.m = zalloc(count, sizeof *opt.m), opt.v = zalloc(count, sizeof *opt.v);
    return opt;
}

/* SGD: w -= lr g. Adam: running means of g and g^2, corrected for their
 * start at zero, and w -= lr m_hat / (sqrt(v_hat) + eps). */
static void update(params *w, const params *grad, optimizer *opt)
{
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    opt->step++;
    const double c1 = 1 / (1 - pow(beta1, (double)opt->step));
    const double c2 = 1 / (1 - pow(beta2, (double)opt->step));
    for (size_t i = 0; i < w->count; i++) {
        const double g = grad->data[i];
        if (opt->kind == OPT_SGD) {
            w->data[i] -= opt->lr * g;
            continue;
        }
        double *m = &opt->m[i], *v = &opt->v[i];
        *m = beta1 * *m + (1 - beta1) * g;
        *v = beta2 * *v + (1 - beta2) * g * g;
        w->data[i] -= opt->lr * (*m * c1) / (sqrt(*v * c2) + eps);
    }
}

/* ===== Sampling =======================================================
 * Feeds END, then draws each symbol from p_t and feeds it back, until END
 * or max_length symbols; END is not drawn first (no empty names). Writes
 * the name to name[] and returns its length. The trace must hold
 * max_length symbols. The library: src/stepper.c (drnn_stepper_feed) and
 * src/sample.c (drnn_sample_logits, with temperature and top-k). */
static int sample(const params *w, trace *tr, uint64_t *rng, int max_length, int *name)
{
    const int V = w->cfg.V;
    for (int l = 0; l < w->cfg.L; l++) {
        zero(tr->h[l], (size_t)w->cfg.H);
        zero(tr->c[l], (size_t)w->cfg.H);
    }
    int n = 0;
    tr->s[1] = END;
    for (int t = 1; n < max_length; t++) {
        forward_step(w, tr, t);
        double *p = row(tr->p, t, V);
        softmax(row(tr->q, t, V), p, V);
        const int first = n == 0; /* skip END */
        double total = 0, sum = 0;
        for (int v = first; v < V; v++)
            total += p[v];
        const double x = rng_uniform(rng) * total;
        int v = first;
        while (v < V - 1 && (sum += p[v]) <= x)
            v++;
        if (v == END)
            break;
        name[n++] = tr->s[t + 1] = v;
    }
    return n;
}

/* As the exercise prints them: the first letter capitalised. */
static void print_name(FILE *out, const dataset *d, const int *name, int n)
{
    for (int i = 0; i < n; i++)
        fputc(i == 0 ? toupper(d->symbol[name[i]]) : d->symbol[name[i]], out);
    fputc('\n', out);
}

/* ===== The training loop ==============================================
 * Each iteration takes the next o->batch names of a shuffled order (a new
 * shuffle each pass, as the library's epochs; the exercise shuffles once),
 * runs steps 3 to 5 on each, adding their gradients, and divides the sum
 * by N, the symbols predicted: the gradient of the mean loss per symbol,
 * dq_t = (p_t - onehot(y_t)) / N, as the library's (src/trainer.c,
 * train_step). The exercise uses the sum over one name: then a long name
 * takes a larger step than a short one, and the learning rate would have
 * to change with the batch size. Every o->print_every iterations (and at
 * the first and the last) it prints the mean loss per symbol since the
 * last print (the exercise prints a smoothed sum per name, about 7 times
 * larger on dinos.txt) and o->samples sampled names. Returns the last
 * printed loss. */
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

static double train(const dataset *d, const options *o, FILE *out)
{
    enum { SAMPLE_MAX = 50 };
    const config cfg = {o->cell, d->vocab, o->hidden, o->layers};
    params w, grad;
    trace tr;
    uint64_t rng = o->seed;
    int name[SAMPLE_MAX], *order = zalloc((size_t)d->count, sizeof *order);
    params_alloc(&w, &cfg), params_alloc(&grad, &cfg);
    trace_alloc(&tr, &cfg, d->max_length > SAMPLE_MAX ? d->max_length : SAMPLE_MAX);
    optimizer opt = optimizer_new(w.count, o->optimizer, o->lr);
    double last = NAN, loss_sum = 0;
    long chars_sum = 0;
    init_params(&w, &rng);
    for (long it = 0, pos = d->count; it < o->iterations; it++) {
        zero(grad.data, grad.count);
        long chars = 0; /* N */
        for (int j = 0; j < o->batch; j++, pos++) {
            if (pos == d->count) { /* a new pass: a Fisher-Yates shuffle */
                for (int i = 0; i < d->count; i++)
                    order[i] = i;
                for (int i = d->count - 1; i > 0; i--) {
                    int k = (int)(rng_uniform(&rng) * (i + 1)), tmp = order[i];
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
            if (!out)
                continue;
            fprintf(out, "Iteration: %ld, Loss: %f\n\n", it, last);
            for (int k = 0; k < o->samples; k++)
                print_name(out, d, name, sample(&w, &tr, &rng, SAMPLE_MAX, name));
            fputc('\n', out);
        }
    }
    free(opt.m), free(opt.v), free(order);
    trace_free(&tr), params_free(&grad), params_free(&w);
    return last;
}

#ifndef DINOSAURUS_NO_MAIN
static const char usage[] =
    "usage: dinosaurus [options] [FILE]   (FILE: data/dinos.txt)\n"
    "  --cell rnn|lstm|gru      the recurrent cell (rnn)\n"
    "  --layers N               layers, 1..16 (1)\n"
    "  --hidden N               hidden units per layer, 1..4096 (50)\n"
    "  --iterations N           updates (35000; a loss and names every 2000)\n"
    "  --batch N                names per update, 1..1024 (1)\n"
    "  --optimizer sgd|adam     (adam)\n"
    "  --lr X                   learning rate (adam 0.003, sgd 0.1)\n"
    "  --clip-mode norm|value   clip at 5 the global norm, or each value (norm)\n"
    "  --seed N                 the seed of the weights, the order and the samples (0)\n";

/* 0, 1 for --help, or -1 after the usage. An option's value is a word of
 * its list, kept as the word's index (the order of the enums), or a number
 * in [lo, hi], whole but for --lr. */
static int parse_options(int argc, char **argv, options *o, const char **path)
{
    double cell = CELL_RNN, layers = 1, hidden = 50, iterations = 35000, batch = 1;
    double optimizer_choice = OPT_ADAM, lr = 0, clip_choice = CLIP_NORM, seed = 0;
    const struct { const char *name, *words[4]; double lo, hi, *value; } rows[] = {
        {"--cell", {"rnn", "lstm", "gru"}, 0, 0, &cell},
        {"--layers", {NULL}, 1, MAX_LAYERS, &layers},
        {"--hidden", {NULL}, 1, 4096, &hidden},
        {"--iterations", {NULL}, 1, 1e9, &iterations},
        {"--batch", {NULL}, 1, 1024, &batch},
        {"--optimizer", {"sgd", "adam"}, 0, 0, &optimizer_choice},
        {"--lr", {NULL}, 1e-12, 100, &lr},
        {"--clip-mode", {"norm", "value"}, 0, 0, &clip_choice},
        {"--seed", {NULL}, 0, 0x1p53, &seed}};
    const int n_rows = (int)(sizeof rows / sizeof rows[0]);
    *path = "data/dinos.txt";
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *text = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(name, "--help") || !strcmp(name, "-h"))
            return 1;
        if (name[0] != '-' && i == argc - 1) {
            *path = name;
            break;
        }
        int r = 0, k = 0;
        while (r < n_rows && strcmp(name, rows[r].name))
            r++;
        if (r == n_rows) {
            fprintf(stderr, "dinosaurus: '%s' is no option (FILE comes last)\n%s", name, usage);
            return -1;
        }
        while (rows[r].words[k] && strcmp(text, rows[r].words[k]))
            k++;
        char *end = NULL;
        double x = rows[r].words[0] ? k : strtod(text, &end);
        if (rows[r].words[0] && !rows[r].words[k]) {
            fprintf(stderr, "dinosaurus: bad or missing choice '%s'\n%s", text, usage);
            return -1;
        }
        if (end && (end == text || *end || !(x >= rows[r].lo && x <= rows[r].hi) ||
                    (rows[r].value != &lr && x != floor(x)))) {
            fprintf(stderr, "dinosaurus: bad or missing number '%s'\n%s", text, usage);
            return -1;
        }
        *rows[r].value = x;
    }
    *o = (options){.cell = (cell_kind)cell, .layers = (int)layers, .hidden = (int)hidden,
                   .batch = (int)batch, .iterations = (long)iterations, .print_every = 2000,
                   .seed = (uint64_t)seed, .optimizer = (optimizer_kind)optimizer_choice,
                   .lr = lr ? lr : optimizer_choice == OPT_ADAM ? 0.003 : 0.1, .clip = 5,
                   .clip_mode = (clip_mode)clip_choice, .samples = 7};
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
    train(&d, &o, stdout);
    free_data(&d);
    return 0;
}
#endif
