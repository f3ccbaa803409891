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

#if KAN_NMC_HAVE_ASM_TILES
/* Assembly kernels; the assembler names carry nmc-gcc's leading '_'. */
#define KAN_DECL_F64(M)                                                        \
  void kan_nmc_gemm_tile_f64_##M##x32(const double *, const double *,        \
                                       double *, int, int, int);
#define KAN_DECL_F32(M)                                                        \
  void kan_nmc_gemm_tile_f32_##M##x64(const float *, const float *, float *,  \
                                       int, int, int);
KAN_DECL_F64(1) KAN_DECL_F64(2) KAN_DECL_F64(3) KAN_DECL_F64(4)
KAN_DECL_F64(8) KAN_DECL_F64(12) KAN_DECL_F64(16) KAN_DECL_F64(20)
KAN_DECL_F64(24)
KAN_DECL_F32(1) KAN_DECL_F32(2) KAN_DECL_F32(3) KAN_DECL_F32(4)
KAN_DECL_F32(8) KAN_DECL_F32(12)
#undef KAN_DECL_F64
#undef KAN_DECL_F32
#endif

void kan_nmc_gemm_tile_f64(const double *A, const double *Bt, double *C, int m,
                           int n, int kk) {
#if KAN_NMC_HAVE_ASM_TILES
  if (kan_nmc_gemm_tile_f64_has_asm(m, n, kk)) {
    switch (m) {
#define KAN_CASE(M)                                                            \
  case M:                                                                      \
    kan_nmc_gemm_tile_f64_##M##x32(A, Bt, C, m, n, kk);                        \
    return;
      KAN_CASE(1) KAN_CASE(2) KAN_CASE(3) KAN_CASE(4) KAN_CASE(8)
      KAN_CASE(12) KAN_CASE(16) KAN_CASE(20) KAN_CASE(24)
#undef KAN_CASE
    default:
      break;
    }
  }
#endif
  kan_nmc_gemm_tile_f64_c(A, Bt, C, m, n, kk);
}

void kan_nmc_gemm_tile_f32(const float *A, const float *Bt, float *C, int m,
                           int n, int kk) {
#if KAN_NMC_HAVE_ASM_TILES
  if (kan_nmc_gemm_tile_f32_has_asm(m, n, kk)) {
    switch (m) {
#define KAN_CASE(M)                                                            \
  case M:                                                                      \
    kan_nmc_gemm_tile_f32_##M##x64(A, Bt, C, m, n, kk);                        \
    return;
      KAN_CASE(1) KAN_CASE(2) KAN_CASE(3) KAN_CASE(4) KAN_CASE(8) KAN_CASE(12)
#undef KAN_CASE
    default:
      break;
    }
  }
#endif
  kan_nmc_gemm_tile_f32_c(A, Bt, C, m, n, kk);
}
