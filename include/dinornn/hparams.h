/* dinornn/hparams.h: the hyperparameters of a run, and the one table that
 * describes each of them once: its option, type, default, range, help
 * text, whether a resume may change it and its place in a checkpoint. The
 * option parser, the resume check, the range check, the usage text and the
 * checkpoint's encoder and decoder all walk this table. */
#ifndef DINORNN_HPARAMS_H
#define DINORNN_HPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "dinornn/error.h"
#include "dinornn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRNN_MAX_BATCH 8192   /* so that a slot's group fits DRNN_MAX_GROUP */
#define DRNN_MAX_SLOTS 1024   /* gradient slots of a mini-batch (--slots) */

typedef enum drnn_optimizer { DRNN_OPT_SGD, DRNN_OPT_ADAGRAD, DRNN_OPT_ADAM, DRNN_OPT_COUNT } drnn_optimizer;
typedef enum drnn_clip_mode { DRNN_CLIP_NORM, DRNN_CLIP_VALUE, DRNN_CLIP_COUNT } drnn_clip_mode;
typedef enum drnn_schedule {
    DRNN_SCHED_CONSTANT, DRNN_SCHED_STEP, DRNN_SCHED_COSINE,
    DRNN_SCHED_PLATEAU, /* times lr_decay after lr_patience epochs without a new best */
    DRNN_SCHED_COUNT
} drnn_schedule;

/* Everything that decides a run's result besides the data. */
typedef struct drnn_hparams {
    drnn_config model;        /* model.vocab comes from the data */
    int batch;                /* names per mini-batch, 1 .. DRNN_MAX_BATCH */
    int slots;                /* gradient slots a mini-batch is cut into, 1 .. DRNN_MAX_SLOTS
                               * (at most batch are used): the most threads, over all
                               * processes, that a step keeps busy; part of the result */
    drnn_optimizer optimizer;
    double lr;                /* base learning rate, 1e-12 .. 100 */
    double momentum;          /* SGD only, 0 .. 0.999999 */
    double beta1, beta2, eps; /* Adam; eps also for Adagrad */
    double dropout;           /* inverted dropout between layers and before the output, 0 .. 0.99 */
    double weight_decay;      /* decoupled for Adam (AdamW), L2 for SGD and Adagrad; 0 .. 10 */
    drnn_clip_mode clip_mode;
    double clip;              /* global-norm bound or element bound; 0 = none */
    drnn_schedule schedule;
    int step_epochs;          /* step: multiply by step_gamma every step_epochs */
    double step_gamma;
    int cosine_epochs;        /* cosine: from lr down to lr_min over this many epochs */
    double lr_min;
    int lr_patience;          /* plateau: epochs without a new best before a decay */
    double lr_decay;          /* plateau: the factor of each decay, 0 < x <= 1 */
    int patience;             /* stop after this many epochs without a new best; 0 = never */
    int members;              /* models trained one after another and mixed, 1 .. 16; 0 = from the data */
    uint64_t seed;            /* weights, split and shuffles */
    double val_fraction;      /* held-out share of the names file, 0 .. 0.999999 */
    int keep_case;
    int has_val_file;         /* validation came from its own file, not the split */
} drnn_hparams;

/* The defaults of dinornn-train, from the table (model.vocab left 0). */
void drnn_hparams_default(drnn_hparams *hp);
/* DRNN_OK, or DRNN_ERR_INVALID naming the first setting out of the table's
 * range (by its option: "--lr: 1e-13 is out of range ..."). */
int drnn_hparams_check(const drnn_hparams *hp, drnn_error *err);
const char *drnn_optimizer_name(drnn_optimizer o);
const char *drnn_clip_mode_name(drnn_clip_mode m);

/* The model dinornn-train chooses when --hidden, --layers or --members is
 * not given (0 in hp): from the characters it will train on (each name's
 * symbols and its end, over the training names only: after the validation
 * split); docs/model.md, "Defaults", says why. Sizes given stay. */
void drnn_hparams_fit_data(drnn_hparams *hp, int64_t train_chars);

/* How a hyperparameter is held in drnn_hparams and in a checkpoint. */
typedef enum drnn_hparam_kind {
    DRNN_HP_INT,      /* int; checkpoint u32 */
    DRNN_HP_REAL,     /* double; checkpoint f64 */
    DRNN_HP_SEED,     /* uint64_t; checkpoint u64 */
    DRNN_HP_CHOICE,   /* an enum, one of choices[]; checkpoint u32 */
    DRNN_HP_FLAG      /* int, 0 or 1, an option without argument; checkpoint u32 */
} drnn_hparam_kind;

typedef struct drnn_hparam_info {
    /* On the command line: dinornn-train's option and its --help line. */
    const char *option;          /* long option without "--", or NULL: not an option */
    char short_option;           /* or 0 */
    const char *group;           /* the --help section: "Data", "Model" or "Training" */
    const char *arg;             /* the value's name in --help ("N", "X", "NAME") */
    const char *help;            /* --help text; "\n" starts a continuation line */
    /* The value: where it is held, its default and its range. */
    drnn_hparam_kind kind;
    size_t offset;               /* of the value in drnn_hparams */
    double def;                  /* default (a choice's index; the seed's value) */
    double lo, hi;               /* inclusive range of INT and REAL values */
    int lo_open;                 /* REAL: lo itself excluded */
    const char *const *choices;  /* CHOICE: names by value, NULL-terminated */
    /* In a checkpoint, and on a resume from one. */
    size_t ckpt_offset;          /* byte offset in a checkpoint's header */
    int ckpt_since;              /* first checkpoint version that holds it */
    double before;               /* its value in older versions (what they implied:
                                  * no dropout, no weight decay) */
    int resume_may_change;       /* 1: a resume may give another value */
} drnn_hparam_info;

/* The table, in checkpoint order, and its length. */
const drnn_hparam_info *drnn_hparam_table(size_t *count);
/* The row of a long option name (without "--"), or NULL. */
const drnn_hparam_info *drnn_hparam_by_option(const char *option);

/* A value as a double (INT, REAL, CHOICE, FLAG; the seed is not one). */
double drnn_hparam_get(const drnn_hparams *hp, const drnn_hparam_info *h);
/* Sets an INT, REAL, CHOICE or FLAG value from a double (range unchecked). */
void drnn_hparam_set(drnn_hparams *hp, const drnn_hparam_info *h, double value);
/* 1 if a and b hold the same value of h (-0 equals 0). */
int drnn_hparam_equal(const drnn_hparams *a, const drnn_hparams *b, const drnn_hparam_info *h);
/* The value as a user would write it ("0.003", "adam", "1"), into buf. */
void drnn_hparam_format(const drnn_hparams *hp, const drnn_hparam_info *h, char *buf,
                        size_t size);

#ifdef __cplusplus
}
#endif
#endif
