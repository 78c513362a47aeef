/* From decoded images to network input: the size check every path from an
 * image into a blob goes through, bilinear resizing, and the planar float
 * conversion (Caffe's transform: mean, scale, mirror, crop, channel order).
 *
 * The conversions take the destination's shape and refuse any image that does
 * not match it, so a caller cannot write past its buffer or read an image as
 * if it had another size. */
#ifndef SC_IMAGE_INPUT_H
#define SC_IMAGE_INPUT_H

#include "image.h"

/* One network input: channels (1 or 3) x height x width floats. */
typedef struct sc_input_shape {
    int c, h, w;
} sc_input_shape;

/* How pixels become input values: x = (p - mean[k]) * scale, where k is the
 * destination channel (with bgr set, mean[0] is the blue mean, as in a Caffe
 * transform_param); bgr writes the planes B, G, R (ignored for grey). */
typedef struct sc_pixel_norm {
    float mean[3];
    float scale;
    int bgr;
} sc_pixel_norm;

/* SC_OK when the image has exactly the shape's channels, height and width;
 * otherwise SC_ERR_SHAPE with "<name>: image is WxH (C channels), the net's
 * input is WxH (C channels)". */
sc_status sc_image_check_shape(const sc_image *img, const sc_input_shape *shape, const char *name,
                               sc_error *err);

/* Bilinear resize of an 8-bit image to w x h, with OpenCV's INTER_LINEAR
 * (and Caffe ImageData's) geometry: pixel centres aligned, source
 * coordinate (x + 0.5) * src_w / w - 0.5 clamped to the image; results
 * rounded to the nearest integer. No antialiasing filter when shrinking. */
sc_status sc_image_resize_bilinear(const sc_image *src, int w, int h, sc_image *out,
                                   sc_error *err);

/* Writes the image as shape->c planes of h x w floats into dst (capacity:
 * c*h*w floats). The image must match the shape (sc_image_check_shape);
 * mirror reverses each row. */
sc_status sc_image_to_input(const sc_image *img, const sc_input_shape *shape,
                            const sc_pixel_norm *norm, int mirror, float *dst, const char *name,
                            sc_error *err);

/* The same for the shape->w x shape->h window whose top-left corner is
 * (x0, y0), as Caffe's crop_size does; mirror flips within the window. The
 * window must lie inside the image and the channels must match. */
sc_status sc_image_crop_to_input(const sc_image *img, int x0, int y0, const sc_input_shape *shape,
                                 const sc_pixel_norm *norm, int mirror, float *dst,
                                 const char *name, sc_error *err);

#endif
