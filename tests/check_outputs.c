/* check_outputs.c: the check of the files a run writes (outpath.h) and the
 * start of a run in its directory (rundir.h): an output is no other file of
 * the run under any name, and a regular file of its own kind; names from a
 * pipe are not read twice; a failed start leaves nothing it made. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "check_run.h"

enum { DIR_SIZE = 1024, PATH_SIZE = 4096 }; /* a test directory, a path in it */

/* A new directory for a test, in out. */
static void new_dir(char *out)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, DIR_SIZE, "%s/dinornn-outputs-XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static void remove_tree(const char *dir)
{
    char cmd[DIR_SIZE + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* dir/name into buf; returns buf. */
static char *in(char *buf, const char *dir, const char *name)
{
    snprintf(buf, PATH_SIZE, "%s/%s", dir, name);
    return buf;
}

/* dir/name holding text; returns its path in buf. */
static char *put(char *buf, const char *dir, const char *name, const char *text)
{
    FILE *fp = fopen(in(buf, dir, name), "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return buf;
}

/* The check of output out against one other file of the run. */
static int check_pair(const char *out, drnn_file_use use, const char *other, drnn_file_use other_use,
                      drnn_error *err)
{
    const drnn_run_file files[2] = {{out, "the output", use}, {other, "the other", other_use}};
    int refused = -2;
    int rc = drnn_outputs_check(files, 2, &refused, err);
    ck_assert_int_eq(refused, rc ? 0 : -1);
    return rc;
}

/* The check of one output alone. */
static int check_one(const char *out, drnn_file_use use, drnn_error *err)
{
    const drnn_run_file file = {out, "the output", use};
    return drnn_outputs_check(&file, 1, NULL, err);
}

START_TEST(test_same_file_any_name)
{
    char dir[DIR_SIZE], data[PATH_SIZE], p[PATH_SIZE], q[PATH_SIZE];
    drnn_error err;
    new_dir(dir);
    put(data, dir, "names.txt", "Aardonyx\n");
    ck_assert_int_eq(check_pair(data, DRNN_WRITES_LOG, data, DRNN_READS, &err), DRNN_ERR_INVALID);
    ck_assert_msg(strstr(err.message, "the output is also the other"), "%s", err.message);
    ck_assert_int_eq(check_pair(in(p, dir, "./sub/../names.txt"), DRNN_WRITES_LOG, data, DRNN_READS,
                                &err), DRNN_OK); /* sub does not exist: no way there */
    mkdir(in(q, dir, "sub"), 0777);
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_LOG, data, DRNN_READS, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(link(data, in(p, dir, "hard.txt")), 0);
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_LOG, data, DRNN_READS, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(symlink("names.txt", in(p, dir, "soft.txt")), 0);
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_LOG, data, DRNN_READS, &err), DRNN_ERR_INVALID);
    /* Files not made yet: by their directory (a link to it too) and name. */
    ck_assert_int_eq(symlink("sub", in(q, dir, "alias")), 0);
    in(p, dir, "sub/latest.ckpt");
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_CHECKPOINT, in(q, dir, "alias//./latest.ckpt"),
                                DRNN_WRITES_LOG, &err), DRNN_ERR_INVALID);
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_CHECKPOINT, in(q, dir, "sub/best.ckpt"),
                                DRNN_WRITES_LOG, &err), DRNN_OK);
    ck_assert_int_eq(check_pair(in(p, dir, "new/a/../x"), DRNN_WRITES_LOG, in(q, dir, "new/x"),
                                DRNN_READS, &err), DRNN_ERR_INVALID);
    /* A save renames: the checkpoint resumed from may be the one replaced. */
    ck_assert_int_eq(check_pair(in(p, dir, "sub/latest.ckpt"), DRNN_WRITES_CHECKPOINT, p,
                                DRNN_READS_CHECKPOINT, &err), DRNN_OK);
    ck_assert_int_eq(check_pair(p, DRNN_WRITES_CHECKPOINT, p, DRNN_READS, &err), DRNN_ERR_INVALID);
    /* Inputs are not outputs: nothing is asked of them. */
    const drnn_run_file two_inputs[2] = {{data, "a", DRNN_READS}, {data, "b", DRNN_READS}};
    ck_assert_int_eq(drnn_outputs_check(two_inputs, 2, NULL, &err), DRNN_OK);
    remove_tree(dir);
}
END_TEST

START_TEST(test_each_output_of_its_kind)
{
    char dir[DIR_SIZE], p[PATH_SIZE];
    drnn_error err;
    new_dir(dir);
    /* A log: new, empty, or one of ours (before mixtures: {"epoch":). */
    ck_assert_int_eq(check_one(in(p, dir, "new.jsonl"), DRNN_WRITES_LOG, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "a", ""), DRNN_WRITES_LOG, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "a", "{\"member\":1,\"epoch\":1}\n"), DRNN_WRITES_LOG,
                               &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "a", "{\"epoch\":1}\n"), DRNN_WRITES_LOG, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "a", "Aardonyx\n{\"member\":1}\n"), DRNN_WRITES_LOG,
                               &err), DRNN_ERR_MISMATCH);
    ck_assert_msg(strstr(err.message, "other than a dinornn-train log"), "%s", err.message);
    ck_assert_int_eq(check_one(put(p, dir, "a", DRNN_CKPT_MAGIC "..."), DRNN_WRITES_LOG, &err),
                     DRNN_ERR_MISMATCH);
    ck_assert_msg(strstr(err.message, "is a dinornn checkpoint"), "%s", err.message);
    /* A checkpoint: its magic, nothing less. */
    ck_assert_int_eq(check_one(p, DRNN_WRITES_CHECKPOINT, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "a", ""), DRNN_WRITES_CHECKPOINT, &err), DRNN_ERR_MISMATCH);
    ck_assert_int_eq(check_one(put(p, dir, "a", "DRNNCKP"), DRNN_WRITES_CHECKPOINT, &err),
                     DRNN_ERR_MISMATCH);
    /* A lock file: empty or a process id and its line end; one name, no link. */
    ck_assert_int_eq(check_one(put(p, dir, "lock", ""), DRNN_WRITES_LOCK, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "lock", "4242\n"), DRNN_WRITES_LOCK, &err), DRNN_OK);
    ck_assert_int_eq(check_one(put(p, dir, "lock", "4242"), DRNN_WRITES_LOCK, &err), DRNN_ERR_MISMATCH);
    ck_assert_int_eq(check_one(put(p, dir, "lock", "42a\n"), DRNN_WRITES_LOCK, &err), DRNN_ERR_MISMATCH);
    char q[PATH_SIZE];
    put(p, dir, "lock", "7\n");
    ck_assert_int_eq(link(p, in(q, dir, "other")), 0);
    ck_assert_int_eq(check_one(p, DRNN_WRITES_LOCK, &err), DRNN_ERR_MISMATCH);
    ck_assert_msg(strstr(err.message, "hard links"), "%s", err.message);
    ck_assert_int_eq(symlink("lock", in(q, dir, "link")), 0);
    ck_assert_int_eq(check_one(q, DRNN_WRITES_LOCK, &err), DRNN_ERR_NOT_REGULAR);
    /* No output is a directory, a FIFO (never opened: it would block) or a device. */
    ck_assert_int_eq(check_one(dir, DRNN_WRITES_LOG, &err), DRNN_ERR_IS_DIR);
    ck_assert_int_eq(mkfifo(in(p, dir, "fifo"), 0600), 0);
    ck_assert_int_eq(check_one(p, DRNN_WRITES_LOG, &err), DRNN_ERR_NOT_REGULAR);
    ck_assert_msg(strstr(err.message, "named pipe"), "%s", err.message);
    ck_assert_int_eq(check_one(p, DRNN_WRITES_CHECKPOINT, &err), DRNN_ERR_NOT_REGULAR);
    ck_assert_int_eq(check_one("/dev/null", DRNN_WRITES_LOG, &err), DRNN_ERR_NOT_REGULAR);
    remove_tree(dir);
}
END_TEST

START_TEST(test_data_read_once)
{
    char dir[DIR_SIZE], p[PATH_SIZE];
    drnn_error err;
    new_dir(dir);
    ck_assert_int_eq(drnn_rundir_data_rereadable(put(p, dir, "n.txt", "A\n"), "c.ckpt", &err), DRNN_OK);
    ck_assert_int_eq(drnn_rundir_data_rereadable(in(p, dir, "missing"), "c.ckpt", &err), DRNN_OK);
    ck_assert_int_eq(mkfifo(in(p, dir, "fifo"), 0600), 0);
    ck_assert_int_eq(drnn_rundir_data_rereadable(p, NULL, &err), DRNN_ERR_NOT_REGULAR);
    ck_assert_msg(strstr(err.message, "is a named pipe (FIFO), not a file"), "%s", err.message);
    ck_assert_int_eq(drnn_rundir_data_rereadable(p, "c.ckpt", &err), DRNN_ERR_NOT_REGULAR);
    ck_assert_msg(strstr(err.message, "(the training data recorded in c.ckpt)") &&
                      strstr(err.message, "cannot be read again"), "%s", err.message);
    ck_assert_int_eq(drnn_rundir_data_rereadable("/dev/null", "c.ckpt", &err), DRNN_ERR_NOT_REGULAR);
    /* A process substitution of the run that trained is gone with it. */
    ck_assert_int_eq(drnn_rundir_data_rereadable("/dev/fd/987654", "c.ckpt", &err),
                     DRNN_ERR_NOT_REGULAR);
    ck_assert_msg(strstr(err.message, "was a pipe or standard input"), "%s", err.message);
    remove_tree(dir);
}
END_TEST

START_TEST(test_failed_start_undone)
{
    char dir[DIR_SIZE], run_dir[PATH_SIZE], p[PATH_SIZE];
    drnn_error err;
    drnn_rundir rd, other;
    struct stat sb;
    new_dir(dir);
    /* Nothing made before the run can start, everything made undone. */
    ck_assert_int_eq(drnn_rundir_open(&rd, in(run_dir, dir, "a/b"), 0, NULL, 0, &err), DRNN_OK);
    ck_assert_int_eq(drnn_rundir_enter(&rd, NULL, &err), DRNN_OK);
    ck_assert_int_eq(rd.lock.fd, -1);
    ck_assert_int_ne(stat(in(p, dir, "a"), &sb), 0);
    ck_assert_msg(drnn_rundir_take(&rd, NULL, &err) == DRNN_OK, "%s", err.message);
    ck_assert_int_eq(stat(in(p, dir, "a/b/" DRNN_RUNDIR_LOCK_FILE), &sb), 0);
    ck_assert_int_eq(drnn_rundir_open(&other, run_dir, 0, NULL, 0, &err), DRNN_OK);
    ck_assert_int_eq(drnn_rundir_enter(&other, NULL, &err), DRNN_ERR_LOCKED);
    drnn_rundir_abandon(&rd);
    ck_assert_int_ne(stat(in(p, dir, "a"), &sb), 0);
    /* The other, refused while it was held, can take it now. */
    ck_assert_msg(drnn_rundir_take(&other, NULL, &err) == DRNN_OK, "%s", err.message);
    drnn_rundir_close(&other);
    /* A lock file found there stays: it was not made by this start. */
    ck_assert_int_eq(drnn_rundir_open(&rd, run_dir, 0, NULL, 0, &err), DRNN_OK);
    ck_assert_int_eq(drnn_rundir_enter(&rd, NULL, &err), DRNN_OK);
    ck_assert_int_ge(rd.lock.fd, 0);
    drnn_rundir_abandon(&rd);
    ck_assert_int_eq(stat(in(p, dir, "a/b/" DRNN_RUNDIR_LOCK_FILE), &sb), 0);
    remove_tree(dir);
}
END_TEST

START_TEST(test_resumed_checkpoint_replaced)
{
    char dir[DIR_SIZE], p[PATH_SIZE], q[PATH_SIZE];
    drnn_error err;
    drnn_rundir rd;
    new_dir(dir);
    put(p, dir, "latest.ckpt", DRNN_CKPT_MAGIC "1");
    ck_assert_int_eq(drnn_rundir_open(&rd, dir, 1, NULL, 0, &err), DRNN_OK);
    ck_assert_int_eq(drnn_rundir_enter(&rd, NULL, &err), DRNN_OK);
    ck_assert_msg(drnn_rundir_take(&rd, NULL, &err) == DRNN_OK, "%s", err.message);
    drnn_rundir_close(&rd);
    /* Another run saves (a rename) between the read and the lock. */
    ck_assert_int_eq(drnn_rundir_open(&rd, dir, 1, NULL, 0, &err), DRNN_OK);
    ck_assert_int_eq(unlink(in(q, dir, DRNN_RUNDIR_LOCK_FILE)), 0);
    ck_assert_int_eq(drnn_rundir_enter(&rd, NULL, &err), DRNN_OK);
    put(q, dir, "new", DRNN_CKPT_MAGIC "2");
    ck_assert_int_eq(rename(q, p), 0);
    ck_assert_int_eq(drnn_rundir_take(&rd, NULL, &err), DRNN_ERR_MISMATCH);
    ck_assert_msg(strstr(err.message, "changed while this run was starting"), "%s", err.message);
    drnn_rundir_abandon(&rd);
    remove_tree(dir);
}
END_TEST

static Suite *outputs_suite(void)
{
    Suite *suite = suite_create("outputs");
    TCase *tc = tcase_create("outputs");
    tcase_add_test(tc, test_same_file_any_name);
    tcase_add_test(tc, test_each_output_of_its_kind);
    tcase_add_test(tc, test_data_read_once);
    tcase_add_test(tc, test_failed_start_undone);
    tcase_add_test(tc, test_resumed_checkpoint_replaced);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return check_run(outputs_suite());
}
