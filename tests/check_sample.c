/* check_sample.c: generation. The exact search against brute-force enumeration,
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
#include "check_search.h"

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

/* The search's top k equal brute force's: names in order, scores bit for bit. */
static void expect_top(const drnn_params *w, drnn_scratch *s, const drnn_token *prefix, int plen,
                       int min_len, int max_len, int k)
{
    int n;
    scored *all = brute_force(w, s, prefix, plen, min_len, max_len, &n);
    drnn_search_options o = {.k = k, .prefix = prefix, .prefix_len = plen,
                             .min_len = min_len, .max_len = max_len};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(w), &o, &res, NULL), DRNN_OK);
    ck_assert(res.exact);
    ck_assert_int_eq(res.count, k < n ? k : n);
    ck_assert_int_eq(res.certified, res.count);
    for (int i = 0; i < res.count; i++) {
        ck_assert_msg(res.names[i].len == all[i].len &&
                          !memcmp(res.names[i].tokens, all[i].t, (size_t)all[i].len * sizeof(drnn_token)),
                      "cell %d L%d prefix %d, min %d max %d, k %d: rank %d differs", w->cfg.cell,
                      w->cfg.layers, plen, min_len, max_len, k, i);
        ck_assert_msg(res.names[i].logprob == all[i].logprob, "rank %d: search %.17g, loss %.17g",
                      i, res.names[i].logprob, all[i].logprob);
    }
    drnn_search_result_free(&res);
    free(all);
}

/* Every cell, 1 to 3 layers, several prefixes, length bounds and k. A beam
 * of width k fails this (finished names pushed out, better ones pruned). */
START_TEST(test_search_matches_brute_force)
{
    static const drnn_cell_kind cells[] = {DRNN_CELL_RNN, DRNN_CELL_LSTM, DRNN_CELL_GRU};
    static const int ks[] = {1, 5, 20};
    for (int c = 0; c < 3; c++)
        for (int layers = 1; layers <= 3; layers++) {
            drnn_params w;
            drnn_scratch *s;
            random_model(&w, &s, cells[c], layers, 5, 100 + 10 * (uint64_t)c + (uint64_t)layers,
                         2.5);
            const drnn_token pre[] = {2, 1, 4};
            for (int plen = 0; plen <= 2; plen++)
                for (int ki = 0; ki < 3; ki++) {
                    expect_top(&w, s, pre, plen, 1, 5, ks[ki]);
                    expect_top(&w, s, pre, plen, 3, 5, ks[ki]);
                }
            expect_top(&w, s, pre, 3, 1, 3, 1);   /* the prefix alone, or nothing */
            expect_top(&w, s, pre, 0, 4, 4, 20);  /* one length only */
            drnn_scratch_free(s);
            drnn_params_free(&w);
        }
}
END_TEST

/* A model that strongly prefers long names: short names ranked first must
 * still be found although every partial name outscores them for a while. */
/* More symbols than a node ranks at once (the search queues a node's
 * children a block at a time and ranks the next block when one runs out):
 * the same names as brute force, for every cell, with and without a
 * prefix, up to a few hundred names. */
START_TEST(test_search_large_alphabet)
{
    static const drnn_cell_kind cells[] = {DRNN_CELL_RNN, DRNN_CELL_LSTM, DRNN_CELL_GRU};
    for (int c = 0; c < 3; c++) {
        drnn_params w;
        drnn_scratch *s;
        random_model(&w, &s, cells[c], 2, 60, 7 + (uint64_t)c, c == 0 ? 1.0 : 2.5);
        const drnn_token pre[] = {33};
        expect_top(&w, s, pre, 0, 1, 2, 300);
        expect_top(&w, s, pre, 0, 2, 2, 150);
        expect_top(&w, s, pre, 1, 2, 3, 120);
        drnn_scratch_free(s);
        drnn_params_free(&w);
    }
}
END_TEST

START_TEST(test_search_short_names_not_pushed_out)
{
    drnn_params w;
    drnn_scratch *s;
    random_model(&w, &s, DRNN_CELL_GRU, 2, 4, 7, 4.0);
    for (int max_len = 1; max_len <= 6; max_len++)
        expect_top(&w, s, NULL, 0, 1, max_len, 20);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* An exact tie between a finished name and a partial one of the same
 * length that ends at once: the documented order (shorter, then lower
 * symbols) puts the partial one's name first. After END the model is sure
 * of "b" (a at -40), after "b" of "a" (END at -40), after "a" of END: "a"
 * and "b" both score -40 to the last bit. */
START_TEST(test_search_tie_order)
{
    drnn_config cfg = {.vocab = 3, .hidden = 3, .layers = 1, .cell = DRNN_CELL_RNN};
    drnn_params w;
    drnn_scratch *s;
    ck_assert_int_eq(drnn_params_alloc(&w, &cfg, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&s, &cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
    drnn_params_zero(&w);
    for (int k = 0; k < 3; k++)
        w.layer[0].W_x[k * 3 + k] = 20; /* input k lights unit k */
    static const drnn_real logit[3][3] = {/* by unit (previous input): END, a, b */
                                          {-200, 0, 40}, {0, -200, -200}, {0, 40, -200}};
    for (int k = 0; k < 3; k++)
        for (int v = 0; v < 3; v++)
            w.W_y[v * 3 + k] = logit[k][v];
    const drnn_token a = 1, b = 2;
    ck_assert(drnn_name_loss(&w, s, &a, 1) == drnn_name_loss(&w, s, &b, 1));
    drnn_search_options o = {.k = 2, .min_len = 1, .max_len = 1};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert_int_eq(res.count, 2);
    ck_assert_msg(res.names[0].tokens[0] == a && res.names[1].tokens[0] == b,
                  "tie order: %d then %d", res.names[0].tokens[0], res.names[1].tokens[0]);
    drnn_search_result_free(&res);
    o.k = 1;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert(res.count == 1 && res.names[0].tokens[0] == a);
    drnn_search_result_free(&res);
    expect_top(&w, s, NULL, 0, 1, 3, 20);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* --novel: excluded names never come back, and the rest are still the top k. */
START_TEST(test_search_excludes)
{
    drnn_params w;
    drnn_scratch *s;
    random_model(&w, &s, DRNN_CELL_LSTM, 2, 4, 5, 2.5);
    int n;
    scored *all = brute_force(&w, s, NULL, 0, 1, 4, &n);
    /* Exclude ranks 0, 2, 3 and 7 of the brute-force list. */
    static const int gone[] = {0, 2, 3, 7};
    drnn_names names;
    drnn_corpus corpus;
    char text[64];
    size_t at = 0;
    for (int g = 0; g < 4; g++) {
        for (int i = 0; i < all[gone[g]].len; i++)
            text[at++] = (char)('a' + all[gone[g]].t[i] - 1);
        text[at++] = '\n';
    }
    text[at] = 0;
    drnn_names_options no = {0};
    ck_assert_int_eq(drnn_names_parse(&names, text, strlen(text), "test", &no, NULL), DRNN_OK);
    uint32_t symbols[4] = {DRNN_END, 'a', 'b', 'c'};
    drnn_vocab vocab = {4, symbols};
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &names, &vocab, 0, "test", NULL), DRNN_OK);
    drnn_name_set *set;
    ck_assert_int_eq(drnn_name_set_new(&set, &corpus, NULL), DRNN_OK);
    for (int g = 0; g < 4; g++)
        ck_assert(drnn_name_set_contains(set, all[gone[g]].t, all[gone[g]].len));
    ck_assert(!drnn_name_set_contains(set, all[1].t, all[1].len));

    drnn_search_options o = {.k = 6, .min_len = 1, .max_len = 4, .exclude = set};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert(res.exact);
    static const int kept[] = {1, 4, 5, 6, 8, 9};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(res.names[i].len, all[kept[i]].len);
        ck_assert(!memcmp(res.names[i].tokens, all[kept[i]].t, (size_t)res.names[i].len * sizeof(drnn_token)));
        ck_assert(res.names[i].logprob == all[kept[i]].logprob);
    }
    drnn_search_result_free(&res);
    drnn_name_set_free(set);
    drnn_corpus_free(&corpus);
    drnn_names_free(&names);
    free(all);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* A bound that bites: exact is 0, the certified names are the true top
 * ones, and every name returned is in order and correctly scored. */
START_TEST(test_search_bound)
{
    drnn_params w;
    drnn_scratch *s;
    random_model(&w, &s, DRNN_CELL_RNN, 1, 5, 3, 1.0); /* flat: many names alike */
    int n;
    scored *all = brute_force(&w, s, NULL, 0, 1, 5, &n);
    drnn_search_options o = {.k = 50, .min_len = 1, .max_len = 5, .max_expansions = 10};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert(!res.exact);
    ck_assert_int_eq(res.expanded, 10);
    ck_assert(res.certified < 50);
    ck_assert(res.count > res.certified);
    for (int i = 0; i < res.count; i++) {
        ck_assert(res.names[i].logprob == -drnn_name_loss(&w, s, res.names[i].tokens, res.names[i].len));
        ck_assert(i == 0 || res.names[i].logprob <= res.names[i - 1].logprob);
        for (int j = 0; j < i; j++) /* distinct */
            ck_assert(res.names[i].len != res.names[j].len ||
                      memcmp(res.names[i].tokens, res.names[j].tokens, (size_t)res.names[i].len * sizeof(drnn_token)));
        if (i < res.certified)
            ck_assert(res.names[i].logprob == all[i].logprob && res.names[i].len == all[i].len);
    }
    drnn_search_result_free(&res);
    /* A memory bound too small for the root's children stops it at once. */
    o.max_expansions = 0;
    o.max_bytes = 64;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
    ck_assert(!res.exact);
    ck_assert_int_eq(res.certified, 0);
    drnn_search_result_free(&res);
    /* Bad requests. */
    o.max_bytes = 0;
    o.k = 0;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_ERR_INVALID);
    o.k = 5;
    o.min_len = 6;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_ERR_INVALID);
    free(all);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* Exact ties at the k-th best score: a partial name that scores exactly
 * the threshold can still end as a name that ties with the k-th and ranks
 * before it (shorter, or lower symbols), so the pruning keeps it; brute
 * force says which names and in which order, for every k. */
START_TEST(test_search_ties_at_the_threshold)
{
    int ties = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        drnn_params w;
        drnn_scratch *s;
        sure_model(&w, &s, seed, 4);
        int n;
        scored *all = brute_force(&w, s, NULL, 0, 1, 4, &n);
        for (int k = 1; k <= 12 && k < n; k++) {
            ties += all[k - 1].logprob == all[k].logprob;
            expect_top(&w, s, NULL, 0, 1, 4, k);
        }
        free(all);
        drnn_scratch_free(s);
        drnn_params_free(&w);
    }
    ck_assert_msg(ties > 50, "only %d ties at the k-th best: the test would not bite", ties);
}
END_TEST

/* After a bound stops the search, the names it completes greedily obey
 * --novel too: exclude every other name that a bounded search printed
 * beyond the certified ones, search again, and none of them may come back. */
START_TEST(test_search_bound_excludes)
{
    drnn_params w;
    drnn_scratch *s;
    random_model(&w, &s, DRNN_CELL_GRU, 1, 5, 11, 1.0);
    drnn_search_options o = {.k = 30, .min_len = 1, .max_len = 5, .max_expansions = 4};
    drnn_search_result first, again;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &first, NULL), DRNN_OK);
    ck_assert(!first.exact && first.count > first.certified + 3);
    /* The greedy names as a corpus, and its set. */
    drnn_token tokens[30 * DRNN_MAX_NAME_LEN];
    size_t start[31] = {0};
    drnn_corpus greedy = {.tokens = tokens, .start = start};
    for (int i = first.certified; i < first.count; i += 2, greedy.count++) {
        const drnn_scored_name *nm = &first.names[i];
        memcpy(tokens + start[greedy.count], nm->tokens, (size_t)nm->len * sizeof *tokens);
        start[greedy.count + 1] = start[greedy.count] + (size_t)nm->len;
    }
    drnn_name_set *set;
    ck_assert_int_eq(drnn_name_set_new(&set, &greedy, NULL), DRNN_OK);
    o.exclude = set;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &again, NULL), DRNN_OK);
    ck_assert_msg(!again.exact && again.count > again.certified, "exact %d count %d certified %d (first %d %d)", again.exact, again.count, again.certified, first.count, first.certified);
    for (int i = 0; i < again.count; i++)
        ck_assert_msg(!drnn_name_set_contains(set, again.names[i].tokens, again.names[i].len),
                      "name %d of %d is excluded", i, again.count);
    drnn_search_result_free(&first);
    drnn_search_result_free(&again);
    drnn_name_set_free(set);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* The most likely symbol at every step, computed here from the logits. */
static int greedy(const drnn_params *w, drnn_token *out, int max_len)
{
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, NET(w), NULL), DRNN_OK);
    drnn_stepper_reset(st);
    const drnn_real *z = drnn_stepper_feed(st, NET(w), DRNN_END);
    int n = 0;
    while (n < max_len) {
        int best = n == 0 ? 1 : 0; /* no END before the first symbol */
        for (int v = best + 1; v < w->cfg.vocab; v++)
            if (z[v] > z[best])
                best = v;
        if (best == DRNN_END)
            break;
        out[n++] = (drnn_token)best;
        z = drnn_stepper_feed(st, NET(w), (drnn_token)best);
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
    ck_assert_int_eq(drnn_stepper_new(&st, NET(&w), NULL), DRNN_OK);
    drnn_token g[20], t[20];
    int gn = greedy(&w, g, 20);
    drnn_rng rng;
    drnn_rng_seed(&rng, 5);
    drnn_sample_options t0 = {.temperature = 0, .top_k = 0, .max_len = 20};
    drnn_sample_options k1 = {.temperature = 1, .top_k = 1, .max_len = 20};
    drnn_sample_options cold = {.temperature = 0.001, .top_k = 0, .max_len = 20};
    drnn_sample_options warm = {.temperature = 1, .top_k = 0, .max_len = 20};
    for (int i = 0; i < 20; i++) {
        int n = drnn_sample_name(NET(&w), st, &rng, &t0, NULL, 0, t);
        ck_assert(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0);
        n = drnn_sample_name(NET(&w), st, &rng, &k1, NULL, 0, t);
        ck_assert(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0);
        n = drnn_sample_name(NET(&w), st, &rng, &cold, NULL, 0, t);
        ck_assert_msg(n == gn && memcmp(t, g, (size_t)n * sizeof *t) == 0,
                      "temperature 0.001 strayed from greedy decoding");
    }
    /* At temperature 1 the draws do differ from greedy: the test can fail. */
    int differ = 0;
    for (int i = 0; i < 20; i++) {
        int n = drnn_sample_name(NET(&w), st, &rng, &warm, NULL, 0, t);
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

/* The draw as sample.h defines it, written the plain way: symbols at or
 * above the k-th largest logit (with ties) weigh exp((z - zmax) / T). */
static int reference_draw(const drnn_real *z, int V, const drnn_sample_options *o, drnn_rng *rng,
                          const drnn_real *sorted)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (z[v] > z[best])
            best = v;
    drnn_real cut = o->top_k > 0 && o->top_k < V ? sorted[o->top_k - 1] : -INFINITY;
    double total = 0;
    for (int v = 0; v < V; v++)
        total += z[v] >= cut ? exp(((double)z[v] - z[best]) / o->temperature) : 0;
    double r = drnn_rng_uniform(rng) * total;
    for (int v = 0; v < V; v++) {
        double p = z[v] >= cut ? exp(((double)z[v] - z[best]) / o->temperature) : 0;
        if (p > 0 && r < p)
            return v;
        r -= p;
    }
    return best;
}

static int descending(const void *a, const void *b)
{
    drnn_real x = *(const drnn_real *)a, y = *(const drnn_real *)b;
    return (x < y) - (x > y);
}

/* At the largest vocabulary: top-k keeps exactly the symbols at or above
 * the k-th largest logit, ties, signed zeros and a -inf included, and each
 * draw is the reference's. Nothing is sized by a smaller limit. */
START_TEST(test_top_k_large_vocab)
{
    const int V = DRNN_MAX_VOCAB;
    drnn_real *z = malloc((size_t)V * sizeof *z), *sorted = malloc((size_t)V * sizeof *z);
    ck_assert(z && sorted);
    drnn_rng gen;
    drnn_rng_seed(&gen, 3);
    for (int v = 0; v < V; v++) /* eighths: many ties */
        z[v] = (drnn_real)((double)drnn_rng_below(&gen, 160) / 8 - 12);
    z[10] = -0.0f;
    z[11] = 0.0f;
    z[12] = -INFINITY;
    z[40000] = 9; /* one clear best */
    memcpy(sorted, z, (size_t)V * sizeof *z);
    qsort(sorted, (size_t)V, sizeof *sorted, descending);
    static const int ks[] = {1, 2, 3, 17, 409, 410, 5000, 32768, 65534, 65535, 65536, 0};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        drnn_sample_options o = {.temperature = 40, .top_k = ks[i], .max_len = 10};
        drnn_rng a, b;
        drnn_rng_seed(&a, 100 + i);
        b = a;
        drnn_real cut = o.top_k > 0 && o.top_k < V ? sorted[o.top_k - 1] : -INFINITY;
        int below = 0;
        for (int d = 0; d < 40; d++) {
            int got = drnn_sample_logits(z, V, &o, &a);
            ck_assert_int_eq(got, reference_draw(z, V, &o, &b, sorted));
            ck_assert(o.top_k == 1 ? got == 40000 : z[got] >= cut);
            below += o.top_k != 1 && z[got] < 9;
        }
        if (o.top_k > 100) /* a warm draw strays from the best: the check can fail */
            ck_assert_int_gt(below, 20);
    }
    free(z);
    free(sorted);
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
        ck_assert_int_eq(drnn_evaluate(NET(&w), &c, &nats, &chars, NULL), DRNN_OK);
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

/* A mixture's step: the log of the mean of its parts' probabilities, each
 * part stepping as it would alone; its state saves, loads and copies whole. */
START_TEST(test_mixture_stepper)
{
    drnn_params part[3];
    drnn_scratch *s[3];
    for (int k = 0; k < 3; k++)
        random_model(&part[k], &s[k], DRNN_CELL_GRU, 2, 5, 500 + (uint64_t)k, 2.0);
    const drnn_model mix = drnn_model_of(part, 3);
    ck_assert_int_eq(mix.count, 3);
    drnn_stepper *m, *one[3], *copy;
    ck_assert_int_eq(drnn_stepper_new(&m, &mix, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_stepper_new(&copy, &mix, NULL), DRNN_OK);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(drnn_stepper_new(&one[k], NET(&part[k]), NULL), DRNN_OK);
    ck_assert_uint_eq(drnn_stepper_state_size(m), 3 * drnn_stepper_state_size(one[0]));
    const drnn_token seq[] = {DRNN_END, 2, 1, 4, 3};
    drnn_real saved[256];
    drnn_real logits_after[5];
    for (int t = 0; t < 5; t++) {
        if (t == 2)
            drnn_stepper_save_state(m, saved);
        const drnn_real *z = drnn_stepper_feed(m, &mix, seq[t]);
        double p[5] = {0};
        for (int k = 0; k < 3; k++) {
            const drnn_real *zk = drnn_stepper_feed(one[k], NET(&part[k]), seq[t]);
            double mx = zk[0], sum = 0;
            for (int v = 1; v < 5; v++)
                mx = zk[v] > mx ? zk[v] : mx;
            for (int v = 0; v < 5; v++)
                sum += exp(zk[v] - mx);
            for (int v = 0; v < 5; v++)
                p[v] += exp(zk[v] - mx) / sum / 3;
        }
        for (int v = 0; v < 5; v++)
            ck_assert_msg(fabs(exp(z[v]) - p[v]) < 1e-6, "step %d symbol %d: %g, mean %g", t, v,
                          exp(z[v]), p[v]);
        if (t == 4)
            memcpy(logits_after, z, sizeof logits_after);
    }
    /* Back to the state before step 2: the same last logits, bit for bit,
     * and a copy of the stepper agrees. */
    drnn_stepper_load_state(m, saved);
    drnn_stepper_feed(m, &mix, seq[2]);
    drnn_stepper_feed(m, &mix, seq[3]);
    drnn_stepper_copy(copy, m);
    const drnn_real *z = drnn_stepper_feed(copy, &mix, seq[4]);
    ck_assert(memcmp(z, logits_after, sizeof logits_after) == 0);
    drnn_stepper_free(m);
    drnn_stepper_free(copy);
    for (int k = 0; k < 3; k++) {
        drnn_stepper_free(one[k]);
        drnn_scratch_free(s[k]);
        drnn_params_free(&part[k]);
    }
}
END_TEST

/* A batch of rows, each from its own state, gives the bits that one feed
 * at a time gives: every cell, 1 to 3 layers, sizes off the vector width,
 * one network and a mixture, batches of 1 to past a product's chunk of
 * rows (28 rows of 130 units). */
START_TEST(test_stepper_batch)
{
    static const struct {
        drnn_cell_kind cell;
        int hidden, layers, nets, rows;
    } cases[] = {{DRNN_CELL_RNN, 5, 1, 1, 3},  {DRNN_CELL_LSTM, 19, 2, 1, 9},
                 {DRNN_CELL_GRU, 37, 3, 3, 17}, {DRNN_CELL_LSTM, 130, 2, 2, 40},
                 {DRNN_CELL_GRU, 16, 2, 1, 1}};
    const int V = 7;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int nets = cases[c].nets, rows = cases[c].rows;
        drnn_params part[3];
        drnn_config cfg = {.vocab = V, .hidden = cases[c].hidden, .layers = cases[c].layers,
                           .cell = cases[c].cell};
        for (int k = 0; k < nets; k++) {
            drnn_rng rng;
            ck_assert_int_eq(drnn_params_alloc(&part[k], &cfg, NULL), DRNN_OK);
            drnn_rng_seed(&rng, 700 + 10 * c + (uint64_t)k);
            drnn_params_init(&part[k], &rng);
        }
        const drnn_model m = drnn_model_of(part, nets);
        drnn_stepper *st;
        ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
        const size_t S = drnn_stepper_state_size(st);
        drnn_real *states = malloc((size_t)rows * S * sizeof *states);
        drnn_real *next = malloc((size_t)rows * S * sizeof *next);
        drnn_real *logits = malloc((size_t)rows * V * sizeof *logits);
        drnn_real *one = malloc(S * sizeof *one);
        const drnn_real **from = malloc((size_t)rows * sizeof *from);
        drnn_token *in = malloc((size_t)rows * sizeof *in);
        ck_assert(states && next && logits && one && from && in);
        /* Row r's state: a name of r % 5 symbols fed from the start. */
        for (int r = 0; r < rows; r++) {
            drnn_stepper_reset(st);
            drnn_stepper_feed(st, &m, DRNN_END);
            for (int t = 0; t < r % 5; t++)
                drnn_stepper_feed(st, &m, (drnn_token)(1 + (r * 3 + t) % (V - 1)));
            drnn_stepper_save_state(st, states + (size_t)r * S);
            from[rows - 1 - r] = states + (size_t)r * S; /* rows read states out of order */
            in[rows - 1 - r] = (drnn_token)(r % V);
        }
        ck_assert_int_eq(drnn_stepper_feed_batch(st, &m, rows, from, in, next, logits, NULL),
                         DRNN_OK);
        for (int r = 0; r < rows; r++) {
            drnn_stepper_load_state(st, from[r]);
            const drnn_real *z = drnn_stepper_feed(st, &m, in[r]);
            drnn_stepper_save_state(st, one);
            ck_assert_msg(!memcmp(z, logits + (size_t)r * V, (size_t)V * sizeof *z),
                          "case %zu row %d: logits differ", c, r);
            ck_assert_msg(!memcmp(one, next + (size_t)r * S, S * sizeof *one),
                          "case %zu row %d: state differs", c, r);
        }
        ck_assert_int_eq(drnn_stepper_feed_batch(st, &m, 0, from, in, next, logits, NULL),
                         DRNN_ERR_INVALID);
        free(states), free(next), free(logits), free(one), free(from), free(in);
        drnn_stepper_free(st);
        for (int k = 0; k < nets; k++)
            drnn_params_free(&part[k]);
    }
}
END_TEST

/* The exact search over a mixture against brute force: every name scored
 * through the mixture, the same top k in the same order. */
START_TEST(test_search_mixture_brute_force)
{
    drnn_params part[2];
    drnn_scratch *s[2];
    random_model(&part[0], &s[0], DRNN_CELL_LSTM, 2, 4, 601, 2.5);
    random_model(&part[1], &s[1], DRNN_CELL_LSTM, 2, 4, 602, 2.5);
    const drnn_model mix = drnn_model_of(part, 2);
    drnn_stepper *st;
    ck_assert_int_eq(drnn_stepper_new(&st, &mix, NULL), DRNN_OK);
    /* Every name of 1..5 symbols over 3 symbols: 363. */
    scored all[400];
    int n = 0;
    for (int len = 1, total = 3; len <= 5; len++, total *= 3)
        for (int code = 0; code < total; code++, n++) {
            for (int i = 0, c = code; i < len; i++, c /= 3)
                all[n].t[i] = (drnn_token)(1 + c % 3);
            all[n].len = len;
            all[n].logprob = -drnn_name_nats(&mix, st, all[n].t, len);
        }
    qsort(all, (size_t)n, sizeof *all, by_rank);
    drnn_search_options o = {.k = 25, .min_len = 1, .max_len = 5};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(&mix, &o, &res, NULL), DRNN_OK);
    ck_assert(res.exact);
    ck_assert_int_eq(res.count, 25);
    for (int i = 0; i < res.count; i++) {
        ck_assert_msg(res.names[i].len == all[i].len &&
                          !memcmp(res.names[i].tokens, all[i].t, (size_t)all[i].len * sizeof(drnn_token)),
                      "rank %d differs", i);
        ck_assert_msg(res.names[i].logprob == all[i].logprob, "rank %d: %.17g, %.17g", i,
                      res.names[i].logprob, all[i].logprob);
    }
    drnn_search_result_free(&res);
    drnn_stepper_free(st);
    for (int k = 0; k < 2; k++) {
        drnn_scratch_free(s[k]);
        drnn_params_free(&part[k]);
    }
}
END_TEST

static Suite *sample_suite(void)
{
    Suite *suite = suite_create("sample");
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_search_matches_brute_force);
    tcase_add_test(tc, test_search_large_alphabet);
    tcase_add_test(tc, test_search_short_names_not_pushed_out);
    tcase_add_test(tc, test_search_excludes);
    tcase_add_test(tc, test_search_tie_order);
    tcase_add_test(tc, test_search_bound);
    tcase_add_test(tc, test_search_ties_at_the_threshold);
    tcase_add_test(tc, test_search_bound_excludes);
    tcase_add_test(tc, test_greedy_three_ways);
    tcase_add_test(tc, test_top_k);
    tcase_add_test(tc, test_top_k_large_vocab);
    tcase_add_test(tc, test_evaluate_threads);
    tcase_add_test(tc, test_mixture_stepper);
    tcase_add_test(tc, test_stepper_batch);
    tcase_add_test(tc, test_search_mixture_brute_force);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(sample_suite());
}
