/* Image decoding (JPEG, PNG, PGM/PPM) to 8-bit interleaved pixels. */
#include "image.h"

#include <limits.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "sc_common.h"

/* Files larger than this cannot hold a valid image within SC_IMAGE_MAX_DIM
 * (an ASCII P3 pixmap at the limit is the largest, about 3 GiB), and reading
 * them whole would only hide a wrong path; 1 GiB is far beyond any face set. */
#define SC_IMAGE_MAX_FILE ((size_t)1 << 30)

/* Accurate integer IDCT + fancy upsampling (libjpeg's defaults) reproduce the
 * PIL/libjpeg pixels of the reference checksums exactly; ACCURATEDCT is
 * spelled out so a build whose default differs cannot drift. LIMITSCANS
 * rejects progressive JPEGs with hundreds of scans, a known way to make the
 * decoder spin for minutes on a few kilobytes. */
#define SC_TJ_FLAGS (TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS)

/* ------------------------------------------------------------ basics */

void sc_image_free(sc_image *img)
{
    if (!img)
        return;
    free(img->px);
    img->px = NULL;
    img->w = img->h = img->c = 0;
}

/* Rejects sizes that are corrupt rather than large, before anything is
 * allocated: a flipped header bit must not become a multi-GiB malloc. */
static sc_status check_dims(const char *name, long long w, long long h, int c, sc_error *err)
{
    if (w <= 0 || h <= 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: invalid image size %lldx%lld", name, w, h);
    if (w > SC_IMAGE_MAX_DIM || h > SC_IMAGE_MAX_DIM)
        return sc_fail(err, SC_ERR_FORMAT, "%s: image size %lldx%lld exceeds the %d pixel limit",
                       name, w, h, SC_IMAGE_MAX_DIM);
    if ((size_t)w > SIZE_MAX / (size_t)h / (size_t)c)
        return sc_fail(err, SC_ERR_FORMAT, "%s: image size %lldx%lldx%d overflows", name, w, h, c);
    return SC_OK;
}

sc_status sc_image_alloc(sc_image *img, int w, int h, int c, sc_error *err)
{
    *img = (sc_image){0};
    if (c != 1 && c != 3)
        return sc_fail(err, SC_ERR_ARG, "image: %d channels requested (1 or 3 supported)", c);
    SC_TRY(check_dims("image", w, h, c, err));
    img->px = malloc((size_t)w * (size_t)h * (size_t)c);
    if (!img->px)
        return sc_fail(err, SC_ERR_NOMEM, "image: cannot allocate %dx%dx%d pixels", w, h, c);
    img->w = w;
    img->h = h;
    img->c = c;
    return SC_OK;
}

/* ITU-R BT.601 luma with the weights scaled to 2^16 (they sum to 65536),
 * rounded: the same integers PIL's convert("L") produces. */
static unsigned char rgb_to_grey(const unsigned char *p)
{
    return (unsigned char)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 32768u) >> 16);
}

sc_status sc_image_convert(const sc_image *src, int c, sc_image *out, sc_error *err)
{
    SC_TRY(sc_image_alloc(out, src->w, src->h, c, err));
    size_t n = (size_t)src->w * (size_t)src->h;
    const unsigned char *s = src->px;
    unsigned char *d = out->px;
    if (src->c == c)
        memcpy(d, s, n * (size_t)c);
    else if (c == 3)
        for (size_t i = 0; i < n; i++)
            d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = s[i];
    else
        for (size_t i = 0; i < n; i++)
            d[i] = rgb_to_grey(s + 3 * i);
    return SC_OK;
}

/* Brings a freshly decoded image to the requested channel count in place. */
static sc_status finish_channels(sc_image *img, int want, sc_error *err)
{
    if (want == 0 || want == img->c)
        return SC_OK;
    sc_image conv;
    sc_status st = sc_image_convert(img, want, &conv, err);
    sc_image_free(img);
    if (st == SC_OK)
        *img = conv;
    return st;
}

sc_image_format sc_image_sniff(const unsigned char *d, size_t size)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return SC_IMAGE_JPEG;
    if (size >= 8 && memcmp(d, png_sig, 8) == 0)
        return SC_IMAGE_PNG;
    if (size >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7' &&
        (d[2] == ' ' || d[2] == '\t' || d[2] == '\r' || d[2] == '\n' || d[2] == '#'))
        return SC_IMAGE_PNM;
    return SC_IMAGE_UNKNOWN;
}

/* ------------------------------------------------------------- JPEG */

static int jpeg_warned(tjhandle tj)
{
    return tjGetErrorCode(tj) == TJERR_WARNING;
}

/* Any decoder warning ("Premature end of JPEG file", "Corrupt JPEG data")
 * means some pixels are invented, so the image is refused: training on the
 * grey tail of a truncated file is worse than skipping it. */
static sc_status jpeg_run(tjhandle tj, const unsigned char *data, size_t size, const char *name,
                          int want, sc_image *out, sc_error *err)
{
    int w = 0, h = 0, subsamp = -1, cs = -1;
    unsigned long len = (unsigned long)size;
    if (tjDecompressHeader3(tj, data, len, &w, &h, &subsamp, &cs) != 0 || jpeg_warned(tj))
        return sc_fail(err, SC_ERR_FORMAT, "%s: corrupt JPEG header: %s", name,
                       tjGetErrorStr2(tj));
    SC_TRY(check_dims(name, w, h, 3, err));
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        return sc_fail(err, SC_ERR_UNSUPPORTED, "%s: CMYK JPEGs are not supported", name);
    int grey = (want == 1 || want == 0) && cs == TJCS_GRAY;
    SC_TRY(sc_image_alloc(out, w, h, grey ? 1 : 3, err));
    if (tjDecompress2(tj, data, len, out->px, w, 0, h, grey ? TJPF_GRAY : TJPF_RGB,
                      SC_TJ_FLAGS) != 0) {
        sc_image_free(out);
        return sc_fail(err, SC_ERR_FORMAT, "%s: corrupt or truncated JPEG: %s", name,
                       tjGetErrorStr2(tj));
    }
    return finish_channels(out, want, err);
}

static sc_status decode_jpeg(const unsigned char *data, size_t size, const char *name, int want,
                             sc_image *out, sc_error *err)
{
    if (size > ULONG_MAX)
        return sc_fail(err, SC_ERR_FORMAT, "%s: JPEG too large", name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot create a JPEG decoder: %s", name,
                       tjGetErrorStr2(NULL));
    sc_status st = jpeg_run(tj, data, size, name, want, out, err);
    tjDestroy(tj);
    return st;
}

/* -------------------------------------------------------------- PNG */

/* Everything the libpng decode touches lives in this heap object, whose
 * address is fixed before setjmp: after a longjmp no local variable is read,
 * so nothing can be clobbered, and the cleanup finds every allocation here. */
typedef struct png_job {
    const unsigned char *data;
    size_t size, pos;
    const char *name;
    char msg[256];
    png_structp png;
    png_infop info;
    png_bytep *rows;
    sc_image img;
} png_job;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* libpng's default prints warnings to stderr; a library must stay silent.
 * Warnings (bad ancillary chunks) do not make the pixels wrong. */
static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep dst, size_t n)
{
    png_job *job = png_get_io_ptr(png);
    if (n > job->size - job->pos)
        png_error(png, "unexpected end of data (truncated file)");
    memcpy(dst, job->data + job->pos, n);
    job->pos += n;
}

/* Asks libpng for 8-bit grey or RGB: palettes expanded, 16-bit samples
 * reduced to their high byte, alpha and tRNS dropped (as PIL's convert("RGB")
 * and OpenCV's imread do). No gamma correction: pixels stay as stored. */
static void png_set_transforms(png_structp png, png_infop info)
{
    int color = png_get_color_type(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_bit_depth(png, info) == 16)
        png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static sc_status png_alloc_rows(png_job *job, sc_error *err)
{
    int c = png_get_channels(job->png, job->info);
    png_uint_32 w = png_get_image_width(job->png, job->info);
    png_uint_32 h = png_get_image_height(job->png, job->info);
    if ((c != 1 && c != 3) || png_get_bit_depth(job->png, job->info) != 8)
        return sc_fail(err, SC_ERR_UNSUPPORTED, "%s: PNG layout with %d channels not supported",
                       job->name, c);
    SC_TRY(sc_image_alloc(&job->img, (int)w, (int)h, c, err));
    if (png_get_rowbytes(job->png, job->info) != (size_t)w * (size_t)c)
        return sc_fail(err, SC_ERR_FORMAT, "%s: unexpected PNG row size", job->name);
    job->rows = malloc(h * sizeof *job->rows);
    if (!job->rows)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", job->name);
    for (png_uint_32 y = 0; y < h; y++)
        job->rows[y] = job->img.px + (size_t)y * w * (size_t)c;
    return SC_OK;
}

static sc_status png_run(png_job *job, sc_error *err)
{
    job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, png_on_error, png_on_warning);
    if (!job->png)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot create a PNG decoder", job->name);
    job->info = png_create_info_struct(job->png);
    if (!job->info)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot create a PNG decoder", job->name);
    if (setjmp(png_jmpbuf(job->png)))
        return sc_fail(err, SC_ERR_FORMAT, "%s: corrupt PNG: %s", job->name, job->msg);
    png_set_read_fn(job->png, job, png_read_mem);
    png_set_user_limits(job->png, SC_IMAGE_MAX_DIM, SC_IMAGE_MAX_DIM);
    png_read_info(job->png, job->info);
    SC_TRY(check_dims(job->name, png_get_image_width(job->png, job->info),
                      png_get_image_height(job->png, job->info), 3, err));
    png_set_transforms(job->png, job->info);
    SC_TRY(png_alloc_rows(job, err));
    png_read_image(job->png, job->rows);
    /* Reads up to IEND so that a file cut after its last IDAT is refused too. */
    png_read_end(job->png, NULL);
    return SC_OK;
}

static sc_status decode_png(const unsigned char *data, size_t size, const char *name, int want,
                            sc_image *out, sc_error *err)
{
    png_job *job = calloc(1, sizeof *job);
    if (!job)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    job->data = data;
    job->size = size;
    job->name = name;
    sc_status st = png_run(job, err);
    png_destroy_read_struct(&job->png, &job->info, NULL);
    free(job->rows);
    if (st == SC_OK)
        *out = job->img;
    else
        sc_image_free(&job->img);
    free(job);
    return st == SC_OK ? finish_channels(out, want, err) : st;
}

/* ------------------------------------------------------- PGM / PPM */

typedef struct pnm_reader {
    const unsigned char *d;
    size_t size, pos;
    const char *name;
} pnm_reader;

static int pnm_is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skips whitespace and '#' comments (which run to the end of the line). */
static void pnm_skip(pnm_reader *r)
{
    while (r->pos < r->size) {
        unsigned char ch = r->d[r->pos];
        if (ch == '#') {
            while (r->pos < r->size && r->d[r->pos] != '\n')
                r->pos++;
        } else if (pnm_is_space(ch)) {
            r->pos++;
        } else {
            return;
        }
    }
}

/* Reads an unsigned decimal up to max; what names the field in the error. */
static sc_status pnm_uint(pnm_reader *r, long max, const char *what, long *out, sc_error *err)
{
    pnm_skip(r);
    long v = 0;
    size_t start = r->pos;
    while (r->pos < r->size && r->d[r->pos] >= '0' && r->d[r->pos] <= '9') {
        v = v * 10 + (r->d[r->pos++] - '0');
        if (v > max)
            return sc_fail(err, SC_ERR_FORMAT, "%s: PNM %s exceeds %ld (byte %zu)", r->name, what,
                           max, start);
    }
    if (r->pos == start)
        return sc_fail(err, SC_ERR_FORMAT, "%s: bad PNM header: expected the %s at byte %zu",
                       r->name, what, start);
    *out = v;
    return SC_OK;
}

/* Reads one sample and rescales maxval to 255, rounded. */
static sc_status pnm_sample(pnm_reader *r, int ascii, long maxval, unsigned char *out,
                            sc_error *err)
{
    long v;
    if (ascii) {
        SC_TRY(pnm_uint(r, maxval, "sample", &v, err));
    } else {
        size_t bytes = maxval < 256 ? 1 : 2;
        if (r->size - r->pos < bytes)
            return sc_fail(err, SC_ERR_FORMAT, "%s: truncated PNM pixel data (%zu bytes)",
                           r->name, r->size);
        v = bytes == 1 ? r->d[r->pos] : (r->d[r->pos] << 8) | r->d[r->pos + 1];
        r->pos += bytes;
        if (v > maxval)
            return sc_fail(err, SC_ERR_FORMAT, "%s: PNM sample %ld exceeds maxval %ld", r->name,
                           v, maxval);
    }
    *out = (unsigned char)(maxval == 255 ? v : (v * 255 + maxval / 2) / maxval);
    return SC_OK;
}

static sc_status pnm_pixels(pnm_reader *r, int ascii, long maxval, sc_image *img, sc_error *err)
{
    size_t n = (size_t)img->w * (size_t)img->h * (size_t)img->c;
    size_t bytes = maxval < 256 ? 1 : 2;
    if (!ascii && (r->size - r->pos) / bytes < n)
        return sc_fail(err, SC_ERR_FORMAT,
                       "%s: truncated PNM: %zu bytes of pixel data, %dx%dx%d needs %zu", r->name,
                       r->size - r->pos, img->w, img->h, img->c, n * bytes);
    for (size_t i = 0; i < n; i++)
        SC_TRY(pnm_sample(r, ascii, maxval, &img->px[i], err));
    return SC_OK;
}

static sc_status decode_pnm(const unsigned char *data, size_t size, const char *name, int want,
                            sc_image *out, sc_error *err)
{
    char kind = (char)data[1];
    if (kind != '2' && kind != '3' && kind != '5' && kind != '6')
        return sc_fail(err, SC_ERR_UNSUPPORTED, "%s: Netpbm P%c is not supported (P2, P3, P5, P6 are)",
                       name, kind);
    pnm_reader r = {data, size, 2, name};
    long w, h, maxval;
    int c = (kind == '3' || kind == '6') ? 3 : 1;
    /* Sizes are read up to 2^30 so that check_dims gives the real reason. */
    SC_TRY(pnm_uint(&r, 1L << 30, "width", &w, err));
    SC_TRY(pnm_uint(&r, 1L << 30, "height", &h, err));
    SC_TRY(pnm_uint(&r, 65535, "maxval", &maxval, err));
    if (maxval == 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: bad PNM header: maxval 0", name);
    SC_TRY(check_dims(name, w, h, c, err));
    int ascii = kind == '2' || kind == '3';
    /* Binary formats: exactly one whitespace byte separates maxval from the data. */
    if (!ascii && (r.pos >= size || !pnm_is_space(data[r.pos])))
        return sc_fail(err, SC_ERR_FORMAT, "%s: bad PNM header: no pixel data after maxval", name);
    r.pos += !ascii;
    SC_TRY(sc_image_alloc(out, (int)w, (int)h, c, err));
    sc_status st = pnm_pixels(&r, ascii, maxval, out, err);
    if (st != SC_OK) {
        sc_image_free(out);
        return st;
    }
    return finish_channels(out, want, err);
}

/* ------------------------------------------------------------ entry */

sc_status sc_image_decode(const unsigned char *data, size_t size, const char *name,
                          int want_channels, sc_image *out, sc_error *err)
{
    *out = (sc_image){0};
    if (want_channels != 0 && want_channels != 1 && want_channels != 3)
        return sc_fail(err, SC_ERR_ARG, "%s: %d channels requested (0, 1 or 3 supported)", name,
                       want_channels);
    if (size == 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: empty file (0 bytes)", name);
    switch (sc_image_sniff(data, size)) {
    case SC_IMAGE_JPEG: return decode_jpeg(data, size, name, want_channels, out, err);
    case SC_IMAGE_PNG: return decode_png(data, size, name, want_channels, out, err);
    case SC_IMAGE_PNM: return decode_pnm(data, size, name, want_channels, out, err);
    case SC_IMAGE_UNKNOWN: break;
    }
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: not an image (no JPEG, PNG or PGM/PPM signature in its first bytes)", name);
}

sc_status sc_image_load(const char *path, int want_channels, sc_image *out, sc_error *err)
{
    *out = (sc_image){0};
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, SC_IMAGE_MAX_FILE, &data, &size, err));
    sc_status st = sc_image_decode(data, size, path, want_channels, out, err);
    free(data);
    return st;
}

/* ------------------------------------------------------------ probe */

static sc_status probe_jpeg(const unsigned char *data, size_t size, const char *name, int *w,
                            int *h, sc_error *err)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot create a JPEG decoder", name);
    int subsamp = -1, cs = -1;
    sc_status st = SC_OK;
    if (size > ULONG_MAX ||
        tjDecompressHeader3(tj, data, (unsigned long)size, w, h, &subsamp, &cs) != 0)
        st = sc_fail(err, SC_ERR_FORMAT, "%s: corrupt JPEG header: %s", name, tjGetErrorStr2(tj));
    tjDestroy(tj);
    return st;
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static sc_status probe_png(const unsigned char *data, size_t size, const char *name, int *w,
                           int *h, sc_error *err)
{
    /* signature (8), IHDR length (4), "IHDR" (4), width (4), height (4) */
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: corrupt PNG: no IHDR chunk first", name);
    unsigned long pw = be32(data + 16), ph = be32(data + 20);
    if (pw > INT_MAX || ph > INT_MAX)
        return sc_fail(err, SC_ERR_FORMAT, "%s: invalid image size %lux%lu", name, pw, ph);
    *w = (int)pw;
    *h = (int)ph;
    return SC_OK;
}

static sc_status probe_pnm(const unsigned char *data, size_t size, const char *name, int *w,
                           int *h, sc_error *err)
{
    pnm_reader r = {data, size, 2, name};
    long pw, ph;
    SC_TRY(pnm_uint(&r, 1L << 30, "width", &pw, err));
    SC_TRY(pnm_uint(&r, 1L << 30, "height", &ph, err));
    *w = (int)pw;
    *h = (int)ph;
    return SC_OK;
}

sc_status sc_image_probe_memory(const unsigned char *data, size_t size, const char *name,
                                int *width, int *height, sc_error *err)
{
    *width = *height = 0;
    sc_status st;
    switch (sc_image_sniff(data, size)) {
    case SC_IMAGE_JPEG: st = probe_jpeg(data, size, name, width, height, err); break;
    case SC_IMAGE_PNG: st = probe_png(data, size, name, width, height, err); break;
    case SC_IMAGE_PNM: st = probe_pnm(data, size, name, width, height, err); break;
    default:
        st = sc_fail(err, SC_ERR_FORMAT, size ? "%s: not an image (no JPEG, PNG or PGM/PPM signature "
                                                "in its first bytes)"
                                              : "%s: empty file (0 bytes)",
                     name);
    }
    if (st == SC_OK)
        st = check_dims(name, *width, *height, 1, err);
    return st;
}

sc_status sc_image_probe(const char *path, int *width, int *height, sc_error *err)
{
    *width = *height = 0;
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, SC_IMAGE_MAX_FILE, &data, &size, err));
    sc_status st = sc_image_probe_memory(data, size, path, width, height, err);
    free(data);
    return st;
}
