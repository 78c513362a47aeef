/* Face-feature metrics beyond the 10-fold protocol (verification.h):
 * LFW View 1 (threshold from one pairs set, accuracy on another) and the
 * angular Fisher score of a labelled feature set (SphereFace, appendix E). */
#ifndef SC_FACE_METRICS_H
#define SC_FACE_METRICS_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_view1_result {
    double threshold;       /* chosen on the training pairs */
    double train_accuracy;  /* at that threshold, 0..1 */
    double test_accuracy;
    size_t train_pairs, test_pairs;
} sc_view1_result;

/* View 1 (development protocol): features are centred on the mean over
 * both images of every TRAINING pair and L2-normalised, scores are cosines,
 * the threshold is chosen on the training pairs as in the 10-fold protocol
 * (the mean of every grid threshold reaching the best count, grid
 * 1/steps), and the test accuracy counts a test pair right when matched and
 * score > t or mismatched and score < t. Rows of dim floats. */
sc_status sc_verify_view1(const float *train1, const float *train2, const int *train_same,
                          size_t n_train, const float *test1, const float *test2,
                          const int *test_same, size_t n_test, size_t dim, int steps,
                          sc_view1_result *res, sc_error *err);

/* Angular Fisher score of n features (rows of dim floats) with integer
 * labels: with x the L2-normalised features, m_c the mean of class c's x and
 * m the mean of all x,
 *   S_w = sum_c sum_{x in c} (1 - cos(x, m_c)),  S_b = sum_c n_c (1 - cos(m_c, m)),
 *   score = S_w / S_b   (lower: classes tighter and further apart).
 * Needs at least two classes; SC_ERR_NUMERIC for a zero or non-finite row. */
sc_status sc_angular_fisher(const float *features, const int *labels, size_t n, size_t dim,
                            double *score, sc_error *err);

#endif
