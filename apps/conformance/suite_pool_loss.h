/* Conformance of Pooling (cl/ops_pooling.h), Softmax, SoftmaxWithLoss and
 * Accuracy (cl/ops_softmax.h) and the SGD update (cl/ops_sgd.h). */
#ifndef SC_SUITE_POOL_LOSS_H
#define SC_SUITE_POOL_LOSS_H

#include "conformance.h"

/* MAX and AVE on: N2 C3 H7 W7 k3 s2, a partial last window from the ceil rule
 * (N2 C3 H8 W10 k3 s2), the pad correction (N1 C5 H6 W5 k2 s2 p1), 33 channels
 * (N2 C33 H9 W8 k3 s1 p1), a rectangular kernel/stride/pad and global pooling
 * on 7x6. Output shape against ref_pool_out_size, forward (and the MAX argmax,
 * exactly) against ref_pooling_forward, dx (beta 0 and beta 1) against central
 * finite differences of it (MAX inputs distinct, spaced 10x the step). Then the
 * argument errors. */
sc_status sc_conf_pooling(sc_ctx *ctx, sc_conf_report *rep);

/* Softmax over C on per-position shapes (inner > 1, batch 1) and the
 * work-group form (C 300 and 1001, inner 1): forward (also in place) against
 * ref_softmax_forward, dx (beta 0 and 1) against finite differences; errors. */
sc_status sc_conf_softmax(sc_ctx *ctx, sc_conf_report *rep);

/* SoftmaxWithLoss with VALID / BATCH_SIZE / FULL / NONE normalisation, an
 * ignore_label, loss_weight != 1, spatial labels and out-of-range labels
 * (treated as ignored and counted in the saved buffer): prob and loss against
 * ref_softmax_loss_forward, dx (beta 0 and 1) against finite differences of
 * loss_weight * loss; errors. */
sc_status sc_conf_softmax_loss(sc_ctx *ctx, sc_conf_report *rep);

/* The SoftmaxWithLoss records of a golden folder in the format of
 * ../shared/golden/asoftmax/ (`f`, `label`, `loss`, `dloss_df`): the files named
 * in dir/cases.txt, or without it every dir/ *.txt but cases.txt. Loss and dx
 * within 1e-5 * max|ref|. A folder without readable cases is an error. */
sc_status sc_conf_softmax_loss_golden(sc_ctx *ctx, const char *dir, sc_conf_report *rep);

/* Accuracy, top 1, 3 and 5, with ignored positions, spatial labels, ties (ties
 * count against the true class) and a batch where every label is ignored,
 * against ref_accuracy; errors. */
sc_status sc_conf_accuracy(sc_ctx *ctx, sc_conf_report *rep);

/* The SGD update of three blobs (L2 with momentum; lr_mult 2 / decay_mult 0 with
 * iter_size 2; L1 without momentum, iter_size 3) recorded once and replayed
 * three times with a changing learning-rate buffer and fresh diffs, against
 * ref_sgd_update (and a local L1 reference); the diff clear; errors. */
sc_status sc_conf_sgd(sc_ctx *ctx, sc_conf_report *rep);

#endif
