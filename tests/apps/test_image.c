/* Image decoding: the reference JPEG checksums of models/mobilefacenet/golden.txt,
 * LFW and AT&T files, PNG/PGM/PPM written here, every kind of bad input, the
 * network-input conversion, and SHA-256 test vectors. */
#include "sc_test.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

#define ALIGNED "data/lfw/reference-aligned-112x96/"

/* ------------------------------------------------------------ helpers */

static unsigned char *read_all(const char *path, size_t *size)
{
    unsigned char *data;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_read_file(path, (size_t)1 << 30, &data, size, &err));
    return data;
}

static void write_all(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static unsigned long long pixel_sum(const sc_image *img)
{
    unsigned long long s = 0;
    for (size_t i = 0; i < (size_t)img->w * img->h * img->c; i++)
        s += img->px[i];
    return s;
}

/* Loading path must fail with status, and the message must name the path. */
static void expect_fail(const char *path, int want, sc_status status, const char *fragment)
{
    sc_image img = {0};
    sc_error err = {0};
    sc_status st = sc_image_load(path, want, &img, &err);
    if (st != status || !strstr(err.msg, path) || (fragment && !strstr(err.msg, fragment)))
        fail_msg("%s: got %s '%s', expected %s with '%s'", path, sc_status_name(st), err.msg,
                 sc_status_name(status), fragment ? fragment : "");
    assert_null(img.px);
    assert_int_equal(img.w, 0);
}

static sc_image load_ok(const char *path, int want)
{
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(path, want, &img, &err));
    return img;
}

/* A deterministic w x h x c test pattern with every byte value represented. */
static unsigned char *pattern(int w, int h, int c)
{
    unsigned char *p = malloc((size_t)w * h * c);
    assert_non_null(p);
    for (size_t i = 0; i < (size_t)w * h * c; i++)
        p[i] = (unsigned char)(i * 37 + (i / 7) * 11);
    return p;
}

/* ---------------------------------------------------- golden checksums */

typedef struct golden_px {
    char rel[256];
    unsigned long long sum;
    char sha[65];
} golden_px;

/* Reads the "decoded RGB uint8: sum N, sha256 H" comment lines of golden.txt
 * in place, so the test follows the reference if it is ever regenerated. */
static int read_golden_checksums(golden_px *out, int max)
{
    FILE *f = fopen(sc_test_shared("models/mobilefacenet/golden.txt"), "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        const char *tag = strstr(line, "decoded RGB uint8: sum ");
        if (line[0] != '#' || !tag)
            continue;
        assert_int_equal(sscanf(line, "# %255s", out[n].rel), 1);
        assert_int_equal(sscanf(tag, "decoded RGB uint8: sum %llu, sha256 %64s", &out[n].sum,
                                out[n].sha), 2);
        n++;
    }
    fclose(f);
    return n;
}

static void test_golden_jpeg_checksums(void **state)
{
    (void)state;
    golden_px g[16];
    int n = read_golden_checksums(g, 16);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, ALIGNED "%.255s", g[i].rel);
        sc_image img = load_ok(sc_test_shared(rel), 3);
        assert_int_equal(img.w, 96);
        assert_int_equal(img.h, 112);
        assert_int_equal(img.c, 3);
        char hex[SC_SHA256_HEX_SIZE];
        sc_sha256_hex(img.px, (size_t)img.w * img.h * img.c, hex);
        if (pixel_sum(&img) != g[i].sum || strcmp(hex, g[i].sha) != 0)
            fail_msg("%s: decoded sum %llu sha256 %s, reference sum %llu sha256 %s", g[i].rel,
                     pixel_sum(&img), hex, g[i].sum, g[i].sha);
        sc_image_free(&img);
    }
}

static void test_lfw_150px(void **state)
{
    (void)state;
    const char *path = sc_test_shared("data/lfw/lfw-150px/Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    sc_image rgb = load_ok(path, 3);
    assert_int_equal(rgb.w, 150);
    assert_int_equal(rgb.h, 150);
    assert_int_equal(rgb.c, 3);
    sc_image native = load_ok(path, 0);
    assert_int_equal(native.c, 3);
    assert_memory_equal(native.px, rgb.px, 150 * 150 * 3);
    /* Grey from a colour JPEG is the rounded BT.601 luma of the RGB decode. */
    sc_image grey = load_ok(path, 1);
    assert_int_equal(grey.c, 1);
    for (int i = 0; i < 150 * 150; i++) {
        const unsigned char *p = rgb.px + 3 * i;
        double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        assert_true(fabs(grey.px[i] - y) <= 0.5 + 1e-3);
    }
    sc_image_free(&rgb);
    sc_image_free(&native);
    sc_image_free(&grey);
    sc_image_free(&grey); /* freeing twice is harmless */
}

static void test_att_faces(void **state)
{
    (void)state;
    for (int s = 1; s <= 40; s++) {
        for (int k = 1; k <= 10; k++) {
            char rel[64];
            snprintf(rel, sizeof rel, "data/att_faces/s%d/%d.pgm", s, k);
            sc_image img = load_ok(sc_test_shared(rel), 0);
            assert_int_equal(img.w, 92);
            assert_int_equal(img.h, 112);
            assert_int_equal(img.c, 1);
            sc_image_free(&img);
        }
    }
    sc_image rgb = load_ok(sc_test_shared("data/att_faces/s1/1.pgm"), 3);
    sc_image grey = load_ok(sc_test_shared("data/att_faces/s1/1.pgm"), 1);
    assert_int_equal(rgb.c, 3);
    for (int i = 0; i < 92 * 112; i++) {
        assert_int_equal(rgb.px[3 * i], grey.px[i]);
        assert_int_equal(rgb.px[3 * i + 1], grey.px[i]);
        assert_int_equal(rgb.px[3 * i + 2], grey.px[i]);
    }
    sc_image_free(&rgb);
    sc_image_free(&grey);
}

/* --------------------------------------------------------- bad inputs */

static void test_missing_and_empty(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("no_such_image.jpg"));
    remove(path);
    expect_fail(path, 3, SC_ERR_IO, "cannot open");

    snprintf(path, sizeof path, "%s", sc_test_tmp("zero_bytes.jpg"));
    write_all(path, "", 0);
    expect_fail(path, 3, SC_ERR_FORMAT, "empty");

    snprintf(path, sizeof path, "%s", sc_test_tmp("x.jpg"));
    const char *text = "this is a text file, not a JPEG\n";
    write_all(path, text, strlen(text));
    expect_fail(path, 3, SC_ERR_FORMAT, "not an image");

    /* A directory is not an image either (fopen succeeds on Linux). */
    snprintf(path, sizeof path, "%s", sc_test_shared("data/att_faces/s1"));
    expect_fail(path, 3, SC_ERR_IO, "not a regular file");

    sc_image img;
    sc_error err = {0};
    assert_int_equal(sc_image_load(sc_test_shared("data/att_faces/s1/1.pgm"), 2, &img, &err),
                     SC_ERR_ARG);
}

static void test_truncated_jpeg(void **state)
{
    (void)state;
    size_t size;
    unsigned char *jpg = read_all(sc_test_shared(ALIGNED "Abel_Pacheco/Abel_Pacheco_0001.jpg"),
                                  &size);
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("truncated_half.jpg"));
    write_all(path, jpg, size / 2);
    expect_fail(path, 3, SC_ERR_FORMAT, "Premature end of JPEG file");
    expect_fail(path, 1, SC_ERR_FORMAT, "Premature end of JPEG file");

    /* Cut inside the headers: still a clean format error. */
    snprintf(path, sizeof path, "%s", sc_test_tmp("truncated_header.jpg"));
    write_all(path, jpg, 40);
    expect_fail(path, 3, SC_ERR_FORMAT, "JPEG");
    free(jpg);
}

/* Patches the SOF0 frame size to 60000 x 60000: rejected before allocating. */
static void test_absurd_dimensions(void **state)
{
    (void)state;
    size_t size;
    unsigned char *jpg = read_all(sc_test_shared(ALIGNED "Abel_Pacheco/Abel_Pacheco_0001.jpg"),
                                  &size);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < size && !sof; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
            sof = i;
    assert_true(sof > 0);
    jpg[sof + 5] = 0xea; /* height = 0xea60 = 60000 */
    jpg[sof + 6] = 0x60;
    jpg[sof + 7] = 0xea; /* width */
    jpg[sof + 8] = 0x60;
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("huge.jpg"));
    write_all(path, jpg, size);
    expect_fail(path, 3, SC_ERR_FORMAT, "exceeds");
    free(jpg);

    snprintf(path, sizeof path, "%s", sc_test_tmp("huge.pgm"));
    const char *hdr = "P5 100000 100000 255\n";
    write_all(path, hdr, strlen(hdr));
    expect_fail(path, 1, SC_ERR_FORMAT, "exceeds");
}

static void test_bad_pnm(void **state)
{
    (void)state;
    static const struct { const char *name, *data, *fragment; sc_status st; } cases[] = {
        {"bad_height.pgm", "P5\n92 abc\n255\n\x01\x02", "height", SC_ERR_FORMAT},
        {"no_maxval.pgm", "P5 2 2", "maxval", SC_ERR_FORMAT},
        {"zero_maxval.pgm", "P5 2 2 0\n\x01\x02\x03\x04", "maxval", SC_ERR_FORMAT},
        {"zero_width.pgm", "P5 0 2 255\n", "size", SC_ERR_FORMAT},
        {"short_data.pgm", "P5 4 4 255\n\x01\x02\x03", "truncated", SC_ERR_FORMAT},
        {"short_data.ppm", "P6 2 2 255\n\x01\x02\x03\x04\x05\x06", "truncated", SC_ERR_FORMAT},
        {"big_sample.pgm", "P2 2 1 10\n3 11\n", "exceeds", SC_ERR_FORMAT},
        {"bad_ascii.pgm", "P2 2 1 255\n3 x\n", "sample", SC_ERR_FORMAT},
        {"bitmap.pbm", "P1 2 1\n0 1\n", "not supported", SC_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s", sc_test_tmp(cases[i].name));
        write_all(path, cases[i].data, strlen(cases[i].data));
        expect_fail(path, 0, cases[i].st, cases[i].fragment);
    }
}

/* ------------------------------------------------------- PNG writing */

typedef struct png_spec {
    int color_type;   /* PNG_COLOR_TYPE_* */
    int depth;        /* 8 or 16 */
    int interlace;    /* PNG_INTERLACE_NONE or ADAM7 */
} png_spec;

/* Writes w x h samples (rows of w * channels(color_type) samples, 16-bit as
 * big-endian pairs when depth is 16) with libpng. Palette images get a
 * 256-entry grey-ramp palette with a tRNS chunk, so alpha must be dropped. */
static void write_png(const char *path, int w, int h, png_spec spec, const unsigned char *data)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not write %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, spec.depth, spec.color_type, spec.interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec.color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        png_byte trans[256];
        for (int i = 0; i < 256; i++) {
            pal[i].red = (png_byte)i;
            pal[i].green = (png_byte)(255 - i);
            pal[i].blue = (png_byte)(i / 2);
            trans[i] = (png_byte)(i & 1 ? 0 : 255);
        }
        png_set_PLTE(png, info, pal, 256);
        png_set_tRNS(png, info, trans, 256, NULL);
    }
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    size_t row = png_get_rowbytes(png, info);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++)
            png_write_row(png, data + (size_t)y * row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void write_pnm(const char *path, const char *magic, int w, int h, int c,
                      const unsigned char *px)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "%s\n# written by test_image\n%d %d\n255\n", magic, w, h);
    if (magic[1] == '5' || magic[1] == '6')
        assert_int_equal(fwrite(px, 1, (size_t)w * h * c, f), (size_t)w * h * c);
    else
        for (size_t i = 0; i < (size_t)w * h * c; i++)
            fprintf(f, "%d%c", px[i], i % 17 == 16 ? '\n' : ' ');
    assert_int_equal(fclose(f), 0);
}

static void expect_pixels(const char *path, int want, int w, int h, int c,
                          const unsigned char *px)
{
    sc_image img = load_ok(path, want);
    assert_int_equal(img.w, w);
    assert_int_equal(img.h, h);
    assert_int_equal(img.c, c);
    assert_memory_equal(img.px, px, (size_t)w * h * c);
    sc_image_free(&img);
}

static void test_png_pnm_round_trip(void **state)
{
    (void)state;
    const int w = 37, h = 23;
    unsigned char *grey = pattern(w, h, 1), *rgb = pattern(w, h, 3);
    char path[4096];
    png_spec grey8 = {PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE};
    png_spec rgb8 = {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE};
    png_spec rgb8i = {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7};

    snprintf(path, sizeof path, "%s", sc_test_tmp("grey.png"));
    write_png(path, w, h, grey8, grey);
    expect_pixels(path, 0, w, h, 1, grey);
    snprintf(path, sizeof path, "%s", sc_test_tmp("grey.pgm"));
    write_pnm(path, "P5", w, h, 1, grey);
    expect_pixels(path, 0, w, h, 1, grey);
    snprintf(path, sizeof path, "%s", sc_test_tmp("grey_ascii.pgm"));
    write_pnm(path, "P2", w, h, 1, grey);
    expect_pixels(path, 0, w, h, 1, grey);

    snprintf(path, sizeof path, "%s", sc_test_tmp("rgb.png"));
    write_png(path, w, h, rgb8, rgb);
    expect_pixels(path, 3, w, h, 3, rgb);
    snprintf(path, sizeof path, "%s", sc_test_tmp("rgb_interlaced.png"));
    write_png(path, w, h, rgb8i, rgb);
    expect_pixels(path, 0, w, h, 3, rgb);
    snprintf(path, sizeof path, "%s", sc_test_tmp("rgb.ppm"));
    write_pnm(path, "P6", w, h, 3, rgb);
    expect_pixels(path, 3, w, h, 3, rgb);
    snprintf(path, sizeof path, "%s", sc_test_tmp("rgb_ascii.ppm"));
    write_pnm(path, "P3", w, h, 3, rgb);
    expect_pixels(path, 0, w, h, 3, rgb);

    /* PNG and PPM of the same pixels agree after conversion to grey as well. */
    sc_image a = load_ok(sc_test_tmp("rgb.png"), 1), b = load_ok(sc_test_tmp("rgb.ppm"), 1);
    assert_memory_equal(a.px, b.px, (size_t)w * h);
    sc_image_free(&a);
    sc_image_free(&b);
    free(grey);
    free(rgb);
}

static void test_png_palette_and_16bit(void **state)
{
    (void)state;
    const int w = 16, h = 16;
    unsigned char idx[16 * 16], rgb[16 * 16 * 3], px16[16 * 16 * 2], grey[16 * 16];
    for (int i = 0; i < w * h; i++) {
        idx[i] = (unsigned char)i;
        rgb[3 * i] = (unsigned char)i;
        rgb[3 * i + 1] = (unsigned char)(255 - i);
        rgb[3 * i + 2] = (unsigned char)(i / 2);
        px16[2 * i] = (unsigned char)(255 - i); /* high byte kept */
        px16[2 * i + 1] = (unsigned char)(i * 7);
        grey[i] = (unsigned char)(255 - i);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("palette_trns.png"));
    write_png(path, w, h, (png_spec){PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE}, idx);
    expect_pixels(path, 0, w, h, 3, rgb);
    snprintf(path, sizeof path, "%s", sc_test_tmp("grey16.png"));
    write_png(path, w, h, (png_spec){PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE}, px16);
    expect_pixels(path, 0, w, h, 1, grey);
}

static void test_corrupt_png(void **state)
{
    (void)state;
    const int w = 40, h = 30;
    unsigned char *rgb = pattern(w, h, 3);
    char good[4096], path[4096];
    snprintf(good, sizeof good, "%s", sc_test_tmp("good.png"));
    write_png(good, w, h, (png_spec){PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE}, rgb);
    size_t size;
    unsigned char *png = read_all(good, &size);

    /* Bytes flipped inside IDAT: the CRC check catches it. */
    unsigned char *idat = NULL;
    for (size_t i = 8; i + 4 < size && !idat; i++)
        if (memcmp(png + i, "IDAT", 4) == 0)
            idat = png + i;
    assert_non_null(idat);
    idat[10] ^= 0x5a;
    idat[11] ^= 0xa5;
    snprintf(path, sizeof path, "%s", sc_test_tmp("corrupt.png"));
    write_all(path, png, size);
    expect_fail(path, 3, SC_ERR_FORMAT, "corrupt PNG");
    idat[10] ^= 0x5a;
    idat[11] ^= 0xa5;

    /* Truncated: the signature survives, the data does not. */
    snprintf(path, sizeof path, "%s", sc_test_tmp("truncated.png"));
    write_all(path, png, size / 2);
    expect_fail(path, 3, SC_ERR_FORMAT, "corrupt PNG");
    write_all(path, png, 20);
    expect_fail(path, 0, SC_ERR_FORMAT, "corrupt PNG");
    free(png);
    free(rgb);
}

/* ------------------------------------------------------ network input */

static void test_planar_float(void **state)
{
    (void)state;
    /* 3 wide x 2 high RGB; pixel (x, y) channel k = 100*k + 10*y + x. */
    sc_image img;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&img, 3, 2, 3, &err));
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int k = 0; k < 3; k++)
                img.px[(y * 3 + x) * 3 + k] = (unsigned char)(100 * k + 10 * y + x);
    float out[18];
    const float mean[3] = {1, 2, 3};
    const sc_input_shape s32 = {3, 2, 3};
    sc_pixel_norm norm = {{1, 2, 3}, 0.5f, 0};
    sc_assert_ok_err(&err, sc_image_to_input(&img, &s32, &norm, 0, out, "img", &err));
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                assert_float_equal(out[(k * 2 + y) * 3 + x], (100 * k + 10 * y + x - mean[k]) * 0.5f, 0);
    /* Mirrored and BGR: plane 0 holds blue, with mean[0] subtracted. */
    norm = (sc_pixel_norm){{1, 2, 3}, 2.0f, 1};
    sc_assert_ok_err(&err, sc_image_to_input(&img, &s32, &norm, 1, out, "img", &err));
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                assert_float_equal(out[(k * 2 + y) * 3 + x],
                                   (100 * (2 - k) + 10 * y + (2 - x) - mean[k]) * 2.0f, 0);
    /* A 2x1 crop at (1, 1), mirrored, no mean. */
    const sc_input_shape crop = {3, 1, 2};
    norm = (sc_pixel_norm){{0, 0, 0}, 1.0f, 0};
    sc_assert_ok_err(&err, sc_image_crop_to_input(&img, 1, 1, &crop, &norm, 1, out, "img", &err));
    const float want[6] = {12, 11, 112, 111, 212, 211};
    for (int i = 0; i < 6; i++)
        assert_float_equal(out[i], want[i], 0);
    sc_image_free(&img);

    /* The mobilefacenet input: (p - 127.5) / 128, exact in float. */
    sc_image face = load_ok(sc_test_shared(ALIGNED "Dean_Barker/Dean_Barker_0001.jpg"), 3);
    float *x = malloc(sizeof(float) * 3 * 112 * 96);
    assert_non_null(x);
    const sc_input_shape face_shape = {3, 112, 96};
    norm = (sc_pixel_norm){{127.5f, 127.5f, 127.5f}, 0.0078125f, 0};
    sc_assert_ok_err(&err, sc_image_to_input(&face, &face_shape, &norm, 0, x, "face", &err));
    assert_float_equal(x[0], (face.px[0] - 127.5) / 128.0, 0);
    assert_float_equal(x[112 * 96 + 5], (face.px[5 * 3 + 1] - 127.5) / 128.0, 0);
    free(x);
    sc_image_free(&face);
}

/* Bilinear resize against OpenCV 4.6's cv2.resize(src, (w, h), INTER_LINEAR)
 * on a 7x5 grey ramp, computed once with Debian's python3-opencv. OpenCV
 * rounds 11-bit fixed-point weights, SphereCL computes in double: at most 1
 * apart, and most values equal. */
static const int k_cv_4x3[] = {57, 122, 186, 166, 135, 200, 40, 73, 161, 55, 120, 131};
static const int k_cv_11x9[] = {
    13,  30,  53,  77,  100, 124, 148, 171, 194, 218, 235, 43,  60,  84,  107, 131, 154, 178, 178,
    147, 163, 180, 94,  111, 134, 158, 181, 205, 228, 190, 68,  72,  88,  112, 128, 152, 175, 199,
    222, 174, 117, 50,  61,  77,  121, 138, 161, 185, 208, 232, 93,  23,  47,  70,  87,  89,  106,
    129, 153, 177, 200, 151, 134, 157, 103, 55,  78,  95,  115, 121, 137, 160, 184, 207, 231, 130,
    44,  147, 164, 172, 87,  64,  88,  111, 135, 158, 135, 113, 189, 206, 206, 67,  20,  44,  68,
    91,  114, 138, 155};
static const int k_cv_3x5[] = {38, 124, 210, 129, 215, 45, 146, 232, 62, 89, 175, 176, 214, 44, 130};

static void check_resize(const sc_image *src, int w, int h, const int *want)
{
    sc_image out = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_resize_bilinear(src, w, h, &out, &err));
    assert_int_equal(out.w, w);
    assert_int_equal(out.h, h);
    int equal = 0, worst = 0;
    for (int i = 0; i < w * h; i++) {
        int d = abs((int)out.px[i] - want[i]);
        worst = d > worst ? d : worst;
        equal += d == 0;
    }
    printf("resize 7x5 -> %dx%d: %d of %d values equal OpenCV's, max difference %d\n", w, h,
           equal, w * h, worst);
    assert_true(worst <= 1);
    assert_true(equal * 10 >= w * h * 9);
    sc_image_free(&out);
}

static void test_resize_bilinear(void **state)
{
    (void)state;
    sc_image src;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&src, 7, 5, 1, &err));
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++)
            src.px[y * 7 + x] = (unsigned char)((37 * x + 91 * y * y + 13) % 256);
    check_resize(&src, 4, 3, k_cv_4x3);
    check_resize(&src, 11, 9, k_cv_11x9);
    check_resize(&src, 3, 5, k_cv_3x5);
    /* the same size is a copy */
    sc_image same = {0};
    sc_assert_ok_err(&err, sc_image_resize_bilinear(&src, 7, 5, &same, &err));
    assert_memory_equal(same.px, src.px, 35);
    sc_image_free(&same);
    sc_image_free(&src);
}

/* A conversion refuses an image that does not have the destination's shape
 * (this wrote past the buffer before) and a crop window outside the image. */
static void test_input_shape_checks(void **state)
{
    (void)state;
    sc_image img;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&img, 150, 150, 3, &err));
    memset(img.px, 7, 150 * 150 * 3);
    float *dst = malloc(3 * 112 * 96 * sizeof *dst);
    assert_non_null(dst);
    const sc_input_shape net = {3, 112, 96};
    const sc_pixel_norm norm = {{0, 0, 0}, 1.0f, 0};
    assert_int_equal(sc_image_to_input(&img, &net, &norm, 0, dst, "big.jpg", &err), SC_ERR_SHAPE);
    printf("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "big.jpg"));
    assert_non_null(strstr(err.msg, "150x150"));
    assert_non_null(strstr(err.msg, "96x112"));
    const sc_input_shape grey = {1, 150, 150};
    assert_int_equal(sc_image_to_input(&img, &grey, &norm, 0, dst, "rgb.jpg", &err), SC_ERR_SHAPE);
    assert_int_equal(sc_image_crop_to_input(&img, 60, 0, &net, &norm, 0, dst, "crop", &err),
                     SC_ERR_SHAPE);
    assert_int_equal(sc_image_crop_to_input(&img, 54, 38, &net, &norm, 0, dst, "crop", &err), SC_OK);
    free(dst);
    sc_image_free(&img);
}

/* ------------------------------------------------------------ sha256 */

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[SC_SHA256_HEX_SIZE];
    sc_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sc_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sc_sha256_hex(m448, strlen(m448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces. */
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    sc_sha256 s;
    unsigned char d[SC_SHA256_DIGEST_SIZE];
    sc_sha256_init(&s);
    size_t left = 1000000;
    for (size_t piece = 1; left > 0; piece = piece % 997 + 1) {
        size_t n = piece < left ? piece : left;
        sc_sha256_update(&s, chunk, n);
        left -= n;
    }
    sc_sha256_final(&s, d);
    assert_int_equal(d[0], 0xcd);
    assert_int_equal(d[1], 0xc7);
    assert_int_equal(d[31], 0xd0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_jpeg_checksums),
        cmocka_unit_test(test_lfw_150px),
        cmocka_unit_test(test_att_faces),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_truncated_jpeg),
        cmocka_unit_test(test_absurd_dimensions),
        cmocka_unit_test(test_bad_pnm),
        cmocka_unit_test(test_png_pnm_round_trip),
        cmocka_unit_test(test_png_palette_and_16bit),
        cmocka_unit_test(test_corrupt_png),
        cmocka_unit_test(test_planar_float),
        cmocka_unit_test(test_resize_bilinear),
        cmocka_unit_test(test_input_shape_checks),
        cmocka_unit_test(test_sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
