/* check_gradcheck.c: BPTT gradients against central differences, for every
 * parameter tensor. Built from the library's sources with -DDRNN_REAL=double
 * so that the comparison measures the gradient code, not float rounding. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/bptt.h"
#include "dinornn/stepper.h"
#include "check_run.h"

_Static_assert(sizeof(drnn_real) == sizeof(double), "this test must be built with DRNN_REAL=double");

#define TOLERANCE 1e-6
#define STEP 1e-4 /* smaller steps are dominated by rounding of the loss */
/* Gradients below this magnitude are compared absolutely (error / FLOOR):
 * their central differences are dominated by rounding of the loss. */
#define FLOOR 1e-3

/* Names over a 7-symbol vocabulary (tokens 1..6), one of a single letter. */
static const drnn_token name_a[] = {3};
static const drnn_token name_b[] = {1, 4, 2, 6, 5};
static const drnn_token name_c[] = {6, 6, 2, 1, 3, 4, 1, 5};
static const drnn_token *const names[] = {name_a, name_b, name_c};
static const int lengths[] = {1, 5, 8};
enum { N_NAMES = 3, VOCAB = 7 };

typedef struct tensor_error {
    const char *what;
    int layer;
    double max_error;   /* worst relative error in the tensor */
    double norm;        /* L1 norm of its analytic gradient */
} tensor_error;

/* Dropout of the pass, with masks fixed per name so that the loss is a
 * deterministic function of the weights. */
static double dropout_p = 0;
/* Labels of the model (0: unlabeled), and of each name when it has some:
 * names a and c share label 1, so that W_l's row 1 sums over two names. */
static int n_labels = 0;
static const uint16_t name_labels[] = {1, 0, 1};

static double total_loss(const drnn_params *w, drnn_scratch *s, drnn_params *grad)
{
    double loss = 0;
    drnn_scratch_set_dropout(s, dropout_p);
    for (int i = 0; i < N_NAMES; i++) {
        const uint64_t seed = 1000 + (uint64_t)i;
        const drnn_token *name = names[i];
        loss += drnn_group_loss_labeled(w, s, &name, n_labels ? &name_labels[i] : NULL,
                                        &lengths[i], 1, &seed, NULL, grad, 0);
    }
    return loss;
}

static void set_up(drnn_params *w, drnn_params *g, drnn_scratch **s, drnn_cell_kind cell,
                   int layers, int hidden)
{
    drnn_config cfg = {
        .vocab = VOCAB, .hidden = hidden, .layers = layers, .cell = cell, .labels = n_labels};
    drnn_error err;
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(g, &cfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(s, &cfg, 16, &err), DRNN_OK);
    drnn_rng_seed(&rng, 1234 + (uint64_t)layers);
    drnn_params_init(w, &rng);
    /* The initialisation draws the biases too (uniform in +-1/sqrt(H), the
     * LSTM's forget-gate bias 1), so that no parameter starts at zero and
     * every bias's gradient and effect are exercised. */
    for (size_t i = 0; i < w->count; i++)
        ck_assert_msg(w->data[i] != 0, "parameter %zu starts at zero", i);
}

static void tear_down(drnn_params *w, drnn_params *g, drnn_scratch *s)
{
    drnn_params_free(w);
    drnn_params_free(g);
    drnn_scratch_free(s);
}

/* The tensors of a parameter buffer, in layout order. */
static int list_tensors(const drnn_params *w, const char **what, int *layer, size_t *from,
                        size_t *to)
{
    int n = 0;
    for (int l = 0; l <= w->cfg.layers; l++) {
        static const char *const names4[] = {"W_x", "W_h", "b", "b_h"};
        static const char *const names2[] = {"W_y", "b_y", "W_l"};
        const drnn_real *bounds[5];
        int k_max;
        if (l < w->cfg.layers) {
            const drnn_layer_view *v = &w->layer[l];
            const drnn_real *next = l + 1 < w->cfg.layers ? w->layer[l + 1].W_x : w->W_y;
            bounds[0] = v->W_x, bounds[1] = v->W_h, bounds[2] = v->b, bounds[3] = v->b_h;
            bounds[4] = next;
            k_max = 4;
        } else {
            bounds[0] = w->W_y, bounds[1] = w->b_y;
            bounds[2] = w->W_l ? w->W_l : w->data + w->count;
            bounds[3] = w->data + w->count;
            k_max = w->W_l ? 3 : 2;
        }
        for (int k = 0; k < k_max; k++) {
            if (bounds[k + 1] == bounds[k])
                continue; /* an empty tensor (b_h of cells without one) */
            what[n] = l < w->cfg.layers ? names4[k] : names2[k];
            layer[n] = l;
            from[n] = (size_t)(bounds[k] - w->data);
            to[n] = (size_t)(bounds[k + 1] - w->data);
            n++;
        }
    }
    return n;
}

/* Compares grad (analytic) with central differences of the loss at w, one
 * tensor at a time; fills out[] and returns the number of tensors. */
static int compare(drnn_params *w, const drnn_params *grad, drnn_scratch *s, tensor_error *out)
{
    const char *what[4 * DRNN_MAX_LAYERS + 3];
    int layer[4 * DRNN_MAX_LAYERS + 3];
    size_t from[4 * DRNN_MAX_LAYERS + 3], to[4 * DRNN_MAX_LAYERS + 3];
    int n = list_tensors(w, what, layer, from, to);
    for (int k = 0; k < n; k++) {
        tensor_error te = {what[k], layer[k], 0, 0};
        for (size_t i = from[k]; i < to[k]; i++) {
            double saved = w->data[i];
            w->data[i] = saved + STEP;
            double up = total_loss(w, s, NULL);
            w->data[i] = saved - STEP;
            double down = total_loss(w, s, NULL);
            w->data[i] = saved;
            double numeric = (up - down) / (2 * STEP), analytic = grad->data[i];
            double scale = fmax(fmax(fabs(numeric), fabs(analytic)), FLOOR);
            double e = fabs(numeric - analytic) / scale;
            if (e > te.max_error)
                te.max_error = e;
            te.norm += fabs(analytic);
        }
        out[k] = te;
    }
    return n;
}

static void check_model(drnn_cell_kind cell, int layers, int hidden, double p)
{
    drnn_params w, g;
    drnn_scratch *s;
    tensor_error te[4 * DRNN_MAX_LAYERS + 3];
    dropout_p = p;
    set_up(&w, &g, &s, cell, layers, hidden);
    double loss = total_loss(&w, s, &g);
    ck_assert(isfinite(loss) && loss > 0);
    int n = compare(&w, &g, s, te);
    int per_layer = 3 + (cell == DRNN_CELL_GRU);
    ck_assert_int_eq(n, per_layer * layers + 2 + (n_labels > 0));
    for (int i = 0; i < n; i++) {
        /* A gradient of all zeros would pass a comparison with a constant loss. */
        ck_assert_msg(te[i].norm > 1e-6, "%s L=%d: %s of layer %d has an all-zero gradient",
                      drnn_cell_name(cell), layers, te[i].what, te[i].layer);
        ck_assert_msg(te[i].max_error <= TOLERANCE,
                      "%s L=%d dropout %.1f: %s of layer %d: relative error %.3g > %.1g",
                      drnn_cell_name(cell), layers, p, te[i].what, te[i].layer,
                      te[i].max_error, TOLERANCE);
    }
    tear_down(&w, &g, s);
    dropout_p = 0;
}

/* _i = 3 * cell + (layers - 1): every cell at L = 1, 2 and 3. */
START_TEST(test_gradcheck)
{
    check_model((drnn_cell_kind)(_i / 3), _i % 3 + 1, 5, 0);
}
END_TEST

/* With dropout on (fixed masks), every cell, L = 3 so that masks sit
 * between layers and before the output. */
START_TEST(test_gradcheck_dropout)
{
    check_model((drnn_cell_kind)_i, 3, 5, 0.3);
}
END_TEST

/* A labeled model (two labels, W_l), every cell at L = 1 and 2, and at
 * L = 2 with dropout: _i = 3 * cell + case. */
START_TEST(test_gradcheck_labels)
{
    n_labels = 2;
    const int c = _i % 3;
    check_model((drnn_cell_kind)(_i / 3), c == 0 ? 1 : 2, 5, c == 2 ? 0.3 : 0);
    n_labels = 0;
}
END_TEST

/* Dropout really drops: a different mask seed changes the loss, p = 0 restores it. */
START_TEST(test_dropout_changes_loss)
{
    drnn_params w, g;
    drnn_scratch *s;
    set_up(&w, &g, &s, DRNN_CELL_LSTM, 2, 6);
    double plain = drnn_name_loss(&w, s, name_c, 8);
    const drnn_token *name = name_c;
    const int len = 8;
    const uint64_t one = 1, two = 2;
    drnn_scratch_set_dropout(s, 0.5);
    double a = drnn_group_loss(&w, s, &name, &len, 1, &one, NULL, NULL, 0);
    double a2 = drnn_group_loss(&w, s, &name, &len, 1, &one, NULL, NULL, 0);
    double b = drnn_group_loss(&w, s, &name, &len, 1, &two, NULL, NULL, 0);
    drnn_scratch_set_dropout(s, 0);
    ck_assert(a == a2);
    ck_assert(a != b && a != plain);
    ck_assert(drnn_name_loss(&w, s, name_c, 8) == plain);
    tear_down(&w, &g, s);
}
END_TEST

/* The check itself must be able to fail: a gradient off by one part in 10^4
 * in one element, or missing one term, is caught in the tensor concerned. */
START_TEST(test_gradcheck_catches_errors)
{
    drnn_params w, g;
    drnn_scratch *s;
    tensor_error te[4 * DRNN_MAX_LAYERS + 3];
    set_up(&w, &g, &s, DRNN_CELL_RNN, 2, 4);
    total_loss(&w, s, &g);

    size_t i = (size_t)(w.layer[1].W_h - w.data) + 5;
    double saved = g.data[i];
    g.data[i] = saved + 1e-4 * fmax(fabs(saved), FLOOR);
    compare(&w, &g, s, te);
    ck_assert_str_eq(te[4].what, "W_h");
    ck_assert_int_eq(te[4].layer, 1);
    ck_assert_msg(te[4].max_error > TOLERANCE, "a perturbed gradient passed the check");
    g.data[i] = saved;

    /* Drop the b_y term of the first step: the sort of bug BPTT invites. */
    drnn_params_zero(&g);
    total_loss(&w, s, &g);
    g.b_y[name_a[0]] += 1;
    compare(&w, &g, s, te);
    ck_assert_str_eq(te[7].what, "b_y");
    ck_assert(te[7].max_error > TOLERANCE);
    tear_down(&w, &g, s);
}
END_TEST

/* With all weights zero the prediction is uniform: loss = T log V exactly,
 * and d(loss)/d(b_y) = T/V - (count of each target). */
START_TEST(test_uniform_model)
{
    drnn_params w, g;
    drnn_scratch *s;
    set_up(&w, &g, &s, DRNN_CELL_RNN, 2, 3);
    drnn_params_zero(&w);
    const drnn_token *name = name_b;
    const int len = 5;
    double loss = drnn_group_loss(&w, s, &name, &len, 1, NULL, NULL, &g, 0);
    ck_assert_double_eq_tol(loss, 6 * log((double)VOCAB), 1e-12);
    double counts[VOCAB] = {1, 1, 1, 0, 1, 1, 1}; /* targets 1 4 2 6 5 END */
    for (int v = 0; v < VOCAB; v++)
        ck_assert_double_eq_tol(g.b_y[v], 6.0 / VOCAB - counts[v], 1e-12);
    tear_down(&w, &g, s);
}
END_TEST

/* The name's state starts from zero: a name's loss does not depend on what
 * the workspace computed before. */
START_TEST(test_no_state_leak)
{
    drnn_params w, g;
    drnn_scratch *s;
    set_up(&w, &g, &s, DRNN_CELL_GRU, 2, 4);
    double first = drnn_name_loss(&w, s, name_b, 5);
    drnn_name_loss(&w, s, name_c, 8);
    ck_assert(drnn_name_loss(&w, s, name_b, 5) == first);
    tear_down(&w, &g, s);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *suite = suite_create("gradcheck");
    TCase *tc = tcase_create("bptt");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_gradcheck, 0, 3 * DRNN_CELL_KIND_COUNT);
    tcase_add_loop_test(tc, test_gradcheck_dropout, 0, DRNN_CELL_KIND_COUNT);
    tcase_add_loop_test(tc, test_gradcheck_labels, 0, 3 * DRNN_CELL_KIND_COUNT);
    tcase_add_test(tc, test_dropout_changes_loss);
    tcase_add_test(tc, test_gradcheck_catches_errors);
    tcase_add_test(tc, test_uniform_model);
    tcase_add_test(tc, test_no_state_leak);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(gradcheck_suite());
}
