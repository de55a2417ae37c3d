/* onnx_stub.c: until the ONNX writer lands. */
#include "dinornn/interop.h"
#include "error_internal.h"

int drnn_onnx_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                     drnn_error *err)
{
    (void)st;
    *out = NULL;
    *len = 0;
    return drnn_fail(err, DRNN_ERR_INVALID, "ONNX export is not built yet");
}
