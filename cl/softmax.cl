/* Softmax over axis 1 (Caffe's SoftmaxLayer), SoftmaxWithLoss and Accuracy.
 *
 * Tensors are N x C x inner (inner = H*W); position (n, s) owns the C values
 * x[(n*C + c)*inner + s]. Two forms of each softmax kernel:
 *  - one work-item per position (coalesced along s when inner > 1);
 *  - one work-group per position with a local-memory tree reduction over C
 *    (the classifier case: inner == 1 and thousands of classes).
 * Both read each value and then write it from the same work-item, so y may
 * alias x (and dx may alias dy).
 *
 * Labels are floats holding integers (Caffe's label blob) and are converted as
 * Caffe's static_cast<int> (toward zero). A label outside [0, C) that is not
 * the ignore_label is counted as "bad" and treated as ignored everywhere (loss,
 * VALID normaliser, gradient, accuracy): the kernels never index with it. The
 * loss's saved buffer records how many there were, for the host to check. */

#ifndef FLT_MIN
#define FLT_MIN 0x1.0p-126f
#endif

/* Slots of the SoftmaxWithLoss saved buffer (SC_SOFTMAX_LOSS_* in ops_softmax.h). */
#define STATE_VALID 0
#define STATE_NORMALIZER 1
#define STATE_BAD_LABELS 2

/* Values of Caffe's LossParameter.NormalizationMode. */
#define NORM_FULL 0
#define NORM_VALID 1
#define NORM_BATCH_SIZE 2
#define NORM_NONE 3

/* Label classes of one position. */
#define LABEL_OK 0
#define LABEL_IGNORED 1
#define LABEL_BAD 2

inline void store_grad(__global float *dx, size_t i, float grad, float beta)
{
    dx[i] = beta == 0.0f ? grad : grad + beta * dx[i];
}

/* First element of position `pos` (= n*inner + s). */
inline size_t position_base(int pos, int C, int inner)
{
    const int n = pos / inner, s = pos - n * inner;
    return (size_t)n * C * inner + s;
}

/* ----------------------------------------------------------- Softmax */

/* y = exp(x - max) / sum exp(x - max) per position, as Caffe (max first,
 * then exp, then divide by the sum). */
__kernel void softmax_forward(const int positions, const int C, const int inner,
                              __global const float *x, __global float *y)
{
    const int pos = get_global_id(0);
    if (pos >= positions)
        return;
    const size_t base = position_base(pos, C, inner);
    float mx = x[base];
    for (int c = 1; c < C; c++)
        mx = fmax(mx, x[base + (size_t)c * inner]);
    float sum = 0.0f;
    for (int c = 0; c < C; c++) {
        const size_t i = base + (size_t)c * inner;
        const float e = exp(x[i] - mx);
        y[i] = e;
        sum += e;
    }
    for (int c = 0; c < C; c++)
        y[base + (size_t)c * inner] /= sum;
}

/* Same, one work-group per position; the work-group size is a power of two. */
__kernel void softmax_forward_group(const int C, const int inner, __global const float *x,
                                    __global float *y, __local float *scratch)
{
    const size_t base = position_base(get_group_id(0), C, inner);
    const int lid = get_local_id(0), L = get_local_size(0);
    float mx = -INFINITY;
    for (int c = lid; c < C; c += L)
        mx = fmax(mx, x[base + (size_t)c * inner]);
    mx = sc_group_max(mx, scratch);
    float sum = 0.0f;
    for (int c = lid; c < C; c += L) {
        const size_t i = base + (size_t)c * inner;
        const float e = exp(x[i] - mx);
        y[i] = e;
        sum += e;
    }
    sum = sc_group_sum(sum, scratch);
    for (int c = lid; c < C; c += L)
        y[base + (size_t)c * inner] /= sum;
}

/* dx = y * (dy - sum_c dy*y) per position. */
__kernel void softmax_backward(const int positions, const int C, const int inner,
                               __global const float *y, __global const float *dy,
                               __global float *dx, const float beta)
{
    const int pos = get_global_id(0);
    if (pos >= positions)
        return;
    const size_t base = position_base(pos, C, inner);
    float dot = 0.0f;
    for (int c = 0; c < C; c++) {
        const size_t i = base + (size_t)c * inner;
        dot += dy[i] * y[i];
    }
    for (int c = 0; c < C; c++) {
        const size_t i = base + (size_t)c * inner;
        store_grad(dx, i, y[i] * (dy[i] - dot), beta);
    }
}

__kernel void softmax_backward_group(const int C, const int inner, __global const float *y,
                                     __global const float *dy, __global float *dx,
                                     const float beta, __local float *scratch)
{
    const size_t base = position_base(get_group_id(0), C, inner);
    const int lid = get_local_id(0), L = get_local_size(0);
    float dot = 0.0f;
    for (int c = lid; c < C; c += L) {
        const size_t i = base + (size_t)c * inner;
        dot += dy[i] * y[i];
    }
    dot = sc_group_sum(dot, scratch);
    for (int c = lid; c < C; c += L) {
        const size_t i = base + (size_t)c * inner;
        store_grad(dx, i, y[i] * (dy[i] - dot), beta);
    }
}

/* ---------------------------------------------------- SoftmaxWithLoss */

/* Caffe's static_cast<int>(label); NaN becomes INT_MIN so it is never valid. */
inline int label_value(float label)
{
    return isnan(label) ? INT_MIN : convert_int_sat_rtz(label);
}

inline int label_class(int label, int C, int has_ignore, int ignore_label)
{
    if (has_ignore && label == ignore_label)
        return LABEL_IGNORED;
    return (label < 0 || label >= C) ? LABEL_BAD : LABEL_OK;
}

/* Caffe's get_normalizer, then max(1, that). */
inline float loss_normalizer(int norm, int N, int inner, int valid)
{
    float z;
    switch (norm) {
    case NORM_FULL: z = (float)N * (float)inner; break;
    case NORM_VALID: z = (float)valid; break;
    case NORM_BATCH_SIZE: z = (float)N; break;
    default: z = 1.0f; break;
    }
    return fmax(z, 1.0f);
}

/* One work-group: loss[0] = sum over valid positions of -log(max(prob[label],
 * FLT_MIN)) / normaliser; saved = {valid count, normaliser, bad labels}. */
__kernel void softmax_loss_reduce(const int N, const int C, const int inner,
                                  __global const float *prob, __global const float *labels,
                                  const int has_ignore, const int ignore_label, const int norm,
                                  __global float *loss, __global float *saved,
                                  __local float *fscratch, __local int *iscratch)
{
    const int lid = get_local_id(0), L = get_local_size(0);
    const int positions = N * inner;
    float sum = 0.0f;
    int valid = 0, bad = 0;
    for (int pos = lid; pos < positions; pos += L) {
        const int label = label_value(labels[pos]);
        const int kind = label_class(label, C, has_ignore, ignore_label);
        if (kind == LABEL_OK) {
            const float p = prob[position_base(pos, C, inner) + (size_t)label * inner];
            sum -= log(fmax(p, FLT_MIN));
            valid++;
        }
        bad += kind == LABEL_BAD;
    }
    sum = sc_group_sum(sum, fscratch);
    valid = sc_group_sum_int(valid, iscratch);
    bad = sc_group_sum_int(bad, iscratch);
    if (lid == 0) {
        const float z = loss_normalizer(norm, N, inner, valid);
        loss[0] = sum / z;
        saved[STATE_VALID] = (float)valid;
        saved[STATE_NORMALIZER] = z;
        saved[STATE_BAD_LABELS] = (float)bad;
    }
}

/* dx = loss_weight * (prob - onehot(label)) / normaliser; 0 at ignored and bad
 * positions. The normaliser comes from the forward's saved buffer. */
__kernel void softmax_loss_backward(const int total, const int C, const int inner,
                                    __global const float *prob, __global const float *labels,
                                    const int has_ignore, const int ignore_label,
                                    __global const float *saved, const float loss_weight,
                                    __global float *dx, const float beta)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int s = i % inner;
    const int c = (i / inner) % C;
    const int n = i / (inner * C);
    const int label = label_value(labels[n * inner + s]);
    const int kind = label_class(label, C, has_ignore, ignore_label);
    const float scale = loss_weight / saved[STATE_NORMALIZER];
    const float grad = kind == LABEL_OK ? (prob[i] - (c == label ? 1.0f : 0.0f)) * scale : 0.0f;
    store_grad(dx, i, grad, beta);
}

/* ----------------------------------------------------------- Accuracy */

/* One work-group: accuracy[0] = fraction of valid positions where fewer than
 * top_k classes score >= the true class (ties count against, as Caffe); 0 when
 * no position is valid. */
__kernel void accuracy_reduce(const int N, const int C, const int inner,
                              __global const float *x, __global const float *labels,
                              const int top_k, const int has_ignore, const int ignore_label,
                              __global float *accuracy, __local int *scratch)
{
    const int lid = get_local_id(0), L = get_local_size(0);
    const int positions = N * inner;
    int correct = 0, count = 0;
    for (int pos = lid; pos < positions; pos += L) {
        const int label = label_value(labels[pos]);
        if (label_class(label, C, has_ignore, ignore_label) != LABEL_OK)
            continue;
        const size_t base = position_base(pos, C, inner);
        const float truth = x[base + (size_t)label * inner];
        int better = -1; /* the true class counts itself once */
        /* a NaN score makes the ranking meaningless: the position counts as
         * wrong (NaN compares false, which would otherwise rank it first) */
        int broken = !isfinite(truth);
        for (int c = 0; c < C && !broken; c++) {
            const float v = x[base + (size_t)c * inner];
            broken = isnan(v);
            better += v >= truth;
        }
        correct += !broken && better < top_k;
        count++;
    }
    correct = sc_group_sum_int(correct, scratch);
    count = sc_group_sum_int(count, scratch);
    if (lid == 0)
        accuracy[0] = count == 0 ? 0.0f : (float)correct / (float)count;
}
