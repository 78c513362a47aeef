/* Caffe .caffemodel reader and writer: a hand-written protobuf wire-format
 * decoder for the few NetParameter fields weight loading needs.
 *
 * Safety rules the decoder follows, because the input is untrusted:
 *  - every length is checked against the bytes left in its enclosing message
 *    before anything is allocated or read, so allocations stay proportional
 *    to the input size;
 *  - varints longer than 10 bytes or over 64 bits are errors;
 *  - unknown fields are skipped by wire type without being parsed, so nesting
 *    depth is fixed by the schema (net -> layer -> blob -> shape), no recursion;
 *  - groups (wire types 3/4) and wire types 6/7 are errors;
 *  - shape products are overflow-checked and must equal the stored value count.
 * Error messages name the input and the absolute byte offset of the field. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "caffemodel.h"

#include "sc_files.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ wire */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

#define CM_MAX_FIELD 536870911u /* 2^29 - 1, protobuf's largest field number */

/* A window [pos, end) of the whole input; offsets stay absolute so every
 * message can name the byte where the problem is. */
typedef struct cm_in {
    const uint8_t *buf;
    size_t pos, end;
} cm_in;

typedef struct cm_field {
    uint32_t num;
    int wt;
    size_t at;   /* offset of the tag */
    uint64_t v;  /* value of a varint field */
    cm_in sub;   /* payload of a length-delimited / fixed-width field */
} cm_field;

static const char *cm_wt_name(int wt)
{
    switch (wt) {
    case WT_VARINT: return "varint";
    case WT_I64: return "64-bit";
    case WT_LEN: return "length-delimited";
    case WT_I32: return "32-bit";
    case 3: return "start-group";
    case 4: return "end-group";
    }
    return "invalid";
}

static sc_status cm_varint(cm_in *in, uint64_t *out, sc_error *err)
{
    size_t start = in->pos;
    uint64_t v = 0;
    *out = 0;
    for (int i = 0; i < 10; i++) {
        if (in->pos >= in->end)
            return sc_fail(err, SC_ERR_FORMAT, "truncated varint at byte %zu", start);
        uint8_t b = in->buf[in->pos++];
        /* The 10th byte may only carry bit 63. */
        if (i == 9 && b > 1)
            return sc_fail(err, SC_ERR_FORMAT, "varint at byte %zu %s", start,
                           (b & 0x80) ? "is longer than 10 bytes" : "overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return SC_OK;
        }
    }
    return SC_ERR_FORMAT; /* unreachable: the 10th byte either ends or fails above */
}

/* Claims n payload bytes for field f, refusing lengths past the enclosing message. */
static sc_status cm_take(cm_in *in, cm_field *f, uint64_t n, sc_error *err)
{
    size_t left = in->end - in->pos;
    if (n > left)
        return sc_fail(err, SC_ERR_FORMAT,
                       "truncated %s field %u at byte %zu (needs %llu bytes, %zu left)",
                       cm_wt_name(f->wt), (unsigned)f->num, f->at, (unsigned long long)n, left);
    f->sub.buf = in->buf;
    f->sub.pos = in->pos;
    f->sub.end = in->pos + (size_t)n;
    in->pos += (size_t)n;
    return SC_OK;
}

/* Reads one field (tag + value) and moves past it; callers ignore the fields
 * they do not know, which is how unknown fields are skipped. */
static sc_status cm_next(cm_in *in, cm_field *f, sc_error *err)
{
    uint64_t tag, len;
    f->at = in->pos;
    SC_TRY(cm_varint(in, &tag, err));
    f->wt = (int)(tag & 7);
    if ((tag >> 3) == 0 || (tag >> 3) > CM_MAX_FIELD)
        return sc_fail(err, SC_ERR_FORMAT, "invalid field number %llu at byte %zu",
                       (unsigned long long)(tag >> 3), f->at);
    f->num = (uint32_t)(tag >> 3);
    switch (f->wt) {
    case WT_VARINT: return cm_varint(in, &f->v, err);
    case WT_I64: return cm_take(in, f, 8, err);
    case WT_I32: return cm_take(in, f, 4, err);
    case WT_LEN:
        SC_TRY(cm_varint(in, &len, err));
        return cm_take(in, f, len, err);
    }
    return sc_fail(err, SC_ERR_FORMAT, "field %u at byte %zu has unsupported wire type %d (%s)",
                   (unsigned)f->num, f->at, f->wt, cm_wt_name(f->wt));
}

static sc_status cm_expect(const cm_field *f, int wt, sc_error *err)
{
    if (f->wt == wt)
        return SC_OK;
    return sc_fail(err, SC_ERR_FORMAT, "field %u at byte %zu has wire type %s, expected %s",
                   (unsigned)f->num, f->at, cm_wt_name(f->wt), cm_wt_name(wt));
}

static uint32_t cm_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t cm_le64(const uint8_t *p)
{
    return (uint64_t)cm_le32(p) | (uint64_t)cm_le32(p + 4) << 32;
}

static float cm_f32(const uint8_t *p)
{
    uint32_t u = cm_le32(p);
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* double -> float without the undefined behaviour C gives out-of-range
 * conversions: overflow saturates to +-inf (values a hair above FLT_MAX that
 * IEEE would round down to FLT_MAX become inf; no real weight is that big). */
static float cm_f64_to_f32(const uint8_t *p)
{
    uint64_t u = cm_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    if (d > FLT_MAX)
        return INFINITY;
    if (d < -FLT_MAX)
        return -INFINITY;
    return (float)d;
}

/* int64 fields arrive as two's complement in a uint64; converted explicitly
 * because the plain cast is implementation-defined for large values. */
static long long cm_to_i64(uint64_t v)
{
    if (v <= (uint64_t)LLONG_MAX)
        return (long long)v;
    return -(long long)(~v) - 1;
}

/* ------------------------------------------------------------- strings */

static char *cm_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static sc_status cm_string(const cm_field *f, char **dst, sc_error *err)
{
    SC_TRY(cm_expect(f, WT_LEN, err));
    size_t n = f->sub.end - f->sub.pos;
    const char *s = (const char *)f->sub.buf + f->sub.pos;
    /* C strings cannot carry NUL; refusing beats silently truncating a name. */
    if (memchr(s, 0, n))
        return sc_fail(err, SC_ERR_FORMAT, "string field %u at byte %zu contains a NUL byte",
                       (unsigned)f->num, f->at);
    char *p = cm_strndup(s, n);
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "out of memory (string of %zu bytes)", n);
    free(*dst); /* protobuf semantics: the last occurrence wins */
    *dst = p;
    return SC_OK;
}

static sc_status cm_ensure_string(char **s, sc_error *err)
{
    if (!*s && !(*s = cm_strndup("", 0)))
        return sc_fail(err, SC_ERR_NOMEM, "out of memory");
    return SC_OK;
}

/* -------------------------------------------------------- growable arrays */

/* Makes room for one more element of size elem in *arr (capacity *cap),
 * doubling so that n pushes cost O(n) and memory stays within 2x of use. */
static sc_status cm_grow(void **arr, size_t *cap, size_t n, size_t elem, sc_error *err)
{
    if (n < *cap)
        return SC_OK;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap <= n || ncap > SIZE_MAX / elem)
        return sc_fail(err, SC_ERR_NOMEM, "too many elements (%zu)", n);
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "out of memory (%zu elements)", ncap);
    memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return SC_OK;
}

typedef struct cm_floats {
    float *v;
    size_t n, cap;
} cm_floats;

/* Callers pass extra <= remaining input bytes / 4, which bounds the allocation. */
static sc_status cm_floats_reserve(cm_floats *a, size_t extra, sc_error *err)
{
    if (extra <= a->cap - a->n)
        return SC_OK;
    if (extra > SIZE_MAX / sizeof(float) - a->n)
        return sc_fail(err, SC_ERR_NOMEM, "too many values");
    size_t need = a->n + extra;
    size_t ncap = a->cap <= SIZE_MAX / sizeof(float) / 2 ? a->cap * 2 : need;
    if (ncap < need)
        ncap = need;
    float *p = realloc(a->v, ncap * sizeof(float));
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "out of memory (%zu floats)", ncap);
    a->v = p;
    a->cap = ncap;
    return SC_OK;
}

/* ------------------------------------------------------------------ blobs */

typedef struct cm_blob_acc {
    cm_floats data;   /* BlobProto.data (5) */
    cm_floats ddata;  /* BlobProto.double_data (8), converted */
    long long dims[SC_CM_MAX_DIMS];
    int ndim;
    long long legacy[4]; /* num, channels, height, width */
    int has_legacy;
} cm_blob_acc;

/* Packed (length-delimited) or single (fixed-width) float/double values. */
static sc_status cm_reals(const cm_field *f, cm_floats *a, int is_double, sc_error *err)
{
    size_t w = is_double ? 8 : 4;
    if (f->wt != WT_LEN && f->wt != (is_double ? WT_I64 : WT_I32))
        return cm_expect(f, is_double ? WT_I64 : WT_I32, err);
    size_t n = f->sub.end - f->sub.pos;
    if (n % w)
        return sc_fail(err, SC_ERR_FORMAT,
                       "packed %s field %u at byte %zu is %zu bytes, not a multiple of %zu",
                       is_double ? "double" : "float", (unsigned)f->num, f->at, n, w);
    SC_TRY(cm_floats_reserve(a, n / w, err));
    const uint8_t *p = f->sub.buf + f->sub.pos;
    for (size_t i = 0; i < n / w; i++)
        a->v[a->n++] = is_double ? cm_f64_to_f32(p + i * w) : cm_f32(p + i * w);
    return SC_OK;
}

static sc_status cm_push_dim(cm_blob_acc *a, uint64_t v, size_t at, sc_error *err)
{
    if (a->ndim == SC_CM_MAX_DIMS)
        return sc_fail(err, SC_ERR_UNSUPPORTED, "blob shape at byte %zu has more than %d axes",
                       at, SC_CM_MAX_DIMS);
    a->dims[a->ndim++] = cm_to_i64(v);
    return SC_OK;
}

/* BlobShape { repeated int64 dim = 1 [packed] }, packed or not. */
static sc_status cm_shape(cm_in *in, cm_blob_acc *a, sc_error *err)
{
    while (in->pos < in->end) {
        cm_field f;
        SC_TRY(cm_next(in, &f, err));
        if (f.num != 1)
            continue;
        if (f.wt == WT_VARINT) {
            SC_TRY(cm_push_dim(a, f.v, f.at, err));
            continue;
        }
        SC_TRY(cm_expect(&f, WT_LEN, err));
        while (f.sub.pos < f.sub.end) {
            uint64_t v;
            size_t at = f.sub.pos;
            SC_TRY(cm_varint(&f.sub, &v, err));
            SC_TRY(cm_push_dim(a, v, at, err));
        }
    }
    return SC_OK;
}

static sc_status cm_blob_fields(cm_in *in, cm_blob_acc *a, sc_error *err)
{
    while (in->pos < in->end) {
        cm_field f;
        SC_TRY(cm_next(in, &f, err));
        switch (f.num) {
        case 1: case 2: case 3: case 4: /* legacy num, channels, height, width */
            SC_TRY(cm_expect(&f, WT_VARINT, err));
            a->legacy[f.num - 1] = cm_to_i64(f.v);
            a->has_legacy = 1;
            break;
        case 5: SC_TRY(cm_reals(&f, &a->data, 0, err)); break;
        case 7:
            SC_TRY(cm_expect(&f, WT_LEN, err));
            SC_TRY(cm_shape(&f.sub, a, err));
            break;
        case 8: SC_TRY(cm_reals(&f, &a->ddata, 1, err)); break;
        default: break; /* diff (6), double_diff (9) and unknown fields */
        }
    }
    return SC_OK;
}

static void cm_format_dims(char *s, size_t size, const long long *dims, int ndim)
{
    size_t len = 0;
    s[0] = '\0';
    if (ndim == 0)
        snprintf(s, size, "() (scalar)");
    for (int i = 0; i < ndim && len < size; i++) {
        int n = snprintf(s + len, size - len, "%s%lld", i ? "x" : "", dims[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

/* Caffe's Blob::FromProto: the legacy 4-D dims win when any is present;
 * double_data wins when non-empty; the value count must match the shape. */
static sc_status cm_blob_finish(cm_blob_acc *a, size_t at, sc_cm_blob *b, sc_error *err)
{
    char shape[SC_CM_MAX_DIMS * 24 + 16];
    b->ndim = a->has_legacy ? 4 : a->ndim;
    memcpy(b->dims, a->has_legacy ? a->legacy : a->dims, (size_t)b->ndim * sizeof b->dims[0]);
    cm_format_dims(shape, sizeof shape, b->dims, b->ndim);
    size_t count = 1;
    int zero = 0;
    for (int i = 0; i < b->ndim; i++) {
        /* Caffe keeps dims in an int; larger ones cannot come from a real net. */
        if (b->dims[i] < 0 || b->dims[i] > INT_MAX)
            return sc_fail(err, SC_ERR_FORMAT, "shape %s (blob at byte %zu) has an invalid dimension",
                           shape, at);
        zero |= b->dims[i] == 0;
    }
    for (int i = 0; i < b->ndim && !zero; i++) {
        if (count > SIZE_MAX / sizeof(float) / (size_t)b->dims[i])
            return sc_fail(err, SC_ERR_FORMAT, "shape %s (blob at byte %zu) is too large", shape, at);
        count *= (size_t)b->dims[i];
    }
    b->count = zero ? 0 : count;
    cm_floats *src = a->ddata.n ? &a->ddata : &a->data;
    if (src->n != b->count)
        return sc_fail(err, SC_ERR_FORMAT,
                       "shape %s holds %zu values but the blob stores %zu (blob at byte %zu)",
                       shape, b->count, src->n, at);
    b->data = src->n ? src->v : NULL;
    if (src->n)
        src->v = NULL; /* ownership moves to the blob */
    return SC_OK;
}

static sc_status cm_blob(cm_in *in, sc_cm_blob *b, sc_error *err)
{
    cm_blob_acc a;
    memset(&a, 0, sizeof a);
    size_t at = in->pos;
    sc_status st = cm_blob_fields(in, &a, err);
    if (st == SC_OK)
        st = cm_blob_finish(&a, at, b, err);
    free(a.data.v);
    free(a.ddata.v);
    return st;
}

/* ----------------------------------------------------------------- layers */

/* V1LayerParameter.LayerType numbers -> V2 type strings, as Caffe's
 * UpgradeV1LayerType maps them (numbers from BVLC caffe.proto). */
static const struct { int num; const char *type; } cm_v1_types[] = {
    {0, ""},            {1, "Accuracy"},       {2, "BNLL"},           {3, "Concat"},
    {4, "Convolution"}, {5, "Data"},           {6, "Dropout"},        {7, "EuclideanLoss"},
    {8, "Flatten"},     {9, "HDF5Data"},       {10, "HDF5Output"},    {11, "Im2col"},
    {12, "ImageData"},  {13, "InfogainLoss"},  {14, "InnerProduct"},  {15, "LRN"},
    {16, "MultinomialLogisticLoss"},           {17, "Pooling"},       {18, "ReLU"},
    {19, "Sigmoid"},    {20, "Softmax"},       {21, "SoftmaxWithLoss"}, {22, "Split"},
    {23, "TanH"},       {24, "WindowData"},    {25, "Eltwise"},       {26, "Power"},
    {27, "SigmoidCrossEntropyLoss"},           {28, "HingeLoss"},     {29, "MemoryData"},
    {30, "ArgMax"},     {31, "Threshold"},     {32, "DummyData"},     {33, "Slice"},
    {34, "MVN"},        {35, "AbsVal"},        {36, "Silence"},       {37, "ContrastiveLoss"},
    {38, "Exp"},        {39, "Deconvolution"},
};

static sc_status cm_v1_type(const cm_field *f, char **dst, sc_error *err)
{
    SC_TRY(cm_expect(f, WT_VARINT, err));
    for (size_t i = 0; i < sizeof cm_v1_types / sizeof cm_v1_types[0]; i++) {
        if ((uint64_t)cm_v1_types[i].num == f->v) {
            char *p = cm_strndup(cm_v1_types[i].type, strlen(cm_v1_types[i].type));
            if (!p)
                return sc_fail(err, SC_ERR_NOMEM, "out of memory");
            free(*dst);
            *dst = p;
            return SC_OK;
        }
    }
    return sc_fail(err, SC_ERR_FORMAT, "unknown V1 layer type %llu at byte %zu",
                   (unsigned long long)f->v, f->at);
}

static sc_status cm_layer_blob(const cm_field *f, sc_cm_layer *l, size_t *cap, sc_error *err)
{
    SC_TRY(cm_expect(f, WT_LEN, err));
    SC_TRY(cm_grow((void **)&l->blobs, cap, l->n_blobs, sizeof *l->blobs, err));
    size_t idx = l->n_blobs++;
    cm_in sub = f->sub;
    if (cm_blob(&sub, &l->blobs[idx], err) != SC_OK)
        return sc_error_prefix(err, "blob %zu: ", idx);
    return SC_OK;
}

/* LayerParameter (V2: name 1, type 2, blobs 7) or V1LayerParameter
 * (name 4, type 5 as an enum, blobs 6). */
static sc_status cm_layer(cm_in *in, int v1, sc_cm_layer *l, sc_error *err)
{
    const uint32_t f_name = v1 ? 4 : 1, f_type = v1 ? 5 : 2, f_blobs = v1 ? 6 : 7;
    size_t cap = 0;
    while (in->pos < in->end) {
        cm_field f;
        SC_TRY(cm_next(in, &f, err));
        if (f.num == f_name)
            SC_TRY(cm_string(&f, &l->name, err));
        else if (f.num == f_type)
            SC_TRY(v1 ? cm_v1_type(&f, &l->type, err) : cm_string(&f, &l->type, err));
        else if (f.num == f_blobs)
            SC_TRY(cm_layer_blob(&f, l, &cap, err));
        else if (v1 && f.num == 1)
            return sc_fail(err, SC_ERR_UNSUPPORTED,
                           "V0 layer definition (field 1) at byte %zu is not supported; "
                           "upgrade the model with Caffe's upgrade_net_proto_binary", f.at);
    }
    SC_TRY(cm_ensure_string(&l->name, err));
    return cm_ensure_string(&l->type, err);
}

static sc_status cm_net_layer(const cm_field *f, sc_caffemodel *m, size_t *cap, int *seen,
                              sc_error *err)
{
    int v1 = f->num == 2;
    SC_TRY(cm_expect(f, WT_LEN, err));
    /* Caffe refuses to upgrade a net that mixes both, so do we. */
    if (seen[!v1])
        return sc_fail(err, SC_ERR_FORMAT,
                       "field %u at byte %zu: the file mixes V2 'layer' (100) and V1 'layers' (2)",
                       (unsigned)f->num, f->at);
    seen[v1] = 1;
    SC_TRY(cm_grow((void **)&m->layers, cap, m->n_layers, sizeof *m->layers, err));
    size_t idx = m->n_layers++;
    sc_cm_layer *l = &m->layers[idx];
    cm_in sub = f->sub;
    if (cm_layer(&sub, v1, l, err) != SC_OK) {
        if (l->name)
            return sc_error_prefix(err, "layer %zu '%.64s': ", idx, l->name);
        return sc_error_prefix(err, "layer %zu: ", idx);
    }
    return SC_OK;
}

/* NetParameter: name 1, layers 2 (V1), layer 100 (V2); the rest is skipped. */
static sc_status cm_net(cm_in *in, sc_caffemodel *m, sc_error *err)
{
    size_t cap = 0;
    int seen[2] = {0, 0}; /* [0] V2 layer, [1] V1 layers */
    while (in->pos < in->end) {
        cm_field f;
        SC_TRY(cm_next(in, &f, err));
        if (f.num == 1)
            SC_TRY(cm_string(&f, &m->name, err));
        else if (f.num == 2 || f.num == 100)
            SC_TRY(cm_net_layer(&f, m, &cap, seen, err));
    }
    m->format_version = seen[1] ? 1 : 2;
    return cm_ensure_string(&m->name, err);
}

/* ----------------------------------------------------------------- public */

void sc_caffemodel_free(sc_caffemodel *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->layers && i < m->n_layers; i++) {
        sc_cm_layer *l = &m->layers[i];
        for (size_t j = 0; l->blobs && j < l->n_blobs; j++)
            free(l->blobs[j].data);
        free(l->blobs);
        free(l->name);
        free(l->type);
    }
    free(m->layers);
    free(m->name);
    free(m);
}

sc_status sc_caffemodel_read_memory(const void *data, size_t size, const char *label,
                                    sc_caffemodel **out, sc_error *err)
{
    sc_error local;
    if (!err)
        err = &local; /* sc_error_prefix needs somewhere to keep the status */
    if (!label)
        label = "<memory>";
    if (!out || (!data && size))
        return sc_fail(err, SC_ERR_ARG, "sc_caffemodel_read_memory: NULL argument");
    *out = NULL;
    /* Protobuf would accept 0 bytes as an empty net, but an empty weights file
     * is always a failed copy or write; saying so beats "every layer missing". */
    if (size == 0)
        return sc_fail(err, SC_ERR_FORMAT, "%.400s: empty file (0 bytes), not a caffemodel", label);
    sc_caffemodel *m = calloc(1, sizeof *m);
    if (!m)
        return sc_fail(err, SC_ERR_NOMEM, "%.400s: out of memory", label);
    cm_in in = {data, 0, size};
    sc_status st = cm_net(&in, m, err);
    if (st != SC_OK) {
        sc_caffemodel_free(m);
        return sc_error_prefix(err, "%.400s: ", label);
    }
    *out = m;
    return SC_OK;
}

static sc_status cm_slurp(const char *path, uint8_t **buf, size_t *size, sc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uintmax_t)st.st_size > SIZE_MAX) {
        fclose(f);
        return sc_fail(err, SC_ERR_IO, "%s: not a readable regular file", path);
    }
    *size = (size_t)st.st_size;
    *buf = malloc(*size ? *size : 1);
    if (!*buf) {
        fclose(f);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, *size);
    }
    size_t got = fread(*buf, 1, *size, f);
    int read_errno = errno;
    fclose(f);
    if (got != *size) {
        free(*buf);
        *buf = NULL;
        return sc_fail(err, SC_ERR_IO, "%s: read %zu of %zu bytes: %s", path, got, *size,
                       got < *size ? strerror(read_errno) : "file changed");
    }
    return SC_OK;
}

sc_status sc_caffemodel_read_file(const char *path, sc_caffemodel **out, sc_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return sc_fail(err, SC_ERR_ARG, "sc_caffemodel_read_file: NULL argument");
    uint8_t *buf = NULL;
    size_t size = 0;
    SC_TRY(cm_slurp(path, &buf, &size, err));
    sc_status st = sc_caffemodel_read_memory(buf, size, path, out, err);
    free(buf);
    return st;
}

const sc_cm_layer *sc_caffemodel_find(const sc_caffemodel *m, const char *layer_name)
{
    if (!m || !layer_name)
        return NULL;
    for (size_t i = 0; i < m->n_layers; i++)
        if (m->layers[i].name && strcmp(m->layers[i].name, layer_name) == 0)
            return &m->layers[i];
    return NULL;
}

/* ----------------------------------------------------------------- writer */

/* Output goes to a buffer sized exactly beforehand; the file writer hands
 * it to sc_write_file_atomic. */
typedef struct cm_sink {
    uint8_t *mem;
    size_t len, cap;
    int failed;
    int err_no;
} cm_sink;

static void cm_put(cm_sink *s, const void *p, size_t n)
{
    if (s->failed || n == 0)
        return;
    if (n > s->cap - s->len) { /* sizes are precomputed; this guards a bug */
        s->failed = 1;
        s->err_no = EOVERFLOW;
        return;
    }
    memcpy(s->mem + s->len, p, n);
    s->len += n;
}

static size_t cm_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void cm_put_varint(cm_sink *s, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    cm_put(s, b, n);
}

/* Tag plus length prefix of a length-delimited field. */
static void cm_put_len(cm_sink *s, uint32_t field, size_t len)
{
    cm_put_varint(s, (uint64_t)field << 3 | WT_LEN);
    cm_put_varint(s, len);
}

static size_t cm_len_field_size(uint32_t field, size_t len)
{
    return cm_varint_size((uint64_t)field << 3 | WT_LEN) + cm_varint_size(len) + len;
}

static void cm_put_string(cm_sink *s, uint32_t field, const char *str)
{
    size_t n = strlen(str);
    cm_put_len(s, field, n);
    cm_put(s, str, n);
}

static size_t cm_dims_size(const sc_cm_blob *b)
{
    size_t n = 0;
    for (int i = 0; i < b->ndim; i++)
        n += cm_varint_size((uint64_t)b->dims[i]);
    return n;
}

/* BlobShape payload: the packed dims (absent for a scalar). */
static size_t cm_shape_size(const sc_cm_blob *b)
{
    return b->ndim ? cm_len_field_size(1, cm_dims_size(b)) : 0;
}

/* BlobProto payload: data (5, packed) then shape (7), ascending as protobuf writes. */
static size_t cm_blob_size(const sc_cm_blob *b)
{
    size_t n = cm_len_field_size(7, cm_shape_size(b));
    if (b->count)
        n += cm_len_field_size(5, b->count * 4);
    return n;
}

static const char *cm_str(const char *s)
{
    return s ? s : "";
}

static size_t cm_layer_size(const sc_cm_layer *l)
{
    size_t n = cm_len_field_size(1, strlen(cm_str(l->name))) +
               cm_len_field_size(2, strlen(cm_str(l->type)));
    for (size_t i = 0; i < l->n_blobs; i++)
        n += cm_len_field_size(7, cm_blob_size(&l->blobs[i]));
    return n;
}

static void cm_put_floats(cm_sink *s, const float *x, size_t n)
{
    uint8_t chunk[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        chunk[k++] = (uint8_t)u;
        chunk[k++] = (uint8_t)(u >> 8);
        chunk[k++] = (uint8_t)(u >> 16);
        chunk[k++] = (uint8_t)(u >> 24);
        if (k == sizeof chunk) {
            cm_put(s, chunk, k);
            k = 0;
        }
    }
    cm_put(s, chunk, k);
}

static void cm_put_blob(cm_sink *s, const sc_cm_blob *b)
{
    cm_put_len(s, 7, cm_blob_size(b));
    if (b->count) {
        cm_put_len(s, 5, b->count * 4);
        cm_put_floats(s, b->data, b->count);
    }
    cm_put_len(s, 7, cm_shape_size(b));
    if (b->ndim) {
        cm_put_len(s, 1, cm_dims_size(b));
        for (int i = 0; i < b->ndim; i++)
            cm_put_varint(s, (uint64_t)b->dims[i]);
    }
}

static void cm_put_model(cm_sink *s, const sc_caffemodel *m)
{
    /* The name is always written, so even an empty model is a non-empty file. */
    cm_put_string(s, 1, cm_str(m->name));
    for (size_t i = 0; i < m->n_layers; i++) {
        const sc_cm_layer *l = &m->layers[i];
        cm_put_len(s, 100, cm_layer_size(l));
        cm_put_string(s, 1, cm_str(l->name));
        cm_put_string(s, 2, cm_str(l->type));
        for (size_t j = 0; j < l->n_blobs; j++)
            cm_put_blob(s, &l->blobs[j]);
    }
}

static sc_status cm_check_blob(const sc_cm_blob *b, size_t li, size_t bi, sc_error *err)
{
    if (b->ndim < 0 || b->ndim > SC_CM_MAX_DIMS)
        return sc_fail(err, SC_ERR_ARG, "layer %zu blob %zu: ndim %d out of range", li, bi, b->ndim);
    size_t count = 1;
    int zero = 0;
    for (int i = 0; i < b->ndim; i++) {
        if (b->dims[i] < 0 || b->dims[i] > INT_MAX)
            return sc_fail(err, SC_ERR_ARG, "layer %zu blob %zu: dimension %lld out of range", li,
                           bi, b->dims[i]);
        zero |= b->dims[i] == 0;
    }
    for (int i = 0; i < b->ndim && !zero; i++) {
        /* Keeps count * 4 and every size computed from it free of overflow. */
        if (count > SIZE_MAX / 8 / (size_t)b->dims[i])
            return sc_fail(err, SC_ERR_ARG, "layer %zu blob %zu: shape too large", li, bi);
        count *= (size_t)b->dims[i];
    }
    if (zero)
        count = 0;
    if (count != b->count)
        return sc_fail(err, SC_ERR_ARG, "layer %zu blob %zu: count %zu is not the product of its dims (%zu)",
                       li, bi, b->count, count);
    if (count && !b->data)
        return sc_fail(err, SC_ERR_ARG, "layer %zu blob %zu: NULL data", li, bi);
    return SC_OK;
}

/* Validates the model before any byte is written and returns its encoded size. */
static sc_status cm_check_model(const sc_caffemodel *m, size_t *size, sc_error *err)
{
    if (!m || (m->n_layers && !m->layers))
        return sc_fail(err, SC_ERR_ARG, "caffemodel writer: NULL model or layers");
    size_t total = cm_len_field_size(1, strlen(cm_str(m->name)));
    for (size_t i = 0; i < m->n_layers; i++) {
        const sc_cm_layer *l = &m->layers[i];
        if (l->n_blobs && !l->blobs)
            return sc_fail(err, SC_ERR_ARG, "layer %zu: NULL blobs", i);
        for (size_t j = 0; j < l->n_blobs; j++)
            SC_TRY(cm_check_blob(&l->blobs[j], i, j, err));
        size_t n = cm_len_field_size(100, cm_layer_size(l));
        if (n > SIZE_MAX / 2 - total)
            return sc_fail(err, SC_ERR_ARG, "caffemodel writer: model too large");
        total += n;
    }
    *size = total;
    return SC_OK;
}

sc_status sc_caffemodel_write_memory(const sc_caffemodel *model, void **out, size_t *size,
                                     sc_error *err)
{
    size_t total = 0;
    if (!out || !size)
        return sc_fail(err, SC_ERR_ARG, "sc_caffemodel_write_memory: NULL argument");
    *out = NULL;
    *size = 0;
    SC_TRY(cm_check_model(model, &total, err));
    cm_sink s = {.mem = malloc(total), .cap = total};
    if (!s.mem)
        return sc_fail(err, SC_ERR_NOMEM, "out of memory (%zu bytes)", total);
    cm_put_model(&s, model);
    if (s.failed || s.len != total) {
        free(s.mem);
        return sc_fail(err, SC_ERR_ARG, "caffemodel writer: encoded size mismatch");
    }
    *out = s.mem;
    *size = total;
    return SC_OK;
}

sc_status sc_caffemodel_write_file(const char *path, const sc_caffemodel *model, sc_error *err)
{
    if (!path)
        return sc_fail(err, SC_ERR_ARG, "sc_caffemodel_write_file: NULL path");
    void *data = NULL;
    size_t size = 0;
    SC_TRY(sc_caffemodel_write_memory(model, &data, &size, err));
    sc_status st = sc_write_file_atomic(path, data, size, err);
    free(data);
    return st;
}
