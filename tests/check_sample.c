/* check_sample.c: generation. Beam search against brute-force enumeration,
 * its scores against the training loss, greedy decoding three ways, and
 * evaluation independent of the thread count. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dinornn/dinornn.h"
#include "check_run.h"

/* A random 2-layer model over END + 3 symbols, with logits spread enough
 * that names differ clearly in probability. */
static void tiny_model(drnn_params *w, drnn_scratch **s, int vocab)
{
    drnn_config cfg = {.vocab = vocab, .hidden = 6, .layers = 2, .cell = DRNN_CELL_RNN};
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(s, &cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
    drnn_rng_seed(&rng, 99);
    drnn_params_init(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] *= 3;
}

typedef struct scored {
    drnn_token t[4];
    int len;
    double logprob;
} scored;

static int by_logprob(const void *a, const void *b)
{
    double x = ((const scored *)a)->logprob, y = ((const scored *)b)->logprob;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* With a beam as wide as the number of names, beam search is exhaustive:
 * it must return exactly the brute-force ranking, scores bit for bit. */
START_TEST(test_beam_matches_brute_force)
{
    drnn_params w;
    drnn_scratch *s;
    tiny_model(&w, &s, 4);
    scored all[3 + 9 + 27 + 81];
    int n = 0;
    for (int len = 1; len <= 4; len++) {
        int total = 1;
        for (int i = 0; i < len; i++)
            total *= 3;
        for (int code = 0; code < total; code++) {
            int c = code;
            for (int i = 0; i < len; i++, c /= 3)
                all[n].t[i] = (drnn_token)(1 + c % 3);
            all[n].len = len;
            all[n].logprob = -drnn_name_loss(&w, s, all[n].t, len);
            n++;
        }
    }
    qsort(all, (size_t)n, sizeof *all, by_logprob);
    /* Probabilities of names up to 4 symbols plus longer ones sum to 1. */
    double mass = 0;
    for (int i = 0; i < n; i++)
        mass += exp(all[i].logprob);
    ck_assert(mass > 0.2 && mass < 1.0);

    drnn_beam_result *res = malloc(200 * sizeof *res);
    int found;
    ck_assert_int_eq(drnn_beam_search(&w, NULL, 0, 200, 4, res, &found, NULL), DRNN_OK);
    ck_assert_int_eq(found, n);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(res[i].len, all[i].len);
        ck_assert(memcmp(res[i].tokens, all[i].t, (size_t)all[i].len * sizeof(drnn_token)) == 0);
        ck_assert_msg(res[i].logprob == all[i].logprob, "rank %d: beam %.17g, loss %.17g", i,
                      res[i].logprob, all[i].logprob);
    }
    /* A narrow beam still returns non-increasing, exactly scored names. */
    ck_assert_int_eq(drnn_beam_search(&w, NULL, 0, 5, 4, res, &found, NULL), DRNN_OK);
    ck_assert_int_eq(found, 5);
    for (int i = 0; i < found; i++) {
        ck_assert(i == 0 || res[i].logprob <= res[i - 1].logprob);
        ck_assert(res[i].logprob == -drnn_name_loss(&w, s, res[i].tokens, res[i].len));
    }
    ck_assert(res[0].logprob == all[0].logprob);
    free(res);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

START_TEST(test_beam_prefix)
{
    drnn_params w;
    drnn_scratch *s;
    tiny_model(&w, &s, 4);
    drnn_token prefix[] = {2, 3};
    drnn_beam_result res[10];
    int found;
    ck_assert_int_eq(drnn_beam_search(&w, prefix, 2, 10, 6, res, &found, NULL), DRNN_OK);
    ck_assert_int_eq(found, 10);
    for (int i = 0; i < found; i++) {
        ck_assert(res[i].len >= 2 && res[i].len <= 6);
        ck_assert(res[i].tokens[0] == 2 && res[i].tokens[1] == 3);
        ck_assert(res[i].logprob == -drnn_name_loss(&w, s, res[i].tokens, res[i].len));
    }
    ck_assert_int_eq(drnn_beam_search(&w, prefix, 2, 0, 6, res, &found, NULL), DRNN_ERR_INVALID);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* The most likely symbol at every step, computed here from the logits. */
static int greedy(const drnn_params *w, drnn_token *out, int max_len)
{
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &w->cfg, NULL), DRNN_OK);
    drnn_stepper_reset(st);
    const drnn_real *z = drnn_stepper_feed(st, w, DRNN_END);
    int n = 0;
    while (n < max_len) {
        int best = n == 0 ? 1 : 0; /* no END before the first symbol */
        for (int v = best + 1; v < w->cfg.vocab; v++)
            if (z[v] > z[best])
                best = v;
        if (best == DRNN_END)
            break;
        out[n++] = (drnn_token)best;
        z = drnn_stepper_feed(st, w, (drnn_token)best);
    }
    drnn_stepper_free(st);
    return n;
}

START_TEST(test_greedy_three_ways)
{
    drnn_params w;
    drnn_scratch *s;
    tiny_model(&w, &s, 12);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &w.cfg, NULL), DRNN_OK);
    drnn_token g[20], t[20];
    int gn = greedy(&w, g, 20);
    drnn_rng rng;
    drnn_rng_seed(&rng, 5);
    drnn_sample_options t0 = {.temperature = 0, .top_k = 0, .max_len = 20};
    drnn_sample_options k1 = {.temperature = 1, .top_k = 1, .max_len = 20};
    drnn_sample_options cold = {.temperature = 0.001, .top_k = 0, .max_len = 20};
    drnn_sample_options warm = {.temperature = 1, .top_k = 0, .max_len = 20};
    for (int i = 0; i < 20; i++) {
        int n = drnn_sample_name(&w, st, &rng, &t0, NULL, 0, t);
        ck_assert(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0);
        n = drnn_sample_name(&w, st, &rng, &k1, NULL, 0, t);
        ck_assert(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0);
        n = drnn_sample_name(&w, st, &rng, &cold, NULL, 0, t);
        ck_assert_msg(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0,
                      "temperature 0.001 strayed from greedy decoding");
    }
    /* At temperature 1 the draws do differ from greedy: the test can fail. */
    int differ = 0;
    for (int i = 0; i < 20; i++) {
        int n = drnn_sample_name(&w, st, &rng, &warm, NULL, 0, t);
        differ += n != gn || memcmp(t, g, (size_t)n * sizeof *t) != 0;
    }
    ck_assert(differ > 5);
    drnn_stepper_free(st);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* top-k draws only among the k most likely symbols. */
START_TEST(test_top_k)
{
    drnn_real logits[6] = {0.5f, 2.0f, -1.0f, 1.5f, 0.0f, 1.9f};
    drnn_sample_options opt = {.temperature = 5, .top_k = 3, .max_len = 10};
    drnn_rng rng;
    drnn_rng_seed(&rng, 1);
    int seen[6] = {0};
    for (int i = 0; i < 3000; i++)
        seen[drnn_sample_logits(logits, 6, &opt, &rng)]++;
    ck_assert(seen[1] > 0 && seen[3] > 0 && seen[5] > 0);
    ck_assert(seen[0] == 0 && seen[2] == 0 && seen[4] == 0);
    opt.top_k = 0;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 3000; i++)
        seen[drnn_sample_logits(logits, 6, &opt, &rng)]++;
    for (int v = 0; v < 6; v++)
        ck_assert(seen[v] > 0);
}
END_TEST

START_TEST(test_evaluate_threads)
{
    drnn_params w;
    drnn_scratch *s;
    tiny_model(&w, &s, 4);
    drnn_token tok[300];
    size_t start[61];
    long line[60];
    for (int i = 0, at = 0; i < 60; i++) {
        start[i] = (size_t)at;
        line[i] = i + 1;
        for (int j = 0; j < 1 + i % 5; j++)
            tok[at++] = (drnn_token)(1 + (i + j) % 3);
        start[i + 1] = (size_t)at;
    }
    drnn_corpus c = {.count = 60, .tokens = tok, .start = start, .line = line};
    double ref = 0, nats;
    int64_t chars;
    for (int i = 0; i < 60; i++)
        ref += drnn_name_loss(&w, s, tok + start[i], (int)(start[i + 1] - start[i]));
    static const int threads[] = {1, 2, 5};
    double first = 0;
    for (int k = 0; k < 3; k++) {
#ifdef _OPENMP
        omp_set_num_threads(threads[k]);
#else
        (void)threads;
#endif
        ck_assert_int_eq(drnn_evaluate(&w, &c, &nats, &chars, NULL), DRNN_OK);
        ck_assert_int_eq(chars, (int64_t)start[60] + 60);
        ck_assert_double_eq_tol(nats, ref, 1e-9 * ref);
        if (k == 0)
            first = nats;
        ck_assert(nats == first);
    }
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

static Suite *sample_suite(void)
{
    Suite *suite = suite_create("sample");
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_beam_matches_brute_force);
    tcase_add_test(tc, test_beam_prefix);
    tcase_add_test(tc, test_greedy_three_ways);
    tcase_add_test(tc, test_top_k);
    tcase_add_test(tc, test_evaluate_threads);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(sample_suite());
}
