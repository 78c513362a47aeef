/* Caffe .caffemodel files: binary NetParameter (protobuf wire format).
 *
 * The reader keeps only what weight loading needs: the net name and, per
 * layer, its name, type and parameter blobs (shape + float32 data). Every other
 * field (bottom, top, *_param, phase, ...) is skipped. It accepts the current
 * V2 format (NetParameter.layer, field 100) and the legacy V1 format
 * (NetParameter.layers, field 2, type as an enum number, blobs with the old
 * num/channels/height/width dims); V1 type numbers are mapped to the V2 type
 * strings as Caffe's UpgradeV1LayerType does ("Convolution", ...).
 *
 * The input is untrusted: a truncated or corrupt file is SC_ERR_FORMAT with a
 * message naming the file and the byte offset, never a crash, and nothing is
 * allocated beyond what the remaining input bytes can justify.
 *
 * The writer produces V2 (name, then per layer {name, type, blobs {shape, data}}),
 * which is what Caffe's Net::CopyTrainedLayersFrom needs. It is written to a
 * temp file in the destination directory, fsynced and renamed into place. */
#ifndef SC_CAFFEMODEL_H
#define SC_CAFFEMODEL_H

#include <stddef.h>

#include "sc_error.h"

/* Most axes a blob may have. Caffe allows 32, but parameter blobs have at most
 * 5 in practice; a fixed array keeps the struct flat. More is SC_ERR_UNSUPPORTED. */
#define SC_CM_MAX_DIMS 8

typedef struct sc_cm_blob {
    int ndim;                        /* 0 = scalar (count 1), as in Caffe */
    long long dims[SC_CM_MAX_DIMS];  /* each >= 0 */
    size_t count;                    /* product of dims (1 when ndim == 0) */
    float *data;                     /* count floats (NULL allowed when count == 0) */
} sc_cm_blob;

typedef struct sc_cm_layer {
    char *name;         /* never NULL after reading ("" when absent) */
    char *type;         /* V2 type string, "" when absent */
    size_t n_blobs;
    sc_cm_blob *blobs;
} sc_cm_layer;

typedef struct sc_caffemodel {
    char *name;         /* NetParameter.name, "" when absent */
    int format_version; /* what was read: 1 = legacy V1 `layers`, 2 = V2 `layer` (or no layers) */
    size_t n_layers;
    sc_cm_layer *layers;
} sc_caffemodel;

/* Reads a whole file. On success *out owns everything it points to; release it
 * with sc_caffemodel_free. On failure *out is NULL and err (may be NULL) holds
 * the cause: SC_ERR_IO (cannot open/read, naming the path), SC_ERR_FORMAT
 * (malformed, naming the path and byte offset), SC_ERR_UNSUPPORTED (valid but
 * unsupported: V0 layers, more than SC_CM_MAX_DIMS axes), SC_ERR_NOMEM. */
sc_status sc_caffemodel_read_file(const char *path, sc_caffemodel **out, sc_error *err);

/* The same on a buffer; label names it in messages (NULL: "<memory>").
 * The buffer is not retained. */
sc_status sc_caffemodel_read_memory(const void *data, size_t size, const char *label,
                                    sc_caffemodel **out, sc_error *err);

/* Writes model as a V2 NetParameter, atomically: on any failure the temp file
 * is removed and path is untouched. The model is only read; NULL name/type
 * strings are written as "". SC_ERR_ARG when a blob's count is not the product
 * of its dims (or data is NULL with count > 0), SC_ERR_IO on file errors. */
sc_status sc_caffemodel_write_file(const char *path, const sc_caffemodel *model, sc_error *err);

/* The same encoding into a malloc'd buffer (*out, *size; the caller free()s it). */
sc_status sc_caffemodel_write_memory(const sc_caffemodel *model, void **out, size_t *size,
                                     sc_error *err);

/* The first layer called layer_name, or NULL. The pointer lives as long as m. */
const sc_cm_layer *sc_caffemodel_find(const sc_caffemodel *m, const char *layer_name);

/* Frees m and everything it owns (every string and array is from malloc, so a
 * model assembled by hand with malloc'd members may be freed here too). NULL is fine. */
void sc_caffemodel_free(sc_caffemodel *m);

#endif
