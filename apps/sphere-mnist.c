/* sphere-mnist: turns MNIST's idx files (gzipped as distributed) into
 * images and a Caffe list, so that sphere-train's ImageData layer and
 * sphere-extract read digits the way they read faces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "idx.h"
#include "sc_files.h"

typedef struct mnist_args {
    const char *images, *labels, *out, *list, *prefix;
    int limit;
} mnist_args;

static const char k_description[] =
    "Reads an idx image file (N x rows x cols unsigned bytes) and its idx label file (N\n"
    "bytes), gzipped or not, and writes every digit as a binary greymap (PGM, lossless)\n"
    "DIR/<label>/<prefix>_NNNNN.pgm and one Caffe list line \"<label>/<prefix>_NNNNN.pgm\n"
    "<label>\" per image to --list, in file order (root_folder: DIR).\n";

static int parse_args(int argc, char **argv, mnist_args *a)
{
    *a = (mnist_args){.prefix = "digit", .limit = 0};
    const sc_opt opts[] = {
        {SC_STR("--images", &a->images, "FILE", "idx images (e.g. t10k-images-idx3-ubyte.gz)"),
         .required = 1},
        {SC_STR("--labels", &a->labels, "FILE", "idx labels (e.g. t10k-labels-idx1-ubyte.gz)"),
         .required = 1},
        {SC_STR("--out", &a->out, "DIR", "image folder"), .required = 1},
        {SC_STR("--list", &a->list, "FILE", "Caffe list to write"), .required = 1},
        {SC_STR("--prefix", &a->prefix, "NAME", "file name prefix")},
        {SC_INT("--limit", &a->limit, "N", "only the first N digits (0: all)", 0, 1 << 28)},
    };
    const sc_cli cli = {.prog = "sphere-mnist",
                        .synopsis = "--images F --labels F --out DIR --list FILE [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* The two files must describe the same digits: N x H x W bytes against N labels 0..9. */
static int check_pair(const mnist_args *a, const sc_idx *im, const sc_idx *lb)
{
    if (im->ndim != 3 || lb->ndim != 1 || im->dims[0] != lb->dims[0]) {
        fprintf(stderr, "sphere-mnist: %s (%d dimensions, %zu items) and %s (%d dimensions, "
                "%zu items) are not an N x H x W image file and its N labels\n",
                a->images, im->ndim, im->dims[0], a->labels, lb->ndim, lb->dims[0]);
        return 0;
    }
    for (size_t i = 0; i < lb->count; i++)
        if (lb->data[i] > 9) {
            fprintf(stderr, "sphere-mnist: %s: label %d of item %zu is not a digit\n", a->labels,
                    lb->data[i], i);
            return 0;
        }
    return 1;
}

/* One digit as "P5" greymap bytes through a temp file and a rename (no
 * fsync: the set can be written again). */
static sc_status write_pgm(const char *path, const unsigned char *px, size_t h, size_t w,
                           sc_error *err)
{
    char header[64];
    int hn = snprintf(header, sizeof header, "P5\n%zu %zu\n255\n", w, h);
    unsigned char *buf = malloc((size_t)hn + h * w);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "out of memory");
    memcpy(buf, header, (size_t)hn);
    memcpy(buf + hn, px, h * w);
    sc_status st = sc_mkdirs_for_file(path, err);
    if (st == SC_OK)
        st = sc_write_file_replace(path, buf, (size_t)hn + h * w, err);
    free(buf);
    return st;
}

static int write_all(const mnist_args *a, const sc_idx *im, const sc_idx *lb, size_t n)
{
    sc_error err = {0};
    if (sc_mkdirs_for_file(a->list, &err) != SC_OK) {
        fprintf(stderr, "sphere-mnist: %s\n", err.msg);
        return SC_EXIT_FAILED;
    }
    FILE *list = fopen(a->list, "w");
    if (!list) {
        fprintf(stderr, "sphere-mnist: cannot create %s\n", a->list);
        return SC_EXIT_FAILED;
    }
    size_t h = im->dims[1], w = im->dims[2];
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        char rel[512], path[4608];
        snprintf(rel, sizeof rel, "%d/%s_%05zu.pgm", lb->data[i], a->prefix, i);
        snprintf(path, sizeof path, "%s/%s", a->out, rel);
        ok = write_pgm(path, im->data + i * h * w, h, w, &err) == SC_OK &&
             fprintf(list, "%s %d\n", rel, lb->data[i]) > 0;
    }
    if (fclose(list) != 0 || !ok) {
        fprintf(stderr, "sphere-mnist: %s\n", err.msg[0] ? err.msg : "write failed");
        return SC_EXIT_FAILED;
    }
    printf("sphere-mnist: %zu digits of %zux%zu -> %s, list %s\n", n, w, h, a->out, a->list);
    return SC_EXIT_OK;
}

int main(int argc, char **argv)
{
    mnist_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    sc_idx im = {0}, lb = {0};
    sc_error err = {0};
    sc_status st = sc_idx_load(a.images, &im, &err);
    if (st == SC_OK)
        st = sc_idx_load(a.labels, &lb, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-mnist: %s\n", err.msg);
        rc = sc_cli_input_status(st);
    } else if (!check_pair(&a, &im, &lb)) {
        rc = SC_EXIT_USAGE;
    } else {
        size_t n = a.limit > 0 && (size_t)a.limit < lb.count ? (size_t)a.limit : lb.count;
        rc = write_all(&a, &im, &lb, n);
    }
    sc_idx_free(&im);
    sc_idx_free(&lb);
    return rc;
}
