/* The host memory behind the buffers of CPU devices, in transparent huge
 * pages where the kernel allows them (madvise mode, Debian's default).
 *
 * On a CPU device a buffer is host memory that is faulted in on first
 * touch. SphereFace-20's training net touches ~800 MiB in its first
 * iteration and its build: with 4 KiB pages on the development VM (page
 * faults are expensive under its hypervisor) that cost ~1 s in the net's
 * build and ~1 s more in the first iteration, most of a second start
 * (bench/README.md, "Start-up"). 2 MiB pages take 512 times fewer faults
 * (and TLB entries). The buffer is created over this memory with
 * CL_MEM_USE_HOST_PTR (PoCL then uses it as the device memory, no copy)
 * and unmapped by the buffer's destructor callback. Small buffers keep the
 * driver's own allocation. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "ctx_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

typedef struct host_region {
    void *base;
    size_t length;
} host_region;

static void CL_CALLBACK region_unmap(cl_mem mem, void *user)
{
    (void)mem;
    host_region *r = user;
    munmap(r->base, r->length);
    free(r);
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

cl_mem sc_host_buffer_create(cl_context context, size_t bytes, cl_int *rc)
{
    host_region *r = malloc(sizeof *r);
    if (!r) {
        *rc = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    /* one huge page more, so the region can start on a huge-page boundary */
    r->length = round_up(bytes, HUGE_PAGE) + HUGE_PAGE;
    r->base = mmap(NULL, r->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->base == MAP_FAILED) {
        free(r);
        *rc = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    char *start = (char *)round_up((uintptr_t)r->base, HUGE_PAGE);
    /* whole huge pages only: the tail (< 2 MiB) stays in small pages, so a
     * buffer never holds more resident memory than it uses (a hint: the
     * kernel may refuse it) */
    (void)madvise(start, bytes / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
    cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, start, rc);
    if (*rc == CL_SUCCESS)
        *rc = clSetMemObjectDestructorCallback(m, region_unmap, r);
    if (*rc == CL_SUCCESS)
        return m;
    if (m)
        clReleaseMemObject(m); /* the callback was not set: unmap here */
    munmap(r->base, r->length);
    free(r);
    return NULL;
}
