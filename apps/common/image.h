/* Image decoding to 8-bit interleaved pixels, and conversion to network input.
 *
 * Formats are recognised by their first bytes, never by the file name:
 * JPEG (libjpeg-turbo through TurboJPEG), PNG (libpng) and the Netpbm
 * greymap/pixmap formats P2, P3, P5, P6. JPEGs decode with libjpeg-turbo's
 * default (accurate integer IDCT, fancy upsampling), which gives the same
 * pixels as PIL / libjpeg and therefore matches the reference checksums in
 * ../shared/models/mobilefacenet/golden.txt.
 *
 * Every failure names the file; corrupt, truncated or absurd inputs are
 * rejected (SC_ERR_FORMAT) before large allocations, so a data loader can log
 * and skip them. */
#ifndef SC_IMAGE_H
#define SC_IMAGE_H

#include <stddef.h>

#include "sc_error.h"

/* Larger width or height is rejected as corrupt rather than allocated. */
#define SC_IMAGE_MAX_DIM 16384

/* Row-major, interleaved (HWC): pixel (x, y) channel k is px[(y * w + x) * c + k].
 * c is 1 (grey) or 3 (R, G, B in that order). */
typedef struct sc_image {
    int w, h, c;
    unsigned char *px;
} sc_image;

typedef enum sc_image_format {
    SC_IMAGE_UNKNOWN = 0,
    SC_IMAGE_JPEG,
    SC_IMAGE_PNG,
    SC_IMAGE_PNM
} sc_image_format;

/* Format from the first bytes of a file (SC_IMAGE_UNKNOWN when none matches). */
sc_image_format sc_image_sniff(const unsigned char *data, size_t size);

/* Decodes the file at path. want_channels: 1 (grey), 3 (RGB) or 0 (as stored:
 * grey stays grey, everything else becomes RGB). Alpha is dropped; grey is
 * replicated to RGB; RGB becomes grey as 0.299 R + 0.587 G + 0.114 B, rounded.
 * Errors: SC_ERR_IO (missing or unreadable file), SC_ERR_FORMAT (empty, not an
 * image, corrupt or truncated data, dimensions over SC_IMAGE_MAX_DIM),
 * SC_ERR_UNSUPPORTED (a valid file this decoder does not handle, e.g. a CMYK
 * JPEG), SC_ERR_NOMEM, SC_ERR_ARG. The message always starts with the path.
 * On failure *out is left empty ({0}). */
sc_status sc_image_load(const char *path, int want_channels, sc_image *out, sc_error *err);

/* Width and height of the image at path from its header, without decoding
 * the pixels (a cheap check of a whole list before any work). Errors as
 * sc_image_load's; a file whose header is fine may still fail to decode. */
sc_status sc_image_probe(const char *path, int *width, int *height, sc_error *err);
sc_status sc_image_probe_memory(const unsigned char *data, size_t size, const char *name,
                                int *width, int *height, sc_error *err);

/* Same as sc_image_load for bytes already in memory; name is used in messages. */
sc_status sc_image_decode(const unsigned char *data, size_t size, const char *name,
                          int want_channels, sc_image *out, sc_error *err);

/* Allocates an uninitialised w x h x c image (c = 1 or 3). */
sc_status sc_image_alloc(sc_image *img, int w, int h, int c, sc_error *err);

/* Returns a copy of src with c channels (1 or 3) in *out, converting as
 * sc_image_load does. out must not be src. */
sc_status sc_image_convert(const sc_image *src, int c, sc_image *out, sc_error *err);

/* Frees the pixels and empties the struct; safe on an empty or freed image. */
void sc_image_free(sc_image *img);

#endif
