/* Reader for sphere-train --log-json files (JSON Lines): one object per
 * display line, {"iteration":N,"loss":X,"accuracy":X,"lambda":X,"lr":X,
 * "img_s":X,"wall_s":X}, a value null where the run has none.
 *
 * The parser takes any flat JSON object (keys in any order, unknown keys and
 * string/true/false values skipped, whitespace anywhere JSON allows it) so
 * that a hand-edited or merged log still reads; nested objects and arrays
 * are refused. A final line without its newline is a write cut short by a
 * killed run and is skipped; any other malformed line is an error naming
 * file:line. Appending to a log (a resumed run) may repeat iterations; they
 * are kept in file order. */
#ifndef SC_TRAIN_LOG_H
#define SC_TRAIN_LOG_H

#include <stddef.h>

#include "sc_error.h"

typedef enum sc_train_field {
    SC_LOG_LOSS,
    SC_LOG_ACCURACY,
    SC_LOG_LAMBDA,
    SC_LOG_LR,
    SC_LOG_IMG_S,
    SC_LOG_WALL_S,
    SC_LOG_FIELDS
} sc_train_field;

typedef struct sc_train_log {
    size_t n;
    double *iter;                  /* n iterations */
    double *v[SC_LOG_FIELDS];      /* n values each; NaN where null or absent */
} sc_train_log;

/* The JSON key of a field: "loss", "accuracy", "lambda", "lr", "img_s", "wall_s". */
const char *sc_train_field_key(sc_train_field f);

sc_status sc_train_log_read(const char *path, sc_train_log *log, sc_error *err);
/* Parses text of len bytes; name is used in messages. */
sc_status sc_train_log_parse(const char *text, size_t len, const char *name, sc_train_log *log,
                             sc_error *err);
void sc_train_log_free(sc_train_log *log);

#endif
