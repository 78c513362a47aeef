/* sphere-identify with MobileFaceNet on aligned LFW crops: a gallery of 5
 * people (3 crops each), probes of 2 other crops of each (named right) and
 * of 3 people not in the gallery (unknown at the default threshold). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc_test.h"

#define ALIGNED "data/lfw/reference-aligned-112x96"
#define MFN "models/mobilefacenet/"

static const char *k_known[] = {"Tony_Blair", "Silvio_Berlusconi", "Jean_Chretien", "Wen_Jiabao",
                                "Hans_Blix"};
static const char *k_unknown[] = {"David_Beckham", "Tiger_Woods", "Pete_Sampras"};

/* The sorted crop names of a person (up to 64). */
static int crops_of(const char *person, char names[64][256])
{
    char rel[512], cmd[4096];
    snprintf(rel, sizeof rel, ALIGNED "/%s", person);
    snprintf(cmd, sizeof cmd, "LC_ALL=C ls '%s'", sc_test_shared(rel)); /* sorted */
    static char out[65536], err[1024];
    assert_int_equal(sc_test_run(cmd, out, sizeof out, err, sizeof err), 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line && n < 64; line = strtok(NULL, "\n"))
        snprintf(names[n++], 256, "%s", line);
    return n;
}

static void link_crop(const char *person, const char *file, const char *dir)
{
    char rel[1024], dst[4096];
    snprintf(rel, sizeof rel, ALIGNED "/%s/%s", person, file);
    snprintf(dst, sizeof dst, "%s/%s", dir, file);
    unlink(dst);
    assert_int_equal(symlink(sc_test_shared(rel), dst), 0);
}

static void test_gallery_and_unknowns(void **state)
{
    (void)state;
    char root[4096], gallery[4200], probe[4200], cmd[16384];
    snprintf(root, sizeof root, "%s", sc_test_tmp("identify"));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    snprintf(gallery, sizeof gallery, "%s/gallery", root);
    snprintf(probe, sizeof probe, "%s/probe", root);
    mkdir(root, 0755);
    mkdir(gallery, 0755);
    mkdir(probe, 0755);
    static char names[64][256];
    for (int p = 0; p < 5; p++) {
        int n = crops_of(k_known[p], names);
        assert_true(n >= 5);
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/%s", gallery, k_known[p]);
        mkdir(dir, 0755);
        for (int i = 0; i < 3; i++)
            link_crop(k_known[p], names[i], dir);
        for (int i = 3; i < 5; i++)
            link_crop(k_known[p], names[i], probe);
    }
    for (int p = 0; p < 3; p++) {
        crops_of(k_unknown[p], names);
        for (int i = 0; i < 2; i++)
            link_crop(k_unknown[p], names[i], probe);
    }
    char net[4096], weights[4096];
    snprintf(net, sizeof net, "%s", sc_test_shared(MFN "mobilefacenet_112x96_deploy.prototxt"));
    snprintf(weights, sizeof weights, "%s", sc_test_shared(MFN "mobilefacenet_112x96.caffemodel"));
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-identify' --device %s --net '%s' --weights '%s' --gallery '%s' "
             "--probe '%s' --rgb",
             sc_test_device_selector(), net, weights, gallery, probe);
    static char out[65536], err[65536];
    int rc = sc_test_run(cmd, out, sizeof out, err, sizeof err);
    printf("%s%s", out, err);
    assert_int_equal(rc, 0);
    int lines = 0, right = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char path[4096], who[256];
        double score;
        assert_int_equal(sscanf(line, "%4095s %255s %lf", path, who, &score), 3);
        const char *file = strrchr(path, '/') + 1;
        int known = 0;
        for (int p = 0; p < 5; p++)
            if (!strncmp(file, k_known[p], strlen(k_known[p])))
                known = 1, right += !strcmp(who, k_known[p]);
        if (!known)
            right += !strcmp(who, "unknown");
        lines++;
    }
    assert_int_equal(lines, 16);
    assert_int_equal(right, 16);
    assert_non_null(strstr(err, "6 unknown"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gallery_and_unknowns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
