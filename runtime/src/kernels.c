/*===- kernels.c - KAN layer micro-kernels, f64 and f32 ---------*- C -*-===*/
#include <math.h>
#include <string.h>

#include "internal.h"

size_t kan_grid_aux_size(size_t in, int G, int k) {
  size_t per, total;
  if (G < 1 || k < 0 || k > KAN_MAX_SPLINE_ORDER || G > (1 << 24))
    return 0;
  per = (size_t)4 + (size_t)k * (size_t)(G + 2 * k);
  if (!kan_mul_ok(in, per, &total))
    return 0;
  return total;
}

#define T double
#define NAME(f) f##_f64
#define EXP exp
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP

#define T float
#define NAME(f) f##_f32
#define EXP expf
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP
