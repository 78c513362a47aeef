/* Small checksums: FNV-1a keys the program cache, CRC32 guards files. */
#include "sc_runtime.h"

uint64_t sc_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint32_t sc_crc32(uint32_t crc, const void *data, size_t len)
{
    /* Bitwise form: no table, so no global state; speed is irrelevant for
     * the few-megabyte files it guards. */
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
