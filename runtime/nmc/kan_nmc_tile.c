/*===- kan_nmc_tile.c - C path of the NMC4 GEMM tile kernels --------------===*/
#include "kan_nmc_tile.h"

static int isF64AsmM(int m) {
  return (m >= 1 && m <= 4) ||
         (m > 4 && m <= KAN_NMC_TILE_F64_MAX_M && m % 4 == 0);
}

static int isF32AsmM(int m) {
  return (m >= 1 && m <= 4) ||
         (m > 4 && m <= KAN_NMC_TILE_F32_MAX_M && m % 4 == 0);
}

int kan_nmc_gemm_tile_f64_has_asm(int m, int n, int kk) {
  return n == KAN_NMC_TILE_F64_N && isF64AsmM(m) && kk >= 1;
}

int kan_nmc_gemm_tile_f32_has_asm(int m, int n, int kk) {
  return n == KAN_NMC_TILE_F32_N && isF32AsmM(m) && kk >= 1 &&
         kk % KAN_NMC_TILE_F32_KK_MULTIPLE == 0;
}

/* Same summation order as the FPU kernels (k ascending into the C row), so
 * results agree to rounding of the multiply-add. */
void kan_nmc_gemm_tile_f64_c(const double *A, const double *Bt, double *C,
                             int m, int n, int kk) {
  int i, j, k;
  for (i = 0; i < m; ++i) {
    double *c = C + (long)i * n;
    const double *a = A + (long)i * kk;
    for (k = 0; k < kk; ++k) {
      const double aik = a[k];
      const double *b = Bt + (long)k * n;
      for (j = 0; j < n; ++j)
        c[j] += aik * b[j];
    }
  }
}

void kan_nmc_gemm_tile_f32_c(const float *A, const float *Bt, float *C, int m,
                             int n, int kk) {
  int i, j, k;
  for (i = 0; i < m; ++i) {
    float *c = C + (long)i * n;
    const float *a = A + (long)i * kk;
    for (k = 0; k < kk; ++k) {
      const float aik = a[k];
      const float *b = Bt + (long)k * n;
      for (j = 0; j < n; ++j)
        c[j] += aik * b[j];
    }
  }
}

void kan_nmc_gemm_tile_f64(const double *A, const double *Bt, double *C, int m,
                           int n, int kk) {
  kan_nmc_gemm_tile_f64_c(A, Bt, C, m, n, kk);
}

void kan_nmc_gemm_tile_f32(const float *A, const float *Bt, float *C, int m,
                           int n, int kk) {
  kan_nmc_gemm_tile_f32_c(A, Bt, C, m, n, kk);
}

void kan_nmc_gemm_rows_f64(const kan_nmc_tile_f64 *kernels, int count,
                           const double *A, const double *Bt, double *C,
                           int rows, int kk) {
  int i = 0;
  while (rows > 0 && i < count) {
    if (kernels[i].m > rows) {
      ++i;
      continue;
    }
    kernels[i].fn(A, Bt, C, kernels[i].m, KAN_NMC_TILE_F64_N, kk);
    A += (long)kernels[i].m * kk;
    C += (long)kernels[i].m * KAN_NMC_TILE_F64_N;
    rows -= kernels[i].m;
  }
}

void kan_nmc_gemm_rows_f32(const kan_nmc_tile_f32 *kernels, int count,
                           const float *A, const float *Bt, float *C, int rows,
                           int kk) {
  int i = 0;
  while (rows > 0 && i < count) {
    if (kernels[i].m > rows) {
      ++i;
      continue;
    }
    kernels[i].fn(A, Bt, C, kernels[i].m, KAN_NMC_TILE_F32_N, kk);
    A += (long)kernels[i].m * kk;
    C += (long)kernels[i].m * KAN_NMC_TILE_F32_N;
    rows -= kernels[i].m;
  }
}
