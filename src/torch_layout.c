/* torch_layout.c: a model as torch.nn names its tensors, in a safetensors
 * file (interop.h; docs/interop.md is the mapping). The container is
 * safetensors.c's; this file knows what each tensor and key means. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/checkpoint.h"
#include "dinornn/interop.h"
#include "error_internal.h"
#include "interop_meta.h"
#include "safetensors.h"
#include "text.h"

/* ---- the tensors of a model, in the order they are written ---- */

typedef enum part { IH, HH, BIAS_IH, BIAS_HH, OUT_W, OUT_B } part;

typedef struct slot {
    char name[64];
    int member, layer;
    part what;
    int ndim;
    uint64_t shape[2];
} slot;

/* The most tensors of a model: members x (4 a layer + 2). */
#define MAX_SLOTS (DRNN_MAX_MEMBERS * (4 * DRNN_MAX_LAYERS + 2))

static int cell_blocks(drnn_cell_kind cell)
{
    return drnn_cell_gates(cell);
}

/* Fills slots[] for members networks of cfg; returns how many. */
static int layout(const drnn_config *cfg, int members, slot *slots)
{
    uint64_t GH = (uint64_t)cell_blocks(cfg->cell) * (uint64_t)cfg->hidden;
    uint64_t V = (uint64_t)cfg->vocab, H = (uint64_t)cfg->hidden;
    int n = 0;
    for (int k = 0; k < members; k++) {
        char prefix[24] = "";
        if (members > 1)
            snprintf(prefix, sizeof prefix, "members.%d.", k);
        for (int l = 0; l < cfg->layers; l++) {
            static const char *const what[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
            for (int p = IH; p <= BIAS_HH; p++) {
                slot *s = &slots[n++];
                snprintf(s->name, sizeof s->name, "%srnn.%s_l%d", prefix, what[p], l);
                s->member = k;
                s->layer = l;
                s->what = (part)p;
                s->ndim = p <= HH ? 2 : 1;
                s->shape[0] = GH;
                s->shape[1] = p == HH || l > 0 ? H : V + (uint64_t)cfg->labels;
            }
        }
        for (int p = OUT_W; p <= OUT_B; p++) {
            slot *s = &slots[n++];
            snprintf(s->name, sizeof s->name, "%sout.%s", prefix, p == OUT_W ? "weight" : "bias");
            s->member = k;
            s->layer = -1;
            s->what = (part)p;
            s->ndim = p == OUT_W ? 2 : 1;
            s->shape[0] = V;
            s->shape[1] = H;
        }
    }
    return n;
}

static uint64_t elements(const slot *s)
{
    return s->shape[0] * (s->ndim == 2 ? s->shape[1] : 1);
}

/* ---- export ---- */

static void put_f32(unsigned char *p, float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Writes slot s of network p at out (elements(s) floats, little-endian). */
static void write_slot(unsigned char *out, const slot *s, const drnn_params *p)
{
    const drnn_config *c = &p->cfg;
    size_t GH = (size_t)cell_blocks(c->cell) * (size_t)c->hidden, H = (size_t)c->hidden;
    size_t V = (size_t)c->vocab, N = (size_t)c->labels, n = (size_t)elements(s);
    const drnn_layer_view *L = s->layer >= 0 ? &p->layer[s->layer] : NULL;
    const drnn_real *src = NULL;
    switch (s->what) {
    case IH:
        if (s->layer > 0) {
            src = L->W_x;
            break;
        }
        /* dinornn keeps W_x[0] (and W_l) a row per symbol (label); torch a column. */
        for (size_t r = 0; r < GH; r++) {
            for (size_t j = 0; j < V; j++)
                put_f32(out + 4 * (r * (V + N) + j), L->W_x[j * GH + r]);
            for (size_t k = 0; k < N; k++)
                put_f32(out + 4 * (r * (V + N) + V + k), p->W_l[k * GH + r]);
        }
        return;
    case HH: src = L->W_h; break;
    case BIAS_IH: src = L->b; break;
    case BIAS_HH:
        for (size_t i = 0; i < n; i++)
            put_f32(out + 4 * i, 0.0f);
        if (c->cell == DRNN_CELL_GRU) /* torch's b_hn: the n block, inside r * (...) */
            for (size_t i = 0; i < H; i++)
                put_f32(out + 4 * (2 * H + i), L->b_h[i]);
        return;
    case OUT_W: src = p->W_y; break;
    case OUT_B: src = p->b_y; break;
    }
    for (size_t i = 0; i < n; i++)
        put_f32(out + 4 * i, src[i]);
}

int drnn_safetensors_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                            drnn_error *err)
{
    *out = NULL;
    *len = 0;
    drnn_params parts[DRNN_MAX_MEMBERS];
    drnn_model m = drnn_state_model(st, parts);
    slot *slots = malloc(MAX_SLOTS * sizeof *slots);
    if (!slots)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    int n = layout(&m.cfg, m.count, slots);
    drnn_meta meta;
    int rc = drnn_meta_build(&meta, st, &m, err);
    if (rc) {
        drnn_meta_free(&meta);
        free(slots);
        return rc;
    }
    drnn_st_writer w;
    drnn_st_writer_init(&w);
    for (size_t i = 0; i < meta.count; i++)
        drnn_st_add_meta(&w, meta.entry[i].key, meta.entry[i].value);
    drnn_meta_free(&meta);
    for (int i = 0; i < n; i++)
        drnn_st_add_f32(&w, slots[i].name, slots[i].ndim, slots[i].shape);
    unsigned char *buf;
    size_t head;
    rc = drnn_st_finish(&w, &buf, &head, err);
    if (!rc) {
        size_t at = head;
        for (int i = 0; i < n; i++) {
            write_slot(buf + at, &slots[i], &m.nets[slots[i].member]);
            at += 4 * (size_t)elements(&slots[i]);
        }
        *out = buf;
        *len = at;
    }
    drnn_st_writer_free(&w);
    free(slots);
    return rc;
}

/* ---- import ---- */

/* What the metadata says a model is, before any tensor is read. */
typedef struct shape_meta {
    drnn_hparams hp;                 /* hp.model: cell, hidden, layers, vocab, labels */
    int members;
    int *symbol_at;                  /* [vocab]: the file's index -> dinornn's token */
    drnn_label_table labels;         /* sorted, as dinornn keeps it */
    int *label_at;                   /* [labels]: the file's index -> dinornn's */
} shape_meta;

static void shape_meta_free(shape_meta *s)
{
    free(s->symbol_at);
    free(s->label_at);
    drnn_label_table_free(&s->labels);
}

/* 1 when v is a plain decimal number as dinornn writes them: an optional
 * '-', digits, and for a real a fraction and an exponent; no blanks, no
 * '+', no hexadecimal, no inf or nan. */
static int plain_number(const char *v, int real)
{
    const char *p = v + (*v == '-');
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p; p++)
        if (!((*p >= '0' && *p <= '9') ||
              (real && (*p == '.' || *p == 'e' || *p == 'E' || *p == '-' || *p == '+'))))
            return 0;
    return 1;
}

/* A metadata value as a whole number in [lo, hi]; -1 (with err) if absent or bad. */
static int meta_int(const drnn_st_file *f, const char *key, long lo, long hi, int required,
                    long def, long *out, const char *label, drnn_error *err)
{
    const char *v = drnn_st_meta(f, key);
    if (!v) {
        if (required)
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: not a dinornn model: the metadata has no '%s' (docs/interop.md "
                             "lists the keys a file needs)", label, key);
        *out = def;
        return DRNN_OK;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!plain_number(v, 0) || *end || errno || x < lo || x > hi)
        return drnn_fail(err, DRNN_ERR_INTEROP,
                         "%s: metadata '%s' is \"%.40s\", not a whole number from %ld to %ld",
                         label, key, v, lo, hi);
    *out = x;
    return DRNN_OK;
}

typedef struct ranked {
    uint32_t key;                    /* a code point */
    int at;                          /* its index in the file */
} ranked;

static int by_key(const void *a, const void *b)
{
    uint32_t x = ((const ranked *)a)->key, y = ((const ranked *)b)->key;
    return x < y ? -1 : x > y;
}

/* The code points of text, into out[0 .. max); how many, or -1 past max. */
static long decode_text(const char *text, uint32_t *out, long max)
{
    const unsigned char *p = (const unsigned char *)text, *e = p + strlen(text);
    long n = 0;
    while (p < e) {
        const char *why;
        size_t k = drnn_utf8_next(p, (size_t)(e - p), &out[n < max ? n : 0], &why);
        if (!k || n >= max)
            return -1; /* the header's strings are valid UTF-8 already */
        p += k;
        n++;
    }
    return n;
}

/* symbols (one code point a symbol, every index but END's, in index order)
 * and end_index: dinornn's vocabulary (END, then the code points
 * ascending) and where each of the file's indices goes in it. */
static int read_symbols(const drnn_st_file *f, shape_meta *s, drnn_vocab *vocab,
                        const char *label, drnn_error *err)
{
    long V = s->hp.model.vocab, end_index = 0;
    int rc = meta_int(f, "end_index", 0, V - 1, 0, 0, &end_index, label, err);
    if (rc)
        return rc;
    const char *text = drnn_st_meta(f, "symbols");
    if (!text)
        return drnn_fail(err, DRNN_ERR_INTEROP,
                         "%s: not a dinornn model: the metadata has no 'symbols' (the "
                         "vocabulary: docs/interop.md)", label);
    uint32_t *cp = malloc((size_t)V * sizeof *cp);
    ranked *order = malloc((size_t)V * sizeof *order);
    s->symbol_at = malloc((size_t)V * sizeof *s->symbol_at);
    vocab->symbol = malloc((size_t)V * sizeof *vocab->symbol);
    vocab->size = (int)V;
    if (!cp || !order || !s->symbol_at || !vocab->symbol) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", label);
        goto done;
    }
    long n = decode_text(text, cp, V - 1);
    if (n != V - 1) {
        rc = drnn_fail(err, DRNN_ERR_INTEROP,
                       "%s: metadata 'symbols' holds %s than the %ld symbols that 'vocab' "
                       "(%ld, END included) needs", label, n < 0 ? "more" : "fewer", V - 1, V);
        goto done;
    }
    for (long j = 0; j < V - 1; j++) {
        uint32_t norm[4];
        size_t k = drnn_text_normalize(&cp[j], 1, !s->hp.keep_case, norm, 4);
        int control = cp[j] < 0x20 || (cp[j] >= 0x7f && cp[j] <= 0x9f);
        if (control || k != 1 || norm[0] != cp[j]) {
            rc = drnn_fail(err, DRNN_ERR_INTEROP,
                           "%s: metadata 'symbols' holds U+%04" PRIX32 " (its character %ld), %s", label,
                           cp[j], j + 1,
                           control ? "a control character, which no name may hold"
                           : s->hp.keep_case ? "which is not in NFC: no name read would hold it"
                                             : "which a name read with keep_case 0 (lowercased, "
                                               "NFC) never holds");
            goto done;
        }
    }
    for (long i = 0, j = 0; i < V; i++)
        if (i != end_index) {
            order[j].key = cp[j];
            order[j].at = (int)i;
            j++;
        }
    qsort(order, (size_t)(V - 1), sizeof *order, by_key);
    vocab->symbol[0] = DRNN_END;
    s->symbol_at[end_index] = 0;
    for (long r = 0; r < V - 1; r++) {
        if (r > 0 && order[r].key == order[r - 1].key) {
            rc = drnn_fail(err, DRNN_ERR_INTEROP,
                           "%s: metadata 'symbols' holds U+%04" PRIX32 " twice", label,
                           order[r].key);
            goto done;
        }
        vocab->symbol[r + 1] = order[r].key;
        s->symbol_at[order[r].at] = (int)r + 1;
    }
done:
    free(cp);
    free(order);
    return rc;
}

/* 1 when text is in Unicode normalisation form C (as labels are kept),
 * without C1 controls. */
static int is_nfc(const char *text)
{
    uint32_t cp[DRNN_MAX_LABEL_BYTES], norm[4 * DRNN_MAX_LABEL_BYTES];
    long n = decode_text(text, cp, DRNN_MAX_LABEL_BYTES);
    if (n < 0)
        return 0;
    for (long i = 0; i < n; i++)
        if (cp[i] >= 0x80 && cp[i] <= 0x9f)
            return 0;
    size_t m = drnn_text_normalize(cp, (size_t)n, 0, norm, sizeof norm / sizeof norm[0]);
    return m == (size_t)n && memcmp(cp, norm, (size_t)n * sizeof *cp) == 0;
}

/* label_names and label_counts: dinornn's label table (sorted by bytes, as
 * a labeled list gives it) and where each of the file's labels goes. */
static int read_labels(const drnn_st_file *f, shape_meta *s, const char *label,
                       drnn_error *err)
{
    int N = s->hp.model.labels;
    const char *names = drnn_st_meta(f, "label_names"), *counts = drnn_st_meta(f, "label_counts");
    if (!names || !counts)
        return drnn_fail(err, DRNN_ERR_INTEROP,
                         "%s: a model of %d labels needs metadata 'label_names' and "
                         "'label_counts' (JSON arrays: docs/interop.md)", label, N);
    char **text = calloc((size_t)N, sizeof *text);
    int64_t *count = calloc((size_t)N, sizeof *count);
    s->label_at = calloc((size_t)N, sizeof *s->label_at);
    s->labels.text = calloc((size_t)N, sizeof *s->labels.text);
    s->labels.names = calloc((size_t)N, sizeof *s->labels.names);
    int rc = DRNN_OK;
    if (!text || !count || !s->label_at || !s->labels.text || !s->labels.names) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", label);
        goto done;
    }
    s->labels.count = N;
    int nt = drnn_json_string_array(names, text, N), nc = drnn_json_int_array(counts, count, N);
    if (nt != N || nc != N) {
        rc = drnn_fail(err, DRNN_ERR_INTEROP,
                       "%s: metadata '%s' is not a JSON array of %d %s", label,
                       nt != N ? "label_names" : "label_counts", N,
                       nt != N ? "strings" : "whole numbers");
        goto done;
    }
    for (int i = 0; i < N; i++) {
        size_t len = strlen(text[i]);
        int ok = len >= 1 && len <= DRNN_MAX_LABEL_BYTES && count[i] >= 1 &&
                 count[i] <= INT64_MAX / 2; /* the checkpoint's bound on a count */
        for (size_t b = 0; ok && b < len; b++)
            ok = (unsigned char)text[i][b] >= 0x20 && text[i][b] != 0x7f;
        ok = ok && is_nfc(text[i]);
        if (!ok) {
            rc = drnn_fail(err, DRNN_ERR_INTEROP,
                           "%s: label %d of 'label_names' is empty, over %d bytes, not NFC or "
                           "holds a control character, or its count in 'label_counts' is not "
                           "from 1 to 2^62-1", label, i, DRNN_MAX_LABEL_BYTES);
            goto done;
        }
    }
    /* dinornn's order: by bytes. N is at most 256: a selection is enough. */
    for (int r = 0; r < N; r++) {
        int best = -1;
        for (int i = 0; i < N; i++)
            if (text[i] && (best < 0 || strcmp(text[i], text[best]) < 0))
                best = i;
        if (r > 0 && strcmp(text[best], s->labels.text[r - 1]) == 0) {
            rc = drnn_fail(err, DRNN_ERR_INTEROP, "%s: label \"%s\" is in 'label_names' twice",
                           label, text[best]);
            goto done;
        }
        s->labels.text[r] = text[best];
        s->labels.names[r] = count[best];
        s->label_at[best] = r;
        text[best] = NULL;
    }
done:
    if (text)
        for (int i = 0; i < N; i++)
            free(text[i]);
    free(text);
    free(count);
    return rc;
}

/* A setting's text as the option takes it, into hp; 0, or -1 when it is not
 * one of its values. */
static int parse_hparam(drnn_hparams *hp, const drnn_hparam_info *h, const char *v)
{
    char *end;
    errno = 0;
    if (h->kind == DRNN_HP_SEED) {
        if (*v == '-' || !plain_number(v, 0))
            return -1;
        uint64_t x = strtoull(v, &end, 10);
        if (*end || errno)
            return -1;
        memcpy((char *)hp + h->offset, &x, sizeof x);
        return 0;
    }
    if (h->kind == DRNN_HP_CHOICE) {
        for (int i = 0; h->choices[i]; i++)
            if (strcmp(v, h->choices[i]) == 0) {
                drnn_hparam_set(hp, h, i);
                return 0;
            }
        return -1;
    }
    if (!plain_number(v, h->kind == DRNN_HP_REAL))
        return -1;
    double x = strtod(v, &end);
    if (*end || !isfinite(x) || (h->kind != DRNN_HP_REAL && x != floor(x)) ||
        (h->kind != DRNN_HP_REAL && fabs(x) > 2147483647.0))
        return -1;
    drnn_hparam_set(hp, h, x);
    return 0;
}

/* hp.OPTION keys over dinornn-train's defaults; then the model's sizes. */
static int read_hparams(const drnn_st_file *f, drnn_hparams *hp, const char *label,
                        drnn_error *err)
{
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    drnn_hparams_default(hp);
    for (size_t i = 0; i < n; i++) {
        char key[64];
        if (!table[i].option)
            continue;
        snprintf(key, sizeof key, "hp.%s", table[i].option);
        const char *v = drnn_st_meta(f, key);
        if (v && parse_hparam(hp, &table[i], v))
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: metadata '%s' is \"%.40s\", not a value of dinornn-train's "
                             "--%s", label, key, v, table[i].option);
    }
    return DRNN_OK;
}

/* cell, vocab, hidden, layers, members, labels, keep_case. */
static int read_config(const drnn_st_file *f, shape_meta *s, const char *label, drnn_error *err)
{
    const char *format = drnn_st_meta(f, "format"), *cell = drnn_st_meta(f, "cell");
    long version = 0, V = 0, H = 0, L = 0, M = 0, N = 0, keep = 0;
    if (format && strcmp(format, "dinornn") != 0)
        return drnn_fail(err, DRNN_ERR_INTEROP,
                         "%s: metadata 'format' is \"%.40s\", not \"dinornn\"", label, format);
    int rc = meta_int(f, "format_version", 1, DRNN_INTEROP_VERSION, 0, 1, &version, label, err);
    if (!rc && !cell)
        rc = drnn_fail(err, DRNN_ERR_INTEROP,
                       "%s: not a dinornn model: the metadata has no 'cell' (rnn, lstm or "
                       "gru)", label);
    int kind = -1;
    for (int k = 0; !rc && k < DRNN_CELL_KIND_COUNT; k++)
        if (strcmp(cell, drnn_cell_name((drnn_cell_kind)k)) == 0)
            kind = k;
    if (!rc && kind < 0)
        rc = drnn_fail(err, DRNN_ERR_INTEROP,
                       "%s: metadata 'cell' is \"%.40s\", not rnn, lstm or gru", label, cell);
    if (rc || (rc = read_hparams(f, &s->hp, label, err)) ||
        (rc = meta_int(f, "vocab", 2, DRNN_MAX_VOCAB, 1, 0, &V, label, err)) ||
        (rc = meta_int(f, "hidden", 1, DRNN_MAX_HIDDEN, 1, 0, &H, label, err)) ||
        (rc = meta_int(f, "layers", 1, DRNN_MAX_LAYERS, 1, 0, &L, label, err)) ||
        (rc = meta_int(f, "members", 1, DRNN_MAX_MEMBERS, 0, 1, &M, label, err)) ||
        (rc = meta_int(f, "labels", 0, DRNN_MAX_LABELS, 0, 0, &N, label, err)) ||
        (rc = meta_int(f, "keep_case", 0, 1, 0, s->hp.keep_case, &keep, label, err)))
        return rc;
    s->hp.model = (drnn_config){.vocab = (int)V, .hidden = (int)H, .layers = (int)L,
                                .cell = (drnn_cell_kind)kind, .labels = (int)N};
    s->hp.members = (int)M;
    s->members = (int)M;
    s->hp.keep_case = (int)keep;
    drnn_error why;
    if (drnn_config_check(&s->hp.model, &why) || drnn_hparams_check(&s->hp, &why))
        return drnn_fail(err, DRNN_ERR_INTEROP, "%s: the settings of its metadata (hp.*) do not "
                         "go together: %s", label, why.message);
    return DRNN_OK;
}

/* Every tensor the model needs, F32 and of its shape; no other. */
static int check_tensors(const drnn_st_file *f, const shape_meta *s, const slot *slots, int n,
                         const char *label, drnn_error *err)
{
    for (int i = 0; i < n; i++) {
        const drnn_st_tensor *t = drnn_st_find(f, slots[i].name);
        if (!t)
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: tensor '%s' is missing: the model its metadata describes (%s, "
                             "%d layer%s, %d member%s) needs it (docs/interop.md)", label,
                             slots[i].name, drnn_cell_name(s->hp.model.cell),
                             s->hp.model.layers, s->hp.model.layers > 1 ? "s" : "", s->members,
                             s->members > 1 ? "s" : "");
        if (strcmp(t->dtype, "F32") != 0)
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: tensor '%s' is %s; dinornn reads F32 (in PyTorch: "
                             "model.float() before saving)", label, t->name, t->dtype);
        int same = t->ndim == slots[i].ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = t->shape[d] == slots[i].shape[d];
        if (!same) {
            char want[48], got[96] = "";
            size_t at = 0;
            snprintf(want, sizeof want, slots[i].ndim == 2 ? "[%llu, %llu]" : "[%llu]",
                     (unsigned long long)slots[i].shape[0], (unsigned long long)slots[i].shape[1]);
            for (int d = 0; d < t->ndim && at < sizeof got - 24; d++)
                at += (size_t)snprintf(got + at, sizeof got - at, "%s%llu", d ? ", " : "",
                                       (unsigned long long)t->shape[d]);
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: tensor '%s' has shape [%s]; the model its metadata describes "
                             "needs %s", label, t->name, got, want);
        }
    }
    for (int i = 0; i < f->count; i++) {
        int known = 0;
        for (int j = 0; j < n && !known; j++)
            known = strcmp(f->tensor[i].name, slots[j].name) == 0;
        if (!known)
            return drnn_fail(err, DRNN_ERR_INTEROP,
                             "%s: tensor '%s' is not part of a dinornn model of this shape "
                             "(docs/interop.md lists the tensors)", label, f->tensor[i].name);
    }
    return DRNN_OK;
}

static float get_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* Element i of tensor t; finite, or *bad set to the index. */
static float element(const drnn_st_file *f, const drnn_st_tensor *t, size_t i, int64_t *bad)
{
    float x = get_f32(f->data + t->begin + 4 * i);
    if (!isfinite(x) && *bad < 0)
        *bad = (int64_t)i;
    return x;
}

/* The two biases a gate has in torch, one in dinornn (the GRU's n keeps
 * its hidden one apart): their sum, or bias_ih itself where bias_hh is
 * zero, so that an export comes back bit for bit. */
static void read_biases(const drnn_st_file *f, const slot *s, drnn_params *p, int64_t *bad)
{
    char name[64];
    snprintf(name, sizeof name, "%s", s->name);
    const drnn_st_tensor *hh = drnn_st_find(f, name);
    memcpy(strstr(name, "bias_hh"), "bias_ih", 7);
    const drnn_st_tensor *ih = drnn_st_find(f, name);
    drnn_layer_view *L = &p->layer[s->layer];
    size_t H = (size_t)p->cfg.hidden, n = (size_t)elements(s);
    for (size_t i = 0; i < n; i++) {
        float a = element(f, ih, i, bad), b = element(f, hh, i, bad);
        if (p->cfg.cell == DRNN_CELL_GRU && i >= 2 * H) {
            L->b[i] = a;
            L->b_h[i - 2 * H] = b;
        } else {
            L->b[i] = b == 0.0f ? a : a + b;
            if (!isfinite(L->b[i]) && *bad < 0) /* two finite halves may overflow */
                *bad = (int64_t)i;
        }
    }
}

/* Slot s of the file into network p, through the permutations of the
 * symbols and labels. */
static void read_slot(const drnn_st_file *f, const slot *s, const shape_meta *m, drnn_params *p,
                      int64_t *bad)
{
    const drnn_st_tensor *t = drnn_st_find(f, s->name);
    size_t GH = (size_t)s->shape[0], V = (size_t)p->cfg.vocab, H = (size_t)p->cfg.hidden;
    size_t N = (size_t)p->cfg.labels, n = (size_t)elements(s);
    drnn_real *dst = NULL;
    switch (s->what) {
    case IH:
        if (s->layer > 0) {
            dst = p->layer[s->layer].W_x;
            break;
        }
        for (size_t r = 0; r < GH; r++) {
            for (size_t j = 0; j < V; j++)
                p->layer[0].W_x[(size_t)m->symbol_at[j] * GH + r] =
                    element(f, t, r * (V + N) + j, bad);
            for (size_t k = 0; k < N; k++)
                p->W_l[(size_t)m->label_at[k] * GH + r] = element(f, t, r * (V + N) + V + k, bad);
        }
        return;
    case HH: dst = p->layer[s->layer].W_h; break;
    case BIAS_IH: return; /* with BIAS_HH */
    case BIAS_HH: read_biases(f, s, p, bad); return;
    case OUT_W:
        for (size_t j = 0; j < V; j++)
            for (size_t i = 0; i < H; i++)
                p->W_y[(size_t)m->symbol_at[j] * H + i] = element(f, t, j * H + i, bad);
        return;
    case OUT_B:
        for (size_t j = 0; j < V; j++)
            p->b_y[m->symbol_at[j]] = element(f, t, j, bad);
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = element(f, t, i, bad);
}

/* A fingerprint: 16 hexadecimal digits, or 0 when the key is absent. */
static int meta_fingerprint(const drnn_st_file *f, const char *key, uint64_t *out,
                            const char *label, drnn_error *err)
{
    const char *v = drnn_st_meta(f, key);
    *out = 0;
    if (!v)
        return DRNN_OK;
    int ok = strlen(v) == 16;
    for (int i = 0; ok && i < 16; i++)
        ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
             (v[i] >= 'A' && v[i] <= 'F');
    if (!ok)
        return drnn_fail(err, DRNN_ERR_INTEROP,
                         "%s: metadata '%s' is \"%.40s\", not 16 hexadecimal digits", label, key, v);
    *out = strtoull(v, NULL, 16);
    return DRNN_OK;
}

/* The state of the model: weights (a mixture's members' as their best
 * weights, the last also as the weights), no optimizer history. */
static int build_state(drnn_train_state *st, const drnn_st_file *f, shape_meta *m,
                       const drnn_vocab *vocab, const slot *slots, int n, const char *label,
                       drnn_error *err)
{
    const char *path = drnn_st_meta(f, "data_path");
    uint64_t data_fp, val_fp;
    int rc;
    if ((rc = meta_fingerprint(f, "data_fingerprint", &data_fp, label, err)) ||
        (rc = meta_fingerprint(f, "val_fingerprint", &val_fp, label, err)))
        return rc;
    if (path && strlen(path) > DRNN_CKPT_MAX_PATH)
        return drnn_fail(err, DRNN_ERR_INTEROP, "%s: metadata 'data_path' is longer than the "
                         "%d bytes a checkpoint records", label, DRNN_CKPT_MAX_PATH);
    if (!m->hp.has_val_file)
        val_fp = 0;
    rc = drnn_state_new(st, &m->hp, vocab, data_fp, val_fp, path, err);
    if (rc)
        return rc;
    st->labels = m->labels; /* moved */
    memset(&m->labels, 0, sizeof m->labels);
    drnn_params parts[DRNN_MAX_MEMBERS];
    for (int k = 0; k < m->members; k++) {
        if (m->members > 1)
            drnn_params_bind(&parts[k], &st->hp.model, st->member_best + (size_t)k * st->weights.count);
        else
            parts[k] = st->weights;
    }
    int64_t bad = -1;
    for (int i = 0; i < n && bad < 0; i++) {
        read_slot(f, &slots[i], m, &parts[slots[i].member], &bad);
        if (bad >= 0)
            rc = drnn_fail(err, DRNN_ERR_INTEROP, "%s: tensor '%s' holds a non-finite value "
                           "(element %lld)%s", label, slots[i].name, (long long)bad,
                           slots[i].what == BIAS_HH ? ", or one whose sum with bias_ih overflows"
                                                    : "");
    }
    if (!rc && m->members > 1) {
        /* Every member trained and at its best: drnn_state_model takes them all. */
        st->member = m->members - 1;
        st->best_epoch = 0;
        memcpy(st->weights.data, parts[m->members - 1].data, st->weights.count * sizeof(drnn_real));
    }
    if (rc)
        drnn_state_free(st);
    return rc;
}

int drnn_safetensors_decode(drnn_train_state *st, const unsigned char *buf, size_t len,
                            const char *label, drnn_error *err)
{
    memset(st, 0, sizeof *st);
    drnn_st_file f;
    int rc = drnn_st_parse(&f, buf, len, label, err);
    if (rc)
        return rc;
    shape_meta m;
    memset(&m, 0, sizeof m);
    drnn_vocab vocab = {0, NULL};
    slot *slots = malloc(MAX_SLOTS * sizeof *slots);
    if (!slots) {
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", label);
        goto done;
    }
    if ((rc = read_config(&f, &m, label, err)) ||
        (rc = read_symbols(&f, &m, &vocab, label, err)) ||
        (m.hp.model.labels > 0 && (rc = read_labels(&f, &m, label, err))))
        goto done;
    int n = layout(&m.hp.model, m.members, slots);
    if ((rc = check_tensors(&f, &m, slots, n, label, err)))
        goto done;
    rc = build_state(st, &f, &m, &vocab, slots, n, label, err);
done:
    free(slots);
    free(vocab.symbol);
    shape_meta_free(&m);
    drnn_st_free(&f);
    return rc;
}

/* Reads len bytes at offset at of fd into buf: 0, or -1 with errno (0 when
 * the file ended first). */
static int read_at(int fd, unsigned char *buf, size_t len, size_t at)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(at + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* The file's header alone, checked against the file's size (every check
 * but the data's), before the whole file is read. */
static int check_header_first(int fd, size_t size, const char *path, drnn_error *err)
{
    unsigned char len8[8];
    if (size < 8 || read_at(fd, len8, 8, 0))
        return size < 8 ? DRNN_OK : drnn_fail(err, DRNN_ERR_IO, "%s: cannot read the file", path);
    uint64_t n = drnn_st_header_length(len8);
    drnn_st_file f;
    if (n > DRNN_SAFETENSORS_MAX_HEADER || n > size - 8) /* refused from these 8 bytes */
        return drnn_st_parse_header(&f, len8, 8, size, path, err);
    unsigned char *head = malloc((size_t)n + 8);
    if (!head)
        return drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory", path);
    int rc = read_at(fd, head, (size_t)n + 8, 0)
                 ? drnn_fail(err, DRNN_ERR_IO, "%s: cannot read the file", path)
                 : drnn_st_parse_header(&f, head, (size_t)n + 8, size, path, err);
    if (!rc)
        drnn_st_free(&f);
    free(head);
    return rc;
}

int drnn_safetensors_load(drnn_train_state *st, const char *path, drnn_error *err)
{
    memset(st, 0, sizeof *st);
    /* Non-blocking, or a FIFO would wait in open() for a writer; it is
     * refused below, as anything but a regular file is. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return drnn_fail(err, errno == ENOENT ? DRNN_ERR_NOT_FOUND : DRNN_ERR_IO,
                         "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    int rc = DRNN_OK;
    if (fstat(fd, &sb) != 0)
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        rc = drnn_fail(err, S_ISDIR(sb.st_mode) ? DRNN_ERR_IS_DIR : DRNN_ERR_NOT_REGULAR,
                       "%s: is %s, not a safetensors file", path,
                       S_ISDIR(sb.st_mode) ? "a directory" : drnn_file_kind((unsigned)sb.st_mode));
    else if ((uintmax_t)sb.st_size > SIZE_MAX)
        rc = drnn_fail(err, DRNN_ERR_TOO_BIG, "%s: too large to read", path);
    size_t len = rc ? 0 : (size_t)sb.st_size;
    if (!rc)
        rc = check_header_first(fd, len, path, err);
    unsigned char *buf = rc ? NULL : malloc(len ? len : 1);
    if (!rc && !buf)
        rc = drnn_fail(err, DRNN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
    if (!rc && read_at(fd, buf, len, 0))
        rc = drnn_fail(err, DRNN_ERR_IO, "%s: cannot read the file%s%s", path,
                       errno ? ": " : " (it shrank while read)", errno ? strerror(errno) : "");
    close(fd);
    if (!rc)
        rc = drnn_safetensors_decode(st, buf, len, path, err);
    free(buf);
    return rc;
}
