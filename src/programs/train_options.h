/* train_options.h: dinornn-train's command line: the options of a run, the
 * hyperparameters (the library's table, drnn_hparam_table), --help, and on
 * resume their agreement with the checkpoint. */
#ifndef DINORNN_TRAIN_OPTIONS_H
#define DINORNN_TRAIN_OPTIONS_H

#include "dinornn/dinornn.h"

/* The rows of drnn_hparam_table that this program's arrays hold. */
#define TRAIN_MAX_HPARAMS 64

#ifndef DRNN_PKGDATADIR
#define DRNN_PKGDATADIR "/usr/local/share/dinornn"
#endif

/* Which settings the command line gave: on resume they must agree with the checkpoint. */
typedef struct train_options {
    drnn_hparams hp;
    const char *data, *val_data, *checkpoint_dir, *resume_file, *log;
    int resume, force, overwrite, quiet, samples, threads;
    long long epochs;
    unsigned char hp_given[TRAIN_MAX_HPARAMS];   /* by row of the hyperparameter table */
} train_options;

/* The defaults, then the command line; exits after --help or --version, and
 * on a bad command line. */
void train_parse_options(train_options *o, int argc, char **argv);
/* On resume, every setting the command line gave must match the checkpoint's
 * (ck, read from path), unless its table row lets a resume change it. */
void train_check_resume_options(const train_options *o, const drnn_hparams *ck, const char *path);
/* On resume, the settings a resume may change take the command line's value. */
void train_apply_resume_options(const train_options *o, drnn_hparams *ck);

#endif
