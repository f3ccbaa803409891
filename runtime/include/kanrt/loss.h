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

/** \name The parts of a loss
 * Each loss above is these parts run in order: a check of the whole batch,
 * then per block of rows the rows' terms and g (the derivative of each
 * row's term with respect to z, before the mean; classes doubles per row),
 * their sum, and the tangents' sums. kan_omp_loss_* (kanrt/threads.h) runs
 * the rows and the directions of a block on several threads; every value is
 * still summed in row order, so the results are the same bits.
 * @{ */
/** Arguments and labels (the same errors as the whole loss). */
kan_status kan_loss_softmax_xent_check_f64(int64_t n, int64_t classes,
                                           const double *z,
                                           const int64_t *labels,
                                           const double *zt, int64_t width,
                                           const double *loss,
                                           const double *alphas);
kan_status kan_loss_softmax_xent_check_f32(int64_t n, int64_t classes,
                                           const float *z,
                                           const int64_t *labels,
                                           const float *zt, int64_t width,
                                           const float *loss,
                                           const float *alphas);
kan_status kan_loss_mse_check_f64(int64_t n, int64_t classes, const double *z,
                                  const double *target, const double *zt,
                                  int64_t width, const double *loss,
                                  const double *alphas);
kan_status kan_loss_mse_check_f32(int64_t n, int64_t classes, const float *z,
                                  const float *target, const float *zt,
                                  int64_t width, const float *loss,
                                  const float *alphas);
/** `rows` rows from z (labels in range): term[i] = logsumexp(z_i) -
 * z_i[y_i]; g (NULL: not computed) = softmax(z_i) - onehot(y_i). */
void kan_loss_softmax_xent_rows_f64(int64_t rows, int64_t classes,
                                    const double *z, const int64_t *labels,
                                    double *term, double *g);
void kan_loss_softmax_xent_rows_f32(int64_t rows, int64_t classes,
                                    const float *z, const int64_t *labels,
                                    double *term, double *g);
/** `rows` rows: term[e] = (z - y)^2 per element, g (NULL: not computed) =
 * 2 (z - y). */
void kan_loss_mse_rows_f64(int64_t rows, int64_t classes, const double *z,
                           const double *target, double *term, double *g);
void kan_loss_mse_rows_f32(int64_t rows, int64_t classes, const float *z,
                           const float *target, double *term, double *g);
/** The scratch of a loss over blocks of `rows` rows: ad (width + 1 sums,
 * zeroed), term (rows x terms_per_row) and, with tangents, g (rows x
 * classes; else NULL). 0 on success; on failure nothing stays allocated. */
int kan_loss_scratch(int64_t rows, int64_t terms_per_row, int64_t classes,
                     int64_t width, int tangents, double **ad, double **term,
                     double **g);
void kan_loss_scratch_free(double *ad, double *term, double *g);
/** acc plus term[0..count) in order. */
double kan_loss_sum(int64_t count, const double *term, double acc);
/** For d in [d0, d1): ad[d] += sum_e g[e] zt[d * ldt + e] over the rows x
 * classes elements of a block, in order (zt points at the block's first
 * row of direction 0; ldt = n * classes). */
void kan_loss_tangents_f64(int64_t rows, int64_t classes, const double *g,
                           const double *zt, int64_t ldt, int64_t d0,
                           int64_t d1, double *ad);
void kan_loss_tangents_f32(int64_t rows, int64_t classes, const double *g,
                           const float *zt, int64_t ldt, int64_t d0,
                           int64_t d1, double *ad);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* KANRT_LOSS_H */
