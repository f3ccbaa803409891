/*===- kan_reference.h - naive KAN reference (tests only) -------*- C -*-===*/
/** \file
 * Obviously-correct double-precision reference of one efficient-kan layer,
 * its forward-mode JVP and the losses, for tests. Full Cox-de Boor over all
 * G+2k intervals with plain divisions, no tiling, no span tricks.
 * Layouts (row-major): x N x I; grid I x (G+2k+1); base_w O x I;
 * spline_w O x I x (G+k); scaler O x I (NULL = ones); y N x O;
 * B and dB N x I x (G+k). act: 0 = SiLU, 1 = identity (as KAN_ACT_*).
 */
#ifndef KAN_REFERENCE_H
#define KAN_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Cox-de Boor basis values B[n][i][j] of order k (0 outside the grid;
 * zero-denominator terms 0). */
void kanref_basis(size_t N, size_t I, int G, int k, const double *x,
                  const double *grid, double *B);

/** d/dx of the basis: k (B_{k-1}[j]/(t[j+k]-t[j]) - B_{k-1}[j+1]/(t[j+k+1]-
 * t[j+1])), zero-denominator terms 0. */
void kanref_basis_deriv(size_t N, size_t I, int G, int k, const double *x,
                        const double *grid, double *dB);

/** act(v) and act'(v) (act 0 = SiLU, 1 = identity). */
double kanref_act(int act, double v);
/** Derivative of kanref_act. */
double kanref_act_deriv(int act, double v);

/** y = act(x) Wb^T + flat(B(x)) flat(C*S)^T. */
void kanref_layer_forward(size_t N, size_t I, size_t O, int G, int k, int act,
                          const double *x, const double *grid,
                          const double *base_w, const double *spline_w,
                          const double *scaler, double *y);

/** Forward-mode derivative y' for tangents xt (NULL = 0), base_wt,
 * spline_wt, scaler_t (each NULL = 0) at the point (x, weights). */
void kanref_layer_jvp(size_t N, size_t I, size_t O, int G, int k, int act,
                      const double *x, const double *xt, const double *grid,
                      const double *base_w, const double *spline_w,
                      const double *scaler, const double *base_wt,
                      const double *spline_wt, const double *scaler_t,
                      double *yt);

/** mean((z - y)^2) over n values. */
double kanref_mse(size_t n, const double *z, const double *y);
/** mean(2 (z - y) z'). */
double kanref_mse_jvp(size_t n, const double *z, const double *y,
                      const double *zt);
/** Mean over N rows of softmax cross-entropy of logits z (N x C) against
 * integer labels. */
double kanref_softmax_xent(size_t N, size_t C, const double *z,
                           const int64_t *labels);
/** mean_n sum_c (softmax(z)_c - onehot_c) z'_c. */
double kanref_softmax_xent_jvp(size_t N, size_t C, const double *z,
                               const int64_t *labels, const double *zt);

#ifdef __cplusplus
}
#endif
#endif /* KAN_REFERENCE_H */
