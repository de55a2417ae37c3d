/* fuzz.h: the entry point every fuzz target defines (libFuzzer's), and what
 * the targets of model files share. */
#ifndef DINORNN_FUZZ_H
#define DINORNN_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "dinornn/dinornn.h"

/* What an accepted state stands for (a mixture's members too) takes a step. */
static inline void fuzz_model_step(const drnn_train_state *st)
{
    drnn_params parts[DRNN_MAX_MEMBERS];
    const drnn_model model = drnn_state_model(st, parts);
    drnn_stepper *stepper;
    if (drnn_stepper_new(&stepper, &model, NULL) == DRNN_OK) {
        drnn_stepper_reset(stepper);
        drnn_stepper_feed(stepper, &model, DRNN_END);
        drnn_stepper_free(stepper);
    }
}
#endif
