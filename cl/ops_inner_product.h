/* InnerProduct (Caffe `InnerProduct`, axis 1): the input N x C x H x W is
 * read as M = N rows of K = C*H*W features; y is M x num_output (shape
 * M x num_output x 1 x 1). y = x W^T + b with W stored num_output x K
 * (Caffe's default), or y = x W with W stored K x num_output when
 * `transpose: true`. One GEMM, with the bias broadcast into y first.
 * Backward: dW += dy^T x (or x^T dy when transposed), db += column sums of
 * dy, dx = dy W (beta_dx as the GEMM's beta). */
#ifndef SC_OPS_INNER_PRODUCT_H
#define SC_OPS_INNER_PRODUCT_H

typedef struct sc_inner_product_params {
    int num_output; /* N */
    int bias_term;  /* nonzero: a bias of num_output values */
    int transpose;  /* nonzero: W is stored K x N */
} sc_inner_product_params;

/* M x num_output x 1 x 1. */
sc_status sc_inner_product_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                                        const sc_inner_product_params *p, sc_shape *out);

/* The weight blob shape: num_output x K x 1 x 1, or K x num_output x 1 x 1
 * with transpose (Caffe's 2-D blob as n x c). */
sc_shape sc_inner_product_weight_shape(sc_shape in, const sc_inner_product_params *p);

/* y = x W^T + b (see above); w_shape must equal sc_inner_product_weight_shape. */
sc_status sc_inner_product_forward(sc_plan *plan, const char *name,
                                   const sc_inner_product_params *p, sc_shape in, cl_mem x,
                                   sc_shape w_shape, cl_mem w, cl_mem bias, cl_mem y);

/* dx = beta_dx * dx + dy W (NULL: skipped), dw += dL/dw (NULL: skipped),
 * db += column sums of dy (NULL or no bias_term: skipped). */
sc_status sc_inner_product_backward(sc_plan *plan, const char *name,
                                    const sc_inner_product_params *p, sc_shape in, cl_mem x,
                                    sc_shape w_shape, cl_mem w, cl_mem dy, cl_mem dx,
                                    float beta_dx, cl_mem dw, cl_mem db);

#endif
