/* Test driver for the emitted forward of Inputs/wide_layer.mlir (one layer,
 * 5 inputs, 20 outputs, G = 5, k = 3): kan_forward against the runtime's
 * dense path (kan_pack_weights, kan_pack_features, kan_gemm_nt) on the
 * whole batch, to rounding (the forward's span kernel sums in another
 * order). Prints "PASS max_rel_err E" or the first mismatch. */
#include "kan_model.h"
#include <kanrt/kanrt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define IN 5
#define OUT 20
#define G 5
#define K 3
#define N 300

static double frand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return ((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

int main(void) {
  static double grid[IN * (G + 2 * K + 1)], wb[OUT * IN],
      ws[OUT * IN * (G + K)], sc[OUT * IN], x[N * IN], y[N * OUT],
      ref[N * OUT], W[OUT * IN * (G + K + 1)], panel[N * IN * (G + K + 1)];
  double *params[KAN_NUM_PARAMS] = {grid, wb, ws, sc};
  double *aux;
  unsigned s = 12345;
  size_t i, j, kk = IN * (G + K + 1);
  double worst = 0;
  for (i = 0; i < IN; ++i)
    for (j = 0; j < G + 2 * K + 1; ++j)
      grid[i * (G + 2 * K + 1) + j] = -1.0 + ((double)j - K) * 2.0 / G;
  for (i = 0; i < OUT * IN; ++i) {
    wb[i] = frand(&s);
    sc[i] = 1.0 + 0.5 * frand(&s);
  }
  for (i = 0; i < OUT * IN * (G + K); ++i)
    ws[i] = frand(&s);
  for (i = 0; i < N * IN; ++i)
    x[i] = frand(&s);
  if (kan_forward(x, N, params, y) != 0) {
    fprintf(stderr, "FAIL: kan_forward: %s\n", kan_last_error());
    return 1;
  }
  aux = malloc(sizeof(double) * kan_grid_aux_size(IN, G, K));
  if (!aux || kan_grid_prepare_f64(IN, G, K, grid, aux) != KAN_OK)
    return 1;
  kan_pack_weights_f64(OUT, IN, G, K, wb, ws, sc, W, kk);
  kan_pack_features_f64(N, IN, G, K, KAN_ACT_SILU, x, IN, grid, aux, panel,
                        kk);
  kan_gemm_nt_f64(N, OUT, kk, 1, panel, kk, W, kk, 0, ref, OUT);
  for (i = 0; i < N * OUT; ++i) {
    double e = fabs(y[i] - ref[i]) / (fabs(ref[i]) > 1 ? fabs(ref[i]) : 1);
    if (!(e <= 1e-12)) {
      printf("FAIL row %zu output %zu: %.17g against %.17g\n", i / OUT,
             i % OUT, y[i], ref[i]);
      return 1;
    }
    if (e > worst)
      worst = e;
  }
  printf("PASS max_rel_err %.3g\n", worst);
  free(aux);
  return 0;
}
