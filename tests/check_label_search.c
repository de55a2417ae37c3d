/* check_label_search.c: the exact search of a labeled model (issue 29)
 * against brute force: under each label (model.label = k) the names and
 * bit-identical scores of every name ranked by drnn_name_loss_labeled;
 * under the label mixture those of a stepper set to the mixture, which is
 * sum_k share_k P(name | k) computed directly; under a constraint; and for
 * a mixture of members, under a label and under the label mixture. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "check_run.h"
#include "check_search.h"

enum { V = 4, A = V - 1, N_LABELS = 3, MAX_LEN = 5 };
/* The training names per label: the label mixture's shares 0.5, 0.3, 0.2. */
static const int64_t label_names[N_LABELS] = {5, 3, 2};

/* A random labeled model over END + 3 symbols, logits spread enough that
 * names (and labels) differ clearly in probability. */
static void labeled_model(drnn_params *w, drnn_cell_kind cell, int layers, uint64_t seed)
{
    drnn_config cfg = {
        .vocab = V, .hidden = 5, .layers = layers, .cell = cell, .labels = N_LABELS};
    drnn_rng rng;
    ck_assert_int_eq(drnn_params_alloc(w, &cfg, NULL), DRNN_OK);
    drnn_rng_seed(&rng, seed);
    drnn_params_init(w, &rng);
    for (size_t i = 0; i < w->count; i++)
        w->data[i] *= (drnn_real)2.5;
}

/* How brute force scores a name: log p(name, END). */
typedef struct scorer {
    const drnn_params *w; /* by the training loss under label (one network) ... */
    drnn_scratch *s;
    uint16_t label;
    const drnn_model *m;  /* ... or, when m is set, by st (its own label setting) */
    drnn_stepper *st;
} scorer;

static double score(const scorer *sc, const drnn_token *t, int len)
{
    if (sc->m)
        return -drnn_name_nats(sc->m, sc->st, t, len);
    return -drnn_name_loss_labeled(sc->w, sc->s, t, len, sc->label);
}

/* Every name over symbols 1..A that starts with prefix, has min..max
 * symbols and, when suffix > 0, ends with that symbol, scored by sc and
 * ranked in the search's documented order. */
static scored *enumerate(const scorer *sc, const drnn_token *prefix, int plen, int min_len,
                         int max_len, drnn_token suffix, int *count)
{
    int cap = 0;
    for (int len = plen, total = 1; len <= max_len; len++, total *= A)
        cap += total;
    scored *all = malloc((size_t)cap * sizeof *all);
    ck_assert_ptr_nonnull(all);
    int n = 0;
    for (int len = plen, total = 1; len <= max_len; len++, total *= A)
        for (int code = 0; code < total && len >= min_len && len > 0; code++) {
            if (plen > 0)
                memcpy(all[n].t, prefix, (size_t)plen * sizeof *prefix);
            for (int i = plen, c = code; i < len; i++, c /= A)
                all[n].t[i] = (drnn_token)(1 + c % A);
            all[n].len = len;
            if (suffix > 0 && all[n].t[len - 1] != suffix)
                continue;
            all[n].logprob = score(sc, all[n].t, len);
            n++;
        }
    qsort(all, (size_t)n, sizeof *all, by_rank);
    *count = n;
    return all;
}

/* The search over m under o gives brute force's first k: names in order,
 * scores bit for bit. Returns 1 when the depth-first walk answered. */
static int expect_search(const drnn_model *m, const drnn_search_options *o, const scored *all,
                         int n, const char *what)
{
    drnn_search_result res;
    drnn_error err;
    ck_assert_msg(drnn_search_best(m, o, &res, &err) == DRNN_OK, "%s: %s", what, err.message);
    ck_assert_msg(res.exact && res.count == (o->k < n ? o->k : n),
                  "%s, k %d: exact %d, %d names, brute force %d", what, o->k, res.exact,
                  res.count, n);
    for (int i = 0; i < res.count; i++) {
        ck_assert_msg(res.names[i].len == all[i].len &&
                          !memcmp(res.names[i].tokens, all[i].t,
                                  (size_t)all[i].len * sizeof(drnn_token)),
                      "%s, k %d: rank %d differs", what, o->k, i);
        ck_assert_msg(res.names[i].logprob == all[i].logprob,
                      "%s, k %d: rank %d: search %.17g, brute force %.17g", what, o->k, i,
                      res.names[i].logprob, all[i].logprob);
    }
    const int depth_first = res.depth_first;
    drnn_search_result_free(&res);
    return depth_first;
}

/* Several prefixes, length bounds and k for one model and one scorer. */
static void expect_all_options(const drnn_model *m, const scorer *sc, const char *what)
{
    static const drnn_token pre[] = {2, 1, 3};
    static const int ks[] = {1, 5, 20};
    static const int bounds[][2] = {{1, 5}, {3, 5}, {4, 4}};
    char line[200];
    for (int plen = 0; plen <= 2; plen++)
        for (int b = 0; b < 3; b++) {
            int n;
            scored *all = enumerate(sc, pre, plen, bounds[b][0], bounds[b][1], 0, &n);
            for (int ki = 0; ki < 3; ki++) {
                drnn_search_options o = {.k = ks[ki], .prefix = pre, .prefix_len = plen,
                                         .min_len = bounds[b][0], .max_len = bounds[b][1]};
                snprintf(line, sizeof line, "%s, prefix %d, lengths %d-%d", what, plen,
                         bounds[b][0], bounds[b][1]);
                expect_search(m, &o, all, n, line);
            }
            free(all);
        }
}

/* Under each label k (model.label = k, the stepper the search makes
 * starts under it): brute force by drnn_name_loss_labeled(..., k), every
 * cell, 1 and 2 layers. The labels' top 20 differ, so that a search that
 * ignored model.label could not pass. */
START_TEST(test_search_per_label)
{
    for (int cell = 0; cell < DRNN_CELL_KIND_COUNT; cell++)
        for (int layers = 1; layers <= 2; layers++) {
            drnn_params w;
            drnn_scratch *s;
            labeled_model(&w, (drnn_cell_kind)cell, layers, 700 + 10 * (uint64_t)cell +
                                                                (uint64_t)layers);
            ck_assert_int_eq(drnn_scratch_new(&s, &w.cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
            double top_by_label[N_LABELS];
            for (int k = 0; k < N_LABELS; k++) {
                drnn_model m = drnn_model_of(&w, 1);
                m.label = k;
                scorer sc = {.w = &w, .s = s, .label = (uint16_t)k};
                char what[100];
                snprintf(what, sizeof what, "%s, %d layers, label %d", drnn_cell_name(w.cfg.cell),
                         layers, k);
                expect_all_options(&m, &sc, what);
                int n;
                scored *all = enumerate(&sc, NULL, 0, 1, MAX_LEN, 0, &n);
                top_by_label[k] = all[0].logprob;
                free(all);
            }
            ck_assert(top_by_label[0] != top_by_label[1] && top_by_label[1] != top_by_label[2]);
            drnn_scratch_free(s);
            drnn_params_free(&w);
        }
}
END_TEST

/* log sum_k share_k exp(-nats_k), directly. */
static double mixture_direct(const double *share, const double *nats)
{
    double top = -HUGE_VAL, s = 0;
    for (int k = 0; k < N_LABELS; k++)
        top = fmax(top, log(share[k]) - nats[k]);
    for (int k = 0; k < N_LABELS; k++)
        s += exp(log(share[k]) - nats[k] - top);
    return top + log(s);
}

/* The shares a model's label_names give (as the stepper takes them): NULL,
 * equal shares. */
static void shares_of(const int64_t *names, double *share)
{
    double total = 0;
    for (int k = 0; k < N_LABELS; k++)
        total += names ? (double)names[k] : 1;
    for (int k = 0; k < N_LABELS; k++)
        share[k] = (names ? (double)names[k] : 1) / total;
}

/* -log P(name | label k) of a mixture of nets members, directly: at each
 * step the mean of the members' probabilities of the next symbol (model.h),
 * each member stepping alone under label k; in double. */
static double members_nats(const drnn_params *part, int nets, int k, const drnn_token *t,
                           int len)
{
    drnn_stepper *one[2];
    ck_assert(nets <= 2);
    for (int j = 0; j < nets; j++) {
        ck_assert_int_eq(drnn_stepper_new(&one[j], NET(&part[j]), NULL), DRNN_OK);
        ck_assert_int_eq(drnn_stepper_set_label(one[j], k), DRNN_OK);
    }
    double nats = 0;
    for (int i = 0; i <= len; i++) {
        const drnn_token in = i ? t[i - 1] : DRNN_END, next = i < len ? t[i] : DRNN_END;
        double p = 0;
        for (int j = 0; j < nets; j++) {
            const drnn_real *z = drnn_stepper_feed(one[j], NET(&part[j]), in);
            double top = z[0], sum = 0;
            for (int v = 1; v < V; v++)
                top = fmax(top, z[v]);
            for (int v = 0; v < V; v++)
                sum += exp((double)z[v] - top);
            p += exp((double)z[next] - top) / sum / nets;
        }
        nats -= log(p);
    }
    for (int j = 0; j < nets; j++)
        drnn_stepper_free(one[j]);
    return nats;
}

/* Scores agree with direct ones within the float rounding of each step's
 * log-probability (the stepper's logits are drnn_real). */
static void expect_close(double got, double direct, int len, const char *what, int i)
{
    ck_assert_msg(fabs(got - direct) <= 1e-6 * (len + 1) * fmax(1, -direct),
                  "%s, name %d: %.17g, direct %.17g", what, i, got, direct);
}

/* Every name's score under the label mixture of the part networks is
 * log sum_k share_k P(name | k), P(name | k) of each label directly: the
 * training loss (one network) or members_nats (a mixture of members). */
static void expect_mixture_is_direct(const drnn_params *part, int nets, drnn_scratch *s,
                                     const double *share, const scored *all, int n)
{
    for (int i = 0; i < n; i++) {
        double nats[N_LABELS];
        for (int k = 0; k < N_LABELS; k++)
            nats[k] = nets == 1 ? drnn_name_loss_labeled(&part[0], s, all[i].t, all[i].len,
                                                         (uint16_t)k)
                                : members_nats(part, nets, k, all[i].t, all[i].len);
        expect_close(all[i].logprob, mixture_direct(share, nats), all[i].len, "label mixture",
                     i);
    }
}

/* The model without a label (model.label = DRNN_LABEL_MIXTURE) with the
 * training counts, and with equal shares (no counts): the search's top k
 * equals brute force scored by a stepper set to the label mixture, bit for
 * bit, and those scores are the direct sum over labels. */
START_TEST(test_search_label_mixture)
{
    for (int cell = 0; cell < DRNN_CELL_KIND_COUNT; cell++)
        for (int layers = 1; layers <= 2; layers++)
            for (int counts = 0; counts < 2; counts++) {
                drnn_params w;
                drnn_scratch *s;
                labeled_model(&w, (drnn_cell_kind)cell, layers,
                              800 + 10 * (uint64_t)cell + (uint64_t)layers);
                ck_assert_int_eq(drnn_scratch_new(&s, &w.cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
                drnn_model m = drnn_model_of(&w, 1);
                ck_assert_int_eq(m.label, DRNN_LABEL_MIXTURE);
                m.label_names = counts ? label_names : NULL;
                double share[N_LABELS];
                shares_of(m.label_names, share);
                drnn_stepper *st;
                ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
                ck_assert_int_eq(drnn_stepper_set_label(st, 1), DRNN_OK);
                ck_assert_int_eq(drnn_stepper_set_label_mixture(st, share), DRNN_OK);
                scorer sc = {.m = &m, .st = st};
                char what[100];
                snprintf(what, sizeof what, "%s, %d layers, label mixture%s",
                         drnn_cell_name(w.cfg.cell), layers, counts ? " by counts" : "");
                expect_all_options(&m, &sc, what);
                int n;
                scored *all = enumerate(&sc, NULL, 0, 1, MAX_LEN, 0, &n);
                expect_mixture_is_direct(&w, 1, s, share, all, n);
                free(all);
                drnn_stepper_free(st);
                drnn_scratch_free(s);
                drnn_params_free(&w);
            }
}
END_TEST

/* A constraint (a suffix, and a suffix with a prefix) under each label and
 * under the label mixture: brute force over the names that end with it. */
START_TEST(test_search_constraint_per_label)
{
    uint32_t symbols[V] = {DRNN_END, 'a', 'b', 'c'};
    const drnn_vocab vocab = {V, symbols};
    drnn_params w;
    drnn_scratch *s;
    labeled_model(&w, DRNN_CELL_LSTM, 2, 901);
    ck_assert_int_eq(drnn_scratch_new(&s, &w.cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
    int depth_first = 0;
    static const struct {
        const char *prefix, *suffix;
        drnn_token pre[1], last;
    } specs[] = {{NULL, "b", {0}, 2}, {"c", "a", {3}, 1}};
    for (size_t c = 0; c < sizeof specs / sizeof *specs; c++) {
        drnn_constraint_spec cs = {.prefix = specs[c].prefix, .suffix = specs[c].suffix,
                                   .max_len = MAX_LEN};
        drnn_constraint *con;
        ck_assert_int_eq(drnn_constraint_compile(&con, &cs, &vocab, NULL), DRNN_OK);
        const int plen = specs[c].prefix ? 1 : 0;
        for (int k = DRNN_LABEL_MIXTURE; k < N_LABELS; k++) {
            drnn_model m = drnn_model_of(&w, 1);
            m.label = k;
            m.label_names = label_names;
            double share[N_LABELS];
            shares_of(label_names, share);
            drnn_stepper *st;
            ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK);
            scorer sc = {.w = &w, .s = s, .label = (uint16_t)(k < 0 ? 0 : k)};
            if (k == DRNN_LABEL_MIXTURE) {
                ck_assert_int_eq(drnn_stepper_set_label_mixture(st, share), DRNN_OK);
                sc = (scorer){.m = &m, .st = st};
            }
            int n;
            scored *all = enumerate(&sc, specs[c].pre, plen, 1, MAX_LEN, specs[c].last, &n);
            ck_assert_int_gt(n, 20);
            static const int ks[] = {1, 7, 30};
            for (int ki = 0; ki < 3; ki++) {
                drnn_search_options o = {.k = ks[ki], .min_len = 1, .max_len = MAX_LEN,
                                         .constraint = con};
                char what[100];
                snprintf(what, sizeof what, "prefix '%s' suffix '%s', label %d",
                         specs[c].prefix ? specs[c].prefix : "", specs[c].suffix, k);
                expect_search(&m, &o, all, n, what);
                /* Too little memory for the best-first search: the
                 * depth-first walk gives the same answer (the label
                 * mixture's states are a lane per label: 3 times as big). */
                o.max_bytes = k == DRNN_LABEL_MIXTURE ? 3 * 24000 : 24000;
                depth_first += expect_search(&m, &o, all, n, what);
            }
            free(all);
            drnn_stepper_free(st);
        }
        drnn_constraint_free(con);
    }
    ck_assert_msg(depth_first >= 12, "the depth-first walk answered %d of 24 searches",
                  depth_first);
    drnn_scratch_free(s);
    drnn_params_free(&w);
}
END_TEST

/* A mixture of two members: under each label, brute force scored by a
 * stepper of the mixture set to that label, whose scores are the members'
 * mean under it step by step, computed directly; under the label mixture,
 * by a stepper set to it, whose scores are the direct sum over labels. */
START_TEST(test_search_members_per_label)
{
    for (int cell = 0; cell < DRNN_CELL_KIND_COUNT; cell++) {
        drnn_params part[2];
        drnn_scratch *s;
        labeled_model(&part[0], (drnn_cell_kind)cell, 2, 1001 + 2 * (uint64_t)cell);
        labeled_model(&part[1], (drnn_cell_kind)cell, 2, 1002 + 2 * (uint64_t)cell);
        ck_assert_int_eq(drnn_scratch_new(&s, &part[0].cfg, DRNN_MAX_NAME_LEN, NULL), DRNN_OK);
        double share[N_LABELS];
        shares_of(label_names, share);
        for (int k = DRNN_LABEL_MIXTURE; k < N_LABELS; k++) {
            drnn_model m = drnn_model_of(part, 2);
            m.label_names = label_names;
            drnn_stepper *st;
            ck_assert_int_eq(drnn_stepper_new(&st, &m, NULL), DRNN_OK); /* the label mixture */
            if (k >= 0)
                ck_assert_int_eq(drnn_stepper_set_label(st, k), DRNN_OK);
            m.label = k;
            scorer sc = {.m = &m, .st = st};
            char what[100];
            snprintf(what, sizeof what, "%s, 2 members, label %d", drnn_cell_name(part[0].cfg.cell),
                     k);
            expect_all_options(&m, &sc, what);
            if (k == DRNN_LABEL_MIXTURE) {
                int n;
                scored *all = enumerate(&sc, NULL, 0, 1, 4, 0, &n);
                expect_mixture_is_direct(part, 2, s, share, all, n);
                free(all);
            } else {
                /* Under a label, each step the members' mean under it. */
                int n;
                scored *all = enumerate(&sc, NULL, 0, 1, 4, 0, &n);
                for (int i = 0; i < n; i++)
                    expect_close(all[i].logprob, -members_nats(part, 2, k, all[i].t, all[i].len),
                                 all[i].len, what, i);
                free(all);
            }
            drnn_stepper_free(st);
        }
        drnn_scratch_free(s);
        drnn_params_free(&part[0]);
        drnn_params_free(&part[1]);
    }
}
END_TEST

static Suite *label_search_suite(void)
{
    Suite *suite = suite_create("label_search");
    TCase *tc = tcase_create("label_search");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_search_per_label);
    tcase_add_test(tc, test_search_label_mixture);
    tcase_add_test(tc, test_search_constraint_per_label);
    tcase_add_test(tc, test_search_members_per_label);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(label_search_suite());
}
