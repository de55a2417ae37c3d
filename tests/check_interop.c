/* check_interop.c: safetensors export and import (docs/interop.md). A round
 * trip gives the same model, vocabulary, labels and settings, bit for bit,
 * and the same file again, for every cell, 1 to 3 layers, mixtures and
 * labeled models; a file in another symbol and label order, or with torch's
 * two biases, reads as the same model; every truncation and each kind of
 * hostile or misshapen file is refused with its own message.
 *
 * With DRNN_INTEROP_SEED=PATH in the environment, a small export is also
 * written to PATH (the fuzz corpus's seed). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "dinornn/dinornn.h"
#include "safetensors.h"

static const uint32_t SYMBOLS[] = {0, 'a', 'e', 'n', 'z', 0xe9, 0x1F995};
#define V ((int)(sizeof SYMBOLS / sizeof *SYMBOLS))
static const char *const LABELS[3] = {"female", "male", "\xc3\xa9tang"};
static const int64_t COUNTS[3] = {5, 7, 2};

/* A state of the given shape, every weight (and a mixture's members' best
 * weights) a distinct value, one of them -0.0. */
static void make_state(drnn_train_state *st, drnn_cell_kind cell, int layers, int labels,
                       int members)
{
    drnn_hparams hp;
    drnn_hparams_default(&hp);
    hp.model = (drnn_config){.cell = cell, .hidden = 3, .layers = layers, .labels = labels};
    hp.members = members;
    hp.seed = 11;
    hp.lr = 0.0012345678901234567;
    hp.keep_case = 1;
    drnn_vocab vocab = {.size = V, .symbol = (uint32_t *)SYMBOLS};
    drnn_error err;
    ck_assert_msg(drnn_state_new(st, &hp, &vocab, 0x1234abcd5678ef01u, 0, "names \"x\".tsv", &err)
                  == DRNN_OK, "%s", err.message);
    size_t P = st->weights.count;
    for (size_t i = 0; i < P; i++)
        st->weights.data[i] = (drnn_real)(sin((double)i * 1.7) * 0.5);
    st->weights.data[P / 2] = -0.0f;
    for (int k = 0; members > 1 && k < members; k++)
        for (size_t i = 0; i < P; i++)
            st->member_best[(size_t)k * P + i] = (drnn_real)(cos((double)(i + 7 * (size_t)k)) * 0.3);
    if (members > 1) {
        st->member = members - 1;
        st->best_epoch = 0;
    }
    if (labels == 0)
        return;
    st->labels.count = labels;
    st->labels.text = calloc((size_t)labels, sizeof *st->labels.text);
    st->labels.names = calloc((size_t)labels, sizeof *st->labels.names);
    ck_assert(st->labels.text && st->labels.names);
    for (int i = 0; i < labels; i++) {
        st->labels.text[i] = strdup(LABELS[i]);
        st->labels.names[i] = COUNTS[i];
    }
}

static void encode(const drnn_train_state *st, unsigned char **buf, size_t *len)
{
    drnn_error err;
    ck_assert_msg(drnn_safetensors_encode(st, buf, len, &err) == DRNN_OK, "%s", err.message);
}

/* The models of a and b, bit for bit; their vocabularies, labels, settings. */
static void assert_same_model(const drnn_train_state *a, const drnn_train_state *b)
{
    drnn_params pa[DRNN_MAX_MEMBERS], pb[DRNN_MAX_MEMBERS];
    drnn_model ma = drnn_state_model(a, pa), mb = drnn_state_model(b, pb);
    ck_assert_int_eq(ma.count, mb.count);
    ck_assert(memcmp(&ma.cfg, &mb.cfg, sizeof ma.cfg) == 0);
    for (int k = 0; k < ma.count; k++)
        ck_assert_msg(memcmp(ma.nets[k].data, mb.nets[k].data,
                             ma.nets[k].count * sizeof(drnn_real)) == 0, "member %d differs", k);
    ck_assert_int_eq(a->vocab.size, b->vocab.size);
    ck_assert(memcmp(a->vocab.symbol, b->vocab.symbol, (size_t)a->vocab.size * 4) == 0);
    ck_assert_int_eq(a->labels.count, b->labels.count);
    for (int i = 0; i < a->labels.count; i++) {
        ck_assert_str_eq(a->labels.text[i], b->labels.text[i]);
        ck_assert_int_eq(a->labels.names[i], b->labels.names[i]);
    }
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    for (size_t i = 0; i < n; i++)
        if (table[i].option)
            ck_assert_msg(drnn_hparam_equal(&a->hp, &b->hp, &table[i]), "--%s differs",
                          table[i].option);
    ck_assert_str_eq(a->data_path, b->data_path);
    ck_assert(a->data_fingerprint == b->data_fingerprint);
    ck_assert(a->val_fingerprint == b->val_fingerprint);
}

START_TEST(round_trip)
{
    static const drnn_cell_kind cells[] = {DRNN_CELL_RNN, DRNN_CELL_LSTM, DRNN_CELL_GRU};
    for (int c = 0; c < 3; c++)
        for (int layers = 1; layers <= 3; layers++)
            for (int shape = 0; shape < 4; shape++) {
                int labels = shape & 1 ? 3 : 0, members = shape & 2 ? 3 : 1;
                drnn_train_state st, back;
                make_state(&st, cells[c], layers, labels, members);
                unsigned char *buf, *again;
                size_t len, len2;
                encode(&st, &buf, &len);
                drnn_error err;
                ck_assert_msg(drnn_safetensors_decode(&back, buf, len, "x", &err) == DRNN_OK,
                              "%s", err.message);
                assert_same_model(&st, &back);
                encode(&back, &again, &len2);
                ck_assert(len == len2 && memcmp(buf, again, len) == 0);
                /* The checkpoint of the import: the same model once more. */
                unsigned char *ck;
                size_t cklen;
                drnn_train_state fromck;
                ck_assert(drnn_checkpoint_encode(&back, &ck, &cklen, &err) == DRNN_OK);
                ck_assert(drnn_checkpoint_decode(&fromck, ck, cklen, "ck", 1, &err) == DRNN_OK);
                assert_same_model(&st, &fromck);
                free(ck);
                free(buf);
                free(again);
                drnn_state_free(&st);
                drnn_state_free(&back);
                drnn_state_free(&fromck);
            }
}
END_TEST

/* The header of buf as a string, and a file of a new header over buf's data. */
static char *header_of(const unsigned char *buf, size_t *data_at)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    char *h = malloc(n + 1);
    ck_assert(h);
    memcpy(h, buf + 8, n);
    h[n] = '\0';
    *data_at = 8 + n;
    return h;
}

static unsigned char *with_header(const char *json, const unsigned char *data, size_t data_len,
                                  size_t *len)
{
    size_t n = strlen(json);
    unsigned char *out = malloc(8 + n + data_len + 1);
    ck_assert(out);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(out + 8, json, n);
    memcpy(out + 8 + n, data, data_len);
    *len = 8 + n + data_len;
    return out;
}

/* buf with the first occurrence of from in its header replaced by to. */
static unsigned char *edited(const unsigned char *buf, size_t len, const char *from,
                             const char *to, size_t *out_len)
{
    size_t at;
    char *h = header_of(buf, &at);
    char *p = strstr(h, from);
    ck_assert_msg(p, "'%s' not in the header", from);
    size_t nh = strlen(h) - strlen(from) + strlen(to);
    char *j = malloc(nh + 1);
    ck_assert(j);
    size_t pre = (size_t)(p - h);
    memcpy(j, h, pre);
    strcpy(j + pre, to);
    strcat(j, p + strlen(from));
    unsigned char *out = with_header(j, buf + at, len - at, out_len);
    free(h);
    free(j);
    return out;
}

/* Decoding must fail with code, its message holding want. */
static void refused(const unsigned char *buf, size_t len, int code, const char *want)
{
    drnn_train_state st;
    drnn_error err;
    int rc = drnn_safetensors_decode(&st, buf, len, "bad.safetensors", &err);
    ck_assert_msg(rc == code, "want %s (%s), got %s: %s", drnn_status_name(code), want,
                  drnn_status_name(rc), rc ? err.message : "accepted");
    ck_assert_msg(strstr(err.message, want) && strstr(err.message, "bad.safetensors"),
                  "message '%s' lacks '%s'", err.message, want);
}

static void refused_edit(const unsigned char *buf, size_t len, const char *from, const char *to,
                         int code, const char *want)
{
    size_t n;
    unsigned char *b = edited(buf, len, from, to, &n);
    refused(b, n, code, want);
    free(b);
}

static void small_export(unsigned char **buf, size_t *len, int labels, int members)
{
    drnn_train_state st;
    make_state(&st, DRNN_CELL_GRU, 1, labels, members);
    encode(&st, buf, len);
    drnn_state_free(&st);
}

START_TEST(every_truncation_refused)
{
    unsigned char *buf;
    size_t len;
    small_export(&buf, &len, 3, 2);
    const char *seed = getenv("DRNN_INTEROP_SEED");
    if (seed) {
        FILE *fp = fopen(seed, "wb");
        ck_assert(fp && fwrite(buf, 1, len, fp) == len && fclose(fp) == 0);
    }
    for (size_t n = 0; n < len; n++) {
        drnn_train_state st;
        drnn_error err;
        int rc = drnn_safetensors_decode(&st, buf, n, "t", &err);
        ck_assert_msg(rc == DRNN_ERR_SAFETENSORS, "%zu of %zu bytes: %s", n, len,
                      drnn_status_name(rc));
    }
    free(buf);
}
END_TEST

START_TEST(container_refusals)
{
    unsigned char *buf;
    size_t len;
    small_export(&buf, &len, 0, 1);
    int S = DRNN_ERR_SAFETENSORS;
    /* The header's length: past the file, over the limit, the largest. */
    unsigned char *b = malloc(len);
    ck_assert(b);
    uint64_t lies[] = {len - 7, (uint64_t)DRNN_SAFETENSORS_MAX_HEADER + 1, UINT64_MAX, 0, 1};
    for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
        memcpy(b, buf, len);
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)(lies[i] >> (8 * k));
        refused(b, len, S, "header length");
    }
    free(b);
    /* Offsets: past the data, reversed, overlapping, leaving a gap. */
    refused_edit(buf, len, "\"data_offsets\":[0,", "\"data_offsets\":[4,", S, "shape need");
    {
        static const unsigned char twelve[12];
        size_t n;
        unsigned char *g = with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                                       twelve, 12, &n);
        refused(g, n, S, "a gap of bytes");
        free(g);
        g = with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        twelve, 8, &n);
        refused(g, n, S, "they overlap");
        free(g);
    }
    refused_edit(buf, len, "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[",
                 "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[1", S,
                 "begin <= end");
    /* a tensor ending past the data */
    {
        size_t at;
        char *h = header_of(buf, &at);
        unsigned char *cut;
        size_t n;
        cut = with_header(h, buf + at, len - at - 4, &n);
        refused(cut, n, S, "past its end");
        free(cut);
        /* bytes after the last tensor */
        unsigned char *more = malloc(len + 4);
        ck_assert(more);
        memcpy(more, buf, len);
        memset(more + len, 0, 4);
        refused(more, len + 4, S, "belong to none");
        free(more);
        free(h);
    }
    /* The JSON. */
    refused_edit(buf, len, "\"dtype\":\"F32\"", "\"dtype\":\"F32\",\"dtype\":\"F32\"", S, "twice");
    refused_edit(buf, len, "\"dtype\":\"F32\"", "\"dtype\":\"Q8\"", S, "unknown dtype");
    refused_edit(buf, len, "\"dtype\":\"F32\"", "\"kind\":\"F32\"", S, "unknown key");
    refused_edit(buf, len, "\"format\":", "\"format\\u0000\":", S, "NUL");
    refused_edit(buf, len, "\"format\":", "\"format\\ud800\":", S, "surrogate");
    refused_edit(buf, len, "\"format\":", "\"form\xc3\x28t\":", S, "UTF-8");
    refused_edit(buf, len, "\"format\":", "\"form\nat\":", S, "control character");
    refused_edit(buf, len, "\"shape\":[", "\"shape\":[01,", S, "leading zero");
    refused_edit(buf, len, "\"shape\":[", "\"shape\":[1.5,", S, "not whole");
    refused_edit(buf, len, "\"shape\":[", "\"shape\":[1,1,1,1,1,1,1,1,", S, "too long");
    refused_edit(buf, len, "\"shape\":[", "\"shape\":[99999999999999999999,", S, "too large");
    refused_edit(buf, len, "\"shape\":[", "\"shape\":[4294967296,4294967296,", S, "too large");
    refused_edit(buf, len, "{\"__metadata__\"", "[\"__metadata__\"", S, "object expected");
    refused_edit(buf, len, "\"format\":\"dinornn\"", "\"format\":7", S, "byte 34: a string expected");
    refused_edit(buf, len, "\"format\":\"dinornn\"", "\"format\":\"dinornn\",\"format\":\"x\"", S,
                 "metadata key 'format' given twice");
    /* Another tensor's bytes overlapping; a tensor given twice (of bytes of its own). */
    refused_edit(buf, len, "\"out.bias\":", "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[1],"
                 "\"data_offsets\":[0,4]},\"out.biaz\":", S, "overlap");
    refused_edit(buf, len, "\"out.bias\":", "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[0],"
                 "\"data_offsets\":[0,0]},\"out.bias\":", S, "tensor 'out.bias' given twice");
    /* Metadata past the keys dinornn reads: refused at once, not in quadratic time. */
    {
        size_t at;
        char *h = header_of(buf, &at);
        const char *tensors = strstr(h, "},") + 2; /* after the metadata object */
        char *j = malloc(strlen(h) + 5000 * 16);
        ck_assert(j);
        size_t n = (size_t)sprintf(j, "{\"__metadata__\":{");
        for (int k = 0; k < 5000; k++)
            n += (size_t)sprintf(j + n, "%s\"k%d\":\"v\"", k ? "," : "", k);
        sprintf(j + n, "},%s", tensors);
        size_t blen;
        unsigned char *bb = with_header(j, buf + at, len - at, &blen);
        refused(bb, blen, S, "more metadata than dinornn reads");
        free(bb);
        free(j);
        free(h);
    }
    free(buf);
}
END_TEST

START_TEST(model_refusals)
{
    unsigned char *buf;
    size_t len;
    small_export(&buf, &len, 3, 1);
    int I = DRNN_ERR_INTEROP;
    /* dtype of the same size, another shape, a tensor renamed, metadata missing or wrong */
    refused_edit(buf, len, "\"out.bias\":{\"dtype\":\"F32\"", "\"out.bias\":{\"dtype\":\"I32\"", I,
                 "out.bias' is I32; dinornn reads F32");
    refused_edit(buf, len, "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[7]",
                 "\"out.bias\":{\"dtype\":\"F32\",\"shape\":[1,7]", I, "has shape [1, 7]");
    refused_edit(buf, len, "\"out.bias\"", "\"head.bias\"", I, "'out.bias' is missing");
    refused_edit(buf, len, "\"cell\":\"gru\"", "\"cell\":\"transformer\"", I, "not rnn, lstm or gru");
    refused_edit(buf, len, "\"cell\":\"gru\"", "\"cell\":\"lstm\"", I, "weight_ih_l0' has shape");
    refused_edit(buf, len, "\"cell\":\"gru\",", "", I, "no 'cell'");
    refused_edit(buf, len, "\"vocab\":\"7\"", "\"vocab\":\"70000\"", I, "'vocab'");
    refused_edit(buf, len, "\"hidden\":\"3\"", "\"hidden\":\"3x\"", I, "not a whole number");
    refused_edit(buf, len, "\"format\":\"dinornn\"", "\"format\":\"other\"", I, "'format'");
    refused_edit(buf, len, "\"format_version\":\"1\"", "\"format_version\":\"2\"", I,
                 "format_version");
    refused_edit(buf, len, "\"symbols\":\"", "\"symbols\":\"q", I, "more than");
    refused_edit(buf, len, "\"symbols\":\"a", "\"symbols\":\"", I, "fewer than");
    refused_edit(buf, len, "\"symbols\":\"ae", "\"symbols\":\"aa", I, "twice");
    refused_edit(buf, len, "\"label_names\":\"[", "\"label_names\":\"[\\\"x\\\",", I,
                 "JSON array of 3 strings");
    refused_edit(buf, len, "\"label_names\":\"[\\\"female\\\"", "\"label_names\":\"[\\\"male\\\"",
                 I, "twice");
    refused_edit(buf, len, "\"label_names\":\"[\\\"female\\\"",
                 "\"label_names\":\"[\\\"e\xcc\x81\\\"", I, "label 0");
    refused_edit(buf, len, "\"label_counts\":\"[5", "\"label_counts\":\"[0", I, "label 0");
    refused_edit(buf, len, "\"label_counts\":\"[5", "\"label_counts\":\"[-5", I, "label_counts");
    refused_edit(buf, len, "\"hp.lr\":\"", "\"hp.lr\":\"x", I, "--lr");
    refused_edit(buf, len, "\"hp.lr\":\"", "\"hp.lr\":\"0x1p-3", I, "--lr"); /* no hex */
    refused_edit(buf, len, "\"hidden\":\"3\"", "\"hidden\":\"\\t3\"", I, "'hidden'");
    refused_edit(buf, len, "\"hp.seed\":\"", "\"hp.seed\":\"99999999999999999999", I, "--seed");
    refused_edit(buf, len, "\"hp.batch\":\"32\"", "\"hp.batch\":\"0\"", I, "--batch: 0 is out of range");
    refused_edit(buf, len, "\"data_fingerprint\":\"", "\"data_fingerprint\":\"zz", I,
                 "not 16 hexadecimal digits");
    refused_edit(buf, len, "\"symbols\":\"a", "\"symbols\":\"\\n", I, "control character");
    refused_edit(buf, len, "\"label_counts\":\"[5", "\"label_counts\":\"[4611686018427387904", I,
                 "label 0");
    refused_edit(buf, len, "\"hp.optimizer\":\"adam\"", "\"hp.optimizer\":\"lbfgs\"", I,
                 "--optimizer");
    refused_edit(buf, len, "\"end_index\":\"0\"", "\"end_index\":\"7\"", I, "end_index");
    /* a tensor more than the model has */
    {
        size_t at, n;
        char *h = header_of(buf, &at);
        char *j = malloc(strlen(h) + 128);
        ck_assert(j);
        size_t data_len = len - at;
        strcpy(j, h);
        char *end = strrchr(j, '}');
        sprintf(end, ",\"extra\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[%zu,%zu]}}",
                data_len, data_len + 4);
        unsigned char *data = calloc(data_len + 4, 1);
        ck_assert(data);
        memcpy(data, buf + at, data_len);
        unsigned char *b = with_header(j, data, data_len + 4, &n);
        refused(b, n, I, "'extra' is not part");
        free(b);
        free(data);
        free(j);
        free(h);
    }
    /* biases each finite whose sum is not */
    {
        drnn_st_file f;
        drnn_error err;
        ck_assert(drnn_st_parse(&f, buf, len, "b", &err) == DRNN_OK);
        unsigned char *b = malloc(len);
        ck_assert(b);
        memcpy(b, buf, len);
        const char *names[2] = {"rnn.bias_ih_l0", "rnn.bias_hh_l0"};
        const unsigned char big[4] = {0xd0, 0xb7, 0x61, 0x7f}; /* 3.0e38f */
        for (int i = 0; i < 2; i++)
            memcpy(b + (f.data - buf) + drnn_st_find(&f, names[i])->begin, big, 4);
        refused(b, len, I, "sum with bias_ih overflows");
        drnn_st_free(&f);
        free(b);
    }
    /* a NaN in the weights */
    {
        unsigned char *b = malloc(len);
        ck_assert(b);
        memcpy(b, buf, len);
        b[len - 1] = 0x7f;
        b[len - 2] = 0xc0;
        refused(b, len, I, "non-finite");
        free(b);
    }
    free(buf);
}
END_TEST

/* A file in another symbol and label order (END last, symbols reversed,
 * labels reversed), with escapes in its strings, reads as the same model;
 * torch's bias_hh is added to bias_ih (the GRU's n block kept apart). */
START_TEST(foreign_orders)
{
    drnn_train_state st, back;
    make_state(&st, DRNN_CELL_GRU, 1, 3, 1);
    drnn_params *p = &st.weights;
    int GH = 9, N = 3;
    /* file index i holds dinornn token tok[i]; file label j holds dinornn label lab[j] */
    int tok[V], lab[3] = {2, 1, 0};
    for (int i = 0; i < V - 1; i++)
        tok[i] = V - 1 - i;
    tok[V - 1] = 0;
    drnn_st_writer w;
    drnn_st_writer_init(&w);
    char symbols[64] = "";
    size_t at = 0;
    for (int i = 0; i < V - 1; i++) { /* U+1F995 as escapes of its surrogates */
        uint32_t c = SYMBOLS[tok[i]];
        at += (size_t)(c == 0x1F995 ? snprintf(symbols + at, sizeof symbols - at, "\xf0\x9f\xa6\x95")
                                    : c == 0xe9 ? snprintf(symbols + at, sizeof symbols - at, "\xc3\xa9")
                                                : snprintf(symbols + at, sizeof symbols - at, "%c", (char)c));
    }
    const char *meta[][2] = {{"cell", "gru"}, {"vocab", "7"}, {"hidden", "3"}, {"layers", "1"},
                             {"labels", "3"}, {"symbols", symbols}, {"end_index", "6"},
                             {"label_names", "[\"\\u00e9tang\", \"male\", \"female\"]"},
                             {"label_counts", "[2, 7, 5]"}, {"keep_case", "1"}};
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++)
        drnn_st_add_meta(&w, meta[i][0], meta[i][1]);
    uint64_t s_ih[2] = {9, V + 3}, s_hh[2] = {9, 3}, s_b[1] = {9}, s_ow[2] = {V, 3}, s_ob[1] = {V};
    drnn_st_add_f32(&w, "rnn.weight_ih_l0", 2, s_ih);
    drnn_st_add_f32(&w, "rnn.weight_hh_l0", 2, s_hh);
    drnn_st_add_f32(&w, "rnn.bias_ih_l0", 1, s_b);
    drnn_st_add_f32(&w, "rnn.bias_hh_l0", 1, s_b);
    drnn_st_add_f32(&w, "out.weight", 2, s_ow);
    drnn_st_add_f32(&w, "out.bias", 1, s_ob);
    unsigned char *buf;
    size_t head;
    drnn_error err;
    ck_assert(drnn_st_finish(&w, &buf, &head, &err) == DRNN_OK);
    float *d = malloc((size_t)w.data_len);
    ck_assert(d);
    float *ih = d, *hh = ih + 9 * (V + 3), *bih = hh + 27, *bhh = bih + 9, *ow = bhh + 9,
          *ob = ow + 3 * V;
    for (int r = 0; r < GH; r++) {
        for (int i = 0; i < V; i++)
            ih[r * (V + N) + i] = p->layer[0].W_x[tok[i] * GH + r];
        for (int j = 0; j < N; j++)
            ih[r * (V + N) + V + j] = p->W_l[lab[j] * GH + r];
    }
    memcpy(hh, p->layer[0].W_h, 27 * sizeof(float));
    /* torch's split of the biases: half and half (exact in binary), the n
     * block's hidden bias its own */
    for (int i = 0; i < 9; i++) {
        bih[i] = p->layer[0].b[i] * 0.5f;
        bhh[i] = i < 6 ? p->layer[0].b[i] * 0.5f : p->layer[0].b_h[i - 6];
        if (i >= 6)
            bih[i] = p->layer[0].b[i];
    }
    for (int i = 0; i < V; i++) {
        memcpy(ow + 3 * i, p->W_y + 3 * tok[i], 3 * sizeof(float));
        ob[i] = p->b_y[tok[i]];
    }
    memcpy(buf + head, d, (size_t)w.data_len); /* (a little-endian host) */
    ck_assert_msg(drnn_safetensors_decode(&back, buf, head + (size_t)w.data_len, "f", &err) ==
                  DRNN_OK, "%s", err.message);
    /* -0.0 * 0.5 + -0.0 * 0.5 is -0.0; every other half sums back exactly. */
    ck_assert(memcmp(back.weights.data, st.weights.data, st.weights.count * sizeof(float)) == 0);
    ck_assert(memcmp(back.vocab.symbol, SYMBOLS, sizeof SYMBOLS) == 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(back.labels.text[i], LABELS[i]);
        ck_assert_int_eq(back.labels.names[i], COUNTS[i]);
    }
    ck_assert_int_eq(back.hp.keep_case, 1);
    free(d);
    free(buf);
    drnn_st_writer_free(&w);
    drnn_state_free(&st);
    drnn_state_free(&back);
}
END_TEST

/* Settings a file does not give are dinornn-train's defaults; a file of
 * nothing but tensors and the five keys a model needs reads. */
START_TEST(minimal_metadata)
{
    drnn_st_writer w;
    drnn_st_writer_init(&w);
    const char *meta[][2] = {{"cell", "rnn"}, {"vocab", "3"}, {"hidden", "2"}, {"layers", "1"},
                             {"symbols", "ab"}};
    for (size_t i = 0; i < 5; i++)
        drnn_st_add_meta(&w, meta[i][0], meta[i][1]);
    uint64_t s_ih[2] = {2, 3}, s_hh[2] = {2, 2}, s_b[1] = {2}, s_ow[2] = {3, 2}, s_ob[1] = {3};
    drnn_st_add_f32(&w, "out.bias", 1, s_ob); /* any order */
    drnn_st_add_f32(&w, "rnn.weight_ih_l0", 2, s_ih);
    drnn_st_add_f32(&w, "rnn.weight_hh_l0", 2, s_hh);
    drnn_st_add_f32(&w, "rnn.bias_ih_l0", 1, s_b);
    drnn_st_add_f32(&w, "rnn.bias_hh_l0", 1, s_b);
    drnn_st_add_f32(&w, "out.weight", 2, s_ow);
    unsigned char *buf;
    size_t head;
    drnn_error err;
    ck_assert(drnn_st_finish(&w, &buf, &head, &err) == DRNN_OK);
    for (uint64_t i = 0; i < w.data_len; i++)
        buf[head + i] = i % 4 == 3 ? 0x3f : 0; /* 0.5 each */
    drnn_train_state st;
    ck_assert_msg(drnn_safetensors_decode(&st, buf, head + (size_t)w.data_len, "m", &err) ==
                  DRNN_OK, "%s", err.message);
    drnn_hparams def;
    drnn_hparams_default(&def);
    ck_assert_int_eq(st.hp.model.cell, DRNN_CELL_RNN);
    ck_assert(st.hp.lr == def.lr && st.hp.keep_case == 0 && st.labels.count == 0);
    ck_assert(st.weights.layer[0].b[0] == 1.0f); /* 0.5 + 0.5 */
    ck_assert(st.weights.b_y[2] == 0.5f);
    drnn_state_free(&st);
    free(buf);
    drnn_st_writer_free(&w);
}
END_TEST

static Suite *interop_suite(void)
{
    Suite *s = suite_create("interop");
    TCase *tc = tcase_create("safetensors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, container_refusals);
    tcase_add_test(tc, model_refusals);
    tcase_add_test(tc, foreign_orders);
    tcase_add_test(tc, minimal_metadata);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(interop_suite());
}
