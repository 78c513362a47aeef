/* Central finite differences for checking backward passes against a forward.
 *
 * An op test wraps its reference forward in a small adapter
 *     static void fwd(void *ctx, const double *in, double *out) { ... }
 * that reads everything else it needs from ctx, and asks for the gradient of
 *     L(in) = sum_o top_diff[o] * f(in)[o]
 * with respect to some or all entries of `in`, which is exactly what a backward
 * pass computes when top_diff arrives at the output.
 */
#ifndef REF_GRAD_H
#define REF_GRAD_H

#include <stddef.h>
#include <stdint.h>

typedef void (*ref_fd_fn)(void *ctx, const double *in, double *out);

/* grad_out[k] = (L(in + h e_i) - L(in - h e_i)) / (2h) for i = indices[k],
 * k < n_idx; with indices == NULL every entry i < n_in is done and grad_out has
 * n_in values. The step actually taken ((x+h) - (x-h), as represented) is the
 * divisor. `in` is perturbed one entry at a time and restored bit for bit.
 * Allocates two scratch buffers of n_out doubles; returns 0, or -1 when that fails. */
int ref_fd_grad(ref_fd_fn f, void *ctx, double *in, size_t n_in, size_t n_out,
                const double *top_diff, double h, const size_t *indices, size_t n_idx,
                double *grad_out);

/* max_k |fd[k] - analytic[i_k]| / max_i |analytic[i]| (all n_in entries in the
 * denominator; floor 1e-300), where i_k = indices[k], or k when indices == NULL. */
double ref_fd_rel_err(const double *analytic, size_t n_in, const size_t *indices,
                      size_t n_idx, const double *fd);

/* n_idx distinct indices in [0, n), increasing, chosen deterministically from
 * seed; n_idx >= n gives 0..n-1 (and n_idx is clamped to n). Returns n_idx used. */
size_t ref_pick_indices(size_t n, size_t n_idx, uint64_t seed, size_t *indices);

#endif
