/* onnx.c: the model of a state as an ONNX model that runs one step
 * (interop.h, drnn_onnx_encode; docs/interop.md, "ONNX"), written as
 * protobuf by hand (protobuf.c): no ONNX or protobuf library is needed.
 *
 * The graph, for M networks of L layers:
 *   x = OneHot(symbol, V) [, OneHot(label, N)], as [1, B, V+N]
 *   h, c split into M*L states [1, B, H]
 *   each network K, layer l: one RNN/LSTM/GRU node of one step; its Y_h is
 *     the next layer's input ([1, B, H] is also a sequence of one step)
 *   each network: LogSoftmax(Gemm(Y_h of its last layer, W_y^T) + b_y)
 *   a mixture: ReduceLogSumExp over the networks - log M (the log of the
 *     mean of their probabilities)
 *   h_out, c_out: the Y_h, Y_c concatenated in the order of h. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "interop_meta.h"
#include "protobuf.h"
#include "dinornn/interop.h"

/* onnx.proto's field numbers and enumerations (ONNX IR version 7). */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_GRAPH = 7, MODEL_OPSET = 8,
    MODEL_METADATA = 14,
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4, NODE_ATTRIBUTE = 5,
    ATTR_NAME = 1, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20, ATTR_INT = 2, ATTR_INTS_TYPE = 7,
    VALUE_NAME = 1, VALUE_TYPE = 2, TYPE_TENSOR = 1, TENSOR_TYPE_ELEM = 1, TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
    TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW = 9,
    ONNX_FLOAT = 1, ONNX_INT64 = 7,
    IR_VERSION = 7, OPSET = 13
};

/* A dimension of a graph input or output: the batch, or a size. */
#define DIM_BATCH (-1)

/* ONNX's gate blocks by dinornn's (PyTorch's): ONNX block j is dinornn
 * block perm[j]. LSTM: ONNX i, o, f, c from i, f, g, o; GRU: z, r, h
 * from r, z, n. */
static const int *gate_order(drnn_cell_kind cell)
{
    static const int rnn[] = {0}, lstm[] = {0, 3, 1, 2}, gru[] = {1, 0, 2};
    return cell == DRNN_CELL_LSTM ? lstm : cell == DRNN_CELL_GRU ? gru : rnn;
}

static const char *op_name(drnn_cell_kind cell)
{
    return cell == DRNN_CELL_LSTM ? "LSTM" : cell == DRNN_CELL_GRU ? "GRU" : "RNN";
}

/* ---- tensors (initializers) ---- */

static void put_f32(pb_buf *b, float v)
{
    unsigned char tmp[4];
    pb_le32(tmp, v);
    pb_raw(b, tmp, sizeof tmp);
}

/* Opens an initializer and its raw data; the caller writes the values and
 * closes both with tensor_end. */
static void tensor_begin(pb_buf *b, const char *name, int type, const int64_t *dims, int nd,
                         size_t *msg, size_t *raw)
{
    *msg = pb_begin(b, GRAPH_INITIALIZER);
    for (int i = 0; i < nd; i++)
        pb_int(b, TENSOR_DIMS, dims[i]);
    pb_int(b, TENSOR_DATA_TYPE, type);
    pb_string(b, TENSOR_NAME, name);
    *raw = pb_begin(b, TENSOR_RAW);
}

static void tensor_end(pb_buf *b, size_t msg, size_t raw)
{
    pb_end(b, raw);
    pb_end(b, msg);
}

static void tensor_floats(pb_buf *b, const char *name, const int64_t *dims, int nd,
                          const drnn_real *v, size_t n)
{
    size_t msg, raw;
    tensor_begin(b, name, ONNX_FLOAT, dims, nd, &msg, &raw);
    for (size_t i = 0; i < n; i++)
        put_f32(b, (float)v[i]);
    tensor_end(b, msg, raw);
}

/* A rank-1 int64 tensor of n values. */
static void tensor_int64s(pb_buf *b, const char *name, const int64_t *v, int n)
{
    size_t msg, raw;
    int64_t dims[1] = {n};
    tensor_begin(b, name, ONNX_INT64, dims, 1, &msg, &raw);
    for (int i = 0; i < n; i++) {
        unsigned char tmp[8];
        for (int k = 0; k < 8; k++)
            tmp[k] = (unsigned char)((uint64_t)v[i] >> 8 * k);
        pb_raw(b, tmp, sizeof tmp);
    }
    tensor_end(b, msg, raw);
}

/* Layer 0's W, [1, G*H, V+N]: W_x[0] (V rows of G*H) and W_l (N rows of
 * G*H) transposed, the blocks in ONNX's order. */
static void tensor_input_weight(pb_buf *b, const char *name, const drnn_params *p)
{
    const drnn_config *cfg = &p->cfg;
    int G = drnn_cell_gates(cfg->cell), H = cfg->hidden, V = cfg->vocab, N = cfg->labels;
    size_t GH = (size_t)G * H, msg, raw;
    const int *perm = gate_order(cfg->cell);
    int64_t dims[3] = {1, (int64_t)GH, (int64_t)V + N};
    tensor_begin(b, name, ONNX_FLOAT, dims, 3, &msg, &raw);
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++) {
            size_t col = (size_t)perm[g] * H + (size_t)j;
            for (int x = 0; x < V; x++)
                put_f32(b, (float)p->layer[0].W_x[(size_t)x * GH + col]);
            for (int k = 0; k < N; k++)
                put_f32(b, (float)p->W_l[(size_t)k * GH + col]);
        }
    tensor_end(b, msg, raw);
}

/* A layer's W (l > 0) or R, [1, G*H, H], from G*H rows of H, its row
 * blocks in ONNX's order. */
static void tensor_square_weight(pb_buf *b, const char *name, const drnn_config *cfg,
                                 const drnn_real *w)
{
    int G = drnn_cell_gates(cfg->cell), H = cfg->hidden;
    const int *perm = gate_order(cfg->cell);
    int64_t dims[3] = {1, (int64_t)G * H, H};
    size_t msg, raw;
    tensor_begin(b, name, ONNX_FLOAT, dims, 3, &msg, &raw);
    for (int g = 0; g < G; g++)
        for (size_t i = 0; i < (size_t)H * H; i++)
            put_f32(b, (float)w[(size_t)perm[g] * H * H + i]);
    tensor_end(b, msg, raw);
}

/* A layer's B, [1, 2*G*H]: Wb = dinornn's b, Rb zeros but for the GRU's
 * h block, which is b_h (applied inside r * (...), linear_before_reset). */
static void tensor_bias(pb_buf *b, const char *name, const drnn_config *cfg,
                        const drnn_layer_view *lv)
{
    int G = drnn_cell_gates(cfg->cell), H = cfg->hidden;
    const int *perm = gate_order(cfg->cell);
    int64_t dims[2] = {1, 2 * (int64_t)G * H};
    size_t msg, raw;
    tensor_begin(b, name, ONNX_FLOAT, dims, 2, &msg, &raw);
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++)
            put_f32(b, (float)lv->b[(size_t)perm[g] * H + (size_t)j]);
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++)
            put_f32(b, cfg->cell == DRNN_CELL_GRU && g == 2 ? (float)lv->b_h[j] : 0.0f);
    tensor_end(b, msg, raw);
}

/* Every tensor of network K. */
static void network_tensors(pb_buf *b, const drnn_params *p, int K)
{
    const drnn_config *cfg = &p->cfg;
    char name[64];
    for (int l = 0; l < cfg->layers; l++) {
        snprintf(name, sizeof name, "m%d.W%d", K, l);
        if (l == 0)
            tensor_input_weight(b, name, p);
        else
            tensor_square_weight(b, name, cfg, p->layer[l].W_x);
        snprintf(name, sizeof name, "m%d.R%d", K, l);
        tensor_square_weight(b, name, cfg, p->layer[l].W_h);
        snprintf(name, sizeof name, "m%d.B%d", K, l);
        tensor_bias(b, name, cfg, &p->layer[l]);
    }
    int64_t wy[2] = {cfg->vocab, cfg->hidden}, by[1] = {cfg->vocab};
    snprintf(name, sizeof name, "m%d.Wy", K);
    tensor_floats(b, name, wy, 2, p->W_y, (size_t)cfg->vocab * (size_t)cfg->hidden);
    snprintf(name, sizeof name, "m%d.by", K);
    tensor_floats(b, name, by, 1, p->b_y, (size_t)cfg->vocab);
}

/* ---- nodes ---- */

/* Opens a node; attributes may follow before node_end (pb_end). */
static size_t node_begin(pb_buf *b, const char *op, const char *name, const char *const *in,
                         int nin, const char *const *out, int nout)
{
    size_t start = pb_begin(b, GRAPH_NODE);
    for (int i = 0; i < nin; i++)
        pb_string(b, NODE_INPUT, in[i]);
    for (int i = 0; i < nout; i++)
        pb_string(b, NODE_OUTPUT, out[i]);
    pb_string(b, NODE_NAME, name);
    pb_string(b, NODE_OP, op);
    return start;
}

static void attr_int(pb_buf *b, const char *name, int64_t v)
{
    size_t start = pb_begin(b, NODE_ATTRIBUTE);
    pb_string(b, ATTR_NAME, name);
    pb_int(b, ATTR_TYPE, ATTR_INT);
    pb_int(b, ATTR_I, v);
    pb_end(b, start);
}

static void attr_ints(pb_buf *b, const char *name, const int64_t *v, int n)
{
    size_t start = pb_begin(b, NODE_ATTRIBUTE);
    pb_string(b, ATTR_NAME, name);
    pb_int(b, ATTR_TYPE, ATTR_INTS_TYPE);
    for (int i = 0; i < n; i++)
        pb_int(b, ATTR_INTS, v[i]);
    pb_end(b, start);
}

/* A node without attributes. */
static void node(pb_buf *b, const char *op, const char *name, const char *const *in, int nin,
                 const char *const *out, int nout)
{
    pb_end(b, node_begin(b, op, name, in, nin, out, nout));
}

/* Names of the graph's values. */
static void state_name(char *buf, size_t size, const char *what, int K, int l)
{
    snprintf(buf, size, "%s.m%d.l%d", what, K, l);
}

/* ---- graph inputs and outputs ---- */

static void value_info(pb_buf *b, unsigned field, const char *name, int type,
                       const int64_t *dims, int nd)
{
    size_t v = pb_begin(b, field);
    pb_string(b, VALUE_NAME, name);
    size_t t = pb_begin(b, VALUE_TYPE), tt = pb_begin(b, TYPE_TENSOR);
    pb_int(b, TENSOR_TYPE_ELEM, type);
    size_t s = pb_begin(b, TENSOR_TYPE_SHAPE);
    for (int i = 0; i < nd; i++) {
        size_t d = pb_begin(b, SHAPE_DIM);
        if (dims[i] == DIM_BATCH)
            pb_string(b, DIM_PARAM, "batch");
        else
            pb_int(b, DIM_VALUE, dims[i]);
        pb_end(b, d);
    }
    pb_end(b, s);
    pb_end(b, tt);
    pb_end(b, t);
    pb_end(b, v);
}

static void graph_io(pb_buf *b, const drnn_model *m)
{
    const drnn_config *cfg = &m->cfg;
    int64_t batch[1] = {DIM_BATCH}, state[3] = {(int64_t)m->count * cfg->layers, DIM_BATCH,
                                                 cfg->hidden};
    int64_t logp[2] = {DIM_BATCH, cfg->vocab};
    int lstm = cfg->cell == DRNN_CELL_LSTM;
    value_info(b, GRAPH_INPUT, "symbol", ONNX_INT64, batch, 1);
    if (cfg->labels > 0)
        value_info(b, GRAPH_INPUT, "label", ONNX_INT64, batch, 1);
    value_info(b, GRAPH_INPUT, "h", ONNX_FLOAT, state, 3);
    if (lstm)
        value_info(b, GRAPH_INPUT, "c", ONNX_FLOAT, state, 3);
    value_info(b, GRAPH_OUTPUT, "logprobs", ONNX_FLOAT, logp, 2);
    value_info(b, GRAPH_OUTPUT, "h_out", ONNX_FLOAT, state, 3);
    if (lstm)
        value_info(b, GRAPH_OUTPUT, "c_out", ONNX_FLOAT, state, 3);
}

/* ---- the graph ---- */

/* x [1, B, V+N]: the one-hot symbol, and label, as a sequence of one step. */
static void input_nodes(pb_buf *b, const drnn_model *m)
{
    const char *sym_in[] = {"symbol", "vocab_depth", "onehot_values"};
    const char *lab_in[] = {"label", "label_depth", "onehot_values"};
    const char *cat_in[] = {"x.symbol", "x.label"}, *cat_out[] = {"x.joined"};
    int labeled = m->cfg.labels > 0;
    const char *x2 = labeled ? "x.joined" : "x.symbol";
    const char *sym_out[] = {"x.symbol"}, *lab_out[] = {"x.label"};
    const char *unsq_in[] = {x2, "axis0"}, *unsq_out[] = {"x"};
    node(b, "OneHot", "onehot_symbol", sym_in, 3, sym_out, 1);
    if (labeled) {
        node(b, "OneHot", "onehot_label", lab_in, 3, lab_out, 1);
        size_t n = node_begin(b, "Concat", "join_label", cat_in, 2, cat_out, 1);
        attr_int(b, "axis", 1);
        pb_end(b, n);
    }
    node(b, "Unsqueeze", "as_sequence", unsq_in, 2, unsq_out, 1);
}

/* Names of the M*L states of h or c (what = "h", "c", "h_out", "c_out"),
 * in h's row order; one state is the graph's own input or output. */
typedef char state_names[DRNN_MAX_MEMBERS * DRNN_MAX_LAYERS][32];

static void name_states(state_names names, const char **ptrs, const char *what, int M, int L)
{
    for (int K = 0; K < M; K++)
        for (int l = 0; l < L; l++) {
            int r = K * L + l;
            if (M * L == 1)
                snprintf(names[r], sizeof names[r], "%s", what);
            else
                state_name(names[r], sizeof names[r], what, K, l);
            ptrs[r] = names[r];
        }
}

/* h (or c) into its M*L states [1, B, H]. */
static void split_node(pb_buf *b, const char *what, const char **parts, int n)
{
    const char *in[] = {what};
    char name[16];
    snprintf(name, sizeof name, "split_%s", what);
    size_t s = node_begin(b, "Split", name, in, 1, parts, n);
    attr_int(b, "axis", 0);
    pb_end(b, s);
}

/* The M*L states [1, B, H] into h_out (or c_out). */
static void concat_node(pb_buf *b, const char *what, const char **parts, int n)
{
    const char *out[] = {what};
    char name[16];
    snprintf(name, sizeof name, "concat_%s", what);
    size_t s = node_begin(b, "Concat", name, parts, n, out, 1);
    attr_int(b, "axis", 0);
    pb_end(b, s);
}

/* Layer l of network K: one step of the ONNX operator. */
static void cell_node(pb_buf *b, const drnn_config *cfg, int K, int l, const char *x,
                      const char *h, const char *c, const char *h_out, const char *c_out)
{
    char w[32], r[32], bias[32], name[32];
    snprintf(w, sizeof w, "m%d.W%d", K, l);
    snprintf(r, sizeof r, "m%d.R%d", K, l);
    snprintf(bias, sizeof bias, "m%d.B%d", K, l);
    snprintf(name, sizeof name, "cell.m%d.l%d", K, l);
    const char *in[] = {x, w, r, bias, "", h, c};
    const char *out[] = {"", h_out, c_out};
    int lstm = cfg->cell == DRNN_CELL_LSTM;
    size_t s = node_begin(b, op_name(cfg->cell), name, in, lstm ? 7 : 6, out, lstm ? 3 : 2);
    attr_int(b, "hidden_size", cfg->hidden);
    if (cfg->cell == DRNN_CELL_GRU)
        attr_int(b, "linear_before_reset", 1);
    pb_end(b, s);
}

/* Network K's log-probabilities [B, V] from its last layer's state. */
static void head_nodes(pb_buf *b, int K, const char *top, const char *logp)
{
    char sq[32], wy[32], by[32], logits[32], name[32];
    snprintf(sq, sizeof sq, "top.m%d", K);
    snprintf(wy, sizeof wy, "m%d.Wy", K);
    snprintf(by, sizeof by, "m%d.by", K);
    snprintf(logits, sizeof logits, "logits.m%d", K);
    const char *sq_in[] = {top, "axis0"}, *sq_out[] = {sq};
    const char *mm_in[] = {sq, wy, by}, *mm_out[] = {logits};
    const char *ls_in[] = {logits}, *ls_out[] = {logp};
    snprintf(name, sizeof name, "squeeze.m%d", K);
    node(b, "Squeeze", name, sq_in, 2, sq_out, 1);
    snprintf(name, sizeof name, "output.m%d", K);
    size_t s = node_begin(b, "Gemm", name, mm_in, 3, mm_out, 1);
    attr_int(b, "transB", 1);
    pb_end(b, s);
    snprintf(name, sizeof name, "log_softmax.m%d", K);
    s = node_begin(b, "LogSoftmax", name, ls_in, 1, ls_out, 1);
    attr_int(b, "axis", -1);
    pb_end(b, s);
}

/* A mixture's logprobs: log(mean_K exp(logp_K)) = logsumexp_K - log M. */
static void mixture_nodes(pb_buf *b, int M)
{
    char names[DRNN_MAX_MEMBERS][2][32];
    const char *stacked[DRNN_MAX_MEMBERS];
    for (int K = 0; K < M; K++) {
        char logp[32], name[32];
        snprintf(logp, sizeof logp, "logp.m%d", K);
        snprintf(names[K][0], sizeof names[K][0], "logp3.m%d", K);
        snprintf(name, sizeof name, "unsqueeze.m%d", K);
        const char *in[] = {logp, "axis0"}, *out[] = {names[K][0]};
        node(b, "Unsqueeze", name, in, 2, out, 1);
        stacked[K] = names[K][0];
    }
    const char *all[] = {"logp.all"}, *lse[] = {"logsumexp"};
    const char *sub_in[] = {"logsumexp", "log_members"}, *sub_out[] = {"logprobs"};
    size_t s = node_begin(b, "Concat", "stack_members", stacked, M, all, 1);
    attr_int(b, "axis", 0);
    pb_end(b, s);
    int64_t axes[1] = {0};
    s = node_begin(b, "ReduceLogSumExp", "mix_members", all, 1, lse, 1);
    attr_ints(b, "axes", axes, 1);
    attr_int(b, "keepdims", 0);
    pb_end(b, s);
    node(b, "Sub", "mean_members", sub_in, 2, sub_out, 1);
}

/* The nodes of every network, and the states in and out. */
static void network_nodes(pb_buf *b, const drnn_model *m)
{
    const drnn_config *cfg = &m->cfg;
    int M = m->count, L = cfg->layers, n = M * L, lstm = cfg->cell == DRNN_CELL_LSTM;
    static const char *const none = "";
    state_names hn, cn, hon, con;
    const char *h[DRNN_MAX_MEMBERS * DRNN_MAX_LAYERS], *c[DRNN_MAX_MEMBERS * DRNN_MAX_LAYERS];
    const char *ho[DRNN_MAX_MEMBERS * DRNN_MAX_LAYERS], *co[DRNN_MAX_MEMBERS * DRNN_MAX_LAYERS];
    name_states(hn, h, "h", M, L);
    name_states(cn, c, "c", M, L);
    name_states(hon, ho, "h_out", M, L);
    name_states(con, co, "c_out", M, L);
    if (n > 1) {
        split_node(b, "h", h, n);
        if (lstm)
            split_node(b, "c", c, n);
    }
    for (int K = 0; K < M; K++) {
        for (int l = 0; l < L; l++) {
            int r = K * L + l;
            cell_node(b, cfg, K, l, l == 0 ? "x" : ho[r - 1], h[r], lstm ? c[r] : none, ho[r],
                      lstm ? co[r] : none);
        }
        char logp[32];
        snprintf(logp, sizeof logp, M > 1 ? "logp.m%d" : "logprobs", K);
        head_nodes(b, K, ho[K * L + L - 1], logp);
    }
    if (M > 1)
        mixture_nodes(b, M);
    if (n > 1) {
        concat_node(b, "h_out", ho, n);
        if (lstm)
            concat_node(b, "c_out", co, n);
    }
}

/* The constants the nodes share, and every network's tensors. */
static void initializers(pb_buf *b, const drnn_model *m)
{
    const drnn_config *cfg = &m->cfg;
    int64_t depth[1] = {cfg->vocab}, labels[1] = {cfg->labels}, axis0[1] = {0};
    int64_t two[1] = {2};
    drnn_real onehot[2] = {0, 1}, log_members[1] = {(drnn_real)log((double)m->count)};
    tensor_int64s(b, "vocab_depth", depth, 1);
    if (cfg->labels > 0)
        tensor_int64s(b, "label_depth", labels, 1);
    tensor_int64s(b, "axis0", axis0, 1);
    tensor_floats(b, "onehot_values", two, 1, onehot, 2);
    if (m->count > 1)
        tensor_floats(b, "log_members", NULL, 0, log_members, 1);
    for (int K = 0; K < m->count; K++)
        network_tensors(b, &m->nets[K], K);
}

static void graph(pb_buf *b, const drnn_model *m)
{
    size_t g = pb_begin(b, MODEL_GRAPH);
    input_nodes(b, m);
    network_nodes(b, m);
    pb_string(b, GRAPH_NAME, "dinornn");
    initializers(b, m);
    graph_io(b, m);
    pb_end(b, g);
}

/* ---- the model ---- */

static int same_config(const drnn_config *a, const drnn_config *b)
{
    return a->vocab == b->vocab && a->hidden == b->hidden && a->layers == b->layers &&
           a->cell == b->cell && a->labels == b->labels;
}

/* DRNN_OK when m can be written: its sizes in range and its tensors within
 * protobuf's 2 GiB (ONNX's external data is not written). */
static int check_model(const drnn_model *m, drnn_error *err)
{
    const drnn_config *cfg = &m->cfg;
    int rc = drnn_config_check(cfg, err);
    if (rc)
        return rc;
    if (m->count < 1 || m->count > DRNN_MAX_MEMBERS || !m->nets)
        return drnn_fail(err, DRNN_ERR_INVALID, "a model of %d networks", m->count);
    uint64_t G = (uint64_t)drnn_cell_gates(cfg->cell), H = (uint64_t)cfg->hidden;
    uint64_t V = (uint64_t)cfg->vocab, N = (uint64_t)cfg->labels, L = (uint64_t)cfg->layers;
    uint64_t per_net = G * H * (V + N) + (L - 1) * G * H * H + L * G * H * H + L * 2 * G * H +
                       V * H + V;
    uint64_t bytes = per_net * (uint64_t)m->count * 4;
    if (bytes > PB_MAX_BYTES - (PB_MAX_BYTES >> 4)) /* a sixteenth for the graph and metadata */
        return drnn_fail(err, DRNN_ERR_INVALID,
                         "the model's %" PRIu64 " MiB of weights do not fit an ONNX file (2 GiB)",
                         bytes >> 20);
    for (int K = 0; K < m->count; K++)
        if (!same_config(&m->nets[K].cfg, cfg) || !m->nets[K].data ||
            (cfg->labels > 0 && !m->nets[K].W_l))
            return drnn_fail(err, DRNN_ERR_INVALID, "network %d is not of the model's shape", K);
    return DRNN_OK;
}

static void metadata(pb_buf *b, const drnn_meta *meta)
{
    for (size_t i = 0; i < meta->count; i++) {
        size_t e = pb_begin(b, MODEL_METADATA);
        pb_string(b, ENTRY_KEY, meta->entry[i].key);
        pb_string(b, ENTRY_VALUE, meta->entry[i].value);
        pb_end(b, e);
    }
}

int drnn_onnx_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                     drnn_error *err)
{
    drnn_params parts[DRNN_MAX_MEMBERS];
    *out = NULL;
    *len = 0;
    drnn_model m = drnn_state_model(st, parts);
    int rc = check_model(&m, err);
    if (rc)
        return rc;
    drnn_meta meta;
    rc = drnn_meta_build(&meta, st, &m, err);
    if (rc) {
        drnn_meta_free(&meta);
        return rc;
    }
    pb_buf b = {0};
    pb_int(&b, MODEL_IR_VERSION, IR_VERSION);
    size_t opset = pb_begin(&b, MODEL_OPSET);
    pb_string(&b, OPSET_DOMAIN, "");
    pb_int(&b, OPSET_VERSION, OPSET);
    pb_end(&b, opset);
    pb_string(&b, MODEL_PRODUCER, "dinornn");
    graph(&b, &m);
    metadata(&b, &meta);
    drnn_meta_free(&meta);
    if (b.failed) {
        free(b.data);
        return b.failed == 1 ? drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for the ONNX model")
                             : drnn_fail(err, DRNN_ERR_INVALID,
                                         "the ONNX model would pass protobuf's 2 GiB");
    }
    *out = b.data;
    *len = b.len;
    return drnn_ok(err);
}
