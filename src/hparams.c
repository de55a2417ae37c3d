/* hparams.c: the hyperparameter table, and what is derived from it alone:
 * the defaults, the range check, the names of choices, and the
 * learning-rate schedule. Adding a hyperparameter is one row here (with its
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

/* In checkpoint order (docs/checkpoint-format.md, "Header"). */
static const drnn_hparam_info table[] = {
    {"cell", 0, "Model", "CELL", "recurrent cell: rnn (tanh), lstm or gru",
     DRNN_HP_CHOICE, AT(model.cell), DRNN_CELL_GRU, 0, 0, 0, cells, 0, 24, 1, 0},
    {"hidden", 'H', "Model", "N", "units per layer, 1..4096; 0: from the data",
     DRNN_HP_INT, AT(model.hidden), 0, 0, DRNN_MAX_HIDDEN, 0, NULL, 0, 32, 1, 0},
    {"layers", 'l', "Model", "N", "stacked layers, 1..16; 0: from the data",
     DRNN_HP_INT, AT(model.layers), 0, 0, DRNN_MAX_LAYERS, 0, NULL, 0, 36, 1, 0},
    {"optimizer", 0, "Training", "NAME", "sgd, adagrad or adam",
     DRNN_HP_CHOICE, AT(optimizer), DRNN_OPT_ADAM, 0, 0, 0, optimizers, 0, 48, 1, 0},
    {"clip-mode", 0, "Training", "MODE", "norm (global norm) or value (each element)",
     DRNN_HP_CHOICE, AT(clip_mode), DRNN_CLIP_NORM, 0, 0, 0, clip_modes, 0, 52, 1, 0},
    {"schedule", 0, "Training", "NAME",
     "plateau (times --lr-decay after --lr-patience\nepochs without a new best), constant, step\n"
     "(halve every 10 epochs) or cosine (down to 0\nover --epochs)",
     DRNN_HP_CHOICE, AT(schedule), DRNN_SCHED_PLATEAU, 0, 0, 0, schedules, 0, 56, 1, 0},
    {"batch", 'b', "Training", "N", "names per mini-batch, 1..8192",
     DRNN_HP_INT, AT(batch), 32, 1, DRNN_MAX_BATCH, 0, NULL, 0, 60, 1, 0},
    {"lr", 0, "Training", "X", "learning rate, 1e-12 <= X <= 100",
     DRNN_HP_REAL, AT(lr), 3e-3, 1e-12, 100, 0, NULL, 0, 64, 1, 0},
    {"momentum", 0, "Training", "X", "SGD momentum, 0 <= X <= 0.999999",
     DRNN_HP_REAL, AT(momentum), 0, 0, 0.999999, 0, NULL, 0, 72, 1, 0},
    {NULL, 0, NULL, NULL, "Adam's beta1",
     DRNN_HP_REAL, AT(beta1), 0.9, 0, 0.999999, 0, NULL, 0, 80, 1, 0},
    {NULL, 0, NULL, NULL, "Adam's beta2",
     DRNN_HP_REAL, AT(beta2), 0.999, 0, 0.999999, 0, NULL, 0, 88, 1, 0},
    {NULL, 0, NULL, NULL, "Adam's and Adagrad's epsilon",
     DRNN_HP_REAL, AT(eps), 1e-8, 1e-30, 1, 0, NULL, 0, 96, 1, 0},
    {"clip", 0, "Training", "X", "gradient clipping bound, 0 = none",
     DRNN_HP_REAL, AT(clip), 5, 0, 1e30, 0, NULL, 0, 104, 1, 0},
    {NULL, 0, NULL, NULL, "the step schedule's factor",
     DRNN_HP_REAL, AT(step_gamma), 0.5, 1e-12, 1, 0, NULL, 0, 112, 1, 0},
    {NULL, 0, NULL, NULL, "the cosine schedule's floor (at most lr)",
     DRNN_HP_REAL, AT(lr_min), 0, 0, 100, 0, NULL, 0, 120, 1, 0},
    {"val-fraction", 0, "Data", "F", "share of names held out for validation,\n0 <= F <= 0.999999",
     DRNN_HP_REAL, AT(val_fraction), 0.1, 0, 0.999999, 0, NULL, 0, 128, 1, 0},
    {NULL, 0, NULL, NULL, "the step schedule's period in epochs",
     DRNN_HP_INT, AT(step_epochs), 10, 1, INT32_MAX, 0, NULL, 0, 136, 1, 0},
    {NULL, 0, NULL, NULL, "the cosine schedule's length in epochs (--epochs)",
     DRNN_HP_INT, AT(cosine_epochs), 30, 1, INT32_MAX, 0, NULL, 0, 140, 1, 0},
    {"seed", 's', "Training", "N", "seed of initialisation, split and shuffles",
     DRNN_HP_SEED, AT(seed), 1, 0, 0, 0, NULL, 0, 144, 1, 0},
    {"keep-case", 0, "Data", NULL, "do not lowercase the names",
     DRNN_HP_FLAG, AT(keep_case), 0, 0, 1, 0, NULL, 0, 152, 1, 0},
    {NULL, 0, NULL, NULL, "validation from a file of its own (--val-data)",
     DRNN_HP_FLAG, AT(has_val_file), 0, 0, 1, 0, NULL, 0, 156, 1, 0},
    {"dropout", 0, "Training", "P", "dropout between layers and before the output,\n0 <= P <= 0.99",
     DRNN_HP_REAL, AT(dropout), 0.3, 0, 0.99, 0, NULL, 0, 272, 2, 0},
    {"weight-decay", 0, "Training", "X", "decoupled (AdamW) for adam, L2 otherwise, 0..10",
     DRNN_HP_REAL, AT(weight_decay), 0, 0, 10, 0, NULL, 0, 280, 2, 0},
    /* Another count sums the gradients in another order, so other bits:
     * fixed for a run. Files before version 3 were written with 8. */
    {"slots", 0, "Training", "N",
     "gradient slots per mini-batch, 1..1024 (at most\nthe batch is used): the most threads, over all\n"
     "MPI processes, that a step keeps busy; part of\nthe run's result",
     DRNN_HP_INT, AT(slots), DRNN_GRAD_SLOTS, 1, DRNN_MAX_SLOTS, 0, NULL, 0, 288, 3, 8},
    {"lr-patience", 0, "Training", "N",
     "plateau schedule: epochs without a new best\nbefore the learning rate decays, 1..1000",
     DRNN_HP_INT, AT(lr_patience), 2, 1, 1000, 0, NULL, 0, 312, 3, 2},
    {"patience", 0, "Training", "N",
     "stop after N epochs without a new best\nvalidation loss; 0: never stop early",
     DRNN_HP_INT, AT(patience), 6, 0, 1000000, 0, NULL, 1, 316, 3, 0},
    {"lr-decay", 0, "Training", "X", "plateau schedule: the factor of each decay,\n0 < X <= 1",
     DRNN_HP_REAL, AT(lr_decay), 0.5, 0, 1, 1, NULL, 0, 320, 3, 0.5},
    {"members", 0, "Model", "N",
     "models trained one after another and mixed\n(their probabilities averaged), 1..16; 0: from\nthe data",
     DRNN_HP_INT, AT(members), 0, 0, DRNN_MAX_MEMBERS, 0, NULL, 0, 328, 3, 1},
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

double drnn_learning_rate(const drnn_hparams *hp, int64_t epoch)
{
    switch (hp->schedule) {
    case DRNN_SCHED_STEP:
        return hp->lr * pow(hp->step_gamma, (double)(epoch / hp->step_epochs));
    case DRNN_SCHED_COSINE:
        if (epoch >= hp->cosine_epochs)
            return hp->lr_min;
        return hp->lr_min + 0.5 * (hp->lr - hp->lr_min) *
                                (1 + cos(M_PI * (double)epoch / hp->cosine_epochs));
    default:
        return hp->lr;
    }
}

void drnn_hparams_fit_data(drnn_hparams *hp, int64_t train_chars)
{
    /* Measured (docs/model.md, "Defaults"): 128 units were as good as or
     * better than 256 from 15,000 to 190,000 characters (wider overfits
     * first), and a third layer paid from about 100,000. */
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
