/* fuzz_safetensors.c: arbitrary bytes as a safetensors file to import
 * (docs/interop.md). An accepted file must export back to a file that
 * imports as the same model, make a checkpoint that loads, and take a step. */
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drnn_train_state st, back;
    if (drnn_safetensors_decode(&st, data, size, "fuzz", NULL) != DRNN_OK)
        return 0;
    unsigned char *out;
    size_t len;
    if (drnn_safetensors_encode(&st, &out, &len, NULL) != DRNN_OK)
        abort();
    if (drnn_safetensors_decode(&back, out, len, "again", NULL) != DRNN_OK ||
        memcmp(back.weights.data, st.weights.data, st.weights.count * sizeof(drnn_real)) != 0)
        abort();
    free(out);
    drnn_state_free(&back);
    /* What dinornn-import writes: a checkpoint that loads. */
    if (drnn_checkpoint_encode(&st, &out, &len, NULL) != DRNN_OK ||
        drnn_checkpoint_decode(&back, out, len, "ckpt", 1, NULL) != DRNN_OK)
        abort();
    free(out);
    drnn_state_free(&back);
    fuzz_model_step(&st);
    drnn_state_free(&st);
    return 0;
}
