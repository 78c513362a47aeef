/* Training monitor: what the host must know about each iteration (the loss,
 * the training accuracy, whether anything went non-finite), gathered on the
 * device so the host reads a few floats once per iteration, and the check
 * that a parameter store is all finite before a snapshot. */

/* m[slot] += weight * v[0]; a non-finite v sets the sticky flag m[flag].
 * One work-item. */
__kernel void monitor_add(__global const float *v, const float weight, const int slot,
                          const int flag, __global float *m)
{
    if (get_global_id(0) != 0)
        return;
    const float x = v[0];
    m[slot] += weight * x;
    if (!isfinite(x))
        m[flag] = 1.0f;
}

/* flag[0] = 1 when any of x[0..n) is NaN or infinite (every writer writes 1:
 * the race is benign); the caller zeroes flag first. */
__kernel void monitor_nonfinite(const int n, __global const float *x, __global float *flag)
{
    const int i = get_global_id(0);
    if (i < n && !isfinite(x[i]))
        flag[0] = 1.0f;
}
