/* Small utility kernels used by the runtime and its tests. */

/* y[i] = a * x[i] + y[i] */
__kernel void axpy(const int n, const float a, __global const float *x, __global float *y)
{
    const int i = get_global_id(0);
    if (i < n)
        y[i] += a * x[i];
}

/* x[i] = value */
__kernel void fill(const int n, const float value, __global float *x)
{
    const int i = get_global_id(0);
    if (i < n)
        x[i] = value;
}

/* y[i] = a * x[i] + b * y[i]; b == 0 overwrites y (even if it held NaN). */
__kernel void axpby(const int n, const float a, __global const float *x, const float b,
                    __global float *y)
{
    const int i = get_global_id(0);
    if (i < n)
        y[i] = (b == 0.0f) ? a * x[i] : a * x[i] + b * y[i];
}
