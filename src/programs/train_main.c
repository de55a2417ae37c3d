/* dinornn-train: trains a character-level RNN on a list of names, with
 * crash-safe checkpoints between epochs and exact resume; alone, or as one
 * process of an MPI job (dist.h), process 0 speaking and saving for all. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dinornn/checkpoint.h"
#include "dinornn/dinornn.h"
#include "dinornn/sample.h"
#include "dinornn/train.h"
#include "dist.h"
#include "train_options.h"
#include "train_print.h"
#include "train_run.h"

const char cli_program_name[] = "dinornn-train";

/* The only mutable global: set by the signal handler, read between mini-batches. */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    if (stop_signal && sig == SIGINT) {
        /* A second Ctrl-C: leave at once, without a checkpoint. */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    stop_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP (the terminal or SSH session closed) end the
 * run with a checkpoint, on every process of an MPI job. A SIGHUP ignored
 * on entry stays ignored: nohup asked the run to outlive its terminal. */
static void catch_signals(void)
{
    struct sigaction sa, hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    /* A file-size limit must fail the write (EFBIG), not kill us mid-save. */
    signal(SIGXFSZ, SIG_IGN);
}

/* The name of a signal that catch_signals catches. */
static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM";
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Exits naming standard output once it fails; latest: the checkpoint just
 * saved from st, or NULL before the first save (then a start that fails:
 * the directory, if not NULL, is abandoned). */
static void check_stdout(const drnn_train_state *st, const char *latest, drnn_rundir *dir)
{
    int e = fflush(stdout) != 0 ? errno : 0;
    if (!e && !ferror(stdout))
        return;
    if (dir)
        drnn_rundir_abandon(dir);
    if (latest)
        cli_die(EXIT_RUNTIME,
                "cannot write to standard output%s%s (%s holds epoch %lld: go on with --resume)",
                e ? ": " : "", e ? strerror(e) : "", latest, (long long)st->epoch);
    cli_die(EXIT_RUNTIME, "cannot write to standard output%s%s", e ? ": " : "",
            e ? strerror(e) : "");
}

/* The command that continues an interrupted run, ready to paste: the
 * directory and the validation file are what a checkpoint cannot supply. */
static void print_continue(const train_options *o)
{
    char *dir = cli_shell_word(o->checkpoint_dir);
    char *val = o->val_data ? cli_shell_word(o->val_data) : NULL;
    if (!dir || (o->val_data && !val))
        cli_die(EXIT_RUNTIME, "out of memory");
    int other_dir = strcmp(o->checkpoint_dir, "checkpoints") != 0;
    cli_message("continue with: %s --resume%s%s%s%s --epochs %lld", cli_program_name,
                other_dir ? " --checkpoint-dir=" : "", other_dir ? dir : "",
                val ? " --val-data=" : "", val ? val : "", o->epochs);
    free(dir);
    free(val);
}

/* A model too big for the machine is refused before its weights are
 * initialised, instead of failing or swapping minutes into the run. */
static void check_memory(const drnn_hparams *hp, int vocab, const drnn_corpus *train,
                         const drnn_corpus *val, int threads)
{
    drnn_hparams h = *hp;
    h.model.vocab = vocab;
    int max_len = drnn_longest_name(train) > drnn_longest_name(val) ? drnn_longest_name(train)
                                                                    : drnn_longest_name(val);
    drnn_memory m;
    drnn_train_memory(&m, &h, max_len, train->count, threads);
    const char *what;
    double limit = cli_memory_limit(&what);
    if (limit <= 0 || m.total <= limit)
        return;
    char total[32], state[32], grads[32], work[32], have[32];
    cli_size(m.total, total, sizeof total);
    cli_size(m.state, state, sizeof state);
    cli_size(m.gradients, grads, sizeof grads);
    cli_size(m.workspaces, work, sizeof work);
    cli_size(limit, have, sizeof have);
    cli_die(EXIT_RUNTIME,
            "training a %s %dx%d model needs %s of memory (%s of weights, optimizer "
            "moments and a mixture's members, and as much again to read a checkpoint back, "
            "%s of gradients, %s of workspaces for batch %d and names of up to %d symbols), "
            "more than %s (%s): lower --hidden, --layers, --members or --batch",
            drnn_cell_name(h.model.cell), h.model.layers, h.model.hidden, total, state, grads,
            work, h.batch, max_len, what, have);
}

static void save_or_die(const drnn_train_state *st, const char *path, const char *dir)
{
    drnn_error err;
    if (!drnn_checkpoint_save(st, path, &err))
        return;
    if (err.code == DRNN_ERR_NONFINITE)
        cli_die(EXIT_RUNTIME,
                "training diverged in epoch %lld: %s; nothing was saved from it, the "
                "checkpoints in %s are as they were. Train again with a lower --lr (this run: "
                "%g) or a tighter --clip (this run: %g%s)",
                (long long)(st->epoch_pos ? st->epoch + 1 : st->epoch), err.message, dir,
                st->hp.lr, st->hp.clip, st->hp.clip > 0 ? "" : ", no clipping");
    cli_die(EXIT_RUNTIME, "%s", err.message);
}

/* On resume: the data must be the one trained on (or --force); the
 * checkpoint then records the data it goes on with, so that a file moved,
 * or switched with --force, is what later runs use. */
static void note_data_change(run *r)
{
    const train_options *o = &r->o;
    drnn_error err;
    const drnn_data_read read = {.path = r->data_path, .fingerprint = r->fingerprint,
                                 .val_path = o->val_data, .val_fingerprint = r->val_fingerprint};
    r->switched =
        drnn_rundir_check_data(&r->st, r->dir.resume, &read, &r->data_switched, &err) != DRNN_OK;
    if (r->switched && !o->force)
        cli_die(EXIT_RUNTIME, "%s; use --force to go on with these names anyway", err.message);
    if (drnn_rundir_adopt_data(&r->st, o->data, &read, &r->trained_on, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
}

/* Names from a pipe or a terminal are read once: what later needs them
 * again must be given them, which is said now rather than found then. */
static void warn_read_once(const run *r)
{
    drnn_error err;
    if (drnn_rundir_data_rereadable(r->data_path, NULL, &err))
        cli_message("warning: %s: its names can be read only once, so --resume, dinornn-eval "
                    "and dinornn-sample --novel will need them given with --data FILE (train "
                    "from a file to keep the run reproducible)", err.message);
    if (r->o.val_data && drnn_rundir_data_rereadable(r->o.val_data, NULL, &err))
        cli_message("warning: %s: its names can be read only once, so --resume will need them "
                    "given again with --val-data FILE", err.message);
}

/* The labels of the names, as the model's: a resumed model's own, a new
 * one's those of its training names; validation names carry the same. */
static void use_labels(run *r)
{
    drnn_error err;
    const drnn_label_table *model = r->o.resume ? &r->st.labels : &r->train.label_table;
    const int labeled = model->count > 0 || r->train.labels;
    if (labeled && r->o.resume &&
        drnn_corpus_use_labels(&r->train, model, r->data_path, &err))
        cli_die(EXIT_RUNTIME, "%s%s", err.message,
                model->count ? "" : " (the checkpoint's model was trained without labels)");
    /* A new run has no model yet: "the model's labels" are --data's. */
    if ((labeled || r->val.labels) && r->o.val_data &&
        drnn_corpus_use_labels(&r->val, model, r->o.val_data, &err))
        cli_die(EXIT_RUNTIME, "%s%s%s%s", err.message,
                r->o.resume ? "" : " (a new model's labels are those of its training names, ",
                r->o.resume ? "" : r->data_path, r->o.resume ? "" : ")");
}

/* The names straight into tokens (no copy of them as code points), their
 * vocabulary, and the train/validation corpora. */
static void load_data(run *r, drnn_vocab *vocab)
{
    train_options *o = &r->o;
    const drnn_hparams *hp = o->resume ? &r->st.hp : &o->hp;
    drnn_names_options nopt = {.keep_case = hp->keep_case};
    drnn_error err, data_err;
    memset(vocab, 0, sizeof *vocab);
    if (o->resume)
        *vocab = r->st.vocab; /* a view: the state owns it */
    if (r->dist.rank == 0)
        warn_read_once(r);
    /* On resume a symbol outside the model's vocabulary is reported after
     * the check that the data is the one trained on, which explains it. */
    int data_rc = drnn_corpus_load(&r->train, vocab, &r->fingerprint, r->data_path, &nopt, 0,
                                   &data_err);
    if (data_rc && !(o->resume && data_rc == DRNN_ERR_UNKNOWN_SYMBOL)) {
        if (o->resume && !o->data && data_rc == DRNN_ERR_NOT_FOUND)
            cli_die(EXIT_RUNTIME,
                    "%s (the training data recorded in %s): if the file has moved, give its "
                    "new location with --data FILE",
                    data_err.message, r->dir.resume);
        cli_die(EXIT_RUNTIME, "%s%s", data_err.message,
                o->data || data_rc != DRNN_ERR_NOT_FOUND
                    ? "" : " (the default names file, not installed here: give --data FILE)");
    }
    if (o->val_data) {
        drnn_vocab train_vocab = *vocab;
        if (drnn_corpus_load(&r->val, &train_vocab, &r->val_fingerprint, o->val_data, &nopt, 1, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        /* Without one validation name "best" would silently mean best on the
         * training data: refused, as dinornn-eval refuses an empty file. */
        if (r->val.count == 0)
            cli_die(EXIT_RUNTIME,
                    "%s: no usable validation names: all %zu have symbols that are not in %s "
                    "(the first on line %ld); give a validation file written in the training "
                    "data's alphabet",
                    o->val_data, r->val.skipped, r->data_path, r->val.first_skipped_line);
        if (r->val.skipped && !o->quiet)
            cli_message("%s: %zu names with symbols not in %s skipped (first on line %ld)",
                        o->val_data, r->val.skipped, r->data_path, r->val.first_skipped_line);
    }
    if (o->resume)
        note_data_change(r);
    if (data_rc)
        cli_die(EXIT_RUNTIME, "%s", data_err.message);
    use_labels(r);
    if (dist_check_same(&r->dist, r->fingerprint, r->val_fingerprint, hp, o->epochs, &err)) {
        /* One message for the job, process 0's, before any process exits
         * (a launcher may kill the others as soon as one has). */
        if (r->dist.rank == 0) {
            cli_message("%s", err.message);
            fflush(stderr);
        }
        dist_exit(&r->dist, EXIT_RUNTIME);
    }
    if (!o->val_data) {
        /* The held-out names are taken out of the loaded ones in place, in
         * each label's share. */
        size_t *ti, *vi, nt, nv;
        if (drnn_split_labeled(&r->train, hp->val_fraction, hp->seed, &ti, &nt, &vi, &nv, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        free(ti);
        if (drnn_corpus_extract(&r->train, vi, nv, &r->val, &err))
            cli_die(EXIT_RUNTIME, "%s", err.message);
        free(vi);
    }
}

/* A new run's state, the trainer, the directory taken and the signals
 * caught. */
static void start_run(run *r, const drnn_vocab *vocab)
{
    train_options *o = &r->o;
    drnn_error err;
    if (!o->resume) {
        /* Predicted characters: each name's symbols and its end. */
        int64_t chars = (int64_t)(r->train.start[r->train.count] + r->train.count);
        r->fitted = o->hp.model.hidden == 0 || o->hp.model.layers == 0 || o->hp.members == 0;
        drnn_hparams_fit_data(&o->hp, chars);
        o->hp.model.labels = r->train.label_table.count;
    }
    check_memory(o->resume ? &r->st.hp : &o->hp, vocab->size, &r->train, &r->val, r->threads);
    if (!o->resume) {
        o->hp.has_val_file = o->val_data != NULL;
        if (o->hp.schedule == DRNN_SCHED_COSINE)
            o->hp.cosine_epochs = (int)o->epochs;
        /* The checkpoint records the data's absolute path, so that --resume
         * finds it from any directory. */
        char *absolute = realpath(r->data_path, NULL);
        int rc = drnn_state_new(&r->st, &o->hp, vocab, r->fingerprint, r->val_fingerprint,
                                absolute ? absolute : r->data_path, &err);
        free(absolute);
        /* The labels and their shares of the training names (after the split). */
        if (!rc)
            rc = drnn_label_table_copy(&r->st.labels, &r->train.label_table, &err);
        if (rc) /* out of memory is no usage error */
            cli_die(rc == DRNN_ERR_NOMEM ? EXIT_RUNTIME : EXIT_USAGE, "%s", err.message);
    }
    if (drnn_trainer_new(&r->trainer, &r->st, &r->train, &r->val, &err))
        cli_die(EXIT_RUNTIME, "%s: %s", o->resume ? r->dir.resume : r->data_path, err.message);
    if (dist_trainer(&r->dist, r->trainer, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    if (r->dist.rank == 0)
        train_take_directory(r);
    catch_signals();
}

/* The first lines: a data switch, what is trained and how, the resume. */
static void announce(run *r)
{
    const train_options *o = &r->o;
    const drnn_train_state *st = &r->st;
    if (o->quiet)
        return;
    if (r->switched) {
        fputs("switching data (--force): ", stdout);
        if (r->data_switched && r->trained_on)
            printf("training on %s, not on %s as before; ", r->data_path, r->trained_on);
        else if (r->data_switched)
            printf("the names in %s are not those %s was trained on; ", r->data_path, r->dir.resume);
        if (r->val_fingerprint != 0 && !r->data_switched)
            printf("validating on other names (%s) than before; ", o->val_data);
        printf("the best loss so far no longer counts\n");
    }
    char schedule[96] = "";
    if (st->hp.schedule == DRNN_SCHED_PLATEAU)
        snprintf(schedule, sizeof schedule, ", x%g after %d epochs without a new best",
                 st->hp.lr_decay, st->hp.lr_patience);
    else {
        char name[16]; /* the table's name of the choice */
        drnn_hparam_format(&st->hp, drnn_hparam_by_option("schedule"), name, sizeof name);
        snprintf(schedule, sizeof schedule, ", %s schedule", name);
    }
    char stop[64] = "";
    if (st->hp.patience > 0)
        snprintf(stop, sizeof stop, "; stops after %d epochs without one", st->hp.patience);
    char mixture[64] = "";
    if (st->hp.members > 1)
        snprintf(mixture, sizeof mixture, "a mixture of %d models, each ", st->hp.members);
    char val[64] = "no validation names (best by the training loss)";
    if (r->val.count)
        snprintf(val, sizeof val, "%zu validation", r->val.count);
    printf("%s: %zu training names, %s, vocabulary %d; %s%s %dx%d%s, dropout %g, "
           "%zu parameters; %s lr %g%s, batch %d%s; %d thread%s\n",
           r->data_path, r->train.count, val, st->vocab.size, mixture,
           drnn_cell_name(st->hp.model.cell), st->hp.model.layers, st->hp.model.hidden,
           r->fitted ? " (chosen for the data)" : "", st->hp.dropout, st->weights.count,
           drnn_optimizer_name(st->hp.optimizer), st->hp.lr, schedule, st->hp.batch, stop,
           r->threads, r->threads == 1 ? "" : "s");
    if (st->labels.count > 0) {
        /* Each label with its share of the training names: the prior of
         * --classify and the weights of the model of all kinds. */
        printf("%d labels, conditioning every step:", st->labels.count);
        for (int k = 0; k < st->labels.count; k++)
            printf("%s %s (%.1f%%)", k ? "," : "", st->labels.text[k],
                   100 * drnn_label_share(&st->labels, k));
        putchar('\n');
    }
    if (r->dist.ranks > 1)
        printf("%d MPI processes (%d threads on this one) share each mini-batch's %d gradient "
               "slots\n", r->dist.ranks, r->threads,
               st->hp.batch < st->hp.slots ? st->hp.batch : st->hp.slots);
    char member[48];
    if (o->resume)
        printf("resuming from %s at %sepoch %lld%s%s%s\n", r->dir.resume,
               train_member_part(st, member, sizeof member), (long long)st->epoch,
               st->epoch_pos ? " (part way through)" : "",
               r->trained_on && !r->switched ? "; the data has moved to " : "",
               r->trained_on && !r->switched ? st->data_path : "");
    check_stdout(st, NULL, &r->dir);
}

/* Before the first epoch: warnings, and that every save can be made. */
static void prepare_saves(run *r)
{
    const train_options *o = &r->o;
    const drnn_train_state *st = &r->st;
    if (st->hp.schedule == DRNN_SCHED_COSINE && o->epochs > st->hp.cosine_epochs)
        cli_message("warning: the cosine schedule was planned for %d epochs; epochs after it "
                    "train at the final learning rate %g",
                    st->hp.cosine_epochs, st->hp.lr_min);
    const int last = st->member + 1 >= st->hp.members;
    if (last && st->epoch >= o->epochs && !o->quiet)
        printf("the checkpoint has already reached epoch %lld of %lld: nothing to do (raise --epochs)\n",
               (long long)st->epoch, o->epochs);
    else if (last && drnn_state_stalled(st) && !o->quiet)
        printf("the run stopped early at epoch %lld: no new best since epoch %lld; nothing to "
               "do (raise --patience, or give --patience 0, to train on)\n",
               (long long)st->epoch, (long long)st->best_epoch);
    drnn_error err;
    if ((!last || !drnn_state_member_done(st, o->epochs)) && drnn_rundir_check_saves(&r->dir, &err))
        train_start_failed(r, EXIT_RUNTIME, "%s%s", err.message,
                           err.code == DRNN_ERR_READ_ONLY ? ", or train in another --checkpoint-dir"
                                                          : "");
    if (r->trained_on && !r->switched &&
        drnn_rundir_record_data_path(&r->dir, r->fingerprint, r->trained_on, st->data_path, &err))
        train_start_failed(r, EXIT_RUNTIME, "%s", err.message);
}

/* One epoch, or what is left of it until a signal. On a terminal, in
 * chunks of a few mini-batches so that a progress line can move; the state
 * carries everything, so results do not change. */
static void run_epoch(run *r, drnn_epoch_report *rep)
{
    drnn_train_state *st = &r->st;
    drnn_error err;
    const int bar = train_progress_wanted(r->o.quiet);
    double t0 = now_seconds(), drawn = t0;
    int64_t pos0 = st->epoch_pos;
    drnn_epoch_report part;
    memset(rep, 0, sizeof *rep);
    do {
        if (drnn_trainer_epoch(r->trainer, bar ? 4 : 0, &stop_signal, &part, &err))
            cli_die(EXIT_RUNTIME, "%s; no checkpoint was written from this state",
                    err.message);
        rep->chars += part.chars;
        rep->exchange_seconds += part.exchange_seconds;
        if (part.threads)
            rep->threads = part.threads;
        double t = now_seconds();
        if (bar && !part.finished && t - drawn >= 0.1) {
            train_draw_progress(st, r->train.count, r->o.epochs, rep->chars, st->epoch_pos - pos0, t - t0);
            drawn = t;
        }
    } while (!part.finished && !part.stopped);
    if (bar)
        train_clear_progress();
    rep->finished = part.finished;
    rep->stopped = part.stopped;
    rep->train_loss = part.train_loss;
    rep->val_loss = part.val_loss;
    rep->improved = part.improved;
    rep->lr = part.lr;
    rep->lr_decayed = part.lr_decayed;
}

/* An epoch's line, its samples and its JSON line in the log. */
static void report_epoch(run *r, const drnn_epoch_report *rep, double dt)
{
    const drnn_train_state *st = &r->st;
    double cps = dt > 0 ? (double)rep->chars / dt : 0;
    if (!r->o.quiet) {
        char share[48] = "", val[32] = "";
        if (r->dist.ranks > 1 && dt > 0) /* process 0's view */
            snprintf(share, sizeof share, ", %d processes, exchange %.0f%%", r->dist.ranks,
                     100 * rep->exchange_seconds / dt);
        if (r->val.count) /* without validation names, best is by the training loss */
            snprintf(val, sizeof val, "  val %.4f", rep->val_loss);
        if (st->hp.members > 1)
            printf("member %d/%d  ", st->member + 1, st->hp.members);
        char used[24] = ""; /* fewer threads than asked, where that was faster */
        if (rep->threads && rep->threads < r->threads)
            snprintf(used, sizeof used, "%d of ", rep->threads);
        printf("epoch %lld/%lld  train %.4f%s%s  %.0f chars/s  %.2f s  [%s%d thread%s%s]%s\n",
               (long long)st->epoch, r->o.epochs, rep->train_loss, val,
               rep->improved ? " *best" : "", cps, dt, used, r->threads,
               r->threads == 1 ? "" : "s", share,
               rep->lr_decayed ? "  (learning rate lowered)" : "");
        train_print_samples(st, &r->train, r->o.samples);
        check_stdout(st, r->dir.latest, NULL);
    }
    if (!r->log)
        return;
    /* Numbers that read back exactly; null for what JSON cannot write (NaN). */
    char a[32], b[32], c[32], d[32], e[32], f[32];
    if (fprintf(r->log,
                "{\"member\":%d,\"epoch\":%lld,\"train_loss\":%s,\"val_loss\":%s,\"chars_per_sec\":%s,"
                "\"seconds\":%s,\"lr\":%s,\"threads\":%d,\"threads_used\":%d,"
                "\"processes\":%d,\"exchange_seconds\":%s}\n",
                st->member + 1, (long long)st->epoch, cli_json_number(a, sizeof a, rep->train_loss),
                cli_json_number(b, sizeof b, rep->val_loss), cli_json_number(c, sizeof c, cps),
                cli_json_number(d, sizeof d, now_seconds() - r->start),
                cli_json_number(e, sizeof e, rep->lr),
                r->threads, rep->threads ? rep->threads : r->threads, r->dist.ranks,
                cli_json_number(f, sizeof f, rep->exchange_seconds)) < 0 ||
        fflush(r->log) != 0)
        cli_die(EXIT_RUNTIME, "cannot write log %s: %s (%s holds epoch %lld)", r->o.log,
                strerror(errno), r->dir.latest, (long long)st->epoch);
}

/* The loss of the model the state stands for (a mixture: of the members'
 * best weights so far) on the validation names, else the training names;
 * *parts receives its number of models. */
static double model_loss(run *r, int *parts)
{
    drnn_params part[DRNN_MAX_MEMBERS];
    drnn_model model = drnn_state_model(&r->st, part);
    *parts = 1;
    /* One model: the first member's best, whose score is known (and whose
     * evaluation would take workspaces for a batch of names). */
    if (model.count <= 1)
        return r->st.best_val_loss;
    const drnn_corpus *c = r->val.count ? &r->val : &r->train;
    double nats;
    int64_t chars;
    drnn_error err;
    if (drnn_evaluate(&model, c, &nats, &chars, &err))
        cli_die(EXIT_RUNTIME, "%s", err.message);
    *parts = model.count;
    return chars ? nats / (double)chars : NAN;
}

/* The line and log entry that close a member of a mixture. */
static void report_member(run *r)
{
    const drnn_train_state *st = &r->st;
    /* Nothing to print or log (as on every process of an MPI job but 0):
     * the mixture is not evaluated. Process 0 evaluates it alone; the others
     * wait for it at the next member's first exchange. */
    if (r->o.quiet && !r->log)
        return;
    int parts;
    double loss = model_loss(r, &parts);
    const char *what = r->val.count ? "validation" : "training";
    if (!r->o.quiet) {
        printf("member %d/%d done: best %s loss %.4f at epoch %lld; the mixture of %d: %.4f\n",
               st->member + 1, st->hp.members, what, st->best_val_loss,
               (long long)st->best_epoch, parts, loss);
        check_stdout(st, r->dir.latest, NULL);
    }
    char a[32], b[32];
    if (r->log && (fprintf(r->log, "{\"member\":%d,\"mixture\":%d,\"mixture_loss\":%s,\"seconds\":%s}\n",
                           st->member + 1, parts, cli_json_number(a, sizeof a, loss),
                           cli_json_number(b, sizeof b, now_seconds() - r->start)) < 0 ||
                   fflush(r->log) != 0))
        cli_die(EXIT_RUNTIME, "cannot write log %s: %s", r->o.log, strerror(errno));
}

/* Epochs up to --epochs (each member's, for a mixture), a checkpoint after
 * each; a signal ends the run with a checkpoint of where it stopped.
 * Returns the exit status. */
static int train_epochs(run *r)
{
    drnn_train_state *st = &r->st;
    for (;;) {
        if (drnn_state_member_done(st, r->o.epochs)) {
            if (st->member + 1 >= st->hp.members)
                break;
            drnn_state_next_member(st);
        }
        double t0 = now_seconds();
        drnn_epoch_report rep;
        run_epoch(r, &rep);
        double dt = now_seconds() - t0;
        const int saver = r->dist.rank == 0;
        if (saver)
            save_or_die(st, r->dir.latest, r->o.checkpoint_dir);
        if (!rep.finished) {
            /* rep.stopped, not stop_signal: in an MPI job another process may
             * have had the signal. */
            if (saver) {
                char member[48];
                cli_message("interrupted by %s during %sepoch %lld (%lld of %zu names done); "
                            "checkpoint written to %s", signal_name(rep.stopped),
                            train_member_part(st, member, sizeof member), (long long)st->epoch + 1,
                            (long long)st->epoch_pos, r->train.count, r->dir.latest);
                print_continue(&r->o);
            }
            return 128 + rep.stopped;
        }
        if (rep.improved && saver)
            save_or_die(st, r->dir.best, r->o.checkpoint_dir);
        report_epoch(r, &rep, dt);
        if (drnn_state_stalled(st) && !r->o.quiet && st->epoch < r->o.epochs)
            printf("stopping early: no new best %s loss in %d epochs (--patience)\n",
                   r->val.count ? "validation" : "training", st->hp.patience);
        if (st->hp.members > 1 && drnn_state_member_done(st, r->o.epochs))
            report_member(r);
    }
    return EXIT_OK;
}

/* The closing line, the log closed, everything freed. */
static void finish(run *r, int status)
{
    const drnn_train_state *st = &r->st;
    if (status == EXIT_OK && !r->o.quiet && st->best_epoch >= 0) {
        /* best.ckpt is named only when it is there (a run resumed from
         * elsewhere may not have saved its best epoch here). */
        int saved = access(r->dir.best, F_OK) == 0, parts = 1;
        if (st->hp.members > 1) {
            double loss = model_loss(r, &parts);
            printf("the mixture of %d models: %s loss %.4f, ", parts,
                   r->val.count ? "validation" : "training", loss);
        } else
            printf("best %s loss %.4f at epoch %lld, ", r->val.count ? "validation" : "training",
                   st->best_val_loss, (long long)st->best_epoch);
        printf("%s %s; total %.1f s\n", saved ? "saved in" : "not saved in",
               saved ? r->dir.best : r->o.checkpoint_dir, now_seconds() - r->start);
    }
    if (r->log && fclose(r->log) != 0)
        cli_die(EXIT_RUNTIME, "cannot write log %s: %s", r->o.log, strerror(errno));
    drnn_trainer_free(r->trainer);
    drnn_corpus_free(&r->train);
    drnn_corpus_free(&r->val);
    drnn_state_free(&r->st);
    drnn_rundir_close(&r->dir);
    free(r->trained_on);
    cli_close_stdout();
    dist_end(&r->dist);
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    dist_start(&r.dist, &argc, &argv);
    train_parse_options(&r.o, argc, argv);
    if (r.dist.rank != 0) {
        /* Process 0 speaks for the job. */
        r.o.quiet = 1;
        r.o.log = NULL;
    }
    r.threads = cli_threads(r.o.threads, r.o.quiet);
    train_claim_directory(&r);
    drnn_vocab vocab;
    load_data(&r, &vocab);
    start_run(&r, &vocab);
    if (!r.o.resume)
        drnn_vocab_free(&vocab); /* the state holds its own copy */
    announce(&r);
    if (r.dist.rank == 0)
        prepare_saves(&r);
    if (r.dist.rank == 0)
        train_begin(&r);
    r.start = now_seconds();
    int status = train_epochs(&r);
    finish(&r, status);
    return status;
}
