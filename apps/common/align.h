/* 5-point face alignment: the least-squares similarity transform from a
 * face's landmarks onto a crop template, and the bilinear warp that cuts the
 * crop out of the image.
 *
 * Landmarks are 0-based pixel positions with integers at pixel centres (the
 * frame of ../shared/data/lfw/lfw_landmark_150px.txt and of MTCNN), in the
 * order left eye, right eye, nose, left mouth corner, right mouth corner
 * (left/right as seen in the image). A transform maps source -> crop, the
 * direction of reference-aligned-112x96.transforms.txt.
 *
 * The warp reads the matrix the way the reference crops were made (PIL's
 * Image.transform): crop pixel (u, v) samples the source at
 * inverse(M)(u + 0.5, v + 0.5) - (0.5, 0.5), i.e. M maps pixel-edge
 * coordinates (pixel i spans [i, i + 1]) while the fit takes the landmarks as
 * they are. Reading M in the pixel-centre frame on both sides instead moves
 * every crop by about half a pixel: on 100 reference crops the mean absolute
 * difference grows from 0.84 to 2.3 grey levels. Models trained on the
 * reference crops expect this geometry. */
#ifndef SC_ALIGN_H
#define SC_ALIGN_H

#include "image.h"
#include "sc_error.h"

#define SC_ALIGN_POINTS 5

/* The SphereFace template was drawn for a crop 96 wide and 112 high. */
#define SC_ALIGN_TEMPLATE_W 96
#define SC_ALIGN_TEMPLATE_H 112

/* Landmarks whose RMS distance from their centroid is below this (in source
 * pixels) are degenerate: no face is that small, and the fit would blow one
 * source pixel up over the whole crop. */
#define SC_ALIGN_MIN_SPREAD 0.5

typedef struct sc_point2 {
    double x, y;
} sc_point2;

/* x' = m[0] x + m[1] y + m[2],  y' = m[3] x + m[4] y + m[5]. */
typedef struct sc_affine {
    double m[6];
} sc_affine;

/* The named template ("sphereface") for a crop w wide and h high. The 96x112
 * template is scaled uniformly by s = min(w / 96, h / 112) and centred on the
 * axis with room to spare (x -> s x + (w - 96 s) / 2, y -> s y + (h - 112 s) / 2),
 * so the face keeps its proportions: 192x224 is the 96x112 crop at twice the
 * resolution (the warp's pixel-edge frame scales without a half-pixel shift),
 * 112x112 is the template moved right by 8 pixels (the usual ArcFace one).
 * SC_ERR_ARG for an unknown name or a size under 8 pixels. */
sc_status sc_align_template(const char *name, int w, int h, sc_point2 out[SC_ALIGN_POINTS],
                            sc_error *err);

/* SC_OK when the n points are finite and not degenerate (RMS distance from
 * their centroid at least SC_ALIGN_MIN_SPREAD), so that a similarity from
 * them is determined; otherwise SC_ERR_ARG saying which. Landmark readers call
 * it to refuse a line before any work. */
sc_status sc_align_check_points(const sc_point2 *p, int n, sc_error *err);

/* Least-squares similarity (rotation, uniform scale, translation; never a
 * reflection) mapping src[i] onto dst[i], i < n (n >= 2): the (a, b, tx, ty)
 * minimising sum |(a x - b y + tx, b x + a y + ty) - dst|^2. SC_ERR_ARG when a
 * coordinate is not finite or src fails sc_align_check_points. */
sc_status sc_align_similarity(const sc_point2 *src, const sc_point2 *dst, int n, sc_affine *out,
                              sc_error *err);

/* The inverse transform; SC_ERR_ARG when m is singular or not finite. */
sc_status sc_affine_invert(const sc_affine *m, sc_affine *out, sc_error *err);

/* Applies m to p. */
sc_point2 sc_affine_apply(const sc_affine *m, sc_point2 p);

/* Cuts a w x h crop out of src: crop pixel (u, v) is src bilinearly sampled
 * at the point given above, truncated to a whole level as PIL does (rounding
 * would brighten every crop by half a level against the reference). A crop
 * pixel whose point lies outside the source's rectangle [-0.5, src->w - 0.5)
 * x [-0.5, src->h - 0.5) is black; inside it, neighbours past the edge repeat the
 * edge pixel, so the border of the photo does not darken. The crop has src's
 * channels. */
sc_status sc_align_warp(const sc_image *src, const sc_affine *src_to_crop, int w, int h,
                        sc_image *out, sc_error *err);

#endif
