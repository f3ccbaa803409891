/* Test driver for emitted CPU code (kan_model.c): checks kan_forward against
 * the golden PyTorch outputs, the training step's JVP scalars against
 * central finite differences of the loss along the same regenerated
 * directions, and its update against the runtime's optimiser (bit for bit).
 * Usage: check_model GOLDEN_DIR */
#include "kan_model.h"
#include <kanrt/kanrt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P KAN_NUM_PARAMS

static int fail(const char *what) {
  fprintf(stderr, "FAIL: %s: %s\n", what, kan_last_error());
  return 1;
}

static double ce_loss(const double *z, const int64_t *y, int64_t n, int64_t c) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    double mx = z[i * c], se = 0;
    for (int64_t j = 1; j < c; ++j) if (z[i * c + j] > mx) mx = z[i * c + j];
    for (int64_t j = 0; j < c; ++j) se += exp(z[i * c + j] - mx);
    acc += mx + log(se) - z[i * c + y[i]];
  }
  return acc / n;
}

int main(int argc, char **argv) {
  char path[4096];
  kan_tensor_map model;
  kan_tensor x, y;
  double *params[P], *copy[P];
  int i;
  if (argc < 2) return 2;
  snprintf(path, sizeof path, "%s/kan_small.safetensors", argv[1]);
  if (kan_safetensors_read(path, 0, &model)) return fail(path);
  snprintf(path, sizeof path, "%s/kan_small_x.npy", argv[1]);
  if (kan_npy_read(path, 0, &x)) return fail(path);
  snprintf(path, sizeof path, "%s/kan_small_y.npy", argv[1]);
  if (kan_npy_read(path, 0, &y)) return fail(path);
  for (i = 0; i < P; ++i) {
    kan_tensor *t = kan_tensor_map_find(&model, kan_param_names[i]);
    if (!t || kan_tensor_numel(t) != (size_t)kan_param_numel[i])
      return fail(kan_param_names[i]);
    params[i] = (double *)t->data;
    copy[i] = malloc(sizeof(double) * kan_param_numel[i]);
    memcpy(copy[i], params[i], sizeof(double) * kan_param_numel[i]);
  }
  int64_t n = (int64_t)x.shape[0];
  double *out = malloc(sizeof(double) * n * KAN_NUM_OUTPUTS);
  if (kan_forward((const double *)x.data, n, params, out)) return fail("forward");
  double maxrel = 0;
  for (int64_t e = 0; e < n * KAN_NUM_OUTPUTS; ++e) {
    double ref = ((double *)y.data)[e];
    double err = fabs(out[e] - ref) / (fabs(ref) > 1e-3 ? fabs(ref) : 1e-3);
    if (err > maxrel) maxrel = err;
  }
  printf("forward max_rel_err %.3e %s\n", maxrel, maxrel < 1e-12 ? "PASS" : "FAIL");

#ifdef KAN_DIRECTIONS
  /* Train step: labels 0..C-1 cycling. */
  int64_t *labels = malloc(sizeof(int64_t) * n);
  for (int64_t r = 0; r < n; ++r) labels[r] = r % KAN_NUM_OUTPUTS;
  double loss, alphas[KAN_DIRECTIONS];
  const uint64_t seed = 1234;
  const int64_t step = 7;
  if (kan_train_step((const double *)x.data, labels, n, seed, step, params, &loss, alphas))
    return fail("train_step");
  printf("loss %.6f reference %.6f\n", loss, ce_loss(out, labels, n, KAN_NUM_OUTPUTS));

  /* Finite differences of the loss along each regenerated direction. */
  double worst = 0;
  for (int d = 0; d < KAN_DIRECTIONS; ++d) {
    double lp, lm, h = 1e-5;
    double *pp[P], *pm[P];
    for (i = 0; i < P; ++i) {
      pp[i] = malloc(sizeof(double) * kan_param_numel[i]);
      pm[i] = malloc(sizeof(double) * kan_param_numel[i]);
      memcpy(pp[i], copy[i], sizeof(double) * kan_param_numel[i]);
      memcpy(pm[i], copy[i], sizeof(double) * kan_param_numel[i]);
      /* Stream of param i: layer l = i / 4, slot = i % 4 (0 = grid). */
      if (i % 4 == 0) continue;
      {
        uint32_t stream = KAN_STREAM_ID(i / 4, i % 4 - 1);
        size_t size = (size_t)kan_param_numel[i];
#if KAN_CHECK_SPARSE
        size_t m = kan_sparse_count(size, KAN_CHECK_DENSITY), e;
        uint32_t *idx = malloc(sizeof(uint32_t) * m);
        int32_t *sg = malloc(sizeof(int32_t) * m);
        kan_perturb_sparse(seed, (uint32_t)step, (uint32_t)d, stream, size, m, idx, sg);
        for (e = 0; e < m; ++e) { pp[i][idx[e]] += h * sg[e]; pm[i][idx[e]] -= h * sg[e]; }
        free(idx); free(sg);
#else
        double *v = malloc(sizeof(double) * size);
        size_t e;
        kan_perturb_dense_f64(seed, (uint32_t)step, (uint32_t)d, stream, KAN_DIST_NORMAL, size, v);
        for (e = 0; e < size; ++e) { pp[i][e] += h * v[e]; pm[i][e] -= h * v[e]; }
        free(v);
#endif
      }
    }
    kan_forward((const double *)x.data, n, pp, out);
    lp = ce_loss(out, labels, n, KAN_NUM_OUTPUTS);
    kan_forward((const double *)x.data, n, pm, out);
    lm = ce_loss(out, labels, n, KAN_NUM_OUTPUTS);
    double fd = (lp - lm) / (2 * h);
    double err = fabs(fd - alphas[d]) / (fabs(fd) > 1e-6 ? fabs(fd) : 1e-6);
    if (err > worst) worst = err;
    for (i = 0; i < P; ++i) { free(pp[i]); free(pm[i]); }
  }
  printf("jvp vs finite differences max_rel_err %.3e %s\n", worst, worst < 1e-6 ? "PASS" : "FAIL");

  /* The runtime's optimiser applied to the initial weights must give the
   * same bits as the generated update. */
  {
    kan_optim_config cfg;
    kan_param rp[P];
    size_t np = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = seed;
    cfg.ndir = KAN_DIRECTIONS;
    cfg.lr = KAN_CHECK_LR;
#if KAN_CHECK_SPARSE
    cfg.kind = KAN_OPT_TERNARY;
    cfg.dist = KAN_DIST_SPARSE;
    cfg.density = KAN_CHECK_DENSITY;
#else
    cfg.kind = KAN_OPT_FG;
    cfg.dist = KAN_DIST_NORMAL;
#endif
    for (i = 0; i < P; ++i) {
      if (i % 4 == 0) continue;
      rp[np].name = kan_param_names[i];
      rp[np].stream = KAN_STREAM_ID(i / 4, i % 4 - 1);
      rp[np].dtype = KAN_DTYPE_F64;
      rp[np].size = (size_t)kan_param_numel[i];
      rp[np].data = copy[i];
      ++np;
    }
    if (kan_optimizer_step(&cfg, (uint32_t)step, alphas, np, rp)) return fail("optimizer_step");
    int same = 1;
    for (i = 0; i < P; ++i)
      if (memcmp(copy[i], params[i], sizeof(double) * kan_param_numel[i])) same = 0;
    printf("update equals runtime optimiser bit for bit: %s\n", same ? "PASS" : "FAIL");
  }
#endif
  return 0;
}
