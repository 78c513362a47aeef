/* PNG encoding through libpng's simplified API (no setjmp in our code), JPEG
 * encoding through TurboJPEG. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strerror_r */
#endif
#include "image_write.h"

#include "sc_files.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static sc_status check_image(const sc_image *img, const char *fmt, sc_error *err)
{
    if (!img || !img->px || img->w <= 0 || img->h <= 0)
        return sc_fail(err, SC_ERR_ARG, "%s: empty image", fmt);
    if (img->c != 1 && img->c != 3)
        return sc_fail(err, SC_ERR_ARG, "%s: %d channels (1 or 3 supported)", fmt, img->c);
    return SC_OK;
}

static void png_describe(png_image *pi, const sc_image *img)
{
    memset(pi, 0, sizeof *pi);
    pi->version = PNG_IMAGE_VERSION;
    pi->width = (png_uint_32)img->w;
    pi->height = (png_uint_32)img->h;
    pi->format = img->c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
}

sc_status sc_image_encode_png(const sc_image *img, unsigned char **data, size_t *size,
                              sc_error *err)
{
    *data = NULL;
    *size = 0;
    SC_TRY(check_image(img, "png", err));
    png_image pi;
    png_describe(&pi, img);
    png_int_32 stride = (png_int_32)(img->w * img->c);
    /* First call measures, second encodes: libpng has no growable buffer. */
    png_alloc_size_t need = 0;
    if (!png_image_write_to_memory(&pi, NULL, &need, 0, img->px, stride, NULL))
        return sc_fail(err, SC_ERR_FORMAT, "png: cannot encode: %s", pi.message);
    unsigned char *buf = malloc(need ? need : 1);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "png: cannot allocate %zu bytes", (size_t)need);
    png_image_free(&pi);
    png_describe(&pi, img);
    if (!png_image_write_to_memory(&pi, buf, &need, 0, img->px, stride, NULL)) {
        free(buf);
        return sc_fail(err, SC_ERR_FORMAT, "png: cannot encode: %s", pi.message);
    }
    *data = buf;
    *size = need;
    return SC_OK;
}


sc_status sc_image_write_png(const char *path, const sc_image *img, sc_error *err)
{
    unsigned char *data;
    size_t size;
    sc_status st = sc_image_encode_png(img, &data, &size, err);
    if (st != SC_OK) {
        if (err)
            sc_error_prefix(err, "%s: ", path);
        return st;
    }
    st = sc_write_file_atomic(path, data, size, err);
    free(data);
    return st;
}

/* Compresses with an open handle; TurboJPEG allocates the output. */
static sc_status jpeg_compress(tjhandle tj, const sc_image *img, int quality, unsigned char **buf,
                               unsigned long *len, sc_error *err)
{
    int grey = img->c == 1;
    if (tjCompress2(tj, img->px, img->w, 0, img->h, grey ? TJPF_GRAY : TJPF_RGB, buf, len,
                    grey ? TJSAMP_GRAY : TJSAMP_420, quality, 0) != 0)
        return sc_fail(err, SC_ERR_FORMAT, "jpeg: cannot encode: %s", tjGetErrorStr2(tj));
    return SC_OK;
}

sc_status sc_image_encode_jpeg(const sc_image *img, int quality, unsigned char **data,
                               size_t *size, sc_error *err)
{
    *data = NULL;
    *size = 0;
    SC_TRY(check_image(img, "jpeg", err));
    if (quality < 1 || quality > 100)
        return sc_fail(err, SC_ERR_ARG, "jpeg: quality %d (1..100)", quality);
    tjhandle tj = tjInitCompress();
    if (!tj)
        return sc_fail(err, SC_ERR_NOMEM, "jpeg: cannot start the encoder: %s",
                       tjGetErrorStr2(NULL));
    unsigned char *buf = NULL;
    unsigned long len = 0;
    sc_status st = jpeg_compress(tj, img, quality, &buf, &len, err);
    tjDestroy(tj);
    /* Hand back malloc'd memory, so the caller frees it as it frees a PNG. */
    if (st == SC_OK) {
        *data = malloc(len ? len : 1);
        if (*data) {
            memcpy(*data, buf, len);
            *size = len;
        } else {
            st = sc_fail(err, SC_ERR_NOMEM, "jpeg: cannot allocate %lu bytes", len);
        }
    }
    tjFree(buf);
    return st;
}

sc_status sc_image_write_jpeg(const char *path, const sc_image *img, int quality, sc_error *err)
{
    unsigned char *data;
    size_t size;
    sc_status st = sc_image_encode_jpeg(img, quality, &data, &size, err);
    if (st != SC_OK) {
        if (err)
            sc_error_prefix(err, "%s: ", path);
        return st;
    }
    st = sc_write_file_replace(path, data, size, err);
    free(data);
    return st;
}
