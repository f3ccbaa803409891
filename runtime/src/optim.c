/*===- optim.c - fg and ternary (noise_step) updates ------------*- C -*-===*/
/* Compiled with -ffp-contract=off: the order and rounding of every
   operation is part of the documented contract (kanrt/optim.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Elements per chunk of the dense update; even so Box-Muller pairs stay
   inside one chunk (the result does not depend on it either way). */
#define DENSE_CHUNK 256
#define SPARSE_CHUNK 256

static int cmp_abs(const void *pa, const void *pb) {
  const double a = *(const double *)pa, b = *(const double *)pb;
  /* NaNs sort last so they never become the median of finite values. */
  if (a != a)
    return b != b ? 0 : 1;
  if (b != b)
    return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

kan_status kan_ternary_coefficients(size_t n, const double *alpha,
                                    double *tau) {
  double *mag, med;
  size_t i;
  if (n == 0)
    return KAN_OK;
  if (!alpha || !tau)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_ternary_coefficients: NULL argument");
  mag = (double *)malloc(n * sizeof *mag);
  if (!mag)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY,
                         "kan_ternary_coefficients: out of memory");
  for (i = 0; i < n; ++i)
    mag[i] = fabs(alpha[i]);
  qsort(mag, n, sizeof *mag, cmp_abs);
  med = mag[(n - 1) / 2]; /* lower median */
  free(mag);
  for (i = 0; i < n; ++i) {
    const double a = alpha[i];
    if (a != a || !(fabs(a) >= med))
      tau[i] = 0.0;
    else
      tau[i] = a > 0 ? 1.0 : a < 0 ? -1.0 : 0.0;
  }
  return KAN_OK;
}

#define DEFINE_DENSE_UPDATE(T, SFX)                                            \
  kan_status kan_update_dense_##SFX(uint64_t seed, uint32_t step,              \
                                    uint32_t ndir, uint32_t stream, int dist,  \
                                    size_t size, const double *coef,           \
                                    double scale, T *theta) {                  \
    double acc[DENSE_CHUNK], v[DENSE_CHUNK];                                   \
    size_t j0, j;                                                              \
    uint32_t i;                                                                \
    kan_status st;                                                             \
    if (size == 0)                                                             \
      return KAN_OK;                                                           \
    if (!theta || (ndir && !coef))                                             \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_update_dense: NULL argument");                 \
    /* validates dist and the element range before touching theta */         \
    st = kan_perturb_dense_range_f64(seed, step, 0, stream, dist, size, 0,     \
                                     v);                                       \
    if (st)                                                                    \
      return st;                                                               \
    for (j0 = 0; j0 < size; j0 += DENSE_CHUNK) {                               \
      const size_t cnt = size - j0 < DENSE_CHUNK ? size - j0 : DENSE_CHUNK;    \
      for (j = 0; j < cnt; ++j)                                                \
        acc[j] = 0.0;                                                          \
      for (i = 0; i < ndir; ++i) {                                             \
        const double c = coef[i];                                              \
        kan_perturb_dense_range_f64(seed, step, i, stream, dist, j0, cnt, v);  \
        for (j = 0; j < cnt; ++j)                                              \
          acc[j] = acc[j] + c * v[j];                                          \
      }                                                                        \
      for (j = 0; j < cnt; ++j)                                                \
        theta[j0 + j] = (T)((double)theta[j0 + j] - scale * acc[j]);           \
    }                                                                          \
    return KAN_OK;                                                             \
  }

DEFINE_DENSE_UPDATE(double, f64)
DEFINE_DENSE_UPDATE(float, f32)

#define DEFINE_SPARSE_UPDATE(T, SFX)                                           \
  kan_status kan_update_sparse_##SFX(uint64_t seed, uint32_t step,             \
                                     uint32_t ndir, uint32_t stream,           \
                                     size_t size, double density,              \
                                     const double *coef, double scale,         \
                                     T *theta) {                               \
    uint32_t idx[SPARSE_CHUNK];                                                \
    int32_t sgn[SPARSE_CHUNK];                                                 \
    const size_t m = kan_sparse_count(size, density);                          \
    uint32_t i;                                                                \
    size_t e0, e;                                                              \
    if (size == 0)                                                             \
      return KAN_OK;                                                           \
    if (m == 0)                                                                \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_update_sparse: density %g not in (0, 1]",      \
                           density);                                           \
    if (!theta || (ndir && !coef))                                             \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_update_sparse: NULL argument");                \
    if ((uint64_t)size > ((uint64_t)1 << 32))                                  \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_update_sparse: size %zu exceeds 2^32", size);  \
    for (i = 0; i < ndir; ++i) {                                               \
      const double c = coef[i];                                                \
      if (c == 0.0)                                                            \
        continue;                                                              \
      for (e0 = 0; e0 < m; e0 += SPARSE_CHUNK) {                               \
        const size_t cnt = m - e0 < SPARSE_CHUNK ? m - e0 : SPARSE_CHUNK;      \
        kan_sparse_draws(seed, step, i, stream, size, e0, cnt, idx, sgn);      \
        for (e = 0; e < cnt; ++e)                                              \
          theta[idx[e]] =                                                      \
              (T)((double)theta[idx[e]] - scale * (c * (double)sgn[e]));       \
      }                                                                        \
    }                                                                          \
    return KAN_OK;                                                             \
  }

DEFINE_SPARSE_UPDATE(double, f64)
DEFINE_SPARSE_UPDATE(float, f32)

kan_status kan_optim_config_check(const kan_optim_config *cfg) {
  if (!cfg)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT, "optimizer: NULL config");
  if (cfg->kind != KAN_OPT_FG && cfg->kind != KAN_OPT_TERNARY)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: unknown kind %d", cfg->kind);
  if (cfg->dist != KAN_DIST_NORMAL && cfg->dist != KAN_DIST_RADEMACHER &&
      cfg->dist != KAN_DIST_SPARSE)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: unknown distribution %d", cfg->dist);
  if (cfg->ndir < 1 || cfg->ndir > (1u << 20))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: ndir %u not in [1, 2^20]",
                         (unsigned)cfg->ndir);
  if (!(cfg->lr - cfg->lr == 0))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: learning rate is not finite");
  if (cfg->dist == KAN_DIST_SPARSE &&
      !(cfg->density > 0.0 && cfg->density <= 1.0))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: density %g not in (0, 1]", cfg->density);
  return KAN_OK;
}

kan_status kan_optimizer_coefficients(const kan_optim_config *cfg,
                                      const double *jvp, double *coef,
                                      double *scale) {
  kan_status st = kan_optim_config_check(cfg);
  if (st)
    return st;
  if (!jvp || !coef || !scale)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: NULL argument");
  if (cfg->kind == KAN_OPT_FG) {
    memcpy(coef, jvp, cfg->ndir * sizeof *coef);
    *scale = cfg->lr / (double)cfg->ndir;
    return KAN_OK;
  }
  *scale = cfg->lr;
  return kan_ternary_coefficients(cfg->ndir, jvp, coef);
}

kan_status kan_optimizer_step(const kan_optim_config *cfg, uint32_t step,
                              const double *jvp, size_t nparams,
                              const kan_param *params) {
  return kan_optimizer_step_scaled(cfg, step, jvp, 1.0, nparams, params);
}

kan_status kan_optimizer_step_scaled(const kan_optim_config *cfg,
                                     uint32_t step, const double *jvp,
                                     double lr_scale, size_t nparams,
                                     const kan_param *params) {
  double *coef, scale = 0;
  size_t p;
  kan_status st = kan_optim_config_check(cfg);
  if (st)
    return st;
  if (!(lr_scale >= 0) || lr_scale - lr_scale != 0)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: lr_scale %g is not finite and >= 0",
                         lr_scale);
  for (p = 0; p < nparams; ++p)
    if ((params[p].dtype != KAN_DTYPE_F64 &&
         params[p].dtype != KAN_DTYPE_F32) ||
        (params[p].size && !params[p].data))
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                           "optimizer: parameter %zu (%s) is not an f32/f64 "
                           "buffer",
                           p, params[p].name ? params[p].name : "?");
  coef = (double *)malloc(cfg->ndir * sizeof *coef);
  if (!coef)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  st = kan_optimizer_coefficients(cfg, jvp, coef, &scale);
  /* The generated code multiplies its compiled scale the same way. */
  scale = scale * lr_scale;
  for (p = 0; p < nparams && !st; ++p) {
    const kan_param *q = params + p;
    if (cfg->dist == KAN_DIST_SPARSE)
      st = q->dtype == KAN_DTYPE_F64
               ? kan_update_sparse_f64(cfg->seed, step, cfg->ndir, q->stream,
                                       q->size, cfg->density, coef, scale,
                                       (double *)q->data)
               : kan_update_sparse_f32(cfg->seed, step, cfg->ndir, q->stream,
                                       q->size, cfg->density, coef, scale,
                                       (float *)q->data);
    else
      st = q->dtype == KAN_DTYPE_F64
               ? kan_update_dense_f64(cfg->seed, step, cfg->ndir, q->stream,
                                      cfg->dist, q->size, coef, scale,
                                      (double *)q->data)
               : kan_update_dense_f32(cfg->seed, step, cfg->ndir, q->stream,
                                      cfg->dist, q->size, coef, scale,
                                      (float *)q->data);
  }
  free(coef);
  return st;
}
