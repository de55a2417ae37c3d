/* check_labels.c: labeled names files ("name<TAB>label"): reading them by
 * every path (names, corpus, file, buffer), each refusal with its line and
 * column, the sorted table and its counts, the fingerprint, the stratified
 * split, the parts of a corpus, and re-indexing to a model's labels. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dinornn/names.h"
#include "check_run.h"

/* The fingerprint of "anna\nbob\némile\n" by the code before labels
 * existed: an unlabeled file must keep it (checkpoints resume against it). */
#define OLD_FINGERPRINT 0xc75c6010f0b8940eULL

static void names_ok(drnn_names *n, const char *text)
{
    drnn_error err;
    int rc = drnn_names_parse(n, text, strlen(text), "t.txt", NULL, &err);
    ck_assert_msg(rc == DRNN_OK, "parse failed: %s", err.message);
}

/* A corpus of text with a vocabulary built from it. */
static void corpus_ok(drnn_corpus *c, const char *text, uint64_t *fp)
{
    drnn_vocab v = {0};
    drnn_error err;
    int rc = drnn_corpus_parse(c, &v, fp, text, strlen(text), "t.txt", NULL, 0, &err);
    ck_assert_msg(rc == DRNN_OK, "corpus parse failed: %s", err.message);
    drnn_vocab_free(&v);
}

static void check_table(const drnn_label_table *t, int count, const char *const *text,
                        const int64_t *names)
{
    ck_assert_int_eq(t->count, count);
    for (int i = 0; i < count; i++) {
        ck_assert_str_eq(t->text[i], text[i]);
        ck_assert_int_eq(t->names[i], names[i]);
    }
}

START_TEST(test_parse_labeled)
{
    /* Names lowercased, labels kept as written, trimmed, in NFC; blank
     * lines (tabs and spaces alone) skipped; a name with two labels kept
     * on both lines. */
    static const char text[] = "Haruka\tfemale\n \t \nTaro \t male\r\nSato\tSurname\n\n"
                               "Haruka\tSurname \n Ren\tcaf\x65\xcc\x81\n";
    drnn_names n;
    names_ok(&n, text);
    ck_assert_uint_eq(n.count, 5);
    ck_assert_ptr_nonnull(n.label);
    /* strcmp order: "Surname" < "café" < "female" < "male" */
    const char *want[] = {"Surname", "caf\xc3\xa9", "female", "male"};
    const int64_t counts[] = {2, 1, 1, 1};
    check_table(&n.labels, 4, want, counts);
    const uint16_t labels[] = {2, 3, 0, 0, 1};
    const long lines[] = {1, 3, 4, 6, 7};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(n.label[i], labels[i]);
        ck_assert_int_eq(n.line[i], lines[i]);
    }
    ck_assert_uint_eq(n.start[1], 6); /* "haruka": the tab is no part of it */
    ck_assert_uint_eq(n.symbols[0], 'h');
    ck_assert_uint_eq(n.start[2] - n.start[1], 4); /* "taro", trimmed */

    /* The same lines in another order: the same table, each name's label
     * the same text. */
    static const char shuffled[] = "Ren\tcaf\xc3\xa9\nSato\tSurname\nTaro\tmale\n"
                                   "Haruka\tfemale\nHaruka\tSurname\n";
    drnn_names m;
    names_ok(&m, shuffled);
    check_table(&m.labels, 4, want, counts);
    ck_assert_int_eq(m.label[0], 1);
    ck_assert_int_eq(m.label[2], 3);
    drnn_names_free(&m);

    /* An unlabeled file: no labels at all. */
    names_ok(&m, "a\nb\n");
    ck_assert_ptr_null(m.label);
    ck_assert_int_eq(m.labels.count, 0);
    drnn_names_free(&m);
    drnn_names_free(&n);
}
END_TEST

/* Each bad labeled file, refused with the same status and message by
 * drnn_names_parse, drnn_corpus_parse and drnn_corpus_parse_with. */
static void refused(const char *text, size_t len, int code, const char *want)
{
    drnn_names n;
    drnn_corpus c;
    drnn_error e1, e2, e3;
    drnn_vocab build = {0};
    uint32_t symbols[] = {DRNN_END, 'a', 'b', 'n', 'x'};
    drnn_vocab given = {5, symbols};
    int rc1 = drnn_names_parse(&n, text, len, "t.txt", NULL, &e1);
    int rc2 = drnn_corpus_parse(&c, &build, NULL, text, len, "t.txt", NULL, 0, &e2);
    int rc3 = drnn_corpus_parse_with(&c, &given, NULL, text, len, "t.txt", NULL, 1, &e3);
    ck_assert_msg(rc1 == code, "'%s': %s, want %s (%s)", want, drnn_status_name(rc1),
                  drnn_status_name(code), rc1 ? e1.message : "");
    ck_assert_msg(strncmp(e1.message, want, strlen(want)) == 0, "'%s' does not start with '%s'",
                  e1.message, want);
    ck_assert_int_eq(rc2, code);
    ck_assert_int_eq(rc3, code);
    ck_assert_str_eq(e2.message, e1.message);
    ck_assert_str_eq(e3.message, e1.message);
    ck_assert_ptr_null(n.label);
}

#define REFUSED(text, code, want) refused(text, sizeof text - 1, code, want)

START_TEST(test_refusals)
{
    REFUSED("a\tx\nb\n", DRNN_ERR_INVALID, "t.txt:2:2: no label: the file is labeled (line 1");
    REFUSED("\n a \tx\r\n\r\nbb  \r\n", DRNN_ERR_INVALID, "t.txt:4:5: no label");
    REFUSED("a\nb\tx\n", DRNN_ERR_INVALID,
            "t.txt:2:2: a tab, but the file is unlabeled (line 1, its first name");
    REFUSED("a\tx\tb\n", DRNN_ERR_INVALID, "t.txt:1:4: a second tab");
    REFUSED("a\tx\n\tb\t\n", DRNN_ERR_INVALID, "t.txt:2:1: no name before the tab");
    REFUSED("a\t \n", DRNN_ERR_INVALID, "t.txt:1:3: empty label after the tab");
    REFUSED("a\tx\nb\t\xc2\xa0\n", DRNN_ERR_INVALID, "t.txt:2:3: empty label after the tab");
    REFUSED("a\tx\n  \tb\n", DRNN_ERR_INVALID, "t.txt:2:3: no name before the tab");
    REFUSED("a\tx\xff\n", DRNN_ERR_UTF8, "t.txt:1:4: invalid UTF-8 in the label");
    REFUSED("a\t x\x1b[0m\n", DRNN_ERR_CONTROL_CHAR,
            "t.txt:1:5: control character U+001B (escape) in the label");
    REFUSED("a\tx\xc2\x9b\n", DRNN_ERR_CONTROL_CHAR, "t.txt:1:4: control character U+009B");
    /* The name before the tab is checked as ever. */
    REFUSED("a\tx\nb\x07\tx\n", DRNN_ERR_CONTROL_CHAR, "t.txt:2: control character U+0007");
}
END_TEST

START_TEST(test_label_limits)
{
    /* DRNN_MAX_LABEL_BYTES bytes: accepted; one more: refused. NFC counts:
     * 'e' + U+0301 is one 2-byte é. */
    char text[4 * DRNN_MAX_LABEL_BYTES + 64];
    drnn_names n;
    strcpy(text, "ab\t");
    memset(text + 3, 'x', DRNN_MAX_LABEL_BYTES);
    strcpy(text + 3 + DRNN_MAX_LABEL_BYTES, "\n");
    names_ok(&n, text);
    ck_assert_uint_eq(strlen(n.labels.text[0]), DRNN_MAX_LABEL_BYTES);
    drnn_names_free(&n);
    strcpy(text + 3 + DRNN_MAX_LABEL_BYTES, "x\n");
    refused(text, strlen(text), DRNN_ERR_INVALID, "t.txt:1:4: label longer than 255 bytes");

    size_t o = 3;
    for (int i = 0; i < 127; i++)
        memcpy(text + o, "e\xcc\x81", 3), o += 3; /* 381 bytes, 254 after NFC */
    strcpy(text + o, "\n");
    names_ok(&n, text);
    ck_assert_uint_eq(strlen(n.labels.text[0]), 254);
    drnn_names_free(&n);
    strcpy(text + o, "\xc3\xa9\n"); /* 256 bytes */
    refused(text, strlen(text), DRNN_ERR_INVALID, "t.txt:1:4: label longer than 255 bytes");

    /* DRNN_MAX_LABELS distinct labels: accepted; one more: refused on its line. */
    size_t cap = (DRNN_MAX_LABELS + 2) * 16, at = 0;
    char *many = malloc(cap);
    ck_assert_ptr_nonnull(many);
    for (int i = 0; i < DRNN_MAX_LABELS; i++)
        at += (size_t)snprintf(many + at, cap - at, "n\tl%d\nb\tl%d\n", i, i);
    names_ok(&n, many);
    ck_assert_int_eq(n.labels.count, DRNN_MAX_LABELS);
    ck_assert_int_eq(n.labels.names[DRNN_MAX_LABELS - 1], 2);
    drnn_names_free(&n);
    at += (size_t)snprintf(many + at, cap - at, "n\tl0\n x \t l%d\n", DRNN_MAX_LABELS);
    refused(many, at, DRNN_ERR_INVALID,
            "t.txt:514:6: label 'l256' is one more than the 256 distinct labels");
    free(many);
}
END_TEST

/* c holds the names and labels of n, in order (all encodable). */
static void check_same(const drnn_corpus *c, const drnn_names *n)
{
    ck_assert_uint_eq(c->count, n->count);
    ck_assert_int_eq(drnn_label_table_same_labels(&c->label_table, &n->labels), 1);
    for (int l = 0; l < n->labels.count; l++)
        ck_assert_int_eq(c->label_table.names[l], n->labels.names[l]);
    for (size_t i = 0; i < n->count; i++) {
        ck_assert_int_eq(c->labels[i], n->label[i]);
        ck_assert_int_eq(drnn_corpus_len(c, i), (int)(n->start[i + 1] - n->start[i]));
    }
}

START_TEST(test_paths_agree)
{
    static const char text[] = "zed\tb\nann\ta\nbob\tb\n\nann\tc\nzoe\tb\n";
    drnn_names n;
    drnn_corpus parsed, loaded, encoded, from_names;
    drnn_vocab v = {0}, v2;
    drnn_error err;
    uint64_t fp_parse, fp_load;
    names_ok(&n, text);
    corpus_ok(&parsed, text, &fp_parse);
    check_same(&parsed, &n);
    ck_assert_uint_eq(fp_parse, drnn_names_fingerprint(&n));

    ck_assert_int_eq(drnn_vocab_build(&v2, &n, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_encode(&encoded, &n, &v2, 0, "t.txt", &err), DRNN_OK);
    check_same(&encoded, &n);

    char path[256];
    snprintf(path, sizeof path, "%s/check_labels_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR")
                                                                           : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    ck_assert_int_eq(drnn_corpus_load(&loaded, &v, &fp_load, path, NULL, 0, &err), DRNN_OK);
    check_same(&loaded, &n);
    ck_assert_uint_eq(fp_load, fp_parse);
    drnn_names m;
    ck_assert_int_eq(drnn_names_load(&m, path, NULL, &err), DRNN_OK);
    ck_assert_uint_eq(drnn_names_fingerprint(&m), fp_parse);
    drnn_names_free(&m);
    unlink(path);

    /* Names with unknown symbols skipped: the counts are those of the kept
     * names, every label still in the table. */
    uint32_t symbols[] = {DRNN_END, 'a', 'b', 'd', 'e', 'n', 'z'};
    drnn_vocab given = {7, symbols};
    ck_assert_int_eq(drnn_corpus_parse_with(&from_names, &given, NULL, text, sizeof text - 1,
                                            "t.txt", NULL, 1, &err),
                     DRNN_OK);
    ck_assert_uint_eq(from_names.count, 3); /* bob and zoe left out */
    const char *want[] = {"a", "b", "c"};
    const int64_t counts[] = {1, 1, 1};
    check_table(&from_names.label_table, 3, want, counts);
    drnn_corpus_free(&from_names);
    ck_assert_int_eq(drnn_corpus_encode(&from_names, &n, &given, 1, "t.txt", &err), DRNN_OK);
    check_table(&from_names.label_table, 3, want, counts);
    ck_assert_int_eq(from_names.labels[0], 1);

    drnn_corpus_free(&from_names);
    drnn_corpus_free(&parsed);
    drnn_corpus_free(&loaded);
    drnn_corpus_free(&encoded);
    drnn_vocab_free(&v);
    drnn_vocab_free(&v2);
    drnn_names_free(&n);
}
END_TEST

START_TEST(test_fingerprint)
{
    drnn_names n, m;
    drnn_corpus c;
    uint64_t fp;
    names_ok(&n, "anna\nbob\n\xc3\xa9mile\n");
    ck_assert_uint_eq(drnn_names_fingerprint(&n), OLD_FINGERPRINT);
    corpus_ok(&c, "anna\r\n\nbob\n\xc3\xa9mile", &fp);
    ck_assert_uint_eq(fp, OLD_FINGERPRINT);
    drnn_corpus_free(&c);
    drnn_names_free(&n);

    /* Labeled: not the unlabeled names' hash, and changed by any label. */
    uint64_t fps[4];
    const char *texts[] = {"anna\tf\nbob\tm\n\xc3\xa9mile\tf\n", "anna\tf\nbob\tf\n\xc3\xa9mile\tf\n",
                           "anna\tf\nbob\tM\n\xc3\xa9mile\tf\n", "anna\tf\nbob\tmm\n\xc3\xa9mile\tf\n"};
    for (int i = 0; i < 4; i++) {
        names_ok(&m, texts[i]);
        fps[i] = drnn_names_fingerprint(&m);
        corpus_ok(&c, texts[i], &fp);
        ck_assert_uint_eq(fp, fps[i]);
        ck_assert_uint_ne(fps[i], OLD_FINGERPRINT);
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(fps[i], fps[j]);
        drnn_corpus_free(&c);
        drnn_names_free(&m);
    }
    /* Spaces around a label are no part of it. */
    names_ok(&m, "anna\t f \nbob \tm\n\xc3\xa9mile\tf\n");
    ck_assert_uint_eq(drnn_names_fingerprint(&m), fps[0]);
    drnn_names_free(&m);
}
END_TEST

/* A labeled corpus with sizes[l] names of label "l<l>", interleaved. */
static void make_corpus(drnn_corpus *c, const int *sizes, int labels)
{
    size_t cap = 1 << 16, at = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    int left = 1, k = 0;
    while (left) {
        left = 0;
        for (int l = 0; l < labels; l++)
            if (k < sizes[l]) {
                at += (size_t)snprintf(text + at, cap - at, "n%d_%d\tl%d\n", l, k, l);
                left = 1;
            }
        k++;
    }
    corpus_ok(c, text, NULL);
    free(text);
}

START_TEST(test_split_stratified)
{
    const int sizes[] = {50, 31, 7, 2, 1};
    drnn_corpus c;
    make_corpus(&c, sizes, 5);
    size_t *tr, *va, nt, nv, *tr2, *va2, nt2, nv2;
    drnn_error err;
    ck_assert_int_eq(drnn_split_labeled(&c, 0.2, 7, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_eq(nt + nv, c.count);
    int in_val[5] = {0}, in_train[5] = {0};
    for (size_t i = 0; i < nv; i++) {
        ck_assert(i == 0 || va[i] > va[i - 1]);
        in_val[c.labels[va[i]]]++;
    }
    for (size_t i = 0; i < nt; i++) {
        ck_assert(i == 0 || tr[i] > tr[i - 1]);
        in_train[c.labels[tr[i]]]++;
    }
    /* round(n * 0.2), at most n - 1: each label keeps its share. */
    const int want_val[] = {10, 6, 1, 0, 0};
    for (int l = 0; l < 5; l++) {
        ck_assert_int_eq(in_val[l], want_val[l]);
        ck_assert_int_eq(in_train[l], sizes[l] - want_val[l]);
    }
    /* At a larger fraction, every label with 2 names or more is in both parts. */
    ck_assert_int_eq(drnn_split_labeled(&c, 0.6, 7, &tr2, &nt2, &va2, &nv2, &err), DRNN_OK);
    memset(in_val, 0, sizeof in_val);
    for (size_t i = 0; i < nv2; i++)
        in_val[c.labels[va2[i]]]++;
    ck_assert_int_eq(in_val[3], 1); /* round(1.2) */
    ck_assert_int_eq(in_val[4], 0);
    ck_assert_int_eq(in_val[2], 4);
    free(tr2), free(va2);

    /* The same seed, the same split; another seed, another. */
    ck_assert_int_eq(drnn_split_labeled(&c, 0.2, 7, &tr2, &nt2, &va2, &nv2, &err), DRNN_OK);
    ck_assert_uint_eq(nv2, nv);
    ck_assert_mem_eq(va2, va, nv * sizeof *va);
    free(tr2), free(va2);
    ck_assert_int_eq(drnn_split_labeled(&c, 0.2, 8, &tr2, &nt2, &va2, &nv2, &err), DRNN_OK);
    ck_assert_uint_eq(nv2, nv);
    ck_assert(memcmp(va2, va, nv * sizeof *va) != 0);
    free(tr2), free(va2);
    free(tr), free(va);

    /* A bad fraction is refused as drnn_split refuses it. */
    ck_assert_int_eq(drnn_split_labeled(&c, 1.0, 7, &tr, &nt, &va, &nv, &err), DRNN_ERR_INVALID);
    drnn_corpus_free(&c);
}
END_TEST

START_TEST(test_split_unlabeled_is_drnn_split)
{
    drnn_corpus c;
    char text[2048];
    size_t at = 0;
    for (int i = 0; i < 97; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "n%d\n", i);
    corpus_ok(&c, text, NULL);
    ck_assert_ptr_null(c.labels);
    for (uint64_t seed = 0; seed < 4; seed++) {
        size_t *tr, *va, nt, nv, *tr2, *va2, nt2, nv2;
        ck_assert_int_eq(drnn_split_labeled(&c, 0.15, seed, &tr, &nt, &va, &nv, NULL), DRNN_OK);
        ck_assert_int_eq(drnn_split(c.count, 0.15, seed, &tr2, &nt2, &va2, &nv2, NULL), DRNN_OK);
        ck_assert_uint_eq(nt, nt2);
        ck_assert_uint_eq(nv, nv2);
        ck_assert_mem_eq(tr, tr2, nt * sizeof *tr);
        ck_assert_mem_eq(va, va2, nv * sizeof *va);
        free(tr), free(va), free(tr2), free(va2);
    }
    drnn_corpus_free(&c);
}
END_TEST

START_TEST(test_parts_carry_labels)
{
    static const char text[] = "aa\tx\nbb\ty\ncc\tx\ndd\tz\nee\tx\nff\ty\n";
    drnn_corpus all, part, sel;
    drnn_error err;
    corpus_ok(&all, text, NULL);
    const uint16_t before[] = {0, 1, 0, 2, 0, 1};
    const size_t idx[] = {1, 3, 4};
    ck_assert_int_eq(drnn_corpus_select(&sel, &all, idx, 3, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_extract(&all, idx, 3, &part, &err), DRNN_OK);
    const char *want[] = {"x", "y", "z"};
    const int64_t part_counts[] = {1, 1, 1}, rest_counts[] = {2, 1, 0};
    check_table(&part.label_table, 3, want, part_counts);
    check_table(&sel.label_table, 3, want, part_counts);
    check_table(&all.label_table, 3, want, rest_counts);
    for (size_t k = 0; k < 3; k++) {
        ck_assert_int_eq(part.labels[k], before[idx[k]]);
        ck_assert_int_eq(sel.labels[k], before[idx[k]]);
    }
    const uint16_t rest[] = {0, 0, 1};
    for (size_t k = 0; k < 3; k++)
        ck_assert_int_eq(all.labels[k], rest[k]);
    ck_assert_ptr_null(all.line);
    drnn_corpus_free(&all);
    drnn_corpus_free(&part);
    drnn_corpus_free(&sel);
}
END_TEST

START_TEST(test_use_labels)
{
    char *model_text[] = {"a", "b", "c"};
    int64_t model_names[] = {5, 6, 7};
    const drnn_label_table model = {3, model_text, model_names};
    drnn_corpus c;
    drnn_error err;
    corpus_ok(&c, "x\tc\ny\tb\nz\tc\n", NULL);
    ck_assert_int_eq(c.labels[0], 1); /* b, c: c is 1 */
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &model, "v.txt", &err), DRNN_OK);
    const char *want[] = {"a", "b", "c"};
    const int64_t counts[] = {0, 1, 2};
    check_table(&c.label_table, 3, want, counts);
    ck_assert_int_eq(c.labels[0], 2);
    ck_assert_int_eq(c.labels[1], 1);
    ck_assert_int_eq(c.labels[2], 2);
    drnn_corpus_free(&c);

    /* A label the model lacks: its first line (the corpus has lines) and the model's labels. */
    drnn_names n;
    drnn_vocab v;
    names_ok(&n, "x\ta\ny\tzz\nz\tzz\n");
    ck_assert_int_eq(drnn_vocab_build(&v, &n, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_encode(&c, &n, &v, 0, "v.txt", &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &model, "v.txt", &err), DRNN_ERR_MISMATCH);
    ck_assert_str_eq(err.message, "v.txt:2: label 'zz' is not one of the model's labels (a, b, "
                                  "c): use only those, or train a model with this label");
    drnn_corpus_free(&c);
    drnn_vocab_free(&v);
    drnn_names_free(&n);
    corpus_ok(&c, "x\tzz\n", NULL); /* no lines: the file alone */
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &model, "v.txt", &err), DRNN_ERR_MISMATCH);
    ck_assert(strncmp(err.message, "v.txt: label 'zz' is not one", 28) == 0);
    /* A labeled file for an unlabeled model. */
    const drnn_label_table none = {0, NULL, NULL};
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &none, "v.txt", &err), DRNN_ERR_MISMATCH);
    ck_assert(strstr(err.message, "v.txt: the names have labels, but the model was trained "
                                  "without"));
    ck_assert_int_eq(drnn_corpus_use_labels(&c, NULL, "v.txt", &err), DRNN_ERR_MISMATCH);
    drnn_corpus_free(&c);
    /* An unlabeled file for a labeled model; unlabeled for unlabeled is fine. */
    corpus_ok(&c, "x\ny\n", NULL);
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &model, "v.txt", &err), DRNN_ERR_MISMATCH);
    ck_assert(strstr(err.message, "v.txt: the names have no labels, but the model was trained "
                                  "with labels (a, b, c)"));
    ck_assert_int_eq(drnn_corpus_use_labels(&c, &none, "v.txt", &err), DRNN_OK);
    ck_assert_ptr_null(c.labels);
    drnn_corpus_free(&c);
}
END_TEST

static Suite *labels_suite(void)
{
    Suite *s = suite_create("labels");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, test_parse_labeled);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_label_limits);
    tcase_add_test(tc, test_paths_agree);
    tcase_add_test(tc, test_fingerprint);
    suite_add_tcase(s, tc);
    tc = tcase_create("use");
    tcase_add_test(tc, test_split_stratified);
    tcase_add_test(tc, test_split_unlabeled_is_drnn_split);
    tcase_add_test(tc, test_parts_carry_labels);
    tcase_add_test(tc, test_use_labels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(labels_suite());
}
