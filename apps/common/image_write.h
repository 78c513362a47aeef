/* Image encoding: 8-bit grey or RGB images (sc_image) to PNG or JPEG files.
 *
 * PNG is lossless, so a written image decodes back to exactly the pixels
 * that were rendered, and the same pixels always give the same bytes (with
 * the same libpng/zlib), which the synthetic data generator's determinism
 * relies on. The file is written to "<path>.tmp" and renamed, so a reader
 * never sees half an image. */
#ifndef SC_IMAGE_WRITE_H
#define SC_IMAGE_WRITE_H

#include <stddef.h>

#include "image.h"
#include "sc_error.h"

/* Encodes img (c = 1 or 3) as PNG into a malloc'd buffer (*data, *size).
 * SC_ERR_ARG for an empty image or a bad channel count, SC_ERR_FORMAT when
 * libpng refuses, SC_ERR_NOMEM. On failure *data is NULL. */
sc_status sc_image_encode_png(const sc_image *img, unsigned char **data, size_t *size,
                              sc_error *err);

/* Writes img as a PNG file at path. SC_ERR_IO (message starts with the path)
 * when the file cannot be created or written, plus the errors above. */
sc_status sc_image_write_png(const char *path, const sc_image *img, sc_error *err);

/* Encodes img (c = 1 or 3) as a baseline JPEG of the given quality (1..100)
 * through TurboJPEG into a malloc'd buffer (*data, *size; free() it).
 * Colour is subsampled 4:2:0, the default of libjpeg's cjpeg and of PIL and
 * the layout of the reference crops in ../shared (4:4:4 moves sphere-align's
 * crops further from them: 1.11 instead of 0.84 grey levels on average).
 * Grey stays one channel. Errors as sc_image_encode_png's (SC_ERR_FORMAT when
 * TurboJPEG refuses). On failure *data is NULL. */
sc_status sc_image_encode_jpeg(const sc_image *img, int quality, unsigned char **data,
                               size_t *size, sc_error *err);

/* Writes img as a JPEG file at path through a temp file and a rename, as the
 * PNG writer, but without its fsyncs (sc_write_file_replace): JPEGs are the
 * bulk output of sphere-align, where syncing every crop made a run of LFW
 * four times slower. */
sc_status sc_image_write_jpeg(const char *path, const sc_image *img, int quality, sc_error *err);

#endif
