/* MTCNN box maths, as kpzhang93's MATLAB detector (MTCNNv1/detect_face.m
 * and its helpers generateBoundingBox, nms, bbreg, rerec, pad) does it.
 *
 * Boxes keep the MATLAB convention until the detector hands them out:
 * 1-based pixel indices, x2 and y2 inclusive (a box from 1 to 12 is 12
 * pixels wide), values in single precision as MATLAB holds them (the nets'
 * outputs are single, and MATLAB computes single-double expressions in
 * single). Where MATLAB breaks ties by its stable sort, so do these. */
#ifndef SC_MTCNN_BOXES_H
#define SC_MTCNN_BOXES_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_mtcnn_box {
    float x1, y1, x2, y2; /* 1-based, inclusive */
    float score;
    float reg[4];         /* the regression a net proposed: dx1, dy1, dx2, dy2 */
} sc_mtcnn_box;

typedef enum sc_nms_mode {
    SC_NMS_UNION = 0, /* overlap = intersection / union */
    SC_NMS_MIN = 1    /* overlap = intersection / the smaller area */
} sc_nms_mode;

/* generateBoundingBox: one box per cell of PNet's output map whose face
 * probability is >= threshold. The maps are in the transposed layout the
 * net produces (see mtcnn.h): map_w cells along the image's x, map_h along
 * its y, cell (x, y) at [x * map_h + y] of a plane; prob is the face plane,
 * reg the 4 regression planes one after the other. The cell at 0-based
 * (x, y) covers input pixels
 * fix((2x + 1) / scale) .. fix((2x + 12) / scale) (likewise in y).
 * Writes at most map_w * map_h boxes to out in MATLAB's order (x fastest);
 * returns how many. */
size_t sc_mtcnn_pnet_boxes(const float *prob, const float *reg, int map_w, int map_h,
                           double scale, float threshold, sc_mtcnn_box *out);

/* nms: the indices of the boxes kept, best score first, in pick (room for n);
 * *n_pick their number. A box is dropped when its overlap with a kept box is
 * above threshold. Areas count pixels ((x2 - x1 + 1) * (y2 - y1 + 1)). Ties
 * in score: the later box first (MATLAB's ascending stable sort read from
 * its end). SC_ERR_NOMEM. */
sc_status sc_mtcnn_nms(const sc_mtcnn_box *boxes, size_t n, float threshold, sc_nms_mode mode,
                       size_t *pick, size_t *n_pick, sc_error *err);

/* The first stage's regression: x1 += dx1 * (x2 - x1), ... (the width
 * without +1, as detect_face.m writes it for PNet). */
void sc_mtcnn_regress_pnet(sc_mtcnn_box *boxes, size_t n);

/* bbreg: the same with the width and height counted in pixels (x2 - x1 + 1),
 * for RNet and ONet. */
void sc_mtcnn_bbreg(sc_mtcnn_box *boxes, size_t n);

/* rerec: each box becomes the square of side max(x2 - x1, y2 - y1) with the
 * same centre. */
void sc_mtcnn_rerec(sc_mtcnn_box *boxes, size_t n);

/* fix: coordinates truncated toward zero (not floored). */
void sc_mtcnn_fix(sc_mtcnn_box *boxes, size_t n);

/* pad: where a box (already fixed) lies in an image of w x h pixels, all
 * 1-based and inclusive as in MATLAB: the crop is tmpw x tmph, and its
 * pixels [dx..edx] x [dy..edy] come from the image's [x..ex] x [y..ey]; the
 * rest is zero. Either range may be empty (a box wholly outside). */
typedef struct sc_mtcnn_pad {
    int dx, edx, dy, edy;
    int x, ex, y, ey;
    int tmpw, tmph;
} sc_mtcnn_pad;
sc_mtcnn_pad sc_mtcnn_pad_box(const sc_mtcnn_box *box, int w, int h);

#endif
