/* PNG encoding through libpng's simplified API (no setjmp in our code). */
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

static sc_status check_image(const sc_image *img, sc_error *err)
{
    if (!img || !img->px || img->w <= 0 || img->h <= 0)
        return sc_fail(err, SC_ERR_ARG, "png: empty image");
    if (img->c != 1 && img->c != 3)
        return sc_fail(err, SC_ERR_ARG, "png: %d channels (1 or 3 supported)", img->c);
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
    SC_TRY(check_image(img, err));
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
