/* Conformance of the A-Softmax (MarginInnerProduct) op, cl/ops_asoftmax.h. */
#ifndef SC_SUITE_ASOFTMAX_H
#define SC_SUITE_ASOFTMAX_H

#include "conformance.h"

/* Generated cases (odd M, K, N, batch 1, m = 1..4, both backward modes):
 * forward against ref_asoftmax_forward, caffe-mode backward against
 * ref_asoftmax_backward_caffe, exact-mode backward against central finite
 * differences of the reference forward (and its closed form); an exactly-zero
 * target cosine (sign(0) = 0), labels outside [0, N), the lambda schedule over
 * consecutive forwards, the state get/set round trip, beta_dx / dW
 * accumulation and the argument errors. */
sc_status sc_conf_asoftmax(sc_ctx *ctx, sc_conf_report *rep);

/* Every case of a golden folder in the format of ../shared/golden/asoftmax/:
 * the files named in dir/cases.txt (first token of each non-comment line), or,
 * without cases.txt, every .txt file of dir that holds the case records. Each case
 * sets the layer state to the file's `iteration`, runs one forward (lambda on
 * the device, W_normalized, f) and both backward modes with the file's
 * top_diff, within the README's 1e-5 * max|ref| per array. A missing folder,
 * an unreadable or malformed listed file, or a folder without cases is an error. */
sc_status sc_conf_asoftmax_golden(sc_ctx *ctx, const char *dir, sc_conf_report *rep);

#endif
