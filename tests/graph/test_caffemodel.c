/* caffemodel reader/writer: the real models in ../shared, hand-built V1/V2
 * wire-format inputs, corrupt inputs (truncation, huge lengths, bad shapes),
 * the atomic writer and the fuzzer's regression corpus. */
#include "sc_test.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caffemodel.h"

/* ------------------------------------------------------------ helpers */

static sc_caffemodel *load(const char *rel)
{
    sc_error err = {0};
    sc_caffemodel *m = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_read_file(sc_test_shared(rel), &m, &err));
    assert_non_null(m);
    return m;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static const sc_cm_blob *blob_of(const sc_caffemodel *m, const char *layer, size_t i)
{
    const sc_cm_layer *l = sc_caffemodel_find(m, layer);
    if (!l)
        fail_msg("layer %s not found", layer);
    if (i >= l->n_blobs)
        fail_msg("layer %s has %zu blobs, wanted blob %zu", layer, l->n_blobs, i);
    return &l->blobs[i];
}

static void assert_dims(const sc_cm_blob *b, int ndim, const long long *dims)
{
    assert_int_equal(b->ndim, ndim);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        assert_int_equal(b->dims[i], dims[i]);
        count *= (size_t)dims[i];
    }
    assert_int_equal(b->count, count);
}
#define DIMS(...) (sizeof((long long[]){__VA_ARGS__}) / sizeof(long long)), ((long long[]){__VA_ARGS__})

static size_t total_floats(const sc_caffemodel *m, size_t *n_blobs)
{
    size_t t = 0, nb = 0;
    for (size_t i = 0; i < m->n_layers; i++)
        for (size_t j = 0; j < m->layers[i].n_blobs; j++) {
            t += m->layers[i].blobs[j].count;
            nb++;
        }
    if (n_blobs)
        *n_blobs = nb;
    return t;
}

/* Bit-for-bit equality of everything the format carries. */
static void assert_models_equal(const sc_caffemodel *a, const sc_caffemodel *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->n_layers, b->n_layers);
    for (size_t i = 0; i < a->n_layers; i++) {
        const sc_cm_layer *la = &a->layers[i], *lb = &b->layers[i];
        assert_string_equal(la->name, lb->name);
        assert_string_equal(la->type, lb->type);
        assert_int_equal(la->n_blobs, lb->n_blobs);
        for (size_t j = 0; j < la->n_blobs; j++) {
            const sc_cm_blob *x = &la->blobs[j], *y = &lb->blobs[j];
            assert_int_equal(x->ndim, y->ndim);
            assert_memory_equal(x->dims, y->dims, (size_t)x->ndim * sizeof x->dims[0]);
            assert_int_equal(x->count, y->count);
            if (x->count)
                assert_memory_equal(x->data, y->data, x->count * sizeof(float));
        }
    }
}

/* Reads bytes that must be rejected; returns the status, message in err. */
static sc_status read_bad(const void *data, size_t size, sc_error *err)
{
    sc_caffemodel *m = (sc_caffemodel *)0x1;
    sc_status st = sc_caffemodel_read_memory(data, size, "bad.caffemodel", &m, err);
    if (st == SC_OK) {
        sc_caffemodel_free(m);
        fail_msg("malformed input was accepted");
    }
    assert_null(m);
    return st;
}

static void assert_msg_has(const sc_error *err, const char *needle)
{
    if (!strstr(err->msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, needle);
}

/* --------------------------------------------- wire-format builder */

typedef struct wbuf {
    unsigned char b[4096];
    size_t n;
} wbuf;

static void w_bytes(wbuf *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_varint(wbuf *w, unsigned long long v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        w_bytes(w, &c, 1);
    } while (v);
}

static void w_tag(wbuf *w, unsigned field, unsigned wt) { w_varint(w, (unsigned long long)field << 3 | wt); }

static void w_len(wbuf *w, unsigned field, const void *p, size_t n)
{
    w_tag(w, field, 2);
    w_varint(w, n);
    w_bytes(w, p, n);
}

static void w_sub(wbuf *w, unsigned field, const wbuf *sub) { w_len(w, field, sub->b, sub->n); }
static void w_str(wbuf *w, unsigned field, const char *s) { w_len(w, field, s, strlen(s)); }

static void w_u32le(wbuf *w, uint32_t u)
{
    unsigned char c[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    w_bytes(w, c, 4);
}

static void w_f32(wbuf *w, float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    w_u32le(w, u);
}

static void w_f64(wbuf *w, double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    w_u32le(w, (uint32_t)u);
    w_u32le(w, (uint32_t)(u >> 32));
}

/* A V2 blob {data packed, shape {dim packed}}. */
static void w_blob(wbuf *w, int ndim, const long long *dims, const float *x, size_t n)
{
    wbuf blob = {0}, shape = {0}, packed = {0};
    for (int i = 0; i < ndim; i++)
        w_varint(&packed, (unsigned long long)dims[i]);
    w_sub(&shape, 1, &packed);
    wbuf data = {0};
    for (size_t i = 0; i < n; i++)
        w_f32(&data, x[i]);
    w_sub(&blob, 5, &data);
    w_sub(&blob, 7, &shape);
    w_sub(w, 7, &blob);
}

/* ------------------------------------------------------ real models */

static void test_mobilefacenet(void **state)
{
    (void)state;
    sc_caffemodel *m = load("models/mobilefacenet/mobilefacenet_112x96.caffemodel");
    assert_string_equal(m->name, "MobileFaceNet_112x96");
    assert_int_equal(m->format_version, 2);
    assert_int_equal(m->n_layers, 196);
    size_t n_blobs = 0, bn_floats = 0;
    int conv = 0, bn = 0, scale = 0, prelu = 0, eltwise = 0, input = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        const sc_cm_layer *l = &m->layers[i];
        const char *t = l->type;
        conv += !strcmp(t, "Convolution");
        scale += !strcmp(t, "Scale");
        prelu += !strcmp(t, "PReLU");
        eltwise += !strcmp(t, "Eltwise");
        input += !strcmp(t, "Input");
        if (!strcmp(t, "BatchNorm")) {
            bn++;
            /* [mean (C), variance (C), scale_factor (1) = 1.0] */
            assert_int_equal(l->n_blobs, 3);
            assert_int_equal(l->blobs[0].count, l->blobs[1].count);
            assert_dims(&l->blobs[2], DIMS(1));
            assert_true(l->blobs[2].data[0] == 1.0f);
            for (size_t j = 0; j < 3; j++)
                bn_floats += l->blobs[j].count;
        }
        if (!strcmp(t, "Convolution"))
            assert_int_equal(l->n_blobs, 1); /* bias_term: false everywhere */
        if (!strcmp(t, "Scale"))
            assert_int_equal(l->n_blobs, 2);
    }
    assert_int_equal(conv, 50);
    assert_int_equal(bn, 50);
    assert_int_equal(scale, 50);
    assert_int_equal(prelu, 33);
    assert_int_equal(eltwise, 12);
    assert_int_equal(input, 1);
    size_t floats = total_floats(m, &n_blobs);
    assert_int_equal(floats, 1019186);
    assert_int_equal(floats - bn_floats, 999552); /* learned parameters */
    assert_int_equal(n_blobs, 333);
    assert_dims(blob_of(m, "conv1", 0), DIMS(64, 3, 3, 3));
    assert_dims(blob_of(m, "dw_conv1", 0), DIMS(64, 1, 3, 3));
    assert_dims(blob_of(m, "gdc", 0), DIMS(512, 1, 7, 6));
    assert_dims(blob_of(m, "fc5/conv", 0), DIMS(128, 512, 1, 1));
    assert_dims(blob_of(m, "fc5", 1), DIMS(128));
    assert_int_equal(sc_caffemodel_find(m, "data")->n_blobs, 0);
    assert_null(sc_caffemodel_find(m, "no_such_layer"));
    sc_caffemodel_free(m);
}

static void test_mtcnn(void **state)
{
    (void)state;
    sc_caffemodel *m = load("models/mtcnn/det1.caffemodel");
    assert_string_equal(m->name, "12Net");
    assert_dims(blob_of(m, "conv1", 0), DIMS(10, 3, 3, 3));
    assert_dims(blob_of(m, "conv1", 1), DIMS(10));
    assert_dims(blob_of(m, "PReLU1", 0), DIMS(10));
    assert_dims(blob_of(m, "conv3", 0), DIMS(32, 16, 3, 3));
    assert_dims(blob_of(m, "conv4-1", 0), DIMS(2, 32, 1, 1));
    assert_dims(blob_of(m, "conv4-2", 0), DIMS(4, 32, 1, 1));
    assert_string_equal(sc_caffemodel_find(m, "PReLU1")->type, "PReLU");
    sc_caffemodel_free(m);

    m = load("models/mtcnn/det2.caffemodel");
    assert_dims(blob_of(m, "conv1", 0), DIMS(28, 3, 3, 3));
    assert_dims(blob_of(m, "conv3", 0), DIMS(64, 48, 2, 2));
    assert_dims(blob_of(m, "conv4", 0), DIMS(128, 576));
    assert_string_equal(sc_caffemodel_find(m, "conv4")->type, "InnerProduct");
    assert_dims(blob_of(m, "conv5-3", 0), DIMS(10, 128));
    sc_caffemodel_free(m);

    m = load("models/mtcnn/det3.caffemodel");
    assert_dims(blob_of(m, "conv1", 0), DIMS(32, 3, 3, 3));
    assert_dims(blob_of(m, "conv4", 0), DIMS(128, 64, 2, 2));
    assert_dims(blob_of(m, "conv5", 0), DIMS(256, 1152));
    assert_dims(blob_of(m, "conv6-3", 0), DIMS(10, 256));
    assert_dims(blob_of(m, "prelu5", 0), DIMS(256));
    sc_caffemodel_free(m);
}

/* Minimal gtext reader (format in ../shared/golden/README.md): calls fn for
 * every f32 tensor record. */
typedef void (*tensor_fn)(const char *name, int ndim, const long long *dims, const float *v,
                          size_t n, void *ctx);

static void gtext_tensors(const char *path, tensor_fn fn, void *ctx)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char tok[256], name[256], dtype[16];
    while (fscanf(f, "%255s", tok) == 1) {
        if (tok[0] == '#') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
        } else if (!strcmp(tok, "scalar")) {
            assert_int_equal(fscanf(f, "%255s %15s %255s", name, dtype, tok), 3);
        } else if (!strcmp(tok, "tensor")) {
            int ndim;
            long long dims[8];
            size_t n = 1;
            assert_int_equal(fscanf(f, "%255s %15s %d", name, dtype, &ndim), 3);
            assert_true(ndim >= 0 && ndim <= 8);
            for (int i = 0; i < ndim; i++) {
                assert_int_equal(fscanf(f, "%lld", &dims[i]), 1);
                n *= (size_t)dims[i];
            }
            float *v = malloc(n * sizeof *v + 1);
            assert_non_null(v);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(fscanf(f, "%255s", tok), 1);
                v[i] = strtof(tok, NULL);
            }
            if (!strcmp(dtype, "f32"))
                fn(name, ndim, dims, v, n, ctx);
            free(v);
        } else {
            fail_msg("%s: unexpected token %s", path, tok);
        }
    }
    fclose(f);
}

typedef struct tiny_ctx {
    const sc_caffemodel *m;
    size_t tensors, floats;
} tiny_ctx;

static void check_tiny_tensor(const char *name, int ndim, const long long *dims, const float *v,
                              size_t n, void *p)
{
    tiny_ctx *c = p;
    char layer[256];
    const char *dot = strrchr(name, '.');
    assert_non_null(dot);
    snprintf(layer, sizeof layer, "%.*s", (int)(dot - name), name);
    const sc_cm_blob *b = blob_of(c->m, layer, (size_t)atoi(dot + 1));
    assert_dims(b, ndim, dims);
    assert_int_equal(b->count, n);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&b->data[i], &v[i], sizeof(float)) != 0)
            fail_msg("%s[%zu]: caffemodel %.9g, text %.9g", name, i, b->data[i], v[i]);
    c->tensors++;
    c->floats += n;
}

static void test_train_tiny_matches_text(void **state)
{
    (void)state;
    sc_caffemodel *m = load("golden/train_tiny/init.caffemodel");
    assert_int_equal(m->n_layers, 14);
    tiny_ctx c = {m, 0, 0};
    gtext_tensors(sc_test_shared("golden/train_tiny/init_weights.txt"), check_tiny_tensor, &c);
    size_t n_blobs = 0;
    size_t floats = total_floats(m, &n_blobs);
    assert_int_equal(c.tensors, n_blobs); /* every blob has its text twin */
    assert_int_equal(c.floats, floats);
    assert_string_equal(sc_caffemodel_find(m, "fc6")->type, "MarginInnerProduct");
    sc_caffemodel_free(m);
}

/* ---------------------------------------------------------- writer */

static void test_round_trip_synthetic(void **state)
{
    (void)state;
    float w[2 * 3 * 1 * 2], s[1] = {-0.0f}, odd[3];
    for (size_t i = 0; i < 12; i++)
        w[i] = (float)i * 0.37f - 2.0f;
    w[3] = NAN;
    w[4] = INFINITY;
    w[5] = 1e-45f; /* denormal */
    uint32_t bits = 0x7fc12345u; /* NaN payload must survive */
    memcpy(&odd[0], &bits, 4);
    odd[1] = -FLT_MAX;
    odd[2] = FLT_MIN;
    sc_cm_blob b1[2] = {{.ndim = 4, .dims = {2, 3, 1, 2}, .count = 12, .data = w},
                        {.ndim = 0, .count = 1, .data = s}};
    sc_cm_blob b2[2] = {{.ndim = 2, .dims = {0, 5}, .count = 0, .data = NULL},
                        {.ndim = 1, .dims = {3}, .count = 3, .data = odd}};
    sc_cm_layer layers[3] = {
        {.name = "conv/1", .type = "Convolution", .n_blobs = 2, .blobs = b1},
        {.name = "empty", .type = NULL, .n_blobs = 0, .blobs = NULL},
        {.name = "f\xc3\xa9", .type = "InnerProduct", .n_blobs = 2, .blobs = b2},
    };
    sc_caffemodel model = {.name = "synthetic", .n_layers = 3, .layers = layers};

    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("cm_round_trip.caffemodel"));
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_caffemodel_write_file(path, &model, &err));
    sc_caffemodel *back = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_read_file(path, &back, &err));
    layers[1].type = ""; /* written as "" */
    assert_models_equal(&model, back);
    sc_caffemodel_free(back);

    /* the memory writer produces the same bytes */
    size_t fsize, msize;
    unsigned char *fbytes = slurp(path, &fsize);
    void *mbytes = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_write_memory(&model, &mbytes, &msize, &err));
    assert_int_equal(fsize, msize);
    assert_memory_equal(fbytes, mbytes, fsize);
    free(fbytes);
    free(mbytes);
    unlink(path);
}

/* The exact bytes Caffe's protobuf serializer would give (ascending fields,
 * packed repeated scalars). */
static void test_writer_exact_bytes(void **state)
{
    (void)state;
    float x[2] = {1.0f, -2.0f};
    sc_cm_blob b = {.ndim = 1, .dims = {2}, .count = 2, .data = x};
    sc_cm_layer l = {.name = "a", .type = "T", .n_blobs = 1, .blobs = &b};
    sc_caffemodel m = {.name = "n", .n_layers = 1, .layers = &l};
    static const unsigned char want[] = {
        0x0a, 0x01, 'n',                                     /* name */
        0xa2, 0x06, 0x17,                                    /* layer (100), 23 bytes */
        0x0a, 0x01, 'a', 0x12, 0x01, 'T',                    /* name, type */
        0x3a, 0x0f,                                          /* blobs (7), 15 bytes */
        0x2a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, /* data (5) packed */
        0x3a, 0x03, 0x0a, 0x01, 0x02,                        /* shape (7) { dim (1) packed } */
    };
    void *out = NULL;
    size_t n = 0;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_caffemodel_write_memory(&m, &out, &n, &err));
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, n);
    free(out);
}

static void test_round_trip_real(void **state)
{
    (void)state;
    const char *rels[] = {"golden/train_tiny/init.caffemodel", "models/mtcnn/det3.caffemodel",
                          "models/mobilefacenet/mobilefacenet_112x96.caffemodel"};
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
        sc_caffemodel *m = load(rels[i]), *back = NULL;
        char path[4096];
        snprintf(path, sizeof path, "%s", sc_test_tmp("cm_round_trip_real.caffemodel"));
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_caffemodel_write_file(path, m, &err));
        sc_assert_ok_err(&err, sc_caffemodel_read_file(path, &back, &err));
        assert_models_equal(m, back);
        sc_caffemodel_free(back);
        sc_caffemodel_free(m);
        unlink(path);
    }
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_write_failures(void **state)
{
    (void)state;
    float x[1] = {1};
    sc_cm_blob b = {.ndim = 1, .dims = {1}, .count = 1, .data = x};
    sc_cm_layer l = {.name = "a", .type = "T", .n_blobs = 1, .blobs = &b};
    sc_caffemodel m = {.name = "n", .n_layers = 1, .layers = &l};
    sc_error err = {0};
    char dir[1024], path[4608];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("cm_write_fail"));
    mkdir(dir, 0755);

    /* missing directory */
    snprintf(path, sizeof path, "%s/no/such/dir/w.caffemodel", dir);
    assert_int_equal(sc_caffemodel_write_file(path, &m, &err), SC_ERR_IO);
    assert_msg_has(&err, path);

    /* rename fails (destination is a directory): temp removed, destination kept */
    snprintf(path, sizeof path, "%s/dest.caffemodel", dir);
    mkdir(path, 0755);
    int before = count_entries(dir);
    assert_int_equal(sc_caffemodel_write_file(path, &m, &err), SC_ERR_IO);
    assert_msg_has(&err, path);
    assert_int_equal(count_entries(dir), before);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    rmdir(path);

    /* unwritable directory (root ignores permissions, so only checked as a user) */
    char ro[2048];
    snprintf(ro, sizeof ro, "%s/readonly", dir);
    mkdir(ro, 0755);
    chmod(ro, 0555);
    if (access(ro, W_OK) != 0) {
        snprintf(path, sizeof path, "%s/w.caffemodel", ro);
        assert_int_equal(sc_caffemodel_write_file(path, &m, &err), SC_ERR_IO);
        assert_int_equal(count_entries(ro), 0);
    }
    chmod(ro, 0755);

    /* an inconsistent model is refused before anything is created */
    b.count = 2;
    snprintf(path, sizeof path, "%s/bad.caffemodel", ro);
    assert_int_equal(sc_caffemodel_write_file(path, &m, &err), SC_ERR_ARG);
    assert_int_equal(count_entries(ro), 0);
    b.count = 1;
    b.data = NULL;
    assert_int_equal(sc_caffemodel_write_file(path, &m, &err), SC_ERR_ARG);
    assert_int_equal(count_entries(ro), 0);
    rmdir(ro);

    /* an existing destination is replaced only by a complete file */
    b.data = x;
    snprintf(path, sizeof path, "%s/ok.caffemodel", dir);
    FILE *f = fopen(path, "wb");
    fputs("old", f);
    fclose(f);
    sc_assert_ok_err(&err, sc_caffemodel_write_file(path, &m, &err));
    sc_caffemodel *back = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_read_file(path, &back, &err));
    assert_models_equal(&m, back);
    sc_caffemodel_free(back);
    unlink(path);
    assert_int_equal(count_entries(dir), 0);
    rmdir(dir);
}

/* ------------------------------------------------------ bad inputs */

static void test_missing_file(void **state)
{
    (void)state;
    sc_error err = {0};
    sc_caffemodel *m = (sc_caffemodel *)0x1;
    assert_int_equal(sc_caffemodel_read_file("/nonexistent/dir/w.caffemodel", &m, &err), SC_ERR_IO);
    assert_null(m);
    assert_msg_has(&err, "/nonexistent/dir/w.caffemodel");
    /* a directory is not a weights file */
    assert_int_equal(sc_caffemodel_read_file("/", &m, &err), SC_ERR_IO);
    /* NULL err is allowed */
    assert_int_equal(sc_caffemodel_read_file("/nonexistent", &m, NULL), SC_ERR_IO);
}

/* Offsets where a top-level field ends: cutting there leaves a valid (shorter)
 * message, which no protobuf reader can tell from a complete one. */
static int is_top_boundary(const unsigned char *buf, size_t size, size_t off)
{
    size_t pos = 0;
    while (pos < size) {
        if (pos == off)
            return 1;
        unsigned long long tag = 0, len = 0;
        int sh = 0;
        do tag |= (unsigned long long)(buf[pos] & 0x7f) << sh, sh += 7; while (buf[pos++] & 0x80);
        assert_int_equal(tag & 7, 2);
        sh = 0;
        do len |= (unsigned long long)(buf[pos] & 0x7f) << sh, sh += 7; while (buf[pos++] & 0x80);
        pos += len;
    }
    return pos == off;
}

static void test_truncation(void **state)
{
    (void)state;
    const char *path = sc_test_shared("models/mtcnn/det1.caffemodel");
    size_t size;
    unsigned char *buf = slurp(path, &size);
    for (int k = 1; k <= 20; k++) {
        size_t off = size * (size_t)k / 21;
        while (is_top_boundary(buf, size, off))
            off++;
        sc_error err = {0};
        assert_int_equal(read_bad(buf, off, &err), SC_ERR_FORMAT);
        assert_msg_has(&err, "bad.caffemodel: ");
        assert_msg_has(&err, "byte");
    }
    /* and through the file API, the message names the path */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", sc_test_tmp("cm_truncated.caffemodel"));
    FILE *f = fopen(tmp, "wb");
    assert_int_equal(fwrite(buf, 1, size - 7, f), size - 7);
    fclose(f);
    sc_error err = {0};
    sc_caffemodel *m = NULL;
    assert_int_equal(sc_caffemodel_read_file(tmp, &m, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, tmp);
    assert_msg_has(&err, "truncated length-delimited field 100 at byte");
    unlink(tmp);
    free(buf);
}

/* Replaces the length prefix of the first layer field (after the net name)
 * with one claiming 2 GB. */
static void test_huge_length(void **state)
{
    (void)state;
    size_t size;
    unsigned char *buf = slurp(sc_test_shared("golden/train_tiny/init.caffemodel"), &size);
    assert_int_equal(buf[0], 0x0a);
    size_t p = 2 + buf[1]; /* past the name */
    assert_int_equal(buf[p], 0xa2);
    assert_int_equal(buf[p + 1], 0x06);
    size_t q = p + 2;
    while (buf[q] & 0x80)
        q++;
    q++; /* past the old length */
    unsigned char *bad = malloc(size + 16);
    memcpy(bad, buf, p + 2);
    static const unsigned char two_gb[] = {0x80, 0x80, 0x80, 0x80, 0x08};
    memcpy(bad + p + 2, two_gb, 5);
    memcpy(bad + p + 7, buf + q, size - q);
    size_t bad_size = p + 7 + size - q;
    sc_error err = {0};
    assert_int_equal(read_bad(bad, bad_size, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "field 100");
    assert_msg_has(&err, "needs 2147483648 bytes");

    /* the same inside a blob: a packed data field claiming 2 GB */
    wbuf w = {0}, layer = {0}, blob = {0};
    w_str(&w, 1, "net");
    w_str(&layer, 1, "conv_huge");
    w_tag(&blob, 5, 2);
    w_varint(&blob, 0x80000000ull);
    w_f32(&blob, 1.0f);
    w_sub(&layer, 7, &blob);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "conv_huge");
    assert_msg_has(&err, "needs 2147483648 bytes, 4 left");

    /* and a length of 2^63 */
    w.n = 0;
    w_tag(&w, 100, 2);
    w_varint(&w, 1ull << 63);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    free(bad);
    free(buf);
}

static void test_count_mismatch(void **state)
{
    (void)state;
    float x[5] = {1, 2, 3, 4, 5};
    wbuf w = {0}, layer = {0};
    w_str(&w, 1, "net");
    w_str(&layer, 1, "conv_bad");
    w_str(&layer, 2, "Convolution");
    w_blob(&layer, 1, (long long[]){5}, x, 5);     /* fine */
    w_blob(&layer, 2, (long long[]){2, 3}, x, 5); /* 6 != 5 */
    w_sub(&w, 100, &layer);
    sc_error err = {0};
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "layer 0 'conv_bad'");
    assert_msg_has(&err, "blob 1");
    assert_msg_has(&err, "2x3 holds 6 values but the blob stores 5");

    /* a blob with a shape and no data at all */
    w.n = 0;
    layer.n = 0;
    w_str(&layer, 1, "nodata");
    w_blob(&layer, 1, (long long[]){4}, x, 0);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "nodata");

    /* a shape whose product overflows */
    w.n = 0;
    layer.n = 0;
    w_str(&layer, 1, "huge");
    w_blob(&layer, 4, (long long[]){2147483647, 2147483647, 2147483647, 2147483647}, x, 1);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "too large");

    /* a negative dimension */
    w.n = 0;
    layer.n = 0;
    w_str(&layer, 1, "neg");
    w_blob(&layer, 2, (long long[]){-1, -1}, x, 1);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "invalid dimension");

    /* more axes than supported */
    w.n = 0;
    layer.n = 0;
    w_str(&layer, 1, "deep");
    w_blob(&layer, 9, (long long[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, x, 1);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_UNSUPPORTED);
}

static void test_wire_errors(void **state)
{
    (void)state;
    sc_error err = {0};
    wbuf w = {0};
    /* empty input */
    assert_int_equal(read_bad(w.b, 0, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "empty");
    /* varint of 11 bytes */
    static const unsigned char long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(read_bad(long_varint, sizeof long_varint, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "longer than 10 bytes");
    /* a varint over 64 bits */
    static const unsigned char big_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                               0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(read_bad(big_varint, sizeof big_varint, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "overflows");
    /* truncated varint */
    static const unsigned char cut_varint[] = {0x08, 0xff};
    assert_int_equal(read_bad(cut_varint, sizeof cut_varint, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "truncated varint at byte 1");
    /* groups */
    static const unsigned char group[] = {0x0b, 0x0c};
    assert_int_equal(read_bad(group, sizeof group, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "start-group");
    /* field number 0 */
    static const unsigned char zero_field[] = {0x02, 0x00};
    assert_int_equal(read_bad(zero_field, sizeof zero_field, &err), SC_ERR_FORMAT);
    /* truncated fixed32 / fixed64 */
    static const unsigned char cut_i32[] = {0x0a, 0x00, 0x1d, 0x01, 0x02};
    assert_int_equal(read_bad(cut_i32, sizeof cut_i32, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "truncated 32-bit field 3 at byte 2 (needs 4 bytes, 2 left)");
    static const unsigned char cut_i64[] = {0x19, 0x01};
    assert_int_equal(read_bad(cut_i64, sizeof cut_i64, &err), SC_ERR_FORMAT);
    /* a known field with the wrong wire type: name as a varint */
    static const unsigned char wrong_wt[] = {0x08, 0x05};
    assert_int_equal(read_bad(wrong_wt, sizeof wrong_wt, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "wire type varint, expected length-delimited");
    /* NUL inside a name */
    static const unsigned char nul_name[] = {0x0a, 0x02, 'a', 0x00};
    assert_int_equal(read_bad(nul_name, sizeof nul_name, &err), SC_ERR_FORMAT);
    /* packed floats of a length that is not a multiple of 4 */
    wbuf layer = {0}, blob = {0};
    w_len(&blob, 5, "abcde", 5);
    w_sub(&layer, 7, &blob);
    w_sub(&w, 100, &layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "not a multiple of 4");
    /* a nested length running past its enclosing message */
    w.n = 0;
    layer.n = 0;
    w_tag(&layer, 1, 2);
    w_varint(&layer, 50);
    w_str(&layer, 2, "Convolution");
    w_sub(&w, 100, &layer);
    w_str(&w, 1, "padding so the file itself is long enough....................");
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "truncated length-delimited field 1 at byte");
}

/* Unknown fields of every wire type, at every level, are skipped; repeated
 * packed/unpacked fragments concatenate; the last name wins. */
static void test_unknown_fields_and_encodings(void **state)
{
    (void)state;
    wbuf w = {0}, layer = {0}, blob = {0}, shape = {0}, junk = {0};
    w_tag(&junk, 1000, 0);
    w_varint(&junk, ~0ull); /* 10-byte varint */
    w_tag(&junk, 1001, 1);
    w_f64(&junk, 3.0);
    w_str(&junk, 1002, "whatever");
    w_tag(&junk, 1003, 5);
    w_f32(&junk, 1.0f);

    w_bytes(&w, junk.b, junk.n);
    w_str(&w, 1, "first");
    w_str(&w, 1, "net");
    w_str(&w, 3, "data"); /* NetParameter.input */

    w_bytes(&layer, junk.b, junk.n);
    w_str(&layer, 1, "ip");
    w_str(&layer, 2, "InnerProduct");
    w_str(&layer, 3, "bottom");
    /* shape given as one unpacked dim plus one packed run */
    w_bytes(&shape, junk.b, junk.n);
    w_tag(&shape, 1, 0);
    w_varint(&shape, 2);
    w_len(&shape, 1, "\x01\x03", 2);
    /* data: packed run, then unpacked values */
    wbuf packed = {0};
    for (int i = 0; i < 4; i++)
        w_f32(&packed, (float)i);
    w_sub(&blob, 5, &packed);
    w_tag(&blob, 5, 5);
    w_f32(&blob, 4.0f);
    w_tag(&blob, 5, 5);
    w_f32(&blob, 5.0f);
    w_len(&blob, 6, "diffdiff", 8); /* diff is skipped */
    w_bytes(&blob, junk.b, junk.n);
    w_sub(&blob, 7, &shape);
    w_sub(&layer, 7, &blob);
    w_sub(&w, 100, &layer);

    /* a second layer: double_data (unpacked and packed) and legacy dims */
    wbuf layer2 = {0}, blob2 = {0};
    w_str(&layer2, 1, "legacy");
    w_tag(&blob2, 1, 0);
    w_varint(&blob2, 1);
    w_tag(&blob2, 2, 0);
    w_varint(&blob2, 3);
    w_tag(&blob2, 3, 0);
    w_varint(&blob2, 1);
    w_tag(&blob2, 4, 0);
    w_varint(&blob2, 1);
    w_tag(&blob2, 5, 5);
    w_f32(&blob2, 99.0f); /* ignored: double_data wins, as in Caffe */
    w_tag(&blob2, 8, 1);
    w_f64(&blob2, 0.5);
    wbuf dd = {0};
    w_f64(&dd, -1.25);
    w_f64(&dd, 1e300); /* saturates to +inf */
    w_sub(&blob2, 8, &dd);
    w_sub(&layer2, 7, &blob2);
    w_sub(&w, 100, &layer2);

    sc_error err = {0};
    sc_caffemodel *m = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_read_memory(w.b, w.n, NULL, &m, &err));
    assert_string_equal(m->name, "net");
    assert_int_equal(m->n_layers, 2);
    const sc_cm_blob *b = blob_of(m, "ip", 0);
    assert_dims(b, DIMS(2, 1, 3));
    for (int i = 0; i < 6; i++)
        assert_true(b->data[i] == (float)i);
    b = blob_of(m, "legacy", 0);
    assert_dims(b, DIMS(1, 3, 1, 1));
    assert_true(b->data[0] == 0.5f && b->data[1] == -1.25f && isinf(b->data[2]));
    assert_string_equal(sc_caffemodel_find(m, "legacy")->type, "");
    sc_caffemodel_free(m);
}

static void w_v1_layer(wbuf *w, const char *name, unsigned type, int with_blob)
{
    wbuf layer = {0}, blob = {0};
    w_str(&layer, 2, "bottom");
    w_str(&layer, 3, "top");
    w_str(&layer, 4, name);
    w_tag(&layer, 5, 0);
    w_varint(&layer, type);
    if (with_blob) {
        const unsigned legacy[4] = {2, 1, 1, 2};
        for (unsigned i = 0; i < 4; i++) {
            w_tag(&blob, i + 1, 0);
            w_varint(&blob, legacy[i]);
        }
        for (int i = 0; i < 4; i++) {
            w_tag(&blob, 5, 5);
            w_f32(&blob, 0.5f * (float)i);
        }
        w_sub(&layer, 6, &blob);
    }
    w_tag(&layer, 7, 5); /* blobs_lr */
    w_f32(&layer, 1.0f);
    w_sub(w, 2, &layer);
}

static void test_v1_layers(void **state)
{
    (void)state;
    wbuf w = {0};
    w_str(&w, 1, "oldnet");
    w_v1_layer(&w, "data", 5, 0);
    w_v1_layer(&w, "conv1", 4, 1);
    w_v1_layer(&w, "relu1", 18, 0);
    w_v1_layer(&w, "fc", 14, 1);
    w_v1_layer(&w, "loss", 21, 0);
    w_v1_layer(&w, "pool", 17, 0);
    w_v1_layer(&w, "none", 0, 0);
    sc_error err = {0};
    sc_caffemodel *m = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_read_memory(w.b, w.n, "v1", &m, &err));
    assert_int_equal(m->format_version, 1);
    assert_int_equal(m->n_layers, 7);
    const char *want[] = {"Data", "Convolution", "ReLU", "InnerProduct", "SoftmaxWithLoss",
                          "Pooling", ""};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(m->layers[i].type, want[i]);
    const sc_cm_blob *b = blob_of(m, "conv1", 0);
    assert_dims(b, DIMS(2, 1, 1, 2));
    assert_true(b->data[3] == 1.5f);
    assert_int_equal(sc_caffemodel_find(m, "relu1")->n_blobs, 0);

    /* a V1 model written back is V2 and reads the same */
    void *out = NULL;
    size_t n = 0;
    sc_caffemodel *back = NULL;
    sc_assert_ok_err(&err, sc_caffemodel_write_memory(m, &out, &n, &err));
    sc_assert_ok_err(&err, sc_caffemodel_read_memory(out, n, "v2", &back, &err));
    assert_int_equal(back->format_version, 2);
    assert_models_equal(m, back);
    sc_caffemodel_free(back);
    sc_caffemodel_free(m);
    free(out);

    /* an unknown V1 type number */
    wbuf bad = {0};
    w_v1_layer(&bad, "odd", 99, 0);
    assert_int_equal(read_bad(bad.b, bad.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "unknown V1 layer type 99");
    assert_msg_has(&err, "'odd'");
    /* V1 and V2 layers mixed */
    wbuf v2layer = {0};
    w_str(&v2layer, 1, "x");
    w_sub(&w, 100, &v2layer);
    assert_int_equal(read_bad(w.b, w.n, &err), SC_ERR_FORMAT);
    assert_msg_has(&err, "mixes");
    /* V0 nested layer */
    wbuf v0 = {0}, l0 = {0}, inner = {0};
    w_str(&inner, 1, "conv");
    w_sub(&l0, 1, &inner);
    w_sub(&v0, 2, &l0);
    assert_int_equal(read_bad(v0.b, v0.n, &err), SC_ERR_UNSUPPORTED);
}

/* Every input the fuzzer once choked on must now return cleanly. */
static void test_crashers(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/caffemodel_crashers", SPHERECL_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (!d)
        return; /* nothing recorded yet */
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 3 && !strcmp(e->d_name + len - 3, ".md")))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        sc_caffemodel *m = NULL;
        sc_error err = {0};
        sc_status st = sc_caffemodel_read_file(path, &m, &err);
        if (st == SC_OK)
            sc_caffemodel_free(m);
        else
            assert_non_null(strstr(err.msg, e->d_name));
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mobilefacenet),
        cmocka_unit_test(test_mtcnn),
        cmocka_unit_test(test_train_tiny_matches_text),
        cmocka_unit_test(test_round_trip_synthetic),
        cmocka_unit_test(test_writer_exact_bytes),
        cmocka_unit_test(test_round_trip_real),
        cmocka_unit_test(test_write_failures),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_huge_length),
        cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_unknown_fields_and_encodings),
        cmocka_unit_test(test_v1_layers),
        cmocka_unit_test(test_crashers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
