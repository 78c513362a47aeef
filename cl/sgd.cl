/* Caffe's SGD-family updates of one parameter blob (sgd_solvers.hpp and the
 * CUDA kernels of src/caffe/solvers), each fused into one pass in Caffe's order:
 *   Normalize:          diff *= 1/iter_size          (only when iter_size > 1)
 *   Regularize:         diff += local_decay * w      (L2)  or  * sign(w)  (L1)
 *   ComputeUpdateValue: the type's rule; the update value is left in diff
 *   Net::Update:        w -= diff
 * with local_rate = scalars[SGD_LR] * lr_mult, in float as Caffe computes it.
 *
 * Every kernel updates values [offset, offset + n) of its buffers, so a blob
 * may be a sub-range of flat parameter stores. Per-iteration values come from
 * `scalars`, whose slots SGD_LR, SGD_ADAM_CORRECTION and SGD_CLIP_SCALE the
 * host passes as build options (cl/ops_sgd.h defines them), so a recorded
 * plan replays as they change. ClipGradients' scale is computed on the device
 * (sgd_sumsq, sgd_clip_scale) before the updates read it. */

#ifndef SUMSQ_LOCAL
#define SUMSQ_LOCAL 256 /* work-group size of the reductions: a power of two */
#endif

/* The gradient ComputeUpdateValue sees: ClipGradients, Normalize, then
 * Regularize. sign() is 0 at 0, as caffe_cpu_sign. */
inline float sgd_gradient(float g, const float w, const float clip_scale, const float diff_scale,
                          const float local_decay, const int l1)
{
    g *= clip_scale;
    if (diff_scale != 1.0f)
        g *= diff_scale;
    if (local_decay != 0.0f)
        g += local_decay * (l1 ? sign(w) : w);
    return g;
}

#define SGD_COMMON_ARGS                                                                     \
    const int n, const int offset, __global float *w, __global float *diff,                \
        __global const float *scalars, const float lr_mult, const float local_decay,        \
        const float diff_scale, const int l1, const int clip

/* Binds i (the value's index) and g (its regularised gradient), or returns. */
#define SGD_PROLOGUE                                                                        \
    if ((int)get_global_id(0) >= n)                                                         \
        return;                                                                             \
    const int i = offset + (int)get_global_id(0);                                           \
    const float g = sgd_gradient(diff[i], w[i], clip ? scalars[SGD_CLIP_SCALE] : 1.0f,      \
                                 diff_scale, local_decay, l1);                              \
    const float local_rate = scalars[SGD_LR] * lr_mult

/* Caffe leaves the update value in the diff, then Net::Update subtracts it. */
#define SGD_APPLY(update)                                                                   \
    const float sgd_update_value = (update);                                                \
    diff[i] = sgd_update_value;                                                             \
    w[i] -= sgd_update_value

/* SGD: history = momentum*history + local_rate*g; the update is the history. */
__kernel void sgd_update(SGD_COMMON_ARGS, __global float *history, const float momentum)
{
    SGD_PROLOGUE;
    const float h = momentum * history[i] + local_rate * g;
    history[i] = h;
    SGD_APPLY(h);
}

/* Nesterov: the history as SGD, then step back and over-step:
 * update = (1 + momentum)*h_new - momentum*h_old. */
__kernel void nesterov_update(SGD_COMMON_ARGS, __global float *history, const float momentum)
{
    SGD_PROLOGUE;
    const float h_old = history[i];
    const float h = momentum * h_old + local_rate * g;
    history[i] = h;
    SGD_APPLY((1.0f + momentum) * h - momentum * h_old);
}

/* AdaGrad: history += g^2; update = local_rate * g / (sqrt(history) + delta). */
__kernel void adagrad_update(SGD_COMMON_ARGS, __global float *history, const float delta)
{
    SGD_PROLOGUE;
    const float h = history[i] + g * g;
    history[i] = h;
    SGD_APPLY(local_rate * g / (sqrt(h) + delta));
}

/* RMSProp: history = rms_decay*history + (1 - rms_decay)*g^2;
 * update = local_rate * g / (sqrt(history) + delta). */
__kernel void rmsprop_update(SGD_COMMON_ARGS, __global float *history, const float rms_decay,
                             const float delta)
{
    SGD_PROLOGUE;
    const float h = rms_decay * history[i] + (1.0f - rms_decay) * g * g;
    history[i] = h;
    SGD_APPLY(local_rate * g / (sqrt(h) + delta));
}

/* AdaDelta (momentum is the decay): history of squared gradients h, history
 * of squared updates h2 (Caffe's history_[N + i]);
 * u = g * sqrt((h2 + delta) / (h + delta)) with the new h, then h2 takes u^2,
 * and the update is local_rate * u. */
__kernel void adadelta_update(SGD_COMMON_ARGS, __global float *history, __global float *history2,
                              const float momentum, const float delta)
{
    SGD_PROLOGUE;
    const float h = momentum * history[i] + (1.0f - momentum) * g * g;
    history[i] = h;
    const float u = g * sqrt((history2[i] + delta) / (h + delta));
    history2[i] = momentum * history2[i] + (1.0f - momentum) * u * u;
    SGD_APPLY(local_rate * u);
}

/* Adam: m = beta1*m + (1 - beta1)*g, v = beta2*v + (1 - beta2)*g^2;
 * update = local_rate * correction * m / (sqrt(v) + delta), the correction
 * being the host's sqrt(1 - beta2^t) / (1 - beta1^t) for this iteration. */
__kernel void adam_update(SGD_COMMON_ARGS, __global float *m, __global float *v, const float beta1,
                          const float beta2, const float delta)
{
    SGD_PROLOGUE;
    const float mi = m[i] * beta1 + g * (1.0f - beta1);
    const float vi = v[i] * beta2 + g * g * (1.0f - beta2);
    m[i] = mi;
    v[i] = vi;
    SGD_APPLY(local_rate * scalars[SGD_ADAM_CORRECTION] * mi / (sqrt(vi) + delta));
}

/* Tree sum over the work-group of one value per item. */
inline float sgd_group_sum(const float v, __local float *scratch)
{
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = SUMSQ_LOCAL / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[0];
}

/* partial[slot + group] = the sum of diff^2 over the group's share of
 * [offset, offset + n) (a fixed order: the same sums every run). */
__kernel __attribute__((reqd_work_group_size(SUMSQ_LOCAL, 1, 1))) void
sgd_sumsq(const int n, const int offset, __global const float *diff, __global float *partial,
          const int slot)
{
    __local float scratch[SUMSQ_LOCAL];
    float s = 0.0f;
    for (int j = get_global_id(0); j < n; j += get_global_size(0)) {
        const float d = diff[offset + j];
        s += d * d;
    }
    s = sgd_group_sum(s, scratch);
    if (get_local_id(0) == 0)
        partial[slot + get_group_id(0)] = s;
}

/* One work-group: the L2 norm of every diff from the n partial sums, and
 * Caffe's scale: clip / norm when norm > clip, else 1. */
__kernel __attribute__((reqd_work_group_size(SUMSQ_LOCAL, 1, 1))) void
sgd_clip_scale(const int n, __global const float *partial, __global float *scalars,
               const float clip)
{
    __local float scratch[SUMSQ_LOCAL];
    float s = 0.0f;
    for (int j = get_local_id(0); j < n; j += SUMSQ_LOCAL)
        s += partial[j];
    s = sgd_group_sum(s, scratch);
    if (get_local_id(0) == 0) {
        const float norm = sqrt(s);
        scalars[SGD_CLIP_SCALE] = norm > clip ? clip / norm : 1.0f;
    }
}
