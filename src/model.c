/* model.c: what a checkpoint stands for, one network or a mixture of them
 * (model.h). */
#include "dinornn/model.h"

drnn_model drnn_model_of(const drnn_params *nets, int count)
{
    drnn_model m = {.cfg = nets[0].cfg, .count = count < 1 ? 1 : count, .nets = nets,
                    .label = DRNN_LABEL_MIXTURE};
    return m;
}
