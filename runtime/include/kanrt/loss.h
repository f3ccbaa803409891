/*===- kanrt/loss.h - losses and their directional derivatives --*- C -*-===*/
/** \file
 * Batch-mean losses of n rows of `classes` outputs z (row-major), and, when
 * `zt` is not NULL, their derivatives along `width` tangents of z stored
 * direction-major (zt[(d * n + i) * classes + c]):
 *  - softmax cross-entropy with integer labels y[i] in [0, classes):
 *    L = mean_i (logsumexp(z_i) - z_i[y_i]),
 *    L'_d = mean_i sum_c (softmax(z_i)_c - [c == y_i]) zt_d[i, c];
 *  - mean squared error: L = mean_{i,c} (z - y)^2,
 *    L'_d = mean_{i,c} 2 (z - y) zt_d[i, c].
 * Sums run in double, in row order, for both element types; the results
 * are rounded to the element type once. Compiled without FMA contraction:
 * the result is the same on every x86-64 machine.
 */
#ifndef KANRT_LOSS_H
#define KANRT_LOSS_H

#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Softmax cross-entropy (see file comment); alphas receives width values
 * when zt is not NULL. KAN_ERR_INVALID_ARGUMENT for a label out of range. */
kan_status kan_loss_softmax_xent_f64(int64_t n, int64_t classes,
                                     const double *z, const int64_t *labels,
                                     const double *zt, int64_t width,
                                     double *loss, double *alphas);
kan_status kan_loss_softmax_xent_f32(int64_t n, int64_t classes,
                                     const float *z, const int64_t *labels,
                                     const float *zt, int64_t width,
                                     float *loss, float *alphas);
/** Mean squared error against `target` (n x classes). */
kan_status kan_loss_mse_f64(int64_t n, int64_t classes, const double *z,
                            const double *target, const double *zt,
                            int64_t width, double *loss, double *alphas);
kan_status kan_loss_mse_f32(int64_t n, int64_t classes, const float *z,
                            const float *target, const float *zt,
                            int64_t width, float *loss, float *alphas);

#ifdef __cplusplus
}
#endif

#endif /* KANRT_LOSS_H */
