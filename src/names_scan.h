/* names_scan.h: the one path from a names file's bytes to its names
 * (names.c). drnn_names_parse, which keeps the code points, and
 * drnn_corpus_parse (corpus.c), which encodes them as it goes, are both
 * visitors of drnn_names_scan, and both loaders read files with
 * drnn_names_read_file: the two can never parse a line differently. Not
 * installed. */
#ifndef DINORNN_NAMES_SCAN_H
#define DINORNN_NAMES_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/labels.h"
#include "dinornn/names.h"

/* The file name in messages about a buffer parsed without one. */
#define DRNN_LABEL(l) ((l) ? (l) : "<input>")

/* C0 controls, DEL and C1 controls. Printed by the sampler, they would reach
 * the user's terminal, escape sequences included. */
static inline int drnn_is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* The distinct labels of a file in the order they first appear: the scan's
 * label indices. A second scan of the same buffer with the same set finds
 * the same indices. drnn_label_set_table sorts them into a table. */
#define DRNN_LABEL_SLOTS 512 /* a power of two, twice DRNN_MAX_LABELS */
typedef struct drnn_label_set {
    int count;
    char *text[DRNN_MAX_LABELS];     /* NFC UTF-8, as written */
    uint16_t slot[DRNN_LABEL_SLOTS]; /* open addressing: label index + 1, 0 when empty */
} drnn_label_set;

void drnn_label_set_free(drnn_label_set *s);
/* t = s's labels sorted by strcmp (counts 0); remap[i] = the sorted index
 * of the set's label i. An empty set gives an empty table. */
int drnn_label_set_table(const drnn_label_set *s, drnn_label_table *t,
                         uint16_t remap[DRNN_MAX_LABELS], drnn_error *err);

/* One name as drnn_names_scan hands it over. */
typedef struct drnn_scanned_name {
    const uint32_t *cps; /* its code points, normalised (valid until the visitor returns) */
    int n;               /* 1 .. DRNN_MAX_NAME_LEN */
    long line;           /* 1-based line of the file */
    const char *file;    /* the file, for messages (never NULL) */
    int label;           /* its label, an index into the scan's label set; -1 unlabeled */
    const char *label_text; /* that label's text, or NULL */
} drnn_scanned_name;

/* Called for each name, in file order; anything but DRNN_OK (with err set)
 * ends the scan, and drnn_names_scan returns it. */
typedef int (*drnn_name_visitor)(void *ctx, const drnn_scanned_name *name, drnn_error *err);

/* Parses buf[0 .. len) as names.h says and hands each name to visit. Checks
 * the buffer as a whole first (its size, NUL bytes), then each line in turn:
 * the first line that is no name ends the scan with its error. A buffer
 * without a name is DRNN_ERR_EMPTY. label names the file in messages (NULL:
 * "<input>"); opts may be NULL. A labeled file's labels are added to
 * *labels (which the caller initialises to zeros and frees). */
int drnn_names_scan(const char *buf, size_t len, const char *label,
                    const drnn_names_options *opts, drnn_label_set *labels,
                    drnn_name_visitor visit, void *ctx, drnn_error *err);

/* Reads the whole names file at path into a fresh buffer (*buf, *len; the
 * caller frees *buf, NULL on failure). Pipes are read as they come, but a
 * FIFO that nothing writes to is refused at once; a file over
 * DRNN_MAX_NAMES_FILE is refused. */
int drnn_names_read_file(const char *path, char **buf, size_t *len, drnn_error *err);

/* drnn_names_fingerprint name by name: start from DRNN_FINGERPRINT_START
 * and add each name's code points in file order. */
#define DRNN_FINGERPRINT_START 0xcbf29ce484222325ULL
uint64_t drnn_fingerprint_add(uint64_t h, const uint32_t *cps, size_t n);
/* After a labeled name, its label (NULL: unlabeled, the hash unchanged, so
 * that an unlabeled file keeps the fingerprint it always had). */
uint64_t drnn_fingerprint_add_label(uint64_t h, const char *label);

#endif
