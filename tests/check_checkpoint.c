/* check_checkpoint.c: checkpoint format version 4, a labeled model's
 * (docs/checkpoint-format.md): a round trip of every field, the label table
 * and the weights; an unlabeled model still written as version 3; every
 * damage of the label table refused, each reaching its own check; every
 * truncation and every bit flip refused; the encoder's refusals.
 *
 * With DRNN_CKPT_V4_SEED=PATH in the environment, the small version-4 file
 * these tests damage is also written to PATH (the fuzz corpus's seed,
 * tests/fuzz/corpus/checkpoint/v4-labels-gru-1x3.ckpt). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "check_run.h"

/* Three labels in strcmp order, the first two of the same length (so that
 * swapping or copying their text keeps every size), the last not ASCII. */
static const char *const LABELS[3] = {"female given name", "female place name", "\xc3\xa9tang"};
static const int64_t COUNTS[3] = {5, 7, 2};
static const uint32_t SYMBOLS[] = {0, 'a', 'e', 'n', 'z', 0xe9};
#define V ((int)(sizeof SYMBOLS / sizeof *SYMBOLS))
#define PATH "names.tsv"
#define HEADER 352u
#define TABLE (HEADER + 4u * V + sizeof PATH - 1) /* offset of the label table */

/* A labeled GRU (1 layer of 3) with Adam, its weights, moments and counters
 * set to values a lost or moved byte would change. */
static void labeled_state(drnn_train_state *st, int labels)
{
    drnn_hparams hp;
    drnn_hparams_default(&hp);
    hp.model.cell = DRNN_CELL_GRU;
    hp.model.hidden = 3;
    hp.model.layers = 1;
    hp.model.labels = labels;
    hp.members = 1;
    hp.seed = 11;
    drnn_vocab vocab = {.size = V, .symbol = (uint32_t *)SYMBOLS};
    drnn_error err;
    ck_assert_msg(drnn_state_new(st, &hp, &vocab, 0x1234, 0, PATH, &err) == DRNN_OK, "%s",
                  err.message);
    for (size_t i = 0; i < st->weights.count; i++) {
        st->weights.data[i] = (drnn_real)(0.01 * (double)i - 0.3);
        st->moment1.data[i] = (drnn_real)(0.001 * (double)(i % 17));
        st->moment2.data[i] = (drnn_real)(0.0001 * (double)(i % 5));
    }
    st->epoch = 2;
    st->epoch_pos = 3;
    st->step = 9;
    st->epoch_loss = 1.25;
    st->epoch_chars = 40;
    st->best_val_loss = 2.5;
    st->best_epoch = 1;
    if (labels == 0)
        return;
    /* Three labels of their own; any other count is the caller's to fill. */
    st->labels.text = calloc((size_t)labels, sizeof *st->labels.text);
    st->labels.names = calloc((size_t)labels, sizeof *st->labels.names);
    ck_assert(st->labels.text && st->labels.names);
    st->labels.count = labels;
    for (int i = 0; i < labels && labels == 3; i++) {
        st->labels.text[i] = strdup(LABELS[i]);
        ck_assert_ptr_nonnull(st->labels.text[i]);
        st->labels.names[i] = COUNTS[i];
    }
}

static size_t table_bytes(void)
{
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        n += 12 + strlen(LABELS[i]);
    return n;
}

/* Offset of label i's entry (its u64 count of names) in the file. */
static size_t entry_at(int i)
{
    size_t at = TABLE;
    for (int k = 0; k < i; k++)
        at += 12 + strlen(LABELS[k]);
    return at;
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t x = 0;
    for (int i = bytes - 1; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static void put_le(unsigned char *p, uint64_t x, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static void fix_crc(unsigned char *buf, size_t len)
{
    put_le(buf + len - 4, drnn_crc32(0, buf, len - 4), 4);
}

static void encode_v4(drnn_train_state *st, unsigned char **buf, size_t *len)
{
    drnn_error err;
    labeled_state(st, 3);
    ck_assert_msg(drnn_checkpoint_encode(st, buf, len, &err) == DRNN_OK, "%s", err.message);
}

START_TEST(test_v4_round_trip)
{
    drnn_train_state st, back;
    unsigned char *buf, *again;
    size_t len, len2;
    drnn_error err;
    encode_v4(&st, &buf, &len);
    const size_t P = st.weights.count;
    /* The header's version, size and label fields, byte for byte. */
    ck_assert(memcmp(buf, "DRNNCKPT\4\0\0\0\x60\x01\0\0", 16) == 0); /* version 4, 352 */
    ck_assert_uint_eq(get_le(buf + 16, 8), len);
    ck_assert_uint_eq(len, HEADER + 4 * V + strlen(PATH) + table_bytes() + 4 * P * 3 + 4);
    ck_assert_uint_eq(get_le(buf + 336, 4), 3);
    ck_assert_uint_eq(get_le(buf + 340, 4), table_bytes());
    ck_assert_uint_eq(get_le(buf + 344, 8), 0);
    ck_assert_uint_eq(get_le(buf + 40, 8), P);
    /* The table after the data path: count, length, text; then the weights. */
    for (int i = 0; i < 3; i++) {
        size_t at = entry_at(i), n = strlen(LABELS[i]);
        ck_assert_uint_eq(get_le(buf + at, 8), (uint64_t)COUNTS[i]);
        ck_assert_uint_eq(get_le(buf + at + 8, 4), n);
        ck_assert(memcmp(buf + at + 12, LABELS[i], n) == 0);
    }
    drnn_real w0;
    memcpy(&w0, buf + TABLE + table_bytes(), 4);
    ck_assert(w0 == st.weights.data[0]);

    ck_assert_msg(drnn_checkpoint_decode(&back, buf, len, "mem", 1, &err) == DRNN_OK, "%s",
                  err.message);
    ck_assert_int_eq(back.hp.model.labels, 3);
    ck_assert_int_eq(back.hp.model.cell, DRNN_CELL_GRU);
    ck_assert_int_eq(back.hp.model.hidden, 3);
    ck_assert_int_eq(back.hp.model.vocab, V);
    ck_assert_int_eq(back.labels.count, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(back.labels.text[i], LABELS[i]);
        ck_assert_int_eq(back.labels.names[i], COUNTS[i]);
    }
    ck_assert_int_eq(back.vocab.size, V);
    ck_assert(memcmp(back.vocab.symbol, SYMBOLS, sizeof SYMBOLS) == 0);
    ck_assert_str_eq(back.data_path, PATH);
    ck_assert_uint_eq(back.data_fingerprint, 0x1234);
    ck_assert_int_eq(back.epoch, 2);
    ck_assert_int_eq(back.epoch_pos, 3);
    ck_assert_int_eq(back.step, 9);
    ck_assert(back.epoch_loss == 1.25 && back.best_val_loss == 2.5);
    ck_assert_int_eq(back.epoch_chars, 40);
    ck_assert_int_eq(back.best_epoch, 1);
    ck_assert_uint_eq(back.weights.count, P);
    ck_assert(memcmp(back.weights.data, st.weights.data, P * sizeof(drnn_real)) == 0);
    ck_assert(memcmp(back.moment1.data, st.moment1.data, P * sizeof(drnn_real)) == 0);
    ck_assert(memcmp(back.moment2.data, st.moment2.data, P * sizeof(drnn_real)) == 0);
    /* Every other field: the decoded state writes the same bytes. */
    ck_assert_int_eq(drnn_checkpoint_encode(&back, &again, &len2, NULL), DRNN_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert(memcmp(again, buf, len) == 0);

    const char *seed = getenv("DRNN_CKPT_V4_SEED");
    if (seed && *seed) {
        FILE *fp = fopen(seed, "wb");
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
        ck_assert_int_eq(fclose(fp), 0);
    }
    free(again);
    free(buf);
    drnn_state_free(&back);
    drnn_state_free(&st);
}
END_TEST

/* An unlabeled model is still version 3: 336 bytes of header, no table. */
START_TEST(test_unlabeled_is_v3)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    labeled_state(&st, 0);
    ck_assert_int_eq(drnn_checkpoint_encode(&st, &buf, &len, &err), DRNN_OK);
    ck_assert_uint_eq(buf[8], 3);
    ck_assert_uint_eq(get_le(buf + 12, 4), 336);
    ck_assert_uint_eq(len, 336 + 4 * V + strlen(PATH) + 4 * st.weights.count * 3 + 4);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, buf, len, "v3", 1, &err), DRNN_OK);
    ck_assert_int_eq(back.hp.model.labels, 0);
    ck_assert_int_eq(back.labels.count, 0);
    ck_assert_ptr_null(back.labels.text);
    drnn_state_free(&back);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

/* Decodes a damaged copy (its CRC-32 made right, so that decoding reaches
 * the field) and expects status want with `why` in the message. */
static void expect_refused(const unsigned char *buf, size_t len, int want, const char *why,
                           const char *what)
{
    unsigned char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, buf, len);
    fix_crc(copy, len);
    drnn_train_state back;
    drnn_error err;
    int rc = drnn_checkpoint_decode(&back, copy, len, "damaged", 1, &err);
    ck_assert_msg(rc == want, "%s: status %d (%s), expected %d", what, rc,
                  rc ? err.message : "accepted", want);
    ck_assert_msg(strstr(err.message, why), "%s: \"%s\" does not say \"%s\"", what, err.message,
                  why);
    free(copy);
}

/* buf with n bytes inserted (n > 0, zeros) or removed (n < 0) at `at`, and
 * the header's label-table bytes and file size moved by n: the sizes agree,
 * the table does not. */
static unsigned char *resized(const unsigned char *buf, size_t len, size_t at, long n,
                              size_t *out_len)
{
    size_t m = (size_t)((long)len + n);
    unsigned char *c = calloc(m, 1);
    ck_assert_ptr_nonnull(c);
    memcpy(c, buf, at);
    if (n > 0)
        memcpy(c + at + n, buf + at, len - at);
    else
        memcpy(c + at, buf + at - n, len - at + (size_t)n);
    put_le(c + 340, get_le(buf + 340, 4) + (uint64_t)n, 4);
    put_le(c + 16, m, 8);
    *out_len = m;
    return c;
}

/* Label 2's 6 bytes of text replaced by t. */
static void expect_label2(const unsigned char *buf, size_t len, const char *t, int ok)
{
    unsigned char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, buf, len);
    ck_assert_uint_eq(strlen(LABELS[2]), 6);
    memcpy(copy + entry_at(2) + 12, t, 6);
    if (ok) {
        drnn_train_state back;
        drnn_error err;
        fix_crc(copy, len);
        ck_assert_msg(drnn_checkpoint_decode(&back, copy, len, "ok", 1, &err) == DRNN_OK,
                      "label \"%s\": %s", t, err.message);
        ck_assert(memcmp(back.labels.text[2], t, 6) == 0);
        drnn_state_free(&back);
    } else {
        expect_refused(copy, len, DRNN_ERR_CKPT_CORRUPT, "not NFC UTF-8", t);
    }
    free(copy);
}

START_TEST(test_v4_damage_refused)
{
    drnn_train_state st;
    unsigned char *buf, *c = NULL;
    size_t len, n;
    encode_v4(&st, &buf, &len);
    unsigned char *copy = malloc(len);
    const int CORRUPT = DRNN_ERR_CKPT_CORRUPT;
#define DAMAGE(what, want, why, stmt)                                                              \
    do {                                                                                           \
        memcpy(copy, buf, len);                                                                    \
        stmt;                                                                                      \
        expect_refused(copy, len, want, why, what);                                                \
    } while (0)
    /* The header's label fields (checked before the model's sizes). */
    DAMAGE("0 labels", CORRUPT, "label table sizes", put_le(copy + 336, 0, 4));
    DAMAGE("257 labels", CORRUPT, "label table sizes", put_le(copy + 336, 257, 4));
    DAMAGE("2^32-1 labels", CORRUPT, "label table sizes", put_le(copy + 336, UINT32_MAX, 4));
    DAMAGE("table under 13 bytes a label", CORRUPT, "label table sizes",
           put_le(copy + 340, 3 * 13 - 1, 4));
    DAMAGE("table over 267 bytes a label", CORRUPT, "label table sizes",
           put_le(copy + 340, 3 * 267 + 1, 4));
    DAMAGE("reserved byte 344", CORRUPT, "label table sizes", copy[344] = 1);
    DAMAGE("reserved byte 351", CORRUPT, "label table sizes", copy[351] = 0x80);
    /* Table sizes in range that disagree with the file's size. */
    DAMAGE("table a byte larger", CORRUPT, "recorded size",
           put_le(copy + 340, table_bytes() + 1, 4));
    /* (Refused as the table's shortness, or as the parameter count when W_l
     * grows with the labels: any message.) */
    DAMAGE("one label more", CORRUPT, "", put_le(copy + 336, 4, 4));
    /* Each label's entry. */
    DAMAGE("a label of 0 bytes", CORRUPT, "empty", put_le(copy + entry_at(0) + 8, 0, 4));
    DAMAGE("a label past the table", CORRUPT, "empty", put_le(copy + entry_at(2) + 8, 7, 4));
    DAMAGE("a label of 2^32-1 bytes", CORRUPT, "empty",
           put_le(copy + entry_at(1) + 8, UINT32_MAX, 4));
    DAMAGE("a label with 0 names", CORRUPT, "without names", put_le(copy + entry_at(1), 0, 8));
    DAMAGE("a label with 2^62 names", CORRUPT, "without names",
           put_le(copy + entry_at(1), 1ull << 62, 8));
    DAMAGE("a label with -1 names", CORRUPT, "without names",
           put_le(copy + entry_at(0), UINT64_MAX, 8));
    DAMAGE("labels out of order", CORRUPT, "ascending", {
        memcpy(copy + entry_at(0) + 12, LABELS[1], 17);
        memcpy(copy + entry_at(1) + 12, LABELS[0], 17);
    });
    DAMAGE("two equal labels", CORRUPT, "ascending",
           memcpy(copy + entry_at(1) + 12, LABELS[0], 17));
    /* The text of a label: UTF-8, NFC, no control character; a valid
     * replacement of the same length is accepted (so each refusal is the
     * text's). */
    expect_label2(buf, len, "zenang", 1);
    expect_label2(buf, len, "\xc3\x85" "abcd", 1);   /* U+00C5, NFC */
    expect_label2(buf, len, "\xe2\x84\xab" "abc", 0); /* U+212B, whose NFC is U+00C5 */
    expect_label2(buf, len, "ze\xcc\x81ng", 0);        /* e + combining acute, not NFC */
    expect_label2(buf, len, "\xc3\xa9t\xff" "ng", 0);  /* not UTF-8 */
    expect_label2(buf, len, "\xc3\xa9t\xc3" "ng", 0);  /* a cut sequence */
    expect_label2(buf, len, "\xc0\xaf" "tang", 0);     /* overlong '/' */
    expect_label2(buf, len, "\xed\xa0\x80" "ang", 0);  /* a surrogate */
    expect_label2(buf, len, "\xc3\xa9t\x01ng", 0);     /* U+0001 */
    expect_label2(buf, len, "\xc3\xa9t\tng", 0);       /* tab */
    expect_label2(buf, len, "\xc3\xa9t\x7fng", 0);     /* DEL */
    expect_label2(buf, len, "\xc2\x85tang", 0);        /* U+0085, a C1 control */
    expect_label2(buf, len, "\xc3\xa9t\0ng", 0);       /* NUL */
    /* The table longer or shorter than its labels, with every size agreeing. */
    c = resized(buf, len, TABLE + table_bytes(), 1, &n);
    expect_refused(c, n, CORRUPT, "longer than its labels", "a byte after the table");
    free(c);
    c = resized(buf, len, entry_at(2), -(long)(12 + strlen(LABELS[2])), &n);
    expect_refused(c, n, CORRUPT, "shorter than its recorded size", "the last entry missing");
    free(c);
    c = resized(buf, len, entry_at(2) + 12, -1, &n);
    expect_refused(c, n, CORRUPT, "empty", "the last label's last byte missing");
    free(c);
#undef DAMAGE
    free(copy);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

/* Every cut of a version-4 file is truncated, every bit flip refused. */
START_TEST(test_v4_cut_and_flip)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    encode_v4(&st, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        int rc = drnn_checkpoint_decode(&back, buf, cut, "cut", 1, &err);
        ck_assert_msg(rc == DRNN_ERR_CKPT_TRUNCATED, "cut at %zu: %s", cut, err.message);
    }
    unsigned char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        ck_assert_msg(drnn_checkpoint_decode(&back, copy, len, "flip", 1, &err) != DRNN_OK,
                      "flipping bit %zu went unnoticed", bit);
    }
    /* Without the CRC check too, no flip in the table crashes or leaks. */
    for (size_t bit = 8 * 336; bit < 8 * (TABLE + table_bytes()); bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        if (drnn_checkpoint_decode(&back, copy, len, "flip", 0, &err) == DRNN_OK)
            drnn_state_free(&back);
    }
    free(copy);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

static int encode_status(const drnn_train_state *st, drnn_error *err)
{
    unsigned char *buf = NULL;
    size_t len;
    int rc = drnn_checkpoint_encode(st, &buf, &len, err);
    free(buf);
    return rc;
}

/* The encoder refuses a table that does not match the model, or that the
 * decoder would refuse. */
START_TEST(test_v4_encoder_refuses)
{
    drnn_train_state st;
    drnn_error err;
    labeled_state(&st, 3);
    st.hp.model.labels = 2;
    ck_assert_int_eq(encode_status(&st, &err), DRNN_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "label"));
    st.hp.model.labels = 0;
    ck_assert_int_eq(encode_status(&st, &err), DRNN_ERR_INVALID);
    st.hp.model.labels = 3;
    ck_assert_int_eq(encode_status(&st, &err), DRNN_OK);

    struct {
        const char *text;
        int64_t names;
    } bad[] = {
        {"", 1},                  /* empty */
        {"female given name", 1}, /* equal to label 0 */
        {"a", 1},                 /* before label 0 */
        {"ze\xcc\x81", 1},        /* not NFC */
        {"z\x01", 1},             /* a control character */
        {"z\xff", 1},             /* not UTF-8 */
        {"zz", 0},                /* no names */
        {"zz", -3},
        {"zz", INT64_MAX},        /* more names than the decoder takes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *keep = st.labels.text[1];
        int64_t names = st.labels.names[1];
        st.labels.text[1] = (char *)bad[i].text;
        st.labels.names[1] = bad[i].names;
        ck_assert_msg(encode_status(&st, &err) == DRNN_ERR_INVALID, "case %zu written", i);
        st.labels.text[1] = keep;
        st.labels.names[1] = names;
    }
    char long_label[DRNN_MAX_LABEL_BYTES + 2];
    memset(long_label, 'z', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    char *keep = st.labels.text[2];
    st.labels.text[2] = long_label;
    ck_assert_int_eq(encode_status(&st, &err), DRNN_ERR_INVALID);
    long_label[DRNN_MAX_LABEL_BYTES] = '\0'; /* 255 bytes: the longest */
    ck_assert_msg(encode_status(&st, &err) == DRNN_OK, "%s", err.message);
    st.labels.text[2] = keep;
    drnn_state_free(&st);
}
END_TEST

/* The longest table: 256 labels of 255 bytes, written and read back. */
START_TEST(test_v4_largest_table)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    labeled_state(&st, DRNN_MAX_LABELS);
    for (int i = 0; i < DRNN_MAX_LABELS; i++) {
        ck_assert_ptr_nonnull(st.labels.text[i] = malloc(DRNN_MAX_LABEL_BYTES + 1));
        memset(st.labels.text[i], 'a', DRNN_MAX_LABEL_BYTES);
        st.labels.text[i][DRNN_MAX_LABEL_BYTES - 2] = (char)('a' + i / 16);
        st.labels.text[i][DRNN_MAX_LABEL_BYTES - 1] = (char)('a' + i % 16);
        st.labels.text[i][DRNN_MAX_LABEL_BYTES] = '\0';
        st.labels.names[i] = i + 1;
    }
    ck_assert_msg(drnn_checkpoint_encode(&st, &buf, &len, &err) == DRNN_OK, "%s", err.message);
    ck_assert_uint_eq(get_le(buf + 340, 4), 267u * 256u);
    ck_assert_msg(drnn_checkpoint_decode(&back, buf, len, "big", 1, &err) == DRNN_OK, "%s",
                  err.message);
    ck_assert_int_eq(back.labels.count, DRNN_MAX_LABELS);
    ck_assert_str_eq(back.labels.text[255], st.labels.text[255]);
    ck_assert_int_eq(back.labels.names[255], 256);
    drnn_state_free(&back);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *suite = suite_create("checkpoint");
    TCase *tc = tcase_create("version 4");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_v4_round_trip);
    tcase_add_test(tc, test_unlabeled_is_v3);
    tcase_add_test(tc, test_v4_damage_refused);
    tcase_add_test(tc, test_v4_cut_and_flip);
    tcase_add_test(tc, test_v4_encoder_refuses);
    tcase_add_test(tc, test_v4_largest_table);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(checkpoint_suite());
}
