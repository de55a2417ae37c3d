/* classify.c: P(label | name) by Bayes' rule over a labeled model's
 * P(name | label), and the measures of a labeled model on a labeled corpus
 * (classify.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/bptt.h"
#include "dinornn/classify.h"
#include "dinornn/evaluate.h"
#include "dinornn/stepper.h"
#include "dinornn/train.h"
#include "evaluate.h"
#include "internal.h"

/* Labels scored at once for one network: a name repeated with each label,
 * as one group of the loss (one pass over the weights for all of them). */
#define LABEL_GROUP 32

/* What one thread needs to score names under every label. */
struct drnn_label_scorer {
    const drnn_model *m;
    drnn_scratch *scratch;   /* one network */
    drnn_stepper *stepper;   /* a mixture */
};

int drnn_label_scorer_new(drnn_label_scorer **out, const drnn_model *m, int max_len,
                          drnn_error *err)
{
    *out = NULL;
    if (m->cfg.labels < 1)
        return drnn_fail(err, DRNN_ERR_INVALID, "the model has no labels to classify by");
    drnn_label_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    s->m = m;
    int group = m->cfg.labels < LABEL_GROUP ? m->cfg.labels : LABEL_GROUP;
    int rc = m->count > 1 ? drnn_stepper_new(&s->stepper, m, err)
                          : drnn_scratch_new_group(&s->scratch, &m->cfg,
                                                   max_len < 1 ? 1 : max_len, group, err);
    if (rc)
        drnn_label_scorer_free(s);
    else
        *out = s;
    return rc;
}

void drnn_label_scorer_free(drnn_label_scorer *s)
{
    if (!s)
        return;
    drnn_scratch_free(s->scratch);
    drnn_stepper_free(s->stepper);
    free(s);
}

/* A name's groups are the same whatever the thread, so its values are too. */
void drnn_label_scorer_nats(drnn_label_scorer *s, const drnn_token *name, int len, double *nats)
{
    const int N = s->m->cfg.labels;
    if (s->stepper) {
        for (int k = 0; k < N; k++) {
            drnn_stepper_set_label(s->stepper, k);
            nats[k] = drnn_name_nats(s->m, s->stepper, name, len);
        }
        return;
    }
    const drnn_token *names[LABEL_GROUP];
    int lens[LABEL_GROUP];
    uint16_t labels[LABEL_GROUP];
    for (int k0 = 0; k0 < N; k0 += LABEL_GROUP) {
        int n = N - k0 < LABEL_GROUP ? N - k0 : LABEL_GROUP;
        for (int j = 0; j < n; j++) {
            names[j] = name;
            lens[j] = len;
            labels[j] = (uint16_t)(k0 + j);
        }
        drnn_group_loss_labeled(&s->m->nets[0], s->scratch, names, labels, lens, n, NULL,
                                nats + k0, NULL, 0);
    }
}

int drnn_label_nats(const drnn_model *m, const drnn_token *name, int len, double *nats,
                    drnn_error *err)
{
    drnn_label_scorer *s;
    int rc = drnn_label_scorer_new(&s, m, len, err);
    if (rc)
        return rc;
    drnn_label_scorer_nats(s, name, len, nats);
    drnn_label_scorer_free(s);
    return drnn_ok(err);
}

int drnn_label_posterior(const drnn_label_table *t, const double *nats, double *post)
{
    int best = 0;
    double top = -HUGE_VAL, sum = 0, names = 0;
    /* drnn_label_share's arithmetic, the total summed once, not per label. */
    for (int k = 0; k < t->count && t->names; k++)
        names += (double)t->names[k];
    for (int k = 0; k < t->count; k++) {
        const double share = names > 0 ? (double)t->names[k] / names : 1.0 / t->count;
        post[k] = log(share) - nats[k];
        if (post[k] > top) {
            top = post[k];
            best = k;
        }
    }
    for (int k = 0; k < t->count; k++)
        sum += post[k] = exp(post[k] - top);
    for (int k = 0; k < t->count; k++)
        post[k] /= sum;
    return best;
}

void drnn_label_order(const double *post, int n, int *order)
{
    for (int i = 0; i < n; i++) { /* insertion sort: a few labels, stable */
        int j = i;
        for (; j > 0 && post[order[j - 1]] < post[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
}

int drnn_label_nats_corpus(const drnn_model *m, const drnn_corpus *c, double *nats,
                           drnn_error *err)
{
    const int N = m->cfg.labels, T = drnn_threads_for(c->count);
    drnn_label_scorer *s[DRNN_MAX_THREADS] = {NULL};
    int made = 0, rc = DRNN_OK;
    for (; made < T && !rc; made++)
        rc = drnn_label_scorer_new(&s[made], m, drnn_longest_name(c), err);
    if (!rc) {
        /* Name i's values do not depend on the thread that computes them. */
        DRNN_OMP(omp parallel for schedule(dynamic, 16) num_threads(made))
        for (size_t i = 0; i < c->count; i++)
            drnn_label_scorer_nats(s[drnn_thread_index()], c->tokens + c->start[i],
                                   drnn_corpus_len(c, i), nats + i * (size_t)N);
    }
    for (int t = 0; t < made; t++)
        drnn_label_scorer_free(s[t]);
    return rc ? rc : drnn_ok(err);
}

void drnn_label_report_free(drnn_label_report *rep)
{
    free(rep->nats);
    free(rep->chars);
    free(rep->count);
    free(rep->confusion);
    memset(rep, 0, sizeof *rep);
}

int drnn_evaluate_labels(const drnn_model *m, const drnn_label_table *t, const drnn_corpus *c,
                         drnn_label_report *rep, drnn_error *err)
{
    memset(rep, 0, sizeof *rep);
    const int N = m->cfg.labels;
    if (N < 1 || t->count != N)
        return drnn_fail(err, DRNN_ERR_MISMATCH, "a labeled model and its label table are needed");
    int rc = drnn_check_corpus_labels(m, c, err); /* labeled names, each a model's label */
    if (rc)
        return rc;
    int overflow = 0;
    size_t cells = drnn_mul_size(c->count, (size_t)N, &overflow);
    double *nats = overflow ? NULL : malloc((cells ? cells : 1) * sizeof *nats);
    double *post = malloc((size_t)N * sizeof *post);
    rep->labels = N;
    rep->nats = calloc((size_t)N, sizeof *rep->nats);
    rep->chars = calloc((size_t)N, sizeof *rep->chars);
    rep->count = calloc((size_t)N, sizeof *rep->count);
    rep->confusion = calloc((size_t)N * (size_t)N, sizeof *rep->confusion);
    rc = !nats || !post || !rep->nats || !rep->chars || !rep->count || !rep->confusion
             ? drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %zu names' label scores",
                         c->count)
             : drnn_label_nats_corpus(m, c, nats, err);
    for (size_t i = 0; i < c->count && !rc; i++) {
        const int truth = c->labels[i];
        const int chosen = drnn_label_posterior(t, nats + i * (size_t)N, post);
        rep->nats[truth] += nats[i * (size_t)N + (size_t)truth];
        rep->chars[truth] += drnn_corpus_len(c, i) + 1;
        rep->count[truth]++;
        rep->confusion[(size_t)truth * (size_t)N + (size_t)chosen]++;
        rep->correct += chosen == truth;
        rep->names++;
    }
    free(nats);
    free(post);
    if (rc)
        drnn_label_report_free(rep);
    return rc ? rc : drnn_ok(err);
}
