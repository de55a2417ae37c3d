/* check_model.c: the float model as the library builds it: parameter layout,
 * seeded initialisation, that SGD through BPTT actually learns, and the
 * softmax of large logits. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "check_run.h"

START_TEST(test_layout)
{
    drnn_config cfg = {.vocab = 27, .hidden = 10, .layers = 2, .cell = DRNN_CELL_RNN};
    drnn_params p;
    drnn_error err;
    ck_assert_int_eq(drnn_params_alloc(&p, &cfg, &err), DRNN_OK);
    /* layer 0: 27x10 + 10x10 + 10; layer 1: 10x10 + 10x10 + 10; output 27x10 + 27 */
    ck_assert_uint_eq(p.count, 380 + 210 + 297);
    ck_assert_ptr_eq(p.layer[0].W_x, p.data);
    ck_assert_ptr_eq(p.layer[0].W_h, p.data + 270);
    ck_assert_ptr_eq(p.layer[1].W_x, p.data + 380);
    ck_assert_ptr_eq(p.W_y, p.data + 590);
    ck_assert_ptr_eq(p.b_y, p.data + 860);
    drnn_params_free(&p);
}
END_TEST

START_TEST(test_config_limits)
{
    drnn_error err;
    drnn_config ok = {.vocab = 27, .hidden = 8, .layers = 1, .cell = DRNN_CELL_RNN};
    ck_assert_int_eq(drnn_config_check(&ok, &err), DRNN_OK);
    drnn_config bad[] = {
        {.vocab = 1, .hidden = 8, .layers = 1},
        {.vocab = 27, .hidden = 0, .layers = 1},
        {.vocab = 27, .hidden = DRNN_MAX_HIDDEN + 1, .layers = 1},
        {.vocab = 27, .hidden = 8, .layers = 0},
        {.vocab = 27, .hidden = 8, .layers = DRNN_MAX_LAYERS + 1},
        {.vocab = 27, .hidden = 8, .layers = 1, .cell = DRNN_CELL_KIND_COUNT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(drnn_config_check(&bad[i], &err), DRNN_ERR_INVALID);
        ck_assert(strlen(err.message) > 0);
    }
}
END_TEST

START_TEST(test_init_seeded)
{
    drnn_config cfg = {.vocab = 5, .hidden = 16, .layers = 2, .cell = DRNN_CELL_RNN};
    drnn_params a, b;
    drnn_rng r1, r2;
    ck_assert_int_eq(drnn_params_alloc(&a, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&b, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&r1, 7);
    drnn_rng_seed(&r2, 7);
    drnn_params_init(&a, &r1);
    drnn_params_init(&b, &r2);
    ck_assert(memcmp(a.data, b.data, a.count * sizeof *a.data) == 0);
    for (size_t i = 0; i < a.count; i++)
        ck_assert(fabsf(a.data[i]) <= 0.25f); /* 1/sqrt(16) */
    /* Biases drawn too, as PyTorch draws them. */
    ck_assert(a.b_y[0] != 0 && a.layer[1].b[3] != 0 && a.b_y[0] != a.layer[1].b[3]);
    drnn_rng_seed(&r2, 8);
    drnn_params_init(&b, &r2);
    ck_assert(memcmp(a.data, b.data, a.count * sizeof *a.data) != 0);
    drnn_params_free(&a);
    drnn_params_free(&b);
}
END_TEST

/* An LSTM's forget gates start at 1, its other biases drawn like the weights. */
START_TEST(test_init_lstm_forget_bias)
{
    drnn_config cfg = {.vocab = 5, .hidden = 16, .layers = 2, .cell = DRNN_CELL_LSTM};
    drnn_params p;
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(&p, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 7);
    drnn_params_init(&p, &rng);
    for (int l = 0; l < 2; l++) {
        int drawn = 0;
        for (int k = 0; k < 4 * 16; k++) {
            if (k >= 16 && k < 32) /* gates i, f, g, o: f is the second */
                ck_assert(p.layer[l].b[k] == 1);
            else {
                ck_assert(fabsf(p.layer[l].b[k]) <= 0.25f);
                drawn += p.layer[l].b[k] != 0;
            }
        }
        ck_assert_int_eq(drawn, 48);
    }
    drnn_params_free(&p);
}
END_TEST

/* Five of the longest names in data/dinos.txt. Which name comes is a choice
 * among five, log(5) nats per name that no model can learn, about 0.065 nats
 * per character here; the rest must be memorised. */
static const char *const five[] = {
    "lisboasaurusliubangosaurus", "ornatotholusornithodesmus", "micropachycephalosaurus",
    "hylosaurushypacrosaurus", "orinosaurusorkoraptor",
};

START_TEST(test_sgd_learns_five_names)
{
    drnn_config cfg = {.vocab = 27, .hidden = 64, .layers = 1, .cell = DRNN_CELL_RNN};
    drnn_params w, g;
    drnn_scratch *s;
    drnn_rng rng;
    drnn_token tok[5][32];
    int len[5], chars = 0;
    for (int i = 0; i < 5; i++) {
        len[i] = (int)strlen(five[i]);
        for (int t = 0; t < len[i]; t++)
            tok[i][t] = (drnn_token)(five[i][t] - 'a' + 1);
        chars += len[i] + 1;
    }
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&s, &cfg, 32, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 42);
    drnn_params_init(&w, &rng);

    double first = 0, last = 0;
    for (int epoch = 0; epoch < 400; epoch++) {
        double loss = 0;
        for (int i = 0; i < 5; i++) {
            drnn_params_zero(&g);
            const drnn_token *name = tok[i];
            loss += drnn_group_loss(&w, s, &name, &len[i], 1, NULL, NULL, &g, 0);
            /* Plain SGD on the per-character mean, with element-wise clipping. */
            float scale = 0.2f / (float)(len[i] + 1);
            for (size_t k = 0; k < w.count; k++)
                w.data[k] -= scale * fmaxf(-5.0f, fminf(5.0f, g.data[k]));
        }
        if (epoch == 0)
            first = loss / chars;
        last = loss / chars;
    }
    ck_assert_msg(first > 2.5, "untrained loss %.3f should be near log(27) = 3.3", first);
    ck_assert_msg(last < 0.1, "after 400 epochs the loss is %.3f nats/char, not below 0.1", last);
    drnn_scratch_free(s);
    drnn_params_free(&w);
    drnn_params_free(&g);
}
END_TEST

/* A group of names of different lengths gives, bit for bit, the loss and
 * gradient of the same names one after another: grouping changes speed only. */
START_TEST(test_group_equals_sequential)
{
    drnn_config cfg = {.vocab = 27, .hidden = 19, .layers = 3, .cell = (drnn_cell_kind)(_i % 3)};
    double p = _i >= 3 ? 0.25 : 0;
    drnn_params w, g1, g2;
    drnn_scratch *one, *group;
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g1, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_params_alloc(&g2, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&one, &cfg, 32, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new_group(&group, &cfg, 32, 5, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 3);
    drnn_params_init(&w, &rng);
    drnn_token tok[5][32];
    const drnn_token *names[5];
    int lens[5];
    uint64_t seeds[5];
    for (int i = 0; i < 5; i++) {
        for (int t = 0; five[i][t]; t++)
            tok[i][t] = (drnn_token)(five[i][t] - 'a' + 1);
        lens[i] = (int)strlen(five[i]) - 3 * i; /* different lengths, not sorted */
        names[i] = tok[i];
        seeds[i] = 100 + (uint64_t)i;
    }
    lens[3] = lens[1] - 5; /* 17, a tie with name 2 */
    double sequential = 0;
    drnn_scratch_set_dropout(one, p);
    for (int i = 0; i < 5; i++)
        sequential += drnn_group_loss(&w, one, &names[i], &lens[i], 1, &seeds[i], NULL, &g1, 0);
    drnn_scratch_set_dropout(group, p);
    double grouped = drnn_group_loss(&w, group, names, lens, 5, seeds, NULL, &g2, 0);
    ck_assert_msg(grouped == sequential, "%s: loss %.17g grouped, %.17g one by one",
                  drnn_cell_name(cfg.cell), grouped, sequential);
    ck_assert_msg(memcmp(g1.data, g2.data, g1.count * sizeof *g1.data) == 0,
                  "%s dropout %g: grouped gradients differ", drnn_cell_name(cfg.cell), p);
    /* Written over a buffer of garbage, the same bits again. */
    for (size_t i = 0; i < g2.count; i++)
        g2.data[i] = NAN;
    double set = drnn_group_loss(&w, group, names, lens, 5, seeds, NULL, &g2, 1);
    ck_assert(set == sequential);
    ck_assert_msg(memcmp(g1.data, g2.data, g1.count * sizeof *g1.data) == 0,
                  "%s dropout %g: gradients written over differ", drnn_cell_name(cfg.cell), p);
    /* Forward only: each name's loss, bit for bit, as alone. */
    double losses[5];
    drnn_scratch_set_dropout(group, 0);
    drnn_scratch_set_dropout(one, 0);
    ck_assert(!isnan(drnn_group_loss(&w, group, names, lens, 5, NULL, losses, NULL, 0)));
    for (int i = 0; i < 5; i++)
        ck_assert_msg(losses[i] == drnn_name_loss(&w, one, names[i], lens[i]),
                      "%s: loss of name %d differs in a group", drnn_cell_name(cfg.cell), i);
    ck_assert(isnan(drnn_group_loss(&w, group, names, lens, 6, NULL, losses, NULL, 0)));
    /* And the gradient is not trivially zero. */
    double norm = 0;
    for (size_t i = 0; i < g1.count; i++)
        norm += fabsf(g1.data[i]);
    ck_assert(norm > 1);
    ck_assert(isnan(drnn_group_loss(&w, group, names, lens, 6, seeds, NULL, &g2, 0)));
    drnn_scratch_free(one);
    drnn_scratch_free(group);
    drnn_params_free(&w);
    drnn_params_free(&g1);
    drnn_params_free(&g2);
}
END_TEST

/* The softmax of logits far outside exp's range (a float's exp overflows
 * above 88.7): probabilities and log-normaliser as computed in double with
 * the largest logit subtracted. Without that subtraction, exp(100) is
 * infinite or clamped, and the loss comes out wrong or NaN. */
START_TEST(test_softmax_large_logits)
{
    enum { V = 6 };
    const double logits[V] = {100, 0, -100, 60, 99.5, -1000};
    drnn_real z[V];
    for (int v = 0; v < V; v++)
        z[v] = (drnn_real)logits[v];
    drnn_real zmax;
    double lognorm = drnn_softmax(z, V, &zmax);
    double sum = 0;
    for (int v = 0; v < V; v++)
        sum += exp(logits[v] - 100);
    const double lse = 100 + log(sum); /* log sum_v exp(logit_v) */
    ck_assert_msg(isfinite(lognorm) && fabs(lognorm + zmax - lse) < 1e-4,
                  "softmax of logits up to 100: log sum exp is %.6g, not %.6g",
                  lognorm + (double)zmax, lse);
    for (int v = 0; v < V; v++)
        ck_assert_msg(isfinite(z[v]) && fabs(z[v] - exp(logits[v] - lse)) < 1e-6,
                      "softmax of logits up to 100: p[%d] = %.6g, not %.6g", v, (double)z[v],
                      exp(logits[v] - lse));
}
END_TEST

static Suite *model_suite(void)
{
    Suite *suite = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_config_limits);
    tcase_add_test(tc, test_init_seeded);
    tcase_add_test(tc, test_init_lstm_forget_bias);
    tcase_add_test(tc, test_sgd_learns_five_names);
    tcase_add_loop_test(tc, test_group_equals_sequential, 0, 6);
    tcase_add_test(tc, test_softmax_large_logits);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(model_suite());
}
