/*===- kanrt/activity.h - activity-perturbed forward gradients --*- C -*-===*/
/** \file
 * The runtime side of the `activity` rule (Ren et al., "Scaling forward
 * gradient with local losses", ICLR 2023): a hidden layer's pre-activations
 * z (n x out) are perturbed per example and direction, the JVP of the loss
 * along each perturbation gives one scalar per example and direction, and
 * the estimate g_r = (1/D) sum_d a[d][r] u[d][r] of dL/dz_r updates the
 * layer's weights through the second GEMM sum_r g_r phi(x_r)^T. The output
 * layer takes its exact local derivative (softmax(z) - onehot(y)) / n.
 *
 * Every function exists for double (_f64) and float (_f32); sums run in the
 * element type in the order written (compiled without FMA contraction).
 */
#ifndef KANRT_ACTIVITY_H
#define KANRT_ACTIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Stream id of layer l's pre-activation perturbations (disjoint from the
 * parameter streams KAN_STREAM_ID of kanrt/optim.h). */
#define KAN_STREAM_ACTIVITY(layer) ((uint32_t)(0x40000000u + (uint32_t)(layer)))

/** u[d][r][o] (ndir x n x out) = the dense perturbation (kanrt/rng.h, dist
 * KAN_DIST_NORMAL or KAN_DIST_RADEMACHER) of direction first_dir + d at
 * element r*out + o, keyed by (seed, step, stream): one independent draw per
 * batch row, unit and direction. */
kan_status kan_perturb_activity_f64(uint64_t seed, uint32_t step,
                                    uint32_t first_dir, uint32_t ndir,
                                    uint32_t stream, int dist, int64_t n,
                                    int64_t out, double *u);
kan_status kan_perturb_activity_f32(uint64_t seed, uint32_t step,
                                    uint32_t first_dir, uint32_t ndir,
                                    uint32_t stream, int dist, int64_t n,
                                    int64_t out, float *u);

/** Per-example softmax cross-entropy terms of the batch mean L (labels in
 * [0, classes)): loss (may be NULL) = L as kan_loss_softmax_xent_*;
 * a[d*n + r] (when zt and a are not NULL) = (1/n) sum_c (p_rc - [c == y_r])
 * zt[(d*n + r)*classes + c], one scalar per example and direction, no sum
 * over the batch; delta[r*classes + c] (may be NULL) = (p_rc - [c == y_r]) /
 * n, the exact dL/dz; alphas[d] (may be NULL) = sum_r a[d*n + r] summed in
 * double in row order: the JVP of L along direction d. */
kan_status kan_loss_softmax_xent_examples_f64(int64_t n, int64_t classes,
                                              const double *z,
                                              const int64_t *labels,
                                              const double *zt, int64_t width,
                                              double *loss, double *alphas,
                                              double *a, double *delta);
kan_status kan_loss_softmax_xent_examples_f32(int64_t n, int64_t classes,
                                              const float *z,
                                              const int64_t *labels,
                                              const float *zt, int64_t width,
                                              float *loss, float *alphas,
                                              float *a, float *delta);

/** g[r*out + o] = (1/ndir) sum_d a[d*n + r] u[(d*n + r)*out + o]. */
kan_status kan_activity_estimate_f64(int64_t n, int64_t out, int64_t ndir,
                                     const double *a, const double *u,
                                     double *g);
kan_status kan_activity_estimate_f32(int64_t n, int64_t out, int64_t ndir,
                                     const float *a, const float *u,
                                     float *g);

/** The second GEMM of a layer: dW = sum_r g_r A_r^T (out x in(G+k+1)) with
 * A_r = [act(x_r) | flat(B(x_r))] the layer's features (kanrt/kernels.h),
 * taken through the packing W = [Wb | flat(C*S)]: dWb = dW[:, :in],
 * dC[o][i][j] = dW[o][in + i(G+k) + j] * S[o][i] (S = 1 without a scaler),
 * dS[o][i] = sum_j dW[o][in + i(G+k) + j] * C[o][i][j], all from the values
 * before the update. With grad_base == NULL the parameters are updated in
 * place, theta -= scale * dtheta; otherwise dtheta is written to
 * grad_base/grad_spline/grad_scaler (same shapes; grad_scaler only with a
 * scaler) and the parameters are left alone. scaler may be NULL. act is a
 * kan_activation. Runs the tiles of kan_activity_update_tile_* one after
 * the other with one tile's work, which it allocates. */
kan_status kan_activity_update_f64(int64_t n, int64_t in, int64_t out, int G,
                                   int k, int act, const double *x,
                                   const double *grid, const double *g,
                                   double scale, double *base_w,
                                   double *spline_w, double *scaler,
                                   double *grad_base, double *grad_spline,
                                   double *grad_scaler);
kan_status kan_activity_update_f32(int64_t n, int64_t in, int64_t out, int G,
                                   int k, int act, const float *x,
                                   const float *grid, const float *g,
                                   double scale, float *base_w,
                                   float *spline_w, float *scaler,
                                   float *grad_base, float *grad_spline,
                                   float *grad_scaler);

/** Elements of the work buffer of kan_activity_update_tile_* for tiles of
 * input_tile inputs and chunks of row_tile rows: 2 row_tile kb + out
 * (row_tile + kb) with kb = input_tile (G+k+1). 0 on invalid arguments or
 * overflow. */
size_t kan_activity_update_work_size(int64_t out, int G, int k,
                                     int64_t input_tile, int64_t row_tile);
/** One column tile of kan_activity_update_*: inputs [first_input,
 * first_input + input_tile) (clipped to in) of the layer. Their features
 * A = [act(x) | flat(B(x))] are computed from x (n x in, row stride ldx)
 * with the grid's knot data aux (kan_grid_prepare_*) row_tile rows at a
 * time, dW of the tile (out x input_tile(G+k+1)) is accumulated over the
 * chunks from g (n x out, row stride ldg), and the tile's weights (or
 * grad_*) are written as kan_activity_update_* does. Only those weights
 * are read or written, so tiles may run in parallel, each with its own
 * work (kan_activity_update_work_size elements); the result does not
 * depend on which tiles run together. */
kan_status kan_activity_update_tile_f64(
    int64_t n, int64_t in, int64_t out, int G, int k, int act,
    const double *x, int64_t ldx, const double *grid, const double *aux,
    const double *g, int64_t ldg, int64_t first_input, int64_t input_tile,
    int64_t row_tile, double scale, double *base_w, double *spline_w,
    double *scaler, double *grad_base, double *grad_spline,
    double *grad_scaler, double *work);
kan_status kan_activity_update_tile_f32(
    int64_t n, int64_t in, int64_t out, int G, int k, int act, const float *x,
    int64_t ldx, const float *grid, const float *aux, const float *g,
    int64_t ldg, int64_t first_input, int64_t input_tile, int64_t row_tile,
    double scale, float *base_w, float *spline_w, float *scaler,
    float *grad_base, float *grad_spline, float *grad_scaler, float *work);
#ifdef __cplusplus
}
#endif
#endif /* KANRT_ACTIVITY_H */
