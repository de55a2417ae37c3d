/* check_constrained.c: names under constraints. The exact search against
 * brute force for random constraints of every combination, on models of
 * every cell and on one whose names tie by the hundred; sampling against
 * the exact conditional probabilities; the bound on draws. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "check_run.h"
#include "check_search.h"
#include "check_shape.h"

/* ---- the exact search under constraints, against brute force ---- */


/* The search's top k are brute force's first k (all of them, n): names
 * in order, scores bit for bit; none at all only when nothing is
 * searched. Its pre-pass's floor is never above the true k-th score (it
 * would have refused a true answer), and finite only when k names exist.
 * Returns 2 when the floor is the k-th score itself (the tightest bound
 * that keeps the answer), 1 when it is below, 0 when there is none;
 * *depth_first (if not NULL) counts the searches the depth-first walk
 * finished. */
static int expect_top_k(const drnn_params *w, const drnn_search_options *o, const scored *all,
                         int n, const char *what, int *depth_first)
{
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(w), o, &res, NULL), DRNN_OK);
    ck_assert_msg(res.exact && res.count == (o->k < n ? o->k : n),
                  "%s, k %d: exact %d, %d names, brute force %d", what, o->k, res.exact,
                  res.count, n);
    for (int i = 0; i < res.count; i++)
        ck_assert_msg(res.names[i].len == all[i].len &&
                          !memcmp(res.names[i].tokens, all[i].t,
                                  (size_t)all[i].len * sizeof(drnn_token)) &&
                          res.names[i].logprob == all[i].logprob,
                      "%s, k %d: rank %d differs", what, o->k, i);
    ck_assert_msg(res.unsatisfiable == (n == 0), "%s: unsatisfiable %d with %d names", what,
                  res.unsatisfiable, n);
    if (n == 0)
        ck_assert_int_eq(res.expanded, 0);
    ck_assert_msg(n >= o->k ? res.floor <= all[o->k - 1].logprob : res.floor == -INFINITY,
                  "%s, k %d: floor %.17g above the k-th of %d", what, o->k, res.floor, n);
    int bounded = res.floor == -INFINITY ? 0 : res.floor == all[o->k - 1].logprob ? 2 : 1;
    if (depth_first)
        *depth_first += res.depth_first;
    drnn_search_result_free(&res);
    return bounded;
}

/* Each combination of constraints twice, on models of every cell and on
 * one whose names tie by the hundred, with a prefix in the options now
 * and then (which may contradict the constraint's): the k most likely
 * names that brute force finds among all of up to 5 symbols. */
START_TEST(test_search_matches_brute_force)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    drnn_params w[4];
    drnn_scratch *sc[4];
    random_model(&w[0], &sc[0], DRNN_CELL_RNN, 1, V, 281, 2.5);
    random_model(&w[1], &sc[1], DRNN_CELL_LSTM, 2, V, 282, 2.5);
    random_model(&w[2], &sc[2], DRNN_CELL_GRU, 2, V, 283, 2.5);
    sure_model(&w[3], &sc[3], 284, V);
    drnn_rng rng;
    drnn_rng_seed(&rng, 2828);
    int searched = 0, empty = 0, bounded[3] = {0, 0, 0}, depth_first = 0;
    for (int kinds = 0; kinds < 64; kinds++)
        for (int rep = 0; rep < 2; rep++) {
            spec sp;
            random_spec(&rng, kinds, &sp);
            drnn_constraint *c = compile_or_skip(&sp, &vocab);
            if (!c)
                continue;
            int m = (kinds + rep) % 4, plen = rep && drnn_rng_below(&rng, 2);
            drnn_token prefix[1] = {(drnn_token)(1 + drnn_rng_below(&rng, A))};
            drnn_search_options o = {.prefix = prefix, .prefix_len = plen,
                                     .min_len = 1 + (int)drnn_rng_below(&rng, 2), .max_len = 5,
                                     .constraint = c};
            int n;
            scored *all = brute_force_where(&w[m], sc[m], prefix, plen, o.min_len, o.max_len,
                                            keep_plain, &sp, &n);
            char what[200];
            snprintf(what, sizeof what, "pattern '%s' prefix '%s'+%d suffix '%s' contains '%s' "
                     "exclude '%s' lengths %d-%d, model %d", sp.pattern, sp.prefix, plen,
                     sp.suffix, sp.contains[0], sp.exclude, sp.cs.min_len, sp.cs.max_len, m);
            static const int ks[] = {1, 6, 40, 150}; /* 150: more than the pre-pass's beam */
            for (int i = 0; i < 4; i++) {
                o.k = ks[i];
                bounded[expect_top_k(&w[m], &o, all, n, what, NULL)]++;
                /* Too little memory for the best-first search: the
                 * depth-first walk gives the same answer. */
                o.max_bytes = 24000;
                expect_top_k(&w[m], &o, all, n, what, &depth_first);
                o.max_bytes = 0;
            }
            searched++;
            empty += n == 0;
            free(all);
            drnn_constraint_free(c);
        }
    ck_assert_int_gt(searched, 100);
    ck_assert_msg(depth_first > 100, "the depth-first walk answered %d searches", depth_first);
    ck_assert_int_gt(empty, 5);
    /* The pre-pass is exercised, loose and tight (its beam of 64 is near
     * exhaustive on models this small: loose floors come with k = 150). */
    ck_assert_msg(bounded[1] >= 3 && bounded[2] > 5,
                  "floors: %d none, %d below the k-th, %d the k-th itself", bounded[0], bounded[1],
                  bounded[2]);
    for (int m = 0; m < 4; m++) {
        drnn_scratch_free(sc[m]);
        drnn_params_free(&w[m]);
    }
}
END_TEST

/* After a bound stops the search, the names it finishes greedily meet the
 * constraint too, and those it certified are brute force's first. */
START_TEST(test_search_bound_under_constraint)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    drnn_params w;
    drnn_scratch *sc;
    random_model(&w, &sc, DRNN_CELL_GRU, 1, V, 29, 1.0);
    static const char *const contains[] = {"b"};
    spec sp = {.cs = {.contains = contains, .n_contains = 1, .pattern = "*[!-]?",
                      .exclude = "c"}};
    lower(sp.low_pattern, sp.cs.pattern);
    strcpy(sp.low[2], "b");
    strcpy(sp.low[5], "c");
    drnn_constraint *c;
    ck_assert_int_eq(drnn_constraint_compile(&c, &sp.cs, &vocab, NULL), DRNN_OK);
    int n;
    scored *all = brute_force_where(&w, sc, NULL, 0, 1, 5, keep_plain, &sp, &n);
    drnn_search_options o = {.k = 40, .min_len = 1, .max_len = 5, .constraint = c,
                             .max_expansions = 6};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert(!res.exact && res.count > res.certified);
    for (int i = 0; i < res.count; i++) {
        ck_assert(keep_plain(&sp, res.names[i].tokens, res.names[i].len));
        ck_assert(res.names[i].len <= 5);
        ck_assert(res.names[i].logprob ==
                  -drnn_name_loss(&w, sc, res.names[i].tokens, res.names[i].len));
        if (i < res.certified)
            ck_assert(res.names[i].logprob == all[i].logprob && res.names[i].len == all[i].len);
    }
    drnn_search_result_free(&res);
    free(all);
    drnn_constraint_free(c);
    drnn_scratch_free(sc);
    drnn_params_free(&w);
}
END_TEST

/* ---- sampling under constraints ---- */

/* The probability that drnn_sample_name draws t[0 .. n) under o: at each
 * step the symbol's share of the weights exp((z - zmax) / T) of the top_k
 * candidates (END no candidate before min_len), then END's share unless
 * max_len cuts the name there. */
static double draw_probability(const drnn_params *w, drnn_stepper *st,
                               const drnn_sample_options *o, const drnn_token *t, int n)
{
    drnn_stepper_reset(st);
    const drnn_real *z = drnn_stepper_feed(st, NET(w), DRNN_END);
    double p = 1;
    for (int i = 0; i <= n && !(i == n && n == o->max_len); i++) {
        int first = i < o->min_len, target = i < n ? t[i] : DRNN_END;
        drnn_real zmax = z[first], kth = -INFINITY, sorted[V];
        for (int v = first; v < V; v++) {
            zmax = z[v] > zmax ? z[v] : zmax;
            int at = v - first;
            for (; at > 0 && sorted[at - 1] < z[v]; at--) /* descending */
                sorted[at] = sorted[at - 1];
            sorted[at] = z[v];
        }
        if (o->top_k > 0 && o->top_k < V - first)
            kth = sorted[o->top_k - 1];
        double total = 0;
        for (int v = first; v < V; v++)
            total += z[v] >= kth ? exp(((double)z[v] - zmax) / o->temperature) : 0;
        p *= (z[target] >= kth ? exp(((double)z[target] - zmax) / o->temperature) : 0) / total;
        if (i < n)
            z = drnn_stepper_feed(st, NET(w), t[i]);
    }
    return p;
}

/* N names drawn under the constraint against its exact conditional
 * distribution: every name drawn meets it, and Pearson's chi-square over
 * the names expected at least 5 times (the rest pooled) stays below
 * df + 6 sqrt(2 df), six standard deviations above its mean (the seed is
 * fixed: the draws are the same each run). */
static void expect_frequencies(const drnn_params *w, const spec *sp, const drnn_sample_options *o,
                               const drnn_token *prefix, int plen, long N)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    drnn_constraint *c;
    ck_assert_int_eq(drnn_constraint_compile(&c, &sp->cs, &vocab, NULL), DRNN_OK);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, NET(w), NULL), DRNN_OK);
    enum { NAMES = 5 + 25 + 125 + 625 };
    double q[NAMES] = {0}, total = 0;
    long seen[NAMES] = {0};
    drnn_token t[LMAX];
    int off[6] = {0, 0, 5, 30, 155, 780};
    for (int L = 1; L <= o->max_len; L++)
        for (int code = 0; code < off[L + 1] - off[L]; code++) {
            char text[LMAX + 1];
            spell(L, code, text, t);
            if (L >= o->min_len && (!plen || t[0] == prefix[0]) && plain_match(sp, text))
                total += q[off[L] + code] = draw_probability(w, st, o, t, L);
        }
    drnn_rng rng;
    drnn_rng_seed(&rng, 7);
    long long left = 1000 * N;
    for (long d = 0; d < N; d++) {
        int n = drnn_sample_constrained(NET(w), st, &rng, o, c, prefix, plen, &left, t);
        ck_assert_int_gt(n, 0);
        int code = 0;
        for (int i = 0; i < n; i++)
            code = code * A + t[i] - 1;
        ck_assert_msg(q[off[n] + code] > 0, "a name outside the constraint drawn");
        seen[off[n] + code]++;
    }
    double chi2 = 0, pooled_e = 0, pooled_o = 0;
    int df = 0;
    for (int i = 0; i < NAMES; i++) {
        double e = (double)N * q[i] / total;
        if (e >= 5)
            chi2 += ((double)seen[i] - e) * ((double)seen[i] - e) / e, df++;
        else
            pooled_e += e, pooled_o += (double)seen[i];
    }
    if (pooled_e > 0)
        chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e, df++;
    df--;
    ck_assert_msg(df >= 8, "only %d categories: the test would not bite", df + 1);
    ck_assert_msg(chi2 < df + 6 * sqrt(2.0 * df), "chi-square %.1f with %d degrees of freedom",
                  chi2, df);
    drnn_stepper_free(st);
    drnn_constraint_free(c);
}

START_TEST(test_sampling_frequencies)
{
    drnn_params w;
    drnn_scratch *sc;
    random_model(&w, &sc, DRNN_CELL_LSTM, 1, V, 5, 0.8);
    static const char *const a[] = {"a"}, *const ab[] = {"ab"};
    /* Names that hold an 'a' and end in anything but 'b'. */
    spec s1 = {.cs = {.contains = a, .n_contains = 1, .pattern = "*[!b]"}};
    strcpy(s1.low[2], "a");
    strcpy(s1.low_pattern, "*[!b]");
    drnn_sample_options o1 = {.temperature = 1, .max_len = 4, .min_len = 1};
    expect_frequencies(&w, &s1, &o1, NULL, 0, 60000);
    /* Cooler, top 4, at least 2 symbols: ending in 'a', without 'c'. */
    spec s2 = {.cs = {.suffix = "a", .exclude = "c"}};
    strcpy(s2.low[1], "a");
    strcpy(s2.low[5], "c");
    drnn_sample_options o2 = {.temperature = 0.8, .top_k = 4, .max_len = 4, .min_len = 2};
    expect_frequencies(&w, &s2, &o2, NULL, 0, 60000);
    /* After the prefix 'b', holding "ab" within 4 symbols. */
    spec s3 = {.cs = {.contains = ab, .n_contains = 1, .max_len = 4}};
    strcpy(s3.low[2], "ab");
    drnn_sample_options o3 = {.temperature = 1, .max_len = 4, .min_len = 1};
    const drnn_token b = 4;
    expect_frequencies(&w, &s3, &o3, &b, 1, 60000);
    drnn_scratch_free(sc);
    drnn_params_free(&w);
}
END_TEST

/* The bound on draws: a constraint the model all but never meets (its
 * first symbol is the one the model is sure of, 40 nats above the rest)
 * takes every draw allowed and returns no name; at temperature 0, one draw
 * tells; without a constraint it is drnn_sample_name, draw for draw; an
 * unsatisfiable constraint takes no draw at all. */
START_TEST(test_sampling_draw_bound)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    drnn_params w;
    drnn_scratch *sc;
    sure_model(&w, &sc, 3, V);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, NET(&w), NULL), DRNN_OK);
    drnn_sample_options o = {.temperature = 1, .max_len = 5, .min_len = 1};
    drnn_rng rng, again;
    drnn_rng_seed(&rng, 11);
    drnn_token g[LMAX], t[LMAX];
    drnn_sample_options greedy = o;
    greedy.temperature = 0;
    int gn = drnn_sample_name(NET(&w), st, &rng, &greedy, NULL, 0, g);
    char not_first[2] = {ALPHA[g[0] - 1], 0};
    drnn_constraint_spec cs = {.exclude = not_first};
    drnn_constraint *c;
    ck_assert_int_eq(drnn_constraint_compile(&c, &cs, &vocab, NULL), DRNN_OK);
    long long left = 500;
    ck_assert_int_eq(drnn_sample_constrained(NET(&w), st, &rng, &o, c, NULL, 0, &left, t), 0);
    ck_assert_int_eq(left, 0);
    ck_assert_int_eq(drnn_sample_constrained(NET(&w), st, &rng, &o, c, NULL, 0, &left, t), 0);
    left = 500;
    ck_assert_int_eq(drnn_sample_constrained(NET(&w), st, &rng, &greedy, c, NULL, 0, &left, t), -1);
    ck_assert_int_eq(left, 499);
    drnn_constraint_free(c);
    /* The greedy name itself is accepted at once. */
    char first[2] = {ALPHA[g[0] - 1], 0};
    cs = (drnn_constraint_spec){.prefix = first};
    ck_assert_int_eq(drnn_constraint_compile(&c, &cs, &vocab, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_sample_constrained(NET(&w), st, &rng, &greedy, c, NULL, 0, &left, t), gn);
    ck_assert(!memcmp(t, g, (size_t)gn * sizeof *t) && left == 498);
    drnn_constraint_free(c);
    /* No constraint: drnn_sample_name's draws. */
    for (int i = 0; i < 20; i++) {
        again = rng;
        int n = drnn_sample_constrained(NET(&w), st, &rng, &o, NULL, NULL, 0, &left, t);
        ck_assert_int_eq(n, drnn_sample_name(NET(&w), st, &again, &o, NULL, 0, g));
        ck_assert(!memcmp(t, g, (size_t)n * sizeof *t));
    }
    /* Nothing can meet it: no draw. */
    static const char *const long_one[] = {"abcabc"};
    cs = (drnn_constraint_spec){.contains = long_one, .n_contains = 1, .max_len = 5};
    ck_assert_int_eq(drnn_constraint_compile(&c, &cs, &vocab, NULL), DRNN_OK);
    left = 10;
    ck_assert_int_eq(drnn_sample_constrained(NET(&w), st, &rng, &o, c, NULL, 0, &left, t), -1);
    ck_assert_int_eq(left, 10);
    drnn_constraint_free(c);
    drnn_stepper_free(st);
    drnn_scratch_free(sc);
    drnn_params_free(&w);
}
END_TEST

static Suite *constrained_suite(void)
{
    Suite *suite = suite_create("constrained");
    TCase *tc = tcase_create("constrained");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_search_matches_brute_force);
    tcase_add_test(tc, test_search_bound_under_constraint);
    tcase_add_test(tc, test_sampling_frequencies);
    tcase_add_test(tc, test_sampling_draw_bound);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(constrained_suite());
}
