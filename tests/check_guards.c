/* check_guards.c: tests that catch careless edits which every other test
 * would let pass: every name of a mini-batch drawing its own dropout mask,
 * a checkpoint whose weights are not finite refused even with a valid CRC,
 * the UTF-8 decoder staying inside its buffer, and a resume from the middle
 * of an epoch reporting the epoch's loss as an uninterrupted run does. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "check_run.h"

/* Names as given (one per line), their vocabulary and tokens. */
typedef struct data {
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus corpus;
} data;

static void data_parse(data *d, const char *text, const drnn_vocab *vocab)
{
    drnn_error err;
    ck_assert_msg(drnn_names_parse(&d->names, text, strlen(text), "test", NULL, &err) == DRNN_OK,
                  "%s", err.message);
    if (vocab)
        ck_assert_int_eq(drnn_vocab_copy(&d->vocab, vocab, &err), DRNN_OK);
    else
        ck_assert_int_eq(drnn_vocab_build(&d->vocab, &d->names, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_encode(&d->corpus, &d->names, &d->vocab, 0, "test", &err),
                     DRNN_OK);
}

static void data_free(data *d)
{
    drnn_vocab_free(&d->vocab);
    drnn_corpus_free(&d->corpus);
    drnn_names_free(&d->names);
}

static void hparams(drnn_hparams *hp, int batch, double dropout)
{
    drnn_hparams_default(hp);
    hp->model.hidden = 16;
    hp->model.layers = 2;
    hp->members = 1;
    hp->batch = batch;
    hp->dropout = dropout;
    hp->optimizer = DRNN_OPT_SGD;
    hp->lr = 0.5;
    hp->clip = 0;
    hp->seed = 5;
}

/* One optimizer step of a fresh state on corpus; returns the state. */
static void one_step(drnn_train_state *st, const drnn_hparams *hp, const data *d)
{
    drnn_error err;
    drnn_trainer *t;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_state_new(st, hp, &d->vocab, 1, 0, "test", &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_new(&t, st, &d->corpus, &d->corpus, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 1, NULL, &rep, &err), DRNN_OK);
    ck_assert_int_eq(st->step, 1);
    drnn_trainer_free(t);
}

/* A mini-batch holding one name twice averages two gradients under two
 * masks: its step differs from the step on the name alone. Were the masks
 * shared, the two would be the same gradient and the same step. Without
 * dropout they are the same, which shows that nothing else differs. */
START_TEST(test_dropout_mask_per_name)
{
    data twice, once;
    data_parse(&twice, "tyrannosaurus\ntyrannosaurus\n", NULL);
    data_parse(&once, "tyrannosaurus\n", &twice.vocab);
    for (int with_dropout = 0; with_dropout <= 1; with_dropout++) {
        drnn_hparams h2, h1;
        hparams(&h2, 2, with_dropout ? 0.5 : 0);
        hparams(&h1, 1, with_dropout ? 0.5 : 0);
        drnn_train_state a, b;
        one_step(&a, &h2, &twice);
        one_step(&b, &h1, &once);
        int same = !memcmp(a.weights.data, b.weights.data, a.weights.count * sizeof *a.weights.data);
        if (with_dropout)
            ck_assert_msg(!same, "a batch of one name twice stepped as the name alone: shared dropout mask");
        else
            ck_assert_msg(same, "without dropout, a name twice must step as the name once");
        drnn_state_free(&a);
        drnn_state_free(&b);
    }
    data_free(&twice);
    data_free(&once);
}
END_TEST

/* A checkpoint whose weights (or optimizer moments) hold a NaN or an
 * infinity, with a CRC that matches, is refused. The value is planted by
 * finding a marker float in the encoded bytes. */
START_TEST(test_nonfinite_checkpoint_refused)
{
    static const float bad[] = {NAN, INFINITY, -INFINITY};
    data d;
    data_parse(&d, "ab\nba\nabba\n", NULL);
    drnn_hparams hp;
    hparams(&hp, 2, 0);
    hp.optimizer = DRNN_OPT_ADAM;
    for (int where = 0; where < 3; where++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            drnn_train_state st;
            drnn_error err;
            ck_assert_int_eq(drnn_state_new(&st, &hp, &d.vocab, 1, 0, "test", &err), DRNN_OK);
            const float marker = 1234.5678f;
            drnn_params *p = where == 0 ? &st.weights : where == 1 ? &st.moment1 : &st.moment2;
            p->data[p->count / 2] = marker;
            unsigned char *buf;
            size_t len;
            ck_assert_int_eq(drnn_checkpoint_encode(&st, &buf, &len, &err), DRNN_OK);
            size_t at = 0, found = 0;
            for (size_t i = 0; i + 4 <= len - 4; i++)
                if (!memcmp(buf + i, &marker, 4))
                    at = i, found++;
            ck_assert_int_eq(found, 1);
            memcpy(buf + at, &bad[b], 4);
            uint32_t crc = drnn_crc32(0, buf, len - 4);
            for (int k = 0; k < 4; k++)
                buf[len - 4 + k] = (unsigned char)(crc >> (8 * k));
            drnn_train_state back;
            int rc = drnn_checkpoint_decode(&back, buf, len, "planted", 1, &err);
            ck_assert_msg(rc == DRNN_ERR_CKPT_CORRUPT, "a %g in %s was accepted (status %d)",
                          (double)bad[b], where == 0 ? "the weights" : "a moment", rc);
            ck_assert_msg(strstr(err.message, "finite") != NULL, "message: %s", err.message);
            free(buf);
            drnn_state_free(&st);
        }
    data_free(&d);
}
END_TEST

/* Names from a buffer of exactly their size that ends inside a multi-byte
 * sequence: a clean error, and no read past the end (the sanitizer build
 * and valgrind see any). */
START_TEST(test_utf8_end_of_buffer)
{
    static const char *const cases[] = {"ab\xc3", "ab\xe2\x82", "ab\xf0\x9f\x98", "\xf0", "x\n\xe2"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        char *buf = malloc(n);
        ck_assert_ptr_nonnull(buf);
        memcpy(buf, cases[i], n); /* no terminating NUL */
        drnn_names names;
        drnn_error err;
        int rc = drnn_names_parse(&names, buf, n, "cut", NULL, &err);
        ck_assert_msg(rc == DRNN_ERR_UTF8, "case %zu: status %d", i, rc);
        free(buf);
    }
}
END_TEST

/* Stopped after a few mini-batches, saved, loaded into a new state and
 * continued: the epoch's reported training loss is the uninterrupted
 * run's, bit for bit (the running sum travels in the checkpoint). */
START_TEST(test_resume_keeps_epoch_loss)
{
    data d;
    data_parse(&d, "ab\nbca\nabba\ncab\nbb\naca\nbaab\nc\nabc\ncc\n", NULL);
    drnn_hparams hp;
    hparams(&hp, 2, 0.2);
    drnn_error err;
    drnn_train_state whole, part, back;
    drnn_trainer *t;
    drnn_epoch_report rep_whole, rep_part;
    ck_assert_int_eq(drnn_state_new(&whole, &hp, &d.vocab, 1, 0, "test", &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_new(&t, &whole, &d.corpus, &d.corpus, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 0, NULL, &rep_whole, &err), DRNN_OK);
    ck_assert(rep_whole.finished);
    drnn_trainer_free(t);

    ck_assert_int_eq(drnn_state_new(&part, &hp, &d.vocab, 1, 0, "test", &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_new(&t, &part, &d.corpus, &d.corpus, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 2, NULL, &rep_part, &err), DRNN_OK);
    ck_assert(!rep_part.finished);
    drnn_trainer_free(t);
    unsigned char *buf;
    size_t len;
    ck_assert_int_eq(drnn_checkpoint_encode(&part, &buf, &len, &err), DRNN_OK);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, buf, len, "mid-epoch", 1, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_new(&t, &back, &d.corpus, &d.corpus, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 0, NULL, &rep_part, &err), DRNN_OK);
    ck_assert(rep_part.finished);
    ck_assert_msg(rep_part.train_loss == rep_whole.train_loss, "resumed epoch loss %.17g, whole %.17g",
                  rep_part.train_loss, rep_whole.train_loss);
    ck_assert(rep_part.val_loss == rep_whole.val_loss);
    ck_assert(!memcmp(back.weights.data, whole.weights.data, whole.weights.count * sizeof(drnn_real)));
    drnn_trainer_free(t);
    free(buf);
    drnn_state_free(&whole);
    drnn_state_free(&part);
    drnn_state_free(&back);
    data_free(&d);
}
END_TEST

static Suite *guards_suite(void)
{
    Suite *suite = suite_create("guards");
    TCase *tc = tcase_create("guards");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dropout_mask_per_name);
    tcase_add_test(tc, test_nonfinite_checkpoint_refused);
    tcase_add_test(tc, test_utf8_end_of_buffer);
    tcase_add_test(tc, test_resume_keeps_epoch_loss);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(guards_suite());
}
