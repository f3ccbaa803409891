/* f32 through the CPU target: kan_forward against the golden float32
 * outputs, and the training step's update against the runtime's optimiser
 * on float parameters (bit for bit). Usage: check_model_f32 GOLDEN_DIR */
#include "kan_model.h"
#include <kanrt/kanrt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P KAN_NUM_PARAMS

int main(int argc, char **argv) {
  char path[4096];
  kan_tensor_map model;
  kan_tensor x, y;
  float *params[P], *copy[P];
  int i;
  if (argc < 2) return 2;
  snprintf(path, sizeof path, "%s/kan_small_f32.safetensors", argv[1]);
  if (kan_safetensors_read(path, 0, &model)) { fprintf(stderr, "%s\n", kan_last_error()); return 1; }
  snprintf(path, sizeof path, "%s/kan_small_f32_x.npy", argv[1]);
  if (kan_npy_read(path, 0, &x)) return 1;
  snprintf(path, sizeof path, "%s/kan_small_f32_y.npy", argv[1]);
  if (kan_npy_read(path, 0, &y)) return 1;
  if (x.dtype != KAN_DTYPE_F32 || y.dtype != KAN_DTYPE_F32) return 1;
  for (i = 0; i < P; ++i) {
    kan_tensor *t = kan_tensor_map_find(&model, kan_param_names[i]);
    if (!t || t->dtype != KAN_DTYPE_F32) return 1;
    params[i] = (float *)t->data;
    copy[i] = malloc(sizeof(float) * kan_param_numel[i]);
    memcpy(copy[i], params[i], sizeof(float) * kan_param_numel[i]);
  }
  int64_t n = (int64_t)x.shape[0];
  float *out = malloc(sizeof(float) * n * KAN_NUM_OUTPUTS);
  if (kan_forward((const float *)x.data, n, params, out)) return 1;
  double worst = 0;
  for (int64_t e = 0; e < n * KAN_NUM_OUTPUTS; ++e) {
    double ref = ((float *)y.data)[e];
    double err = fabs(out[e] - ref) / (fabs(ref) > 1e-2 ? fabs(ref) : 1e-2);
    if (err > worst) worst = err;
  }
  printf("f32 forward max_rel_err %.3e %s\n", worst, worst < 1e-5 ? "PASS" : "FAIL");

  int64_t *labels = malloc(sizeof(int64_t) * n);
  for (int64_t r = 0; r < n; ++r) labels[r] = r % KAN_NUM_OUTPUTS;
  float loss, alphas[KAN_DIRECTIONS];
  double ad[KAN_DIRECTIONS];
  if (kan_train_step((const float *)x.data, labels, n, 5, 3, params, &loss, alphas)) return 1;
  for (i = 0; i < KAN_DIRECTIONS; ++i) ad[i] = alphas[i];
  kan_optim_config cfg;
  kan_param rp[P];
  size_t np = 0;
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = KAN_OPT_TERNARY;
  cfg.dist = KAN_DIST_SPARSE;
  cfg.ndir = KAN_DIRECTIONS;
  cfg.seed = 5;
  cfg.lr = 0.01;
  cfg.density = 0.05;
  for (i = 0; i < P; ++i) {
    if (i % 4 == 0) continue;
    rp[np].name = kan_param_names[i];
    rp[np].stream = KAN_STREAM_ID(i / 4, i % 4 - 1);
    rp[np].dtype = KAN_DTYPE_F32;
    rp[np].size = (size_t)kan_param_numel[i];
    rp[np].data = copy[i];
    ++np;
  }
  if (kan_optimizer_step(&cfg, 3, ad, np, rp)) return 1;
  int same = isfinite(loss);
  for (i = 0; i < P; ++i)
    if (memcmp(copy[i], params[i], sizeof(float) * kan_param_numel[i])) same = 0;
  printf("f32 update equals runtime optimiser bit for bit: %s\n", same ? "PASS" : "FAIL");
  return 0;
}
