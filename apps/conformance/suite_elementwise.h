/* Conformance suites of the elementwise and normalisation layers: each runs
 * its op on the context's device for several shapes and appends rows to the
 * report (forward against tests/common/ref_ops.h, every backward output
 * against central finite differences of the reference forward, argument
 * errors). They return an error only when a check cannot run. */
#ifndef SC_SUITE_ELEMENTWISE_H
#define SC_SUITE_ELEMENTWISE_H

#include "conformance.h"

sc_status sc_conf_prelu(sc_ctx *ctx, sc_conf_report *rep);
sc_status sc_conf_batchnorm(sc_ctx *ctx, sc_conf_report *rep);
sc_status sc_conf_scale(sc_ctx *ctx, sc_conf_report *rep);
sc_status sc_conf_eltwise(sc_ctx *ctx, sc_conf_report *rep);
sc_status sc_conf_dropout(sc_ctx *ctx, sc_conf_report *rep);

#endif
