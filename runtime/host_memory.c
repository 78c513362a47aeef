/* Large host memory in transparent huge pages where the kernel allows them
 * (madvise mode, Debian's default): the buffers of CPU devices and oneDNN's
 * scratch arena.
 *
 * On a CPU device a buffer is host memory that is faulted in on first
 * touch. SphereFace-20's training net touches ~800 MiB in its first
 * iteration and its build: with 4 KiB pages on the development VM (page
 * faults are expensive under its hypervisor) that cost ~1 s in the net's
 * build and ~1 s more in the first iteration, most of a second start
 * (bench/README.md, "Start-up"). 2 MiB pages take 512 times fewer faults
 * (and TLB entries). A buffer is created over such memory with
 * CL_MEM_USE_HOST_PTR (PoCL then uses it as the device memory, no copy) and
 * freed by the buffer's destructor callback. Small buffers keep the
 * driver's own allocation. */
#define _DEFAULT_SOURCE /* madvise */
#include "ctx_internal.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define CACHE_LINE 64

void *sc_host_alloc_large(size_t bytes)
{
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : CACHE_LINE;
    void *p = NULL;
    if (bytes == 0 || posix_memalign(&p, align, bytes) != 0)
        return NULL;
    /* whole huge pages only: the tail (< 2 MiB) stays in small pages, so the
     * memory never holds more resident pages than it uses (a hint: the
     * kernel may refuse it) */
    if (align == HUGE_PAGE)
        (void)madvise(p, bytes / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
    return p;
}

static void CL_CALLBACK host_free(cl_mem mem, void *user)
{
    (void)mem;
    free(user);
}

cl_mem sc_host_buffer_create(cl_context context, size_t bytes, cl_int *rc)
{
    void *p = sc_host_alloc_large(bytes);
    if (!p) {
        *rc = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, p, rc);
    if (*rc == CL_SUCCESS)
        *rc = clSetMemObjectDestructorCallback(m, host_free, p);
    if (*rc == CL_SUCCESS)
        return m;
    if (m)
        clReleaseMemObject(m); /* the callback was not set: free here */
    free(p);
    return NULL;
}
