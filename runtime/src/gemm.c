/*===- gemm.c - GEMM C = alpha A B^T + beta C, f64 and f32 ------*- C -*-===*/
#include <stdlib.h>

#include "internal.h"

#if defined(__GNUC__) && defined(__AVX__) && !defined(KANRT_GEMM_NO_VECTOR)
#include <immintrin.h>
/* Packing transposes blocks of 8 floats or 4 doubles x that many rows in
   ymm registers (AVX and AVX-512 levels). */
#define KAN_GEMM_PACK_AVX 1
#else
#define KAN_GEMM_PACK_AVX 0
#endif

/* Compiled once per instruction-set level like kernels.c; the cblas
   forwarding of kan_gemm_nt_* is in isa.c. */
#ifndef KAN_ISA_SUFFIX
#error "gemm.c is compiled with -DKAN_ISA_SUFFIX=_<isa> (see isa.c)"
#endif

#if defined(__GNUC__)
#define KAN_RESTRICT __restrict__
#else
#define KAN_RESTRICT
#endif

/* Register blocking per level. The micro-kernel keeps MR x NV vector
   accumulators, NV = 2 vectors of B and one broadcast of A in registers:
   - AVX-512 (32 zmm): 12 x 2 = 24 accumulators of 64 bytes, NR = 16 doubles
     or 32 floats (the 64 outputs of the benchmark models are whole panels);
   - AVX2 (16 ymm) and SSE2 (16 xmm): 6 x 2 = 12 accumulators.
   MC x KC of A stays in L2, a KC x NR panel of B in L1. KAN_GEMM_MR_F64 and
   friends override the tiles (for tuning runs). */
#if defined(__GNUC__) && !defined(KANRT_GEMM_NO_VECTOR)
#define KAN_GEMM_VECTOR 1
#if defined(__AVX512F__)
#define KAN_VBYTES 64
#define KAN_MR 12
#elif defined(__AVX__)
#define KAN_VBYTES 32
#define KAN_MR 6
#else
#define KAN_VBYTES 16
#define KAN_MR 6
#endif
#else
#define KAN_GEMM_VECTOR 0
#define KAN_VBYTES 16
#define KAN_MR 6
#endif
#define KAN_NV 2

#ifndef KAN_GEMM_MR_F64
#define KAN_GEMM_MR_F64 KAN_MR
#endif
#ifndef KAN_GEMM_NR_F64
#define KAN_GEMM_NR_F64 (KAN_NV * KAN_VBYTES / 8)
#endif
#ifndef KAN_GEMM_MR_F32
#define KAN_GEMM_MR_F32 KAN_MR
#endif
#ifndef KAN_GEMM_NR_F32
#define KAN_GEMM_NR_F32 (KAN_NV * KAN_VBYTES / 4)
#endif
#ifndef KAN_GEMM_KC
#define KAN_GEMM_KC 256
#endif
/* Values of T per cache line, and how far ahead (bytes) the rows of A are
   prefetched where they are read in place or packed: 512 measured best of
   256 - 2048 (f32, AVX-512, the model shapes). */
#define KAN_GEMM_LINE (64 / sizeof(T))
#ifndef KAN_GEMM_PREFETCH
#define KAN_GEMM_PREFETCH 512
#endif

#if KAN_GEMM_PACK_AVX
/* r[0..7] (rows) -> r[p] = column p of the 8 x 8 block. */
static inline void kan_transpose8_ps(__m256 r[8]) {
  __m256 t[8], u[8];
  int q;
  for (q = 0; q < 4; ++q) {
    t[2 * q] = _mm256_unpacklo_ps(r[2 * q], r[2 * q + 1]);
    t[2 * q + 1] = _mm256_unpackhi_ps(r[2 * q], r[2 * q + 1]);
  }
  for (q = 0; q < 2; ++q) {
    u[4 * q] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
    u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
    u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
    u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
  }
  for (q = 0; q < 4; ++q) {
    r[q] = _mm256_permute2f128_ps(u[q], u[q + 4], 0x20);
    r[q + 4] = _mm256_permute2f128_ps(u[q], u[q + 4], 0x31);
  }
}

/* r[0..3] (rows) -> r[p] = column p of the 4 x 4 block. */
static inline void kan_transpose4_pd(__m256d r[4]) {
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]),
                t1 = _mm256_unpackhi_pd(r[0], r[1]),
                t2 = _mm256_unpacklo_pd(r[2], r[3]),
                t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
#endif

#define T double
#define PV __m256d
#define PW 4
#define PLOAD _mm256_loadu_pd
#define PSTORE _mm256_storeu_pd
#define PSTORE_HALF(p, v) _mm_storeu_pd(p, _mm256_castpd256_pd128(v))
#define PZERO _mm256_setzero_pd
#define PTRANSPOSE kan_transpose4_pd
#define NAME(f) KAN_ISA_NAME(f##_f64)
#define MR KAN_GEMM_MR_F64
#define NR KAN_GEMM_NR_F64
#define MC (12 * MR)
#define KC KAN_GEMM_KC
#define NC 4080
#include "gemm.inc"
#undef T
#undef PV
#undef PW
#undef PLOAD
#undef PSTORE
#undef PSTORE_HALF
#undef PZERO
#undef PTRANSPOSE
#undef NAME
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC

#define T float
#define PV __m256
#define PW 8
#define PLOAD _mm256_loadu_ps
#define PSTORE _mm256_storeu_ps
#define PSTORE_HALF(p, v) _mm_storeu_ps(p, _mm256_castps256_ps128(v))
#define PZERO _mm256_setzero_ps
#define PTRANSPOSE kan_transpose8_ps
#define NAME(f) KAN_ISA_NAME(f##_f32)
#define MR KAN_GEMM_MR_F32
#define NR KAN_GEMM_NR_F32
#define MC (24 * MR)
#define KC KAN_GEMM_KC
#define NC 4080
#include "gemm.inc"
#undef T
#undef NAME
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC
