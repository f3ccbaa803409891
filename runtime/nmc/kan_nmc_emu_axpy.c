/*===- kan_nmc_emu_axpy.c - kan_nmc_axpy_f64 under host emulation --------===*
 *
 * The C loop in place of the assembly kernel (same order and rounding as
 * kan_update_dense_f64's `acc + c * v`). `make host-emu-sim` links
 * libkanrt_nmc_sim first, whose definition runs the folder's assembly in the
 * simulator, and this file is then not pulled from the archive.
 *===----------------------------------------------------------------------===*/
#include "kan_nmc_axpy.h"

void kan_nmc_axpy_f64(const double *a, const double *x, double *y, int n) {
  const double s = a[0];
  int i;
  for (i = 0; i < n; ++i)
    y[i] = y[i] + s * x[i];
}
