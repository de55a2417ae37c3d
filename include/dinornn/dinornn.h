/* dinornn/dinornn.h: the whole public API of libdinornn in one include. */
#ifndef DINORNN_H
#define DINORNN_H

#include "dinornn/error.h"
#include "dinornn/rng.h"
#include "dinornn/names.h"
#include "dinornn/model.h"
#include "dinornn/hparams.h"
#include "dinornn/sample.h"
#include "dinornn/search.h"
#include "dinornn/state.h"
#include "dinornn/train.h"
#include "dinornn/checkpoint.h"

#endif
