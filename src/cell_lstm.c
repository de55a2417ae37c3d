/* cell_lstm.c: the LSTM cell. Gate blocks, in order: input i, forget f,
 * candidate g, output o (G = 4); pre-activations a = xproj + hproj.
 *   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
 *   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)
 * Cache blocks: h, c, i, f, g, o, tanh(c) (C = 7); c is carried (K = 1). */
#include "cell.h"

enum { H_, C_, I_, F_, G_, O_, TC_ };

static void lstm_forward(drnn_real *cache, const drnn_real *prev_cache,
                         const drnn_real *xproj, const drnn_real *hproj, int H)
{
    const drnn_real *c_prev = prev_cache + C_ * H;
    for (int k = 0; k < H; k++) {
        drnn_real i = drnn_sigmoid(xproj[k] + hproj[k]);
        drnn_real f = drnn_sigmoid(xproj[H + k] + hproj[H + k]);
        drnn_real g = tanh(xproj[2 * H + k] + hproj[2 * H + k]);
        drnn_real o = drnn_sigmoid(xproj[3 * H + k] + hproj[3 * H + k]);
        drnn_real c = f * c_prev[k] + i * g;
        drnn_real tc = tanh(c);
        cache[H_ * H + k] = o * tc;
        cache[C_ * H + k] = c;
        cache[I_ * H + k] = i;
        cache[F_ * H + k] = f;
        cache[G_ * H + k] = g;
        cache[O_ * H + k] = o;
        cache[TC_ * H + k] = tc;
    }
}

static void lstm_backward(drnn_real *dxproj, drnn_real *dhproj, drnn_real *dh_prev,
                          drnn_real *dcarry, const drnn_real *dh,
                          const drnn_real *cache, const drnn_real *prev_cache,
                          const drnn_real *xproj, const drnn_real *hproj, int H)
{
    (void)dh_prev, (void)xproj, (void)hproj;
    const drnn_real *c_prev = prev_cache + C_ * H;
    for (int k = 0; k < H; k++) {
        drnn_real i = cache[I_ * H + k], f = cache[F_ * H + k];
        drnn_real g = cache[G_ * H + k], o = cache[O_ * H + k], tc = cache[TC_ * H + k];
        /* dcarry holds dloss/dc_t through c_{t+1}; add the path through h_t. */
        drnn_real dc = dcarry[k] + dh[k] * o * (1 - tc * tc);
        drnn_real da_i = dc * g * i * (1 - i);
        drnn_real da_f = dc * c_prev[k] * f * (1 - f);
        drnn_real da_g = dc * i * (1 - g * g);
        drnn_real da_o = dh[k] * tc * o * (1 - o);
        dxproj[k] = dhproj[k] = da_i;
        dxproj[H + k] = dhproj[H + k] = da_f;
        dxproj[2 * H + k] = dhproj[2 * H + k] = da_g;
        dxproj[3 * H + k] = dhproj[3 * H + k] = da_o;
        dcarry[k] = dc * f;
    }
}

/* A forget-gate bias of 1 keeps the cell state flowing early in training. */
static void lstm_init_bias(drnn_real *b, int H)
{
    for (int k = 0; k < H; k++)
        b[H + k] = 1;
}

const drnn_cell_ops drnn_cell_lstm = {
    .name = "lstm",
    .gates = 4,
    .cache = 7,
    .carry = 1,
    .hbias = 0,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .init_bias = lstm_init_bias,
};
