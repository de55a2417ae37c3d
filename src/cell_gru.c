/* cell_gru.c: the GRU cell as PyTorch and cuDNN define it. Gate blocks, in
 * order: reset r, update z, candidate n (G = 3). With x = xproj (which holds
 * W_x x_t + b) and u = hproj (W_h h_{t-1}, plus the hidden bias b_hn on the
 * n block):
 *   r = sigmoid(x_r + u_r)   z = sigmoid(x_z + u_z)
 *   n = tanh(x_n + r * u_n)  h_t = (1 - z) * n + z * h_{t-1}
 * Cache blocks: h, r, z, n (C = 4). */
#include "cell.h"

enum { H_, R_, Z_, N_ };

static void gru_forward(drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                        const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    const drnn_real *h_prev = prev_cache;
    DRNN_INDEPENDENT
    for (int k = 0; k < H; k++) {
        drnn_real r = drnn_sigmoid(xproj[k] + hproj[k]);
        drnn_real z = drnn_sigmoid(xproj[H + k] + hproj[H + k]);
        drnn_real n = drnn_tanh(xproj[2 * H + k] + r * hproj[2 * H + k]);
        cache[H_ * H + k] = (1 - z) * n + z * h_prev[k];
        cache[R_ * H + k] = r;
        cache[Z_ * H + k] = z;
        cache[N_ * H + k] = n;
    }
}

static void gru_backward(drnn_real *restrict dxproj, drnn_real *restrict dhproj, drnn_real *restrict dh_prev,
                         drnn_real *restrict dcarry, const drnn_real *restrict dh,
                         const drnn_real *restrict cache, const drnn_real *restrict prev_cache,
                         const drnn_real *restrict xproj, const drnn_real *restrict hproj, int H)
{
    (void)dcarry, (void)xproj;
    const drnn_real *h_prev = prev_cache;
    DRNN_INDEPENDENT
    for (int k = 0; k < H; k++) {
        drnn_real r = cache[R_ * H + k], z = cache[Z_ * H + k], n = cache[N_ * H + k];
        drnn_real u_n = hproj[2 * H + k];
        drnn_real da_n = dh[k] * (1 - z) * (1 - n * n);
        drnn_real da_z = dh[k] * (h_prev[k] - n) * z * (1 - z);
        drnn_real da_r = da_n * u_n * r * (1 - r);
        dxproj[k] = dhproj[k] = da_r;
        dxproj[H + k] = dhproj[H + k] = da_z;
        dxproj[2 * H + k] = da_n;
        dhproj[2 * H + k] = da_n * r;
        /* h_{t-1} also reaches h_t directly, through z. */
        dh_prev[k] += dh[k] * z;
    }
}

const drnn_cell_ops drnn_cell_gru = {
    .name = "gru", .gates = 3, .cache = 4, .carry = 0, .hbias = 1,
    .forward = gru_forward, .backward = gru_backward,
};
