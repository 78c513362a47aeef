/* SHA-256 (FIPS 180-4), small and dependency-free.
 *
 * Used to compare decoded pixels with the reference checksums in
 * ../shared (e.g. models/mobilefacenet/golden.txt), so a JPEG decoder that
 * differs from the reference one is caught before it skews network outputs. */
#ifndef SC_SHA256_H
#define SC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SC_SHA256_DIGEST_SIZE 32
#define SC_SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

typedef struct sc_sha256 {
    uint32_t state[8];
    uint64_t length;       /* bytes hashed so far */
    unsigned char block[64];
    size_t fill;           /* bytes waiting in block */
} sc_sha256;

void sc_sha256_init(sc_sha256 *s);
void sc_sha256_update(sc_sha256 *s, const void *data, size_t size);
void sc_sha256_final(sc_sha256 *s, unsigned char digest[SC_SHA256_DIGEST_SIZE]);

/* One-shot digest of a buffer as 64 lowercase hex digits. */
void sc_sha256_hex(const void *data, size_t size, char hex[SC_SHA256_HEX_SIZE]);

#endif
