/* dinornn/dinornn.h: the whole public API of libdinornn in one include. */
#ifndef DINORNN_H
#define DINORNN_H

#include "dinornn/error.h"
#include "dinornn/rng.h"
#include "dinornn/names.h"
#include "dinornn/vocab.h"
#include "dinornn/corpus.h"
#include "dinornn/labels.h"
#include "dinornn/classify.h"
#include "dinornn/cells.h"
#include "dinornn/params.h"
#include "dinornn/bptt.h"
#include "dinornn/model.h"
#include "dinornn/stepper.h"
#include "dinornn/evaluate.h"
#include "dinornn/hparams.h"
#include "dinornn/sample.h"
#include "dinornn/constraint.h"
#include "dinornn/search.h"
#include "dinornn/state.h"
#include "dinornn/train.h"
#include "dinornn/checkpoint.h"
#include "dinornn/interop.h"
#include "dinornn/outpath.h"
#include "dinornn/rundir.h"

#endif
