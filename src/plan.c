/* plan.c: the sizes of a run, computed once (plan.h). */
#include <string.h>

#include "dinornn/train.h"
#include "internal.h"
#include "optim.h"
#include "plan.h"
#include "state.h"

int drnn_plan_make(drnn_plan *p, const drnn_hparams *hp, int max_len, size_t n_train,
                   int threads, drnn_error *err)
{
    memset(p, 0, sizeof *p);
    int rc = DRNN_OK;
    p->slots = hp->batch < hp->slots ? hp->batch : hp->slots;
    if (p->slots < 1 || p->slots > DRNN_MAX_SLOTS)
        rc = drnn_fail(err, DRNN_ERR_INVALID, "--slots: %d is out of range (must be from 1 to %d)",
                       hp->slots, DRNN_MAX_SLOTS);
    if (p->slots < 1)
        p->slots = 1;
    p->group = (hp->batch + p->slots - 1) / p->slots;
    /* Gradients need one buffer per slot for the sums to be independent of
     * the thread count; workspaces only one per thread that can run. */
    if (threads > DRNN_MAX_THREADS)
        threads = DRNN_MAX_THREADS;
    p->workers = threads < p->slots ? threads : p->slots;
    if (p->workers < 1)
        p->workers = 1;
    p->max_len = max_len;

    p->params = drnn_param_count(&hp->model);
    p->chunks = (p->params + DRNN_CHUNK - 1) / DRNN_CHUNK;
    p->batch = (size_t)(hp->batch > 0 ? hp->batch : 0);
    /* Each slot reads END and its names' symbols. */
    p->rows = p->batch * (size_t)(max_len > 0 ? max_len : 0) + (size_t)p->slots;
    p->shuffle = n_train;

    p->weight_bytes = (double)p->params * sizeof(drnn_real);
    p->state_bytes = p->weight_bytes * (1 + drnn_state_has_moment(hp->optimizer, 1) +
                                        drnn_state_has_moment(hp->optimizer, 2) +
                                        (hp->members > 1 ? hp->members : 0));
    p->gradient_bytes = p->weight_bytes * p->slots;
    p->workspace_bytes = drnn_scratch_bytes(&hp->model, max_len, p->group);
    p->shuffle_bytes = (double)n_train * sizeof(uint32_t);
    return rc ? rc : drnn_ok(err);
}
