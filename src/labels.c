/* labels.c: a table of labels (labels.h): copying, finding, shares. Reading
 * labels from a names file is names.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "dinornn/labels.h"

void drnn_label_table_free(drnn_label_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->count && t->text; i++)
        free(t->text[i]);
    free(t->text);
    free(t->names);
    memset(t, 0, sizeof *t);
}

int drnn_label_table_copy(drnn_label_table *dst, const drnn_label_table *src, drnn_error *err)
{
    memset(dst, 0, sizeof *dst);
    if (!src || src->count == 0)
        return drnn_ok(err);
    dst->text = calloc((size_t)src->count, sizeof *dst->text);
    dst->names = calloc((size_t)src->count, sizeof *dst->names);
    if (!dst->text || !dst->names)
        goto nomem;
    dst->count = src->count;
    for (int i = 0; i < src->count; i++) {
        dst->text[i] = strdup(src->text[i]);
        if (!dst->text[i])
            goto nomem;
        dst->names[i] = src->names ? src->names[i] : 0;
    }
    return drnn_ok(err);
nomem:
    drnn_label_table_free(dst);
    return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for %d labels", src->count);
}

int drnn_label_find(const drnn_label_table *t, const char *text)
{
    for (int i = 0; t && text && i < t->count; i++)
        if (strcmp(t->text[i], text) == 0)
            return i;
    return -1;
}

int drnn_label_table_same_labels(const drnn_label_table *a, const drnn_label_table *b)
{
    int na = a ? a->count : 0, nb = b ? b->count : 0;
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (strcmp(a->text[i], b->text[i]) != 0)
            return 0;
    return 1;
}

double drnn_label_share(const drnn_label_table *t, int i)
{
    double total = 0;
    if (!t || i < 0 || i >= t->count)
        return 0;
    for (int j = 0; j < t->count && t->names; j++)
        total += (double)t->names[j];
    /* A table without counts (none trained yet) shares equally. */
    return total > 0 ? (double)t->names[i] / total : 1.0 / t->count;
}

void drnn_label_table_list(const drnn_label_table *t, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; t && i < t->count; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen(sep) + strlen(t->text[i]);
        if (used + need + 4 >= size) {
            snprintf(buf + used, size - used, "%s...", sep);
            return;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, t->text[i]);
    }
}
