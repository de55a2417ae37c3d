/* check_names.c: unit tests for names files, vocabularies, token encoding and the split. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/names.h"
#include "dinornn/rng.h"
#include "check_run.h"

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return (d && *d) ? d : "/tmp";
}

/* Writes data to a fresh temporary file and stores its path in path. */
static void write_temp(char *path, size_t cap, const void *data, size_t len)
{
    int n = snprintf(path, cap, "%s/check_names_XXXXXX", tmp_dir());
    ck_assert(n > 0 && (size_t)n < cap);
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        ck_assert_msg(w > 0, "write: %s", strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    ck_assert_int_eq(close(fd), 0);
}

static size_t put_utf8(uint32_t c, char *o)
{
    unsigned char *u = (unsigned char *)o;
    if (c < 0x80) {
        u[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        u[0] = (unsigned char)(0xC0 | (c >> 6));
        u[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (c >> 12));
        u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (c >> 18));
    u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

/* Name i of names as a UTF-8 string in out. */
static const char *name_at(const drnn_names *names, size_t i, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t j = names->start[i]; j < names->start[i + 1]; j++) {
        ck_assert(o + 5 < cap);
        o += put_utf8(names->symbols[j], out + o);
    }
    out[o] = '\0';
    return out;
}

static void parse_ok(drnn_names *names, const char *text, int keep_case)
{
    drnn_names_options opts = {.keep_case = keep_case};
    drnn_error err;
    int rc = drnn_names_parse(names, text, strlen(text), "t.txt", &opts, &err);
    ck_assert_msg(rc == DRNN_OK, "parse failed: %s", err.message);
    ck_assert_int_eq(err.code, DRNN_OK);
}

/* Parses a buffer expected to be refused; checks that *names is left empty. */
static int parse_fail(const char *buf, size_t len, drnn_error *err)
{
    drnn_names names;
    memset(&names, 0xAB, sizeof names);
    int rc = drnn_names_parse(&names, buf, len, "bad.txt", NULL, err);
    ck_assert_int_ne(rc, DRNN_OK);
    ck_assert_int_eq(rc, (int)err->code);
    ck_assert_uint_eq(names.count, 0);
    ck_assert_ptr_null(names.symbols);
    ck_assert_ptr_null(names.start);
    ck_assert_ptr_null(names.line);
    return rc;
}

START_TEST(test_simple_file)
{
    static const char text[] = "Alpha\n\nBeta\n \t \nGAMMA\n\n\nomega";
    char path[4096], buf[1100];
    write_temp(path, sizeof path, text, sizeof text - 1);

    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    unlink(path);
    ck_assert_msg(rc == DRNN_OK, "%s", err.message);
    ck_assert_uint_eq(names.count, 4);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "alpha");
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "beta");
    ck_assert_str_eq(name_at(&names, 2, buf, sizeof buf), "gamma");
    ck_assert_str_eq(name_at(&names, 3, buf, sizeof buf), "omega");
    ck_assert_int_eq(names.line[0], 1);
    ck_assert_int_eq(names.line[1], 3);
    ck_assert_int_eq(names.line[2], 5);
    ck_assert_int_eq(names.line[3], 8);
    ck_assert_uint_eq(names.start[0], 0);
    ck_assert_uint_eq(names.start[4], 5 + 4 + 5 + 5);
    drnn_names_free(&names);
    ck_assert_ptr_null(names.symbols);
    ck_assert_uint_eq(names.count, 0);
    drnn_names_free(&names); /* twice is harmless */
}
END_TEST

START_TEST(test_crlf_same_as_lf)
{
    drnn_names lf, crlf;
    parse_ok(&lf, "Anna\nBob\nCarla\n", 0);
    parse_ok(&crlf, "Anna\r\nBob\r\n\r\nCarla\r\n", 0);
    ck_assert_uint_eq(lf.count, 3);
    ck_assert_uint_eq(crlf.count, 3);
    ck_assert_uint_eq(lf.start[3], crlf.start[3]);
    ck_assert_mem_eq(lf.symbols, crlf.symbols, lf.start[3] * sizeof *lf.symbols);
    ck_assert_mem_eq(lf.start, crlf.start, 4 * sizeof *lf.start);
    ck_assert(drnn_names_fingerprint(&lf) == drnn_names_fingerprint(&crlf));
    ck_assert_int_eq(crlf.line[2], 4);
    drnn_names_free(&lf);
    drnn_names_free(&crlf);
}
END_TEST

START_TEST(test_cr_line_ends)
{
    /* Classic Mac files end lines with CR alone: each CR is a line end, and
     * a CRLF is one line end, not two. */
    drnn_names lf, cr, mixed;
    char buf[64];
    parse_ok(&lf, "Anna\nBob\n\nCarla\n", 0);
    parse_ok(&cr, "Anna\rBob\r\rCarla\r", 0);
    parse_ok(&mixed, "Anna\r\nBob\r\nCarla", 0);
    ck_assert_uint_eq(cr.count, 3);
    ck_assert_str_eq(name_at(&cr, 1, buf, sizeof buf), "bob");
    ck_assert_mem_eq(lf.symbols, cr.symbols, lf.start[3] * sizeof *lf.symbols);
    ck_assert_mem_eq(lf.start, cr.start, 4 * sizeof *lf.start);
    ck_assert(drnn_names_fingerprint(&lf) == drnn_names_fingerprint(&cr));
    ck_assert(drnn_names_fingerprint(&lf) == drnn_names_fingerprint(&mixed));
    ck_assert_int_eq(cr.line[0], 1);
    ck_assert_int_eq(cr.line[1], 2);
    ck_assert_int_eq(cr.line[2], 4);
    ck_assert_int_eq(mixed.line[2], 3);
    drnn_names_free(&lf);
    drnn_names_free(&cr);
    drnn_names_free(&mixed);

    /* All three conventions in one file, blank lines of each kind between. */
    parse_ok(&mixed, "a\nb\rc\r\nd\n\r\r\n\ne\r", 0);
    ck_assert_uint_eq(mixed.count, 5);
    static const long lines[] = {1, 2, 3, 4, 8};
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(mixed.symbols[mixed.start[i]], (uint32_t)"abcde"[i]);
        ck_assert_int_eq(mixed.line[i], lines[i]);
    }
    drnn_names_free(&mixed);

    /* Errors name the right line in a CR file, NUL bytes included. */
    drnn_error err;
    static const char bad[] = "ok\rfine\rx\xff\r";
    ck_assert_int_eq(parse_fail(bad, sizeof bad - 1, &err), DRNN_ERR_UTF8);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:3: invalid UTF-8"));
    ck_assert_ptr_nonnull(strstr(err.message, "column 2"));
    static const char nul[] = "a\rb\r\nc\rd\0";
    ck_assert_int_eq(parse_fail(nul, sizeof nul - 1, &err), DRNN_ERR_BINARY);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:4: NUL byte"));
    char longline[DRNN_MAX_NAME_LEN + 16] = "a\r\rb\r";
    memset(longline + 5, 'x', DRNN_MAX_NAME_LEN + 1);
    longline[5 + DRNN_MAX_NAME_LEN + 1] = '\0';
    ck_assert_int_eq(parse_fail(longline, strlen(longline), &err), DRNN_ERR_NAME_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:4:"));
}
END_TEST

START_TEST(test_control_characters)
{
    /* A control character inside a name would reach the terminal when the
     * sampler prints it (ESC starts escape sequences): refused, naming the
     * line, the code point and the column. */
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"ok\nty\x1b[31mrex\n", "bad.txt:2: control character U+001B (escape) at column 3"},
        {"ty\x0erex\n", "bad.txt:1: control character U+000E at column 3"},
        {"a\rb\rc\x07\r", "bad.txt:3: control character U+0007 (bell) at column 2"},
        {"x\x7fy\n", "bad.txt:1: control character U+007F (delete) at column 2"},
        {"ok\nne\xc2\x85xt\n", "bad.txt:2: control character U+0085 at column 3"},
        {"a\xc2\x9b" "31m\n", "bad.txt:1: control character U+009B at column 2"},
        {"a\x01\n", "bad.txt:1: control character U+0001 at column 2"},
        {"one\vtwo\n", "bad.txt:1: control character U+000B (vertical tab)"},
        {"\xEF\xBB\xBF" "a\x1f\n", "bad.txt:1: control character U+001F at column 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drnn_error err;
        int rc = parse_fail(cases[i].text, strlen(cases[i].text), &err);
        ck_assert_msg(rc == DRNN_ERR_CONTROL_CHAR, "case %zu: got %s", i, drnn_status_name(rc));
        ck_assert_msg(strstr(err.message, cases[i].want), "case %zu: '%s' lacks '%s'", i,
                      err.message, cases[i].want);
    }
    ck_assert_str_eq(drnn_status_name(DRNN_ERR_CONTROL_CHAR), "control-character");

    /* White space around a name is still trimmed, vertical tabs, form
     * feeds and NEL (a C1 control that is White_Space) among it (a tab
     * separates a label: check_labels.c); the first printable characters
     * after the C1 range are accepted inside a name. */
    drnn_names names;
    char buf[64];
    parse_ok(&names, "\v rex \f\xc2\x85\na\xc2\xa0\xc2\xa1\n", 0);
    ck_assert_uint_eq(names.count, 2);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "rex");
    ck_assert_uint_eq(names.start[2] - names.start[1], 3);
    ck_assert_uint_eq(names.symbols[names.start[1] + 1], 0xA0);
    ck_assert_uint_eq(names.symbols[names.start[1] + 2], 0xA1);
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_keep_case)
{
    drnn_names names;
    char buf[64];
    parse_ok(&names, "McDonald\nÉLODIE\n", 1);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "McDonald");
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "ÉLODIE");
    drnn_names_free(&names);
    parse_ok(&names, "McDonald\nÉLODIE\n", 0);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "mcdonald");
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "élodie");
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_trim_blanks_and_bom)
{
    drnn_names names;
    char buf[64];
    parse_ok(&names, "\xEF\xBB\xBF" "Abc\n \v\fTyranno saurus \v\r\n\f x\f\n", 0);
    ck_assert_uint_eq(names.count, 3);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "abc");
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "tyranno saurus");
    ck_assert_str_eq(name_at(&names, 2, buf, sizeof buf), "x");
    ck_assert_int_eq(names.line[2], 3);
    drnn_names_free(&names);

    /* A BOM is only an encoding mark at the very start; elsewhere it is a symbol. */
    parse_ok(&names, "a\n\xEF\xBB\xBF" "b\n", 0);
    ck_assert_uint_eq(names.start[2] - names.start[1], 2);
    ck_assert_uint_eq(names.symbols[names.start[1]], 0xFEFF);
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_utf8_names)
{
    drnn_names names;
    char buf[64];
    parse_ok(&names, "Pokémon\nÉ\nΔΙΝΟΣΑΥΡΟΣ\nДИНОЗАВР\n", 0);
    ck_assert_uint_eq(names.count, 4);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "pokémon");
    ck_assert_uint_eq(names.start[1] - names.start[0], 7); /* code points, not bytes */
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "é");
    ck_assert_uint_eq(names.symbols[names.start[1]], 0xE9);
    ck_assert_str_eq(name_at(&names, 2, buf, sizeof buf), "δινοσαυρος"); /* final sigma */
    ck_assert_str_eq(name_at(&names, 3, buf, sizeof buf), "динозавр");
    drnn_names_free(&names);
}
END_TEST

/* name i of names, decoded back to text by drnn_vocab_decode with
 * capitalize, through a vocabulary of names and the corpus. */
static const char *title_of(const drnn_names *names, size_t i, char *out, size_t cap)
{
    drnn_vocab vocab;
    drnn_corpus corpus;
    ck_assert_int_eq(drnn_vocab_build(&vocab, names, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_encode(&corpus, names, &vocab, 0, "t", NULL), DRNN_OK);
    size_t need = drnn_vocab_decode(&vocab, corpus.tokens + corpus.start[i],
                                    drnn_corpus_len(&corpus, i), 1, out, cap);
    ck_assert_uint_lt(need, cap);
    drnn_corpus_free(&corpus);
    drnn_vocab_free(&vocab);
    return out;
}

/* Lowercasing (the loader) and title-casing (the names printed) agree with
 * Unicode's data (UnicodeData.txt and SpecialCasing.txt: full mappings,
 * final sigma) across scripts, all locale-independent: the Turkish dotted
 * İ becomes i + U+0307 COMBINING DOT ABOVE (and comes back as İ), and I
 * becomes i, not the dotless ı. Georgian Mtavruli lowercases to Mkhedruli,
 * whose title case is itself (Georgian has none). */
START_TEST(test_case_mapping)
{
    static const struct {
        const char *name, *lower, *title;
    } cases[] = {
        {"NGUYỄN", "nguyễn", "Nguyễn"},                /* Vietnamese, U+1EC4 */
        {"Ưng", "ưng", "Ưng"},                         /* U+01AF */
        {"ƠN", "ơn", "Ơn"},                            /* U+01A0 */
        {"Ỷ", "ỷ", "Ỷ"},                               /* U+1EF6 */
        {"ԱՐԱՄ", "արամ", "Արամ"},                      /* Armenian */
        {"և", "և", "Եւ"},                              /* U+0587: title case is two letters */
        {"ᲒᲘᲝᲠᲒᲘ", "გიორგი", "გიორგი"},                /* Georgian Mtavruli to Mkhedruli */
        {"ᏣᎳᎩ", "ꮳꮃꭹ", "Ꮳꮃꭹ"},                         /* Cherokee, small letters U+AB70.. */
        {"ⰀⰁⰂ", "ⰰⰱⰲ", "Ⰰⰱⰲ"},                         /* Glagolitic */
        {"Ⱟ", "ⱟ", "Ⱟ"},                               /* U+2C2F, new in Unicode 14 */
        {"ΆΡΗΣ", "άρης", "Άρης"},                      /* accented Greek, final sigma */
        {"ΟΔΥΣΣΕΥΣ", "οδυσσευς", "Οδυσσευς"},          /* σ inside, ς at the end */
        {"STRAẞE", "straße", "Straße"},                /* capital sharp s U+1E9E */
        {"ǄEMAL", "ǆemal", "ǅemal"},                   /* the digraph's title case U+01C5 */
        {"ЁЖИК", "ёжик", "Ёжик"},                      /* Cyrillic */
        {"ӁӀ", "ӂӏ", "Ӂӏ"},                             /* U+04C1, U+04C0 */
        {"İSTANBUL", "i\xCC\x87stanbul", "İstanbul"},  /* locale-independent */
        {"ISPARTA", "isparta", "Isparta"},
        {"ılgın", "ılgın", "Ilgın"},
        {"JEAN-PIERRE", "jean-pierre", "Jean-Pierre"}, /* each word */
        {"MARY ANN", "mary ann", "Mary Ann"},
        {"山田", "山田", "山田"},                        /* no case */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drnn_names names;
        char text[64], buf[64];
        snprintf(text, sizeof text, "%s\n", cases[i].name);
        parse_ok(&names, text, 0);
        ck_assert_uint_eq(names.count, 1);
        ck_assert_msg(!strcmp(name_at(&names, 0, buf, sizeof buf), cases[i].lower),
                      "%s lowercased to %s, not %s", cases[i].name, buf, cases[i].lower);
        ck_assert_msg(!strcmp(title_of(&names, 0, buf, sizeof buf), cases[i].title),
                      "%s title-cased to %s, not %s", cases[i].lower, buf, cases[i].title);
        drnn_names_free(&names);
        parse_ok(&names, text, 1); /* kept case: as written (all in NFC here) */
        ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), cases[i].name);
        drnn_names_free(&names);
    }
}
END_TEST

/* Canonically equivalent spellings are one name: every name is put in
 * Unicode normalisation form C, lowercased or not. */
START_TEST(test_normalization)
{
    static const struct {
        const char *a, *b; /* decomposed or otherwise equivalent, and NFC */
        const char *lower;
    } cases[] = {
        {"Jose\xCC\x81", "José", "josé"},                     /* e + U+0301 */
        {"Nguye\xCC\x82\xCC\x83n", "Nguyễn", "nguyễn"},       /* e + U+0302 + U+0303 */
        {"\xE2\x84\xAB" "sa", "Åsa", "åsa"},                  /* U+212B ANGSTROM SIGN */
        {"\xE1\x84\x80\xE1\x85\xA1", "가", "가"},            /* Hangul jamo U+1100 U+1161 */
        {"A\xCC\x8A\xCC\x81", "Ǻ", "ǻ"},                     /* A + ring + acute: U+01FA */
        {"\xCE\x91\xCC\x81", "Ά", "ά"},                      /* Alpha + acute */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int keep = 0; keep <= 1; keep++) {
            drnn_names names;
            char text[64], a[64], b[64];
            snprintf(text, sizeof text, "%s\n%s\n", cases[i].a, cases[i].b);
            parse_ok(&names, text, keep);
            ck_assert_uint_eq(names.count, 2);
            name_at(&names, 0, a, sizeof a);
            name_at(&names, 1, b, sizeof b);
            ck_assert_msg(!strcmp(a, b), "case %zu, keep_case %d: %s and %s differ", i, keep, a,
                          b);
            ck_assert_str_eq(b, keep ? cases[i].b : cases[i].lower);
            /* The same code points, so the same tokens in any vocabulary. */
            ck_assert_uint_eq(names.start[2] - names.start[1], names.start[1]);
            ck_assert_mem_eq(names.symbols, names.symbols + names.start[1],
                             names.start[1] * sizeof *names.symbols);
            drnn_names_free(&names);
        }
    }
}
END_TEST

/* Unicode white space (White_Space: U+00A0, U+2000..U+200A, U+3000, ...)
 * around a name is stripped like the ASCII blanks, and a line of nothing
 * else is blank; inside a name it stays. */
START_TEST(test_unicode_white_space)
{
    drnn_names names;
    char buf[64];
    parse_ok(&names,
             "\xC2\xA0" "Ana\xE3\x80\x80\n"                   /* U+00A0 Ana U+3000 */
             "\xE3\x80\x80\xE2\x80\x83\xC2\xA0\n"            /* blank: U+3000 U+2003 U+00A0 */
             "\xE2\x80\x82" "Bo\xC2\xA0" "b\xE2\x81\x9F\r\n" /* U+2002 Bo U+00A0 b U+205F */
             "\xE3\x80\x80山田\xE3\x80\x80太郎\xE3\x80\x80\n",   /* ideographic spaces */
             0);
    ck_assert_uint_eq(names.count, 3);
    ck_assert_str_eq(name_at(&names, 0, buf, sizeof buf), "ana");
    ck_assert_str_eq(name_at(&names, 1, buf, sizeof buf), "bo\xC2\xA0" "b");
    ck_assert_str_eq(name_at(&names, 2, buf, sizeof buf), "山田\xE3\x80\x80太郎");
    ck_assert_int_eq(names.line[0], 1);
    ck_assert_int_eq(names.line[1], 3);
    drnn_names_free(&names);
    drnn_error err;
    static const char only_space[] = "\xE3\x80\x80\n\xC2\xA0\n";
    ck_assert_int_eq(parse_fail(only_space, sizeof only_space - 1, &err), DRNN_ERR_EMPTY);
}
END_TEST

START_TEST(test_missing_file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/check_names_no_such_file_%ld.txt", tmp_dir(), (long)getpid());
    drnn_names names;
    drnn_error err;
    ck_assert_int_eq(drnn_names_load(&names, path, NULL, &err), DRNN_ERR_NOT_FOUND);
    ck_assert_int_eq(err.code, DRNN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_ptr_nonnull(strstr(err.message, "no such file"));
    ck_assert_uint_eq(names.count, 0);
    ck_assert_ptr_null(names.symbols);
}
END_TEST

START_TEST(test_directory)
{
    drnn_names names;
    drnn_error err;
    ck_assert_int_eq(drnn_names_load(&names, tmp_dir(), NULL, &err), DRNN_ERR_IS_DIR);
    ck_assert_ptr_nonnull(strstr(err.message, tmp_dir()));
    ck_assert_ptr_null(names.symbols);
}
END_TEST

START_TEST(test_other_open_error)
{
    /* A regular file used as a directory: ENOTDIR, an I/O error, not "missing". */
    char path[4096], sub[4200];
    write_temp(path, sizeof path, "a\n", 2);
    snprintf(sub, sizeof sub, "%s/names.txt", path);
    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, sub, NULL, &err);
    unlink(path);
    ck_assert_int_eq(rc, DRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, sub));
    ck_assert_ptr_nonnull(strstr(err.message, strerror(ENOTDIR)));
}
END_TEST

START_TEST(test_file_too_big)
{
    /* A sparse file: refused from its size, before anything is read. */
    char path[4096];
    write_temp(path, sizeof path, "", 0);
    ck_assert_int_eq(truncate(path, (off_t)DRNN_MAX_NAMES_FILE + 1), 0);
    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    unlink(path);
    ck_assert_int_eq(rc, DRNN_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_ptr_nonnull(strstr(err.message, "256 MiB"));
}
END_TEST

struct fifo_writer {
    int fd;
    size_t repeats;
};

static void *write_fifo(void *arg)
{
    const struct fifo_writer *w = arg;
    for (size_t i = 0; i < w->repeats; i++) {
        if (write(w->fd, "Raptor\n", 7) != 7) {
            close(w->fd);
            return (void *)1;
        }
    }
    close(w->fd);
    return NULL;
}

START_TEST(test_fifo)
{
    /* A pipe has no size up front, so the reader must grow its buffer. */
    char path[4096];
    snprintf(path, sizeof path, "%s/check_names_fifo_%ld", tmp_dir(), (long)getpid());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    /* Should the reader stop early, the writer must fail, not kill the runner. */
    signal(SIGPIPE, SIG_IGN);
    /* The writer is there before the loader opens the FIFO (a FIFO without
     * one is refused): a reader held open lets the write end open at once. */
    int holder = open(path, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(holder, 0);
    struct fifo_writer w = {open(path, O_WRONLY), 40000};
    ck_assert_int_ge(w.fd, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, write_fifo, &w), 0);
    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    void *res;
    pthread_join(th, &res);
    close(holder);
    unlink(path);
    ck_assert_ptr_null(res);
    ck_assert_msg(rc == DRNN_OK, "%s", err.message);
    ck_assert_uint_eq(names.count, w.repeats);
    ck_assert_int_eq(names.line[w.repeats - 1], (long)w.repeats);
    ck_assert_uint_eq(names.symbols[names.start[w.repeats - 1]], 'r');
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_fifo_without_writer)
{
    /* open() on a FIFO nothing writes to used to wait forever. */
    char path[4096];
    snprintf(path, sizeof path, "%s/check_names_lonely_%ld", tmp_dir(), (long)getpid());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(20); /* the old behaviour fails the test instead of hanging it */
    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    alarm(0);
    unlink(path);
    ck_assert_int_eq(rc, DRNN_ERR_NOT_REGULAR);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_ptr_nonnull(strstr(err.message, "no writer"));
    ck_assert_uint_eq(names.count, 0);
    ck_assert_ptr_null(names.symbols);
}
END_TEST

START_TEST(test_empty)
{
    char path[4096];
    write_temp(path, sizeof path, "", 0);
    drnn_names names;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    unlink(path);
    ck_assert_int_eq(rc, DRNN_ERR_EMPTY);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_ptr_nonnull(strstr(err.message, "no names"));

    static const char blank[] = "\n \t\n\r\n\v\f \r\n\n";
    ck_assert_int_eq(parse_fail(blank, sizeof blank - 1, &err), DRNN_ERR_EMPTY);
    ck_assert_str_eq(err.message,
                     "bad.txt: no names (the file is empty or has only blank lines)");
    ck_assert_int_eq(parse_fail("\xEF\xBB\xBF\n", 4, &err), DRNN_ERR_EMPTY);
    ck_assert_int_eq(parse_fail(NULL, 0, &err), DRNN_ERR_EMPTY);
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "abc\n\ndef\nx\0y\n";
    drnn_error err;
    ck_assert_int_eq(parse_fail(text, sizeof text - 1, &err), DRNN_ERR_BINARY);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:4: NUL byte"));
    ck_assert_ptr_nonnull(strstr(err.message, "binary file"));

    /* Reported as binary even when invalid UTF-8 comes first. */
    static const char bin[] = "\xFF\xFF" "a\0b";
    ck_assert_int_eq(parse_fail(bin, sizeof bin - 1, &err), DRNN_ERR_BINARY);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:1:"));
}
END_TEST

/* UTF-16, with or without a byte-order mark, is named as such with the
 * command that converts it, not called binary (its NUL bytes) or bad UTF-8. */
START_TEST(test_utf16)
{
    static const struct {
        const char *text;
        size_t len;
        const char *says;
    } cases[] = {
        {"\xFF\xFE" "a\0b\0\n\0", 8, "(it starts with a byte-order mark), not UTF-8: convert it, for example with iconv -f UTF-16 -t UTF-8"},
        {"\xFE\xFF" "\0a\0b\0\n", 8, "iconv -f UTF-16 -t UTF-8"},
        {"\xFF\xFE", 2, "iconv -f UTF-16 -t UTF-8"},
        {"a\0b\0\n\0c\0\xE9\0\n\0", 12, "(little-endian, no byte-order mark), not UTF-8: convert it, for example with iconv -f UTF-16LE -t UTF-8"},
        {"\0a\0b\0\n\0c\0\xE9\0\n", 12, "(big-endian, no byte-order mark), not UTF-8: convert it, for example with iconv -f UTF-16BE -t UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drnn_error err;
        ck_assert_int_eq(parse_fail(cases[i].text, cases[i].len, &err), DRNN_ERR_UTF8);
        ck_assert_msg(strstr(err.message, "bad.txt: this looks like UTF-16 text") &&
                          strstr(err.message, cases[i].says),
                      "case %zu: %s", i, err.message);
    }
}
END_TEST

START_TEST(test_invalid_utf8)
{
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {"ok\n\x80" "abc\n", 2},                   /* stray continuation byte */
        {"ok\nfine\na\xC0\xAF" "b\n", 3},           /* overlong '/' */
        {"a\xE0\x80\xAF\n", 1},                     /* overlong 3-byte */
        {"ok\n\n\n\xED\xA0\x80\n", 4},              /* surrogate U+D800 */
        {"ok\n\xED\xBF\xBF\n", 2},                  /* surrogate U+DFFF */
        {"ok\nx\xE2\x82\nnext\n", 2},               /* truncated before the newline */
        {"ok\nx\xE2\x82", 2},                       /* truncated at the end of the buffer */
        {"ok\nx\xE2\x82\r\n", 2},                   /* truncated before CRLF */
        {"\xF4\x90\x80\x80\n", 1},                  /* above U+10FFFF */
        {"a\nb\nc\xF8\x88\x80\x80\x80\n", 3},       /* 5-byte form */
        {"a\xC3" "b\n", 1},                         /* lead byte then ASCII */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drnn_error err;
        char want[64];
        int rc = parse_fail(cases[i].text, strlen(cases[i].text), &err);
        ck_assert_msg(rc == DRNN_ERR_UTF8, "case %zu: got %s", i, drnn_status_name(rc));
        snprintf(want, sizeof want, "bad.txt:%d: invalid UTF-8", cases[i].line);
        ck_assert_msg(strstr(err.message, want), "case %zu: '%s' lacks '%s'", i, err.message,
                      want);
    }

    /* The largest valid forms are accepted. */
    drnn_names names;
    parse_ok(&names, "\xF4\x8F\xBF\xBF\n\xEF\xBF\xBF\n\xED\x9F\xBF\n", 1);
    ck_assert_uint_eq(names.symbols[0], 0x10FFFF);
    ck_assert_uint_eq(names.symbols[1], 0xFFFF);
    ck_assert_uint_eq(names.symbols[2], 0xD7FF);
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_name_length_limit)
{
    char text[4 * DRNN_MAX_NAME_LEN + 64];
    drnn_names names;
    drnn_error err;

    memset(text, 'a', DRNN_MAX_NAME_LEN);
    strcpy(text + DRNN_MAX_NAME_LEN, "  \v\r\n");
    parse_ok(&names, text, 0);
    ck_assert_uint_eq(names.start[1], DRNN_MAX_NAME_LEN);
    drnn_names_free(&names);

    /* The limit counts code points, not bytes. */
    size_t o = 0;
    for (int i = 0; i < DRNN_MAX_NAME_LEN; i++)
        o += put_utf8(0xE9, text + o);
    text[o] = '\0';
    parse_ok(&names, text, 0);
    ck_assert_uint_eq(names.start[1], DRNN_MAX_NAME_LEN);
    drnn_names_free(&names);

    strcpy(text, "short\n");
    memset(text + 6, 'b', DRNN_MAX_NAME_LEN + 1);
    strcpy(text + 6 + DRNN_MAX_NAME_LEN + 1, "\n");
    ck_assert_int_eq(parse_fail(text, strlen(text), &err), DRNN_ERR_NAME_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:2:"));
    ck_assert_ptr_nonnull(strstr(err.message, "256"));

    /* The limit counts symbols after normalisation: 256 accented letters
     * written decomposed (512 code points) are a name, 257 are not; white
     * space around a name does not count. */
    char *wide = malloc(8 * DRNN_MAX_NAME_LEN + 64);
    ck_assert_ptr_nonnull(wide);
    for (int extra = 0; extra <= 1; extra++) {
        o = 0;
        for (int i = 0; i < DRNN_MAX_NAME_LEN + extra; i++)
            o += (size_t)sprintf(wide + o, "e\xCC\x81");
        o += (size_t)sprintf(wide + o, "\xE3\x80\x80  \n");
        if (extra) {
            ck_assert_int_eq(parse_fail(wide, o, &err), DRNN_ERR_NAME_TOO_LONG);
        } else {
            parse_ok(&names, wide, 0);
            ck_assert_uint_eq(names.start[1], DRNN_MAX_NAME_LEN);
            ck_assert_uint_eq(names.symbols[0], 0xE9);
            drnn_names_free(&names);
        }
    }
    free(wide);
}
END_TEST

START_TEST(test_huge_line)
{
    size_t len = 10u << 20;
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 'x', len);
    buf[len - 1] = '\n';
    drnn_error err;
    ck_assert_int_eq(parse_fail(buf, len, &err), DRNN_ERR_NAME_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(err.message, "bad.txt:1:"));
    free(buf);
}
END_TEST

/* The i-th of a run of distinct code points that every step of the loader
 * keeps as they are (no case, no decomposition): the CJK Unified Ideographs
 * U+4E00 .. U+9FFF, then from U+20000 on (Extension B and after), below the
 * compatibility ideographs at U+2F800. */
static uint32_t nth_ideograph(int i)
{
    return i < 0x5200 ? 0x4E00u + (uint32_t)i : 0x20000u + (uint32_t)(i - 0x5200);
}

/* One distinct ideograph per line. */
static char *distinct_lines(int n, size_t *len)
{
    char *buf = malloc((size_t)n * 5 + 1);
    ck_assert_ptr_nonnull(buf);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        o += put_utf8(nth_ideograph(i), buf + o);
        buf[o++] = '\n';
    }
    *len = o;
    return buf;
}

START_TEST(test_vocab)
{
    drnn_names names;
    drnn_vocab vocab;
    drnn_error err;
    parse_ok(&names, "cab\nbad\néa\n", 0);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_OK);
    ck_assert_int_eq(vocab.size, 6);
    ck_assert_uint_eq(vocab.symbol[0], DRNN_END);
    ck_assert_uint_eq(vocab.symbol[1], 'a');
    ck_assert_uint_eq(vocab.symbol[2], 'b');
    ck_assert_uint_eq(vocab.symbol[3], 'c');
    ck_assert_uint_eq(vocab.symbol[4], 'd');
    ck_assert_uint_eq(vocab.symbol[5], 0xE9);
    for (int t = 1; t < vocab.size; t++)
        ck_assert_int_eq(drnn_vocab_find(&vocab, vocab.symbol[t]), t);
    ck_assert_int_eq(drnn_vocab_find(&vocab, 'z'), -1);
    ck_assert_int_eq(drnn_vocab_find(&vocab, '0'), -1);
    ck_assert_int_eq(drnn_vocab_find(&vocab, 0x10FFFF), -1);
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
}
END_TEST

/* 65,535 distinct symbols (tokens 1 .. 65535 of a 16-bit drnn_token) are
 * the most a vocabulary holds; one more is refused on the line that brings it. */
START_TEST(test_vocab_limit)
{
    drnn_names names;
    drnn_vocab vocab;
    drnn_error err;
    size_t len;
    ck_assert_int_eq(DRNN_MAX_VOCAB, 65536);

    char *buf = distinct_lines(DRNN_MAX_VOCAB - 1, &len);
    ck_assert_int_eq(drnn_names_parse(&names, buf, len, "v.txt", NULL, &err), DRNN_OK);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_OK);
    ck_assert_int_eq(vocab.size, DRNN_MAX_VOCAB);
    ck_assert_int_eq(drnn_vocab_find(&vocab, 0x4E00), 1);
    ck_assert_int_eq(drnn_vocab_find(&vocab, nth_ideograph(DRNN_MAX_VOCAB - 2)),
                     DRNN_MAX_VOCAB - 1);
    for (int t = 1; t < vocab.size; t++) {
        ck_assert_uint_eq(vocab.symbol[t], nth_ideograph(t - 1));
        ck_assert_int_eq(drnn_vocab_find(&vocab, vocab.symbol[t]), t);
    }
    /* Every token fits a drnn_token and encodes back to its symbol. */
    drnn_corpus corpus;
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &names, &vocab, 0, "v.txt", &err), DRNN_OK);
    ck_assert_uint_eq(corpus.count, (size_t)DRNN_MAX_VOCAB - 1);
    ck_assert_uint_eq(corpus.tokens[DRNN_MAX_VOCAB - 2], 65535);
    drnn_corpus_free(&corpus);
    drnn_vocab copy;
    ck_assert_int_eq(drnn_vocab_copy(&copy, &vocab, &err), DRNN_OK);
    ck_assert_int_eq(copy.size, vocab.size);
    ck_assert_ptr_ne(copy.symbol, vocab.symbol);
    ck_assert_mem_eq(copy.symbol, vocab.symbol, (size_t)vocab.size * sizeof *vocab.symbol);
    drnn_vocab_free(&copy);
    drnn_vocab_free(&vocab);
    ck_assert_ptr_null(vocab.symbol);
    drnn_vocab_free(&vocab); /* twice is harmless */
    drnn_names_free(&names);
    free(buf);

    buf = distinct_lines(DRNN_MAX_VOCAB + 10, &len);
    ck_assert_int_eq(drnn_names_parse(&names, buf, len, "v.txt", NULL, &err), DRNN_OK);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_ERR_VOCAB_TOO_BIG);
    ck_assert_int_eq(err.code, DRNN_ERR_VOCAB_TOO_BIG);
    ck_assert_ptr_null(vocab.symbol);
    char want[128];
    snprintf(want, sizeof want,
             "line 65536: more than 65535 distinct symbols (the limit) at U+%04X; "
             "is this a list of names?", (unsigned)nth_ideograph(65535));
    ck_assert_str_eq(err.message, want);
    drnn_names_free(&names);
    free(buf);
}
END_TEST

/* The fingerprint as names.h documents it, written independently. */
static uint64_t reference_fnv(const uint32_t *cps, const size_t *lens, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= lens[i]; j++) {
            uint32_t c = j < lens[i] ? *cps++ : 0;
            unsigned char b[4] = {(unsigned char)c, (unsigned char)(c >> 8),
                                  (unsigned char)(c >> 16), (unsigned char)(c >> 24)};
            for (int k = 0; k < 4; k++) {
                h ^= b[k];
                h *= 0x100000001b3ULL;
            }
        }
    }
    return h;
}

START_TEST(test_fingerprint)
{
    drnn_names a, b, c;
    parse_ok(&a, "ab\nc\n", 0);
    parse_ok(&b, "a\nbc\n", 0);
    parse_ok(&c, "c\nab\n", 0);
    static const uint32_t cps[] = {'a', 'b', 'c'};
    static const size_t lens_a[] = {2, 1}, lens_b[] = {1, 2};
    ck_assert(drnn_names_fingerprint(&a) == reference_fnv(cps, lens_a, 2));
    ck_assert(drnn_names_fingerprint(&b) == reference_fnv(cps, lens_b, 2));
    ck_assert(drnn_names_fingerprint(&a) != drnn_names_fingerprint(&b));
    ck_assert(drnn_names_fingerprint(&a) != drnn_names_fingerprint(&c));
    drnn_names_free(&a);
    drnn_names_free(&b);
    drnn_names_free(&c);

    /* Multi-byte code points contribute all four bytes. */
    parse_ok(&a, "\xF0\x9F\x98\x80\xC3\xA9\n", 1);
    static const uint32_t wide[] = {0x1F600, 0xE9};
    static const size_t lens_w[] = {2};
    ck_assert(drnn_names_fingerprint(&a) == reference_fnv(wide, lens_w, 1));
    drnn_names_free(&a);

    drnn_names empty = {0};
    ck_assert(drnn_names_fingerprint(&empty) == 0xcbf29ce484222325ULL);
}
END_TEST

START_TEST(test_corpus_encode)
{
    drnn_names train, data;
    drnn_vocab vocab;
    drnn_corpus corpus;
    drnn_error err;
    parse_ok(&train, "abc\n", 0);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &train, &err), DRNN_OK);
    parse_ok(&data, "cab\nabd\n\nba\nxyz\nc\n", 0);

    ck_assert_int_eq(drnn_corpus_encode(&corpus, &data, &vocab, 0, "d.txt", &err),
                     DRNN_ERR_UNKNOWN_SYMBOL);
    ck_assert_str_eq(err.message,
                     "d.txt:2: symbol 'd' (U+0064) is not in the model's vocabulary");
    ck_assert_ptr_null(corpus.tokens);
    ck_assert_uint_eq(corpus.count, 0);

    ck_assert_int_eq(drnn_corpus_encode(&corpus, &data, &vocab, 1, "d.txt", &err), DRNN_OK);
    ck_assert_uint_eq(corpus.count, 3);
    ck_assert_uint_eq(corpus.skipped, 2);
    ck_assert_int_eq(corpus.first_skipped_line, 2);
    ck_assert_int_eq(corpus.line[0], 1);
    ck_assert_int_eq(corpus.line[1], 4);
    ck_assert_int_eq(corpus.line[2], 6);
    ck_assert_int_eq(drnn_corpus_len(&corpus, 0), 3);
    ck_assert_int_eq(drnn_corpus_len(&corpus, 1), 2);
    ck_assert_int_eq(drnn_corpus_len(&corpus, 2), 1);
    static const drnn_token want[] = {3, 1, 2, 2, 1, 3};
    ck_assert_uint_eq(corpus.start[3], 6);
    ck_assert_mem_eq(corpus.tokens, want, sizeof want);
    drnn_corpus_free(&corpus);
    ck_assert_ptr_null(corpus.tokens);
    drnn_corpus_free(&corpus);

    /* Nothing unknown: nothing skipped. */
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &train, &vocab, 1, "t.txt", &err), DRNN_OK);
    ck_assert_uint_eq(corpus.count, 1);
    ck_assert_uint_eq(corpus.skipped, 0);
    ck_assert_int_eq(corpus.first_skipped_line, 0);
    drnn_corpus_free(&corpus);
    drnn_names_free(&data);

    /* Non-ASCII symbols are shown as UTF-8; everything skipped is allowed. */
    parse_ok(&data, "\n\nJosé\n", 0);
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &data, &vocab, 0, "d.txt", &err),
                     DRNN_ERR_UNKNOWN_SYMBOL);
    ck_assert_str_eq(err.message,
                     "d.txt:3: symbol 'j' (U+006A) is not in the model's vocabulary");
    drnn_names_free(&data);
    parse_ok(&data, "é\n", 0);
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &data, &vocab, 0, "d.txt", &err),
                     DRNN_ERR_UNKNOWN_SYMBOL);
    ck_assert_ptr_nonnull(strstr(err.message, "'é' (U+00E9)"));
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &data, &vocab, 1, "d.txt", &err), DRNN_OK);
    ck_assert_uint_eq(corpus.count, 0);
    ck_assert_uint_eq(corpus.skipped, 1);
    ck_assert_int_eq(corpus.first_skipped_line, 1);
    drnn_corpus_free(&corpus);
    drnn_names_free(&data);
    drnn_names_free(&train);
    drnn_vocab_free(&vocab);
}
END_TEST

/* drnn_corpus_parse(buf) against drnn_names_parse, drnn_vocab_build and
 * drnn_corpus_encode, which keep everything in between. */
static void check_corpus_parse(const char *text, size_t len, const drnn_vocab *given,
                               int skip)
{
    drnn_names names;
    drnn_vocab ref_vocab, vocab;
    drnn_corpus ref, got;
    drnn_error err, err2;
    uint64_t fp = 0;
    int rc_names = drnn_names_parse(&names, text, len, "c.txt", NULL, &err);
    if (given)
        vocab = ref_vocab = *given;
    else
        memset(&vocab, 0, sizeof vocab);
    int rc = drnn_corpus_parse(&got, &vocab, &fp, text, len, "c.txt", NULL, skip, &err2);
    if (rc_names != DRNN_OK) {
        ck_assert_int_eq(rc, rc_names);
        ck_assert_str_eq(err2.message, err.message);
        ck_assert_ptr_null(got.tokens);
        return;
    }
    int rc_ref = given ? DRNN_OK : drnn_vocab_build(&ref_vocab, &names, &err);
    if (rc_ref == DRNN_OK)
        rc_ref = drnn_corpus_encode(&ref, &names, &ref_vocab, skip, "c.txt", &err);
    ck_assert_int_eq(rc, rc_ref);
    if (rc == DRNN_OK || rc == DRNN_ERR_UNKNOWN_SYMBOL)
        ck_assert(fp == drnn_names_fingerprint(&names));
    if (rc != DRNN_OK) {
        if (rc != DRNN_ERR_VOCAB_TOO_BIG) /* "FILE:LINE:" instead of "line N:" */
            ck_assert_str_eq(err2.message, err.message);
        ck_assert_ptr_null(got.tokens);
        if (!given) {
            ck_assert_ptr_null(vocab.symbol);
            drnn_vocab_free(&ref_vocab);
        }
        drnn_names_free(&names);
        return;
    }
    ck_assert_int_eq(vocab.size, ref_vocab.size);
    ck_assert_mem_eq(vocab.symbol, ref_vocab.symbol, (size_t)vocab.size * sizeof vocab.symbol[0]);
    ck_assert_uint_eq(got.count, ref.count);
    ck_assert_uint_eq(got.skipped, ref.skipped);
    ck_assert_int_eq(got.first_skipped_line, ref.first_skipped_line);
    ck_assert_mem_eq(got.start, ref.start, (got.count + 1) * sizeof *got.start);
    if (got.start[got.count])
        ck_assert_mem_eq(got.tokens, ref.tokens, got.start[got.count] * sizeof *got.tokens);
    ck_assert_ptr_null(got.line);
    if (!given) {
        drnn_vocab_free(&vocab);
        drnn_vocab_free(&ref_vocab);
    }
    drnn_corpus_free(&got);
    drnn_corpus_free(&ref);
    drnn_names_free(&names);
}

START_TEST(test_corpus_parse)
{
    static const char *const texts[] = {
        "Alpha\n\nBeta\n \t \nGAMMA\n\n\nomega",
        "\xEF\xBB\xBF" "Abc\r\n Tyranno saurus \r\n",
        "Pokémon\rÉ\rΔΙΝΟΣΑΥΡΟΣ\rДИНОЗАВР\r",
        "İstanbul\nÀ\n~!@#\n",
        "", "\n \t\n", "a\x1b\n", "ok\nbad\xff\n", "x\0y\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_corpus_parse(texts[i], strlen(texts[i]) + (i == 8 ? 4 : 0), NULL, 0);

    /* With a given vocabulary: names with other symbols skipped or refused,
     * the fingerprint still of every name. */
    uint32_t abc_symbols[] = {DRNN_END, 'a', 'b', 'c'};
    drnn_vocab abc = {4, abc_symbols};
    static const char data[] = "cab\nabd\n\nba\nxyz\nc\n";
    check_corpus_parse(data, sizeof data - 1, &abc, 1);
    check_corpus_parse(data, sizeof data - 1, &abc, 0);
    check_corpus_parse("xyz\n", 4, &abc, 1); /* every name skipped: OK, none kept */
    /* A name skipped at its last symbol, after the kept ones: nothing of it
     * may be written (the tokens have room for the kept names only). */
    check_corpus_parse("ab\nabcabcabd\n", 13, &abc, 1);
    check_corpus_parse("\n\nJosé\n", 8, &abc, 0);

    /* Strict, with and without a fingerprint to finish. */
    drnn_corpus c;
    drnn_vocab v = abc;
    drnn_error err;
    ck_assert_int_eq(drnn_corpus_parse(&c, &v, NULL, data, sizeof data - 1, "d.txt", NULL, 0,
                                       &err),
                     DRNN_ERR_UNKNOWN_SYMBOL);
    ck_assert_str_eq(err.message, "d.txt:2: symbol 'd' (U+0064) is not in the model's vocabulary");
    ck_assert_int_eq(v.size, 4);

    /* The real data, and its vocabulary limit message naming file and line. */
    size_t len;
    char *many = distinct_lines(DRNN_MAX_VOCAB, &len);
    check_corpus_parse(many, len, NULL, 0);
    memset(&v, 0, sizeof v);
    ck_assert_int_eq(drnn_corpus_parse(&c, &v, NULL, many, len, "m.txt", NULL, 0, &err),
                     DRNN_ERR_VOCAB_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(err.message, "m.txt:65536: more than 65535 distinct symbols"));
    ck_assert_int_eq(v.size, 0);
    free(many);
    many = distinct_lines(DRNN_MAX_VOCAB - 1, &len);
    check_corpus_parse(many, len, NULL, 0);
    free(many);
}
END_TEST

START_TEST(test_corpus_load)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/dinos.txt", top ? top : ".");
    drnn_corpus c;
    drnn_vocab v;
    drnn_error err;
    uint64_t fp;
    memset(&v, 0, sizeof v);
    ck_assert_int_eq(drnn_corpus_load(&c, &v, &fp, path, NULL, 0, &err), DRNN_OK);
    drnn_names names;
    ck_assert_int_eq(drnn_names_load(&names, path, NULL, &err), DRNN_OK);
    ck_assert_uint_eq(c.count, 1536);
    ck_assert_int_eq(v.size, 27);
    ck_assert(fp == drnn_names_fingerprint(&names));
    drnn_names_free(&names);
    drnn_corpus_free(&c);
    ck_assert_int_eq(drnn_corpus_load(&c, &v, &fp, "/nonexistent/x.txt", NULL, 0, &err),
                     DRNN_ERR_NOT_FOUND);
    ck_assert_ptr_null(c.tokens);
    drnn_vocab_free(&v);
}
END_TEST

START_TEST(test_corpus_extract)
{
    /* Taking names out in place leaves what drnn_corpus_select would give. */
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus all, ref_rest, ref_out, out;
    drnn_error err;
    parse_ok(&names, "a\nbb\nccc\n\nd\neeeee\nf\ngg\n", 0);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_OK);
    static const size_t take[] = {1, 2, 5}, rest[] = {0, 3, 4, 6};
    ck_assert_int_eq(drnn_corpus_encode(&all, &names, &vocab, 0, "e.txt", &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&ref_out, &all, take, 3, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&ref_rest, &all, rest, 4, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_extract(&all, take, 3, &out, &err), DRNN_OK);
    const drnn_corpus *pairs[2][2] = {{&all, &ref_rest}, {&out, &ref_out}};
    for (int p = 0; p < 2; p++) {
        const drnn_corpus *a = pairs[p][0], *b = pairs[p][1];
        ck_assert_uint_eq(a->count, b->count);
        ck_assert_mem_eq(a->start, b->start, (a->count + 1) * sizeof *a->start);
        ck_assert_mem_eq(a->tokens, b->tokens, a->start[a->count] * sizeof *a->tokens);
        ck_assert_mem_eq(a->line, b->line, a->count * sizeof *a->line);
    }
    drnn_corpus_free(&out);
    /* Indices out of order or range are refused, the corpus untouched. */
    static const size_t bad[] = {2, 1};
    ck_assert_int_eq(drnn_corpus_extract(&all, bad, 2, &out, &err), DRNN_ERR_INVALID);
    static const size_t beyond[] = {4};
    ck_assert_int_eq(drnn_corpus_extract(&all, beyond, 1, &out, &err), DRNN_ERR_INVALID);
    ck_assert_uint_eq(all.count, 4);
    /* Taking nothing, then everything. */
    ck_assert_int_eq(drnn_corpus_extract(&all, NULL, 0, &out, &err), DRNN_OK);
    ck_assert_uint_eq(all.count, 4);
    ck_assert_uint_eq(out.count, 0);
    drnn_corpus_free(&out);
    static const size_t every[] = {0, 1, 2, 3};
    ck_assert_int_eq(drnn_corpus_extract(&all, every, 4, &out, &err), DRNN_OK);
    ck_assert_uint_eq(all.count, 0);
    ck_assert_uint_eq(out.count, 4);
    ck_assert_mem_eq(out.tokens, ref_rest.tokens, out.start[4] * sizeof *out.tokens);
    drnn_corpus_free(&out);
    drnn_corpus_free(&all);
    drnn_corpus_free(&ref_out);
    drnn_corpus_free(&ref_rest);
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
}
END_TEST

START_TEST(test_decode_controls)
{
    /* Control characters in a vocabulary (an old or crafted checkpoint)
     * never reach the output: each becomes U+FFFD. */
    uint32_t symbols[] = {DRNN_END, 'a', 0x1B, 0x85, 'b'};
    drnn_vocab v = {5, symbols};
    static const drnn_token t[] = {2, 1, 3, 4, 0};
    char buf[32];
    ck_assert_uint_eq(drnn_vocab_decode(&v, t, 5, 0, buf, sizeof buf), 3 + 1 + 3 + 1);
    ck_assert_str_eq(buf, "\xEF\xBF\xBD" "a\xEF\xBF\xBD" "b");
    /* Title case goes word by word, and what stands between letters there
     * separates words. */
    ck_assert_uint_eq(drnn_vocab_decode(&v, t, 5, 1, buf, sizeof buf), 3 + 1 + 3 + 1);
    ck_assert_str_eq(buf, "\xEF\xBF\xBD" "A\xEF\xBF\xBD" "B");
}
END_TEST

/* Checks that train and val partition 0..count-1, each ascending. */
static void check_partition(size_t count, const size_t *tr, size_t nt, const size_t *va,
                            size_t nv)
{
    ck_assert_uint_eq(nt + nv, count);
    unsigned char *seen = calloc(count, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t i = 0; i < nt; i++) {
        ck_assert_uint_lt(tr[i], count);
        ck_assert(!seen[tr[i]]);
        seen[tr[i]] = 1;
        if (i)
            ck_assert_uint_lt(tr[i - 1], tr[i]);
    }
    for (size_t i = 0; i < nv; i++) {
        ck_assert_uint_lt(va[i], count);
        ck_assert(!seen[va[i]]);
        seen[va[i]] = 1;
        if (i)
            ck_assert_uint_lt(va[i - 1], va[i]);
    }
    free(seen);
}

START_TEST(test_split_sizes)
{
    size_t *tr, *va, nt, nv;
    drnn_error err;

    ck_assert_int_eq(drnn_split(1536, 0.1, 42, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_eq(nv, 154);
    ck_assert_uint_eq(nt, 1382);
    check_partition(1536, tr, nt, va, nv);
    free(tr);
    free(va);

    ck_assert_int_eq(drnn_split(1536, 0.0, 42, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_eq(nv, 0);
    ck_assert_uint_eq(nt, 1536);
    ck_assert_ptr_nonnull(va);
    for (size_t i = 0; i < nt; i++)
        ck_assert_uint_eq(tr[i], i);
    free(tr);
    free(va);

    ck_assert_int_eq(drnn_split(3, 0.999, 1, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_le(nv, 2);
    ck_assert_uint_ge(nt, 1);
    check_partition(3, tr, nt, va, nv);
    free(tr);
    free(va);

    ck_assert_int_eq(drnn_split(1, 0.5, 1, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_eq(nv, 0);
    ck_assert_uint_eq(nt, 1);
    ck_assert_uint_eq(tr[0], 0);
    ck_assert_ptr_nonnull(va);
    free(tr);
    free(va);

    /* Rounds half up: 10 * 0.25 = 2.5 -> 3. */
    ck_assert_int_eq(drnn_split(10, 0.25, 1, &tr, &nt, &va, &nv, &err), DRNN_OK);
    ck_assert_uint_eq(nv, 3);
    free(tr);
    free(va);
}
END_TEST

START_TEST(test_split_deterministic)
{
    size_t *t1, *v1, *t2, *v2, *t3, *v3, n1, m1, n2, m2, n3, m3;
    drnn_error err;
    ck_assert_int_eq(drnn_split(500, 0.2, 7, &t1, &n1, &v1, &m1, &err), DRNN_OK);
    ck_assert_int_eq(drnn_split(500, 0.2, 7, &t2, &n2, &v2, &m2, &err), DRNN_OK);
    ck_assert_int_eq(drnn_split(500, 0.2, 8, &t3, &n3, &v3, &m3, &err), DRNN_OK);
    ck_assert_uint_eq(m1, 100);
    ck_assert_uint_eq(m1, m2);
    ck_assert_uint_eq(m1, m3);
    ck_assert_mem_eq(v1, v2, m1 * sizeof *v1);
    ck_assert_mem_eq(t1, t2, n1 * sizeof *t1);
    ck_assert(memcmp(v1, v3, m1 * sizeof *v1) != 0);
    /* Not simply the first or last indices. */
    ck_assert(!(v1[0] == 0 && v1[m1 - 1] == m1 - 1));
    ck_assert(!(v1[0] == 500 - m1 && v1[m1 - 1] == 499));

    /* The documented shuffle, replayed with the project's generator. */
    size_t perm[500];
    drnn_rng rng;
    drnn_rng_seed(&rng, 7);
    for (size_t i = 0; i < 500; i++)
        perm[i] = i;
    for (size_t i = 499; i >= 1; i--) {
        size_t j = (size_t)drnn_rng_below(&rng, i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    unsigned char in_val[500] = {0};
    for (size_t i = 0; i < 100; i++)
        in_val[perm[i]] = 1;
    for (size_t i = 0; i < m1; i++)
        ck_assert(in_val[v1[i]]);

    free(t1);
    free(v1);
    free(t2);
    free(v2);
    free(t3);
    free(v3);
}
END_TEST

START_TEST(test_split_invalid)
{
    static const double bad[] = {-0.1, 1.0, 1.5, -0.0 - 1e-300};
    size_t *tr = (size_t *)1, *va = (size_t *)1, nt = 9, nv = 9;
    drnn_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(drnn_split(10, bad[i], 1, &tr, &nt, &va, &nv, &err), DRNN_ERR_INVALID);
        ck_assert_ptr_null(tr);
        ck_assert_ptr_null(va);
        ck_assert_uint_eq(nt + nv, 0);
    }
    ck_assert_int_eq(drnn_split(10, NAN, 1, &tr, &nt, &va, &nv, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(drnn_split(10, INFINITY, 1, &tr, &nt, &va, &nv, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(drnn_split(0, 0.1, 1, &tr, &nt, &va, &nv, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(err.code, DRNN_ERR_INVALID);
    ck_assert_ptr_null(tr);
}
END_TEST

START_TEST(test_real_data)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/dinos.txt", top ? top : ".");
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus corpus;
    drnn_error err;
    int rc = drnn_names_load(&names, path, NULL, &err);
    ck_assert_msg(rc == DRNN_OK, "%s", err.message);
    ck_assert_uint_eq(names.count, 1536);
    for (size_t j = 0; j < names.start[names.count]; j++)
        ck_assert(names.symbols[j] >= 'a' && names.symbols[j] <= 'z');
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_OK);
    ck_assert_int_eq(vocab.size, 27);
    for (int t = 1; t < 27; t++)
        ck_assert_uint_eq(vocab.symbol[t], (uint32_t)('a' + t - 1));
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &names, &vocab, 0, path, &err), DRNN_OK);
    ck_assert_uint_eq(corpus.count, 1536);
    ck_assert_uint_eq(corpus.start[1536], names.start[1536]);
    drnn_corpus_free(&corpus);
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_simple_file);
    tcase_add_test(tc, test_crlf_same_as_lf);
    tcase_add_test(tc, test_cr_line_ends);
    tcase_add_test(tc, test_keep_case);
    tcase_add_test(tc, test_trim_blanks_and_bom);
    tcase_add_test(tc, test_utf8_names);
    tcase_add_test(tc, test_case_mapping);
    tcase_add_test(tc, test_normalization);
    tcase_add_test(tc, test_unicode_white_space);
    tcase_add_test(tc, test_real_data);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_directory);
    tcase_add_test(tc, test_other_open_error);
    tcase_add_test(tc, test_file_too_big);
    tcase_add_test(tc, test_fifo);
    tcase_add_test(tc, test_fifo_without_writer);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_utf16);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_name_length_limit);
    tcase_add_test(tc, test_huge_line);
    tcase_add_test(tc, test_control_characters);
    suite_add_tcase(s, tc);

    tc = tcase_create("vocab");
    tcase_add_test(tc, test_vocab);
    tcase_add_test(tc, test_vocab_limit);
    tcase_add_test(tc, test_fingerprint);
    tcase_add_test(tc, test_corpus_encode);
    tcase_add_test(tc, test_corpus_parse);
    tcase_add_test(tc, test_corpus_load);
    tcase_add_test(tc, test_corpus_extract);
    tcase_add_test(tc, test_decode_controls);
    suite_add_tcase(s, tc);

    tc = tcase_create("split");
    tcase_add_test(tc, test_split_sizes);
    tcase_add_test(tc, test_split_deterministic);
    tcase_add_test(tc, test_split_invalid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(names_suite());
}
