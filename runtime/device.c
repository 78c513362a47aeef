/* Enumerating OpenCL platforms/devices and picking one from a selector. */
#include "sc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 32

#define NO_PLATFORM_HINT                                                                     \
    "no OpenCL platform found: install an OpenCL driver, e.g. on Debian "                    \
    "'apt-get install ocl-icd-libopencl1 pocl-opencl-icd' (CPU) or your GPU vendor's ICD"

const char *sc_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "ACCELERATOR";
    return "OTHER";
}

static void get_string(cl_device_id d, cl_device_info what, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (clGetDeviceInfo(d, what, cap, dst, NULL) != CL_SUCCESS)
        dst[0] = '\0';
    dst[cap - 1] = '\0';
}

static int has_extension(cl_device_id d, const char *ext)
{
    size_t size = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, size, buf, NULL) == CL_SUCCESS) {
        buf[size] = '\0';
        found = strstr(buf, ext) != NULL;
    }
    free(buf);
    return found;
}

/* A numeric device query; a failure names the query. */
static sc_status query(cl_device_id d, cl_device_info what, const char *name, size_t size,
                       void *dst, sc_error *err)
{
    cl_int rc = clGetDeviceInfo(d, what, size, dst, NULL);
    if (rc != CL_SUCCESS)
        return sc_fail(err, SC_ERR_OPENCL, "clGetDeviceInfo(%s) failed: %s", name,
                       sc_cl_error_name(rc));
    return SC_OK;
}

static sc_status read_info(cl_platform_id p, cl_device_id d, sc_device_info *info, sc_error *err)
{
    memset(info, 0, sizeof *info);
    get_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_string(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    get_string(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) !=
        CL_SUCCESS)
        info->platform[0] = '\0';
    info->platform[sizeof info->platform - 1] = '\0';
    SC_TRY(query(d, CL_DEVICE_TYPE, "CL_DEVICE_TYPE", sizeof info->type, &info->type, err));
    SC_TRY(query(d, CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS",
                 sizeof info->compute_units, &info->compute_units, err));
    SC_TRY(query(d, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE",
                 sizeof info->global_mem, &info->global_mem, err));
    SC_TRY(query(d, CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE", sizeof info->local_mem,
                 &info->local_mem, err));
    SC_TRY(query(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE",
                 sizeof info->max_alloc, &info->max_alloc, err));
    SC_TRY(query(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE",
                 sizeof info->max_work_group, &info->max_work_group, err));
    cl_uint align_bits = 0;
    SC_TRY(query(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN, "CL_DEVICE_MEM_BASE_ADDR_ALIGN",
                 sizeof align_bits, &align_bits, err));
    info->base_align = align_bits >= 8 ? align_bits / 8 : 1;
    /* optional before OpenCL 1.2 on some drivers: a failure means no fp64 */
    cl_device_fp_config fp64 = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) != CL_SUCCESS)
        fp64 = 0;
    info->fp64 = fp64 != 0 || has_extension(d, "cl_khr_fp64");
    info->fp16 = has_extension(d, "cl_khr_fp16");
    return SC_OK;
}

/* Appends the devices of one platform to list (capacity checked by caller). */
static sc_status add_platform_devices(cl_platform_id p, int pi, sc_device_entry *list, int *count,
                                      sc_error *err)
{
    cl_device_id ids[MAX_DEVICES_PER_PLATFORM];
    cl_uint n = 0;
    cl_int rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, ids, &n);
    if (rc == CL_DEVICE_NOT_FOUND)
        return SC_OK;
    if (rc != CL_SUCCESS)
        return sc_fail(err, SC_ERR_OPENCL, "clGetDeviceIDs(platform %d): %s", pi,
                       sc_cl_error_name(rc));
    if (n > MAX_DEVICES_PER_PLATFORM)
        n = MAX_DEVICES_PER_PLATFORM;
    for (cl_uint di = 0; di < n; di++) {
        sc_device_entry *e = &list[*count];
        e->index = *count;
        e->platform = pi;
        e->device = (int)di;
        e->platform_id = p;
        e->device_id = ids[di];
        SC_TRY(read_info(p, ids[di], &e->info, err));
        (*count)++;
    }
    return SC_OK;
}

sc_status sc_devices_list(sc_device_entry **out, int *count, sc_error *err)
{
    *out = NULL;
    *count = 0;
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, platforms, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0))
        return sc_fail(err, SC_ERR_NO_PLATFORM, NO_PLATFORM_HINT);
    if (rc != CL_SUCCESS)
        return sc_fail(err, SC_ERR_OPENCL, "clGetPlatformIDs: %s", sc_cl_error_name(rc));
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    sc_device_entry *list = calloc((size_t)np * MAX_DEVICES_PER_PLATFORM, sizeof *list);
    if (!list)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory listing devices");
    for (cl_uint pi = 0; pi < np; pi++) {
        sc_status st = add_platform_devices(platforms[pi], (int)pi, list, count, err);
        if (st != SC_OK) {
            free(list);
            *count = 0;
            return st;
        }
    }
    if (*count == 0) {
        free(list);
        return sc_fail(err, SC_ERR_NO_DEVICE, "OpenCL platforms found, but no devices on them");
    }
    *out = list;
    return SC_OK;
}

static int find_type(const sc_device_entry *list, int count, cl_device_type type)
{
    for (int i = 0; i < count; i++)
        if (list[i].info.type & type)
            return i;
    return -1;
}

sc_status sc_devices_pick(const sc_device_entry *list, int count, const sc_selector *sel,
                          int *chosen, sc_error *err)
{
    int i = -1;
    switch (sel->kind) {
    case SC_SEL_DEFAULT:
        i = find_type(list, count, CL_DEVICE_TYPE_GPU);
        if (i < 0)
            i = find_type(list, count, CL_DEVICE_TYPE_CPU);
        if (i < 0)
            i = count > 0 ? 0 : -1;
        break;
    case SC_SEL_CPU:
        i = find_type(list, count, CL_DEVICE_TYPE_CPU);
        break;
    case SC_SEL_GPU:
        i = find_type(list, count, CL_DEVICE_TYPE_GPU);
        break;
    case SC_SEL_INDEX:
        i = sel->index < count ? sel->index : -1;
        break;
    case SC_SEL_PD:
        for (int k = 0; k < count; k++)
            if (list[k].platform == sel->platform && list[k].device == sel->device)
                i = k;
        break;
    }
    if (i < 0) {
        char what[64];
        switch (sel->kind) {
        case SC_SEL_INDEX: snprintf(what, sizeof what, "device index %d", sel->index); break;
        case SC_SEL_PD: snprintf(what, sizeof what, "device %d:%d", sel->platform, sel->device); break;
        case SC_SEL_CPU: snprintf(what, sizeof what, "CPU device"); break;
        case SC_SEL_GPU: snprintf(what, sizeof what, "GPU device"); break;
        default: snprintf(what, sizeof what, "default device"); break;
        }
        return sc_fail(err, SC_ERR_NO_DEVICE,
                       "%s not found among the %d OpenCL device(s) (run sphere-devices to list them)",
                       what, count);
    }
    *chosen = i;
    return SC_OK;
}
