/* dinornn/names.h: reading a list of names (one per line, UTF-8) into
 * normalised names. Their vocabulary and tokens are in vocab.h, a data set
 * of them as tokens (and its split) in corpus.h; both are included here, so
 * that code which includes names.h alone still sees them. */
#ifndef DINORNN_NAMES_H
#define DINORNN_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/labels.h"
#include "dinornn/vocab.h"
#include "dinornn/corpus.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Documented limits; inputs beyond them are refused before anything is allocated. */
#define DRNN_MAX_NAME_LEN   256                /* symbols in one name */
#define DRNN_MAX_NAMES_FILE (256u << 20)       /* bytes in a names file (256 MiB) */

/* Names as Unicode code points, in file order. */
typedef struct drnn_names {
    size_t count;        /* number of names */
    uint32_t *symbols;   /* all names' code points, concatenated */
    size_t *start;       /* name i is symbols[start[i] .. start[i+1]); count + 1 entries */
    long *line;          /* 1-based line of each name in its file */
    uint16_t *label;     /* label of each name, an index into labels; NULL when unlabeled */
    drnn_label_table labels; /* the file's labels (strcmp order), counts = names per label */
} drnn_names;

typedef struct drnn_names_options {
    int keep_case;       /* 0 (default): lowercase (Unicode's full mapping); 1: keep the case */
} drnn_names_options;

/* Reads and parses a names file. A line ends at "\n", "\r\n" or a lone "\r";
 * each name loses the Unicode white space around it (U+00A0, U+3000 too),
 * and lines left blank are skipped. Invalid UTF-8 and control characters
 * inside a name (U+0000 to U+001F, U+007F to U+009F: a tab, an ESC) are
 * refused. Each name is put in Unicode normalisation form C and, unless
 * keep_case, lowercased by Unicode's full locale-independent mapping (then
 * NFC again): docs/model.md, "From a line to a name". A file whose first
 * name has a tab after it is labeled: every name is then "name<TAB>label",
 * the label trimmed of white space and put in NFC, its case kept, at most
 * DRNN_MAX_LABEL_BYTES bytes and DRNN_MAX_LABELS distinct labels; a line
 * without a tab in a labeled file, a tab in an unlabeled one, a second tab,
 * an empty name or label are refused with the file, line and column
 * (docs/errors.md, "Labels"). The file may be a
 * pipe, but a FIFO with no writer is refused at once (DRNN_ERR_NOT_REGULAR).
 * opts may be NULL for the defaults. On failure *out is left empty and err
 * names the file and line. */
int drnn_names_load(drnn_names *out, const char *path,
                    const drnn_names_options *opts, drnn_error *err);
/* The same from a buffer; label stands for the file name in messages. */
int drnn_names_parse(drnn_names *out, const char *buf, size_t len, const char *label,
                     const drnn_names_options *opts, drnn_error *err);
void drnn_names_free(drnn_names *names);

/* A 64-bit FNV-1a hash of the parsed names (not of the file's bytes, so line
 * endings and blank lines do not change it); a labeled file's labels are
 * hashed after each name, an unlabeled file's hash is the one it always had. */
uint64_t drnn_names_fingerprint(const drnn_names *names);

#ifdef __cplusplus
}
#endif
#endif
