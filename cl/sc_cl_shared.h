/* Constants the host launchers and the OpenCL kernels share. C code
 * includes this header; the runtime prepends it (then cl/common.cl) to every
 * program it builds, so each value is defined once for both sides. Plain
 * #defines only: it must parse as C and as OpenCL C. */
#ifndef SC_CL_SHARED_H
#define SC_CL_SHARED_H

/* Work-group size of the per-channel and per-row reductions (a power of
 * two). A device whose work-groups are smaller builds with -DREDUCE_LOCAL=n. */
#define SC_REDUCE_LOCAL 128

#endif
