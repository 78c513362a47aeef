/* Reader for the "gtext" golden-data format of ../shared/golden/README.md:
 *
 *   # comment line
 *   scalar <name> <f32|f64|i32> <value>
 *   tensor <name> <f32|f64|i32> <ndim> <d0> ... <d(ndim-1)>
 *   <prod(dims) values, row-major>
 *
 * A whole file is loaded into a list of records, looked up by name. Values are
 * kept as double: f32 values as (double)(float)strtod(...), i.e. the exact
 * float32 the reference used; f64 as strtod; i32 exactly (also as long long).
 * Every parse error names file:line (SC_ERR_PARSE). */
#ifndef SC_GTEXT_H
#define SC_GTEXT_H

#include <stddef.h>

#include "sc_error.h"

#define SC_GTEXT_MAX_DIMS 8

typedef enum sc_gtext_dtype {
    SC_GTEXT_F32,
    SC_GTEXT_F64,
    SC_GTEXT_I32
} sc_gtext_dtype;

typedef struct sc_gtext_rec {
    char *name;
    sc_gtext_dtype dtype;
    int is_tensor;       /* 0 for a scalar record: ndim 0, count 1 */
    int ndim;
    long long dims[SC_GTEXT_MAX_DIMS];
    size_t count;        /* number of values: prod(dims), 1 for a scalar */
    double *v;           /* count values */
    long long *iv;       /* count values for i32 records; NULL otherwise */
    int line;            /* line of the record's header, for messages */
} sc_gtext_rec;

typedef struct sc_gtext {
    char *path;          /* file name used in messages */
    sc_gtext_rec *recs;
    size_t count;
} sc_gtext;

/* Loads and parses a file. SC_ERR_IO when it cannot be read, SC_ERR_PARSE
 * (with file:line) for a bad keyword, name, dtype, dimension or number, a
 * duplicate name, or a tensor with fewer values than its dims declare.
 * On failure *g is left empty. */
sc_status sc_gtext_load(const char *path, sc_gtext *g, sc_error *err);

/* Parses text of len bytes (need not be NUL-terminated); name is used as
 * the file name in messages and records. */
sc_status sc_gtext_parse(const char *text, size_t len, const char *name, sc_gtext *g,
                         sc_error *err);

void sc_gtext_free(sc_gtext *g);

/* The record called name, or NULL. */
const sc_gtext_rec *sc_gtext_find(const sc_gtext *g, const char *name);

/* Like sc_gtext_find, but a missing record is an error naming file and record. */
sc_status sc_gtext_get(const sc_gtext *g, const char *name, const sc_gtext_rec **rec,
                       sc_error *err);

/* The value of a one-value record (scalar, or tensor of one element). */
sc_status sc_gtext_scalar(const sc_gtext *g, const char *name, double *value, sc_error *err);

/* Copies the values of record name into dst as float; SC_ERR_SHAPE unless the
 * record holds exactly count values. */
sc_status sc_gtext_copy_f32(const sc_gtext *g, const char *name, float *dst, size_t count,
                            sc_error *err);

/* "f32", "f64", "i32". */
const char *sc_gtext_dtype_name(sc_gtext_dtype dtype);

#endif
