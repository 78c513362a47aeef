/* The caffe.proto messages as static tables, and validation of a prototxt tree
 * against them.
 *
 * Covers BVLC Caffe master's NetParameter / SolverParameter closure (every
 * LayerParameter field, legacy V1LayerParameter and V0LayerParameter), plus
 * SphereFace's MarginInnerProductParameter (LayerParameter field 147) and a few
 * storage messages (SolverState, BlobProtoVector, Datum). Field numbers, types
 * and enum numbers follow caffe.proto so the binary caffemodel code can reuse
 * them.
 *
 * One clash exists: BVLC master later gave number 147 to swish_param, which
 * SphereFace had already used for margin_inner_product_param. Both names are
 * accepted in text; sc_schema_field_by_number(LayerParameter, 147) returns
 * margin_inner_product_param, because SphereFace-world caffemodels are what
 * this project reads. */
#ifndef SC_CAFFE_SCHEMA_H
#define SC_CAFFE_SCHEMA_H

#include <stddef.h>

#include "prototxt.h"
#include "sc_error.h"

typedef enum sc_schema_type {
    SC_SCHEMA_INT32,
    SC_SCHEMA_INT64,
    SC_SCHEMA_UINT32,
    SC_SCHEMA_UINT64,
    SC_SCHEMA_FLOAT,
    SC_SCHEMA_DOUBLE,
    SC_SCHEMA_BOOL,
    SC_SCHEMA_STRING,
    SC_SCHEMA_BYTES,
    SC_SCHEMA_ENUM,
    SC_SCHEMA_MESSAGE
} sc_schema_type;

typedef enum sc_schema_label {
    SC_SCHEMA_OPTIONAL,
    SC_SCHEMA_REPEATED,
    SC_SCHEMA_REQUIRED
} sc_schema_label;

typedef struct sc_schema_enum_value {
    const char *name;
    int number;
} sc_schema_enum_value;

typedef struct sc_schema_enum {
    const char *name; /* "PoolingParameter.PoolMethod" */
    const sc_schema_enum_value *values;
    size_t n_values;
} sc_schema_enum;

struct sc_schema_message;

typedef struct sc_schema_field {
    const char *name;
    int number;                              /* protobuf field number */
    sc_schema_type type;
    sc_schema_label label;
    int packed;                              /* [packed = true] in caffe.proto */
    const sc_schema_enum *enum_type;         /* SC_SCHEMA_ENUM */
    const struct sc_schema_message *message; /* SC_SCHEMA_MESSAGE */
} sc_schema_field;

typedef struct sc_schema_message {
    const char *name; /* "ConvolutionParameter" */
    const sc_schema_field *fields;
    size_t n_fields;
} sc_schema_message;

/* The message named type ("NetParameter", "LayerParameter", ...) or NULL. */
const sc_schema_message *sc_schema_find(const char *message_type);

/* All messages, for tests and tools. */
const sc_schema_message *const *sc_schema_messages(size_t *count);

/* Field by name / by number, or NULL. */
const sc_schema_field *sc_schema_field_find(const sc_schema_message *msg, const char *name);
const sc_schema_field *sc_schema_field_by_number(const sc_schema_message *msg, int number);

/* Enum value by name / by number, or NULL. */
const sc_schema_enum_value *sc_schema_enum_find(const sc_schema_enum *e, const char *name);
const sc_schema_enum_value *sc_schema_enum_by_number(const sc_schema_enum *e, int number);

/* "int32", "float", "message", ... */
const char *sc_schema_type_name(sc_schema_type type);

/* Checks the tree rooted at root (a message node, e.g. from sc_prototxt_parse_file)
 * against message_type ("NetParameter", "SolverParameter", ...), recursively.
 * Reports the first problem as SC_ERR_PARSE with FILE:LINE:COL:
 *   unknown field ('kernel_sise' in ConvolutionParameter, with a suggestion),
 *   a message block where a scalar is expected and vice versa,
 *   a value of the wrong type (string for an int, 1.5 for an int, out of range,
 *   bad bool), an enum value not in the enum (listing the allowed names),
 *   a non-repeated field given twice or in list form, a missing required field.
 * Protobuf accepts an enum's number as well as its name, and SphereFace's own
 * prototxts write `operation: 1`; validation rewrites such numbers into their
 * names (kind SC_PT_IDENT), which is why root is not const: after a successful
 * validation every enum field reads as a name through sc_pt_get_enum.
 * An unknown message_type is SC_ERR_ARG; SC_ERR_NOMEM is possible. */
sc_status sc_schema_validate(sc_pt_node *root, const char *message_type, sc_error *err);

#endif
