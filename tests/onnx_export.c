/* onnx_export.c: writes the ONNX export (drnn_onnx_encode) of a checkpoint
 * to a file, for tests/cli-onnx.sh, until dinornn-export exists. A test
 * helper: built by make check, not installed.
 *   tests/onnx_export CHECKPOINT OUT.onnx */
#include <stdio.h>
#include <stdlib.h>

#include "dinornn/checkpoint.h"
#include "dinornn/interop.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CHECKPOINT OUT.onnx\n", argv[0]);
        return 2;
    }
    drnn_error err;
    drnn_train_state st;
    if (drnn_checkpoint_load(&st, argv[1], &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    unsigned char *buf;
    size_t len;
    int rc = drnn_onnx_encode(&st, &buf, &len, &err);
    drnn_state_free(&st);
    if (rc) {
        fprintf(stderr, "%s: %s (%s)\n", argv[1], err.message, drnn_status_name(err.code));
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    free(buf);
    if (!ok) {
        fprintf(stderr, "%s: cannot write\n", argv[2]);
        return 1;
    }
    return 0;
}
