/* Caffe's SGDSolver update of one parameter blob (sgd_solver.cpp / .cu), fused
 * into one pass in Caffe's order:
 *   Normalize:          diff *= 1/iter_size          (only when iter_size > 1)
 *   Regularize:         diff += local_decay * w      (L2)  or  * sign(w)  (L1)
 *   ComputeUpdateValue: history = momentum*history + local_rate*diff; diff = history
 *   Net::Update:        w -= diff
 * with local_rate = lr[0] * lr_mult. The learning rate is read from a device
 * buffer so a recorded plan replays as the solver changes the rate. */

__kernel void sgd_update(const int n, __global float *w, __global float *diff,
                         __global float *history, __global const float *lr,
                         const float lr_mult, const float momentum, const float local_decay,
                         const float diff_scale, const int l1)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float local_rate = lr[0] * lr_mult;
    const float wi = w[i];
    float g = diff[i];
    if (diff_scale != 1.0f)
        g *= diff_scale;
    if (local_decay != 0.0f)
        g += local_decay * (l1 ? sign(wi) : wi);
    const float h = momentum * history[i] + local_rate * g;
    history[i] = h;
    diff[i] = h; /* Caffe leaves the update value in the diff */
    w[i] = wi - h;
}
