/* The .solverstate file format, parsed without a device (so the whole file
 * is checked before a net is touched, and the reader can be fuzzed). The
 * layout is described in solver_state.c. */
#ifndef SC_SOLVER_STATE_FILE_H
#define SC_SOLVER_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sc_error.h"

#define SC_STATE_MAGIC "SCSTATE"
#define SC_STATE_VERSION 3u            /* + the caffemodel's length and CRC32 */
#define SC_STATE_VERSION_NO_WEIGHTS 2u /* + solver type and histories */
#define SC_STATE_VERSION_SGD_ONLY 1u
#define SC_STATE_NAME_MAX 512

typedef struct sc_state_param {
    char name[SC_STATE_NAME_MAX];
    uint64_t count;
    const unsigned char *history[2]; /* count little-endian floats each, inside the file data */
} sc_state_param;

typedef struct sc_state_layer {
    char name[SC_STATE_NAME_MAX];
    uint64_t iteration;
    float lambda;
} sc_state_layer;

typedef struct sc_state_file {
    uint32_t version;
    uint64_t iteration;
    uint32_t type;       /* Caffe's SolverType number (SGD for version 1) */
    uint32_t histories;  /* per parameter: 1 or 2 */
    uint64_t weights_size; /* 0: not recorded (before version 3) */
    uint32_t weights_crc;
    sc_state_param *params;
    size_t n_params;
    sc_state_layer *layers;
    size_t n_layers;
    const unsigned char *user;
    uint64_t user_size;
} sc_state_file;

/* Parses a whole file held in data[0..size): magic first (a file that is not
 * a state says what it looks like), then the CRC, then every field with its
 * bounds. path names the file in messages. The result points into data. */
sc_status sc_state_file_parse(const unsigned char *data, size_t size, const char *path,
                              sc_state_file *out, sc_error *err);
void sc_state_file_free(sc_state_file *f);

#endif
