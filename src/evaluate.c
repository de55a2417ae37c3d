/* evaluate.c: the loss of a model over a corpus, summed in an order that no
 * thread count changes: fixed chunks of names, each in order, then the
 * chunks in order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/evaluate.h"
#include "dinornn/train.h"
#include "evaluate.h"
#include "internal.h"

/* Names evaluated at once, at most: enough for the products over steps to
 * reuse each weight, few enough for the activations to stay in cache. The
 * trainer's workspaces take fewer (a slot's names), drnn_evaluate's this. */
#define EVAL_GROUP 16

/* Loss of w over c in DRNN_EVAL_CHUNKS fixed chunks of names, each summed in
 * order, then summed in chunk order: the result depends neither on the
 * thread count nor on how many workspaces there are. Workspace s serves
 * chunks s, s + n_scratch, ... so that no two threads share one. */
double drnn_evaluate_chunks(const drnn_params *w, const drnn_corpus *c, drnn_scratch **scratch,
                              int n_scratch, int group, int64_t *chars_out)
{
    if (group > EVAL_GROUP)
        group = EVAL_GROUP;
    double loss[DRNN_EVAL_CHUNKS];
    int64_t chars[DRNN_EVAL_CHUNKS];
    const size_t n = c->count;
    DRNN_OMP(omp parallel for schedule(dynamic, 1) num_threads(drnn_threads_for((size_t)n_scratch)))
    for (int s = 0; s < n_scratch; s++) {
        drnn_scratch_set_dropout(scratch[s], 0); /* evaluation never drops */
        for (int k = s; k < DRNN_EVAL_CHUNKS; k += n_scratch) {
            double sum = 0;
            int64_t count = 0;
            const size_t end = (size_t)(k + 1) * n / DRNN_EVAL_CHUNKS;
            for (size_t i = (size_t)k * n / DRNN_EVAL_CHUNKS; i < end;) {
                /* A group at a time; the losses still summed name by name. */
                const drnn_token *names[EVAL_GROUP];
                int lens[EVAL_GROUP], m = 0;
                uint16_t labels[EVAL_GROUP];
                double losses[EVAL_GROUP];
                for (; m < group && i < end; m++, i++) {
                    names[m] = c->tokens + c->start[i];
                    lens[m] = drnn_corpus_len(c, i);
                    labels[m] = c->labels ? c->labels[i] : 0;
                    count += lens[m] + 1;
                }
                /* NaN too for a labeled model over unlabeled names. */
                if (isnan(drnn_group_loss_labeled(w, scratch[s], names, c->labels ? labels : NULL,
                                                  lens, m, NULL, losses, NULL, 0))) {
                    sum = NAN; /* the workspaces fit every name: only a label missing */
                    break;
                }
                for (int j = 0; j < m; j++)
                    sum += losses[j];
            }
            loss[k] = sum;
            chars[k] = count;
        }
    }
    double total = 0;
    *chars_out = 0;
    for (int k = 0; k < DRNN_EVAL_CHUNKS; k++) {
        total += loss[k];
        *chars_out += chars[k];
    }
    return total;
}

/* One name's loss through st, with p[V] as room for the probabilities;
 * each step's share into steps[0 .. len] when steps is not NULL. */
static double name_nats(const drnn_model *m, drnn_stepper *st, const drnn_token *name, int len,
                        drnn_real *p, double *steps)
{
    const int V = m->cfg.vocab;
    double nats = 0;
    drnn_stepper_reset(st);
    drnn_token in = DRNN_END;
    for (int t = 0; t <= len; t++) {
        memcpy(p, drnn_stepper_feed(st, m, in), (size_t)V * sizeof *p);
        const drnn_token target = t < len ? name[t] : DRNN_END;
        /* The arithmetic of the training loss and of the search's scores. */
        drnn_real zmax;
        const drnn_real logit = p[target];
        const double step = drnn_softmax(p, V, &zmax) - ((double)logit - zmax);
        nats += step;
        if (steps)
            steps[t] = step;
        in = target;
    }
    return nats;
}

double drnn_name_step_nats(const drnn_model *m, drnn_stepper *st, const drnn_token *name,
                           int len, double *steps)
{
    drnn_real *p = malloc((size_t)m->cfg.vocab * sizeof *p);
    if (!p)
        return NAN;
    double nats = name_nats(m, st, name, len, p, steps);
    free(p);
    return nats;
}

double drnn_name_nats(const drnn_model *m, drnn_stepper *st, const drnn_token *name, int len)
{
    return drnn_name_step_nats(m, st, name, len, NULL);
}

/* A mixture's loss, through the stepper: name after name, in order, each
 * labeled name under its label. */
static int evaluate_mixture(const drnn_model *m, const drnn_corpus *c, double *nats,
                            int64_t *chars, drnn_error *err)
{
    drnn_stepper *st;
    int rc = drnn_stepper_new(&st, m, err);
    if (rc)
        return rc;
    drnn_real *p = malloc((size_t)m->cfg.vocab * sizeof *p); /* once, not a name at a time */
    if (!p) {
        drnn_stepper_free(st);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->count; i++) {
        const int len = drnn_corpus_len(c, i);
        if (m->cfg.labels > 0)
            drnn_stepper_set_label(st, c->labels[i]); /* checked by drnn_check_corpus_labels */
        *nats += name_nats(m, st, c->tokens + c->start[i], len, p, NULL);
        *chars += len + 1;
    }
    free(p);
    drnn_stepper_free(st);
    return drnn_ok(err);
}

int drnn_check_corpus_labels(const drnn_model *m, const drnn_corpus *c, drnn_error *err)
{
    const int N = m->cfg.labels;
    if (N == 0)
        return drnn_ok(err);
    if (!c->labels)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "the model is conditioned on %d labels, but the names have none: "
                         "give each name its label after a tab", N);
    for (size_t i = 0; i < c->count; i++)
        if (c->labels[i] >= N)
            return drnn_fail(err, DRNN_ERR_MISMATCH,
                             "name %zu has label %d, but the model has %d labels", i + 1,
                             (int)c->labels[i], N);
    return drnn_ok(err);
}

int drnn_evaluate(const drnn_model *m, const drnn_corpus *c, double *nats, int64_t *chars,
                  drnn_error *err)
{
    *nats = 0;
    *chars = 0;
    int rc = drnn_check_corpus_labels(m, c, err);
    if (rc || c->count == 0)
        return rc;
    if (m->count > 1)
        return evaluate_mixture(m, c, nats, chars, err);
    const drnn_params *w = &m->nets[0];
    drnn_scratch *scratch[DRNN_GRAD_SLOTS] = {NULL};
    int n = c->count < DRNN_GRAD_SLOTS ? (int)c->count : DRNN_GRAD_SLOTS;
    for (int s = 0; s < n && !rc; s++)
        rc = drnn_scratch_new_group(&scratch[s], &w->cfg, drnn_longest_name(c), EVAL_GROUP, err);
    if (!rc)
        *nats = drnn_evaluate_chunks(w, c, scratch, n, EVAL_GROUP, chars);
    for (int s = 0; s < n; s++)
        drnn_scratch_free(scratch[s]);
    return rc ? rc : drnn_ok(err);
}
