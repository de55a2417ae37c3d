/* dinornn/cells.h: the recurrent cells a network can be built of. */
#ifndef DINORNN_CELLS_H
#define DINORNN_CELLS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum drnn_cell_kind {
    DRNN_CELL_RNN = 0,   /* h_t = tanh(W_x x_t + W_h h_{t-1} + b) */
    DRNN_CELL_LSTM = 1,  /* gates i, f, g, o; forget-gate bias initialised to 1 */
    DRNN_CELL_GRU = 2,   /* gates r, z, n as in PyTorch, with a hidden-side bias for n */
    DRNN_CELL_KIND_COUNT
} drnn_cell_kind;

/* Gate blocks G of a cell kind (1 for DRNN_CELL_RNN); 0 for an unknown kind. */
int drnn_cell_gates(drnn_cell_kind kind);
/* "rnn", ...; NULL for an unknown kind. */
const char *drnn_cell_name(drnn_cell_kind kind);

#ifdef __cplusplus
}
#endif
#endif
