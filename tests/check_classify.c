/* check_classify.c: P(label | name) against a direct computation from the
 * labeled loss on small models, the same values for any thread count, and
 * dinornn-eval's label figures against a loop over the names. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dinornn/dinornn.h"
#include "check_run.h"

enum { V = 5, N = 3 };

/* A random labeled network, weights spread so that labels differ clearly. */
static void labeled_net(drnn_params *w, drnn_cell_kind cell, int layers, uint64_t seed)
{
    drnn_config cfg = {.vocab = V, .hidden = 7, .layers = layers, .cell = cell, .labels = N};
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&rng, seed);
    drnn_params_init(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] *= 2;
}

static void table_of(drnn_label_table *t, const int64_t *counts)
{
    static const char *texts[N] = {"female", "male", "place"};
    drnn_label_table src = {.count = N, .text = (char **)texts, .names = (int64_t *)counts};
    ck_assert_int_eq(drnn_label_table_copy(t, &src, NULL), DRNN_OK);
}

static const drnn_token names[][6] = {{1, 2, 3}, {4}, {2, 2, 2, 2, 1, 3}, {3, 1}};
static const int lens[] = {3, 1, 6, 2};

/* drnn_label_nats is the labeled loss of each label, and the posterior is
 * Bayes' rule over it, summing to 1, the most likely returned. */
START_TEST(test_posterior_is_bayes)
{
    static const drnn_cell_kind cells[] = {DRNN_CELL_RNN, DRNN_CELL_LSTM, DRNN_CELL_GRU};
    const int64_t counts[N] = {10, 30, 60};
    drnn_label_table t;
    table_of(&t, counts);
    for (int c = 0; c < 3; c++) {
        drnn_params w;
        drnn_scratch *s;
        labeled_net(&w, cells[c], 1 + c % 2, 7 + (uint64_t)c);
        ck_assert_int_eq(drnn_scratch_new(&s, &w.cfg, 8, NULL), DRNN_OK);
        drnn_model m = drnn_model_of(&w, 1);
        drnn_label_scorer *scorer; /* made once for every name: the same bits */
        ck_assert_int_eq(drnn_label_scorer_new(&scorer, &m, 8, NULL), DRNN_OK);
        for (int i = 0; i < 4; i++) {
            double nats[N], post[N], direct[N], z = 0, again[N];
            ck_assert_int_eq(drnn_label_nats(&m, names[i], lens[i], nats, NULL), DRNN_OK);
            drnn_label_scorer_nats(scorer, names[i], lens[i], again);
            ck_assert(memcmp(nats, again, sizeof nats) == 0);
            for (int k = 0; k < N; k++) {
                double loss = drnn_name_loss_labeled(&w, s, names[i], lens[i], k);
                ck_assert_msg(nats[k] == loss, "cell %d name %d label %d: %.17g vs %.17g", c, i,
                              k, nats[k], loss);
                direct[k] = counts[k] / 100.0 * exp(-loss);
                z += direct[k];
            }
            int best = drnn_label_posterior(&t, nats, post), want = 0;
            double sum = 0;
            for (int k = 0; k < N; k++) {
                ck_assert_msg(fabs(post[k] - direct[k] / z) < 1e-12, "posterior %d", k);
                sum += post[k];
                if (direct[k] > direct[want])
                    want = k;
            }
            ck_assert(fabs(sum - 1) < 1e-12);
            ck_assert_int_eq(best, want);
            int order[N];
            drnn_label_order(post, N, order);
            ck_assert_int_eq(order[0], best);
            ck_assert(post[order[0]] >= post[order[1]] && post[order[1]] >= post[order[2]]);
        }
        drnn_label_scorer_free(scorer);
        drnn_scratch_free(s);
        drnn_params_free(&w);
    }
    drnn_label_table_free(&t);
}
END_TEST

/* A mixture of two networks: each label's nats are the stepper's. */
START_TEST(test_mixture_label_nats)
{
    drnn_params w[2];
    labeled_net(&w[0], DRNN_CELL_GRU, 2, 3);
    labeled_net(&w[1], DRNN_CELL_GRU, 2, 4);
    drnn_model m = drnn_model_of(w, 2);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
    for (int i = 0; i < 4; i++) {
        double nats[N];
        ck_assert_int_eq(drnn_label_nats(&m, names[i], lens[i], nats, NULL), DRNN_OK);
        for (int k = 0; k < N; k++) {
            ck_assert_int_eq(drnn_stepper_set_label(st, k), DRNN_OK);
            ck_assert(nats[k] == drnn_name_nats(&m, st, names[i], lens[i]));
        }
    }
    drnn_stepper_free(st);
    drnn_params_free(&w[0]);
    drnn_params_free(&w[1]);
}
END_TEST

/* An unlabeled model is refused, not classified by chance. */
START_TEST(test_unlabeled_refused)
{
    drnn_config cfg = {.vocab = V, .hidden = 4, .layers = 1, .cell = DRNN_CELL_RNN};
    drnn_params w;
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    drnn_model m = drnn_model_of(&w, 1);
    double nats[1];
    drnn_error err;
    ck_assert_int_eq(drnn_label_nats(&m, names[0], lens[0], nats, &err), DRNN_ERR_INVALID);
    drnn_params_free(&w);
}
END_TEST

/* A labeled corpus of n names with labels i % N, built by hand. */
static void corpus_of(drnn_corpus *c, int n, const drnn_label_table *t)
{
    memset(c, 0, sizeof *c);
    c->count = (size_t)n;
    c->start = calloc((size_t)n + 1, sizeof *c->start);
    c->tokens = calloc((size_t)n * 6, sizeof *c->tokens);
    c->labels = calloc((size_t)n, sizeof *c->labels);
    ck_assert(c->start && c->tokens && c->labels);
    for (int i = 0; i < n; i++) {
        memcpy(c->tokens + c->start[i], names[i % 4], (size_t)lens[i % 4] * sizeof(drnn_token));
        c->start[i + 1] = c->start[i] + (size_t)lens[i % 4];
        c->labels[i] = (uint16_t)((i * 7 / 3) % N);
    }
    ck_assert_int_eq(drnn_label_table_copy(&c->label_table, t, NULL), DRNN_OK);
}

/* The corpus's label scores do not depend on the thread count, and the
 * report is the loop over names written out. */
START_TEST(test_report_matches_loop)
{
    const int64_t counts[N] = {5, 3, 2};
    drnn_label_table t;
    table_of(&t, counts);
    drnn_params w;
    labeled_net(&w, DRNN_CELL_LSTM, 2, 11);
    drnn_model m = drnn_model_of(&w, 1);
    drnn_corpus c;
    corpus_of(&c, 41, &t);
    double *one = malloc(c.count * N * sizeof *one), *four = malloc(c.count * N * sizeof *four);
    ck_assert(one && four);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    ck_assert_int_eq(drnn_label_nats_corpus(&m, &c, one, NULL), DRNN_OK);
#ifdef _OPENMP
    omp_set_num_threads(4);
#endif
    ck_assert_int_eq(drnn_label_nats_corpus(&m, &c, four, NULL), DRNN_OK);
    ck_assert(memcmp(one, four, c.count * N * sizeof *one) == 0);
    drnn_label_report rep;
    ck_assert_int_eq(drnn_evaluate_labels(&m, &t, &c, &rep, NULL), DRNN_OK);
    size_t correct = 0, conf[N * N] = {0};
    double nats[N] = {0};
    for (size_t i = 0; i < c.count; i++) {
        double post[N];
        int chosen = drnn_label_posterior(&t, one + i * N, post), truth = c.labels[i];
        nats[truth] += one[i * N + (size_t)truth];
        conf[truth * N + chosen]++;
        correct += chosen == truth;
    }
    ck_assert_uint_eq(rep.correct, correct);
    ck_assert_uint_eq(rep.names, c.count);
    ck_assert(memcmp(rep.confusion, conf, sizeof conf) == 0);
    for (int k = 0; k < N; k++)
        ck_assert(rep.nats[k] == nats[k]);
    drnn_label_report_free(&rep);
    free(one);
    free(four);
    drnn_corpus_free(&c);
    drnn_label_table_free(&t);
    drnn_params_free(&w);
}
END_TEST

static Suite *classify_suite(void)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_posterior_is_bayes);
    tcase_add_test(tc, test_mixture_label_nats);
    tcase_add_test(tc, test_unlabeled_refused);
    tcase_add_test(tc, test_report_matches_loop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(classify_suite());
}
