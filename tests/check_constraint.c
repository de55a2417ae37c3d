/* check_constraint.c: constraints on a name's shape, compiled. The
 * automaton against a plain matcher on every string of up to 6 symbols,
 * for random constraints of every combination; the refusals, the
 * normalisation of what is given, and the reasons why no name meets
 * constraints that contradict each other. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/dinornn.h"
#include "check_run.h"
#include "check_search.h"
#include "check_shape.h"

/* ---- the automaton against the plain matcher ---- */

/* Strings of up to LMAX symbols, numbered by length then symbol by symbol:
 * string i of length L + 1 is string i / A of length L, then symbol i % A. */
typedef struct strings {
    int off[LMAX + 2];
    int *state, *ok, *viable;
} strings;

/* (Checks by if and ck_abort_msg: each ck_assert that passes costs a
 * message to the parent process, and there are millions.) */

/* Every string through the automaton (state by state, and as a whole),
 * against the plain matcher; every prefix's liveness against whether
 * some accepted string of up to LMAX symbols extends it. */
static void check_walk(const spec *sp, const drnn_constraint *c, strings *s)
{
    char text[LMAX + 1];
    drnn_token t[LMAX];
    for (int L = 0; L <= LMAX; L++)
        for (int code = 0; code < s->off[L + 1] - s->off[L]; code++) {
            int i = s->off[L] + code;
            spell(L, code, text, t);
            s->state[i] = L ? drnn_constraint_step(c, s->state[s->off[L - 1] + code / A], t[L - 1])
                               : drnn_constraint_start(c);
            s->ok[i] = L > 0 && plain_match(sp, text);
            if (drnn_constraint_match(c, t, L) != s->ok[i] ||
                drnn_constraint_accepts(c, s->state[i], L) != s->ok[i])
                ck_abort_msg("'%s' under pattern '%s' prefix '%s' suffix '%s' contains '%s' '%s' "
                             "'%s' exclude '%s' lengths %d-%d: the matcher says %d", text,
                             sp->pattern, sp->prefix, sp->suffix, sp->contains[0], sp->contains[1],
                             sp->contains[2], sp->exclude, sp->cs.min_len, sp->cs.max_len, s->ok[i]);
        }
    for (int L = LMAX; L >= 0; L--)
        for (int i = s->off[L]; i < s->off[L + 1]; i++) {
            s->viable[i] = s->ok[i];
            for (int a = 0; L < LMAX && a < A; a++)
                s->viable[i] |= s->viable[s->off[L + 1] + (i - s->off[L]) * A + a];
            if (drnn_constraint_live(c, s->state[i], L, 0, LMAX) != s->viable[i])
                ck_abort_msg("string %d of length %d under pattern '%s' prefix '%s' suffix '%s' "
                             "exclude '%s' lengths %d-%d: live %d, viable %d", i - s->off[L], L,
                             sp->pattern, sp->prefix, sp->suffix, sp->exclude, sp->cs.min_len,
                             sp->cs.max_len, !s->viable[i], s->viable[i]);
        }
    /* Satisfiable: exactly when some name is, within LMAX when that bounds it. */
    if (sp->cs.max_len)
        ck_assert_int_eq(drnn_constraint_satisfiable(c), s->viable[0]);
    else if (s->viable[0])
        ck_assert(drnn_constraint_satisfiable(c));
    ck_assert((*drnn_constraint_reason(c) == 0) == drnn_constraint_satisfiable(c));
}

/* Every combination of prefix, suffix, contains, exclude, pattern and
 * lengths, several random instances each (capitals, escapes, negated
 * classes, unknown symbols in classes and exclude among them). */
START_TEST(test_automaton_matches_plain_matcher)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    strings s;
    s.off[0] = 0;
    for (int L = 0, n = 1; L <= LMAX; L++, n *= A)
        s.off[L + 1] = s.off[L] + n;
    int total = s.off[LMAX + 1];
    s.state = malloc((size_t)total * sizeof *s.state);
    s.ok = malloc((size_t)total * sizeof *s.ok);
    s.viable = malloc((size_t)total * sizeof *s.viable);
    ck_assert(s.state && s.ok && s.viable);
    drnn_rng rng;
    drnn_rng_seed(&rng, 28);
    int compiled = 0, unsatisfiable = 0;
    for (int kinds = 0; kinds < 64; kinds++)
        for (int rep = 0; rep < 10; rep++) {
            spec sp;
            random_spec(&rng, kinds, &sp);
            drnn_constraint *c = compile_or_skip(&sp, &vocab);
            if (!c)
                continue;
            compiled++;
            unsatisfiable += !drnn_constraint_satisfiable(c);
            check_walk(&sp, c, &s);
            drnn_constraint_free(c);
        }
    /* The test bites: most compile, and some cannot be met. */
    ck_assert_int_gt(compiled, 500);
    ck_assert_int_gt(unsatisfiable, 30);
    free(s.state);
    free(s.ok);
    free(s.viable);
}
END_TEST

/* ---- refusals, normalisation, reasons ---- */

/* Compiling cs over vocab gives status rc, with a message that begins
 * with start. */
static void expect_refusal(const drnn_constraint_spec *cs, const drnn_vocab *vocab, int rc,
                           const char *start)
{
    drnn_constraint *c = (drnn_constraint *)cs; /* must become NULL */
    drnn_error err;
    int got = drnn_constraint_compile(&c, cs, vocab, &err);
    ck_assert_msg(got == rc && !c && !strncmp(err.message, start, strlen(start)),
                  "expected %d '%s...', got %d '%s'", rc, start, got, got ? err.message : "");
}

START_TEST(test_refusals)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    static const struct {
        const char *pattern;
        int rc;
        const char *start;
    } bad[] = {
        {"", DRNN_ERR_INVALID, "pattern: empty"},
        {"a[bc", DRNN_ERR_INVALID, "pattern 'a[bc': the '[' at character 2 is not closed"},
        {"[]", DRNN_ERR_INVALID, "pattern '[]': the '[' at character 1 is not closed"},
        {"[!]", DRNN_ERR_INVALID, "pattern '[!]': the '[' at character 1 is not closed"},
        {"[a\\", DRNN_ERR_INVALID, "pattern '[a\\': the '[' at character 1 is not closed"},
        {"ab\\", DRNN_ERR_INVALID, "pattern 'ab\\': the '\\' at character 3 escapes nothing"},
        {"[c-a]", DRNN_ERR_INVALID, "pattern '[c-a]': the range at character 3 is reversed"},
        {"*z", DRNN_ERR_UNKNOWN_SYMBOL, "pattern '*z': symbol 'z' (U+007A) is not in the model's"},
        {"\\*", DRNN_ERR_UNKNOWN_SYMBOL, "pattern '\\*': symbol '*' (U+002A)"},
        {"[xyz]", DRNN_ERR_UNKNOWN_SYMBOL, "pattern '[xyz]': the class at character 1 matches no"},
        {"[!-?a-c]", DRNN_ERR_UNKNOWN_SYMBOL, "pattern '[!-?a-c]': the class"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refusal(&(drnn_constraint_spec){.pattern = bad[i].pattern}, &vocab, bad[i].rc,
                       bad[i].start);
    static const char *const unknown[] = {"ab", "xa"}, *const many[33] = {"a"};
    expect_refusal(&(drnn_constraint_spec){.suffix = "sAurus"}, &vocab, DRNN_ERR_UNKNOWN_SYMBOL,
                   "suffix 'sAurus': symbol 's' (U+0073) is not in the model's vocabulary");
    expect_refusal(&(drnn_constraint_spec){.contains = unknown, .n_contains = 2}, &vocab,
                   DRNN_ERR_UNKNOWN_SYMBOL, "contains 'xa': symbol 'x'");
    expect_refusal(&(drnn_constraint_spec){.prefix = "a\x1b"}, &vocab, DRNN_ERR_UNKNOWN_SYMBOL,
                   "prefix 'a\x1b': symbol '?' (U+001B)");
    expect_refusal(&(drnn_constraint_spec){.prefix = "abc", .max_len = 2}, &vocab,
                   DRNN_ERR_INVALID, "prefix 'abc' has 3 symbols, more than the longest name");
    expect_refusal(&(drnn_constraint_spec){.suffix = "abcab", .max_len = 4}, &vocab,
                   DRNN_ERR_INVALID, "suffix 'abcab' has 5 symbols");
    expect_refusal(&(drnn_constraint_spec){.suffix = "a\xff"}, &vocab, DRNN_ERR_UTF8,
                   "suffix: invalid UTF-8");
    expect_refusal(&(drnn_constraint_spec){.min_len = 4, .max_len = 3}, &vocab, DRNN_ERR_INVALID,
                   "lengths: the shortest, 4, is above the longest, 3");
    expect_refusal(&(drnn_constraint_spec){.max_len = 300}, &vocab, DRNN_ERR_INVALID, "lengths");
    expect_refusal(&(drnn_constraint_spec){.contains = many, .n_contains = 33}, &vocab,
                   DRNN_ERR_INVALID, "contains: 33 strings");
    /* A subset construction that doubles with each '?' after "*a". */
    expect_refusal(&(drnn_constraint_spec){.pattern = "*a?????????????", .max_states = 1000},
                   &vocab, DRNN_ERR_INVALID, "the constraints are too complex");
    /* Unknown symbols where the constraint does without them are fine. */
    drnn_constraint *c;
    ck_assert_int_eq(drnn_constraint_compile(&c, &(drnn_constraint_spec){.exclude = "xyz",
                                                                        .pattern = "[xa-b]*"},
                                             &vocab, NULL),
                     DRNN_OK);
    ck_assert(drnn_constraint_satisfiable(c));
    drnn_constraint_free(c);
}
END_TEST

/* Constraints mean what the model saw: NFC, and lowercase unless it keeps
 * the case. */
START_TEST(test_normalisation)
{
    uint32_t symbols[] = {DRNN_END, 'a', 'b', 0xE9 /* é */};
    drnn_vocab vocab = {4, symbols};
    static const char *const capitals[] = {"AB"};
    drnn_constraint_spec cs = {.suffix = "E\xcc\x81", /* E + combining acute */
                               .contains = capitals, .n_contains = 1, .pattern = "*[\xc3\x89]"};
    drnn_constraint *c;
    ck_assert_int_eq(drnn_constraint_compile(&c, &cs, &vocab, NULL), DRNN_OK);
    const drnn_token yes[] = {1, 2, 3}, no[] = {2, 1, 3};
    ck_assert(drnn_constraint_match(c, yes, 3));
    ck_assert(!drnn_constraint_match(c, no, 3));
    drnn_constraint_free(c);
    cs.keep_case = 1;
    cs.n_contains = 0;
    expect_refusal(&cs, &vocab, DRNN_ERR_UNKNOWN_SYMBOL,
                   "suffix 'E\xcc\x81': symbol '\xc3\x89' (U+00C9)");
    cs = (drnn_constraint_spec){.exclude = "\xc3\x89"};
    ck_assert_int_eq(drnn_constraint_compile(&c, &cs, &vocab, NULL), DRNN_OK);
    ck_assert(!drnn_constraint_match(c, yes, 3) && drnn_constraint_match(c, no, 2));
    drnn_constraint_free(c);
}
END_TEST

/* Constraints that no name meets: not refused, but explained, and the
 * search answers at once without expanding anything. */
START_TEST(test_unsatisfiable_reasons)
{
    uint32_t symbols[V];
    drnn_vocab vocab = test_vocab(symbols);
    static const char *const longer[] = {"abcab"}, *const both[] = {"ab", "ba"};
    static const struct {
        drnn_constraint_spec cs;
        const char *reason;
    } cases[] = {
        {{.prefix = "b", .pattern = "a*"},
         "the pattern 'a*' does not allow names that start with the prefix 'b'"},
        {{.contains = longer, .n_contains = 1, .max_len = 4},
         "the contains string 'abcab' has 5 symbols, more than the longest name allowed (4)"},
        {{.suffix = "ab", .exclude = "B"}, "the suffix 'ab' uses 'b', which exclude forbids"},
        {{.prefix = "c", .exclude = "c"}, "the prefix 'c' uses 'c', which exclude forbids"},
        {{.pattern = "\\?a*", .exclude = "?"}, "the pattern '\\?a*' uses '?', which exclude"},
        {{.pattern = "?\?\?", .min_len = 4},
         "the pattern '?\?\?' matches only names of 3 symbols, fewer than the shortest allowed (4)"},
        {{.pattern = "a?b?c?", .max_len = 4},
         "the pattern 'a?b?c?' needs at least 6 symbols, more than the longest name allowed (4)"},
        {{.contains = both, .n_contains = 2, .max_len = 2},
         "no name of 1 to 2 symbols meets all the constraints together"},
        {{.pattern = "[ab]*", .exclude = "ab"},
         "no name of 1 to 256 symbols meets all the constraints together"},
    };
    drnn_params w;
    drnn_scratch *sc;
    random_model(&w, &sc, DRNN_CELL_RNN, 1, V, 1, 2.0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drnn_constraint *c;
        ck_assert_int_eq(drnn_constraint_compile(&c, &cases[i].cs, &vocab, NULL), DRNN_OK);
        ck_assert_msg(!drnn_constraint_satisfiable(c) &&
                          !strncmp(drnn_constraint_reason(c), cases[i].reason,
                                   strlen(cases[i].reason)),
                      "case %zu: '%s'", i, drnn_constraint_reason(c));
        drnn_search_options o = {.k = 10, .min_len = 1, .max_len = 30, .constraint = c};
        drnn_search_result res;
        ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_OK);
        ck_assert(res.unsatisfiable && res.exact && res.count == 0 && res.expanded == 0);
        drnn_search_result_free(&res);
        drnn_constraint_free(c);
    }
    /* A constraint compiled for another vocabulary is refused. */
    drnn_constraint *c;
    vocab.size = V - 1;
    ck_assert_int_eq(drnn_constraint_compile(&c, &(drnn_constraint_spec){0}, &vocab, NULL), DRNN_OK);
    drnn_search_options o = {.k = 1, .min_len = 1, .max_len = 3, .constraint = c};
    drnn_search_result res;
    ck_assert_int_eq(drnn_search_best(NET(&w), &o, &res, NULL), DRNN_ERR_MISMATCH);
    drnn_constraint_free(c);
    drnn_scratch_free(sc);
    drnn_params_free(&w);
}
END_TEST

static Suite *constraint_suite(void)
{
    Suite *suite = suite_create("constraint");
    TCase *tc = tcase_create("constraint");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_automaton_matches_plain_matcher);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_normalisation);
    tcase_add_test(tc, test_unsatisfiable_reasons);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(constraint_suite());
}
