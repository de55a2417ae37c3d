/* check_train.c: the trainer and checkpoints: bit-identical weights for any
 * thread count, bit-identical resume (at an epoch's end and in its middle),
 * the same on a labeled list,
 * checkpoint round trips, every kind of damage rejected, and a failed write
 * that leaves the previous checkpoint as it was. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "dinornn/train.h"
#include "check_run.h"

/* One network as the model that evaluation takes (as check_sample.c's NET:
 * a pointer to a value that lives in the calling block). */
#define NET(w) (&(const drnn_model){.cfg = (w)->cfg, .count = 1, .nets = (w)})
#include "state.h" /* drnn_state_end_epoch: the schedule driven epoch by epoch */
#include "plan.h"
#include "reduce.h" /* the tree of the slots' sum, against a plain one */
#include "pacer.h"  /* the thread count chosen by measuring */

/* The first names of data/dinos.txt's vocabulary, enough for real training. */
typedef struct fixture {
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus all, train, val;
} fixture;

static void fixture_load(fixture *f, size_t max_names)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/dinos.txt", top ? top : ".");
    drnn_error err;
    ck_assert_msg(drnn_names_load(&f->names, path, NULL, &err) == DRNN_OK, "%s", err.message);
    ck_assert_int_eq(drnn_vocab_build(&f->vocab, &f->names, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_encode(&f->all, &f->names, &f->vocab, 0, path, &err), DRNN_OK);
    size_t n = f->all.count < max_names ? f->all.count : max_names;
    size_t *ti, *vi, nt, nv;
    ck_assert_int_eq(drnn_split(n, 0.2, 3, &ti, &nt, &vi, &nv, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&f->train, &f->all, ti, nt, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&f->val, &f->all, vi, nv, &err), DRNN_OK);
    free(ti);
    free(vi);
}

/* The first max_names names of data/dinos.txt as a labeled list (issue
 * 29): "name<TAB>label", the label by the name's second letter ("vowel",
 * "liquid" l m n r, "other": 3 labels of unequal shares; the file is sorted,
 * so not the first), read by drnn_corpus_parse; split by label as
 * dinornn-train splits it. */
static void fixture_load_labeled(fixture *f, size_t max_names)
{
    memset(f, 0, sizeof *f);
    const char *top = getenv("top_srcdir");
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/data/dinos.txt", top ? top : ".");
    FILE *in = fopen(path, "r");
    ck_assert_ptr_nonnull(in);
    size_t cap = max_names * 300, len = 0, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while (n < max_names && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        const char c = (char)(line[1] | 0x20);
        const char *label = !c                   ? "other"
                            : strchr("aeiou", c) ? "vowel"
                            : strchr("lmnr", c)  ? "liquid"
                                                 : "other";
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\n", line, label);
        ck_assert_uint_lt(len, cap);
        n++;
    }
    fclose(in);
    drnn_error err;
    ck_assert_msg(drnn_corpus_parse(&f->all, &f->vocab, NULL, buf, len, "labeled dinos", NULL, 0,
                                    &err) == DRNN_OK, "%s", err.message);
    free(buf);
    ck_assert_ptr_nonnull(f->all.labels);
    ck_assert_int_eq(f->all.label_table.count, 3);
    size_t *ti, *vi, nt, nv;
    ck_assert_int_eq(drnn_split_labeled(&f->all, 0.2, 3, &ti, &nt, &vi, &nv, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&f->train, &f->all, ti, nt, &err), DRNN_OK);
    ck_assert_int_eq(drnn_corpus_select(&f->val, &f->all, vi, nv, &err), DRNN_OK);
    free(ti);
    free(vi);
}

static void fixture_free(fixture *f)
{
    drnn_vocab_free(&f->vocab);
    drnn_corpus_free(&f->train);
    drnn_corpus_free(&f->val);
    drnn_corpus_free(&f->all);
    drnn_names_free(&f->names);
}

static void small_hparams(drnn_hparams *hp, drnn_optimizer opt)
{
    drnn_hparams_default(hp);
    hp->model.hidden = 24;
    hp->model.layers = 2;
    hp->members = 1;
    hp->batch = 13; /* uneven: the last mini-batch of an epoch is short */
    hp->optimizer = opt;
    hp->lr = opt == DRNN_OPT_SGD ? 0.1 : 0.01;
    hp->momentum = opt == DRNN_OPT_SGD ? 0.9 : 0;
    hp->seed = 77;
}

/* A new run's state; a labeled one keeps the training names' label table
 * (as dinornn-train does). */
static int state_for(drnn_train_state *st, const drnn_hparams *hp, const fixture *f,
                     drnn_error *err)
{
    int rc = drnn_state_new(st, hp, &f->vocab, 1, 0, "dinos", err);
    if (!rc && hp->model.labels > 0) {
        rc = drnn_label_table_copy(&st->labels, &f->train.label_table, err);
        if (rc)
            drnn_state_free(st);
    }
    return rc;
}

static void new_state(drnn_train_state *st, const drnn_hparams *hp, const fixture *f)
{
    drnn_error err;
    ck_assert_msg(state_for(st, hp, f, &err) == DRNN_OK, "%s", err.message);
}

/* Trains st for whole epochs up to `epochs`. */
static void train_to(drnn_train_state *st, const fixture *f, int64_t epochs)
{
    drnn_trainer *t;
    drnn_error err;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_trainer_new(&t, st, &f->train, &f->val, &err), DRNN_OK);
    while (st->epoch < epochs) {
        ck_assert_int_eq(drnn_trainer_epoch(t, 0, NULL, &rep, &err), DRNN_OK);
        ck_assert(rep.finished && isfinite(rep.train_loss) && isfinite(rep.val_loss));
    }
    drnn_trainer_free(t);
}

/* Sets the thread count and checks that a parallel region really gets it
 * (OMP_THREAD_LIMIT or OMP_DYNAMIC could quietly give fewer, and the
 * thread-identity tests would compare a run with itself). */
static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_dynamic(0);
    omp_set_num_threads(n);
    if (n > 64)
        return; /* test_huge_thread_count: the library must cap it, not us */
    int got = 0;
#pragma omp parallel
    {
#pragma omp single
        got = omp_get_num_threads();
    }
    ck_assert_msg(got == n, "asked for %d threads, a parallel region got %d", n, got);
#else
    (void)n;
#endif
}

static int same_state(const drnn_train_state *a, const drnn_train_state *b)
{
    unsigned char *x, *y;
    size_t nx, ny;
    ck_assert_int_eq(drnn_checkpoint_encode(a, &x, &nx, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_checkpoint_encode(b, &y, &ny, NULL), DRNN_OK);
    int same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* Configurations the exactness tests cover: every optimizer and every
 * cell, with dropout and weight decay in some; the last three are big
 * enough (> 65,536 parameters) for the reduction and the update to run on
 * several threads, with both clipping modes. */
static void config_hparams(drnn_hparams *hp, int i)
{
    static const struct {
        drnn_optimizer opt;
        drnn_cell_kind cell;
        double dropout, weight_decay;
        int hidden;
        drnn_clip_mode clip;
    } configs[] = {
        {DRNN_OPT_ADAM, DRNN_CELL_RNN, 0, 0, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_SGD, DRNN_CELL_RNN, 0, 1e-3, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_ADAGRAD, DRNN_CELL_RNN, 0.2, 0, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_ADAM, DRNN_CELL_LSTM, 0.2, 0.01, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_ADAM, DRNN_CELL_GRU, 0.2, 0.01, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_SGD, DRNN_CELL_GRU, 0, 0, 24, DRNN_CLIP_NORM},
        {DRNN_OPT_ADAM, DRNN_CELL_GRU, 0.2, 0.01, 96, DRNN_CLIP_NORM},
        {DRNN_OPT_SGD, DRNN_CELL_RNN, 0, 0, 160, DRNN_CLIP_VALUE},
        {DRNN_OPT_ADAGRAD, DRNN_CELL_LSTM, 0, 0, 80, DRNN_CLIP_VALUE},
    };
    small_hparams(hp, configs[i].opt);
    hp->model.cell = configs[i].cell;
    hp->dropout = configs[i].dropout;
    hp->weight_decay = configs[i].weight_decay;
    hp->model.hidden = configs[i].hidden;
    hp->clip_mode = configs[i].clip;
    if (configs[i].clip == DRNN_CLIP_VALUE)
        hp->clip = 0.01; /* small enough to bite */
}
#define N_CONFIGS 9
#define N_SMALL_CONFIGS 6

START_TEST(test_threads_bit_identical)
{
#ifndef _OPENMP
    if (_i == 0)
        fprintf(stderr, "SKIP thread-count identity: built without OpenMP (one thread only)\n");
    return;
#endif
    fixture f;
    fixture_load(&f, 300);
    drnn_hparams hp;
    config_hparams(&hp, _i);
    drnn_train_state ref, st;
    set_threads(1);
    new_state(&ref, &hp, &f);
    if (_i >= N_SMALL_CONFIGS)
        ck_assert_uint_gt(ref.weights.count, 65536);
    train_to(&ref, &f, 2);
    static const int threads[] = {2, 3, 8};
    for (int i = 0; i < 3; i++) {
        set_threads(threads[i]);
        new_state(&st, &hp, &f);
        train_to(&st, &f, 2);
        ck_assert_msg(memcmp(ref.weights.data, st.weights.data,
                             ref.weights.count * sizeof(drnn_real)) == 0,
                      "%s %s: weights differ between 1 and %d threads",
                      drnn_cell_name(hp.model.cell), drnn_optimizer_name(hp.optimizer), threads[i]);
        ck_assert_msg(same_state(&ref, &st), "optimizer state or counters differ");
        drnn_state_free(&st);
    }
    /* A different seed really gives other weights: the comparison can fail. */
    hp.seed++;
    new_state(&st, &hp, &f);
    train_to(&st, &f, 2);
    ck_assert(memcmp(ref.weights.data, st.weights.data, ref.weights.count * sizeof(drnn_real)) != 0);
    drnn_state_free(&st);
    drnn_state_free(&ref);
    set_threads(2);
    fixture_free(&f);
}
END_TEST

/* Trains and evaluates under `threads` threads (0: the count the runtime
 * reports, untouched), then under 1: the same bytes and losses. */
static void same_as_one_thread(int threads)
{
    fixture f;
    fixture_load(&f, 60);
    drnn_hparams hp;
    config_hparams(&hp, N_SMALL_CONFIGS + 1); /* over 65536 parameters: the parallel update too */
    drnn_train_state ref, st;
    drnn_error err;
    double nats_ref, nats;
    int64_t chars_ref, chars;
#ifdef _OPENMP
    const int runtime = omp_get_max_threads();
#else
    const int runtime = 1;
#endif
    if (threads)
        set_threads(threads);
    new_state(&st, &hp, &f);
    train_to(&st, &f, 1);
    ck_assert_int_eq(drnn_evaluate(NET(&st.weights), &f.val, &nats, &chars, &err), DRNN_OK);
    set_threads(1);
    new_state(&ref, &hp, &f);
    train_to(&ref, &f, 1);
    ck_assert_int_eq(drnn_evaluate(NET(&ref.weights), &f.val, &nats_ref, &chars_ref, &err), DRNN_OK);
    ck_assert_msg(same_state(&ref, &st), "%d threads (the runtime's: %d) trained other weights than 1",
                  threads, runtime);
    ck_assert(nats == nats_ref && chars == chars_ref);
    drnn_state_free(&st);
    drnn_state_free(&ref);
    set_threads(2);
    fixture_free(&f);
}

/* OMP_NUM_THREADS=70000 made libgomp crash: no region may ask for more
 * threads than DRNN_MAX_THREADS, nor than it has pieces of work. */
START_TEST(test_huge_thread_count)
{
    same_as_one_thread(70000);
}
END_TEST

/* The thread count the runtime reports, whatever it is: an OMP_NUM_THREADS
 * past INT_MAX comes back from libgomp as 0 or negative, which segfaulted
 * the trainer or failed its allocations. tests/cli-guards.sh runs this case
 * alone ("runtime threads") under such values; with a sane environment it
 * checks the runtime's own count. */
START_TEST(test_runtime_thread_count)
{
    same_as_one_thread(0);
}
END_TEST

static char *temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    snprintf(dir, 4096, "%s/dinornn-test-XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

/* 2 epochs, a checkpoint file, 2 more (from a fresh process's view) equals 4 in one go;
 * so does stopping after 3 mini-batches of epoch 3 and resuming from that. */
/* A mixture trained member after member (as dinornn-train does): each
 * member until it reaches `epochs`, then the next; stops after `steps`
 * mini-batches of member `stop_member` when steps > 0. */
static void train_members(drnn_train_state *st, const fixture *f, int64_t epochs, int stop_member,
                          int64_t steps)
{
    drnn_trainer *t;
    drnn_error err;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_trainer_new(&t, st, &f->train, &f->val, &err), DRNN_OK);
    for (;;) {
        if (drnn_state_member_done(st, epochs)) {
            if (st->member + 1 >= st->hp.members)
                break;
            drnn_state_next_member(st);
        }
        int stop = steps > 0 && st->member == stop_member;
        ck_assert_int_eq(drnn_trainer_epoch(t, stop ? steps : 0, NULL, &rep, &err), DRNN_OK);
        if (stop)
            break;
    }
    drnn_trainer_free(t);
}

/* Members: each starts afresh from its own streams, its best weights are
 * kept, and a run stopped inside the second member and resumed from a
 * checkpoint ends with the same bytes as one left alone. */
START_TEST(test_members_resume_bit_identical)
{
    fixture f;
    fixture_load(&f, 300);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.members = 3;
    hp.patience = 0;
    hp.dropout = 0.2;
    drnn_train_state ref, st, loaded;
    drnn_error err;
    new_state(&ref, &hp, &f);
    ck_assert_int_eq(ref.member, 0);
    train_members(&ref, &f, 2, 0, 0);
    ck_assert_int_eq(ref.member, 2);
    ck_assert_int_eq(ref.epoch, 2);
    /* Three different members, each slot its member's best weights: the
     * last member's slot is its weights at its best epoch. */
    const size_t P = ref.weights.count;
    ck_assert(memcmp(ref.member_best, ref.member_best + P, P * sizeof(drnn_real)) != 0);
    ck_assert(memcmp(ref.member_best + P, ref.member_best + 2 * P, P * sizeof(drnn_real)) != 0);
    if (ref.best_epoch == ref.epoch)
        ck_assert(memcmp(ref.member_best + 2 * P, ref.weights.data, P * sizeof(drnn_real)) == 0);
    /* The model is the mixture of all three. */
    drnn_params parts[DRNN_MAX_MEMBERS];
    drnn_model model = drnn_state_model(&ref, parts);
    ck_assert_int_eq(model.count, 3);
    double nats, one;
    int64_t chars, chars1;
    ck_assert_int_eq(drnn_evaluate(&model, &f.val, &nats, &chars, &err), DRNN_OK);
    ck_assert_int_eq(drnn_evaluate(NET(&parts[0]), &f.val, &one, &chars1, &err), DRNN_OK);
    ck_assert_int_eq(chars, chars1);
    ck_assert(isfinite(nats) && nats != one);

    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/latest.ckpt", dir);
    new_state(&st, &hp, &f);
    train_members(&st, &f, 2, 1, 3); /* 3 mini-batches into the second member */
    ck_assert_int_eq(st.member, 1);
    ck_assert_int_eq(st.epoch_pos, 3 * hp.batch);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);
    drnn_state_free(&st);
    ck_assert_int_eq(drnn_checkpoint_load(&loaded, path, &err), DRNN_OK);
    ck_assert_int_eq(loaded.member, 1);
    train_members(&loaded, &f, 2, 0, 0);
    ck_assert_msg(same_state(&ref, &loaded), "a mixture resumed inside a member is not exact");
    drnn_state_free(&loaded);
    drnn_state_free(&ref);
    remove_dir(dir);
    fixture_free(&f);
}
END_TEST

START_TEST(test_resume_bit_identical)
{
    fixture f;
    fixture_load(&f, 300);
    drnn_hparams hp;
    config_hparams(&hp, _i);
    hp.schedule = DRNN_SCHED_STEP;
    hp.step_epochs = 1;
    drnn_train_state ref, st, loaded;
    drnn_error err;
    new_state(&ref, &hp, &f);
    train_to(&ref, &f, 4);

    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/latest.ckpt", dir);
    new_state(&st, &hp, &f);
    train_to(&st, &f, 2);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);
    drnn_state_free(&st);
    ck_assert_int_eq(drnn_checkpoint_load(&loaded, path, &err), DRNN_OK);
    train_to(&loaded, &f, 4);
    ck_assert_msg(same_state(&ref, &loaded), "resume at an epoch boundary is not exact");
    drnn_state_free(&loaded);

    /* Mid-epoch: stop after 3 mini-batches of the third epoch. */
    new_state(&st, &hp, &f);
    train_to(&st, &f, 2);
    drnn_trainer *t;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &f.train, &f.val, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 3, NULL, &rep, &err), DRNN_OK);
    ck_assert(!rep.finished);
    ck_assert_int_eq(st.epoch_pos, 3 * hp.batch);
    drnn_trainer_free(t);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);
    drnn_state_free(&st);
    ck_assert_int_eq(drnn_checkpoint_load(&loaded, path, &err), DRNN_OK);
    ck_assert_int_eq(loaded.epoch_pos, 3 * hp.batch);
    train_to(&loaded, &f, 4);
    ck_assert_msg(same_state(&ref, &loaded), "resume in the middle of an epoch is not exact");
    drnn_state_free(&loaded);

    drnn_state_free(&ref);
    remove_dir(dir);
    fixture_free(&f);
}
END_TEST

/* ---- a labeled list (issue 29) ---- */

/* The labeled runs' configurations: config_hparams' LSTM with Adam,
 * dropout and weight decay, GRU with SGD, and the LSTM with Adagrad big
 * enough for the parallel update. */
static const int label_configs[] = {3, 5, 8};

static void labeled_hparams(drnn_hparams *hp, int i, const fixture *f)
{
    config_hparams(hp, label_configs[i]);
    hp->model.labels = f->train.label_table.count;
}

/* Every row of W_l moved from where it started: each label's names were
 * trained under their own label (a trainer that passed label 0 for all,
 * or none, would leave rows 1 and 2 as they were). */
static void expect_rows_trained(const drnn_train_state *st, const drnn_real *w_l0)
{
    const size_t row = st->weights.count - (size_t)(st->weights.W_l - st->weights.data);
    const size_t GH = row / (size_t)st->hp.model.labels;
    for (int k = 0; k < st->hp.model.labels; k++)
        ck_assert_msg(memcmp(st->weights.W_l + k * GH, w_l0 + k * GH, GH * sizeof *w_l0) != 0,
                      "label %d's row of W_l was not trained", k);
}

/* A labeled list: 1, 2 and 4 threads train the same weights (W_l
 * included) and checkpoint bytes; the checkpoint keeps the labels and
 * their training counts; every label's row of W_l was trained. */
START_TEST(test_labels_threads_bit_identical)
{
    fixture f;
    fixture_load_labeled(&f, 300);
    drnn_hparams hp;
    labeled_hparams(&hp, _i, &f);
    ck_assert_int_eq(hp.model.labels, 3);
    drnn_train_state ref, st;
    set_threads(1);
    new_state(&ref, &hp, &f);
    ck_assert_ptr_nonnull(ref.weights.W_l);
    const size_t n_l = ref.weights.count - (size_t)(ref.weights.W_l - ref.weights.data);
    drnn_real *w_l0 = malloc(n_l * sizeof *w_l0);
    ck_assert_ptr_nonnull(w_l0);
    memcpy(w_l0, ref.weights.W_l, n_l * sizeof *w_l0);
    train_to(&ref, &f, 2);
    expect_rows_trained(&ref, w_l0);
    static const int threads[] = {2, 4};
    for (int i = 0; i < 2; i++) {
        set_threads(threads[i]);
        new_state(&st, &hp, &f);
        ck_assert(!memcmp(st.weights.W_l, w_l0, n_l * sizeof *w_l0));
        train_to(&st, &f, 2);
        ck_assert_msg(!memcmp(ref.weights.data, st.weights.data,
                              ref.weights.count * sizeof(drnn_real)),
                      "%s %s, labeled: weights differ between 1 and %d threads",
                      drnn_cell_name(hp.model.cell), drnn_optimizer_name(hp.optimizer), threads[i]);
        ck_assert_msg(same_state(&ref, &st), "labeled: checkpoints differ between 1 and %d threads",
                      threads[i]);
        drnn_state_free(&st);
    }
    /* The checkpoint's labels: the training names' table. */
    unsigned char *buf;
    size_t len;
    drnn_error err;
    ck_assert_int_eq(drnn_checkpoint_encode(&ref, &buf, &len, NULL), DRNN_OK);
    ck_assert_msg(drnn_checkpoint_decode(&st, buf, len, "mem", 1, &err) == DRNN_OK, "%s",
                  err.message);
    ck_assert_int_eq(buf[8], 4); /* format version 4 */
    ck_assert_int_eq(st.labels.count, 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_str_eq(st.labels.text[k], f.train.label_table.text[k]);
        ck_assert_int_eq(st.labels.names[k], f.train.label_table.names[k]);
    }
    ck_assert(!memcmp(st.weights.data, ref.weights.data, ref.weights.count * sizeof(drnn_real)));
    drnn_state_free(&st);
    free(buf);
    free(w_l0);
    drnn_state_free(&ref);
    set_threads(2);
    fixture_free(&f);
}
END_TEST

/* Encodes st, frees it and decodes the bytes into it: what a resume from
 * a checkpoint starts from. */
static void through_checkpoint(drnn_train_state *st)
{
    unsigned char *buf;
    size_t len;
    drnn_error err;
    ck_assert_int_eq(drnn_checkpoint_encode(st, &buf, &len, NULL), DRNN_OK);
    drnn_state_free(st);
    ck_assert_msg(drnn_checkpoint_decode(st, buf, len, "mem", 1, &err) == DRNN_OK, "%s",
                  err.message);
    free(buf);
}

/* A labeled run interrupted after epoch 1, and one in the middle of epoch
 * 2, each resumed from its checkpoint's bytes (on another thread count),
 * ends with the bytes of a run left alone for 3 epochs. */
START_TEST(test_labels_resume_bit_identical)
{
    fixture f;
    fixture_load_labeled(&f, 300);
    drnn_hparams hp;
    labeled_hparams(&hp, _i, &f);
    hp.schedule = DRNN_SCHED_STEP;
    hp.step_epochs = 1;
    drnn_train_state ref, st;
    drnn_error err;
    set_threads(2);
    new_state(&ref, &hp, &f);
    train_to(&ref, &f, 3);

    new_state(&st, &hp, &f);
    train_to(&st, &f, 1);
    through_checkpoint(&st);
    ck_assert_int_eq(st.labels.count, 3);
    set_threads(3);
    train_to(&st, &f, 3);
    ck_assert_msg(same_state(&ref, &st), "labeled: resume at an epoch boundary is not exact");
    drnn_state_free(&st);

    set_threads(2);
    new_state(&st, &hp, &f);
    train_to(&st, &f, 1);
    drnn_trainer *t;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &f.train, &f.val, &err), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 3, NULL, &rep, &err), DRNN_OK);
    ck_assert(!rep.finished);
    drnn_trainer_free(t);
    through_checkpoint(&st);
    ck_assert_int_eq(st.epoch_pos, 3 * hp.batch);
    set_threads(1);
    train_to(&st, &f, 3);
    ck_assert_msg(same_state(&ref, &st), "labeled: resume in the middle of an epoch is not exact");
    drnn_state_free(&st);

    /* The labels matter: the same run with every name under one label
     * trains other weights. */
    for (size_t i = 0; i < f.train.count; i++)
        f.train.labels[i] = 0;
    new_state(&st, &hp, &f);
    train_to(&st, &f, 3);
    ck_assert(memcmp(ref.weights.data, st.weights.data,
                     (size_t)(ref.weights.W_l - ref.weights.data) * sizeof(drnn_real)) != 0);
    drnn_state_free(&st);
    drnn_state_free(&ref);
    set_threads(2);
    fixture_free(&f);
}
END_TEST

/* The slot count is a setting of the run: for a count other than 8 the
 * weights are again the same for any thread count (more threads than 8
 * included, which the count no longer caps), and another count gives other
 * weights. */
START_TEST(test_slots_bit_identical)
{
    fixture f;
    fixture_load(&f, 200);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.batch = 26;
    hp.slots = 13;
    drnn_train_state ref, st;
    set_threads(1);
    new_state(&ref, &hp, &f);
    train_to(&ref, &f, 2);
    static const int threads[] = {4, 13};
    for (int i = 0; i < 2; i++) {
        set_threads(threads[i]);
        new_state(&st, &hp, &f);
        train_to(&st, &f, 2);
        ck_assert_msg(same_state(&ref, &st), "13 slots: 1 and %d threads differ", threads[i]);
        drnn_state_free(&st);
    }
    hp.slots = DRNN_GRAD_SLOTS;
    new_state(&st, &hp, &f);
    train_to(&st, &f, 2);
    ck_assert_msg(!same_state(&ref, &st), "13 slots and 8 trained the same weights");
    drnn_state_free(&st);
    drnn_state_free(&ref);
    set_threads(2);
    fixture_free(&f);
}
END_TEST

/* ---- a distributed run in one test: processes forked, joined by pipes ----
 * A pipe joins every two processes each way. Each message carries its
 * round: one more than the latest round this process had received when it
 * sent it, so the largest round seen is the longest chain of messages,
 * each waiting for the one before (a Lamport clock). The broadcast is a
 * binomial tree over the same pipes, as MPI's is. */

enum { MAX_PROCS = 8 };

typedef struct pipes {
    int rank, ranks;
    int link[MAX_PROCS][MAX_PROCS][2]; /* link[a][b]: process a to process b */
    int64_t round;                     /* the latest round received */
    int64_t sent;                      /* messages sent (a broadcast's hops too) */
    int64_t sent_bytes;                /* their bytes */
    int64_t received;                  /* messages received */
    int64_t reduce_rounds;             /* process 0: the round when its broadcast began */
} pipes;

static int write_full(int fd, const void *buf, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = write(fd, (const char *)buf + done, n - done);
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = read(fd, (char *)buf + done, n - done);
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static int pipe_send(void *ctx, const void *buf, size_t bytes, int to)
{
    pipes *p = ctx;
    if (to < 0 || to >= p->ranks || to == p->rank)
        return -1;
    int64_t round = p->round + 1;
    p->sent++;
    p->sent_bytes += (int64_t)bytes;
    return write_full(p->link[p->rank][to][1], &round, sizeof round) ||
           write_full(p->link[p->rank][to][1], buf, bytes);
}

static int pipe_recv(void *ctx, void *buf, size_t bytes, int from)
{
    pipes *p = ctx;
    int64_t round;
    if (from < 0 || from >= p->ranks || from == p->rank ||
        read_full(p->link[from][p->rank][0], &round, sizeof round) ||
        read_full(p->link[from][p->rank][0], buf, bytes))
        return -1;
    p->received++;
    if (round > p->round)
        p->round = round;
    return 0;
}

static int pipe_bcast(void *ctx, void *buf, size_t bytes, int root)
{
    pipes *p = ctx;
    const int me = (p->rank - root + p->ranks) % p->ranks; /* rank relative to the root */
    int mask = 1;
    if (me == 0)
        p->reduce_rounds = p->round;
    for (; mask < p->ranks; mask <<= 1)
        if (me & mask) {
            if (pipe_recv(ctx, buf, bytes, (me - mask + root) % p->ranks))
                return -1;
            break;
        }
    for (mask >>= 1; mask > 0; mask >>= 1)
        if (me + mask < p->ranks && pipe_send(ctx, buf, bytes, (me + mask + root) % p->ranks))
            return -1;
    return 0;
}

/* Both ways at once with one peer: the writes made as the pipe takes them
 * while the peer's bytes are read, so that two processes swapping more than
 * a pipe holds do not both wait to write. */
static int pipe_sendrecv(void *ctx, const void *sbuf, size_t sbytes, void *rbuf, size_t rbytes,
                         int peer)
{
    pipes *p = ctx;
    if (peer < 0 || peer >= p->ranks || peer == p->rank)
        return -1;
    int64_t stamp = p->round + 1, got = 0;
    p->sent++;
    p->sent_bytes += (int64_t)sbytes;
    const int wfd = p->link[p->rank][peer][1], rfd = p->link[peer][p->rank][0];
    const int flags = fcntl(wfd, F_GETFL);
    if (flags < 0 || fcntl(wfd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    size_t wdone = 0, rdone = 0;
    const size_t wtotal = sizeof stamp + sbytes, rtotal = sizeof got + rbytes;
    int rc = 0;
    while (!rc && (wdone < wtotal || rdone < rtotal)) {
        struct pollfd fds[2] = {{wfd, (short)(wdone < wtotal ? POLLOUT : 0), 0},
                                {rfd, (short)(rdone < rtotal ? POLLIN : 0), 0}};
        if (poll(fds, 2, -1) < 0) {
            rc = errno == EINTR ? 0 : -1;
            continue;
        }
        if (wdone < wtotal && fds[0].revents) {
            const char *from = wdone < sizeof stamp ? (const char *)&stamp + wdone
                                                    : (const char *)sbuf + (wdone - sizeof stamp);
            size_t n = wdone < sizeof stamp ? sizeof stamp - wdone : wtotal - wdone;
            ssize_t k = write(wfd, from, n);
            if (k > 0)
                wdone += (size_t)k;
            else if (k < 0 && errno != EAGAIN)
                rc = -1;
        }
        if (rdone < rtotal && fds[1].revents) {
            char *to = rdone < sizeof got ? (char *)&got + rdone
                                          : (char *)rbuf + (rdone - sizeof got);
            size_t n = rdone < sizeof got ? sizeof got - rdone : rtotal - rdone;
            ssize_t k = read(rfd, to, n);
            if (k <= 0)
                rc = -1;
            else
                rdone += (size_t)k;
        }
    }
    fcntl(wfd, F_SETFL, flags);
    p->received++;
    if (got > p->round)
        p->round = got;
    return rc;
}

static void pipes_open(pipes *p, int ranks)
{
    memset(p, 0, sizeof *p);
    p->ranks = ranks;
    for (int a = 0; a < ranks; a++)
        for (int b = 0; b < ranks; b++)
            if (a != b)
                ck_assert(pipe(p->link[a][b]) == 0);
}

/* In process `rank`: closes every end it does not use, so that a process
 * that dies ends its peers' reads and writes instead of leaving them
 * waiting. */
static void pipes_keep(pipes *p, int rank)
{
    for (int a = 0; a < p->ranks; a++)
        for (int b = 0; b < p->ranks; b++)
            if (a != b) {
                if (b != rank)
                    close(p->link[a][b][0]);
                if (a != rank)
                    close(p->link[a][b][1]);
            }
}

static void pipes_close(pipes *p)
{
    for (int a = 0; a < p->ranks; a++)
        for (int b = 0; b < p->ranks; b++)
            if (a != b)
                close(p->link[a][b][0]), close(p->link[a][b][1]);
}

/* What a process reports besides its checkpoint. */
typedef struct part_counts {
    int64_t sent, sent_bytes, received, rounds, reduce_rounds;
} part_counts;

/* Trains hp as process `rank` of `ranks`: 2 epochs, or `steps` mini-batches
 * when steps > 0 (the last process asking to stop from the start when
 * stop_at_last),
 * and writes the state's checkpoint bytes, then its counts, to out. */
static int train_part(pipes *p, const drnn_hparams *hp, const fixture *f, int stop_at_last,
                      int64_t steps, int out)
{
    drnn_train_state st;
    drnn_trainer *t;
    drnn_error err;
    drnn_epoch_report rep;
    drnn_exchange x = {.rank = p->rank, .ranks = p->ranks, .ctx = p,
                       .send = pipe_send, .recv = pipe_recv, .bcast = pipe_bcast,
                       /* the stop case: swaps as a send, then a receive */
                       .sendrecv = stop_at_last ? NULL : pipe_sendrecv};
    volatile sig_atomic_t stop = stop_at_last && p->rank == p->ranks - 1 ? SIGTERM : 0;
#ifdef _OPENMP
    omp_set_dynamic(0);
    omp_set_num_threads(2);
#endif
    if (state_for(&st, hp, f, &err) || drnn_trainer_new(&t, &st, &f->train, &f->val, &err) ||
        drnn_trainer_distribute(t, &x, &err))
        return 1;
    while (st.epoch < 2) {
        if (drnn_trainer_epoch(t, steps, &stop, &rep, &err))
            return 2;
        if (stop_at_last || steps)
            break;
    }
    /* A stop asked by one process stops all after the same mini-batch. */
    if (stop_at_last && (st.step != 1 || rep.stopped != SIGTERM || rep.finished))
        return 3;
    unsigned char *buf;
    size_t len;
    part_counts counts = {p->sent, p->sent_bytes, p->received, p->round, p->reduce_rounds};
    if (drnn_checkpoint_encode(&st, &buf, &len, &err) || write_full(out, &len, sizeof len) ||
        write_full(out, buf, len) || write_full(out, &counts, sizeof counts))
        return 4;
    free(buf);
    drnn_trainer_free(t);
    drnn_state_free(&st);
    return 0;
}

/* One process's checkpoint bytes after what train_part trains. */
static unsigned char *train_alone(const drnn_hparams *hp, const fixture *f, int stop,
                                  int64_t steps, size_t *len)
{
    drnn_train_state ref;
    set_threads(2);
    new_state(&ref, hp, f);
    drnn_trainer *t;
    drnn_epoch_report rep;
    ck_assert_int_eq(drnn_trainer_new(&t, &ref, &f->train, &f->val, NULL), DRNN_OK);
    while (ref.epoch < 2) {
        ck_assert_int_eq(drnn_trainer_epoch(t, stop ? 1 : steps, NULL, &rep, NULL), DRNN_OK);
        if (stop || steps)
            break;
    }
    drnn_trainer_free(t);
    unsigned char *want;
    ck_assert_int_eq(drnn_checkpoint_encode(&ref, &want, len, NULL), DRNN_OK);
    drnn_state_free(&ref);
    return want;
}

/* ranks processes of 2 threads train hp as train_part does; each must end
 * with one process's checkpoint bytes. Their counts into counts[ranks]. */
static void train_distributed(int ranks, const drnn_hparams *hp, const fixture *f, int stop,
                              int64_t steps, part_counts *counts)
{
    pipes p;
    pipes_open(&p, ranks);
    int results[MAX_PROCS][2];
    for (int r = 0; r < ranks; r++)
        ck_assert(pipe(results[r]) == 0);
    pid_t pid[MAX_PROCS];
    for (int r = 0; r < ranks; r++) {
        pid[r] = fork();
        ck_assert(pid[r] >= 0);
        if (pid[r] == 0) {
            p.rank = r;
            pipes_keep(&p, r);
            for (int q = 0; q < ranks; q++) {
                close(results[q][0]);
                if (q != r)
                    close(results[q][1]);
            }
            _exit(train_part(&p, hp, f, stop, steps, results[r][1]));
        }
    }
    pipes_close(&p);
    for (int r = 0; r < ranks; r++)
        close(results[r][1]); /* a process that dies: its reader sees the end */
    size_t want_len;
    unsigned char *want = train_alone(hp, f, stop, steps, &want_len);
    for (int r = 0; r < ranks; r++) {
        size_t len = 0;
        unsigned char *got = NULL;
        int ok = read_full(results[r][0], &len, sizeof len) == 0 && len == want_len &&
                 (got = malloc(len)) && read_full(results[r][0], got, len) == 0 &&
                 memcmp(got, want, len) == 0 &&
                 read_full(results[r][0], &counts[r], sizeof counts[r]) == 0;
        free(got);
        close(results[r][0]);
        int status;
        ck_assert(waitpid(pid[r], &status, 0) == pid[r]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "process %d of %d failed (%d)", r, ranks, WEXITSTATUS(status));
        ck_assert_msg(ok, "process %d of %d (%d slots) trained other bytes than one process", r,
                      ranks, hp->slots);
    }
    free(want);
}

static int skip_without_fork(void)
{
    const char *fork_mode = getenv("CK_FORK");
    if (fork_mode && strcmp(fork_mode, "no") == 0) {
        /* The processes are forked before any OpenMP region, which this
         * process without Check's own fork may already have run (libgomp
         * does not survive a fork). */
        fprintf(stderr, "SKIP the distributed run: CK_FORK=no\n");
        return 1;
    }
    return 0;
}

/* ranks processes, of 2 threads each, train what one process trains:
 * checkpoint bytes equal. Loop index: 3 processes and 8 slots; 3 and 2
 * slots (one process without a slot); 4 and 5 slots; 2 processes with a
 * stop asked by the last (swapping as a send, then a receive); a labeled
 * list (issue 29) on 2 and on 3 processes; 4 processes and 16 slots (a
 * batch of 16: halving and doubling, the last short mini-batch the plain
 * tree); 3 and 13; 3 and 2 with a stop asked by the process without a
 * slot. */
START_TEST(test_distributed_bit_identical)
{
    static const struct { int ranks, slots, stop, labeled; } cases[] = {
        {3, 8, 0, 0}, {3, 2, 0, 0}, {4, 5, 0, 0}, {2, 8, 1, 0}, {2, 8, 0, 1},
        {3, 2, 0, 1}, {4, 16, 0, 0}, {3, 13, 0, 0}, {3, 2, 1, 0}};
    _Static_assert(sizeof cases / sizeof cases[0] == 9, "the loop's count below");
    if (skip_without_fork())
        return;
    fixture f;
    if (cases[_i].labeled)
        fixture_load_labeled(&f, 150);
    else
        fixture_load(&f, 150);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.slots = cases[_i].slots;
    if (hp.batch < hp.slots)
        hp.batch = hp.slots; /* else the plan takes min(batch, slots) */
    hp.dropout = 0.2;
    hp.model.labels = f.all.label_table.count;
    part_counts counts[MAX_PROCS];
    train_distributed(cases[_i].ranks, &hp, &f, cases[_i].stop, 0, counts);
    fixture_free(&f);
}
END_TEST

/* The exchange of one mini-batch over N = 1..8 processes: the same bytes
 * as one process, in O(log N) rounds of messages (the longest chain of
 * messages each waiting for the one before), not the 2 (N - 1) of a chain
 * there and back. With 8 slots on 2, 4 or 8 processes (each process one
 * subtree), a reduce-scatter and an allgather: no broadcast, 2 log2 N
 * rounds, and each process sends about 2 (N-1)/N of the gradient; else
 * the plain tree: at most ceil(log2 N) + 1 rounds to the root, then the
 * broadcast's ceil(log2 N), and a few messages a process. 13 slots: the
 * plain tree for every N. */
START_TEST(test_exchange_rounds)
{
    const int ranks = 1 + _i % MAX_PROCS, slots = _i < MAX_PROCS ? 8 : 13;
    if (skip_without_fork())
        return;
    fixture f;
    fixture_load(&f, 150);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.slots = slots;
    hp.batch = 26;
    int log2n = 0;
    while ((1 << log2n) < ranks)
        log2n++;
    part_counts counts[MAX_PROCS];
    if (ranks == 1) {
        size_t len;
        free(train_alone(&hp, &f, 0, 1, &len));
        fixture_free(&f);
        return;
    }
    train_distributed(ranks, &hp, &f, 0, 1, counts);
    int64_t rounds = 0, sent = 0, most = 0, most_bytes = 0, most_in = 0;
    for (int r = 0; r < ranks; r++) {
        most_in = counts[r].received > most_in ? counts[r].received : most_in;
        rounds = counts[r].rounds > rounds ? counts[r].rounds : rounds;
        sent += counts[r].sent;
        most = counts[r].sent > most ? counts[r].sent : most;
        most_bytes = counts[r].sent_bytes > most_bytes ? counts[r].sent_bytes : most_bytes;
    }
    hp.model.vocab = f.vocab.size;
    const double grad_bytes = 4.0 * (double)drnn_param_count(&hp.model);
    fprintf(stderr, "exchange of %d slots over %d processes: %lld rounds (%lld to the root), "
            "%lld messages, at most %lld and %.2f gradients from one process, %lld into one\n",
            slots, ranks, (long long)rounds, (long long)counts[0].reduce_rounds,
            (long long)sent, (long long)most, (double)most_bytes / grad_bytes,
            (long long)most_in);
    /* No process takes in one message per process (a gather is not a
     * tree): halving and doubling 2 a level, the plain tree a few. */
    if ((ranks & (ranks - 1)) == 0 && slots % ranks == 0)
        ck_assert_int_eq(most_in, 2 * log2n);
    else
        ck_assert_int_le(most_in, log2n + 2);
    const int halving = (ranks & (ranks - 1)) == 0 && slots % ranks == 0;
    ck_assert_int_le(rounds, 2 * log2n + 1);
    if (halving) {
        ck_assert_int_eq(counts[0].reduce_rounds, 0); /* no broadcast */
        ck_assert_int_eq(rounds, 2 * log2n);
        ck_assert(most_bytes <= 2 * grad_bytes * (ranks - 1) / ranks + 64.0 * log2n);
    } else {
        ck_assert_int_le(counts[0].reduce_rounds, log2n + 1);
        ck_assert_int_ge(counts[0].reduce_rounds, 1);
        ck_assert_int_le(most, 4);
    }
    fixture_free(&f);
}
END_TEST

/* A stop request is honoured between mini-batches, before any work. */
START_TEST(test_stop_flag)
{
    fixture f;
    fixture_load(&f, 100);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    drnn_train_state st;
    new_state(&st, &hp, &f);
    drnn_trainer *t;
    drnn_epoch_report rep;
    volatile sig_atomic_t stop = 1;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &f.train, &f.val, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 0, &stop, &rep, NULL), DRNN_OK);
    ck_assert(!rep.finished);
    ck_assert_int_eq(st.step, 0);
    ck_assert_int_eq(st.epoch_pos, 0);
    stop = 0;
    ck_assert_int_eq(drnn_trainer_epoch(t, 0, &stop, &rep, NULL), DRNN_OK);
    ck_assert(rep.finished);
    ck_assert_int_eq(st.epoch, 1);
    drnn_trainer_free(t);
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* A diverging run stops with DRNN_ERR_NONFINITE and leaves the weights as
 * they were before the bad mini-batch. */
START_TEST(test_nonfinite_stops)
{
    fixture f;
    fixture_load(&f, 100);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_SGD);
    drnn_train_state st;
    new_state(&st, &hp, &f);
    st.weights.W_y[3] = NAN;
    size_t n = st.weights.count;
    drnn_real *before = malloc(n * sizeof *before);
    memcpy(before, st.weights.data, n * sizeof *before);
    drnn_trainer *t;
    drnn_epoch_report rep;
    drnn_error err;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &f.train, &f.val, NULL), DRNN_OK);
    ck_assert_int_eq(drnn_trainer_epoch(t, 0, NULL, &rep, &err), DRNN_ERR_NONFINITE);
    ck_assert_ptr_nonnull(strstr(err.message, "non-finite"));
    ck_assert_int_eq(st.step, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert(memcmp(&before[i], &st.weights.data[i], sizeof *before) == 0);
    free(before);
    drnn_trainer_free(t);
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* ---- checkpoints ---- */

/* A small trained state and its encoding. */
static void small_checkpoint(drnn_train_state *st, unsigned char **buf, size_t *len,
                             drnn_optimizer opt, int hidden)
{
    fixture f;
    fixture_load(&f, 60);
    drnn_hparams hp;
    small_hparams(&hp, opt);
    hp.model.hidden = hidden;
    hp.model.layers = 1;
    new_state(st, &hp, &f);
    train_to(st, &f, 1);
    ck_assert_int_eq(drnn_checkpoint_encode(st, buf, len, NULL), DRNN_OK);
    fixture_free(&f);
}

START_TEST(test_checkpoint_round_trip)
{
    static const drnn_optimizer opts[] = {DRNN_OPT_ADAM, DRNN_OPT_SGD, DRNN_OPT_ADAGRAD};
    drnn_train_state st, back;
    unsigned char *buf, *again;
    size_t len, len2;
    drnn_error err;
    small_checkpoint(&st, &buf, &len, opts[_i], 6);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, buf, len, "mem", 1, &err), DRNN_OK);
    ck_assert_int_eq(drnn_checkpoint_encode(&back, &again, &len2, NULL), DRNN_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert(memcmp(buf, again, len) == 0);
    ck_assert_int_eq(back.epoch, 1);
    ck_assert_int_eq(back.vocab.size, st.vocab.size);
    ck_assert_str_eq(back.data_path, "dinos");
    ck_assert(memcmp(back.weights.data, st.weights.data, st.weights.count * 4) == 0);
    /* The format's stated header: magic, version, header size, file size. */
    ck_assert(memcmp(buf, "DRNNCKPT\3\0\0\0\x50\x01\0\0", 16) == 0); /* version 3, 336 */
    ck_assert_uint_eq(buf[16] | buf[17] << 8 | buf[18] << 16, len);
    ck_assert_uint_eq(drnn_crc32(0, "123456789", 9), 0xcbf43926u); /* the standard check value */
    free(again);
    free(buf);
    drnn_state_free(&back);
    drnn_state_free(&st);
}
END_TEST

static void put_le(unsigned char *p, uint64_t x, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static void fix_crc(unsigned char *buf, size_t len)
{
    uint32_t crc = drnn_crc32(0, buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (unsigned char)(crc >> (8 * i));
}

START_TEST(test_checkpoint_damage_rejected)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    small_checkpoint(&st, &buf, &len, DRNN_OPT_ADAM, 4);
    unsigned char *copy = malloc(len);

    /* Truncation at every offset. */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = drnn_checkpoint_decode(&back, buf, cut, "cut", 1, &err);
        ck_assert_msg(rc == DRNN_ERR_CKPT_TRUNCATED, "cut at %zu: %s", cut, err.message);
    }
    /* Every single-bit flip anywhere. */
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        int rc = drnn_checkpoint_decode(&back, copy, len, "flip", 1, &err);
        ck_assert_msg(rc != DRNN_OK, "flipping bit %zu went unnoticed", bit);
    }
    /* Wrong magic, a future version, trailing bytes. */
    memcpy(copy, buf, len);
    copy[0] = 'X';
    ck_assert_int_eq(drnn_checkpoint_decode(&back, copy, len, "magic", 1, &err), DRNN_ERR_CKPT_MAGIC);
    memcpy(copy, buf, len);
    copy[8] = DRNN_CKPT_VERSION + 1;
    fix_crc(copy, len);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, copy, len, "v2", 1, &err), DRNN_ERR_CKPT_VERSION);
    ck_assert_ptr_nonnull(strstr(err.message, "newer"));
    unsigned char *longer = calloc(len + 1, 1);
    memcpy(longer, buf, len);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, longer, len + 1, "long", 1, &err), DRNN_ERR_CKPT_CORRUPT);
    free(longer);
    /* A header asking for an enormous model (16 layers of 4096), with a
     * consistent file size field: refused before allocating anything. */
    memcpy(copy, buf, len);
    drnn_config huge = st.hp.model;
    huge.hidden = 4096;
    huge.layers = 16;
    uint64_t params = drnn_param_count(&huge);
    uint64_t size = 336 + 4 * (uint64_t)huge.vocab + strlen(st.data_path) + 12 * params + 4;
    ck_assert(size > (4ULL << 30)); /* gigabytes, from a file of a few kilobytes */
    put_le(copy + 16, size, 8);    /* file size */
    put_le(copy + 32, 4096, 4);    /* hidden */
    put_le(copy + 36, 16, 4);      /* layers */
    put_le(copy + 40, params, 8);  /* parameter count */
    fix_crc(copy, len);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, copy, len, "huge", 1, &err), DRNN_ERR_CKPT_TRUNCATED);
    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/huge.ckpt", dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(copy, 1, len, fp), len);
    fclose(fp);
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_ERR_CKPT_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(err.message, "truncated"));
    /* Sizes whose product overflows 64 bits are corrupt, not a huge malloc. */
    put_le(copy + 16, UINT64_MAX, 8);
    fix_crc(copy, len);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, copy, len, "overflow", 1, &err), DRNN_ERR_CKPT_CORRUPT);
    remove_dir(dir);
    free(copy);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

/* A file with one bit of a weight flipped (a value still finite, that would
 * decode) is refused by the file loader for its checksum, as a damaged
 * file, not loaded: the loader checks what the in-memory tests check. */
START_TEST(test_checkpoint_file_crc_checked)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    small_checkpoint(&st, &buf, &len, DRNN_OPT_ADAM, 4);
    buf[len - 8] ^= 1; /* the lowest bit of the last value before the CRC */
    ck_assert_int_eq(drnn_checkpoint_decode(&back, buf, len, "mem", 0, &err), DRNN_OK);
    drnn_state_free(&back);
    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/flipped.ckpt", dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_ERR_CKPT_CORRUPT);
    ck_assert_msg(strstr(err.message, "checksum") && strstr(err.message, path), "%s", err.message);
    remove_dir(dir);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

static size_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

static int count_entries(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    ck_assert_int_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

/* A write that fails (file-size limit: EFBIG, as on a full disk) reports the
 * path, leaves the previous checkpoint intact, and no temporary file. */
START_TEST(test_failed_write_keeps_old)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    small_checkpoint(&st, &buf, &len, DRNN_OPT_ADAM, 8);
    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/latest.ckpt", dir);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);
    ck_assert_uint_eq(file_size(path), len);

    st.epoch = 99; /* the new state differs from what is on disk */
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit lim = {len / 2, len / 2};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        int rc = drnn_checkpoint_save(&st, path, &err);
        _exit(rc == DRNN_ERR_IO && strstr(err.message, path) && strstr(err.message, "too large") ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the failed write was not reported");
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_OK);
    ck_assert_int_eq(back.epoch, 1);
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left */
    drnn_state_free(&back);

    /* Saving onto a directory fails cleanly too. */
    ck_assert_int_eq(drnn_checkpoint_save(&st, dir, &err), DRNN_ERR_IO);
    ck_assert_int_eq(drnn_checkpoint_load(&back, dir, &err), DRNN_ERR_IS_DIR);
    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_ERR_NOT_FOUND);
    ck_assert_int_eq(count_entries(dir), 1);
    remove_dir(dir);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

/* A state the reader would refuse is never written, nor a file made
 * read-only replaced: the file on disk stays as it was. */
START_TEST(test_save_refuses)
{
    drnn_train_state st, back;
    unsigned char *buf;
    size_t len;
    drnn_error err;
    small_checkpoint(&st, &buf, &len, DRNN_OPT_ADAM, 5);
    char *dir = temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/latest.ckpt", dir);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);

    st.epoch = 7;
    drnn_real *slots[] = {&st.weights.data[st.weights.count / 2], &st.moment1.data[3],
                          &st.moment2.data[st.moment2.count - 1]};
    for (int i = 0; i < 3; i++) {
        drnn_real keep = *slots[i];
        for (int k = 0; k < 2; k++) {
            *slots[i] = k ? (drnn_real)INFINITY : (drnn_real)NAN;
            ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_ERR_NONFINITE);
            ck_assert_msg(strstr(err.message, i ? "optimizer state" : "weights"), "%s", err.message);
        }
        *slots[i] = keep;
    }
    st.epoch_loss = NAN;
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_ERR_NONFINITE);
    st.epoch_loss = 0;
    st.best_val_loss = NAN;
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_ERR_NONFINITE);
    st.best_val_loss = HUGE_VAL; /* no best yet: valid */
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_OK);
    ck_assert_int_eq(back.epoch, 1);
    drnn_state_free(&back);
    ck_assert_int_eq(count_entries(dir), 1);

    /* Read-only, for root too: the owner's mark is what counts. */
    ck_assert_int_eq(chmod(path, 0444), 0);
    ck_assert_int_eq(drnn_rundir_replaceable(path, &err), DRNN_ERR_READ_ONLY);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_ERR_READ_ONLY);
    ck_assert_msg(strstr(err.message, path) && strstr(err.message, "read-only"), "%s", err.message);
    ck_assert_str_eq(drnn_status_name(DRNN_ERR_READ_ONLY), "read-only");
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_OK);
    ck_assert_int_eq(back.epoch, 1);
    drnn_state_free(&back);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(drnn_checkpoint_save(&st, path, &err), DRNN_OK);
    ck_assert_int_eq(drnn_checkpoint_load(&back, path, &err), DRNN_OK);
    ck_assert_int_eq(back.epoch, 7);
    drnn_state_free(&back);
    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    ck_assert_int_eq(drnn_rundir_replaceable(path, &err), DRNN_OK);
    remove_dir(dir);
    free(buf);
    drnn_state_free(&st);
}
END_TEST

/* The directory lock: missing parents created, one holder at a time (a
 * second open file description conflicts even in the same process), the
 * holder's process id named, and free again once released. */
START_TEST(test_dir_lock)
{
    char *dir = temp_dir();
    char path[4200], lockfile[4300];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    snprintf(lockfile, sizeof lockfile, "%s/" DRNN_RUNDIR_LOCK_FILE, path);
    drnn_dir_lock first, second;
    drnn_error err;
    long holder = -1;
    ck_assert_msg(drnn_rundir_lock(&first, path, &holder, &err) == DRNN_OK, "%s",
                  err.message);
    ck_assert_int_eq(holder, 0);
    struct stat sb;
    ck_assert(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    FILE *fp = fopen(lockfile, "r");
    long written = 0;
    ck_assert_int_eq(fscanf(fp, "%ld", &written), 1);
    fclose(fp);
    ck_assert_int_eq(written, (long)getpid());

    ck_assert_int_eq(drnn_rundir_lock(&second, path, &holder, &err), DRNN_ERR_LOCKED);
    ck_assert_int_eq(second.fd, -1);
    ck_assert_int_eq(holder, (long)getpid());
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "process %ld", (long)getpid());
    ck_assert_msg(strstr(err.message, path) && strstr(err.message, pid_text), "%s", err.message);
    ck_assert_str_eq(drnn_status_name(DRNN_ERR_LOCKED), "locked");

    drnn_rundir_unlock(&first);
    ck_assert_int_eq(first.fd, -1);
    ck_assert_int_eq(drnn_rundir_lock(&second, path, &holder, &err), DRNN_OK);
    drnn_rundir_unlock(&second);

    /* A file where a directory should be. */
    snprintf(path, sizeof path, "%s/a/b/c/" DRNN_RUNDIR_LOCK_FILE "/d", dir);
    ck_assert_int_eq(drnn_rundir_lock(&first, path, NULL, &err), DRNN_ERR_IO);
    ck_assert_msg(strstr(err.message, "Not a directory"), "%s", err.message);
    remove_dir(dir);
}
END_TEST

/* Hyperparameter ranges and the learning-rate schedules. */
START_TEST(test_train_memory)
{
    /* The estimate is what the state and the trainer allocate. */
    drnn_hparams hp;
    config_hparams(&hp, 3); /* LSTM with Adam: both moments */
    hp.model.vocab = 27;
    hp.batch = 50;
    drnn_memory m;
    drnn_train_memory(&m, &hp, 20, 1000, 3);
    double params = (double)drnn_param_count(&hp.model) * sizeof(drnn_real);
    ck_assert(m.state == 3 * params);
    ck_assert(m.checkpoint == m.state);
    ck_assert(m.gradients == DRNN_GRAD_SLOTS * params);
    ck_assert(m.workspaces == 3 * drnn_scratch_bytes(&hp.model, 20, 7) + 1000 * 4.0);
    ck_assert(m.total == m.state + m.checkpoint + m.gradients + m.workspaces);
    hp.optimizer = DRNN_OPT_SGD;
    hp.momentum = 0;
    hp.batch = 3; /* fewer names than slots: 3 slots, 3 workers at most */
    drnn_train_memory(&m, &hp, 20, 10, 70000);
    ck_assert(m.state == 2 * params);
    ck_assert(m.gradients == 3 * params);
    ck_assert(m.workspaces == 3 * drnn_scratch_bytes(&hp.model, 20, 1) + 40);
    /* More slots than 8: as many gradients, and a workspace per thread up to them. */
    hp.batch = 50;
    hp.slots = 25;
    drnn_train_memory(&m, &hp, 20, 10, 70000);
    ck_assert(m.gradients == 25 * params);
    ck_assert(m.workspaces == 25 * drnn_scratch_bytes(&hp.model, 20, 2) + 40);
    drnn_train_memory(&m, &hp, 20, 10, 12);
    ck_assert(m.workspaces == 12 * drnn_scratch_bytes(&hp.model, 20, 2) + 40);
    hp.slots = DRNN_GRAD_SLOTS;

    /* The largest model there is: hundreds of GB, counted without overflow. */
    hp.model = (drnn_config){.vocab = DRNN_MAX_VOCAB, .hidden = DRNN_MAX_HIDDEN,
                             .layers = DRNN_MAX_LAYERS, .cell = DRNN_CELL_LSTM};
    hp.batch = DRNN_MAX_BATCH;
    drnn_train_memory(&m, &hp, DRNN_MAX_NAME_LEN, (size_t)1 << 28, DRNN_MAX_THREADS);
    ck_assert(isfinite(m.total) && m.total > 1e12);
    ck_assert(m.gradients == DRNN_GRAD_SLOTS * (double)drnn_param_count(&hp.model) * sizeof(drnn_real));
}
END_TEST

START_TEST(test_hparams)
{
    drnn_hparams hp;
    drnn_error err;
    drnn_hparams_default(&hp);
    ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_OK);
    hp.lr = NAN;
    ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_ERR_INVALID);
    ck_assert_msg(strstr(err.message, "--lr: nan is out of range"), "%s", err.message);
    drnn_hparams_default(&hp);
    hp.batch = 0;
    ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_ERR_INVALID);
    drnn_hparams_default(&hp);
    hp.val_fraction = 1;
    ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_ERR_INVALID);

    drnn_hparams_default(&hp);
    hp.lr = 0.1;
    ck_assert(drnn_learning_rate(&hp, 7) == 0.1);
    hp.schedule = DRNN_SCHED_STEP;
    hp.step_epochs = 3;
    hp.step_gamma = 0.5;
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 2), 0.1, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 3), 0.05, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 7), 0.025, 1e-15);
    hp.schedule = DRNN_SCHED_COSINE;
    hp.cosine_epochs = 10;
    hp.lr_min = 0;
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 0), 0.1, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 5), 0.05, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 10), 0.0, 1e-15);
    /* Past its epochs the cosine schedule stays at lr_min (the formula
     * would climb back): tested with an lr_min that is not 0. */
    hp.lr_min = 0.01;
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 10), 0.01, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 15), 0.01, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 25), 0.01, 1e-15);
    ck_assert_double_eq_tol(drnn_learning_rate(&hp, 5), 0.055, 1e-15);
}
END_TEST

/* Epoch `epoch` ends with `score`, as the trainer ends it; returns 1 when
 * the plateau schedule lowered the rate then. */
static int end_epoch(drnn_train_state *st, int64_t epoch, double score, int *improved)
{
    int decayed;
    st->epoch = epoch;
    *improved = drnn_state_end_epoch(st, score, &decayed);
    return decayed;
}

/* A new state of small_hparams' model under the plateau schedule: the rate
 * times 0.5 after lr_patience epochs without a new best, a stop after
 * patience (0: none); members models. */
static void plateau_state(drnn_train_state *st, const fixture *f, int lr_patience, int patience,
                          int members)
{
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.schedule = DRNN_SCHED_PLATEAU;
    hp.lr_patience = lr_patience;
    hp.lr_decay = 0.5;
    hp.patience = patience;
    hp.members = members;
    new_state(st, &hp, f);
}

/* The plateau schedule epoch by epoch: after a decay, --lr-patience epochs
 * must pass again before the next (its count restarts at the decay, and at
 * a new best); early stopping counts from the best epoch alone, decays or
 * not. A patience of 1, the only one tested before, cannot tell a schedule
 * that forgets its last decay from one that keeps it; 2 and 3 can. */
START_TEST(test_plateau_schedule)
{
    fixture f;
    fixture_load(&f, 30);
    /* Bests at epochs 1, 2 and 8; none at the others. */
    static const double scores[14] = {3.0, 2.0, 2.5, 2.5, 2.5, 2.5, 2.5,
                                      1.9, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5};
    static const struct {
        int patience;
        const char *decays; /* the epochs after which the rate is lowered */
    } cases[] = {
        {1, "3 4 5 6 7 9 10 11 12 13 14 "},
        {2, "4 6 10 12 14 "},
        {3, "5 11 14 "},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        drnn_train_state st;
        plateau_state(&st, &f, cases[c].patience, 0, 1);
        const double lr = st.hp.lr;
        char got[64] = "";
        double scale = 1;
        for (int e = 1; e <= 14; e++) {
            int improved;
            if (end_epoch(&st, e, scores[e - 1], &improved)) {
                snprintf(got + strlen(got), sizeof got - strlen(got), "%d ", e);
                scale *= 0.5;
            }
            ck_assert_int_eq(improved, scores[e - 1] < 2.0 || e <= 2);
            ck_assert_double_eq(drnn_state_learning_rate(&st), lr * scale);
        }
        ck_assert_msg(strcmp(got, cases[c].decays) == 0, "--lr-patience %d: decays after epochs %s, not %s",
                      cases[c].patience, got, cases[c].decays);
        drnn_state_free(&st);
    }
    /* --patience 4 stops 4 epochs after the best (epoch 2), at epoch 6,
     * though --lr-patience 2 lowered the rate after epochs 4 and 6. */
    drnn_train_state st;
    plateau_state(&st, &f, 2, 4, 1);
    int stalled_at = 0;
    for (int e = 1; e <= 14 && !stalled_at; e++) {
        int improved;
        end_epoch(&st, e, scores[e - 1], &improved);
        stalled_at = drnn_state_stalled(&st) ? e : 0;
    }
    ck_assert_int_eq(stalled_at, 6);
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* A member that stops early is done, and the next starts afresh: its own
 * best (even one worse than the last member's), the full rate, no decay and
 * no stop carried over. Tested before only with --patience 0, where every
 * member runs to --epochs. */
START_TEST(test_member_starts_afresh)
{
    fixture f;
    fixture_load(&f, 30);
    drnn_train_state st;
    plateau_state(&st, &f, 1, 2, 2);
    const double lr = st.hp.lr;
    int improved;
    end_epoch(&st, 1, 3.0, &improved);
    ck_assert(end_epoch(&st, 2, 3.5, &improved) && !improved);
    ck_assert(!drnn_state_member_done(&st, 100));
    end_epoch(&st, 3, 3.5, &improved);
    ck_assert(drnn_state_stalled(&st) && drnn_state_member_done(&st, 100));
    ck_assert_double_eq(drnn_state_learning_rate(&st), lr * 0.25);
    drnn_state_next_member(&st);
    ck_assert_int_eq(st.member, 1);
    ck_assert_int_eq(st.epoch, 0);
    ck_assert_int_eq(st.best_epoch, -1);
    ck_assert(!drnn_state_stalled(&st) && !drnn_state_member_done(&st, 100));
    ck_assert_double_eq(drnn_state_learning_rate(&st), lr);
    ck_assert(!end_epoch(&st, 1, 5.0, &improved) && improved); /* worse than member 1's 3.0 */
    ck_assert(end_epoch(&st, 2, 5.5, &improved) && !improved); /* one epoch since its own best */
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* The table drives every use: each row's default is in its range; a value
 * past either end is refused naming the row; and a checkpoint carries a
 * value other than the default for every row through encode and decode. */
START_TEST(test_hparam_table)
{
    size_t n;
    const drnn_hparam_info *t = drnn_hparam_table(&n);
    ck_assert_uint_ge(n, 20);
    fixture f;
    fixture_load(&f, 40);
    for (size_t i = 0; i < n; i++) {
        const drnn_hparam_info *h = &t[i];
        drnn_hparams hp;
        drnn_error err;
        drnn_hparams_default(&hp);
        ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_OK);
        const char *name = h->option ? h->option : h->help;
        if (h->kind == DRNN_HP_INT || h->kind == DRNN_HP_REAL) {
            drnn_hparam_set(&hp, h, h->hi * 2 + 1);
            ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_ERR_INVALID);
            ck_assert_msg(strstr(err.message, name), "row %s: %s", name, err.message);
            drnn_hparam_set(&hp, h, h->lo - 1);
            ck_assert_int_eq(drnn_hparams_check(&hp, &err), DRNN_ERR_INVALID);
        }
        if (h->option)
            ck_assert_ptr_eq(drnn_hparam_by_option(h->option), h);
        /* Another valid value, through a checkpoint. */
        drnn_hparams_default(&hp);
        hp.model.hidden = 4;
        hp.model.layers = 1;
        hp.members = 1;
        double other = h->kind == DRNN_HP_CHOICE || h->kind == DRNN_HP_FLAG
                           ? (h->def == 0 ? 1 : 0)
                           : h->kind == DRNN_HP_SEED ? 12345
                           : h->def == h->lo ? h->lo + (h->hi - h->lo) / 4
                                             : h->lo + (h->def - h->lo) / 2;
        if (h->kind == DRNN_HP_INT)
            other = h->def == h->lo ? h->lo + 1 : h->lo;
        if (h->offset == offsetof(drnn_hparams, model.hidden) ||
            h->offset == offsetof(drnn_hparams, members)) /* members: a mixture's buffer too */
            other = 3;
        drnn_hparam_set(&hp, h, other);
        if (hp.lr_min > hp.lr)
            hp.lr_min = hp.lr;
        ck_assert_msg(drnn_hparams_check(&hp, &err) == DRNN_OK, "row %s: %s", name, err.message);
        drnn_train_state st, back;
        ck_assert_int_eq(drnn_state_new(&st, &hp, &f.vocab, 1, 0, "x", &err), DRNN_OK);
        if (hp.has_val_file)
            st.val_fingerprint = 7;
        unsigned char *buf;
        size_t len;
        ck_assert_int_eq(drnn_checkpoint_encode(&st, &buf, &len, &err), DRNN_OK);
        ck_assert_msg(drnn_checkpoint_decode(&back, buf, len, "t", 1, &err) == DRNN_OK, "row %s: %s",
                      name, err.message);
        ck_assert_msg(h->kind == DRNN_HP_SEED ? hp.seed != 1 : drnn_hparam_get(&hp, h) != h->def,
                      "row %s: the test value is the default", name);
        ck_assert_msg(drnn_hparam_equal(&back.hp, &hp, h), "row %s: %g after decoding, %g before",
                      name, drnn_hparam_get(&back.hp, h), drnn_hparam_get(&hp, h));
        free(buf);
        drnn_state_free(&st);
        drnn_state_free(&back);
    }
    fixture_free(&f);
}
END_TEST

/* A version-2 file is a version-3 file without offsets 288 to 335 (the
 * slots, 4 reserved bytes, the plateau schedule's, early stopping's and the
 * mixture's fields): it loads with 8 slots, what it was trained with,
 * whatever the bytes after its header hold. */
START_TEST(test_v2_slots)
{
    fixture f;
    fixture_load(&f, 40);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_ADAM);
    hp.slots = 3;
    drnn_train_state st, back;
    drnn_error err;
    new_state(&st, &hp, &f);
    unsigned char *buf;
    size_t len;
    ck_assert_int_eq(drnn_checkpoint_encode(&st, &buf, &len, &err), DRNN_OK);
    ck_assert_uint_eq(buf[288], 3);
    ck_assert_int_eq(drnn_checkpoint_decode(&back, buf, len, "v3", 1, &err), DRNN_OK);
    ck_assert_int_eq(back.hp.slots, 3);
    drnn_state_free(&back);
    memmove(buf + 288, buf + 336, len - 336);
    len -= 48;
    buf[8] = 2;
    put_le(buf + 12, 288, 4);
    put_le(buf + 16, len, 8);
    fix_crc(buf, len);
    ck_assert_msg(drnn_checkpoint_decode(&back, buf, len, "v2", 1, &err) == DRNN_OK, "%s",
                  err.message);
    ck_assert_int_eq(back.hp.slots, 8);
    ck_assert_int_eq(back.hp.members, 1);
    ck_assert_int_eq(back.hp.patience, 0);
    ck_assert(memcmp(back.weights.data, st.weights.data, st.weights.count * 4) == 0);
    drnn_state_free(&back);
    free(buf);
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* Version-1 files predate dropout and weight decay: they load with both 0,
 * what they were trained with, not with today's defaults. */
START_TEST(test_v1_hparams)
{
    static const char *const cells[] = {"rnn", "lstm", "gru"};
    const char *top = getenv("top_srcdir");
    for (int c = 0; c < 3; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/v1-%s-1x4.ckpt", top ? top : ".", cells[c]);
        drnn_train_state st;
        drnn_error err;
        ck_assert_msg(drnn_checkpoint_load(&st, path, &err) == DRNN_OK, "%s", err.message);
        ck_assert_msg(st.hp.dropout == 0 && st.hp.weight_decay == 0, "%s: dropout %g, decay %g",
                      path, st.hp.dropout, st.hp.weight_decay);
        drnn_state_free(&st);
    }
}
END_TEST

/* One optimizer step against the textbook formulas in double: the gradient
 * of the whole (one mini-batch) training set from drnn_group_loss,
 * divided by the characters, clipped, then SGD with momentum, Adagrad or
 * Adam(W), each with weight decay. Three steps, so that the moments and
 * Adam's bias corrections are exercised; loop index: optimizer * 2 + clip
 * mode. eps is large enough that Adam's and Adagrad's ratios are not
 * sensitive to the gradient's rounding (the trainer sums it in another
 * order). */
START_TEST(test_optimizer_matches_reference)
{
    const drnn_optimizer opt = (drnn_optimizer)(_i / 2);
    const drnn_clip_mode clip = (drnn_clip_mode)(_i % 2);
    fixture f;
    fixture_load(&f, 10);
    drnn_hparams hp;
    small_hparams(&hp, opt);
    hp.model.cell = DRNN_CELL_RNN;
    hp.model.layers = 1;
    hp.model.hidden = 12;
    hp.batch = (int)f.train.count; /* one step per epoch */
    hp.dropout = 0;
    hp.weight_decay = 0.5;
    hp.eps = 1e-4;
    hp.clip_mode = clip;
    hp.clip = clip == DRNN_CLIP_NORM ? 0.2 : 0.01; /* both bite */
    drnn_train_state st;
    new_state(&st, &hp, &f);
    drnn_trainer *t;
    drnn_error err;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &f.train, &f.val, &err), DRNN_OK);
    drnn_params grad;
    drnn_scratch *s;
    ck_assert_int_eq(drnn_params_alloc(&grad, &st.hp.model, &err), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&s, &st.hp.model, 64, &err), DRNN_OK);
    const size_t n = st.weights.count;
    double *w = malloc(n * sizeof *w), *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    double *g = malloc(n * sizeof *g);
    ck_assert(w && m && v && g);

    for (int step = 1; step <= 3; step++) {
        /* The reference starts from the trainer's state as it is. */
        for (size_t i = 0; i < n; i++) {
            w[i] = st.weights.data[i];
            if (st.moment1.count)
                m[i] = st.moment1.data[i];
            if (st.moment2.count)
                v[i] = st.moment2.data[i];
        }
        drnn_params_zero(&grad);
        int64_t chars = 0;
        for (size_t j = 0; j < f.train.count; j++) {
            const int len = drnn_corpus_len(&f.train, j);
            const drnn_token *name = f.train.tokens + f.train.start[j];
            ck_assert(isfinite(drnn_group_loss(&st.weights, s, &name, &len, 1, NULL, NULL, &grad, 0)));
            chars += len + 1;
        }
        double norm2 = 0, gmax = 0;
        for (size_t i = 0; i < n; i++) {
            g[i] = grad.data[i] / (double)chars;
            norm2 += g[i] * g[i];
            gmax = fabs(g[i]) > gmax ? fabs(g[i]) : gmax;
        }
        if (clip == DRNN_CLIP_NORM) {
            ck_assert(sqrt(norm2) > hp.clip);
            for (size_t i = 0; i < n; i++)
                g[i] *= hp.clip / sqrt(norm2);
        } else {
            ck_assert(gmax > hp.clip);
            for (size_t i = 0; i < n; i++)
                g[i] = g[i] > hp.clip ? hp.clip : g[i] < -hp.clip ? -hp.clip : g[i];
        }
        for (size_t i = 0; i < n; i++) {
            if (opt == DRNN_OPT_SGD) {
                double gi = g[i] + hp.weight_decay * w[i];
                m[i] = hp.momentum * m[i] + gi;
                w[i] -= hp.lr * m[i];
            } else if (opt == DRNN_OPT_ADAGRAD) {
                double gi = g[i] + hp.weight_decay * w[i];
                v[i] += gi * gi;
                w[i] -= hp.lr * gi / (sqrt(v[i]) + hp.eps);
            } else {
                m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g[i];
                v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g[i] * g[i];
                double mhat = m[i] / (1 - pow(hp.beta1, step));
                double vhat = v[i] / (1 - pow(hp.beta2, step));
                w[i] -= hp.lr * (mhat / (sqrt(vhat) + hp.eps) + hp.weight_decay * w[i]);
            }
        }

        drnn_epoch_report rep;
        ck_assert_int_eq(drnn_trainer_epoch(t, 0, NULL, &rep, &err), DRNN_OK);
        ck_assert_int_eq(st.step, step);
        /* A step moves a weight by up to about lr; a wrong moment, bias
         * correction, decay or clip by a sizeable part of that. */
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(st.weights.data[i] - w[i]) <= 1e-3 * hp.lr,
                          "%s, clip by %s, step %d: weight %zu is %.9g, the formula gives %.9g",
                          drnn_optimizer_name(opt), drnn_clip_mode_name(clip), step, i,
                          (double)st.weights.data[i], w[i]);
    }
    free(w), free(m), free(v), free(g);
    drnn_scratch_free(s);
    drnn_params_free(&grad);
    drnn_trainer_free(t);
    drnn_state_free(&st);
    fixture_free(&f);
}
END_TEST

/* A large alphabet, read a few rows at a time: 100 names of 30 symbols over
 * 3,000 symbols, name i using symbols 30i .. 30i+29 (each name's rows of
 * layer 0 in one or two reduction chunks, so a mini-batch of 5 leaves most
 * chunks untouched). Each SGD step must equal the textbook step on the
 * mini-batch's names, in double: a row the trainer left stale from the
 * previous mini-batch, or skipped while live, would be off by a whole
 * step. The mini-batches are those of the epoch's shuffle, as
 * docs/checkpoint-format.md documents it (Generator state). */
static double quiet_rate(int n) { return 40000.0 * (1 + 0.8 * (n - 1)); }
/* 8 threads on 8 slots: the fastest, but they wait for the last slot by
 * nature (15% of a step), with no core lost. */
static double slot_each(int n) { return n == 8 ? 80000.0 : 60000.0; }
static double busy_rate(int n) { return n == 1 ? 40000.0 : 14000.0; }
/* 16 cores, one taken: 15 threads best. */
static double one_taken(int n) { return n <= 15 ? 30000.0 * n : 30000.0 * 5; }

/* Feeds a pacer steps of 0.01 s at the characters a second rate(n) gives
 * for the count it asks, for `seconds`; returns the steps run with each
 * count (counts[1 .. 16]). */
static void pace(drnn_pacer *p, double (*rate)(int), double seconds, int64_t *counts)
{
    for (double t = 0; t < seconds; t += 0.01) {
        int n = drnn_pacer_threads(p);
        ck_assert(n >= 1 && n <= p->most);
        counts[n]++;
        /* The threads' wait: 3% of a step, 25% when one shares its core. */
        double waited = (rate == busy_rate && n > 1) || rate == slot_each ? 0.0025 : 0.0003;
        drnn_pacer_step(p, (int64_t)(rate(n) * 0.01), 0.01, waited);
    }
}

/* The pacer keeps every thread on a quiet machine, trying fewer now and
 * then (at most one window in 64 once settled); moves to one thread when
 * two are slower (another program on a core), and back when the core is
 * free again; and walks from 16 to the best of 15. */
START_TEST(test_pacer)
{
    drnn_pacer p;
    int64_t counts[17] = {0};
    drnn_pacer_init(&p, 2);
    pace(&p, quiet_rate, 60, counts);
    ck_assert_int_eq(p.now, 2);
    ck_assert_msg(counts[1] * 30 < counts[2], "quiet: %lld steps on 1 thread, %lld on 2",
                  (long long)counts[1], (long long)counts[2]);
    memset(counts, 0, sizeof counts);
    pace(&p, quiet_rate, 60, counts); /* settled: a trial every 64 windows */
    ck_assert_int_le(counts[1], 6000 / 64 + 12); /* 6,000 steps, windows of 10 or 11 */
    memset(counts, 0, sizeof counts);
    pace(&p, busy_rate, 0.3, counts); /* a core taken: noticed in a window or two */
    ck_assert_int_eq(p.now, 1);
    pace(&p, busy_rate, 20, counts);
    ck_assert_int_eq(p.now, 1);
    ck_assert_msg(counts[1] > 4 * counts[2], "busy: %lld steps on 1 thread, %lld on 2",
                  (long long)counts[1], (long long)counts[2]);
    memset(counts, 0, sizeof counts);
    pace(&p, quiet_rate, 20, counts); /* the core free again */
    ck_assert_int_eq(p.now, 2);
    drnn_pacer_init(&p, 16);
    memset(counts, 0, sizeof counts);
    pace(&p, one_taken, 30, counts);
    ck_assert_int_eq(p.now, 15);
    drnn_pacer_init(&p, 8); /* long waits that fewer threads do not cure: trials back off */
    memset(counts, 0, sizeof counts);
    pace(&p, slot_each, 60, counts);
    ck_assert_int_eq(p.now, 8);
    ck_assert_msg(counts[7] * 20 < counts[8], "8 slots: %lld steps on 7 threads, %lld on 8",
                  (long long)counts[7], (long long)counts[8]);
    drnn_pacer_init(&p, 1); /* one thread: nothing to choose */
    pace(&p, busy_rate, 1, counts);
    ck_assert_int_eq(p.now, 1);
}
END_TEST

/* The plain tree: node (a, k) of S values, as docs/model.md says. */
static float tree_float(const float *v, int a, int k, int S)
{
    if (k == 0)
        return v[a];
    const int right = a + (1 << (k - 1));
    float left = tree_float(v, a, k - 1, S);
    return right < S ? left + tree_float(v, right, k - 1, S) : left;
}

static double tree_double(const double *v, int a, int k, int S)
{
    if (k == 0)
        return v[a];
    const int right = a + (1 << (k - 1));
    double left = tree_double(v, a, k - 1, S);
    return right < S ? left + tree_double(v, right, k - 1, S) : left;
}

/* The reducer's sum of S slots, folded by 1 to 4 threads in a shuffled
 * order, equals the plain pairwise tree bit for bit, parameters and
 * losses; and for S >= 4 it is not the sum in slot order (values of mixed
 * magnitudes, so that another order gives other bits). */
START_TEST(test_tree_sum)
{
    static const int slot_counts[] = {1, 2, 3, 5, 8, 13, 16, 31};
    drnn_hparams hp;
    drnn_hparams_default(&hp);
    hp.model = (drnn_config){.vocab = 40, .hidden = 96, .layers = 2, .cell = DRNN_CELL_GRU};
    drnn_rng rng;
    drnn_rng_seed(&rng, 2026);
    for (size_t i = 0; i < sizeof slot_counts / sizeof slot_counts[0]; i++) {
        const int S = slot_counts[i];
        hp.slots = hp.batch = S;
        drnn_plan plan;
        ck_assert_int_eq(drnn_plan_make(&plan, &hp, 40, 100, 4, NULL), DRNN_OK);
        drnn_reducer r;
        ck_assert_int_eq(drnn_reducer_new(&r, &plan, &hp.model, NULL), DRNN_OK);
        const size_t n = r.grad[0].count;
        ck_assert_uint_gt(n, 65536); /* the parallel loops run */
        drnn_token name[40];
        for (int k = 0; k < 39; k++)
            name[k] = (drnn_token)(k + 1);
        const drnn_token *names[1] = {name};
        int lens[1] = {39};
        float *want = malloc(n * sizeof *want), *chain = malloc(n * sizeof *chain);
        float *column = malloc((size_t)S * sizeof *column);
        double loss[64];
        ck_assert(want && chain && column);
        for (int threads = 1; threads <= 4; threads++) {
            drnn_reducer_mark_rows(&r, names, lens, 1, 1); /* every row live */
            memset(r.live, 1, r.chunks);
            for (int s = 0; s < S; s++) {
                for (size_t j = 0; j < n; j++) {
                    double u = drnn_rng_uniform(&rng);
                    r.grad[s].data[j] = (float)((u - 0.5) * ldexp(1.0, (int)(j % 23) - 11));
                }
                r.slot_loss[s] = loss[s] = drnn_rng_uniform(&rng) * ldexp(1.0, s % 7);
            }
            int differs = 0;
            for (size_t j = 0; j < n; j++) {
                float c = 0;
                for (int s = 0; s < S; s++)
                    column[s] = r.grad[s].data[j], c = s ? c + column[s] : column[s];
                want[j] = tree_float(column, 0, drnn_tree_levels(S), S);
                chain[j] = c;
                differs |= memcmp(&want[j], &c, sizeof c) != 0;
            }
            ck_assert_msg(S < 4 || differs, "%d slots: the tree is the chain", S);
            int order[64];
            for (int s = 0; s < S; s++)
                order[s] = s;
            for (int s = S - 1; s > 0; s--) {
                int k = (int)(drnn_rng_uniform(&rng) * (s + 1)), tmp = order[s];
                order[s] = order[k], order[k] = tmp;
            }
            drnn_reducer_begin(&r, S, threads);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
            for (int s = 0; s < S; s++)
                drnn_reducer_fold(&r, order[s], S);
            double got_loss, norm2, exchanged = 0;
            ck_assert_int_eq(drnn_reducer_sum(&r, S, 1.0f, threads, NULL, &got_loss, &norm2,
                                              &exchanged, NULL), DRNN_OK);
            ck_assert_msg(memcmp(r.grad[0].data, want, n * sizeof *want) == 0,
                          "%d slots on %d threads: not the plain tree's sum", S, threads);
            double tl = tree_double(loss, 0, drnn_tree_levels(S), S);
            ck_assert_msg(memcmp(&got_loss, &tl, sizeof tl) == 0,
                          "%d slots on %d threads: not the plain tree's loss", S, threads);
        }
        free(want);
        free(chain);
        free(column);
        drnn_reducer_free(&r);
    }
}
END_TEST

START_TEST(test_sparse_input_rows)
{
    enum { NAMES = 100, LEN = 30, BATCH = 5 };
    char *text = malloc((size_t)NAMES * (LEN * 3 + 1) + 1), *at = text;
    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < NAMES; i++) {
        for (int k = 0; k < LEN; k++) {
            unsigned c = 0x4E00u + (unsigned)(i * LEN + k);
            *at++ = (char)(0xE0 | (c >> 12));
            *at++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *at++ = (char)(0x80 | (c & 0x3F));
        }
        *at++ = '\n';
    }
    drnn_names names;
    drnn_vocab vocab;
    drnn_corpus corpus;
    drnn_error err;
    ck_assert_int_eq(drnn_names_parse(&names, text, (size_t)(at - text), "wide", NULL, &err), DRNN_OK);
    ck_assert_int_eq(drnn_vocab_build(&vocab, &names, &err), DRNN_OK);
    ck_assert_int_eq(vocab.size, NAMES * LEN + 1);
    ck_assert_int_eq(drnn_corpus_encode(&corpus, &names, &vocab, 0, "wide", &err), DRNN_OK);
    drnn_hparams hp;
    small_hparams(&hp, DRNN_OPT_SGD);
    hp.model.cell = DRNN_CELL_GRU;
    hp.model.layers = 1;
    hp.model.hidden = 16; /* rows of 48: 85 to a chunk, 36 chunks of rows */
    hp.batch = BATCH;
    hp.momentum = 0;
    hp.lr = 0.5;
    hp.dropout = 0;
    hp.clip = 0;
    drnn_train_state st;
    ck_assert_int_eq(drnn_state_new(&st, &hp, &vocab, 1, 0, "wide", &err), DRNN_OK);
    drnn_trainer *t;
    ck_assert_int_eq(drnn_trainer_new(&t, &st, &corpus, NULL, &err), DRNN_OK);
    drnn_params grad;
    drnn_scratch *s;
    ck_assert_int_eq(drnn_params_alloc(&grad, &st.hp.model, &err), DRNN_OK);
    ck_assert_int_eq(drnn_scratch_new(&s, &st.hp.model, LEN, &err), DRNN_OK);
    const size_t n = st.weights.count;
    double *w = malloc(n * sizeof *w);
    size_t order[NAMES];
    drnn_rng rng = st.rng;
    for (size_t i = 0; i < NAMES; i++)
        order[i] = i;
    for (size_t i = NAMES - 1; i > 0; i--) {
        size_t j = (size_t)drnn_rng_below(&rng, i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int step = 0; step < 6; step++) {
        drnn_params_zero(&grad);
        for (int j = 0; j < BATCH; j++) {
            const drnn_token *name = corpus.tokens + corpus.start[order[step * BATCH + j]];
            const int len = LEN;
            ck_assert(isfinite(drnn_group_loss(&st.weights, s, &name, &len, 1, NULL, NULL, &grad, 0)));
        }
        for (size_t i = 0; i < n; i++)
            w[i] = st.weights.data[i] - hp.lr * grad.data[i] / (BATCH * (LEN + 1));
        drnn_epoch_report rep;
        ck_assert_int_eq(drnn_trainer_epoch(t, 1, NULL, &rep, &err), DRNN_OK);
        ck_assert_int_eq(st.step, step + 1);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(st.weights.data[i] - w[i]) <= 1e-4 * hp.lr,
                          "step %d: weight %zu is %.9g, the formula gives %.9g", step + 1, i,
                          (double)st.weights.data[i], w[i]);
    }
    free(w);
    free(text);
    drnn_scratch_free(s);
    drnn_params_free(&grad);
    drnn_trainer_free(t);
    drnn_state_free(&st);
    drnn_corpus_free(&corpus);
    drnn_vocab_free(&vocab);
    drnn_names_free(&names);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *suite = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_threads_bit_identical, 0, N_CONFIGS);
    tcase_add_test(tc, test_members_resume_bit_identical);
    tcase_add_loop_test(tc, test_resume_bit_identical, 0, N_CONFIGS);
    tcase_add_loop_test(tc, test_labels_threads_bit_identical, 0, 3);
    tcase_add_loop_test(tc, test_labels_resume_bit_identical, 0, 3);
    tcase_add_test(tc, test_slots_bit_identical);
    tcase_add_loop_test(tc, test_distributed_bit_identical, 0, 9);
    tcase_add_loop_test(tc, test_exchange_rounds, 0, 2 * MAX_PROCS);
    tcase_add_test(tc, test_huge_thread_count);
    tcase_add_test(tc, test_stop_flag);
    tcase_add_test(tc, test_nonfinite_stops);
    tcase_add_test(tc, test_hparams);
    tcase_add_test(tc, test_plateau_schedule);
    tcase_add_test(tc, test_member_starts_afresh);
    tcase_add_test(tc, test_hparam_table);
    tcase_add_test(tc, test_v1_hparams);
    tcase_add_test(tc, test_v2_slots);
    tcase_add_test(tc, test_train_memory);
    tcase_add_loop_test(tc, test_optimizer_matches_reference, 0, 6);
    tcase_add_test(tc, test_sparse_input_rows);
    tcase_add_test(tc, test_tree_sum);
    tcase_add_test(tc, test_pacer);
    suite_add_tcase(suite, tc);
    TCase *ck = tcase_create("checkpoint");
    tcase_set_timeout(ck, 300);
    tcase_add_loop_test(ck, test_checkpoint_round_trip, 0, 3);
    tcase_add_test(ck, test_checkpoint_damage_rejected);
    tcase_add_test(ck, test_checkpoint_file_crc_checked);
    tcase_add_test(ck, test_failed_write_keeps_old);
    tcase_add_test(ck, test_dir_lock);
    tcase_add_test(ck, test_save_refuses);
    suite_add_tcase(suite, ck);
    TCase *rt = tcase_create("runtime threads");
    tcase_set_timeout(rt, 300);
    tcase_add_test(rt, test_runtime_thread_count);
    suite_add_tcase(suite, rt);
    return suite;
}

int main(void)
{
    return check_run(train_suite());
}
