/* check_label_model.c: a model conditioned on labels (W_l): the label
 * changes the loss, an unlabeled model keeps its bits, the stepper under a
 * label gives the training loss's bits (feed and feed_batch alike), a
 * mixture of members under a label is the mean of its members under it,
 * and the label mixture is sum_k share_k P(name | k), computed directly. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "check_run.h"
#include "check_search.h"

enum { V = 6, N_LABELS = 3 };
static const double shares[N_LABELS] = {0.5, 0.3, 0.2};
static const drnn_token name_x[] = {2, 5, 1, 3};
static const drnn_token name_y[] = {4};
static const drnn_token name_z[] = {1, 1, 2, 3, 4, 5, 1};

/* A random model with n_labels labels; weights scaled so that labels and
 * names differ clearly in probability. */
static void make_model(drnn_params *w, drnn_cell_kind cell, int layers, int hidden,
                       int n_labels, uint64_t seed)
{
    drnn_config cfg = {
        .vocab = V, .hidden = hidden, .layers = layers, .cell = cell, .labels = n_labels};
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&rng, seed);
    drnn_params_init(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] *= 2;
}

/* log sum exp of z[0..n), in double. */
static double lse(const drnn_real *z, int n)
{
    double m = z[0], s = 0;
    for (int v = 1; v < n; v++)
        m = z[v] > m ? z[v] : m;
    for (int v = 0; v < n; v++)
        s += exp((double)z[v] - m);
    return m + log(s);
}

/* The layout: W_l last, N rows of G*H, NULL without labels; the weights
 * drawn before it are an unlabeled model's of the same seed, bit for bit. */
START_TEST(test_layout_and_init)
{
    drnn_params plain, lab;
    make_model(&plain, DRNN_CELL_LSTM, 2, 5, 0, 77);
    make_model(&lab, DRNN_CELL_LSTM, 2, 5, N_LABELS, 77);
    ck_assert_ptr_null(plain.W_l);
    ck_assert_ptr_eq(lab.W_l, lab.b_y + V);
    ck_assert_uint_eq(lab.count, plain.count + (size_t)N_LABELS * 4 * 5);
    ck_assert(!memcmp(plain.data, lab.data, plain.count * sizeof *plain.data));
    double mx = 0;
    for (int i = 0; i < N_LABELS * 4 * 5; i++)
        mx = fmax(mx, fabs(lab.W_l[i]));
    ck_assert(mx > 0 && mx <= 2 / sqrt(5.0) + 1e-6);
    drnn_params_free(&plain);
    drnn_params_free(&lab);
}
END_TEST

/* The label changes the loss; with W_l zero a labeled model's loss and
 * gradient (every tensor but W_l) are the unlabeled model's, bit for bit;
 * a missing or out-of-range label is refused (NaN). */
START_TEST(test_label_changes_loss)
{
    for (int cell = 0; cell < DRNN_CELL_KIND_COUNT; cell++) {
        drnn_params plain, lab, gp, gl;
        drnn_scratch *s;
        make_model(&plain, (drnn_cell_kind)cell, 2, 7, 0, 5);
        make_model(&lab, (drnn_cell_kind)cell, 2, 7, N_LABELS, 5);
        ck_assert_int_eq(drnn_params_alloc(&gp, &plain.cfg, NULL), DRNN_OK);
        ck_assert_int_eq(drnn_params_alloc(&gl, &lab.cfg, NULL), DRNN_OK);
        ck_assert_int_eq(drnn_scratch_new_group(&s, &lab.cfg, 8, 3, NULL), DRNN_OK);
        const drnn_token *names[] = {name_x, name_y, name_z};
        const int lens[] = {4, 1, 7};
        const uint16_t labels[] = {2, 0, 1}, bad[] = {0, 3, 1};
        double l0 = drnn_name_loss_labeled(&lab, s, name_z, 7, 0);
        double l1 = drnn_name_loss_labeled(&lab, s, name_z, 7, 1);
        ck_assert(isfinite(l0) && isfinite(l1) && fabs(l0 - l1) > 1e-3);
        ck_assert(isnan(drnn_name_loss(&lab, s, name_z, 7))); /* no label given */
        ck_assert(isnan(drnn_group_loss_labeled(&lab, s, names, bad, lens, 3, NULL, NULL, NULL, 0)));

        memset(lab.W_l, 0, (lab.count - plain.count) * sizeof *lab.W_l);
        const uint64_t seeds[] = {1, 2, 3};
        drnn_scratch_set_dropout(s, 0.25);
        double a = drnn_group_loss(&plain, s, names, lens, 3, seeds, NULL, &gp, 1);
        double b = drnn_group_loss_labeled(&lab, s, names, labels, lens, 3, seeds, NULL, &gl, 1);
        ck_assert(a == b);
        ck_assert(!memcmp(gp.data, gl.data, plain.count * sizeof *gp.data));
        double norm = 0;
        for (size_t i = plain.count; i < lab.count; i++)
            norm += fabs(gl.data[i]);
        ck_assert(norm > 0); /* W_l's gradient is there even where W_l is zero */
        drnn_scratch_free(s);
        drnn_params_free(&plain), drnn_params_free(&lab);
        drnn_params_free(&gp), drnn_params_free(&gl);
    }
}
END_TEST

/* The stepper under each label scores a name with the training loss's bits;
 * set_label refuses what is not a label. _i: the cell. */
START_TEST(test_stepper_label_equals_loss)
{
    drnn_params w;
    drnn_scratch *s;
    make_model(&w, (drnn_cell_kind)_i, 2, 9, N_LABELS, 11 + (uint64_t)_i);
    ck_assert_int_eq(drnn_scratch_new(&s, &w.cfg, 8, NULL), DRNN_OK);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, NET(&w), NULL), DRNN_OK);
    ck_assert_int_eq(drnn_stepper_label(st), 0);
    for (int k = 0; k < N_LABELS; k++) {
        ck_assert_int_eq(drnn_stepper_set_label(st, k), DRNN_OK);
        ck_assert_int_eq(drnn_stepper_label(st), k);
        double loss = drnn_name_loss_labeled(&w, s, name_z, 7, (uint16_t)k);
        double nats = drnn_name_nats(NET(&w), st, name_z, 7);
        ck_assert_msg(nats == loss, "label %d: stepper %.17g, loss %.17g", k, nats, loss);
    }
    ck_assert_int_eq(drnn_stepper_set_label(st, N_LABELS), DRNN_ERR_INVALID);
    ck_assert_int_eq(drnn_stepper_set_label(st, -1), DRNN_ERR_INVALID);
    drnn_stepper_free(st);
    drnn_scratch_free(s);
    drnn_params_free(&w);

    drnn_params plain;
    make_model(&plain, (drnn_cell_kind)_i, 1, 4, 0, 3);
    ck_assert_int_eq(drnn_stepper_new(&st, NET(&plain), NULL), DRNN_OK);
    ck_assert_int_eq(drnn_stepper_label(st), DRNN_LABEL_NONE);
    ck_assert_int_eq(drnn_stepper_set_label(st, 0), DRNN_ERR_INVALID);
    ck_assert_int_eq(drnn_stepper_set_label_mixture(st, shares), DRNN_ERR_INVALID);
    drnn_stepper_free(st);
    drnn_params_free(&plain);
}
END_TEST

/* A mixture of members under a label: at every step the mean of the
 * members' probabilities, each member stepping alone under that label. */
START_TEST(test_members_under_a_label)
{
    drnn_params part[2];
    make_model(&part[0], DRNN_CELL_GRU, 2, 5, N_LABELS, 21);
    make_model(&part[1], DRNN_CELL_GRU, 2, 5, N_LABELS, 22);
    const drnn_model mix = drnn_model_of(part, 2);
    drnn_stepper *m, *one[2];
    ck_assert_int_eq(drnn_stepper_new(&m, &mix, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_stepper_set_label(m, 2), DRNN_OK);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(drnn_stepper_new(&one[k], NET(&part[k]), NULL), DRNN_OK);
        ck_assert_int_eq(drnn_stepper_set_label(one[k], 2), DRNN_OK);
    }
    const drnn_token seq[] = {DRNN_END, 2, 5, 1, 3};
    for (int t = 0; t < 5; t++) {
        const drnn_real *z = drnn_stepper_feed(m, &mix, seq[t]);
        double p[V] = {0};
        for (int k = 0; k < 2; k++) {
            const drnn_real *zk = drnn_stepper_feed(one[k], NET(&part[k]), seq[t]);
            double n = lse(zk, V);
            for (int v = 0; v < V; v++)
                p[v] += exp(zk[v] - n) / 2;
        }
        for (int v = 0; v < V; v++)
            ck_assert_msg(fabs(exp(z[v]) - p[v]) < 1e-6, "step %d symbol %d", t, v);
    }
    drnn_stepper_free(m);
    for (int k = 0; k < 2; k++) {
        drnn_stepper_free(one[k]);
        drnn_params_free(&part[k]);
    }
}
END_TEST

/* The label mixture, every cell, one network and a mixture of two: each
 * step's distribution sums to 1, and a whole name's probability is
 * sum_k share_k P(name | k) with P(name | k) from the stepper under label k.
 * Reset starts over: the same nats again. _i = 2 * cell + (members - 1). */
START_TEST(test_label_mixture)
{
    const int nets = _i % 2 + 1;
    drnn_params part[2];
    for (int k = 0; k < nets; k++)
        make_model(&part[k], (drnn_cell_kind)(_i / 2), 2, 6, N_LABELS, 31 + (uint64_t)k);
    const drnn_model m = drnn_model_of(part, nets);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
    const drnn_token *names[] = {name_x, name_y, name_z};
    const int lens[] = {4, 1, 7};
    for (int i = 0; i < 3; i++) {
        double direct = 0;
        for (int k = 0; k < N_LABELS; k++) {
            ck_assert_int_eq(drnn_stepper_set_label(st, k), DRNN_OK);
            direct += shares[k] * exp(-drnn_name_nats(&m, st, names[i], lens[i]));
        }
        ck_assert_int_eq(drnn_stepper_set_label_mixture(st, shares), DRNN_OK);
        ck_assert_int_eq(drnn_stepper_label(st), DRNN_LABEL_MIXTURE);
        double nats = drnn_name_nats(&m, st, names[i], lens[i]);
        ck_assert_msg(fabs(exp(-nats) - direct) <= 1e-5 * direct, "name %d: %.9g, direct %.9g",
                      i, exp(-nats), direct);
        ck_assert(drnn_name_nats(&m, st, names[i], lens[i]) == nats);
        drnn_stepper_reset(st);
        drnn_token in = DRNN_END;
        for (int t = 0; t <= lens[i]; t++) {
            const drnn_real *z = drnn_stepper_feed(st, &m, in);
            double sum = 0;
            for (int v = 0; v < V; v++)
                sum += exp((double)z[v]);
            ck_assert_msg(fabs(sum - 1) < 1e-5, "step %d: probabilities sum to %.9g", t, sum);
            in = t < lens[i] ? names[i][t] : DRNN_END;
        }
    }
    const double bad[N_LABELS] = {0.5, 0.5, 0.0}, off[N_LABELS] = {0.5, 0.5, 0.5};
    ck_assert_int_eq(drnn_stepper_set_label_mixture(st, bad), DRNN_ERR_INVALID);
    ck_assert_int_eq(drnn_stepper_set_label_mixture(st, off), DRNN_ERR_INVALID);
    drnn_stepper_free(st);
    for (int k = 0; k < nets; k++)
        drnn_params_free(&part[k]);
}
END_TEST

/* feed_batch under a label and under the label mixture gives feed's bits,
 * logits and states, from states saved out of order; a copy and a
 * save/load of a label mixture carry on with the same bits. */
START_TEST(test_batch_and_copy)
{
    static const struct {
        drnn_cell_kind cell;
        int hidden, layers, nets, rows;
    } cases[] = {{DRNN_CELL_RNN, 5, 1, 1, 3}, {DRNN_CELL_LSTM, 19, 2, 1, 9},
                 {DRNN_CELL_GRU, 17, 2, 2, 6}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int mode = 0; mode < 2; mode++) {
            const int nets = cases[c].nets, rows = cases[c].rows;
            drnn_params part[2];
            for (int k = 0; k < nets; k++)
                make_model(&part[k], cases[c].cell, cases[c].layers, cases[c].hidden, N_LABELS,
                           40 + 3 * c + (uint64_t)k);
            const drnn_model m = drnn_model_of(part, nets);
            drnn_stepper *st, *copy;
            ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
            ck_assert_int_eq(drnn_stepper_new(&copy, &m, NULL), DRNN_OK);
            if (mode)
                ck_assert_int_eq(drnn_stepper_set_label_mixture(st, shares), DRNN_OK);
            else
                ck_assert_int_eq(drnn_stepper_set_label(st, 1), DRNN_OK);
            const size_t S = drnn_stepper_state_size(st);
            drnn_real *states = malloc((size_t)rows * S * sizeof *states);
            drnn_real *next = malloc((size_t)rows * S * sizeof *next);
            drnn_real *logits = malloc((size_t)rows * V * sizeof *logits);
            drnn_real *one = malloc(S * sizeof *one);
            const drnn_real **from = malloc((size_t)rows * sizeof *from);
            drnn_token *in = malloc((size_t)rows * sizeof *in);
            ck_assert(states && next && logits && one && from && in);
            for (int r = 0; r < rows; r++) {
                drnn_stepper_reset(st);
                drnn_stepper_feed(st, &m, DRNN_END);
                for (int t = 0; t < r % 4; t++)
                    drnn_stepper_feed(st, &m, (drnn_token)(1 + (r * 3 + t) % (V - 1)));
                drnn_stepper_save_state(st, states + (size_t)r * S);
                from[rows - 1 - r] = states + (size_t)r * S;
                in[rows - 1 - r] = (drnn_token)(r % V);
            }
            ck_assert_int_eq(drnn_stepper_feed_batch(st, &m, rows, from, in, next, logits, NULL),
                             DRNN_OK);
            for (int r = 0; r < rows; r++) {
                drnn_stepper_load_state(st, from[r]);
                drnn_stepper_copy(copy, st);
                const drnn_real *z = drnn_stepper_feed(st, &m, in[r]);
                drnn_stepper_save_state(st, one);
                ck_assert_msg(!memcmp(z, logits + (size_t)r * V, V * sizeof *z),
                              "case %zu mode %d row %d: logits differ", c, mode, r);
                ck_assert_msg(!memcmp(one, next + (size_t)r * S, S * sizeof *one),
                              "case %zu mode %d row %d: state differs", c, mode, r);
                ck_assert_int_eq(drnn_stepper_label(copy), drnn_stepper_label(st));
                const drnn_real *zc = drnn_stepper_feed(copy, &m, in[r]);
                ck_assert(!memcmp(zc, logits + (size_t)r * V, V * sizeof *zc));
            }
            free(states), free(next), free(logits), free(one), free(from), free(in);
            drnn_stepper_free(st);
            drnn_stepper_free(copy);
            for (int k = 0; k < nets; k++)
                drnn_params_free(&part[k]);
        }
}
END_TEST

/* Evaluation of a labeled model: each name under its label, the sum and
 * the sums by label (drnn_evaluate_labels) those of the training loss;
 * unlabeled names and labels past the model's refused by both;
 * a mixture of members by label the stepper's. */
START_TEST(test_evaluate_labels)
{
    drnn_params w[2];
    drnn_scratch *s;
    make_model(&w[0], DRNN_CELL_LSTM, 2, 6, N_LABELS, 51);
    make_model(&w[1], DRNN_CELL_LSTM, 2, 6, N_LABELS, 52);
    ck_assert_int_eq(drnn_scratch_new(&s, &w[0].cfg, 8, NULL), DRNN_OK);
    drnn_token tok[200];
    size_t start[41];
    long line[40];
    uint16_t labels[40];
    for (int i = 0, at = 0; i < 40; i++) {
        start[i] = (size_t)at;
        line[i] = i + 1;
        labels[i] = (uint16_t)(i * 7 % N_LABELS);
        for (int j = 0; j < 1 + i % 4; j++)
            tok[at++] = (drnn_token)(1 + (i + 2 * j) % (V - 1));
        start[i + 1] = (size_t)at;
    }
    drnn_corpus c = {.count = 40, .tokens = tok, .start = start, .line = line, .labels = labels};
    double ref = 0, ref_by[N_LABELS] = {0}, nats;
    int64_t chars;
    for (int i = 0; i < 40; i++) {
        double x = drnn_name_loss_labeled(&w[0], s, tok + start[i], (int)(start[i + 1] - start[i]),
                                          labels[i]);
        ref += x;
        ref_by[labels[i]] += x;
    }
    ck_assert_int_eq(drnn_evaluate(NET(&w[0]), &c, &nats, &chars, NULL), DRNN_OK);
    ck_assert_double_eq_tol(nats, ref, 1e-9 * ref);
    ck_assert_int_eq(chars, (int64_t)start[40] + 40);
    static const char *texts[N_LABELS] = {"a", "b", "c"};
    int64_t counts[N_LABELS] = {1, 1, 1};
    const drnn_label_table table = {.count = N_LABELS, .text = (char **)texts, .names = counts};
    drnn_label_report rep;
    ck_assert_int_eq(drnn_evaluate_labels(NET(&w[0]), &table, &c, &rep, NULL), DRNN_OK);
    int64_t total = 0;
    for (int k = 0; k < N_LABELS; k++) {
        ck_assert(rep.nats[k] == ref_by[k]);
        total += rep.chars[k];
    }
    ck_assert_int_eq(total, chars);
    drnn_label_report_free(&rep);

    const drnn_model mix = drnn_model_of(w, 2);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &mix, NULL), DRNN_OK);
    double mref = 0;
    for (int i = 0; i < 40; i++) {
        drnn_stepper_set_label(st, labels[i]);
        mref += drnn_name_nats(&mix, st, tok + start[i], (int)(start[i + 1] - start[i]));
    }
    ck_assert_int_eq(drnn_evaluate(&mix, &c, &nats, &chars, NULL), DRNN_OK);
    ck_assert(nats == mref);
    drnn_stepper_free(st);

    drnn_error err;
    c.labels = NULL;
    ck_assert_int_eq(drnn_evaluate(NET(&w[0]), &c, &nats, &chars, &err), DRNN_ERR_MISMATCH);
    ck_assert_int_eq(drnn_evaluate_labels(NET(&w[0]), &table, &c, &rep, &err), DRNN_ERR_MISMATCH);
    labels[3] = N_LABELS;
    c.labels = labels;
    ck_assert_int_eq(drnn_evaluate(&mix, &c, &nats, &chars, &err), DRNN_ERR_MISMATCH);
    ck_assert_int_eq(drnn_evaluate_labels(&mix, &table, &c, &rep, &err), DRNN_ERR_MISMATCH);
    drnn_scratch_free(s);
    drnn_params_free(&w[0]);
    drnn_params_free(&w[1]);
}
END_TEST

static Suite *label_model_suite(void)
{
    Suite *suite = suite_create("label_model");
    TCase *tc = tcase_create("label_model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_layout_and_init);
    tcase_add_test(tc, test_label_changes_loss);
    tcase_add_loop_test(tc, test_stepper_label_equals_loss, 0, DRNN_CELL_KIND_COUNT);
    tcase_add_test(tc, test_members_under_a_label);
    tcase_add_loop_test(tc, test_label_mixture, 0, 2 * DRNN_CELL_KIND_COUNT);
    tcase_add_test(tc, test_batch_and_copy);
    tcase_add_test(tc, test_evaluate_labels);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(label_model_suite());
}
