/*===- loss.c - losses and their directional derivatives --------*- C -*-===*/
/* Compiled with -ffp-contract=off (kanrt/loss.h): one rounding per
   operation, in the order written. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

#define DEFINE_XENT(T, SFX)                                                    \
  kan_status kan_loss_softmax_xent_##SFX(                                      \
      int64_t n, int64_t classes, const T *z, const int64_t *labels,           \
      const T *zt, int64_t width, T *loss, T *alphas) {                        \
    double acc = 0.0, *ad = NULL;                                              \
    int64_t i, c, d;                                                           \
    if (n < 0 || classes < 1 || width < 0 || !loss || (n && (!z || !labels)) \
        || (zt && width && !alphas))                                           \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_loss_softmax_xent: invalid argument");         \
    if (zt && width) {                                                         \
      ad = (double *)calloc((size_t)width, sizeof(double));                    \
      if (!ad)                                                                 \
        return kan_set_error(KAN_ERR_OUT_OF_MEMORY,                            \
                             "kan_loss_softmax_xent: out of memory");          \
    }                                                                          \
    for (i = 0; i < n; ++i) {                                                  \
      const T *zi = z + i * classes;                                           \
      int64_t y = labels[i];                                                   \
      double mx = zi[0], se = 0.0;                                             \
      if (y < 0 || y >= classes) {                                             \
        free(ad);                                                              \
        return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                         \
                             "kan_loss_softmax_xent: label out of range");     \
      }                                                                        \
      for (c = 1; c < classes; ++c)                                            \
        if (zi[c] > mx)                                                        \
          mx = zi[c];                                                          \
      for (c = 0; c < classes; ++c)                                            \
        se += exp((double)zi[c] - mx);                                         \
      acc += mx + log(se) - (double)zi[y];                                     \
      if (ad)                                                                  \
        for (c = 0; c < classes; ++c) {                                        \
          double g = exp((double)zi[c] - mx) / se - (c == y ? 1.0 : 0.0);      \
          for (d = 0; d < width; ++d)                                          \
            ad[d] += g * (double)zt[(d * n + i) * classes + c];                \
        }                                                                      \
    }                                                                          \
    *loss = (T)(acc / (double)n);                                              \
    if (ad)                                                                    \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)(ad[d] / (double)n);                                    \
    free(ad);                                                                  \
    return KAN_OK;                                                             \
  }

#define DEFINE_MSE(T, SFX)                                                     \
  kan_status kan_loss_mse_##SFX(int64_t n, int64_t classes, const T *z,        \
                                const T *target, const T *zt, int64_t width,   \
                                T *loss, T *alphas) {                          \
    double acc = 0.0, *ad = NULL;                                              \
    int64_t i, c, d;                                                           \
    if (n < 0 || classes < 1 || width < 0 || !loss ||                          \
        (n && (!z || !target)) || (zt && width && !alphas))                    \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_loss_mse: invalid argument");                  \
    if (zt && width) {                                                         \
      ad = (double *)calloc((size_t)width, sizeof(double));                    \
      if (!ad)                                                                 \
        return kan_set_error(KAN_ERR_OUT_OF_MEMORY,                            \
                             "kan_loss_mse: out of memory");                   \
    }                                                                          \
    for (i = 0; i < n; ++i) {                                                  \
      const T *zi = z + i * classes, *yi = target + i * classes;               \
      for (c = 0; c < classes; ++c) {                                          \
        double r = (double)zi[c] - (double)yi[c];                              \
        acc += r * r;                                                          \
        if (ad)                                                                \
          for (d = 0; d < width; ++d)                                          \
            ad[d] += 2.0 * r * (double)zt[(d * n + i) * classes + c];          \
      }                                                                        \
    }                                                                          \
    *loss = (T)(acc / ((double)n * (double)classes));                          \
    if (ad)                                                                    \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)(ad[d] / ((double)n * (double)classes));                \
    free(ad);                                                                  \
    return KAN_OK;                                                             \
  }

DEFINE_XENT(double, f64)
DEFINE_XENT(float, f32)
DEFINE_MSE(double, f64)
DEFINE_MSE(float, f32)
