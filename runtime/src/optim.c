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
  if (cfg->kind != KAN_OPT_FG && cfg->kind != KAN_OPT_TERNARY &&
      cfg->kind != KAN_OPT_ACTIVITY)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: unknown kind %d", cfg->kind);
  if (cfg->kind == KAN_OPT_ACTIVITY && cfg->dist == KAN_DIST_SPARSE)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: activity perturbations are dense "
                         "(normal or rademacher)");
  if (cfg->method != KAN_METHOD_SGD && cfg->method != KAN_METHOD_MOMENTUM &&
      cfg->method != KAN_METHOD_ADAM)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: unknown method %d", cfg->method);
  if (cfg->method != KAN_METHOD_SGD &&
      !(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: beta1 %g not in [0, 1)", cfg->beta1);
  if (cfg->method == KAN_METHOD_ADAM &&
      (!(cfg->beta2 >= 0.0 && cfg->beta2 < 1.0) || !(cfg->eps > 0.0) ||
       cfg->eps - cfg->eps != 0))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: Adam needs beta2 in [0, 1) and a finite "
                         "eps > 0 (beta2 %g, eps %g)",
                         cfg->beta2, cfg->eps);
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
  if (cfg->kind == KAN_OPT_ACTIVITY)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: an activity-rule update depends on the "
                         "batch and cannot be rebuilt from the scalars; "
                         "re-run the steps on the training data");
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

/*===----------------------------------------------------------------------===
 * Momentum and Adam over the estimated update
 *===----------------------------------------------------------------------===*/

void kan_optim_state_free(kan_optim_state *s) {
  size_t p;
  if (!s)
    return;
  for (p = 0; p < s->nparams; ++p) {
    if (s->m)
      free(s->m[p]);
    if (s->v)
      free(s->v[p]);
  }
  free(s->m);
  free(s->v);
  free(s->size);
  memset(s, 0, sizeof *s);
}

kan_status kan_optim_state_init(kan_optim_state *s,
                                const kan_optim_config *cfg, size_t nparams,
                                const kan_param *params) {
  size_t p;
  kan_status st = kan_optim_config_check(cfg);
  if (!s)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT, "optimizer: NULL state");
  memset(s, 0, sizeof *s);
  if (st)
    return st;
  s->method = cfg->method;
  s->beta1_t = 1.0;
  s->beta2_t = 1.0;
  if (cfg->method == KAN_METHOD_SGD)
    return KAN_OK;
  s->size = (size_t *)calloc(nparams ? nparams : 1, sizeof *s->size);
  s->m = (double **)calloc(nparams ? nparams : 1, sizeof *s->m);
  s->v = (double **)calloc(nparams ? nparams : 1, sizeof *s->v);
  if (!s->size || !s->m || !s->v)
    goto oom;
  s->nparams = nparams;
  for (p = 0; p < nparams; ++p) {
    s->size[p] = params[p].size;
    s->m[p] = (double *)calloc(params[p].size ? params[p].size : 1,
                               sizeof(double));
    if (!s->m[p])
      goto oom;
    if (cfg->method == KAN_METHOD_ADAM) {
      s->v[p] = (double *)calloc(params[p].size ? params[p].size : 1,
                                 sizeof(double));
      if (!s->v[p])
        goto oom;
    }
  }
  return KAN_OK;
oom:
  kan_optim_state_free(s);
  return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
}

kan_status kan_optim_state_set_steps(kan_optim_state *s,
                                     const kan_optim_config *cfg,
                                     uint64_t t) {
  uint64_t i;
  if (!s || !cfg)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT, "optimizer: NULL state");
  s->t = t;
  s->beta1_t = 1.0;
  s->beta2_t = 1.0;
  if (cfg->method == KAN_METHOD_ADAM)
    for (i = 0; i < t; ++i) {
      s->beta1_t = s->beta1_t * cfg->beta1;
      s->beta2_t = s->beta2_t * cfg->beta2;
    }
  return KAN_OK;
}

kan_status kan_optim_begin(const kan_optim_config *cfg, kan_optim_state *s,
                           double lr_eff, size_t nparams,
                           const kan_param *params,
                           const double *const *grads) {
  size_t p;
  kan_status st = kan_optim_config_check(cfg);
  if (st)
    return st;
  if (!(lr_eff - lr_eff == 0))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: step size is not finite");
  if (cfg->method != KAN_METHOD_SGD &&
      (!s || s->method != cfg->method || s->nparams != nparams))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: the state does not belong to this "
                         "method and parameter list");
  for (p = 0; p < nparams; ++p)
    if ((params[p].dtype != KAN_DTYPE_F64 &&
         params[p].dtype != KAN_DTYPE_F32) ||
        (params[p].size && (!params[p].data || !grads[p])) ||
        (s && cfg->method != KAN_METHOD_SGD && s->size[p] != params[p].size))
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                           "optimizer: parameter %zu (%s) does not match its "
                           "gradient or state",
                           p, params[p].name ? params[p].name : "?");
  if (cfg->method == KAN_METHOD_ADAM) {
    s->beta1_t = s->beta1_t * cfg->beta1;
    s->beta2_t = s->beta2_t * cfg->beta2;
  }
  if (s && cfg->method != KAN_METHOD_SGD)
    s->t = s->t + 1;
  return KAN_OK;
}

void kan_optim_apply_range(const kan_optim_config *cfg,
                           const kan_optim_state *s, double lr_eff,
                           size_t nparams, const kan_param *params,
                           const double *const *grads, size_t begin,
                           size_t end) {
  size_t p, j, base = 0;
  double c1 = 1.0, c2 = 1.0;
  if (cfg->method == KAN_METHOD_ADAM) {
    c1 = 1.0 - s->beta1_t;
    c2 = 1.0 - s->beta2_t;
  }
  /* The elements [begin, end) of the parameters one after another. */
  for (p = 0; p < nparams && base < end; base += params[p].size, ++p) {
    const double *g = grads[p];
    double *m = cfg->method != KAN_METHOD_SGD ? s->m[p] : NULL;
    double *v = cfg->method == KAN_METHOD_ADAM ? s->v[p] : NULL;
    size_t lo = begin > base ? begin - base : 0;
    size_t hi = end - base < params[p].size ? end - base : params[p].size;
    for (j = lo; j < hi; ++j) {
      double delta;
      if (cfg->method == KAN_METHOD_SGD) {
        delta = g[j];
      } else if (cfg->method == KAN_METHOD_MOMENTUM) {
        m[j] = cfg->beta1 * m[j] + g[j];
        delta = m[j];
      } else {
        m[j] = cfg->beta1 * m[j] + (1.0 - cfg->beta1) * g[j];
        v[j] = cfg->beta2 * v[j] + (1.0 - cfg->beta2) * (g[j] * g[j]);
        delta = (m[j] / c1) / (sqrt(v[j] / c2) + cfg->eps);
      }
      if (params[p].dtype == KAN_DTYPE_F64) {
        double *th = (double *)params[p].data;
        th[j] = th[j] - lr_eff * delta;
      } else {
        float *th = (float *)params[p].data;
        th[j] = (float)((double)th[j] - lr_eff * delta);
      }
    }
  }
}

kan_status kan_optim_apply(const kan_optim_config *cfg, kan_optim_state *s,
                           double lr_eff, size_t nparams,
                           const kan_param *params,
                           const double *const *grads) {
  size_t p, total = 0;
  kan_status st = kan_optim_begin(cfg, s, lr_eff, nparams, params, grads);
  if (st)
    return st;
  for (p = 0; p < nparams; ++p)
    total += params[p].size;
  kan_optim_apply_range(cfg, s, lr_eff, nparams, params, grads, 0, total);
  return KAN_OK;
}

kan_status kan_optimizer_step_state(const kan_optim_config *cfg,
                                    uint32_t step, const double *jvp,
                                    double lr_scale, size_t nparams,
                                    const kan_param *params,
                                    kan_optim_state *s) {
  double *coef = NULL, scale = 0, **g = NULL;
  size_t p;
  kan_status st = kan_optim_config_check(cfg);
  if (st)
    return st;
  if (cfg->method == KAN_METHOD_SGD && !s)
    return kan_optimizer_step_scaled(cfg, step, jvp, lr_scale, nparams,
                                     params);
  if (!(lr_scale >= 0) || lr_scale - lr_scale != 0)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "optimizer: lr_scale %g is not finite and >= 0",
                         lr_scale);
  coef = (double *)malloc(cfg->ndir * sizeof *coef);
  g = (double **)calloc(nparams ? nparams : 1, sizeof *g);
  if (!coef || !g) {
    st = kan_set_error(KAN_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
    goto done;
  }
  if ((st = kan_optimizer_coefficients(cfg, jvp, coef, &scale)))
    goto done;
  /* g = (scale / lr) sum_i coef_i v_i: the update kernels subtract
     -(scale / lr) * acc from a zero buffer. */
  scale = cfg->kind == KAN_OPT_FG ? 1.0 / (double)cfg->ndir : 1.0;
  for (p = 0; p < nparams && !st; ++p) {
    const kan_param *q = params + p;
    g[p] = (double *)calloc(q->size ? q->size : 1, sizeof(double));
    if (!g[p]) {
      st = kan_set_error(KAN_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
      break;
    }
    st = cfg->dist == KAN_DIST_SPARSE
             ? kan_update_sparse_f64(cfg->seed, step, cfg->ndir, q->stream,
                                     q->size, cfg->density, coef, -scale,
                                     g[p])
             : kan_update_dense_f64(cfg->seed, step, cfg->ndir, q->stream,
                                    cfg->dist, q->size, coef, -scale, g[p]);
  }
  if (!st)
    st = kan_optim_apply(cfg, s, cfg->lr * lr_scale, nparams, params,
                         (const double *const *)g);
done:
  if (g)
    for (p = 0; p < nparams; ++p)
      free(g[p]);
  free(g);
  free(coef);
  return st;
}
