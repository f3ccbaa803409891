/*===- loss.c - losses and their directional derivatives --------*- C -*-===*/
/* Compiled with -ffp-contract=off (kanrt/loss.h): one rounding per
   operation, in the order written. Each loss is built from its parts
   (check, rows, tangents, sum), which kan_omp_loss_* in kanrt/threads.h
   runs on several threads: the same parts in the same order per value. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* Rows per block of the serial losses: g and the terms of one block stay in
   cache (and the scratch small) while every direction reads them. */
#define KAN_LOSS_BLOCK_ROWS 64

void kan_loss_tangents_f64(int64_t rows, int64_t classes, const double *g,
                           const double *zt, int64_t ldt, int64_t d0,
                           int64_t d1, double *ad) {
  const int64_t m = rows * classes;
  int64_t d, e;
  for (d = d0; d < d1; ++d) {
    const double *t = zt + d * ldt;
    double s = ad[d];
    for (e = 0; e < m; ++e)
      s += g[e] * t[e];
    ad[d] = s;
  }
}

void kan_loss_tangents_f32(int64_t rows, int64_t classes, const double *g,
                           const float *zt, int64_t ldt, int64_t d0,
                           int64_t d1, double *ad) {
  const int64_t m = rows * classes;
  int64_t d, e;
  for (d = d0; d < d1; ++d) {
    const float *t = zt + d * ldt;
    double s = ad[d];
    for (e = 0; e < m; ++e)
      s += g[e] * (double)t[e];
    ad[d] = s;
  }
}

int kan_loss_scratch(int64_t rows, int64_t terms_per_row, int64_t classes,
                     int64_t width, int tangents, double **ad, double **term,
                     double **g) {
  *ad = (double *)calloc((size_t)width + 1, sizeof(double));
  *term = (double *)malloc(((size_t)rows * (size_t)terms_per_row + 1) *
                           sizeof(double));
  *g = tangents ? (double *)malloc(((size_t)rows * (size_t)classes + 1) *
                                   sizeof(double))
                : NULL;
  if (*ad && *term && (!tangents || *g))
    return 0;
  kan_loss_scratch_free(*ad, *term, *g);
  *ad = *term = *g = NULL;
  return 1;
}

void kan_loss_scratch_free(double *ad, double *term, double *g) {
  free(ad);
  free(term);
  free(g);
}

double kan_loss_sum(int64_t count, const double *term, double acc) {
  int64_t e;
  for (e = 0; e < count; ++e)
    acc += term[e];
  return acc;
}

#define DEFINE_XENT(T, SFX)                                                    \
  kan_status kan_loss_softmax_xent_check_##SFX(                                \
      int64_t n, int64_t classes, const T *z, const int64_t *labels,           \
      const T *zt, int64_t width, const T *loss, const T *alphas) {            \
    int64_t i;                                                                 \
    if (n < 0 || classes < 1 || width < 0 || !loss || (n && (!z || !labels)) \
        || (zt && width && !alphas))                                           \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_loss_softmax_xent: invalid argument");         \
    for (i = 0; i < n; ++i)                                                    \
      if (labels[i] < 0 || labels[i] >= classes)                               \
        return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                         \
                             "kan_loss_softmax_xent: label out of range");     \
    return KAN_OK;                                                             \
  }                                                                            \
                                                                               \
  void kan_loss_softmax_xent_rows_##SFX(int64_t rows, int64_t classes,         \
                                        const T *z, const int64_t *labels,     \
                                        double *term, double *g) {             \
    int64_t i, c;                                                              \
    for (i = 0; i < rows; ++i) {                                               \
      const T *zi = z + i * classes;                                           \
      const int64_t y = labels[i];                                             \
      double mx, se = kan_softmax_row_##SFX(classes, zi, &mx);                 \
      term[i] = mx + log(se) - (double)zi[y];                                  \
      if (g)                                                                   \
        for (c = 0; c < classes; ++c)                                          \
          g[i * classes + c] =                                                 \
              exp((double)zi[c] - mx) / se - (c == y ? 1.0 : 0.0);             \
    }                                                                          \
  }                                                                            \
                                                                               \
  kan_status kan_loss_softmax_xent_##SFX(                                      \
      int64_t n, int64_t classes, const T *z, const int64_t *labels,           \
      const T *zt, int64_t width, T *loss, T *alphas) {                        \
    double acc = 0.0, *ad = NULL, *term = NULL, *g = NULL;                     \
    const int tangents = zt && width;                                          \
    int64_t r, d, b;                                                           \
    kan_status st = kan_loss_softmax_xent_check_##SFX(                         \
        n, classes, z, labels, zt, width, loss, alphas);                       \
    if (st)                                                                    \
      return st;                                                               \
    b = n < KAN_LOSS_BLOCK_ROWS ? n : KAN_LOSS_BLOCK_ROWS;                     \
    if (kan_loss_scratch(b, 1, classes, width, tangents, &ad, &term, &g))      \
      return kan_set_error(KAN_ERR_OUT_OF_MEMORY,                              \
                           "kan_loss_softmax_xent: out of memory");            \
    for (r = 0; r < n; r += b) {                                               \
      const int64_t m = n - r < b ? n - r : b;                                 \
      kan_loss_softmax_xent_rows_##SFX(m, classes, z + r * classes,            \
                                       labels + r, term, g);                   \
      acc = kan_loss_sum(m, term, acc);                                        \
      if (tangents)                                                            \
        kan_loss_tangents_##SFX(m, classes, g, zt + r * classes, n * classes,  \
                                0, width, ad);                                 \
    }                                                                          \
    *loss = (T)(acc / (double)n);                                              \
    if (tangents)                                                              \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)(ad[d] / (double)n);                                    \
    kan_loss_scratch_free(ad, term, g);                                        \
    return KAN_OK;                                                             \
  }

#define DEFINE_MSE(T, SFX)                                                     \
  kan_status kan_loss_mse_check_##SFX(int64_t n, int64_t classes, const T *z,  \
                                      const T *target, const T *zt,            \
                                      int64_t width, const T *loss,            \
                                      const T *alphas) {                       \
    if (n < 0 || classes < 1 || width < 0 || !loss ||                          \
        (n && (!z || !target)) || (zt && width && !alphas))                    \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_loss_mse: invalid argument");                  \
    return KAN_OK;                                                             \
  }                                                                            \
                                                                               \
  void kan_loss_mse_rows_##SFX(int64_t rows, int64_t classes, const T *z,      \
                               const T *target, double *term, double *g) {     \
    int64_t e;                                                                 \
    for (e = 0; e < rows * classes; ++e) {                                     \
      const double r = (double)z[e] - (double)target[e];                       \
      term[e] = r * r;                                                         \
      if (g)                                                                   \
        g[e] = 2.0 * r;                                                        \
    }                                                                          \
  }                                                                            \
                                                                               \
  kan_status kan_loss_mse_##SFX(int64_t n, int64_t classes, const T *z,        \
                                const T *target, const T *zt, int64_t width,   \
                                T *loss, T *alphas) {                          \
    double acc = 0.0, *ad = NULL, *term = NULL, *g = NULL;                     \
    const int tangents = zt && width;                                          \
    int64_t r, d, b;                                                           \
    kan_status st = kan_loss_mse_check_##SFX(n, classes, z, target, zt, width, \
                                             loss, alphas);                    \
    if (st)                                                                    \
      return st;                                                               \
    b = n < KAN_LOSS_BLOCK_ROWS ? n : KAN_LOSS_BLOCK_ROWS;                     \
    if (kan_loss_scratch(b, classes, classes, width, tangents, &ad, &term,     \
                         &g))                                                  \
      return kan_set_error(KAN_ERR_OUT_OF_MEMORY,                              \
                           "kan_loss_mse: out of memory");                     \
    for (r = 0; r < n; r += b) {                                               \
      const int64_t m = n - r < b ? n - r : b;                                 \
      kan_loss_mse_rows_##SFX(m, classes, z + r * classes,                     \
                              target + r * classes, term, g);                  \
      acc = kan_loss_sum(m * classes, term, acc);                              \
      if (tangents)                                                            \
        kan_loss_tangents_##SFX(m, classes, g, zt + r * classes, n * classes,  \
                                0, width, ad);                                 \
    }                                                                          \
    *loss = (T)(acc / ((double)n * (double)classes));                          \
    if (tangents)                                                              \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)(ad[d] / ((double)n * (double)classes));                \
    kan_loss_scratch_free(ad, term, g);                                        \
    return KAN_OK;                                                             \
  }

DEFINE_XENT(double, f64)
DEFINE_XENT(float, f32)
DEFINE_MSE(double, f64)
DEFINE_MSE(float, f32)
