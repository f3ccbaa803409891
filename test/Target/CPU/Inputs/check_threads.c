/* Test driver for the row tiles and the loss on threads: runs `steps`
 * training steps of the emitted model (any kan-translate --train-step
 * output; parameters in the header's order) on a batch of `n` rows of
 * pseudo-random data and prints every loss, every alpha and, at the end,
 * every parameter and the forward's outputs as exact hexadecimal floats
 * (%a), one per line, for check_threads.py to compare. Labels (or MSE
 * targets, with -DKAN_CHECK_MSE) come from the same generator. */
#include "kan_model.h"
#include <kanrt/kanrt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return ((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

int main(int argc, char **argv) {
  const int G = 5, K = 3, knots = G + 2 * K + 1;
  kan_real *params[KAN_NUM_PARAMS], loss, alphas[KAN_DIRECTIONS], *x, *y;
  unsigned s = 2024;
  int64_t n, i, j, step, steps;
#ifdef KAN_CHECK_MSE
  kan_real *target;
#else
  int64_t *target;
#endif
  if (argc != 3 || (n = atoll(argv[1])) < 1 || (steps = atoll(argv[2])) < 1) {
    fprintf(stderr, "usage: check_threads N STEPS\n");
    return 2;
  }
  x = malloc(sizeof(kan_real) * (size_t)(n * KAN_NUM_INPUTS));
  y = malloc(sizeof(kan_real) * (size_t)(n * KAN_NUM_OUTPUTS));
#ifdef KAN_CHECK_MSE
  target = malloc(sizeof(kan_real) * (size_t)(n * KAN_NUM_OUTPUTS));
  for (i = 0; target && i < n * KAN_NUM_OUTPUTS; ++i)
    target[i] = (kan_real)(0.5 * frand(&s));
#else
  target = malloc(sizeof(int64_t) * (size_t)n);
  for (i = 0; target && i < n; ++i)
    target[i] = (int64_t)((frand(&s) + 1.0) * 0.5 * KAN_NUM_OUTPUTS) %
                KAN_NUM_OUTPUTS;
#endif
  if (!x || !y || !target)
    return 3;
  for (i = 0; i < n * KAN_NUM_INPUTS; ++i)
    x[i] = (kan_real)frand(&s);
  for (i = 0; i < KAN_NUM_PARAMS; ++i) {
    int64_t numel = kan_param_numel[i];
    params[i] = malloc(sizeof(kan_real) * (size_t)numel);
    if (!params[i])
      return 3;
    if (ends_with(kan_param_names[i], ".grid"))
      for (j = 0; j < numel; ++j)
        params[i][j] = (kan_real)(-1.0 + (double)(j % knots - K) * 2.0 / G);
    else
      for (j = 0; j < numel; ++j)
        params[i][j] = (kan_real)(0.5 * frand(&s));
  }
  for (step = 0; step < steps; ++step) {
    if (kan_train_step(x, target, n, 7, step, params, &loss, alphas)) {
      fprintf(stderr, "train_step: %s\n", kan_last_error());
      return 1;
    }
    printf("loss %a\n", (double)loss);
    for (j = 0; j < KAN_DIRECTIONS; ++j)
      printf("alpha %a\n", (double)alphas[j]);
  }
  for (i = 0; i < KAN_NUM_PARAMS; ++i)
    for (j = 0; j < kan_param_numel[i]; ++j)
      printf("param %a\n", (double)params[i][j]);
  if (kan_forward(x, n, params, y)) {
    fprintf(stderr, "forward: %s\n", kan_last_error());
    return 1;
  }
  for (i = 0; i < n * KAN_NUM_OUTPUTS; ++i)
    printf("y %a\n", (double)y[i]);
  return 0;
}
