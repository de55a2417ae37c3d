/* fuzz_checkpoint.c: arbitrary bytes as a checkpoint. The checksum is not
 * checked (as real fuzzing setups do) so that mutations reach the field
 * validation behind it; an accepted file must encode back to the same bytes
 * and run a forward step. */
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "fuzz.h"

static int same_but_reserved(const unsigned char *a, size_t n, const unsigned char *b, size_t m)
{
    return n == m && n > 300 && memcmp(a, b, 292) == 0 &&
           memcmp(a + 296, b + 296, n - 4 - 296) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drnn_train_state st;
    if (drnn_checkpoint_decode(&st, data, size, "fuzz", 0, NULL) != DRNN_OK)
        return 0;
    unsigned char *again;
    size_t len;
    if (drnn_checkpoint_encode(&st, &again, &len, NULL) == DRNN_OK) {
        /* Versions 3 and 4 (the versions written) round-trip byte for byte,
         * but for the checksum and version 3's reserved bytes, which are not
         * checked (version 4's are). */
        if ((data[8] == 3 || data[8] == 4) && !same_but_reserved(again, len, data, size))
            abort();
        free(again);
    }
    fuzz_model_step(&st);
    drnn_state_free(&st);
    return 0;
}
