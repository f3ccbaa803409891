/*===- ops.c - whole-op entry points of generated code ----------*- C -*-===*/
#include "kanrt/kanrt.h"
#include "kanrt/ops.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void *kan_buffer_alloc(size_t count, size_t elem_size) {
  /* + 1: a zero-element buffer must not look like a failed allocation. */
  if (elem_size && count > (SIZE_MAX - 1) / elem_size)
    return NULL;
  return malloc(count * elem_size + 1);
}

kan_status kan_buffer_status(const void *p) {
  return p ? KAN_OK : KAN_ERR_OUT_OF_MEMORY;
}

size_t kan_sparse_directions_capacity(size_t out, size_t in, size_t gk,
                                      double density, int64_t base_stream,
                                      int64_t spline_stream,
                                      int64_t scaler_stream) {
  size_t mb = base_stream >= 0 ? kan_sparse_count(out * in, density) : 0;
  size_t mc =
      spline_stream >= 0 ? kan_sparse_count(out * in * gk, density) : 0;
  size_t ms = scaler_stream >= 0 ? kan_sparse_count(out * in, density) : 0;
  return mb + mc + ms * gk;
}

/* The per-call scratch of kan_sparse_direction_*: triples (cols, output
   rows, values) of up to capacity + 1 entries, then the draws (indices and
   signs) of the largest of the three tensors. */
static size_t largest_draw(size_t out, size_t in, size_t gk, double density,
                           int64_t sb, int64_t sc, int64_t ss) {
  size_t mb = sb >= 0 ? kan_sparse_count(out * in, density) : 0;
  size_t mc = sc >= 0 ? kan_sparse_count(out * in * gk, density) : 0;
  size_t ms = ss >= 0 ? kan_sparse_count(out * in, density) : 0;
  size_t m = mb > mc ? mb : mc;
  return m > ms ? m : ms;
}

static size_t align8(size_t bytes) { return (bytes + 7) / 8 * 8; }

size_t kan_layer_jvp_cols_work_size(size_t m, size_t out, size_t gk,
                                    size_t cols) {
  const size_t nimax = cols / (gk ? gk : 1) + 2;
  return (m + out) * cols + nimax * (2 * gk + 2);
}

#define KAN_OPS_T double
#define KAN_OPS_SFX(name) name##_f64
#include "ops.inc"
#undef KAN_OPS_T
#undef KAN_OPS_SFX

#define KAN_OPS_T float
#define KAN_OPS_SFX(name) name##_f32
#include "ops.inc"
#undef KAN_OPS_T
#undef KAN_OPS_SFX

kan_status kan_update_coefficients_f64(int rule, size_t width,
                                       const double *alphas, double *coef) {
  if (rule == KAN_RULE_FG) {
    memcpy(coef, alphas, sizeof(double) * width);
    return KAN_OK;
  }
  if (rule != KAN_RULE_TERNARY)
    return KAN_ERR_INVALID_ARGUMENT;
  return kan_ternary_coefficients(width, alphas, coef);
}

kan_status kan_update_coefficients_f32(int rule, size_t width,
                                       const float *alphas, float *coef) {
  double *ad, *td;
  size_t d;
  kan_status st;
  if (rule == KAN_RULE_FG) {
    memcpy(coef, alphas, sizeof(float) * width);
    return KAN_OK;
  }
  if (rule != KAN_RULE_TERNARY)
    return KAN_ERR_INVALID_ARGUMENT;
  /* The median rule works on doubles. */
  ad = (double *)kan_buffer_alloc(2 * width, sizeof(double));
  if (!ad)
    return KAN_ERR_OUT_OF_MEMORY;
  td = ad + width;
  for (d = 0; d < width; ++d)
    ad[d] = (double)alphas[d];
  st = kan_ternary_coefficients(width, ad, td);
  for (d = 0; st == KAN_OK && d < width; ++d)
    coef[d] = (float)td[d];
  free(ad);
  return st;
}

kan_status kan_apply_update_dense_f64(uint64_t seed, uint32_t step,
                                      uint32_t ndir, uint32_t stream, int dist,
                                      size_t size, const double *coef,
                                      double scale, double *theta) {
  return kan_update_dense_f64(seed, step, ndir, stream, dist, size, coef,
                              scale, theta);
}

kan_status kan_apply_update_sparse_f64(uint64_t seed, uint32_t step,
                                       uint32_t ndir, uint32_t stream,
                                       size_t size, double density,
                                       const double *coef, double scale,
                                       double *theta) {
  return kan_update_sparse_f64(seed, step, ndir, stream, size, density, coef,
                               scale, theta);
}

static double *widen(size_t n, const float *c) {
  double *d = (double *)kan_buffer_alloc(n, sizeof(double));
  size_t i;
  if (d)
    for (i = 0; i < n; ++i)
      d[i] = (double)c[i];
  return d;
}

kan_status kan_apply_update_dense_f32(uint64_t seed, uint32_t step,
                                      uint32_t ndir, uint32_t stream, int dist,
                                      size_t size, const float *coef,
                                      double scale, float *theta) {
  double *cd = widen(ndir, coef);
  kan_status st;
  if (!cd)
    return KAN_ERR_OUT_OF_MEMORY;
  st = kan_update_dense_f32(seed, step, ndir, stream, dist, size, cd, scale,
                            theta);
  free(cd);
  return st;
}

kan_status kan_apply_update_sparse_f32(uint64_t seed, uint32_t step,
                                       uint32_t ndir, uint32_t stream,
                                       size_t size, double density,
                                       const float *coef, double scale,
                                       float *theta) {
  double *cd = widen(ndir, coef);
  kan_status st;
  if (!cd)
    return KAN_ERR_OUT_OF_MEMORY;
  st = kan_update_sparse_f32(seed, step, ndir, stream, size, density, cd,
                             scale, theta);
  free(cd);
  return st;
}
