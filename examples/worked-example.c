/* worked-example.c: every number of one forward and backward pass, for a
 * model small enough to follow by hand: a vocabulary of END and three
 * letters (V = 4), one layer of two units (H = 2), the name "rex". For the
 * tanh RNN, the LSTM and the GRU it prints, as Markdown, the weights, each
 * step's forward values, the loss, each step's backward values and every
 * parameter's gradient; docs/worked-example.md holds this output verbatim
 * and explains it, and tests/worked-example.sh fails if the two differ.
 *
 * The arithmetic is dinosaurus.c's (included below, not copied), and so is
 * the notation, docs/model.md's. Before printing, each gradient is checked
 * against central differences of the loss; tests/check_dinosaurus.c (which
 * includes this file with WORKED_EXAMPLE_NO_MAIN) checks that the library
 * computes the same loss and gradients on these weights.
 * Build and run: make examples/worked-example && examples/worked-example */
#ifndef DINOSAURUS_NO_MAIN
#define DINOSAURUS_NO_MAIN
#endif
/* Its functions are static, and this program uses only some of them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "dinosaurus.c"
#pragma GCC diagnostic pop

/* The example: symbols 0 END, 1 e, 2 r, 3 x (in ASCII order, as load_data
 * numbers them) and the name "rex". */
enum { EX_V = 4, EX_H = 2, EX_N = 3, EX_SEED = 27 };
static const char *const ex_symbol[EX_V] = {"END", "e", "r", "x"};
static const int ex_name[EX_N] = {2, 1, 3};

/* init_params from seed EX_SEED, each weight rounded to two decimals so
 * that a computation by hand can start from the printed values. */
static void example_weights(params *w)
{
    uint64_t rng = EX_SEED;
    init_params(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] = round(w->data[i] * 100) / 100;
}

/* The loss of the example name at weights w. */
static double example_loss(const params *w, trace *tr)
{
    forward(w, ex_name, EX_N, tr);
    return cost(tr);
}

/* Compares grad with central differences of the loss, element by element:
 * returns 0 when every one agrees to 1e-8 (absolute; the gradients are of
 * order 0.001 to 1, and a step of 1e-5 leaves a truncation error of order
 * 1e-10 and a rounding error of order 1e-11). */
static int example_check(const params *w, const params *grad)
{
    const double step = 1e-5;
    params probe;
    trace tr;
    int bad = 0;
    params_alloc(&probe, &w->cfg);
    trace_alloc(&tr, &w->cfg, EX_N);
    memcpy(probe.data, w->data, w->count * sizeof *w->data);
    for (size_t i = 0; !bad && i < w->count; i++) {
        probe.data[i] = w->data[i] + step;
        double up = example_loss(&probe, &tr);
        probe.data[i] = w->data[i] - step;
        double down = example_loss(&probe, &tr);
        probe.data[i] = w->data[i];
        bad = !(fabs((up - down) / (2 * step) - grad->data[i]) <= 1e-8);
    }
    trace_free(&tr), params_free(&probe);
    return bad ? -1 : 0;
}

#ifndef WORKED_EXAMPLE_NO_MAIN
/* The gate blocks' letters, in their order in the G*H rows (the tanh
 * RNN's one block has none). */
static const char *const block_names[] = {"", "ifgo", "rzn"};

/* n values with `decimals` decimals, blocks of `block` separated by "; ". */
static void values(const double *x, int n, int block, int decimals)
{
    for (int i = 0; i < n; i++)
        printf("%s%.*f", i == 0 ? "" : i % block ? ", " : "; ", decimals, x[i] + 0.0);
}

/* A tensor of `rows` rows of `cols` in blocks of `block`, one table line a
 * row; rows labelled by symbol (labels = ex_symbol), by gate block and unit
 * (labels = NULL), or not at all (rows = 1, a bias). prefix: "d " for a
 * gradient. */
static void tensor(const char *prefix, const char *name, const double *x, int rows, int cols,
                   int block, const char *const *labels, cell_kind cell, int decimals)
{
    for (int r = 0; r < rows; r++) {
        printf("| `%s%s` | ", prefix, name);
        if (labels)
            printf("%s", labels[r]);
        else if (rows > 1)
            printf("%.*s%d", cell != CELL_RNN, block_names[cell] + r / EX_H, r % EX_H + 1);
        printf(" | ");
        values(x + (size_t)r * cols, cols, block, decimals);
        printf(" |\n");
    }
}

/* Every tensor of a parameter buffer: the weights (prefix "") with two
 * decimals, or their gradients (prefix "d ") with six. */
static void print_params(const params *p, const char *prefix)
{
    const cell_kind cell = p->cfg.cell;
    const int GH = gates_of(cell) * EX_H, decimals = *prefix ? 6 : 2;
    const layer_params *v = &p->layer[0];
    printf("| tensor | row | values |\n|---|---|---|\n");
    tensor(prefix, "W_x", v->W_x, EX_V, GH, EX_H, ex_symbol, cell, decimals);
    tensor(prefix, "W_h", v->W_h, GH, EX_H, EX_H, NULL, cell, decimals);
    tensor(prefix, "b", v->b, 1, GH, EX_H, NULL, cell, decimals);
    if (cell == CELL_GRU)
        tensor(prefix, "b_h", v->b_h, 1, EX_H, EX_H, NULL, cell, decimals);
    tensor(prefix, "W_y", p->W_y, EX_V, EX_H, EX_H, ex_symbol, cell, decimals);
    tensor(prefix, "b_y", p->b_y, 1, EX_V, EX_V, NULL, cell, decimals);
}

/* One cell of a table: a row of the trace at step t. */
static void cell_of(const double *a, int t, int n, int block)
{
    printf(" | ");
    values(a + (size_t)t * n, n, block, 6);
}

static void print_forward(const trace *tr)
{
    const cell_kind cell = tr->cfg.cell;
    const int H = EX_H, GH = gates_of(cell) * H, V = EX_V;
    static const char *const head[] = {
        "| t | s_t | a_t = W_x[s_t] + b | u_t = W_h h_{t-1} | h_t = tanh(a_t + u_t) |\n"
        "|---|---|---|---|---|\n",
        "| t | s_t | a_t = W_x[s_t] + b (i; f; g; o) | u_t = W_h h_{t-1} | i; f; g; o | c_t "
        "| h_t |\n|---|---|---|---|---|---|---|\n",
        "| t | s_t | a_t = W_x[s_t] + b (r; z; n) | u_t = W_h h_{t-1} + (0; 0; b_h) | r; z; n "
        "| h_t |\n|---|---|---|---|---|---|\n"};
    printf("%s", head[cell]);
    for (int t = 1; t <= tr->T; t++) {
        printf("| %d | %s", t, ex_symbol[tr->s[t]]);
        cell_of(tr->a[0], t, GH, H);
        cell_of(tr->u[0], t, GH, H);
        if (cell != CELL_RNN)
            cell_of(tr->gate[0], t, GH, H);
        if (cell == CELL_LSTM)
            cell_of(tr->c[0], t, H, H);
        cell_of(tr->h[0], t, H, H);
        printf(" |\n");
    }
    printf("\n| t | y_t | q_t = W_y h_t + b_y | p_t = softmax(q_t) | -log p_t[y_t] |\n"
           "|---|---|---|---|---|\n");
    for (int t = 1; t <= tr->T; t++) {
        const double *p = tr->p + (size_t)t * V;
        printf("| %d | %s", t, ex_symbol[tr->y[t]]);
        cell_of(tr->q, t, V, V);
        cell_of(tr->p, t, V, V);
        printf(" | %.6f |\n", -log(p[tr->y[t]]));
    }
}

static void print_backward(const trace *tr)
{
    const cell_kind cell = tr->cfg.cell;
    const int H = EX_H, GH = gates_of(cell) * H, V = EX_V;
    printf("| t | d q_t = p_t - onehot(y_t) | d h_up_t = W_y^T d q_t |\n|---|---|---|\n");
    for (int t = tr->T; t >= 1; t--) {
        printf("| %d", t);
        cell_of(tr->dq, t, V, V);
        cell_of(tr->dh_up[0], t, H, H);
        printf(" |\n");
    }
    static const char *const head[] = {
        "| t | from step t+1: W_h^T d u_{t+1} | d h_t | d a_t = d u_t = d h_t (1 - h_t^2) |\n"
        "|---|---|---|---|\n",
        "| t | from step t+1: W_h^T d u_{t+1} | d h_t | carry: d c_t from step t+1 "
        "| d a_t = d u_t (e_i; e_f; e_g; e_o) |\n|---|---|---|---|---|\n",
        "| t | from step t+1: W_h^T d u_{t+1} + d h_next | d h_t | d a_t (e_r; e_z; e_n) "
        "| d u_t (e_r; e_z; r e_n) |\n|---|---|---|---|---|\n"};
    printf("\n%s", head[cell]);
    for (int t = tr->T; t >= 1; t--) {
        double from_next[EX_H];
        for (int k = 0; k < H; k++)
            from_next[k] = tr->dh[0][t * H + k] - tr->dh_up[0][t * H + k];
        printf("| %d | ", t);
        values(from_next, H, H, 6);
        cell_of(tr->dh[0], t, H, H);
        if (cell == CELL_LSTM)
            cell_of(tr->carry[0], t, H, H);
        cell_of(tr->da[0], t, GH, H);
        if (cell == CELL_GRU)
            cell_of(tr->du[0], t, GH, H);
        printf(" |\n");
    }
}

/* The whole example for one cell; -1 if a gradient fails its check. */
static int run(cell_kind cell)
{
    static const char *const title[] = {"tanh RNN", "LSTM", "GRU"};
    const config cfg = {cell, EX_V, EX_H, 1};
    params w, grad;
    trace tr;
    params_alloc(&w, &cfg), params_alloc(&grad, &cfg);
    trace_alloc(&tr, &cfg, EX_N);
    example_weights(&w);
    forward(&w, ex_name, EX_N, &tr);
    const double loss = cost(&tr);
    backward(&w, &tr, &grad);
    int rc = example_check(&w, &grad);
    if (rc)
        fprintf(stderr, "worked-example: a %s gradient differs from central differences\n",
                title[cell]);
    printf("### %s\n\nWeights:\n\n", title[cell]);
    print_params(&w, "");
    printf("\nForward, t = 1 .. T:\n\n");
    print_forward(&tr);
    printf("\nloss = %.6f nats (sum over the T = %d steps; %.6f per symbol)\n", loss, tr.T,
           loss / tr.T);
    printf("\nBackward, t = T .. 1:\n\n");
    print_backward(&tr);
    printf("\nGradients of the loss (the sum; training divides by T = %d):\n\n", tr.T);
    print_params(&grad, "d ");
    if (rc == 0)
        printf("\nEach of the %zu gradients agrees with central differences of the loss "
               "(step 1e-5) to 1e-8.\n", grad.count);
    trace_free(&tr), params_free(&grad), params_free(&w);
    return rc;
}

int main(void)
{
    printf("Symbols: 0 END, 1 e, 2 r, 3 x. The name \"rex\": read s = END r e x, predict "
           "y = r e x END (T = 4). Weights: `init_params` from seed %d, rounded to two "
           "decimals.\n",
           EX_SEED);
    int rc = 0;
    for (int cell = CELL_RNN; cell <= CELL_GRU; cell++) {
        printf("\n");
        rc |= run((cell_kind)cell);
    }
    return rc ? 1 : 0;
}
#endif
