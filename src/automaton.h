/* automaton.h: the constraints as tokens (constraint.c parses them) and the
 * one deterministic automaton built from them (automaton.c). Not
 * installed. */
#ifndef DINORNN_AUTOMATON_H
#define DINORNN_AUTOMATON_H

#include <stdint.h>

#include "dinornn/constraint.h"

/* Words of a set of lengths 0 .. DRNN_MAX_NAME_LEN, one bit each. */
#define DRNN_LEN_WORDS ((DRNN_MAX_NAME_LEN + 64) / 64)

/* A glob, item by item; consecutive '*' are one item. */
enum { DRNN_GLOB_LITERAL, DRNN_GLOB_ANY, DRNN_GLOB_CLASS, DRNN_GLOB_STAR };
typedef struct drnn_glob_item {
    int kind;
    int arg;        /* the token of a literal, the index of a class */
} drnn_glob_item;
typedef struct drnn_glob_range {
    uint32_t lo, hi; /* code points, inclusive */
} drnn_glob_range;
typedef struct drnn_glob_class {
    int first, count; /* its ranges */
    int negate;
} drnn_glob_class;

/* What the automaton is built from. Keywords are the contains strings
 * (bits 0 .. n_contains-1 of the found mask), then the suffix, if any. */
typedef struct drnn_shape {
    const drnn_vocab *vocab;
    const drnn_token *prefix;
    int prefix_len;
    const drnn_token *keywords;  /* all keywords, one after another */
    const int *keyword_start;    /* [keywords + 1] */
    int n_contains, has_suffix;
    const uint8_t *excluded;     /* [vocab->size]: 1 if the token never occurs */
    const drnn_glob_item *glob;  /* NULL: no pattern */
    int glob_len;
    const drnn_glob_class *classes;
    const drnn_glob_range *ranges;
    int max_states;
} drnn_shape;

typedef struct drnn_automaton {
    int states, classes, start;
    int32_t *cls;        /* [vocab size]: each token's class; -1: it never occurs */
    int32_t *next;       /* [states * classes]: the next state, -1: dead */
    uint8_t *accept;     /* [states] */
    uint64_t *lengths;   /* [states * DRNN_LEN_WORDS]: the lengths m such that
                          * m more symbols can reach an accepting state */
    int glob_refuses_prefix; /* the pattern alone rules the prefix out */
} drnn_automaton;

/* Builds a from sh: DRNN_ERR_INVALID past max_states (or past the bound on
 * table entries), DRNN_ERR_NOMEM; a is empty on failure. */
int drnn_automaton_build(drnn_automaton *a, const drnn_shape *sh, drnn_error *err);
void drnn_automaton_free(drnn_automaton *a);

/* 1 if class k of sh holds code point cp. */
int drnn_glob_class_has(const drnn_shape *sh, int k, uint32_t cp);

/* 1 if lengths[state] holds some m with lo <= len + m <= hi. */
int drnn_automaton_live(const drnn_automaton *a, int state, int len, int lo, int hi);

#endif
