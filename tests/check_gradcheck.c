/* check_gradcheck.c: BPTT gradients against central differences, for every
 * parameter tensor. Built from the library's sources with -DDRNN_REAL=double
 * so that the comparison measures the gradient code, not float rounding. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/model.h"

_Static_assert(sizeof(drnn_real) == sizeof(double), "this test must be built with DRNN_REAL=double");

#define TOLERANCE 1e-6
#define STEP 1e-5
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

static double total_loss(const drnn_params *w, drnn_scratch *s, drnn_params *grad)
{
    double loss = 0;
    for (int i = 0; i < N_NAMES; i++)
        loss += grad ? drnn_name_loss_grad(w, grad, s, names[i], lengths[i])
                     : drnn_name_loss(w, s, names[i], lengths[i]);
    return loss;
}

static void set_up(drnn_params *w, drnn_params *g, drnn_scratch **s, int layers, int hidden)
{
    drnn_config cfg = {.vocab = VOCAB, .hidden = hidden, .layers = layers, .cell = DRNN_CELL_RNN};
    drnn_error err;
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(g, &cfg, &err), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(s, &cfg, 16, &err), DRNN_OK);
    drnn_rng_seed(&rng, 1234 + (uint64_t)layers);
    drnn_params_init(w, &rng);
    /* Non-zero biases, so that their gradients and effects are exercised. */
    for (int l = 0; l < layers; l++)
        for (int i = 0; i < hidden * drnn_cell_gates(cfg.cell); i++)
            w->layer[l].b[i] = (drnn_real)(0.2 * (2 * drnn_rng_uniform(&rng) - 1));
    for (int v = 0; v < VOCAB; v++)
        w->b_y[v] = (drnn_real)(0.2 * (2 * drnn_rng_uniform(&rng) - 1));
}

static void tear_down(drnn_params *w, drnn_params *g, drnn_scratch *s)
{
    drnn_params_free(w);
    drnn_params_free(g);
    drnn_scratch_free(s);
}

/* Compares grad (analytic) with central differences of the loss at w, one
 * tensor at a time; fills out[] and returns the number of tensors. */
static int compare(drnn_params *w, const drnn_params *grad, drnn_scratch *s, tensor_error *out)
{
    const drnn_config *cfg = &w->cfg;
    int n = 0;
    for (int l = 0; l <= cfg->layers; l++) {
        for (int k = 0; k < 3; k++) {
            drnn_real *start, *end;
            const char *what;
            if (l < cfg->layers) {
                static const char *const names3[] = {"W_x", "W_h", "b"};
                drnn_real *bounds[4] = {w->layer[l].W_x, w->layer[l].W_h, w->layer[l].b,
                                        l + 1 < cfg->layers ? w->layer[l + 1].W_x : w->W_y};
                start = bounds[k], end = bounds[k + 1], what = names3[k];
            } else {
                if (k == 2)
                    break;
                start = k == 0 ? w->W_y : w->b_y;
                end = k == 0 ? w->b_y : w->data + w->count;
                what = k == 0 ? "W_y" : "b_y";
            }
            tensor_error te = {what, l, 0, 0};
            for (drnn_real *p = start; p < end; p++) {
                size_t i = (size_t)(p - w->data);
                double saved = *p;
                *p = saved + STEP;
                double up = total_loss(w, s, NULL);
                *p = saved - STEP;
                double down = total_loss(w, s, NULL);
                *p = saved;
                double numeric = (up - down) / (2 * STEP), analytic = grad->data[i];
                double scale = fmax(fmax(fabs(numeric), fabs(analytic)), FLOOR);
                double e = fabs(numeric - analytic) / scale;
                if (e > te.max_error)
                    te.max_error = e;
                te.norm += fabs(analytic);
            }
            out[n++] = te;
        }
    }
    return n;
}

static void check_model(int layers, int hidden)
{
    drnn_params w, g;
    drnn_scratch *s;
    tensor_error te[3 * DRNN_MAX_LAYERS + 2];
    set_up(&w, &g, &s, layers, hidden);
    double loss = total_loss(&w, s, &g);
    ck_assert(isfinite(loss) && loss > 0);
    int n = compare(&w, &g, s, te);
    ck_assert_int_eq(n, 3 * layers + 2);
    for (int i = 0; i < n; i++) {
        /* A gradient of all zeros would pass a comparison with a constant loss. */
        ck_assert_msg(te[i].norm > 1e-6, "L=%d: %s of layer %d has an all-zero gradient",
                      layers, te[i].what, te[i].layer);
        ck_assert_msg(te[i].max_error <= TOLERANCE,
                      "L=%d: %s of layer %d: relative error %.3g > %.1g", layers,
                      te[i].what, te[i].layer, te[i].max_error, TOLERANCE);
    }
    tear_down(&w, &g, s);
}

START_TEST(test_gradcheck_rnn)
{
    check_model(_i, 5);
}
END_TEST

/* The check itself must be able to fail: a gradient off by one part in 10^4
 * in one element, or missing one term, is caught in the tensor concerned. */
START_TEST(test_gradcheck_catches_errors)
{
    drnn_params w, g;
    drnn_scratch *s;
    tensor_error te[3 * DRNN_MAX_LAYERS + 2];
    set_up(&w, &g, &s, 2, 4);
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
    set_up(&w, &g, &s, 2, 3);
    drnn_params_zero(&w);
    double loss = drnn_name_loss_grad(&w, &g, s, name_b, 5);
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
    set_up(&w, &g, &s, 2, 4);
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
    tcase_add_loop_test(tc, test_gradcheck_rnn, 1, 4); /* L = 1, 2, 3 */
    tcase_add_test(tc, test_gradcheck_catches_errors);
    tcase_add_test(tc, test_uniform_model);
    tcase_add_test(tc, test_no_state_leak);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(gradcheck_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
