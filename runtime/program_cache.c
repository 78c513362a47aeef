/* On-disk cache of compiled program binaries, keyed by device, driver,
 * source and build options. A damaged entry is detected (magic, key, size,
 * CRC32), deleted and reported as a miss: the cache is never trusted blindly
 * and never a reason to fail. */
#include "ctx_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "SCLCACHE"
#define CACHE_VERSION 1u

typedef struct cache_header {
    char magic[8];
    uint32_t version;
    uint32_t crc;
    uint64_t key;
    uint64_t size;
} cache_header;

uint64_t sc_cache_key(const sc_ctx *ctx, const char *source, const char *options)
{
    uint64_t h = sc_hash64(&(uint32_t){CACHE_VERSION}, sizeof(uint32_t), 0);
    const char *parts[] = {ctx->info.platform, ctx->info.name,   ctx->info.version,
                           ctx->info.driver,   options ? options : "", source};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = sc_hash64(parts[i], strlen(parts[i]) + 1, h); /* +1: NUL separates fields */
    return h;
}

static void entry_path(const sc_ctx *ctx, uint64_t key, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s/%016llx.bin", ctx->cache_dir, (unsigned long long)key);
}

static int read_whole(FILE *f, unsigned char **data, size_t *size)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return 0;
    long n = ftell(f);
    if (n < (long)sizeof(cache_header) || fseek(f, 0, SEEK_SET) != 0)
        return 0;
    *data = malloc((size_t)n);
    if (!*data)
        return 0;
    if (fread(*data, 1, (size_t)n, f) != (size_t)n) {
        free(*data);
        *data = NULL;
        return 0;
    }
    *size = (size_t)n;
    return 1;
}

static int entry_valid(const unsigned char *data, size_t size, uint64_t key)
{
    cache_header h;
    memcpy(&h, data, sizeof h);
    return memcmp(h.magic, CACHE_MAGIC, 8) == 0 && h.version == CACHE_VERSION && h.key == key &&
           h.size == size - sizeof h && h.size > 0 &&
           h.crc == sc_crc32(0, data + sizeof h, (size_t)h.size);
}

sc_status sc_cache_load(sc_ctx *ctx, uint64_t key, unsigned char **binary, size_t *size)
{
    *binary = NULL;
    *size = 0;
    if (!ctx->cache_dir[0])
        return SC_OK;
    char path[1200];
    entry_path(ctx, key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return SC_OK;
    unsigned char *data = NULL;
    size_t n = 0;
    int ok = read_whole(f, &data, &n);
    fclose(f);
    if (!ok || !entry_valid(data, n, key)) {
        ctx->program_stats.disk_corrupt++;
        free(data);
        unlink(path);
        return SC_OK;
    }
    memmove(data, data + sizeof(cache_header), n - sizeof(cache_header));
    *binary = data;
    *size = n - sizeof(cache_header);
    return SC_OK;
}

void sc_cache_store(sc_ctx *ctx, uint64_t key, const unsigned char *binary, size_t size)
{
    if (!ctx->cache_dir[0] || size == 0)
        return;
    sc_mkdirs(ctx->cache_dir, NULL); /* a failure shows as a failed fopen below */
    char path[1200], tmp[1300];
    entry_path(ctx, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    cache_header h;
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.key = key;
    h.size = size;
    h.crc = sc_crc32(0, binary, size);
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(binary, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    /* rename is atomic: concurrent processes see the old entry or the new one */
    if (ok && rename(tmp, path) == 0)
        ctx->program_stats.disk_stores++;
    else
        unlink(tmp);
}
