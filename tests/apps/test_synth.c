/* The synthetic identity generator: folder layout and counts, train.txt
 * labels, holdout identities kept out of training, pairs.txt (parsed with
 * the LFW reader, distinct pairs, identity-disjoint folds), byte-identical
 * output for a seed, different output for another seed, and clear errors. */
#include "sc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_common.h"
#include "synth.h"
#include "verification.h"

static sc_synth_config small_config(uint64_t seed)
{
    sc_synth_config c;
    sc_synth_config_default(&c);
    c.identities = 6;
    c.per_identity = 4;
    c.holdout = 8;
    c.folds = 2;
    c.seed = seed;
    return c;
}

static void generate(const sc_synth_config *c, const char *dir, sc_synth_summary *sum)
{
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_synth_generate(c, dir, NULL, NULL, sum, &err));
}

static void count_progress(void *user, size_t done, size_t total)
{
    size_t *calls = user;
    assert_int_equal(done, ++*calls);
    assert_int_equal(total, 56);
}

static void check_image(const char *path, const sc_synth_config *c)
{
    sc_image img;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(path, 0, &img, &err));
    assert_int_equal(img.w, c->width);
    assert_int_equal(img.h, c->height);
    assert_int_equal(img.c, 3);
    sc_image_free(&img);
}

static void test_layout_and_lists(void **state)
{
    (void)state;
    sc_synth_config c = small_config(1);
    char dir[4096], path[4096];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("synth/a"));
    sc_synth_summary sum;
    size_t calls = 0;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_synth_generate(&c, dir, count_progress, &calls, &sum, &err));
    assert_int_equal(calls, 56);
    assert_int_equal(sum.train_images, 24);
    assert_int_equal(sum.holdout_images, 32);
    /* 4 people per fold, 4 images: 4 * 6 matched pairs is the limit */
    assert_int_equal(sum.folds, 2);
    assert_int_equal(sum.pairs_per_fold, 24);

    sc_image_list l;
    snprintf(path, sizeof path, "%s/train.txt", dir);
    sc_assert_ok_err(&err, sc_image_list_load(path, &l, &err));
    assert_int_equal(l.count, 24);
    for (size_t i = 0; i < l.count; i++) {
        char want[64];
        snprintf(want, sizeof want, "train/id%04d/id%04d_%04d.png", (int)i / 4, (int)i / 4,
                 (int)i % 4 + 1);
        assert_string_equal(l.items[i].path, want);
        assert_int_equal(l.items[i].label, (int)i / 4);
        sc_assert_ok_err(&err, sc_path_join(dir, l.items[i].path, path, sizeof path, &err));
        check_image(path, &c);
    }
    sc_image_list_free(&l);

    /* the holdout people have their own numbers and folders */
    for (int id = 6; id < 14; id++)
        for (int n = 1; n <= 4; n++) {
            snprintf(path, sizeof path, "%s/holdout/id%04d/id%04d_%04d.png", dir, id, id, n);
            check_image(path, &c);
            snprintf(path, sizeof path, "%s/train/id%04d", dir, id);
            assert_int_not_equal(access(path, F_OK), 0);
        }
}

/* Pairs: the LFW reader accepts them, every image exists, pairs are
 * distinct, matched pairs name one person, and no person is in two folds. */
static void test_pairs_file(void **state)
{
    (void)state;
    sc_synth_config c = small_config(1);
    c.holdout = 9; /* uneven groups: 4 and 5 people */
    char dir[4096], root[4096], path[4096];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("synth/pairs"));
    sc_synth_summary sum;
    generate(&c, dir, &sum);
    sc_lfw_pairs p;
    sc_error err = {0};
    snprintf(path, sizeof path, "%s/pairs.txt", dir);
    sc_assert_ok_err(&err, sc_lfw_pairs_load(path, &p, &err));
    assert_int_equal(p.folds, 2);
    assert_int_equal(p.per_fold, 24);
    assert_int_equal(p.count, 96);
    snprintf(root, sizeof root, "%s/holdout", dir);
    int fold_of[20];
    memset(fold_of, -1, sizeof fold_of);
    for (size_t i = 0; i < p.count; i++) {
        const sc_lfw_pair *q = &p.items[i];
        int a = atoi(q->name1 + 2), b = atoi(q->name2 + 2);
        assert_true(a >= 6 && a < 15 && b >= 6 && b < 15);
        assert_true(q->same ? a == b && q->n1 < q->n2 : a < b);
        for (int k = 0; k < 2; k++) {
            int id = k ? b : a;
            assert_true(fold_of[id] == -1 || fold_of[id] == q->fold);
            fold_of[id] = q->fold;
        }
        sc_assert_ok_err(&err, sc_lfw_image_path(root, q->name1, q->n1, "png", path, sizeof path,
                                                 &err));
        assert_int_equal(access(path, R_OK), 0);
        sc_assert_ok_err(&err, sc_lfw_image_path(root, q->name2, q->n2, "png", path, sizeof path,
                                                 &err));
        assert_int_equal(access(path, R_OK), 0);
        for (size_t j = 0; j < i; j++) {
            const sc_lfw_pair *o = &p.items[j];
            assert_false(!strcmp(o->name1, q->name1) && !strcmp(o->name2, q->name2) &&
                         o->n1 == q->n1 && o->n2 == q->n2);
        }
    }
    sc_lfw_pairs_free(&p);
}

static int files_equal(const char *a, const char *b)
{
    unsigned char *da, *db;
    size_t na, nb;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_read_file(a, 1 << 26, &da, &na, &err));
    sc_assert_ok_err(&err, sc_read_file(b, 1 << 26, &db, &nb, &err));
    int eq = na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return eq;
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    sc_synth_config c = small_config(7);
    char a[4096], b[4096], d[4096], pa[4096], pb[4096];
    snprintf(a, sizeof a, "%s", sc_test_tmp("synth/seed7a"));
    snprintf(b, sizeof b, "%s", sc_test_tmp("synth/seed7b"));
    snprintf(d, sizeof d, "%s", sc_test_tmp("synth/seed8"));
    sc_synth_summary sum;
    generate(&c, a, &sum);
    generate(&c, b, &sum);
    c.seed = 8;
    generate(&c, d, &sum);
    const char *files[] = {"train.txt", "pairs.txt", "train/id0000/id0000_0001.png",
                           "train/id0005/id0005_0004.png", "holdout/id0013/id0013_0002.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        assert_true(files_equal(pa, pb));
    }
    int differ = 0;
    for (int id = 0; id < 6; id++)
        for (int n = 1; n <= 4; n++) {
            snprintf(pa, sizeof pa, "%s/train/id%04d/id%04d_%04d.png", a, id, id, n);
            snprintf(pb, sizeof pb, "%s/train/id%04d/id%04d_%04d.png", b, id, id, n);
            assert_true(files_equal(pa, pb));
            snprintf(pb, sizeof pb, "%s/train/id%04d/id%04d_%04d.png", d, id, id, n);
            differ += !files_equal(pa, pb);
        }
    assert_int_equal(differ, 24);
    /* train.txt only names files, so it is the same for any seed */
    snprintf(pa, sizeof pa, "%s/train.txt", a);
    snprintf(pb, sizeof pb, "%s/train.txt", d);
    assert_true(files_equal(pa, pb));
}

/* An image depends on (seed, identity, image) only: rendering it alone, or
 * with other settings for the set, gives the same pixels. */
static void test_render_is_independent(void **state)
{
    (void)state;
    sc_synth_config c = small_config(3), other = c;
    other.identities = 500;
    other.per_identity = 2;
    other.holdout = 0;
    sc_image x, y, z;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_synth_render(&c, 5, 1, &x, &err));
    sc_assert_ok_err(&err, sc_synth_render(&other, 5, 1, &y, &err));
    sc_assert_ok_err(&err, sc_synth_render(&c, 5, 2, &z, &err));
    size_t n = (size_t)x.w * x.h * 3;
    assert_memory_equal(x.px, y.px, n);
    assert_memory_not_equal(x.px, z.px, n);
    sc_image_free(&x);
    sc_image_free(&y);
    sc_image_free(&z);
    /* other sizes render too */
    c.width = 96;
    c.height = 112;
    sc_assert_ok_err(&err, sc_synth_render(&c, 0, 0, &x, &err));
    assert_true(x.w == 96 && x.h == 112);
    sc_image_free(&x);
}

static void expect_bad_config(sc_synth_config c, const char *fragment)
{
    sc_error err = {0};
    sc_status st = sc_synth_check(&c, &err);
    if (st != SC_ERR_ARG || !strstr(err.msg, fragment))
        fail_msg("got %s '%s', wanted SC_ERR_ARG with '%s'", sc_status_name(st), err.msg,
                 fragment);
}

static void test_errors(void **state)
{
    (void)state;
    sc_synth_config c = small_config(1);
    sc_synth_config bad = c;
    bad.holdout = 3;
    expect_bad_config(bad, "at least 2 identities per fold");
    bad = c;
    bad.pairs_per_fold = 25;
    expect_bad_config(bad, "at most 24 distinct pairs");
    bad = c;
    bad.per_identity = 1;
    expect_bad_config(bad, "at least 2 images");
    bad = c;
    bad.width = 4;
    expect_bad_config(bad, "image size");
    bad = c;
    bad.identities = bad.holdout = 0;
    expect_bad_config(bad, "no identities");
    bad = c;
    bad.folds = 1;
    expect_bad_config(bad, "folds 1");

    /* without holdout there is no pairs.txt and no pair constraint */
    bad = c;
    bad.holdout = 0;
    bad.per_identity = 1;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_synth_check(&bad, &err));
    assert_int_equal(sc_synth_pairs_per_fold(&bad), 0);
    /* and a pairs.txt from an earlier run in the same folder goes away */
    char out[4096], pairs[4096];
    snprintf(out, sizeof out, "%s", sc_test_tmp("synth/nohold"));
    snprintf(pairs, sizeof pairs, "%s/pairs.txt", out);
    sc_synth_summary sum;
    generate(&c, out, &sum);
    assert_int_equal(access(pairs, F_OK), 0);
    generate(&bad, out, &sum);
    assert_int_not_equal(access(pairs, F_OK), 0);
    assert_true(sum.train_images == 6 && sum.holdout_images == 0 && sum.folds == 0);

    /* a folder that cannot be created: its parent is a regular file */
    char file[4096], dir[4096];
    snprintf(file, sizeof file, "%s", sc_test_tmp("synth_not_a_dir"));
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/out", file);
    assert_int_equal(sc_synth_generate(&c, dir, NULL, NULL, &sum, &err), SC_ERR_IO);
    assert_non_null(strstr(err.msg, file));
    assert_non_null(strstr(err.msg, "not a folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_lists),
        cmocka_unit_test(test_pairs_file),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_render_is_independent),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
