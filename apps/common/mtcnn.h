/* The MTCNN face detector (Zhang et al. 2016), ported from kpzhang93's MATLAB
 * MTCNNv1/detect_face.m (as of its commit 58e8adb, Aug 2017, which added the
 * mirrored ONet pass), the detector SphereFace uses, with its three Caffe
 * nets (det1 PNet, det2 RNet, det3 ONet):
 *   1. PNet over an image pyramid (scales 12/min_face * factor^k while the
 *      short side stays >= 12 px), each level resized from the photo;
 *      candidate boxes NMS'd per level (0.5, union), then all together (0.7,
 *      union), regressed, made square, truncated;
 *   2. RNet on 24x24 crops (zero-padded where a box leaves the photo):
 *      threshold, NMS 0.7 union, regression, square;
 *   3. ONet on 48x48 crops: threshold, regression, NMS 0.7 'min', and five
 *      landmarks averaged with those of the horizontally mirrored crops.
 *
 * The nets were trained through MATLAB's Caffe interface, which hands Caffe
 * images column-major: their input is the photo TRANSPOSED (blob H runs
 * along the photo's x), RGB, (v - 127.5) / 128. ONet's landmarks are
 * [x1..x5, y1..y5] as fractions of its input box.
 *
 * Each net is built once and run at every pyramid level and box count
 * through sc_net_reshape: PNet for the largest level seen so far (rebuilt,
 * over the same weights, only when a photo needs a larger one), RNet and
 * ONet for a maximum batch of boxes (more boxes run in several batches). */
#ifndef SC_MTCNN_H
#define SC_MTCNN_H

#include <stddef.h>

#include "image.h"
#include "image_resize_matlab.h"
#include "mtcnn_boxes.h"
#include "sc_runtime.h"

typedef struct sc_mtcnn_options {
    double min_face;     /* smallest face side in pixels (SphereFace: 20) */
    double factor;       /* pyramid scale step, in (0, 1) (SphereFace: 0.85) */
    float thresholds[3]; /* PNet, RNet, ONet face probability (SphereFace: 0.6, 0.7, 0.9) */
    sc_matlab_resize resize; /* how levels and crops are resized (detect_face.m: imResample) */
    int no_mirror;       /* 1: ONet landmarks from the crop alone, as detect_face.m did before
                            its Aug 2017 update added the mirrored pass */
    int rnet_batch;      /* largest RNet batch (0: 256) */
    int onet_batch;      /* largest ONet batch (0: 64) */
} sc_mtcnn_options;

/* SphereFace's settings. */
sc_mtcnn_options sc_mtcnn_defaults(void);

/* One face, in the photo's own frame, 0-based pixel coordinates (the MATLAB
 * detector's 1-based values minus 1). */
typedef struct sc_face {
    float box[4];     /* x1, y1, x2, y2 after ONet's regression; x2, y2 inclusive */
    float score;      /* ONet's face probability */
    float points[10]; /* left eye, right eye, nose, left and right mouth corner: x, y each */
} sc_face;

typedef struct sc_mtcnn sc_mtcnn;

/* Loads det1..det3 .prototxt/.caffemodel from models_dir and builds RNet and
 * ONet (PNet is built at the first photo). Errors (a missing file, a net
 * that is not MTCNN's) are left in the context's error, naming the file. */
sc_status sc_mtcnn_create(sc_ctx *ctx, const char *models_dir, const sc_mtcnn_options *opts,
                          sc_mtcnn **out);
void sc_mtcnn_destroy(sc_mtcnn *det);

/* Detects the faces of an RGB or grey photo. *faces (malloc'd, free() it;
 * NULL when none) holds *n faces in the order the detector keeps them (best
 * ONet score first). Errors are left in the context's error, prefixed with
 * name (the photo's path). */
sc_status sc_mtcnn_detect(sc_mtcnn *det, const sc_image *img, const char *name, sc_face **faces,
                          size_t *n);

/* The index of the face whose box centre is nearest the photo's centre
 * (SphereFace keeps that one); n must be > 0. */
size_t sc_mtcnn_nearest_centre(const sc_face *faces, size_t n, int w, int h);

/* How many PNet builds the detector has made (1 after the first photo; more
 * only when a photo needed a larger pyramid level than any before). */
int sc_mtcnn_pnet_builds(const sc_mtcnn *det);

/* The pyramid scales of a w x h photo: 12 / min_face * factor^k while
 * min(w, h) * that >= 12. Writes at most cap scales; returns how many there
 * are. */
int sc_mtcnn_scales(int w, int h, double min_face, double factor, double *scales, int cap);

/* The net input of a box of the photo (float HWC RGB, w x h): the pixels of
 * the box (1-based inclusive MATLAB box, zero outside the photo) resized to
 * size x size, normalised and transposed into 3 planes of size x size
 * ([c][x][y]). A box under 1 pixel wide or tall is SC_ERR_ARG. */
sc_status sc_mtcnn_crop_input(const float *photo, int w, int h, const sc_mtcnn_box *box,
                              int size, sc_matlab_resize method, float *dst, sc_error *err);

#endif
