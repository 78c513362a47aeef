/* Resizing float images the way the MATLAB MTCNN detector does.
 *
 * kpzhang93's detect_face.m (the detector SphereFace uses) resizes every
 * pyramid level and every RNet/ONet crop with imResample(A, [h w],
 * 'bilinear') from Piotr Dollar's toolbox, on single/double images (no
 * rounding to 8 bits in between). That function is bilinear when enlarging
 * and a box filter (each output pixel the area-weighted mean of the input
 * pixels it covers) when shrinking. MATLAB's own imresize(A, [h w],
 * 'bilinear') differs when shrinking: its triangle kernel is widened by
 * 1/scale (antialiasing), which blurs more. Both are here so the detector can
 * use either and their effect on landmarks can be measured.
 *
 * Images are interleaved (HWC) floats: pixel (x, y) channel k at
 * px[(y * w + x) * c + k]. Geometry is MATLAB's: pixel centres are aligned,
 * output pixel u (0-based) samples input position (u + 0.5) * in / out - 0.5. */
#ifndef SC_IMAGE_RESIZE_MATLAB_H
#define SC_IMAGE_RESIZE_MATLAB_H

#include "sc_error.h"

typedef enum sc_matlab_resize {
    SC_RESIZE_IMRESAMPLE = 0, /* Dollar's imResample 'bilinear' (detect_face.m's choice) */
    SC_RESIZE_IMRESIZE = 1    /* MATLAB imresize 'bilinear', antialiased when shrinking */
} sc_matlab_resize;

/* "imresample" / "imresize" (the --resize values of sphere-detect). */
const char *sc_matlab_resize_name(sc_matlab_resize method);

/* Resizes src (w x h, c channels) to dst (dw x dh, c channels). imResample's
 * details are kept: when shrinking, slivers of less than 1/1000 of an output
 * pixel are dropped and the weights renormalised only when they sum above 1;
 * the result is scaled by 1 / (1 + 1e-6) as its MEX code does; an unchanged
 * size returns the input as it is. imresize's border pixels are mirrored
 * (symmetric padding) and its weights always sum to 1.
 * SC_ERR_ARG for a non-positive size or channel count, SC_ERR_NOMEM. */
sc_status sc_resize_matlab(const float *src, int w, int h, int c, float *dst, int dw, int dh,
                           sc_matlab_resize method, sc_error *err);

#endif
