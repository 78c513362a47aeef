/* libFuzzer target for the .solverstate reader (graph/solver_state_read.c).
 *
 * Besides "no crash, no leak, no huge allocation", it checks what the
 * trainer relies on: everything an accepted file points at lies inside the
 * input. Seeds are states written by sphere-train; because of the CRC the
 * target also fixes the checksum of a mutated input with probability 1/2, so
 * the fuzzer reaches the fields behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sc_runtime.h"
#include "solver_state_file.h"

static int inside(const unsigned char *p, size_t n, const unsigned char *base, size_t size)
{
    return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

static void check(const unsigned char *data, size_t size)
{
    sc_state_file f;
    sc_error err;
    if (sc_state_file_parse(data, size, "fuzz", &f, &err) != SC_OK)
        return;
    for (size_t i = 0; i < f.n_params; i++)
        for (uint32_t k = 0; k < f.histories; k++)
            if (!inside(f.params[i].history[k], (size_t)f.params[i].count * 4, data, size) ||
                memchr(f.params[i].name, 0, sizeof f.params[i].name) == NULL)
                __builtin_trap();
    if (f.histories < 1 || f.histories > 2 || !inside(f.user, (size_t)f.user_size, data, size))
        __builtin_trap();
    sc_state_file_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size < 8 || !(data[size - 1] & 1))
        return 0;
    unsigned char *fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    uint32_t crc = sc_crc32(0, fixed, size - 4);
    memcpy(fixed + size - 4, &crc, 4);
    check(fixed, size);
    free(fixed);
    return 0;
}
