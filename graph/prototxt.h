/* Protobuf text format ("prototxt") parser producing a generic message tree.
 *
 * Accepts what Caffe writes and protobuf's TextFormat accepts:
 *   name: value            scalars (numbers, identifiers/enums, true/false, strings)
 *   name { ... }           messages; also `name: { ... }` and `name < ... >`
 *   name: [v1, v2, ...]    list form of a repeated field (scalars or messages)
 *   # comment              to the end of the line
 *   ; or ,                 optional separator after any field
 * Numbers: 12, -3, 0x1F, 017 (octal), 1.5, .5, 5., 1e-5, 1.0f, inf, -inf, nan.
 * Strings: '...' or "...", C escapes (\n \t \r \a \b \f \v \\ \' \" \? \ooo \xHH
 * \uXXXX \UXXXXXXXX), adjacent literals concatenated ("ab" 'cd' == "abcd").
 *
 * The tree keeps every occurrence in file order; a list `dim: [1, 2]` becomes two
 * `dim` nodes (with in_list set), so sc_pt_count/sc_pt_find see one shape either
 * way. Which fields exist and which types they take is the schema's business
 * (caffe_schema.h); this layer only knows the syntax.
 *
 * Errors are SC_ERR_PARSE with "FILE:LINE:COL: <what was found>, expected <what>"
 * (lines and columns from 1, columns in bytes), or SC_ERR_IO / SC_ERR_NOMEM. */
#ifndef SC_PROTOTXT_H
#define SC_PROTOTXT_H

#include <stddef.h>

#include "sc_error.h"

/* Messages nested deeper than this are rejected, so hostile input cannot
 * exhaust the stack of the recursive parser, validator or free. */
#define SC_PT_MAX_DEPTH 64

typedef enum sc_pt_kind {
    SC_PT_MESSAGE, /* name { ... } */
    SC_PT_STRING,  /* quoted, unescaped and concatenated; may contain NUL bytes */
    SC_PT_NUMBER,  /* numeric literal as written, with a leading '-' if negative */
    SC_PT_IDENT    /* identifier: enum value, true/false, inf/nan (optionally "-inf") */
} sc_pt_kind;

typedef struct sc_pt_node {
    char *name;           /* field name; "" for the root */
    sc_pt_kind kind;
    char *text;           /* scalars: NUL-terminated value text; NULL for messages */
    size_t text_len;      /* bytes in text, excluding the terminating NUL */
    struct sc_pt_node **children; /* messages: fields in file order */
    size_t n_children;
    size_t children_cap;  /* internal: allocated slots */
    const char *file;     /* file name as given to the parser; owned by the root */
    int line, col;        /* position of the field name (of the element for lists) */
    int in_list;          /* 1 when the value came from the `[a, b]` list form */
} sc_pt_node;

/* Parses a whole file. A missing or unreadable file is SC_ERR_IO naming the path. */
sc_status sc_prototxt_parse_file(const char *path, sc_pt_node **root, sc_error *err);

/* Parses len bytes of text (need not be NUL-terminated; NUL bytes are an error).
 * filename is only used in messages and node->file (NULL -> "<text>"). */
sc_status sc_prototxt_parse_text(const char *text, size_t len, const char *filename,
                                 sc_pt_node **root, sc_error *err);

/* Frees a tree returned by the parse functions (NULL is fine). */
void sc_pt_free(sc_pt_node *root);

/* Number of occurrences of field in msg (0 when msg is NULL or not a message). */
size_t sc_pt_count(const sc_pt_node *msg, const char *field);

/* The index-th occurrence of field in msg, or NULL. */
const sc_pt_node *sc_pt_find(const sc_pt_node *msg, const char *field, size_t index);

/* Typed getters for non-repeated fields. A missing field gives *out = def and
 * SC_OK. A field of the wrong kind or out of range is SC_ERR_PARSE naming
 * FILE:LINE:COL and the field. If the field occurs several times the last one
 * wins, as when protobuf merges binary messages (the schema rejects it anyway). */
sc_status sc_pt_get_int(const sc_pt_node *msg, const char *field, long long def,
                        long long *out, sc_error *err);
sc_status sc_pt_get_float(const sc_pt_node *msg, const char *field, double def,
                          double *out, sc_error *err);
/* true/True/t or 1 -> 1; false/False/f or 0 -> 0. */
sc_status sc_pt_get_bool(const sc_pt_node *msg, const char *field, int def, int *out,
                         sc_error *err);
/* *out points into the tree (or is def); it stays valid until sc_pt_free. */
sc_status sc_pt_get_string(const sc_pt_node *msg, const char *field, const char *def,
                           const char **out, sc_error *err);
/* Enum values must be written as identifiers; *out is the identifier text. */
sc_status sc_pt_get_enum(const sc_pt_node *msg, const char *field, const char *def,
                         const char **out, sc_error *err);

/* Conversions of one scalar node, for walking repeated fields with sc_pt_find. */
sc_status sc_pt_int_at(const sc_pt_node *node, long long *out, sc_error *err);
sc_status sc_pt_uint_at(const sc_pt_node *node, unsigned long long *out, sc_error *err);
sc_status sc_pt_float_at(const sc_pt_node *node, double *out, sc_error *err);
sc_status sc_pt_bool_at(const sc_pt_node *node, int *out, sc_error *err);

/* 1 when node is a NUMBER written as an integer literal (decimal, hex or octal),
 * whatever its magnitude; 0 for floats (1.0, 1e3, 1f), identifiers and the rest. */
int sc_pt_is_integer(const sc_pt_node *node);

/* Short human description of a node's value for messages, e.g. "number '3.5'",
 * "string \"abc\"", "identifier 'MAX'", "message block"; written to buf. */
const char *sc_pt_describe(const sc_pt_node *node, char *buf, size_t size);

#endif
