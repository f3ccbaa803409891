/*===- gemm.c - GEMM C = alpha A B^T + beta C, f64 and f32 ------*- C -*-===*/
#include <stdlib.h>

#include "internal.h"

#ifdef KANRT_USE_CBLAS
#include <cblas.h>
#endif

#if defined(__GNUC__)
#define KAN_RESTRICT __restrict__
#else
#define KAN_RESTRICT
#endif

/* Vector width of the micro-kernel: 32-byte vectors with AVX, 16 otherwise
   (GCC lowers vector_size types to what the target has). */
#if defined(__GNUC__) && !defined(KANRT_GEMM_NO_VECTOR)
#define KAN_GEMM_VECTOR 1
#if defined(__AVX__)
#define KAN_VBYTES 32
#else
#define KAN_VBYTES 16
#endif
#else
#define KAN_GEMM_VECTOR 0
#endif

/* Tile sizes: MR x NR accumulators = 12 AVX2 registers; MC x KC of A stays
   in L2, a KC x NR panel of B in L1. */
#define T double
#define NAME(f) f##_f64
#define MR 6
#define NR 8
#define MC 72
#define KC 256
#define NC 4080
#include "gemm.inc"
#undef T
#undef NAME
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC

#define T float
#define NAME(f) f##_f32
#define MR 6
#define NR 16
#define MC 144
#define KC 256
#define NC 4080
#include "gemm.inc"
#undef T
#undef NAME
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC

int kan_gemm_uses_cblas(void) {
#ifdef KANRT_USE_CBLAS
  return 1;
#else
  return 0;
#endif
}

#ifdef KANRT_USE_CBLAS
#include <limits.h>
/* cblas takes int sizes: anything larger goes to the portable kernel. */
static int ld_ok(size_t ld, size_t cols) {
  return ld >= (cols ? cols : 1) && ld <= (size_t)INT_MAX &&
         cols <= (size_t)INT_MAX;
}
#endif

void kan_gemm_nt_f64(size_t m, size_t n, size_t k, double alpha,
                     const double *A, size_t lda, const double *B, size_t ldb,
                     double beta, double *C, size_t ldc) {
#ifdef KANRT_USE_CBLAS
  if (m && n && k && ld_ok(lda, k) && ld_ok(ldb, k) && ld_ok(ldc, n) &&
      m <= (size_t)INT_MAX) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n,
                (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    return;
  }
#endif
  kan_gemm_nt_portable_f64(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void kan_gemm_nt_f32(size_t m, size_t n, size_t k, float alpha,
                     const float *A, size_t lda, const float *B, size_t ldb,
                     float beta, float *C, size_t ldc) {
#ifdef KANRT_USE_CBLAS
  if (m && n && k && ld_ok(lda, k) && ld_ok(ldb, k) && ld_ok(ldc, n) &&
      m <= (size_t)INT_MAX) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n,
                (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    return;
  }
#endif
  kan_gemm_nt_portable_f32(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
