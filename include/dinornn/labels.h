/* dinornn/labels.h: the kinds a names file may give its names (a female
 * name, a place): a label per line after a tab, "name<TAB>label". A model
 * trained on such a list is conditioned on the label (params.h, W_l) and
 * keeps the table of its labels with their counts, which are its shares
 * when no label is asked for. */
#ifndef DINORNN_LABELS_H
#define DINORNN_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Documented limits: a list with more distinct labels, or a longer label,
 * is refused with its file, line and column. */
#define DRNN_MAX_LABELS      256
#define DRNN_MAX_LABEL_BYTES 255   /* UTF-8 bytes of one label, NFC */

/* A model's or a list's labels. Label i is text[i]; the table is sorted by
 * the labels' bytes (strcmp order), so that the same list in another line
 * order gives the same table and the same model. */
typedef struct drnn_label_table {
    int count;            /* 0: unlabeled */
    char **text;          /* [count] NUL-terminated UTF-8, NFC, as written */
    int64_t *names;       /* [count] training names carrying each label (the shares) */
} drnn_label_table;

void drnn_label_table_free(drnn_label_table *t);
/* dst = a deep copy of src (dst is overwritten, not freed first). */
int drnn_label_table_copy(drnn_label_table *dst, const drnn_label_table *src, drnn_error *err);
/* The index of text in t, or -1. */
int drnn_label_find(const drnn_label_table *t, const char *text);
/* 1 when a and b hold the same labels in the same order (counts aside). */
int drnn_label_table_same_labels(const drnn_label_table *a, const drnn_label_table *b);
/* Label i's share of the training names: names[i] / the sum of names[]
 * (equal shares for a table without counts). */
double drnn_label_share(const drnn_label_table *t, int i);
/* The labels as "a, b, c" in buf (cut with "..." when too long), for messages. */
void drnn_label_table_list(const drnn_label_table *t, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
