/* Golden training trajectories (../shared/golden/train_tiny format). */
#ifndef SC_GOLDEN_TRAIN_H
#define SC_GOLDEN_TRAIN_H

#include "conformance.h"

/* Runs the folder's net (train.prototxt via solver.prototxt, init.caffemodel,
 * inputs.txt) for the steps in `trajectory` (e.g. "trajectory.txt" with
 * exact = 1, "trajectory_caffe_mode.txt" with exact = 0) and appends one row
 * per compared quantity. */
sc_status sc_conf_train_golden(sc_ctx *ctx, const char *dir, const char *trajectory, int exact,
                               sc_conf_report *rep);

#endif
