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

typedef struct drnn_model {
    drnn_config cfg;            /* every network's */
    int count;                  /* networks: 1 (one network) .. DRNN_MAX_MEMBERS */
    const drnn_params *nets;    /* [count], not owned */
} drnn_model;

/* The model of nets[0 .. count-1] (count >= 1), all of nets[0].cfg; one
 * network is a model of its own. */
drnn_model drnn_model_of(const drnn_params *nets, int count);

#ifdef __cplusplus
}
#endif
#endif
