/*===- activity.c - activity-perturbed forward gradients --------*- C -*-===*/
/* Compiled with -ffp-contract=off (kanrt/activity.h): one rounding per
   operation, in the order written, so the replay of an activity run (which
   re-runs these steps) reproduces them bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFINE_PERTURB_ACTIVITY(T, SFX)                                        \
  kan_status kan_perturb_activity_##SFX(                                       \
      uint64_t seed, uint32_t step, uint32_t first_dir, uint32_t ndir,         \
      uint32_t stream, int dist, int64_t n, int64_t out, T *u) {               \
    size_t size;                                                               \
    uint32_t d;                                                                \
    if (n < 0 || out < 1 || (n && ndir && !u))                                 \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_perturb_activity: invalid argument");          \
    if (dist != KAN_DIST_NORMAL && dist != KAN_DIST_RADEMACHER)                \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_perturb_activity: distribution %d is not "     \
                           "dense (normal or rademacher)",                     \
                           dist);                                              \
    if (!kan_mul_ok((size_t)n, (size_t)out, &size))                            \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_perturb_activity: size overflows");            \
    if (size == 0)                                                             \
      return KAN_OK;                                                           \
    for (d = 0; d < ndir; ++d) {                                               \
      kan_status st = kan_perturb_dense_##SFX(seed, step, first_dir + d,       \
                                              stream, dist, size,              \
                                              u + (size_t)d * size);           \
      if (st)                                                                  \
        return st;                                                             \
    }                                                                          \
    return KAN_OK;                                                             \
  }

DEFINE_PERTURB_ACTIVITY(double, f64)
DEFINE_PERTURB_ACTIVITY(float, f32)

#define DEFINE_XENT_EXAMPLES(T, SFX)                                           \
  kan_status kan_loss_softmax_xent_examples_##SFX(                             \
      int64_t n, int64_t classes, const T *z, const int64_t *labels,           \
      const T *zt, int64_t width, T *loss, T *alphas, T *a, T *delta) {        \
    double acc = 0.0, *p, *ad;                                                 \
    int64_t i, c, d;                                                           \
    if (n < 1 || classes < 1 || width < 0 || !z || !labels ||                  \
        (zt && width && !a))                                                   \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_loss_softmax_xent_examples: invalid "          \
                           "argument");                                        \
    p = (double *)malloc((size_t)classes * sizeof(double));                    \
    ad = (double *)calloc((size_t)width + 1, sizeof(double));                  \
    if (!p || !ad) {                                                           \
      free(p);                                                                 \
      free(ad);                                                                \
      return kan_set_error(KAN_ERR_OUT_OF_MEMORY,                              \
                           "kan_loss_softmax_xent_examples: out of memory");   \
    }                                                                          \
    for (i = 0; i < n; ++i) {                                                  \
      const T *zi = z + i * classes;                                           \
      int64_t y = labels[i];                                                   \
      double mx, se;                                                           \
      if (y < 0 || y >= classes) {                                             \
        free(p);                                                               \
        free(ad);                                                              \
        return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                         \
                             "kan_loss_softmax_xent_examples: label %lld "     \
                             "out of range [0, %lld)",                         \
                             (long long)y, (long long)classes);                \
      }                                                                        \
      se = kan_softmax_row_##SFX(classes, zi, &mx);                            \
      acc += mx + log(se) - (double)zi[y];                                     \
      for (c = 0; c < classes; ++c)                                            \
        p[c] = (exp((double)zi[c] - mx) / se - (c == y ? 1.0 : 0.0)) /         \
               (double)n;                                                      \
      if (delta)                                                               \
        for (c = 0; c < classes; ++c)                                          \
          delta[i * classes + c] = (T)p[c];                                    \
      if (zt && a)                                                             \
        for (d = 0; d < width; ++d) {                                          \
          const T *t = zt + (d * n + i) * classes;                             \
          double s = 0.0;                                                      \
          for (c = 0; c < classes; ++c)                                        \
            s += p[c] * (double)t[c];                                          \
          a[d * n + i] = (T)s;                                                 \
          ad[d] += (double)(T)s;                                               \
        }                                                                      \
    }                                                                          \
    free(p);                                                                   \
    if (loss)                                                                  \
      *loss = (T)(acc / (double)n);                                            \
    if (alphas && zt)                                                          \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)ad[d];                                                  \
    free(ad);                                                                  \
    return KAN_OK;                                                             \
  }

DEFINE_XENT_EXAMPLES(double, f64)
DEFINE_XENT_EXAMPLES(float, f32)

#define DEFINE_ESTIMATE(T, SFX)                                                \
  kan_status kan_activity_estimate_##SFX(int64_t n, int64_t out,               \
                                         int64_t ndir, const T *a,             \
                                         const T *u, T *g) {                   \
    int64_t r, o, d;                                                           \
    if (n < 0 || out < 1 || ndir < 1 || (n && (!a || !u || !g)))              \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_activity_estimate: invalid argument");         \
    for (r = 0; r < n; ++r)                                                    \
      for (o = 0; o < out; ++o) {                                              \
        double s = 0.0;                                                        \
        for (d = 0; d < ndir; ++d)                                             \
          s += (double)a[d * n + r] * (double)u[(d * n + r) * out + o];        \
        g[r * out + o] = (T)(s / (double)ndir);                                \
      }                                                                        \
    return KAN_OK;                                                             \
  }

DEFINE_ESTIMATE(double, f64)
DEFINE_ESTIMATE(float, f32)

KAN_EXPORT size_t kan_activity_update_work_size(int64_t out, int G, int k,
                                                int64_t input_tile,
                                                int64_t row_tile) {
  size_t kb, a, t, w;
  if (out < 1 || G < 1 || k < 0 || input_tile < 1 || row_tile < 1 ||
      !kan_mul_ok((size_t)input_tile, (size_t)(G + k + 1), &kb) ||
      !kan_mul_ok(kb, (size_t)row_tile, &a) ||
      !kan_mul_ok((size_t)out, (size_t)row_tile + kb, &t))
    return 0;
  /* the chunk's features, their transpose, g^T of the chunk and dW. */
  w = 2 * a + t;
  return w < t ? 0 : w;
}

#define DEFINE_ACTIVITY_UPDATE_TILE(T, SFX)                                    \
  kan_status kan_activity_update_tile_##SFX(                                   \
      int64_t n, int64_t in, int64_t out, int G, int k, int act, const T *x,   \
      int64_t ldx, const T *grid, const T *aux, const T *g, int64_t ldg,       \
      int64_t first_input, int64_t input_tile, int64_t row_tile,               \
      double scale, T *base_w, T *spline_w, T *scaler, T *grad_base,           \
      T *grad_spline, T *grad_scaler, T *work) {                               \
    const size_t gk = (size_t)(G + k), nk = (size_t)(G + 2 * k + 1);          \
    size_t ni, kb, rt, r0, r, j, o, i;                                         \
    T *A, *At, *gT, *dW;                                                       \
    if (n < 0 || in < 1 || out < 1 || G < 1 || k < 0 ||                        \
        k > KAN_MAX_SPLINE_ORDER || ldx < in || ldg < out ||                   \
        first_input < 0 || first_input >= in || input_tile < 1 ||             \
        row_tile < 1 || !grid || !aux || !base_w || !spline_w || !work ||      \
        (n && (!x || !g)) ||                                                   \
        (grad_base && (!grad_spline || (scaler && !grad_scaler))) ||          \
        kan_activity_update_work_size(out, G, k, input_tile, row_tile) == 0)   \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_activity_update_tile: invalid argument");      \
    ni = (size_t)(in - first_input < input_tile ? in - first_input            \
                                                 : input_tile);                \
    kb = ni * (gk + 1);                                                        \
    rt = (size_t)row_tile;                                                     \
    A = work;                                                                  \
    At = A + rt * kb;                                                          \
    gT = At + rt * kb;                                                         \
    dW = gT + (size_t)out * rt;                                                \
    if (n == 0)                                                                \
      memset(dW, 0, (size_t)out * kb * sizeof(T));                             \
    /* dW = g^T A over the tile's columns, one chunk of rows at a time: the   \
       NT GEMM of g^T (out x rows) and A^T (kb x rows). */                    \
    for (r0 = 0; r0 < (size_t)n; r0 += rt) {                                   \
      const size_t m = (size_t)n - r0 < rt ? (size_t)n - r0 : rt;              \
      kan_pack_features_##SFX(m, ni, G, k, act,                               \
                              x + r0 * (size_t)ldx + (size_t)first_input,      \
                              (size_t)ldx, grid + (size_t)first_input * nk,    \
                              aux + (size_t)first_input *                      \
                                        kan_grid_aux_size(1, G, k),            \
                              A, kb);                                          \
      for (r = 0; r < m; r += 16)                                              \
        for (j = 0; j < kb; j += 64) {                                         \
          const size_t re = r + 16 < m ? r + 16 : m;                           \
          const size_t je = j + 64 < kb ? j + 64 : kb;                         \
          size_t rr, jj;                                                       \
          for (jj = j; jj < je; ++jj)                                          \
            for (rr = r; rr < re; ++rr)                                        \
              At[jj * m + rr] = A[rr * kb + jj];                               \
        }                                                                      \
      for (r = 0; r < m; ++r)                                                  \
        for (o = 0; o < (size_t)out; ++o)                                      \
          gT[o * m + r] = g[(r0 + r) * (size_t)ldg + o];                       \
      kan_gemm_nt_##SFX((size_t)out, kb, m, (T)1, gT, m, At, m,                \
                        r0 ? (T)1 : (T)0, dW, kb);                             \
    }                                                                          \
    for (o = 0; o < (size_t)out; ++o) {                                        \
      const T *row = dW + o * kb;                                              \
      for (i = 0; i < ni; ++i) {                                               \
        const size_t oi = o * (size_t)in + (size_t)first_input + i;            \
        const T *dc = row + ni + i * gk;                                       \
        T *c = spline_w + oi * gk;                                             \
        const double s = scaler ? (double)scaler[oi] : 1.0;                    \
        double ds = 0.0;                                                       \
        const double db = (double)row[i];                                      \
        for (j = 0; j < gk; ++j)                                               \
          ds += (double)dc[j] * (double)c[j];                                  \
        if (grad_base) {                                                       \
          grad_base[oi] = (T)db;                                               \
          for (j = 0; j < gk; ++j)                                             \
            grad_spline[oi * gk + j] = (T)((double)dc[j] * s);                 \
          if (scaler)                                                          \
            grad_scaler[oi] = (T)ds;                                           \
        } else {                                                               \
          base_w[oi] = (T)((double)base_w[oi] - scale * db);                   \
          for (j = 0; j < gk; ++j)                                             \
            c[j] = (T)((double)c[j] - scale * ((double)dc[j] * s));            \
          if (scaler)                                                          \
            scaler[oi] = (T)((double)scaler[oi] - scale * ds);                 \
        }                                                                      \
      }                                                                        \
    }                                                                          \
    return KAN_OK;                                                             \
  }

DEFINE_ACTIVITY_UPDATE_TILE(double, f64)
DEFINE_ACTIVITY_UPDATE_TILE(float, f32)

/* The untiled entry point: the tiles one after the other, with one tile's
   work. */
#define KAN_ACTIVITY_INPUT_TILE 32
#define KAN_ACTIVITY_ROW_TILE 128

#define DEFINE_ACTIVITY_UPDATE(T, SFX)                                         \
  kan_status kan_activity_update_##SFX(                                        \
      int64_t n, int64_t in, int64_t out, int G, int k, int act, const T *x,   \
      const T *grid, const T *g, double scale, T *base_w, T *spline_w,         \
      T *scaler, T *grad_base, T *grad_spline, T *grad_scaler) {               \
    const int64_t rt = n > 0 && n < KAN_ACTIVITY_ROW_TILE                      \
                           ? n                                                 \
                           : KAN_ACTIVITY_ROW_TILE;                            \
    size_t auxn, wn;                                                           \
    int64_t i0;                                                                \
    T *aux = NULL, *work = NULL;                                               \
    kan_status st = KAN_OK;                                                    \
    if (n < 0 || in < 1 || out < 1 || G < 1 || k < 0 ||                        \
        k > KAN_MAX_SPLINE_ORDER || !grid || !base_w || !spline_w ||           \
        (n && (!x || !g)) || (grad_base && (!grad_spline ||                    \
                                            (scaler && !grad_scaler))))        \
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,                           \
                           "kan_activity_update: invalid argument");           \
    auxn = kan_grid_aux_size((size_t)in, G, k);                                \
    wn = kan_activity_update_work_size(out, G, k, KAN_ACTIVITY_INPUT_TILE,     \
                                       rt);                                    \
    aux = (T *)malloc((auxn ? auxn : 1) * sizeof(T));                          \
    work = (T *)malloc((wn ? wn : 1) * sizeof(T));                             \
    if (!aux || !work || !wn) {                                                \
      st = kan_set_error(KAN_ERR_OUT_OF_MEMORY,                                \
                         "kan_activity_update: out of memory");                \
      goto done;                                                               \
    }                                                                          \
    if ((st = kan_grid_prepare_##SFX((size_t)in, G, k, grid, aux)))            \
      goto done;                                                               \
    for (i0 = 0; i0 < in && !st; i0 += KAN_ACTIVITY_INPUT_TILE)                \
      st = kan_activity_update_tile_##SFX(                                     \
          n, in, out, G, k, act, x, in, grid, aux, g, out, i0,                 \
          KAN_ACTIVITY_INPUT_TILE, rt, scale, base_w, spline_w, scaler,        \
          grad_base, grad_spline, grad_scaler, work);                          \
  done:                                                                        \
    free(aux);                                                                 \
    free(work);                                                                \
    return st;                                                                 \
  }

DEFINE_ACTIVITY_UPDATE(double, f64)
DEFINE_ACTIVITY_UPDATE(float, f32)
