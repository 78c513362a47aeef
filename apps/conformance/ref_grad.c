/* Central finite differences; see ref_grad.h. */
#include "ref_grad.h"

#include "sc_runtime.h"

#include <math.h>
#include <stdlib.h>

static double weighted_sum(const double *top_diff, const double *out, size_t n_out)
{
    double s = 0.0;
    for (size_t o = 0; o < n_out; o++)
        s += top_diff[o] * out[o];
    return s;
}

int ref_fd_grad(ref_fd_fn f, void *ctx, double *in, size_t n_in, size_t n_out,
                const double *top_diff, double h, const size_t *indices, size_t n_idx,
                double *grad_out)
{
    double *plus = malloc(sizeof(double) * (n_out ? n_out : 1));
    double *minus = malloc(sizeof(double) * (n_out ? n_out : 1));
    if (!plus || !minus) {
        free(plus);
        free(minus);
        return -1;
    }
    size_t count = indices ? n_idx : n_in;
    for (size_t k = 0; k < count; k++) {
        size_t i = indices ? indices[k] : k;
        double saved = in[i];
        double xp = saved + h, xm = saved - h;
        in[i] = xp;
        f(ctx, in, plus);
        in[i] = xm;
        f(ctx, in, minus);
        in[i] = saved;
        /* Divide by the step really taken: x +- h rounds in binary. */
        grad_out[k] = (weighted_sum(top_diff, plus, n_out) -
                       weighted_sum(top_diff, minus, n_out)) / (xp - xm);
    }
    free(plus);
    free(minus);
    return 0;
}

double ref_fd_rel_err(const double *analytic, size_t n_in, const size_t *indices,
                      size_t n_idx, const double *fd)
{
    double denom = 0.0, worst = 0.0;
    for (size_t i = 0; i < n_in; i++)
        denom = fmax(denom, fabs(analytic[i]));
    size_t count = indices ? n_idx : n_in;
    for (size_t k = 0; k < count; k++) {
        double d = fabs(fd[k] - analytic[indices ? indices[k] : k]);
        if (d != d) /* NaN: report it as a failure, not as 0 */
            return INFINITY;
        worst = fmax(worst, d);
    }
    return worst / (denom > 1e-300 ? denom : 1e-300);
}

size_t ref_pick_indices(size_t n, size_t n_idx, uint64_t seed, size_t *indices)
{
    if (n_idx >= n) {
        for (size_t i = 0; i < n; i++)
            indices[i] = i;
        return n;
    }
    /* Selection sampling (Knuth's algorithm S): each index kept with the exact
     * probability needed, so the picks come out distinct and in order. */
    uint64_t state = seed;
    size_t picked = 0;
    for (size_t i = 0; i < n && picked < n_idx; i++) {
        double u = (double)(sc_splitmix64(&state) >> 11) * 0x1.0p-53;
        if ((double)(n - i) * u < (double)(n_idx - picked))
            indices[picked++] = i;
    }
    return picked;
}
