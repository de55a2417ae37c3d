/* hparams.c: the hyperparameter table, and what is derived from it alone:
 * the defaults, the range check, the names of choices, and the sizes
 * chosen from the data. Adding a hyperparameter is one row here (with its
 * field in drnn_hparams), the code that uses it, a test and the docs. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dinornn/hparams.h"
#include "internal.h"

_Static_assert(sizeof(drnn_optimizer) == sizeof(int) && sizeof(drnn_clip_mode) == sizeof(int) &&
                   sizeof(drnn_schedule) == sizeof(int) && sizeof(drnn_cell_kind) == sizeof(int),
               "choices are held as int");

static const char *const cells[] = {"rnn", "lstm", "gru", NULL};
static const char *const optimizers[] = {"sgd", "adagrad", "adam", NULL};
static const char *const clip_modes[] = {"norm", "value", NULL};
static const char *const schedules[] = {"constant", "step", "cosine", "plateau", NULL};

/* The characters a mixture's members train on together in an epoch each,
 * at most, when drnn_hparams_fit_data chooses their number: on two cores
 * about three seconds of the default model's training, so that a default
 * run on a list of any size takes minutes, not hours. */
#define DRNN_FIT_MIXTURE_CHARS 500000

#define AT(field) offsetof(drnn_hparams, field)

/* In checkpoint order (docs/checkpoint-format.md, "Header"). Each row: how
 * the command line names it, the value and its range, its place in a
 * checkpoint. Fields left out are 0 or NULL: not an option, no short
 * option, no choices, range closed, held by every version, fixed on a
 * resume. */
static const drnn_hparam_info table[] = {
    {.option = "cell", .group = "Model", .arg = "CELL",
     .help = "recurrent cell: rnn (tanh), lstm or gru",
     .kind = DRNN_HP_CHOICE, .offset = AT(model.cell), .def = DRNN_CELL_GRU, .choices = cells,
     .ckpt_offset = 24, .ckpt_since = 1},
    {.option = "hidden", .short_option = 'H', .group = "Model", .arg = "N",
     .help = "units per layer, 1..4096; 0: from the data",
     .kind = DRNN_HP_INT, .offset = AT(model.hidden), .def = 0, .lo = 0, .hi = DRNN_MAX_HIDDEN,
     .ckpt_offset = 32, .ckpt_since = 1},
    {.option = "layers", .short_option = 'l', .group = "Model", .arg = "N",
     .help = "stacked layers, 1..16; 0: from the data",
     .kind = DRNN_HP_INT, .offset = AT(model.layers), .def = 0, .lo = 0, .hi = DRNN_MAX_LAYERS,
     .ckpt_offset = 36, .ckpt_since = 1},
    {.option = "optimizer", .group = "Training", .arg = "NAME",
     .help = "sgd, adagrad or adam",
     .kind = DRNN_HP_CHOICE, .offset = AT(optimizer), .def = DRNN_OPT_ADAM, .choices = optimizers,
     .ckpt_offset = 48, .ckpt_since = 1},
    {.option = "clip-mode", .group = "Training", .arg = "MODE",
     .help = "norm (global norm) or value (each element)",
     .kind = DRNN_HP_CHOICE, .offset = AT(clip_mode), .def = DRNN_CLIP_NORM, .choices = clip_modes,
     .ckpt_offset = 52, .ckpt_since = 1},
    {.option = "schedule", .group = "Training", .arg = "NAME",
     .help = "plateau (times --lr-decay after --lr-patience\nepochs without a new best), constant, step\n"
             "(halve every 10 epochs) or cosine (down to 0\nover --epochs)",
     .kind = DRNN_HP_CHOICE, .offset = AT(schedule), .def = DRNN_SCHED_PLATEAU, .choices = schedules,
     .ckpt_offset = 56, .ckpt_since = 1},
    {.option = "batch", .short_option = 'b', .group = "Training", .arg = "N",
     .help = "names per mini-batch, 1..8192",
     .kind = DRNN_HP_INT, .offset = AT(batch), .def = 32, .lo = 1, .hi = DRNN_MAX_BATCH,
     .ckpt_offset = 60, .ckpt_since = 1},
    {.option = "lr", .group = "Training", .arg = "X",
     .help = "learning rate, 1e-12 <= X <= 100",
     .kind = DRNN_HP_REAL, .offset = AT(lr), .def = 3e-3, .lo = 1e-12, .hi = 100,
     .ckpt_offset = 64, .ckpt_since = 1},
    {.option = "momentum", .group = "Training", .arg = "X",
     .help = "SGD momentum, 0 <= X <= 0.999999",
     .kind = DRNN_HP_REAL, .offset = AT(momentum), .def = 0, .lo = 0, .hi = 0.999999,
     .ckpt_offset = 72, .ckpt_since = 1},
    {.help = "Adam's beta1",
     .kind = DRNN_HP_REAL, .offset = AT(beta1), .def = 0.9, .lo = 0, .hi = 0.999999,
     .ckpt_offset = 80, .ckpt_since = 1},
    {.help = "Adam's beta2",
     .kind = DRNN_HP_REAL, .offset = AT(beta2), .def = 0.999, .lo = 0, .hi = 0.999999,
     .ckpt_offset = 88, .ckpt_since = 1},
    {.help = "Adam's and Adagrad's epsilon",
     .kind = DRNN_HP_REAL, .offset = AT(eps), .def = 1e-8, .lo = 1e-30, .hi = 1,
     .ckpt_offset = 96, .ckpt_since = 1},
    {.option = "clip", .group = "Training", .arg = "X",
     .help = "gradient clipping bound, 0 = none",
     .kind = DRNN_HP_REAL, .offset = AT(clip), .def = 5, .lo = 0, .hi = 1e30,
     .ckpt_offset = 104, .ckpt_since = 1},
    {.help = "the step schedule's factor",
     .kind = DRNN_HP_REAL, .offset = AT(step_gamma), .def = 0.5, .lo = 1e-12, .hi = 1,
     .ckpt_offset = 112, .ckpt_since = 1},
    {.help = "the cosine schedule's floor (at most lr)",
     .kind = DRNN_HP_REAL, .offset = AT(lr_min), .def = 0, .lo = 0, .hi = 100,
     .ckpt_offset = 120, .ckpt_since = 1},
    {.option = "val-fraction", .group = "Data", .arg = "F",
     .help = "share of names held out for validation,\n0 <= F <= 0.999999",
     .kind = DRNN_HP_REAL, .offset = AT(val_fraction), .def = 0.1, .lo = 0, .hi = 0.999999,
     .ckpt_offset = 128, .ckpt_since = 1},
    {.help = "the step schedule's period in epochs",
     .kind = DRNN_HP_INT, .offset = AT(step_epochs), .def = 10, .lo = 1, .hi = INT32_MAX,
     .ckpt_offset = 136, .ckpt_since = 1},
    {.help = "the cosine schedule's length in epochs (--epochs)",
     .kind = DRNN_HP_INT, .offset = AT(cosine_epochs), .def = 30, .lo = 1, .hi = INT32_MAX,
     .ckpt_offset = 140, .ckpt_since = 1},
    {.option = "seed", .short_option = 's', .group = "Training", .arg = "N",
     .help = "seed of initialisation, split and shuffles",
     .kind = DRNN_HP_SEED, .offset = AT(seed), .def = 1,
     .ckpt_offset = 144, .ckpt_since = 1},
    {.option = "keep-case", .group = "Data",
     .help = "do not lowercase the names",
     .kind = DRNN_HP_FLAG, .offset = AT(keep_case), .def = 0, .lo = 0, .hi = 1,
     .ckpt_offset = 152, .ckpt_since = 1},
    {.help = "validation from a file of its own (--val-data)",
     .kind = DRNN_HP_FLAG, .offset = AT(has_val_file), .def = 0, .lo = 0, .hi = 1,
     .ckpt_offset = 156, .ckpt_since = 1},
    /* Version 2's: older files were trained without either. */
    {.option = "dropout", .group = "Training", .arg = "P",
     .help = "dropout between layers and before the output,\n0 <= P <= 0.99",
     .kind = DRNN_HP_REAL, .offset = AT(dropout), .def = 0.3, .lo = 0, .hi = 0.99,
     .ckpt_offset = 272, .ckpt_since = 2, .before = 0},
    {.option = "weight-decay", .group = "Training", .arg = "X",
     .help = "decoupled (AdamW) for adam, L2 otherwise, 0..10",
     .kind = DRNN_HP_REAL, .offset = AT(weight_decay), .def = 0, .lo = 0, .hi = 10,
     .ckpt_offset = 280, .ckpt_since = 2, .before = 0},
    /* Another count sums the gradients in another order, so other bits:
     * fixed for a run. Files before version 3 were written with 8. */
    {.option = "slots", .group = "Training", .arg = "N",
     .help = "gradient slots per mini-batch, 1..1024 (at most\nthe batch is used): the most threads, over all\n"
             "MPI processes, that a step keeps busy; part of\nthe run's result",
     .kind = DRNN_HP_INT, .offset = AT(slots), .def = DRNN_GRAD_SLOTS, .lo = 1, .hi = DRNN_MAX_SLOTS,
     .ckpt_offset = 288, .ckpt_since = 3, .before = 8},
    {.option = "lr-patience", .group = "Training", .arg = "N",
     .help = "plateau schedule: epochs without a new best\nbefore the learning rate decays, 1..1000",
     .kind = DRNN_HP_INT, .offset = AT(lr_patience), .def = 2, .lo = 1, .hi = 1000,
     .ckpt_offset = 312, .ckpt_since = 3, .before = 2},
    /* The one a resume may change: it decides only when a run stops (more of it
     * trains a stalled run on), never what a step computes. */
    {.option = "patience", .group = "Training", .arg = "N",
     .help = "stop after N epochs without a new best\nvalidation loss; 0: never stop early",
     .kind = DRNN_HP_INT, .offset = AT(patience), .def = 6, .lo = 0, .hi = 1000000,
     .ckpt_offset = 316, .ckpt_since = 3, .before = 0, .resume_may_change = 1},
    {.option = "lr-decay", .group = "Training", .arg = "X",
     .help = "plateau schedule: the factor of each decay,\n0 < X <= 1",
     .kind = DRNN_HP_REAL, .offset = AT(lr_decay), .def = 0.5, .lo = 0, .lo_open = 1, .hi = 1,
     .ckpt_offset = 320, .ckpt_since = 3, .before = 0.5},
    {.option = "members", .group = "Model", .arg = "N",
     .help = "models trained one after another and mixed\n(their probabilities averaged), 1..16; 0: from\n"
             "the data",
     .kind = DRNN_HP_INT, .offset = AT(members), .def = 0, .lo = 0, .hi = DRNN_MAX_MEMBERS,
     .ckpt_offset = 328, .ckpt_since = 3, .before = 1},
};

#undef AT

const drnn_hparam_info *drnn_hparam_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const drnn_hparam_info *drnn_hparam_by_option(const char *option)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].option && strcmp(table[i].option, option) == 0)
            return &table[i];
    return NULL;
}

static void *field(drnn_hparams *hp, const drnn_hparam_info *h)
{
    return (char *)hp + h->offset;
}

static const void *cfield(const drnn_hparams *hp, const drnn_hparam_info *h)
{
    return (const char *)hp + h->offset;
}

double drnn_hparam_get(const drnn_hparams *hp, const drnn_hparam_info *h)
{
    switch (h->kind) {
    case DRNN_HP_REAL: return *(const double *)cfield(hp, h);
    case DRNN_HP_SEED: return (double)*(const uint64_t *)cfield(hp, h);
    default: return *(const int *)cfield(hp, h);
    }
}

void drnn_hparam_set(drnn_hparams *hp, const drnn_hparam_info *h, double value)
{
    switch (h->kind) {
    case DRNN_HP_REAL: *(double *)field(hp, h) = value; break;
    case DRNN_HP_SEED: *(uint64_t *)field(hp, h) = (uint64_t)value; break;
    default: *(int *)field(hp, h) = (int)value; break;
    }
}

int drnn_hparam_equal(const drnn_hparams *a, const drnn_hparams *b, const drnn_hparam_info *h)
{
    /* By value: -0 is 0. */
    if (h->kind == DRNN_HP_SEED)
        return *(const uint64_t *)cfield(a, h) == *(const uint64_t *)cfield(b, h);
    return drnn_hparam_get(a, h) == drnn_hparam_get(b, h);
}

void drnn_hparam_format(const drnn_hparams *hp, const drnn_hparam_info *h, char *buf,
                        size_t size)
{
    switch (h->kind) {
    case DRNN_HP_REAL: snprintf(buf, size, "%g", *(const double *)cfield(hp, h)); break;
    case DRNN_HP_SEED: snprintf(buf, size, "%" PRIu64, *(const uint64_t *)cfield(hp, h)); break;
    case DRNN_HP_CHOICE: {
        int v = *(const int *)cfield(hp, h), n = 0;
        while (h->choices[n])
            n++;
        snprintf(buf, size, "%s", v >= 0 && v < n ? h->choices[v] : "?");
        break;
    }
    default: snprintf(buf, size, "%d", *(const int *)cfield(hp, h)); break;
    }
}

void drnn_hparams_default(drnn_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        drnn_hparam_set(hp, &table[i], table[i].def);
}

static int choice_count(const drnn_hparam_info *h)
{
    int n = 0;
    while (h->choices[n])
        n++;
    return n;
}

/* One row's value against its range; DRNN_OK or a message naming it. */
static int check_row(const drnn_hparams *hp, const drnn_hparam_info *h, drnn_error *err)
{
    const char *dash = h->option ? "--" : "";
    const char *name = h->option ? h->option : h->help;
    if (h->kind == DRNN_HP_SEED)
        return DRNN_OK;
    double x = drnn_hparam_get(hp, h);
    if (h->kind == DRNN_HP_CHOICE) {
        if (x < 0 || x >= choice_count(h))
            return drnn_fail(err, DRNN_ERR_INVALID, "%s%s: unknown choice %g", dash, name, x);
        return DRNN_OK;
    }
    int ok = isfinite(x) && (h->lo_open ? x > h->lo : x >= h->lo) && x <= h->hi;
    if (ok)
        return DRNN_OK;
    if (h->kind == DRNN_HP_REAL)
        return drnn_fail(err, DRNN_ERR_INVALID, "%s%s: %g is out of range (must be %s %g and <= %g)",
                         dash, name, x, h->lo_open ? ">" : ">=", h->lo, h->hi);
    return drnn_fail(err, DRNN_ERR_INVALID, "%s%s: %g is out of range (must be from %g to %g)",
                     dash, name, x, h->lo, h->hi);
}

int drnn_hparams_check(const drnn_hparams *hp, drnn_error *err)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int rc = check_row(hp, &table[i], err);
        if (rc)
            return rc;
    }
    if (hp->lr_min > hp->lr)
        return drnn_fail(err, DRNN_ERR_INVALID, "the cosine schedule's floor %g is above --lr %g",
                         hp->lr_min, hp->lr);
    drnn_config model = hp->model;
    /* Not known until the data is read: the vocabulary, and the sizes left
     * to drnn_hparams_fit_data. */
    if (model.vocab == 0)
        model.vocab = 2;
    if (model.hidden == 0)
        model.hidden = 1;
    if (model.layers == 0)
        model.layers = 1;
    int rc = drnn_config_check(&model, err);
    return rc ? rc : drnn_ok(err);
}

/* The name of value v of a CHOICE row found by its field. */
static const char *choice_name(size_t offset, int v)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].offset == offset && table[i].kind == DRNN_HP_CHOICE)
            return v >= 0 && v < choice_count(&table[i]) ? table[i].choices[v] : NULL;
    return NULL;
}

const char *drnn_optimizer_name(drnn_optimizer o)
{
    return choice_name(offsetof(drnn_hparams, optimizer), (int)o);
}

const char *drnn_clip_mode_name(drnn_clip_mode m)
{
    return choice_name(offsetof(drnn_hparams, clip_mode), (int)m);
}

void drnn_hparams_fit_data(drnn_hparams *hp, int64_t train_chars)
{
    /* Measured (docs/model.md, "Defaults"): 128 units were as good as or
     * better than 256 on dinos (about 18,000 training characters) and the
     * romaji list (about 210,000; wider overfits first), and a third layer
     * paid from about 100,000. */
    if (hp->model.hidden == 0)
        hp->model.hidden = 128;
    if (hp->model.layers == 0)
        hp->model.layers = train_chars < 100000 ? 2 : 3;
    /* A mixture pays most where one model's errors vary most, on small
     * lists, and costs a model's training each: as many members as keep
     * members x characters near DRNN_FIT_MIXTURE_CHARS, 1 to 5. */
    if (hp->members == 0) {
        int64_t n = DRNN_FIT_MIXTURE_CHARS / (train_chars > 0 ? train_chars : 1);
        hp->members = n < 1 ? 1 : n > 5 ? 5 : (int)n;
    }
}
