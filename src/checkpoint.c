/* checkpoint.c: the checkpoint format (docs/checkpoint-format.md): encoding,
 * decoding and validation, in memory or as a stream for the file writer
 * (checkpoint_file.c). All integers and floats are stored little-endian
 * whatever the host, byte by byte. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_format.h"
#include "dinornn/checkpoint.h"
#include "internal.h"
#include "text.h"

_Static_assert(sizeof(drnn_real) == 4, "checkpoints store parameters as IEEE-754 binary32");

/* Version 1: 272-byte header. Version 2 (LSTM and GRU cells) appends
 * dropout and weight decay: 288 bytes. Version 3 appends the gradient
 * slots and 4 reserved zero bytes, the plateau schedule's settings and
 * state, and the mixture's size and current member: 336 bytes; its body
 * adds the members' best weights after the moments of a mixture. Version 4
 * (labels) appends the label count, the label table's bytes and 8 reserved
 * zero bytes: 352; its body has the label table after the data path. An
 * unlabeled model is still written as version 3, byte for byte as before. */
#define HEADER_SIZE_V1 272u
#define HEADER_SIZE_V2 288u
#define HEADER_SIZE_V3 336u
#define HEADER_SIZE DRNN_CKPT_HEADER_SIZE /* version 4, the largest */
#define MOMENT1 1u
#define MOMENT2 2u

uint32_t drnn_crc32(uint32_t crc, const void *data, size_t len)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian cursors ---- */

typedef struct writer {
    unsigned char *p;
} writer;

static void put_u32(writer *w, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        *w->p++ = (unsigned char)(x >> (8 * i));
}

static void put_u64(writer *w, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        *w->p++ = (unsigned char)(x >> (8 * i));
}

static void put_f64(writer *w, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    put_u64(w, u);
}

static void put_reals(writer *w, const drnn_real *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        put_u32(w, u);
    }
}

typedef struct reader {
    const unsigned char *p;
} reader;

static uint32_t get_u32(reader *r)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)*r->p++ << (8 * i);
    return x;
}

static uint64_t get_u64(reader *r)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)*r->p++ << (8 * i);
    return x;
}

static double get_f64(reader *r)
{
    uint64_t u = get_u64(r);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Reads n floats; returns 0 if any is NaN or infinite. */
static int get_reals(reader *r, drnn_real *x, size_t n)
{
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(r);
        memcpy(&x[i], &u, sizeof u);
        finite &= isfinite(x[i]) != 0;
    }
    return finite;
}

static uint32_t moment_flags(const drnn_train_state *st)
{
    return (st->moment1.count ? MOMENT1 : 0) | (st->moment2.count ? MOMENT2 : 0);
}

static int popcount2(uint32_t flags)
{
    return (int)(flags & 1) + (int)((flags >> 1) & 1);
}

/* Total size implied by the header fields, or 0 if it overflows; the
 * parameter-sized tensors are the weights, the moments, and a mixture's
 * members' best weights. */
static size_t file_size_for(size_t header, size_t vocab, size_t path_len, size_t labels_len,
                            size_t params, int moments, int members)
{
    int overflow = 0;
    size_t count = 1 + (size_t)moments + (members > 1 ? (size_t)members : 0);
    size_t tensors = drnn_mul_size(params, 4 * count, &overflow);
    size_t n = header + 4 * vocab + path_len + labels_len;
    if (overflow || tensors > SIZE_MAX - n - 4)
        return 0;
    return n + tensors + 4;
}

static int finite_reals(const drnn_real *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int all_finite(const drnn_params *p)
{
    return finite_reals(p->data, p->count);
}

/* ---- the header: fixed fields at their offsets, and the hyperparameters
 * where their table rows place them ---- */

enum { /* byte offsets of the fields that are not hyperparameters */
    AT_MAGIC = 0, AT_VERSION = 8, AT_HEADER_SIZE = 12, AT_FILE_SIZE = 16, AT_VOCAB = 28,
    AT_PARAMS = 40, AT_EPOCH = 160, AT_EPOCH_POS = 168, AT_STEP = 176, AT_EPOCH_LOSS = 184,
    AT_EPOCH_CHARS = 192, AT_BEST_LOSS = 200, AT_BEST_EPOCH = 208, AT_RNG = 216,
    AT_DATA_FP = 248, AT_VAL_FP = 256, AT_FLAGS = 264, AT_PATH_LEN = 268,
    AT_LR_SCALE = 296, AT_LR_DECAY_EPOCH = 304, AT_MEMBER = 332, /* version 3 */
    AT_LABELS = 336, AT_LABEL_BYTES = 340                        /* version 4 */
};

static uint32_t header_size_of(uint32_t version)
{
    return version == 1   ? HEADER_SIZE_V1
           : version == 2 ? HEADER_SIZE_V2
           : version == 3 ? HEADER_SIZE_V3
                          : HEADER_SIZE;
}

/* A labeled model needs version 4; any other is written as version 3. */
static uint32_t version_for(const drnn_train_state *st)
{
    return st->hp.model.labels > 0 ? 4u : 3u;
}

/* Bytes of the label table in the body: per label a u64 count of names, a
 * u32 length and the label's UTF-8 bytes. */
static size_t label_bytes(const drnn_label_table *t)
{
    size_t n = 0;
    for (int i = 0; i < t->count; i++)
        n += 12 + strlen(t->text[i]);
    return n;
}

/* One label's text: 1 .. DRNN_MAX_LABEL_BYTES bytes of valid UTF-8 in NFC,
 * no control character; 0 if not. */
static int valid_label(const unsigned char *p, size_t n)
{
    uint32_t cps[DRNN_MAX_LABEL_BYTES], nfc[DRNN_MAX_LABEL_BYTES];
    size_t count = 0;
    if (n < 1 || n > DRNN_MAX_LABEL_BYTES)
        return 0;
    for (size_t at = 0; at < n;) {
        const char *why;
        size_t used = drnn_utf8_next(p + at, n - at, &cps[count], &why);
        if (used == 0 || used == (size_t)-1 || cps[count] < 0x20 ||
            (cps[count] >= 0x7f && cps[count] <= 0x9f))
            return 0;
        at += used;
        count++;
    }
    size_t m = drnn_text_normalize(cps, count, 0, nfc, DRNN_MAX_LABEL_BYTES);
    return m == count && memcmp(cps, nfc, count * sizeof *cps) == 0;
}

/* The index of the first label the decoder would refuse (read_labels: its
 * text, its count of names, the order), or -1 when there is none: what is
 * written can be read. */
static int bad_label(const drnn_label_table *t)
{
    for (int i = 0; i < t->count; i++)
        if (t->names[i] < 1 || t->names[i] > INT64_MAX / 2 ||
            !valid_label((const unsigned char *)t->text[i], strlen(t->text[i])) ||
            (i > 0 && strcmp(t->text[i - 1], t->text[i]) >= 0))
            return i;
    return -1;
}

static void put_u32_at(unsigned char *buf, size_t at, uint32_t x)
{
    writer w = {buf + at};
    put_u32(&w, x);
}

static void put_u64_at(unsigned char *buf, size_t at, uint64_t x)
{
    writer w = {buf + at};
    put_u64(&w, x);
}

static void put_f64_at(unsigned char *buf, size_t at, double x)
{
    writer w = {buf + at};
    put_f64(&w, x);
}

static uint32_t get_u32_at(const unsigned char *buf, size_t at)
{
    reader r = {buf + at};
    return get_u32(&r);
}

static uint64_t get_u64_at(const unsigned char *buf, size_t at)
{
    reader r = {buf + at};
    return get_u64(&r);
}

static double get_f64_at(const unsigned char *buf, size_t at)
{
    reader r = {buf + at};
    return get_f64(&r);
}

/* Every hyperparameter at its place: u32 for integers, choices and flags,
 * f64 for reals, u64 for the seed. */
static void put_hparams(unsigned char *buf, const drnn_hparams *hp)
{
    size_t n;
    const drnn_hparam_info *t = drnn_hparam_table(&n);
    for (size_t i = 0; i < n; i++) {
        const drnn_hparam_info *h = &t[i];
        if (h->kind == DRNN_HP_REAL)
            put_f64_at(buf, h->ckpt_offset, drnn_hparam_get(hp, h));
        else if (h->kind == DRNN_HP_SEED)
            put_u64_at(buf, h->ckpt_offset, hp->seed);
        else
            put_u32_at(buf, h->ckpt_offset, (uint32_t)(int)drnn_hparam_get(hp, h));
    }
}

/* The hyperparameters of a header of the given version (for those it
 * predates, the value it implied); -1 if an integer does not fit its field.
 * Ranges are drnn_hparams_check's. */
static int get_hparams(const unsigned char *buf, uint32_t version, drnn_hparams *hp)
{
    size_t n;
    const drnn_hparam_info *t = drnn_hparam_table(&n);
    drnn_hparams_default(hp);
    for (size_t i = 0; i < n; i++) {
        const drnn_hparam_info *h = &t[i];
        if ((uint32_t)h->ckpt_since > version) {
            drnn_hparam_set(hp, h, h->before);
            continue;
        }
        if (h->kind == DRNN_HP_REAL) {
            drnn_hparam_set(hp, h, get_f64_at(buf, h->ckpt_offset));
        } else if (h->kind == DRNN_HP_SEED) {
            hp->seed = get_u64_at(buf, h->ckpt_offset);
        } else {
            uint32_t u = get_u32_at(buf, h->ckpt_offset);
            if (u > INT32_MAX)
                return -1;
            drnn_hparam_set(hp, h, (double)u);
        }
    }
    return 0;
}

static void put_header(unsigned char *buf, const drnn_train_state *st, size_t size,
                       uint32_t flags, uint32_t path_len)
{
    const uint32_t version = version_for(st);
    memset(buf, 0, HEADER_SIZE);
    memcpy(buf + AT_MAGIC, DRNN_CKPT_MAGIC, 8);
    put_u32_at(buf, AT_VERSION, version);
    put_u32_at(buf, AT_HEADER_SIZE, header_size_of(version));
    if (version >= 4) {
        put_u32_at(buf, AT_LABELS, (uint32_t)st->labels.count);
        put_u32_at(buf, AT_LABEL_BYTES, (uint32_t)label_bytes(&st->labels));
    }
    put_u64_at(buf, AT_FILE_SIZE, size);
    put_u32_at(buf, AT_VOCAB, (uint32_t)st->hp.model.vocab);
    put_u64_at(buf, AT_PARAMS, st->weights.count);
    put_hparams(buf, &st->hp);
    put_u64_at(buf, AT_EPOCH, (uint64_t)st->epoch);
    put_u64_at(buf, AT_EPOCH_POS, (uint64_t)st->epoch_pos);
    put_u64_at(buf, AT_STEP, (uint64_t)st->step);
    put_f64_at(buf, AT_EPOCH_LOSS, st->epoch_loss);
    put_u64_at(buf, AT_EPOCH_CHARS, (uint64_t)st->epoch_chars);
    put_f64_at(buf, AT_BEST_LOSS, st->best_val_loss);
    put_u64_at(buf, AT_BEST_EPOCH, (uint64_t)st->best_epoch);
    put_f64_at(buf, AT_LR_SCALE, st->lr_scale);
    put_u64_at(buf, AT_LR_DECAY_EPOCH, (uint64_t)st->lr_decay_epoch);
    put_u32_at(buf, AT_MEMBER, (uint32_t)st->member);
    for (int i = 0; i < 4; i++)
        put_u64_at(buf, AT_RNG + 8 * (size_t)i, st->rng.s[i]);
    put_u64_at(buf, AT_DATA_FP, st->data_fingerprint);
    put_u64_at(buf, AT_VAL_FP, st->val_fingerprint);
    put_u32_at(buf, AT_FLAGS, flags);
    put_u32_at(buf, AT_PATH_LEN, path_len);
}

/* Where a checkpoint's bytes go as they are made: into a buffer of the
 * whole file, or straight into a file, so that saving takes no second copy
 * of the weights; either way the CRC-32 runs over them. */
typedef struct sink {
    unsigned char *mem;       /* the whole file, or NULL: */
    drnn_ckpt_write_fn write; /* where the bytes go */
    void *ctx;
    size_t at;                /* bytes so far */
    uint32_t crc;             /* of those bytes */
    int error;                /* errno of a failed write, 0 */
} sink;

static void emit(sink *s, const unsigned char *p, size_t n)
{
    s->crc = drnn_crc32(s->crc, p, n);
    if (s->mem)
        memcpy(s->mem + s->at, p, n);
    else if (!s->error)
        s->error = s->write(s->ctx, p, n);
    s->at += n;
}

/* n floats as little-endian u32, a block at a time. */
static void emit_reals(sink *s, const drnn_real *x, size_t n)
{
    unsigned char block[16384];
    for (size_t i = 0; i < n;) {
        size_t m = n - i < sizeof block / 4 ? n - i : sizeof block / 4;
        writer w = {block};
        put_reals(&w, x + i, m);
        emit(s, block, 4 * m);
        i += m;
    }
}

int drnn_ckpt_plan_encoding(const drnn_train_state *st, drnn_ckpt_plan *plan, drnn_error *err)
{
    const drnn_hparams *hp = &st->hp;
    size_t *size = &plan->size, *path_len = &plan->path_len;
    uint32_t *flags = &plan->flags;
    *path_len = strlen(st->data_path ? st->data_path : "");
    /* A diverged state stays unsaved. */
    const char *bad = !all_finite(&st->weights)                                 ? "weights"
                      : !all_finite(&st->moment1) || !all_finite(&st->moment2) ? "optimizer state"
                      : !finite_reals(st->member_best, st->member_best ? st->weights.count *
                                                                            (size_t)hp->members : 0)
                          ? "members' best weights"
                      : !isfinite(st->epoch_loss) ? "loss of the epoch so far"
                      : isnan(st->best_val_loss) || st->best_val_loss == -HUGE_VAL ? "best loss"
                                                                                    : NULL;
    if (bad)
        return drnn_fail(err, DRNN_ERR_NONFINITE,
                         "the %s became NaN or infinite, which a checkpoint cannot hold", bad);
    if (*path_len > DRNN_CKPT_MAX_PATH)
        return drnn_fail(err, DRNN_ERR_INVALID, "the data path is longer than %d bytes",
                         DRNN_CKPT_MAX_PATH);
    if (hp->model.vocab != st->vocab.size)
        return drnn_fail(err, DRNN_ERR_INVALID, "the model's vocabulary size %d is not the "
                         "vocabulary's %d", hp->model.vocab, st->vocab.size);
    if (hp->members > 1 && !st->member_best)
        return drnn_fail(err, DRNN_ERR_INVALID, "a mixture without its members' weights");
    if (hp->model.labels != st->labels.count)
        return drnn_fail(err, DRNN_ERR_INVALID, "the model's label count %d is not the "
                         "label table's %d", hp->model.labels, st->labels.count);
    const int bad_at = bad_label(&st->labels);
    if (bad_at >= 0)
        return drnn_fail(err, DRNN_ERR_INVALID, "label %d of the table is empty, longer than %d "
                         "bytes, not NFC UTF-8, has a control character, is out of order or "
                         "has no names (or more than 2^62-1)", bad_at, DRNN_MAX_LABEL_BYTES);
    *flags = moment_flags(st);
    *size = file_size_for(header_size_of(version_for(st)), (size_t)st->vocab.size, *path_len,
                          label_bytes(&st->labels), st->weights.count, popcount2(*flags),
                          hp->members);
    if (*size == 0)
        return drnn_fail(err, DRNN_ERR_NOMEM, "a checkpoint of this model would not fit in memory");
    return DRNN_OK;
}

/* The whole file, in order, into s. */
static void encode_into(sink *s, const drnn_train_state *st, const drnn_ckpt_plan *plan)
{
    const size_t P = st->weights.count, path_len = plan->path_len;
    const uint32_t flags = plan->flags;
    unsigned char head[HEADER_SIZE], block[4096], word[4];
    put_header(head, st, plan->size, flags, (uint32_t)path_len);
    emit(s, head, header_size_of(version_for(st)));
    for (int v = 0; v < st->vocab.size;) { /* a block of symbols at a time */
        writer w = {block};
        for (; v < st->vocab.size && w.p < block + sizeof block; v++)
            put_u32(&w, st->vocab.symbol[v]);
        emit(s, block, (size_t)(w.p - block));
    }
    emit(s, (const unsigned char *)st->data_path, path_len);
    for (int i = 0; i < st->labels.count; i++) {
        writer w = {block};
        uint32_t n = (uint32_t)strlen(st->labels.text[i]);
        put_u64(&w, (uint64_t)st->labels.names[i]);
        put_u32(&w, n);
        emit(s, block, 12);
        emit(s, (const unsigned char *)st->labels.text[i], n);
    }
    emit_reals(s, st->weights.data, P);
    if (flags & MOMENT1)
        emit_reals(s, st->moment1.data, P);
    if (flags & MOMENT2)
        emit_reals(s, st->moment2.data, P);
    if (st->hp.members > 1)
        emit_reals(s, st->member_best, P * (size_t)st->hp.members);
    writer w = {word};
    put_u32(&w, s->crc);
    emit(s, word, 4);
}

int drnn_checkpoint_encode(const drnn_train_state *st, unsigned char **out, size_t *len,
                           drnn_error *err)
{
    *out = NULL;
    *len = 0;
    drnn_ckpt_plan plan;
    int rc = drnn_ckpt_plan_encoding(st, &plan, err);
    if (rc)
        return rc;
    unsigned char *buf = malloc(plan.size);
    if (!buf)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory for a checkpoint of %zu bytes",
                         plan.size);
    sink s = {.mem = buf};
    encode_into(&s, st, &plan);
    *out = buf;
    *len = plan.size;
    return drnn_ok(err);
}

int drnn_ckpt_encode_stream(const drnn_train_state *st, const drnn_ckpt_plan *plan,
                            drnn_ckpt_write_fn write, void *ctx)
{
    sink s = {.write = write, .ctx = ctx};
    encode_into(&s, st, plan);
    return s.error;
}

static int valid_symbol(uint32_t cp)
{
    return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

/* What a header says, before it is trusted. */
typedef struct ckpt_header {
    uint32_t version, header_size, vocab, flags, path_len, labels, label_bytes;
    uint64_t file_size, params, epoch, epoch_pos, step, epoch_chars, best_epoch, data_fp, val_fp;
    double epoch_loss, best_loss, lr_scale;
    uint64_t lr_decay_epoch;
    uint32_t member;
    drnn_rng rng;
    drnn_hparams hp;
    int hp_fit;               /* every integer hyperparameter fits an int */
    size_t expected;          /* the file size the fields imply */
} ckpt_header;

#define CORRUPT(what) \
    drnn_fail(err, DRNN_ERR_CKPT_CORRUPT, "%s: corrupt checkpoint: %s", label, what)

/* The magic and a version this build reads, with its whole header present. */
static int check_version(const unsigned char *buf, size_t len, const char *label,
                         uint32_t *version, drnn_error *err)
{
    if (len < 8 || memcmp(buf, DRNN_CKPT_MAGIC, 8) != 0) {
        if (memcmp(buf, DRNN_CKPT_MAGIC, len < 8 ? len : 8) == 0)
            return drnn_fail(err, DRNN_ERR_CKPT_TRUNCATED,
                             "%s: truncated checkpoint (%zu bytes): the file is incomplete",
                             label, len);
        return drnn_fail(err, DRNN_ERR_CKPT_MAGIC, "%s: not a dinornn checkpoint (bad magic)",
                         label);
    }
    if (len < 12)
        return drnn_fail(err, DRNN_ERR_CKPT_TRUNCATED, "%s: truncated checkpoint (%zu bytes)",
                         label, len);
    *version = get_u32_at(buf, AT_VERSION);
    if (*version < 1 || *version > DRNN_CKPT_VERSION)
        return drnn_fail(err, DRNN_ERR_CKPT_VERSION,
                         "%s: checkpoint format version %u; this dinornn reads versions 1 to %d%s",
                         label, *version, DRNN_CKPT_VERSION,
                         *version > DRNN_CKPT_VERSION ? ": it was written by a newer dinornn" : "");
    const uint32_t header_expected = header_size_of(*version);
    if (len < header_expected)
        return drnn_fail(err, DRNN_ERR_CKPT_TRUNCATED,
                         "%s: truncated checkpoint (%zu bytes, the header alone is %u)", label,
                         len, header_expected);
    return DRNN_OK;
}

static void read_header(const unsigned char *buf, uint32_t version, ckpt_header *h)
{
    memset(h, 0, sizeof *h);
    h->version = version;
    h->header_size = get_u32_at(buf, AT_HEADER_SIZE);
    h->file_size = get_u64_at(buf, AT_FILE_SIZE);
    h->vocab = get_u32_at(buf, AT_VOCAB);
    h->params = get_u64_at(buf, AT_PARAMS);
    h->hp_fit = get_hparams(buf, version, &h->hp) == 0;
    h->epoch = get_u64_at(buf, AT_EPOCH);
    h->epoch_pos = get_u64_at(buf, AT_EPOCH_POS);
    h->step = get_u64_at(buf, AT_STEP);
    h->epoch_loss = get_f64_at(buf, AT_EPOCH_LOSS);
    h->epoch_chars = get_u64_at(buf, AT_EPOCH_CHARS);
    h->best_loss = get_f64_at(buf, AT_BEST_LOSS);
    h->best_epoch = get_u64_at(buf, AT_BEST_EPOCH);
    /* Before version 3 no run had decayed on a plateau. */
    h->lr_scale = version >= 3 ? get_f64_at(buf, AT_LR_SCALE) : 1;
    h->lr_decay_epoch = version >= 3 ? get_u64_at(buf, AT_LR_DECAY_EPOCH) : (uint64_t)-1;
    h->member = version >= 3 ? get_u32_at(buf, AT_MEMBER) : 0;
    h->labels = version >= 4 ? get_u32_at(buf, AT_LABELS) : 0;
    h->label_bytes = version >= 4 ? get_u32_at(buf, AT_LABEL_BYTES) : 0;
    for (int i = 0; i < 4; i++)
        h->rng.s[i] = get_u64_at(buf, AT_RNG + 8 * (size_t)i);
    h->data_fp = get_u64_at(buf, AT_DATA_FP);
    h->val_fp = get_u64_at(buf, AT_VAL_FP);
    h->flags = get_u32_at(buf, AT_FLAGS);
    h->path_len = get_u32_at(buf, AT_PATH_LEN);
}

/* Every size against the limits and the file's real length, before anything
 * is allocated. */
static int check_sizes(ckpt_header *h, const unsigned char *buf, size_t len, const char *label,
                       drnn_error *err)
{
    const uint32_t header_expected = header_size_of(h->version);
    if (h->header_size != header_expected)
        return CORRUPT("wrong header size");
    h->hp.model.vocab = h->vocab <= DRNN_MAX_VOCAB ? (int)h->vocab : 0;
    /* Version 4 is written for labeled models only; its table holds 12 bytes
     * and at most DRNN_MAX_LABEL_BYTES more a label, and its reserved bytes are zero. */
    if (h->version >= 4 &&
        (h->labels < 1 || h->labels > DRNN_MAX_LABELS || h->label_bytes < 13 * h->labels ||
         h->label_bytes > (12u + DRNN_MAX_LABEL_BYTES) * h->labels ||
         get_u64_at(buf, AT_LABEL_BYTES + 4) != 0))
        return CORRUPT("label table sizes out of range");
    h->hp.model.labels = (int)h->labels;
    if (!h->hp_fit || h->vocab < 2 || drnn_config_check(&h->hp.model, NULL) != DRNN_OK ||
        h->hp.members < 1 || h->hp.members > DRNN_MAX_MEMBERS)
        return CORRUPT("model sizes out of range");
    if (h->params != drnn_param_count(&h->hp.model))
        return CORRUPT("parameter count does not match the model sizes");
    if (h->flags > (MOMENT1 | MOMENT2) || h->path_len > DRNN_CKPT_MAX_PATH)
        return CORRUPT("header fields out of range");
    h->expected = file_size_for(header_expected, h->vocab, h->path_len, h->label_bytes,
                                (size_t)h->params, popcount2(h->flags), h->hp.members);
    if (h->expected == 0 || h->file_size != h->expected)
        return CORRUPT("recorded size does not match the model sizes");
    if (len < h->expected)
        return drnn_fail(err, DRNN_ERR_CKPT_TRUNCATED,
                         "%s: truncated checkpoint (%zu of %zu bytes): the file is incomplete",
                         label, len, h->expected);
    if (len > h->expected)
        return CORRUPT("trailing bytes after the checksum");
    return DRNN_OK;
}

/* The values: hyperparameters in their ranges, the optimizer state that the
 * optimizer keeps, counters that a run could have reached. */
static int check_fields(const ckpt_header *h, const char *label, drnn_error *err)
{
    const drnn_hparams *hp = &h->hp;
    if (drnn_hparams_check(hp, NULL) != DRNN_OK)
        return CORRUPT("hyperparameters out of range");
    uint32_t needed =
        (hp->optimizer == DRNN_OPT_ADAM || hp->optimizer == DRNN_OPT_SGD ? MOMENT1 : 0) |
        (hp->optimizer == DRNN_OPT_ADAM || hp->optimizer == DRNN_OPT_ADAGRAD ? MOMENT2 : 0);
    if (h->flags != needed)
        return CORRUPT("optimizer state does not match the optimizer");
    if (h->epoch > INT64_MAX / 2 || h->epoch_pos > INT64_MAX / 2 || h->step > INT64_MAX / 2 ||
        h->epoch_chars > INT64_MAX / 2 || !isfinite(h->epoch_loss) || isnan(h->best_loss) ||
        h->best_loss == -HUGE_VAL || (int64_t)h->best_epoch < -1 ||
        (int64_t)h->best_epoch > (int64_t)h->epoch || !(h->lr_scale > 0 && h->lr_scale <= 1) ||
        (int64_t)h->lr_decay_epoch < -1 || (int64_t)h->lr_decay_epoch > (int64_t)h->epoch ||
        h->member >= (uint32_t)hp->members ||
        (h->rng.s[0] | h->rng.s[1] | h->rng.s[2] | h->rng.s[3]) == 0)
        return CORRUPT("progress counters out of range");
    if (!hp->has_val_file && h->val_fp != 0)
        return CORRUPT("a validation fingerprint without a validation file");
    return DRNN_OK;
}

/* END, then code points in ascending order, into a vocabulary of their
 * size (which the caller frees, also on failure). */
static int read_vocab(reader *r, const ckpt_header *h, drnn_vocab *v, const char *label,
                      drnn_error *err)
{
    v->symbol = malloc((size_t)h->vocab * sizeof *v->symbol);
    if (!v->symbol)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    v->size = (int)h->vocab;
    for (uint32_t i = 0; i < h->vocab; i++) {
        v->symbol[i] = get_u32(r);
        if (i == 0 ? v->symbol[0] != DRNN_END
                   : !valid_symbol(v->symbol[i]) || v->symbol[i] <= v->symbol[i - 1])
            return CORRUPT("vocabulary is not a sorted list of code points");
    }
    return DRNN_OK;
}

static int read_path(reader *r, const ckpt_header *h, char **out, const char *label, drnn_error *err)
{
    char *path = malloc((size_t)h->path_len + 1);
    if (!path)
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    memcpy(path, r->p, h->path_len);
    path[h->path_len] = '\0';
    r->p += h->path_len;
    if (strlen(path) != h->path_len) {
        free(path);
        return CORRUPT("data path holds a NUL byte");
    }
    *out = path;
    return DRNN_OK;
}

/* The label table: each label valid, in strictly ascending byte order, with
 * at least one training name; their bytes exactly the header's count. */
static int read_labels(reader *r, const ckpt_header *h, drnn_label_table *t, const char *label,
                       drnn_error *err)
{
    if (h->labels == 0)
        return DRNN_OK;
    t->text = calloc(h->labels, sizeof *t->text);
    t->names = calloc(h->labels, sizeof *t->names);
    if (!t->text || !t->names) {
        drnn_label_table_free(t);
        return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
    }
    t->count = (int)h->labels;
    const unsigned char *end = r->p + h->label_bytes;
    for (uint32_t i = 0; i < h->labels; i++) {
        if (end - r->p < 12)
            return CORRUPT("label table shorter than its recorded size");
        uint64_t names = get_u64(r);
        uint32_t n = get_u32(r);
        if (names < 1 || names > INT64_MAX / 2 || n > (size_t)(end - r->p) ||
            !valid_label(r->p, n))
            return CORRUPT("a label that is empty, too long, not NFC UTF-8 or without names");
        if (!(t->text[i] = malloc((size_t)n + 1)))
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        memcpy(t->text[i], r->p, n);
        t->text[i][n] = '\0';
        t->names[i] = (int64_t)names;
        r->p += n;
        if (i > 0 && strcmp(t->text[i - 1], t->text[i]) >= 0)
            return CORRUPT("labels not in ascending byte order");
    }
    if (r->p != end)
        return CORRUPT("label table longer than its labels");
    return DRNN_OK;
}

/* Weights and the optimizer's moments, every value finite. */
static int read_tensors(reader *r, const ckpt_header *h, drnn_train_state *st, const char *label,
                        drnn_error *err)
{
    int rc = drnn_params_alloc(&st->weights, &h->hp.model, err);
    if (!rc && (h->flags & MOMENT1))
        rc = drnn_params_alloc(&st->moment1, &h->hp.model, err);
    if (!rc && (h->flags & MOMENT2))
        rc = drnn_params_alloc(&st->moment2, &h->hp.model, err);
    if (rc)
        return rc;
    int finite = get_reals(r, st->weights.data, h->params);
    if (h->flags & MOMENT1)
        finite &= get_reals(r, st->moment1.data, h->params);
    if (h->flags & MOMENT2)
        finite &= get_reals(r, st->moment2.data, h->params);
    if (h->hp.members > 1) {
        /* The size was checked against the file: no overflow here. */
        size_t n = (size_t)h->params * (size_t)h->hp.members;
        if (!(st->member_best = drnn_zalloc_aligned(n * sizeof *st->member_best)))
            return drnn_fail(err, DRNN_ERR_NOMEM, "out of memory");
        finite &= get_reals(r, st->member_best, n);
    }
    return finite ? DRNN_OK : CORRUPT("non-finite weights or optimizer state");
}

int drnn_checkpoint_decode(drnn_train_state *st, const unsigned char *buf, size_t len,
                           const char *label, int check_crc, drnn_error *err)
{
    memset(st, 0, sizeof *st);
    uint32_t version = 0;
    ckpt_header h;
    int rc = check_version(buf, len, label, &version, err);
    if (rc)
        return rc;
    read_header(buf, version, &h);
    if ((rc = check_sizes(&h, buf, len, label, err)))
        return rc;
    if (check_crc && get_u32_at(buf, h.expected - 4) != drnn_crc32(0, buf, h.expected - 4))
        return CORRUPT("checksum mismatch (the file was damaged)");
    if ((rc = check_fields(&h, label, err)))
        return rc;
    reader r = {buf + h.header_size};
    if ((rc = read_vocab(&r, &h, &st->vocab, label, err)) ||
        (rc = read_path(&r, &h, &st->data_path, label, err)) ||
        (rc = read_labels(&r, &h, &st->labels, label, err)) ||
        (rc = read_tensors(&r, &h, st, label, err))) {
        drnn_state_free(st);
        return rc;
    }
    st->hp = h.hp;
    st->rng = h.rng;
    st->epoch = (int64_t)h.epoch;
    st->epoch_pos = (int64_t)h.epoch_pos;
    st->step = (int64_t)h.step;
    st->epoch_loss = h.epoch_loss;
    st->epoch_chars = (int64_t)h.epoch_chars;
    st->best_val_loss = h.best_loss;
    st->best_epoch = (int64_t)h.best_epoch;
    st->lr_scale = h.lr_scale;
    st->lr_decay_epoch = (int64_t)h.lr_decay_epoch;
    st->member = (int)h.member;
    st->data_fingerprint = h.data_fp;
    st->val_fingerprint = h.val_fp;
    return drnn_ok(err);
}

#undef CORRUPT

uint64_t drnn_ckpt_recorded_size(const unsigned char *header)
{
    return get_u64_at(header, AT_FILE_SIZE);
}
