/* dinornn/constraint.h: constraints on the shape of a name (a prefix, a
 * suffix, substrings it contains, symbols it excludes, a glob pattern, its
 * length), compiled against a model's vocabulary into one deterministic
 * automaton over tokens. The exact search (search.h) walks the product of
 * the model and this automaton; constrained sampling (sample.h) rejects the
 * draws it refuses. docs/model.md, "Names of a given shape". */
#ifndef DINORNN_CONSTRAINT_H
#define DINORNN_CONSTRAINT_H

#include "dinornn/error.h"
#include "dinornn/names.h"
#include "dinornn/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRNN_MAX_CONTAINS 32            /* contains strings in one constraint */
#define DRNN_MAX_CONSTRAINT_TEXT 1024   /* code points in one constraint string */
#define DRNN_CONSTRAINT_STATES 20000    /* default bound on the automaton's states */
#define DRNN_CONSTRAINT_MAX_STATES 1000000 /* the most max_states may ask for */

/* The constraints, as the user gives them: UTF-8 text. Every literal is
 * normalised as a name is (drnn_names_load: NFC, then Unicode's full
 * lowercase mapping unless keep_case), each string on its own, so that
 * "SAURUS" or a decomposed "é" mean what the model saw. A zeroed spec
 * constrains nothing (lengths 1 to DRNN_MAX_NAME_LEN).
 *
 * pattern is a glob that the whole name matches: '?' one symbol, '*' any
 * run of symbols (none included), '[...]' one symbol of a class: symbols
 * and ranges 'a-z' (by code point), negated by a first '!' or '^'; a ']'
 * first in the class (after the negation) and a '-' first or last stand
 * for themselves; '\' makes the next character (a metacharacter
 * included, also inside a class) a literal. Anything else is a literal. */
typedef struct drnn_constraint_spec {
    const char *prefix;          /* the name starts with it; NULL or "": none */
    const char *suffix;          /* the name ends with it; NULL or "": none */
    const char *const *contains; /* each occurs somewhere in the name (they may
                                  * overlap); NULL or "" ones are none */
    int n_contains;              /* 0 .. DRNN_MAX_CONTAINS */
    const char *exclude;         /* none of these symbols occurs; NULL or "": none */
    const char *pattern;         /* NULL: none; "" is refused */
    int min_len, max_len;        /* symbols in a name, prefix included; 0: 1 and
                                  * DRNN_MAX_NAME_LEN */
    int keep_case;               /* the model's setting (drnn_hparams.keep_case) */
    int max_states;              /* bound on the automaton; 0: DRNN_CONSTRAINT_STATES */
} drnn_constraint_spec;

/* The compiled constraint (opaque); read-only once compiled, so that any
 * number of searches and samplers may share it. */
typedef struct drnn_constraint drnn_constraint;

/* Compiles spec against vocab (which need not outlive the result). Fails,
 * with *out NULL and err's message beginning with the constraint's name
 * ("prefix", "suffix", "contains", "exclude", "pattern", "lengths"), so
 * that a program can print "--" before it:
 *   DRNN_ERR_INVALID: an empty or malformed pattern (an unclosed '[', a
 *     trailing '\', a reversed range), a prefix or suffix longer than
 *     max_len, min_len above max_len, lengths out of 0 .. DRNN_MAX_NAME_LEN,
 *     too many contains strings, a string of more than
 *     DRNN_MAX_CONSTRAINT_TEXT code points, or an automaton beyond
 *     max_states ("the constraints are too complex: ...");
 *   DRNN_ERR_UNKNOWN_SYMBOL: a symbol that the name must hold (in the
 *     prefix, the suffix, a contains string, a literal of the pattern) and
 *     that the model does not know, or a class of which it knows no
 *     symbol; unknown symbols in exclude, or among others in a class, are
 *     fine: the constraint can be met without them;
 *   DRNN_ERR_UTF8: a string that is not UTF-8;
 *   DRNN_ERR_NOMEM.
 * Valid constraints that no name can meet (prefix "x" with pattern "a*", a
 * contains string longer than max_len, a suffix that uses an excluded
 * symbol) are no failure: the result is unsatisfiable, says why in one
 * line, and the search and the sampler return no name at once. */
int drnn_constraint_compile(drnn_constraint **out, const drnn_constraint_spec *spec,
                            const drnn_vocab *vocab, drnn_error *err);
void drnn_constraint_free(drnn_constraint *c);

/* 1 if some name meets the constraints; else 0, and drnn_constraint_reason
 * says why in one line without a final period ("the pattern 'a*' does not
 * allow names that start with the prefix 'x'"); "" when satisfiable. */
int drnn_constraint_satisfiable(const drnn_constraint *c);
const char *drnn_constraint_reason(const drnn_constraint *c);

/* The lengths (normalised: 1 .. DRNN_MAX_NAME_LEN), the prefix as tokens
 * (its length returned; *tokens NULL when 0), and the automaton's size:
 * states, and symbol classes (tokens that no constraint tells apart share
 * a class, so the table has states x classes entries). */
void drnn_constraint_lengths(const drnn_constraint *c, int *min_len, int *max_len);
int drnn_constraint_prefix(const drnn_constraint *c, const drnn_token **tokens);
int drnn_constraint_states(const drnn_constraint *c);
int drnn_constraint_classes(const drnn_constraint *c);
/* The size of the vocabulary it was compiled against (the search refuses
 * a model of another size). */
int drnn_constraint_vocab_size(const drnn_constraint *c);

/* The automaton. States are 0 .. states-1; start is the state of the empty
 * name (the prefix is not yet read: the automaton checks it too).
 * step is the state after token t, or -1 when no name that meets the
 * constraints continues that way (t excluded, END, the prefix or the
 * pattern broken, no accepting state reachable). accepts: a name of len
 * symbols that ends in state meets every constraint, its lengths included.
 * live: a partial name of len symbols in state can still become one that
 * meets them and has min_len .. max_len symbols as well (0 and
 * DRNN_MAX_NAME_LEN: the constraint's own lengths alone); exact, from the
 * set of lengths from which each state reaches an accepting one. */
int drnn_constraint_start(const drnn_constraint *c);
int drnn_constraint_step(const drnn_constraint *c, int state, drnn_token t);
int drnn_constraint_accepts(const drnn_constraint *c, int state, int len);
int drnn_constraint_live(const drnn_constraint *c, int state, int len, int min_len, int max_len);

/* Where names that meet c and start with prefix[0 .. prefix_len) begin:
 * c's prefix when it extends the given one, else the given one, into
 * *root (NULL when empty); its length is returned. *state is the
 * automaton's after it, or -1 when no name goes on from there that meets
 * c and has min_len .. max_len symbols (the prefixes disagree, c is
 * unsatisfiable, the lengths contradict c's). The search and the sampler
 * start there. */
int drnn_constraint_root(const drnn_constraint *c, const drnn_token *prefix, int prefix_len,
                         int min_len, int max_len, const drnn_token **root, int *state);

/* 1 if the name t[0 .. n) meets every constraint. */
int drnn_constraint_match(const drnn_constraint *c, const drnn_token *t, int n);

#ifdef __cplusplus
}
#endif
#endif
