/* Failure paths of a generated training step and forward: a runtime call
 * that fails makes the function return its status and skip everything after
 * it (no update touches the parameters), and every buffer is freed on the
 * way out (run under LeakSanitizer). Model: Inputs/kan_small.mlir. */
#include "kan_model.h"

#include <kanrt/status.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 6

int main(void) {
  double *params[KAN_NUM_PARAMS], *saved[KAN_NUM_PARAMS];
  double x[N * KAN_NUM_INPUTS], y[N * KAN_NUM_OUTPUTS];
  double loss = 0, alphas[KAN_DIRECTIONS];
  int64_t labels[N];
  int i, failures = 0;
  int64_t e;
  for (i = 0; i < KAN_NUM_PARAMS; ++i) {
    params[i] = malloc(sizeof(double) * (size_t)kan_param_numel[i]);
    saved[i] = malloc(sizeof(double) * (size_t)kan_param_numel[i]);
    /* Grids increasing along each row, weights small. */
    for (e = 0; e < kan_param_numel[i]; ++e)
      params[i][e] = strstr(kan_param_names[i], "grid")
                         ? -2.2 + 0.4 * (double)(e % 12)
                         : 0.01 * (double)((e * 7) % 11 - 5);
  }
  for (e = 0; e < N * KAN_NUM_INPUTS; ++e)
    x[e] = 0.1 * (double)(e % 9) - 0.4;
  for (e = 0; e < N; ++e)
    labels[e] = e % KAN_NUM_OUTPUTS;

  if (kan_train_step(x, labels, N, 1, 0, params, &loss, alphas) != 0) {
    printf("valid step failed\n");
    ++failures;
  }
  /* A label out of range: the loss fails, no update runs. */
  for (i = 0; i < KAN_NUM_PARAMS; ++i)
    memcpy(saved[i], params[i], sizeof(double) * (size_t)kan_param_numel[i]);
  labels[3] = KAN_NUM_OUTPUTS;
  if (kan_train_step(x, labels, N, 1, 1, params, &loss, alphas) !=
      KAN_ERR_INVALID_ARGUMENT) {
    printf("bad label not reported\n");
    ++failures;
  }
  for (i = 0; i < KAN_NUM_PARAMS; ++i)
    if (memcmp(saved[i], params[i],
               sizeof(double) * (size_t)kan_param_numel[i]) != 0) {
      printf("parameter %s changed by a failed step\n", kan_param_names[i]);
      ++failures;
    }
  /* A NaN in the second layer's grid: kan_grid_prepare fails after the first
   * layer ran; the forward returns its status. */
  for (i = 0; i < KAN_NUM_PARAMS; ++i)
    if (strcmp(kan_param_names[i], "layers.1.grid") == 0)
      params[i][2] = NAN;
  if (kan_forward(x, N, params, y) != KAN_ERR_INVALID_ARGUMENT) {
    printf("bad grid not reported\n");
    ++failures;
  }
  for (i = 0; i < KAN_NUM_PARAMS; ++i) {
    free(params[i]);
    free(saved[i]);
  }
  printf("failure paths: %s\n", failures ? "FAIL" : "PASS");
  return failures != 0;
}
