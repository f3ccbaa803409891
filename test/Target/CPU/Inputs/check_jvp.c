/* Test driver for the emitted JVP (kan-jvp through the CPU target): two
 * builds of the same model, width 1 (prefix w1_) and width 3 (prefix w3_),
 * every argument except the grids duplicated. Checks the width-1 tangent
 * against PyTorch's forward-mode JVP (golden), linearity in the tangent, and
 * that width 3 equals three runs of width 1. Usage: check_jvp GOLDEN_DIR */
#include "w1_model.h"
#include "w3_model.h"
#include <kanrt/kanrt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P W1_NUM_PARAMS
#define NT 7 /* input + 3 trained tensors per layer */

static double relerr(const double *a, const double *b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = fabs(a[i] - b[i]) / (fabs(b[i]) > 1e-3 ? fabs(b[i]) : 1e-3);
    if (e > worst) worst = e;
  }
  return worst;
}

int main(int argc, char **argv) {
  char path[4096];
  kan_tensor_map model, tang;
  kan_tensor x, dy;
  double *params[P];
  const char *tnames[NT] = {"input", "layers.0.base_weight", "layers.0.spline_weight",
                            "layers.0.spline_scaler", "layers.1.base_weight",
                            "layers.1.spline_weight", "layers.1.spline_scaler"};
  double *t1[NT], *t3[NT];
  size_t tsize[NT];
  int i;
  if (argc < 2) return 2;
  snprintf(path, sizeof path, "%s/kan_small.safetensors", argv[1]);
  if (kan_safetensors_read(path, 0, &model)) { fprintf(stderr, "%s\n", kan_last_error()); return 1; }
  snprintf(path, sizeof path, "%s/kan_small_tangents.safetensors", argv[1]);
  if (kan_safetensors_read(path, 0, &tang)) { fprintf(stderr, "%s\n", kan_last_error()); return 1; }
  snprintf(path, sizeof path, "%s/kan_small_x.npy", argv[1]);
  if (kan_npy_read(path, 0, &x)) return 1;
  snprintf(path, sizeof path, "%s/kan_small_dy.npy", argv[1]);
  if (kan_npy_read(path, 0, &dy)) return 1;
  for (i = 0; i < P; ++i)
    params[i] = (double *)kan_tensor_map_find(&model, w1_param_names[i])->data;
  int64_t n = (int64_t)x.shape[0];
  size_t ny = (size_t)n * W1_NUM_OUTPUTS;
  srand(7);
  for (i = 0; i < NT; ++i) {
    kan_tensor *t = kan_tensor_map_find(&tang, tnames[i]);
    if (!t) { fprintf(stderr, "missing tangent %s\n", tnames[i]); return 1; }
    tsize[i] = kan_tensor_numel(t);
    t1[i] = (double *)t->data;
    /* Width 3: d0 = t, d1 = 2 t, d2 = an unrelated random tangent. */
    t3[i] = malloc(sizeof(double) * 3 * tsize[i]);
    for (size_t e = 0; e < tsize[i]; ++e) {
      t3[i][e] = t1[i][e];
      t3[i][tsize[i] + e] = 2.0 * t1[i][e];
      t3[i][2 * tsize[i] + e] = (double)rand() / RAND_MAX - 0.5;
    }
  }
  double *y = malloc(sizeof(double) * ny), *yt = malloc(sizeof(double) * ny);
  double *y3 = malloc(sizeof(double) * ny), *yt3 = malloc(sizeof(double) * 3 * ny);
  if (w1_forward_jvp((const double *)x.data, n, params, t1, y, yt)) return 1;
  printf("width 1 vs golden max_rel_err %.3e %s\n", relerr(yt, (double *)dy.data, ny),
         relerr(yt, (double *)dy.data, ny) < 1e-12 ? "PASS" : "FAIL");
  if (w3_forward_jvp((const double *)x.data, n, params, t3, y3, yt3)) return 1;
  int same = memcmp(y, y3, sizeof(double) * ny) == 0 && memcmp(yt, yt3, sizeof(double) * ny) == 0;
  double lin = 0;
  for (size_t e = 0; e < ny; ++e) {
    double err = fabs(yt3[ny + e] - 2.0 * yt3[e]) / (fabs(yt3[e]) > 1e-3 ? fabs(yt3[e]) : 1e-3);
    if (err > lin) lin = err;
  }
  printf("linearity max_rel_err %.3e %s\n", lin, lin < 1e-12 ? "PASS" : "FAIL");
  /* Direction 2 through a width-1 run. */
  double *t2[NT];
  for (i = 0; i < NT; ++i) t2[i] = t3[i] + 2 * tsize[i];
  if (w1_forward_jvp((const double *)x.data, n, params, t2, y, yt)) return 1;
  same = same && memcmp(yt, yt3 + 2 * ny, sizeof(double) * ny) == 0;
  printf("width 3 equals three width-1 runs: %s\n", same ? "PASS" : "FAIL");
  return 0;
}
