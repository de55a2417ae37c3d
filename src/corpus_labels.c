/* corpus_labels.c: a data set's labels (labels.h): their counts, re-indexed
 * to a model's table, and the train/validation split stratified by them.
 * Reading them from a file is names.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/corpus.h"
#include "internal.h"

int drnn_corpus_count_labels(drnn_corpus *c, const drnn_label_table *texts, drnn_error *err)
{
    if (texts != &c->label_table) {
        drnn_label_table_free(&c->label_table);
        if (!c->labels)
            return DRNN_OK;
        int rc = drnn_label_table_copy(&c->label_table, texts, err);
        if (rc != DRNN_OK)
            return rc;
    }
    drnn_label_table *t = &c->label_table;
    for (int l = 0; l < t->count; l++)
        t->names[l] = 0;
    for (size_t i = 0; c->labels && i < c->count; i++)
        t->names[c->labels[i]]++;
    return DRNN_OK;
}

/* The refusal of c's label l, which the model lacks. */
static int unknown_label(const drnn_corpus *c, int l, const drnn_label_table *model,
                         const char *path, drnn_error *err)
{
    char list[512], where[32] = "";
    drnn_label_table_list(model, list, sizeof list);
    for (size_t i = 0; c->line && i < c->count; i++)
        if (c->labels[i] == l) {
            snprintf(where, sizeof where, ":%ld", c->line[i]);
            break;
        }
    return drnn_fail(err, DRNN_ERR_MISMATCH,
                     "%s%s: label '%s' is not one of the model's labels (%s): use only those, "
                     "or train a model with this label",
                     path, where, c->label_table.text[l], list);
}

int drnn_corpus_use_labels(drnn_corpus *c, const drnn_label_table *model, const char *path,
                           drnn_error *err)
{
    int model_labels = model ? model->count : 0;
    path = path ? path : "<input>";
    if (!c)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s: no names", path);
    if (!c->labels && model_labels == 0)
        return drnn_ok(err);
    if (!c->labels) {
        char list[512];
        drnn_label_table_list(model, list, sizeof list);
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s: the names have no labels, but the model was trained with labels "
                         "(%s): give each name one (name<TAB>label)",
                         path, list);
    }
    if (model_labels == 0)
        return drnn_fail(err, DRNN_ERR_MISMATCH,
                         "%s: the names have labels, but the model was trained without: remove "
                         "the labels (the tab and what follows it), or train a labeled model",
                         path);
    uint16_t remap[DRNN_MAX_LABELS];
    for (int l = 0; l < c->label_table.count; l++) {
        int to = drnn_label_find(model, c->label_table.text[l]);
        if (to < 0)
            return unknown_label(c, l, model, path, err);
        remap[l] = (uint16_t)to;
    }
    for (size_t i = 0; i < c->count; i++)
        c->labels[i] = remap[c->labels[i]];
    return drnn_corpus_count_labels(c, model, err);
}

/* ---- the split, stratified ---- */

/* Label l's seed: splitmix64 seeding spreads any difference, so that the
 * labels' shuffles are unrelated. */
static uint64_t label_seed(uint64_t seed, int l)
{
    return seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(l + 1));
}

/* Marks in in_val the validation names of label l (members[0 .. n-1], its
 * names in ascending order) by drnn_split over them. */
static int split_label(const size_t *members, size_t n, double fraction, uint64_t seed, int l,
                       unsigned char *in_val, drnn_error *err)
{
    size_t *tr, *va, nt, nv;
    int rc = drnn_split(n, fraction, label_seed(seed, l), &tr, &nt, &va, &nv, err);
    if (rc != DRNN_OK)
        return rc;
    for (size_t k = 0; k < nv; k++)
        in_val[members[va[k]]] = 1;
    free(tr);
    free(va);
    return DRNN_OK;
}

/* The two lists from the marks, both ascending. */
static int sweep(const unsigned char *in_val, size_t count, size_t **train, size_t *n_train,
                 size_t **val, size_t *n_val, drnn_error *err)
{
    size_t nv = 0;
    for (size_t i = 0; i < count; i++)
        nv += in_val[i];
    size_t *tr = malloc((count - nv ? count - nv : 1) * sizeof *tr);
    size_t *va = malloc((nv ? nv : 1) * sizeof *va);
    if (!tr || !va) {
        free(tr);
        free(va);
        return drnn_fail(err, DRNN_ERR_NOMEM, "split: out of memory for %zu names", count);
    }
    size_t a = 0, b = 0;
    for (size_t i = 0; i < count; i++) {
        if (in_val[i])
            va[b++] = i;
        else
            tr[a++] = i;
    }
    *train = tr, *n_train = a, *val = va, *n_val = b;
    return DRNN_OK;
}

int drnn_split_labeled(const drnn_corpus *c, double val_fraction, uint64_t seed,
                       size_t **train, size_t *n_train, size_t **val, size_t *n_val,
                       drnn_error *err)
{
    if (!c)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: no names");
    if (!c->labels)
        return drnn_split(c->count, val_fraction, seed, train, n_train, val, n_val, err);
    if (!train || !n_train || !val || !n_val)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: missing output arguments");
    *train = *val = NULL;
    *n_train = *n_val = 0;
    if (c->count == 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "split: there are no names to split");
    /* The names by label (a counting sort), each label's in ascending order. */
    size_t at[DRNN_MAX_LABELS + 1] = {0};
    for (size_t i = 0; i < c->count; i++)
        at[c->labels[i] + 1]++;
    for (int l = 0; l < DRNN_MAX_LABELS; l++)
        at[l + 1] += at[l];
    unsigned char *in_val = calloc(c->count, 1);
    size_t *members = malloc(c->count * sizeof *members);
    int rc = in_val && members ? DRNN_OK
                               : drnn_fail(err, DRNN_ERR_NOMEM,
                                           "split: out of memory for %zu names", c->count);
    if (rc == DRNN_OK) {
        size_t fill[DRNN_MAX_LABELS];
        memcpy(fill, at, sizeof fill);
        for (size_t i = 0; i < c->count; i++)
            members[fill[c->labels[i]]++] = i;
    }
    for (int l = 0; rc == DRNN_OK && l < c->label_table.count; l++)
        if (at[l + 1] > at[l])
            rc = split_label(members + at[l], at[l + 1] - at[l], val_fraction, seed, l, in_val,
                             err);
    free(members);
    if (rc == DRNN_OK)
        rc = sweep(in_val, c->count, train, n_train, val, n_val, err);
    free(in_val);
    return rc == DRNN_OK ? drnn_ok(err) : rc;
}
