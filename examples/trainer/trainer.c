/* A small trainer of its own: noise_step on two Gaussian blobs with the
 * emitted kan_train_step, weights initialised like efficient-kan, batches
 * drawn with the runtime's Philox. Prints the loss every 50 steps and exits
 * non-zero if training did not reduce it. */
#include "kan_model.h"
#include <kanrt/kanrt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 64
#define STEPS 300

/* Uniform in (0, 1) from the runtime's counter-based generator. */
static double uniform(uint64_t seed, uint32_t step, uint32_t i) {
  uint32_t ctr[4] = {i, 0, step, 99}, key[2] = {(uint32_t)seed, 0}, out[4];
  kan_philox4x32_10(ctr, key, out);
  return kan_uniform53(out[0], out[1]);
}

int main(void) {
  double *params[KAN_NUM_PARAMS];
  double x[N * 2], loss = 0, first = 0, alphas[KAN_DIRECTIONS];
  int64_t labels[N];
  int p, step;
  kan_keep_freed_memory(); /* the step allocates per call: reuse the memory */
  for (p = 0; p < KAN_NUM_PARAMS; ++p) {
    int64_t e, size = kan_param_numel[p];
    params[p] = malloc(sizeof(double) * size);
    if (!params[p]) return 1;
    for (e = 0; e < size; ++e) {
      if (p % 4 == 0) /* grid: uniform on [-1, 1], 12 knots per input */
        params[p][e] = -1.0 + ((e % 12) - 3) * (2.0 / 5.0);
      else if (p % 4 == 3) /* spline scaler */
        params[p][e] = 1.0;
      else
        params[p][e] = 0.3 * (uniform(7, (uint32_t)p, (uint32_t)e) - 0.5);
    }
  }
  for (step = 0; step < STEPS; ++step) {
    int i;
    for (i = 0; i < N; ++i) {
      int c = (int)(uniform(1, (uint32_t)step, 3 * i) < 0.5);
      double a = uniform(1, (uint32_t)step, 3 * i + 1) * 6.2831853;
      double r = 0.35 * uniform(1, (uint32_t)step, 3 * i + 2);
      x[2 * i] = (c ? 0.4 : -0.4) + r * cos(a);
      x[2 * i + 1] = (c ? -0.2 : 0.2) + r * sin(a);
      labels[i] = c;
    }
    if (kan_train_step(x, labels, N, 42, step, params, &loss, alphas)) {
      fprintf(stderr, "train_step failed: %s\n", kan_last_error());
      return 1;
    }
    if (step == 0) first = loss;
    if (step % 50 == 0 || step == STEPS - 1)
      printf("step %d loss %.4f\n", step, loss);
  }
  printf("trained: loss %.4f -> %.4f\n", first, loss);
  return loss < first ? 0 : 1;
}
