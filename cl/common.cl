/* Helpers every OpenCL program shares: the runtime prepends this file (after
 * sc_cl_shared.h) to each program, so a kernel file uses them without
 * declaring them. */

#ifndef REDUCE_LOCAL
#define REDUCE_LOCAL SC_REDUCE_LOCAL
#endif

/* Element j (0 <= j < N*HW) of channel c in an N x C x HW tensor: batch
 * n = j / HW, pixel j % HW. The per-channel reductions walk j. */
inline int sc_channel_element(const int j, const int c, const int C, const int HW)
{
    const int n = j / HW;
    return (n * C + c) * HW + (j - n * HW);
}

/* The sum of a float8's lanes in a fixed order. Per-plane kernels walk an
 * (n, c) plane of HW floats in float8 steps, one work-item per plane: a CPU
 * device runs that loop with its vector unit, a GPU reads whole 32-byte
 * sectors, and the per-channel sums over the planes follow in a fixed order
 * (deterministic, no float atomics). */
inline float sc_sum8(const float8 v)
{
    return ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
}

/* Tree reductions over a work-group whose size is a power of two: pairs at
 * distance L/2, L/4, ..., 1 (a fixed order: deterministic, no atomics).
 * Every work-item must call them and gets the result; s holds
 * get_local_size(0) values and is free again on return. */
#define SC_GROUP_REDUCE(NAME, T, COMBINE)                                                \
    inline T NAME(T v, __local T *s)                                                      \
    {                                                                                     \
        const int lid = get_local_id(0);                                                  \
        barrier(CLK_LOCAL_MEM_FENCE); /* s may still be read by a previous reduction */  \
        s[lid] = v;                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                     \
        for (int off = get_local_size(0) / 2; off > 0; off >>= 1) {                       \
            if (lid < off)                                                                \
                s[lid] = COMBINE(s[lid], s[lid + off]);                                   \
            barrier(CLK_LOCAL_MEM_FENCE);                                                 \
        }                                                                                 \
        const T r = s[0];                                                                 \
        barrier(CLK_LOCAL_MEM_FENCE);                                                     \
        return r;                                                                         \
    }
#define SC_ADD(a, b) ((a) + (b))
SC_GROUP_REDUCE(sc_group_max, float, fmax)
SC_GROUP_REDUCE(sc_group_sum, float, SC_ADD)
SC_GROUP_REDUCE(sc_group_sum_int, int, SC_ADD)
