/* cell_rnn.c: the vanilla tanh cell, h_t = tanh(xproj_t + hproj_t). */
#include "cell.h"

static void rnn_forward(drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                        const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    (void)prev_cache;
    for (int i = 0; i < H; i++)
        cache[i] = drnn_tanh(xproj[i] + hproj[i]);
}

static void rnn_backward(drnn_real *restrict dxproj, drnn_real *restrict dhproj, drnn_real *restrict dh_prev,
                         drnn_real *restrict dcarry, const drnn_real *restrict dh,
                         const drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                         const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    (void)dh_prev, (void)dcarry, (void)prev_cache, (void)xproj, (void)hproj;
    DRNN_INDEPENDENT
    for (int i = 0; i < H; i++) {
        drnn_real h = cache[i];
        drnn_real d = dh[i] * (1 - h * h); /* tanh' = 1 - tanh^2 */
        dxproj[i] = d;
        dhproj[i] = d;
    }
}

const drnn_cell_ops drnn_cell_rnn = {
    .name = "rnn", .gates = 1, .cache = 1, .carry = 0, .hbias = 0,
    .forward = rnn_forward, .backward = rnn_backward,
};
