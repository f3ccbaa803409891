/* compare A B [tol]: relative error of two float64 (or two float32) NPY or
 * safetensors files (every tensor of the same name), norm-wise: max_i |a_i-b_i| / max_i |b_i|,
 * so outputs near zero after a long, reordered sum do not dominate. */
#include <kanrt/io.h>
#include <kanrt/tensor.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double at(const kan_tensor *t, size_t i) {
  return t->dtype == KAN_DTYPE_F32 ? (double)((const float *)t->data)[i]
                                   : ((const double *)t->data)[i];
}

static double maxrel(const kan_tensor *a, const kan_tensor *b, int *bad) {
  size_t n = kan_tensor_numel(a), i;
  double m = 0.0, big = 0.0;
  if (n != kan_tensor_numel(b) || a->dtype != b->dtype ||
      (a->dtype != KAN_DTYPE_F64 && a->dtype != KAN_DTYPE_F32)) {
    *bad = 1;
    return 0.0;
  }
  for (i = 0; i < n; ++i)
    if (fabs(at(b, i)) > big)
      big = fabs(at(b, i));
  for (i = 0; i < n; ++i) {
    double x = at(a, i), y = at(b, i);
    double f = big;
    double d = fabs(x - y) / (f > 1e-300 ? f : 1e-300);
    if (x != y && d > m)
      m = d;
  }
  return m;
}

int main(int argc, char **argv) {
  double tol = argc > 3 ? atof(argv[3]) : 1e-12, m = 0.0;
  int bad = 0;
  size_t len;
  if (argc < 3)
    return 2;
  len = strlen(argv[1]);
  if (len > 4 && !strcmp(argv[1] + len - 4, ".npy")) {
    kan_tensor a, b;
    if (kan_npy_read(argv[1], 0, &a) || kan_npy_read(argv[2], 0, &b))
      return 2;
    m = maxrel(&a, &b, &bad);
  } else {
    kan_tensor_map a, b;
    size_t i;
    if (kan_safetensors_read(argv[1], 0, &a) ||
        kan_safetensors_read(argv[2], 0, &b))
      return 2;
    for (i = 0; i < b.count; ++i) {
      kan_tensor *t = kan_tensor_map_find(&a, b.names[i]);
      double r;
      if (!t) {
        bad = 1;
        continue;
      }
      r = maxrel(t, &b.tensors[i], &bad);
      if (r > m)
        m = r;
    }
  }
  printf("max_rel_err %.3e %s\n", m, !bad && m < tol ? "PASS" : "FAIL");
  return !bad && m < tol ? 0 : 1;
}
