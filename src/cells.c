/* cells.c: the registry of recurrent cells: which kinds exist, their names
 * and their gate counts (each cell's arithmetic is in cell_<name>.c). */
#include <string.h>

#include "cell.h"

static const drnn_cell_ops *const cell_table[DRNN_CELL_KIND_COUNT] = {
    [DRNN_CELL_RNN] = &drnn_cell_rnn,
    [DRNN_CELL_LSTM] = &drnn_cell_lstm,
    [DRNN_CELL_GRU] = &drnn_cell_gru,
};

const drnn_cell_ops *drnn_cell_ops_of(drnn_cell_kind kind)
{
    if ((int)kind < 0 || kind >= DRNN_CELL_KIND_COUNT)
        return NULL;
    return cell_table[kind];
}

int drnn_cell_gates(drnn_cell_kind kind)
{
    const drnn_cell_ops *ops = drnn_cell_ops_of(kind);
    return ops ? ops->gates : 0;
}

const char *drnn_cell_name(drnn_cell_kind kind)
{
    const drnn_cell_ops *ops = drnn_cell_ops_of(kind);
    return ops ? ops->name : NULL;
}
