/* cpu_ref WEIGHTS X.npy [LABELS.npy STEPS SEED OUT]: the CPU target's
 * forward (prints y to OUT.npy when STEPS is 0) or STEPS noise_step steps
 * on the batch (prints loss and alpha0 per step, saves the weights to OUT),
 * the reference the NM Quad host-emulation results are compared with.
 * Built with -DKAN_REAL=float for an f32 model. */
#include "kan_model.h"

#ifndef KAN_REAL
#define KAN_REAL double
#endif

#include <kanrt/io.h>
#include <kanrt/tensor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  kan_tensor_map w;
  kan_tensor x;
  KAN_REAL *params[KAN_NUM_PARAMS];
  int i, steps = argc > 4 ? atoi(argv[4]) : 0;
  if (argc < 4 || kan_safetensors_read(argv[1], 0, &w) ||
      kan_npy_read(argv[2], 0, &x))
    return 2;
  for (i = 0; i < KAN_NUM_PARAMS; ++i) {
    kan_tensor *t = kan_tensor_map_find(&w, kan_param_names[i]);
    if (!t)
      return 2;
    params[i] = (KAN_REAL *)t->data;
  }
  if (steps == 0) {
    kan_tensor y;
    size_t shape[2];
    shape[0] = x.shape[0];
    shape[1] = KAN_NUM_OUTPUTS;
    kan_tensor_alloc(&y, sizeof(KAN_REAL) == 4 ? KAN_DTYPE_F32 : KAN_DTYPE_F64,
                     2, shape);
    if (kan_forward((const KAN_REAL *)x.data, (int64_t)x.shape[0], params,
                    (KAN_REAL *)y.data))
      return 1;
    return kan_npy_write(argv[3], &y) ? 1 : 0;
  }
#ifdef KAN_DIRECTIONS
  {
    kan_tensor lab;
    int64_t *labels = (int64_t *)malloc(sizeof(int64_t) * x.shape[0]);
    unsigned long long seed = strtoull(argv[5], NULL, 10);
    size_t r;
    if (kan_npy_read(argv[3], 0, &lab))
      return 2;
    for (r = 0; r < x.shape[0]; ++r)
      labels[r] = lab.dtype == KAN_DTYPE_I64 ? ((int64_t *)lab.data)[r]
                                             : ((int32_t *)lab.data)[r];
    for (i = 0; i < steps; ++i) {
      KAN_REAL loss, alphas[KAN_DIRECTIONS];
      if (kan_train_step((const KAN_REAL *)x.data, labels, (int64_t)x.shape[0],
                         seed, i, params, &loss, alphas))
        return 1;
      printf("step %d loss %.17g alpha0 %.17g\n", i, (double)loss,
             (double)alphas[0]);
    }
    return kan_safetensors_write(argv[6], &w) ? 1 : 0;
  }
#else
  return 2;
#endif
}
