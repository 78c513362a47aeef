/* The plotting module (apps/common/plot.h) and its readers and apps:
 *  - axis maths: nice steps, expanded and fixed ranges, log axes, the
 *    data-to-pixel mapping and tick labels;
 *  - drawing: font, text size, lines, discs and clipping on exact pixels;
 *  - a chart encoded as PNG decodes to the canvas size with the series in it;
 *  - the --log-json reader (train_log.h) and the idx reader (idx.h);
 *  - sphere-plot and sphere-mnist end to end: PNGs of the asked size, exit 2
 *    with file:line for bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "image.h"
#include "image_write.h"
#include "plot.h"
#include "plot_font.h"
#include "sc_test.h"
#include "train_log.h"

static void assert_near(double a, double b)
{
    if (fabs(a - b) > 1e-9 * fmax(1, fabs(b)))
        fail_msg("%.17g != %.17g", a, b);
}

static void expect_ticks(const sc_axis *ax, const double *want, int n)
{
    if (ax->n_ticks != n) {
        for (int i = 0; i < ax->n_ticks; i++)
            printf("tick %d: %.17g\n", i, ax->ticks[i]);
        fail_msg("%d ticks, want %d", ax->n_ticks, n);
    }
    for (int i = 0; i < n; i++)
        assert_near(ax->ticks[i], want[i]);
}

static void test_nice_step(void **state)
{
    (void)state;
    assert_near(sc_axis_nice_step(10, 5), 2);
    assert_near(sc_axis_nice_step(1, 5), 0.2);
    assert_near(sc_axis_nice_step(7, 10), 1);
    assert_near(sc_axis_nice_step(0.0123, 4), 0.005);
    assert_near(sc_axis_nice_step(1000, 4), 500);
    assert_near(sc_axis_nice_step(3, 3), 1); /* exactly 3 intervals of 1, not 2 */
    assert_near(sc_axis_nice_step(0, 5), 1); /* degenerate input: a safe step */
}

static void test_linear_axis(void **state)
{
    (void)state;
    sc_axis ax;
    sc_axis_linear(&ax, 0.13, 0.97, 5, 1);
    assert_near(ax.lo, 0), assert_near(ax.hi, 1), assert_near(ax.step, 0.2);
    expect_ticks(&ax, (const double[]){0, 0.2, 0.4, 0.6, 0.8, 1.0}, 6);

    sc_axis_linear(&ax, -1.15, 1.15, 5, 0); /* fixed range: ticks inside it */
    assert_near(ax.lo, -1.15), assert_near(ax.hi, 1.15);
    expect_ticks(&ax, (const double[]){-1, -0.5, 0, 0.5, 1}, 5);

    sc_axis_linear(&ax, 600, 0, 4, 1); /* reversed input, large numbers */
    assert_near(ax.lo, 0), assert_near(ax.hi, 600);
    expect_ticks(&ax, (const double[]){0, 200, 400, 600}, 4);

    sc_axis_linear(&ax, 3, 3, 5, 1); /* one value: shown in the middle */
    assert_true(ax.lo < 3 && ax.hi > 3);
    sc_axis_linear(&ax, NAN, 1, 5, 1);
    assert_near(ax.lo, 0), assert_near(ax.hi, 1);
}

static void test_log_axis(void **state)
{
    (void)state;
    sc_axis ax;
    sc_axis_log(&ax, 0.003, 0.07, 8); /* two decades: 1, 2, 5 in each */
    assert_true(ax.log);
    assert_near(ax.lo, 0.001), assert_near(ax.hi, 0.1);
    expect_ticks(&ax, (const double[]){0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}, 7);
    sc_axis_log(&ax, 5, 1000, 8); /* lambda's range: decades only */
    expect_ticks(&ax, (const double[]){1, 10, 100, 1000}, 4);
    sc_axis_log(&ax, 1e-6, 1e6, 4); /* twelve decades in four ticks: every third */
    expect_ticks(&ax, (const double[]){1e-6, 1e-3, 1, 1e3, 1e6}, 5);
    sc_axis_log(&ax, 0.0125, 0.0125, 5); /* a constant lr still gets an axis */
    assert_true(ax.lo <= 0.0125 && ax.hi >= 0.0125 && ax.lo < ax.hi);
}

static void test_map(void **state)
{
    (void)state;
    sc_axis ax;
    sc_axis_linear(&ax, 0, 10, 5, 1);
    assert_near(sc_axis_map(&ax, 0, 100, 300), 100);
    assert_near(sc_axis_map(&ax, 10, 100, 300), 300);
    assert_near(sc_axis_map(&ax, 2.5, 100, 300), 150);
    assert_near(sc_axis_map(&ax, 10, 400, 0), 0); /* y grows upwards */
    sc_axis_log(&ax, 1, 100, 5);
    assert_near(sc_axis_map(&ax, 10, 0, 200), 100);
    assert_true(isnan(sc_axis_map(&ax, 0, 0, 200)));
    assert_true(isnan(sc_axis_map(&ax, -1, 0, 200)));
}

static void test_format(void **state)
{
    (void)state;
    sc_axis ax;
    char buf[64];
    sc_axis_linear(&ax, 0, 1, 10, 1); /* step 0.1 */
    assert_string_equal(sc_axis_format(&ax, 0.1 * 3, buf, sizeof buf), "0.3");
    assert_string_equal(sc_axis_format(&ax, -1e-17, buf, sizeof buf), "0.0");
    sc_axis_linear(&ax, -0.02, 0.02, 4, 1); /* step 0.01 */
    assert_string_equal(sc_axis_format(&ax, -0.0, buf, sizeof buf), "0.00");
    assert_string_equal(sc_axis_format(&ax, -0.01, buf, sizeof buf), "-0.01");
    sc_axis_linear(&ax, 0, 600, 4, 1);
    assert_string_equal(sc_axis_format(&ax, 400, buf, sizeof buf), "400");
    sc_axis_linear(&ax, 0, 3e7, 3, 1);
    assert_string_equal(sc_axis_format(&ax, 2e7, buf, sizeof buf), "2e+07");
    sc_axis_log(&ax, 1e-4, 1e-2, 5);
    assert_string_equal(sc_axis_format(&ax, 5e-4, buf, sizeof buf), "0.0005");
}

static void test_font_and_text(void **state)
{
    (void)state;
    for (int row = 0; row < SC_FONT_H; row++) /* '|' is the middle column */
        for (int col = 0; col < SC_FONT_W; col++)
            assert_int_equal(sc_font_pixel('|', col, row), col == 2);
    assert_int_equal(sc_font_pixel(' ', 2, 3), 0);
    for (int row = 0; row < SC_FONT_H; row++) /* outside ASCII: drawn as '?' */
        for (int col = 0; col < SC_FONT_W; col++)
            assert_int_equal(sc_font_pixel((char)0xe9, col, row), sc_font_pixel('?', col, row));
    assert_int_equal(sc_text_width("ab", 2), 22); /* 2 glyphs x 6 x 2, minus the gap */
    assert_int_equal(sc_text_width("", 3), 0);
    assert_int_equal(sc_text_height(3), 21);

    sc_canvas cv;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_canvas_create(&cv, 40, 40, 0xffffff, &err));
    sc_canvas_text(&cv, 5, 5, "|", 0x000000, 1, 0);
    assert_int_equal(cv.img.px[3 * (5 * 40 + 7)], 0);  /* column 2 of the glyph */
    assert_int_equal(cv.img.px[3 * (5 * 40 + 6)], 255);
    /* turned anticlockwise: the bar lies along x (glyph rows 0..6 from the
     * left), at the height of column 2 counted up from the box's bottom
     * (y = 20 + width 5 - 2 - 1) */
    sc_canvas_text(&cv, 20, 20, "|", 0x000000, 1, 1);
    for (int x = 20; x < 27; x++)
        assert_int_equal(cv.img.px[3 * (22 * 40 + x)], 0);
    assert_int_equal(cv.img.px[3 * (22 * 40 + 27)], 255);
    assert_int_equal(cv.img.px[3 * (21 * 40 + 20)], 255);
    sc_canvas_free(&cv);
}

static const unsigned char *pixel(const sc_canvas *cv, int x, int y)
{
    return cv->img.px + 3 * ((size_t)y * (size_t)cv->img.w + (size_t)x);
}

static void test_lines_discs_clip(void **state)
{
    (void)state;
    sc_canvas cv;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_canvas_create(&cv, 50, 30, 0xffffff, &err));
    sc_canvas_line(&cv, 10.5, 10.5, 20.5, 10.5, 0xff0000, 1);
    for (int x = 10; x <= 20; x++)
        assert_int_equal(pixel(&cv, x, 10)[1], 0); /* red: no green */
    assert_int_equal(pixel(&cv, 21, 10)[1], 255);
    assert_int_equal(pixel(&cv, 15, 11)[1], 255);

    sc_canvas_disc(&cv, 30, 20, 3, 0x0000ff, 1);
    assert_int_equal(pixel(&cv, 30, 20)[2], 255), assert_int_equal(pixel(&cv, 30, 20)[0], 0);
    assert_int_equal(pixel(&cv, 34, 20)[0], 255); /* outside the radius */

    sc_canvas_disc(&cv, 40, 5, 2, 0x000000, 0.5); /* half over white: grey */
    assert_in_range(pixel(&cv, 40, 5)[0], 127, 128);

    sc_canvas_clip(&cv, 0, 0, 25, 30);
    sc_canvas_line(&cv, 0.5, 25.5, 49.5, 25.5, 0x000000, 1);
    assert_int_equal(pixel(&cv, 24, 25)[0], 0);
    assert_int_equal(pixel(&cv, 25, 25)[0], 255); /* clipped away */
    sc_canvas_unclip(&cv);
    sc_canvas_line(&cv, -1e12, 0, 1e12, 0, 0x000000, 3); /* absurd: skipped, not hung */
    sc_canvas_line(&cv, 0, 0, NAN, 4, 0x000000, 1);
    sc_canvas_free(&cv);
}

static int has_color(const sc_image *img, uint32_t rgb)
{
    for (size_t i = 0; i < (size_t)img->w * (size_t)img->h; i++) {
        const unsigned char *p = img->px + 3 * i;
        if (p[0] == (rgb >> 16 & 0xff) && p[1] == (rgb >> 8 & 0xff) && p[2] == (rgb & 0xff))
            return 1;
    }
    return 0;
}

static void test_chart_png(void **state)
{
    (void)state;
    double x[50], y[50], px[3] = {-2, 0.5, 3}, py[3] = {1, -1, 0.2};
    for (int i = 0; i < 50; i++)
        x[i] = 20.0 * i, y[i] = 6.9 * exp(-i / 15.0) + (i == 20 ? NAN : 0);
    sc_series line = {.label = "loss", .x = x, .y = y, .n = 50, .rgb = 0xd62728,
                      .kind = SC_SERIES_LINE};
    sc_series dots = {.label = "digits", .x = px, .y = py, .n = 3, .rgb = 0x1f77b4,
                      .kind = SC_SERIES_POINTS, .size = 3};
    sc_chart c1 = {.title = "training loss", .xlabel = "iteration", .ylabel = "loss",
                   .series = &line, .n_series = 1, .legend = 1};
    sc_chart c2 = {.title = "scatter", .series = &dots, .n_series = 1, .equal_aspect = 1,
                   .unit_circle = 1, .legend = 1, .scale = 1};
    sc_chart empty = {.title = "nothing", .series = NULL, .n_series = 0};
    sc_canvas cv;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_canvas_create(&cv, 960, 400, 0xffffff, &err));
    sc_assert_ok_err(&err, sc_chart_draw(&cv, 0, 0, 480, 400, &c1, &err));
    sc_assert_ok_err(&err, sc_chart_draw(&cv, 480, 0, 240, 400, &c2, &err));
    sc_assert_ok_err(&err, sc_chart_draw(&cv, 720, 0, 240, 200, &empty, &err));
    assert_int_equal(sc_chart_draw(&cv, 0, 0, 60, 50, &c1, &err), SC_ERR_ARG);

    const char *path = sc_test_tmp("plot_chart.png");
    sc_assert_ok_err(&err, sc_image_write_png(path, &cv.img, &err));
    sc_image back = {0};
    sc_assert_ok_err(&err, sc_image_load(path, 3, &back, &err));
    assert_int_equal(back.w, 960);
    assert_int_equal(back.h, 400);
    assert_memory_equal(back.px, cv.img.px, (size_t)960 * 400 * 3); /* lossless */
    assert_true(has_color(&back, 0xd62728));
    assert_true(has_color(&back, 0x1f77b4));
    sc_image_free(&back);
    sc_canvas_free(&cv);
}

static void test_train_log(void **state)
{
    (void)state;
    const char *text =
        "{\"iteration\":20,\"loss\":6.5,\"accuracy\":null,\"lambda\":431.5,\"lr\":0.0125,"
        "\"img_s\":14.2,\"wall_s\":45}\n"
        "\n"
        "  { \"wall_s\" : 90.5 , \"iteration\" : 40, \"note\": \"a \\\"quoted\\\" word\","
        " \"loss\": 5.25e0, \"extra\": true }\r\n"
        "{\"iteration\":60,\"loss\":4";  /* cut short: a killed writer */
    sc_train_log log;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_train_log_parse(text, strlen(text), "t.jsonl", &log, &err));
    assert_int_equal(log.n, 2);
    assert_near(log.iter[0], 20), assert_near(log.iter[1], 40);
    assert_near(log.v[SC_LOG_LOSS][1], 5.25);
    assert_near(log.v[SC_LOG_LAMBDA][0], 431.5);
    assert_true(isnan(log.v[SC_LOG_ACCURACY][0]));
    assert_true(isnan(log.v[SC_LOG_LR][1]));
    assert_near(log.v[SC_LOG_WALL_S][1], 90.5);
    sc_train_log_free(&log);

    const char *bad[] = {"{\"iteration\":1}\n{\"iteration\":2,\"loss\":[1]}\n",
                         "{\"iteration\":1}\n{\"loss\":1}\n",
                         "{\"iteration\":1}\n{\"iteration\":2,\"loss\":inf}\n",
                         "{\"iteration\":1}\n{\"iteration\":2,}\n",
                         "{\"iteration\":1}\n{\"iteration\":2} x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sc_train_log_parse(bad[i], strlen(bad[i]), "b.jsonl", &log, &err),
                         SC_ERR_PARSE);
        assert_non_null(strstr(err.msg, "b.jsonl:2:"));
        assert_int_equal(log.n, 0);
    }
    assert_int_equal(sc_train_log_read(sc_test_tmp("no_such.jsonl"), &log, &err), SC_ERR_IO);
    assert_string_equal(sc_train_field_key(SC_LOG_IMG_S), "img_s");
}

static void test_idx(void **state)
{
    (void)state;
    unsigned char b[4 + 12 + 8] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2};
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)(i * 30);
    sc_idx idx;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_idx_parse(b, sizeof b, "x.idx", &idx, &err));
    assert_int_equal(idx.ndim, 3);
    assert_int_equal(idx.count, 8);
    assert_int_equal(idx.data[7], 210);
    sc_idx_free(&idx);
    assert_int_equal(sc_idx_parse(b, sizeof b - 1, "x.idx", &idx, &err), SC_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "x.idx"));
    b[2] = 0x0d; /* float values: not read */
    assert_int_equal(sc_idx_parse(b, sizeof b, "x.idx", &idx, &err), SC_ERR_FORMAT);
    b[2] = 8, b[0] = 1;
    assert_int_equal(sc_idx_parse(b, sizeof b, "x.idx", &idx, &err), SC_ERR_FORMAT);

    /* the real, gzipped test labels: 10,000 digits, the first a 7 */
    sc_assert_ok_err(&err,
                     sc_idx_load(sc_test_shared("data/mnist/t10k-labels-idx1-ubyte.gz"), &idx, &err));
    assert_int_equal(idx.ndim, 1);
    assert_int_equal(idx.dims[0], 10000);
    assert_int_equal(idx.data[0], 7);
    sc_idx_free(&idx);
}

/* ------------------------------------------------------------ apps */

static char out[65536], errbuf[65536];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_png(const char *path, int w, int h)
{
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(path, 3, &img, &err));
    assert_int_equal(img.w, w);
    assert_int_equal(img.h, h);
    sc_image_free(&img);
}

static void test_sphere_plot_curves(void **state)
{
    (void)state;
    char a[1024], b[1024], png[1024], cmd[8192];
    snprintf(a, sizeof a, "%s", sc_test_tmp("plot_a.jsonl"));
    snprintf(b, sizeof b, "%s", sc_test_tmp("plot_b.jsonl"));
    snprintf(png, sizeof png, "%s", sc_test_tmp("plot_curves.png"));
    write_text(a, "{\"iteration\":10,\"loss\":7,\"accuracy\":0.1,\"lambda\":null,\"lr\":0.01}\n"
                  "{\"iteration\":20,\"loss\":5,\"accuracy\":0.3,\"lambda\":null,\"lr\":0.001}\n");
    write_text(b, "{\"iteration\":10,\"loss\":9,\"accuracy\":0,\"lambda\":500,\"lr\":0.01}\n"
                  "{\"iteration\":20,\"loss\":8,\"accuracy\":0.1,\"lambda\":5,\"lr\":0.001}\n");
    remove(png);
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --curves '%s' --label softmax --curves '%s' "
             "--out '%s' --width 900 --height 700 --title 'two runs'", a, b, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 0);
    expect_png(png, 900, 700);

    write_text(b, "{\"iteration\":10,\"loss\":9}\n{\"iteration\":20,\"loss\":}\n");
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --curves '%s' --out '%s'", b, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
    assert_non_null(strstr(errbuf, "plot_b.jsonl:2:"));
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --curves /no/such.jsonl --out '%s'", png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --curves '%s' --label x --label y --out '%s'",
             a, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
}

static void test_sphere_plot_features(void **state)
{
    (void)state;
    char feat[1024], list[1024], png[1024], cmd[8192];
    snprintf(feat, sizeof feat, "%s", sc_test_tmp("plot_features.txt"));
    snprintf(list, sizeof list, "%s", sc_test_tmp("plot_features_list.txt"));
    snprintf(png, sizeof png, "%s", sc_test_tmp("plot_features.png"));
    FILE *f = fopen(feat, "w");
    assert_non_null(f);
    for (int i = 0; i < 300; i++) { /* ten classes at ten angles, radii 1..30 */
        double t = 2 * 3.14159265358979 * (i % 10) / 10, r = 1 + i / 10;
        fprintf(f, "%d/img_%03d.pgm %.6f %.6f\n", i % 10, i, r * cos(t), r * sin(t));
    }
    fclose(f);
    remove(png);
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --features '%s' --out '%s'", feat, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 0);
    expect_png(png, 1600, 820);

    f = fopen(list, "w"); /* labels from a list: two classes */
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fprintf(f, "%d/img_%03d.pgm %d\n", i % 10, i, i % 2);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --features '%s' --list '%s' --out '%s' "
             "--width 1000 --height 500 --max-points 100", feat, list, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(out, "(1000x500)"));
    expect_png(png, 1000, 500);

    write_text(feat, "a/x.jpg 1 2 3\n");
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --features '%s' --out '%s'", feat, png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
    assert_non_null(strstr(errbuf, "2-D"));
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-plot' --out '%s'", png);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
}

static void test_sphere_mnist(void **state)
{
    (void)state;
    char dir[1024], list[1024], cmd[8192], first[1200];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("mnist_digits"));
    snprintf(list, sizeof list, "%s", sc_test_tmp("mnist_digits.txt"));
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-mnist' --images '%s' --labels '%s' --out '%s' "
             "--list '%s' --prefix t --limit 20",
             sc_test_shared("data/mnist/t10k-images-idx3-ubyte.gz"),
             sc_test_shared("data/mnist/t10k-labels-idx1-ubyte.gz"), dir, list);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 0);
    FILE *f = fopen(list, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char rel[200];
        int label;
        assert_int_equal(sscanf(line, "%199s %d", rel, &label), 2);
        assert_int_equal(rel[0] - '0', label); /* the folder is the digit */
        if (n++ == 0)
            snprintf(first, sizeof first, "%s/%s", dir, rel);
    }
    fclose(f);
    assert_int_equal(n, 20);
    assert_non_null(strstr(first, "7/t_00000.pgm")); /* the first test digit is a 7 */
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(first, 0, &img, &err));
    assert_int_equal(img.w, 28), assert_int_equal(img.h, 28), assert_int_equal(img.c, 1);
    sc_image_free(&img);

    /* images and labels of different files: refused */
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-mnist' --images '%s' --labels '%s' --out '%s' "
             "--list '%s'", sc_test_shared("data/mnist/t10k-labels-idx1-ubyte.gz"),
             sc_test_shared("data/mnist/t10k-labels-idx1-ubyte.gz"), dir, list);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, errbuf, sizeof errbuf), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_step),
        cmocka_unit_test(test_linear_axis),
        cmocka_unit_test(test_log_axis),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_font_and_text),
        cmocka_unit_test(test_lines_discs_clip),
        cmocka_unit_test(test_chart_png),
        cmocka_unit_test(test_train_log),
        cmocka_unit_test(test_idx),
        cmocka_unit_test(test_sphere_plot_curves),
        cmocka_unit_test(test_sphere_plot_features),
        cmocka_unit_test(test_sphere_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
