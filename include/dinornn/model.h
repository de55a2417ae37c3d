/* dinornn/model.h: what a checkpoint stands for: one network, or a mixture
 * of several networks of one configuration trained apart, whose probability
 * of each symbol is the mean of theirs. Generation (the stepper), sampling,
 * the search and evaluation take a model; training works on one network's
 * parameters (params.h) at a time. */
#ifndef DINORNN_MODEL_H
#define DINORNN_MODEL_H

#include "dinornn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most networks a mixture holds. */
#define DRNN_MAX_MEMBERS 16

/* A labeled model's kinds: all of them together, or (for a stepper) none. */
#define DRNN_LABEL_MIXTURE (-1)
#define DRNN_LABEL_NONE (-2)

typedef struct drnn_model {
    drnn_config cfg;            /* every network's */
    int count;                  /* networks: 1 (one network) .. DRNN_MAX_MEMBERS */
    const drnn_params *nets;    /* [count], not owned */
    int label;                  /* a labeled model's (cfg.labels > 0) kind of names, which
                                 * a stepper made for it starts under: 0 .. labels-1, or
                                 * DRNN_LABEL_MIXTURE, the model of all kinds together,
                                 * each label's weighted by its share of label_names */
    const int64_t *label_names; /* [cfg.labels] training names per label (labels.h), or
                                 * NULL for equal shares; not owned */
} drnn_model;

/* The model of nets[0 .. count-1] (count >= 1), all of nets[0].cfg; one
 * network is a model of its own. A labeled one stands for all its kinds
 * together, in equal shares (drnn_state_model gives the training shares). */
drnn_model drnn_model_of(const drnn_params *nets, int count);

#ifdef __cplusplus
}
#endif
#endif
