/* Conformance of inference folding (BatchNorm + Scale into convolution). */
#ifndef SC_SUITE_FOLD_H
#define SC_SUITE_FOLD_H

#include "conformance.h"

sc_status sc_conf_batchnorm_fold(sc_ctx *ctx, sc_conf_report *rep);

#endif
