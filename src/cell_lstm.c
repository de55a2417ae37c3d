/* cell_lstm.c: the LSTM cell. Gate blocks, in order: input i, forget f,
 * candidate g, output o (G = 4); pre-activations a = xproj + hproj.
 *   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
 *   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)
 * Cache blocks: h, c, i, f, g, o, tanh(c) (C = 7); c is carried (K = 1). */
#include "cell.h"

enum { H_, C_, I_, F_, G_, O_, TC_ };

static void lstm_forward(drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                         const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    const drnn_real *c_prev = prev_cache + C_ * H;
    const drnn_real *xi = xproj, *xf = xproj + H, *xg = xproj + 2 * H, *xo = xproj + 3 * H;
    const drnn_real *ui = hproj, *uf = hproj + H, *ug = hproj + 2 * H, *uo = hproj + 3 * H;
    drnn_real *h = cache + H_ * H, *c = cache + C_ * H, *ci = cache + I_ * H;
    drnn_real *cf = cache + F_ * H, *cg = cache + G_ * H, *co = cache + O_ * H;
    drnn_real *ctc = cache + TC_ * H;
    DRNN_INDEPENDENT
    for (int k = 0; k < H; k++) {
        drnn_real i = drnn_sigmoid(xi[k] + ui[k]);
        drnn_real f = drnn_sigmoid(xf[k] + uf[k]);
        drnn_real g = drnn_tanh(xg[k] + ug[k]);
        drnn_real o = drnn_sigmoid(xo[k] + uo[k]);
        drnn_real cc = f * c_prev[k] + i * g;
        drnn_real tc = drnn_tanh(cc);
        h[k] = o * tc;
        c[k] = cc;
        ci[k] = i;
        cf[k] = f;
        cg[k] = g;
        co[k] = o;
        ctc[k] = tc;
    }
}

static void lstm_backward(drnn_real *restrict dxproj, drnn_real *restrict dhproj, drnn_real *restrict dh_prev,
                          drnn_real *restrict dcarry, const drnn_real *restrict dh,
                          const drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                          const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    (void)dh_prev, (void)xproj, (void)hproj;
    const drnn_real *c_prev = prev_cache + C_ * H;
    DRNN_INDEPENDENT
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
    .name = "lstm", .gates = 4, .cache = 7, .carry = 1, .hbias = 0,
    .forward = lstm_forward, .backward = lstm_backward, .init_bias = lstm_init_bias,
};
