/*===- transpose.h - in-register transposes for packing ---------*- C -*-===*/
/* Square transposes of 8 floats or 4 doubles in ymm registers, shared by
   the GEMM's packing (gemm.c) and the span weight packing (kernels.c).
   KAN_PACK_AVX is 1 where they exist (the AVX2 and AVX-512 levels). */
#ifndef KANRT_TRANSPOSE_H
#define KANRT_TRANSPOSE_H

#if defined(__GNUC__) && defined(__AVX__) && !defined(KANRT_GEMM_NO_VECTOR)
#include <immintrin.h>
#define KAN_PACK_AVX 1

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

/* The templates' names for T (double or float): PV holds PW values, the
   blocks are PW x PW. */
#define KAN_PV_double __m256d
#define KAN_PW_double 4
#define KAN_PLOAD_double _mm256_loadu_pd
#define KAN_PSTORE_double _mm256_storeu_pd
#define KAN_PSTORE_HALF_double(p, v)                                          \
  _mm_storeu_pd(p, _mm256_castpd256_pd128(v))
#define KAN_PZERO_double _mm256_setzero_pd
#define KAN_PSET1_double _mm256_set1_pd
#define KAN_PTRANSPOSE_double kan_transpose4_pd
#define KAN_PV_float __m256
#define KAN_PW_float 8
#define KAN_PLOAD_float _mm256_loadu_ps
#define KAN_PSTORE_float _mm256_storeu_ps
#define KAN_PSTORE_HALF_float(p, v) _mm_storeu_ps(p, _mm256_castps256_ps128(v))
#define KAN_PZERO_float _mm256_setzero_ps
#define KAN_PSET1_float _mm256_set1_ps
#define KAN_PTRANSPOSE_float kan_transpose8_ps
#define KAN_PCAT2(a, b) a##b
#define KAN_PCAT(a, b) KAN_PCAT2(a, b)
#define PV KAN_PCAT(KAN_PV_, T)
#define PW KAN_PCAT(KAN_PW_, T)
#define PLOAD KAN_PCAT(KAN_PLOAD_, T)
#define PSTORE KAN_PCAT(KAN_PSTORE_, T)
#define PSTORE_HALF KAN_PCAT(KAN_PSTORE_HALF_, T)
#define PZERO KAN_PCAT(KAN_PZERO_, T)
#define PSET1 KAN_PCAT(KAN_PSET1_, T)
#define PTRANSPOSE KAN_PCAT(KAN_PTRANSPOSE_, T)
#else
#define KAN_PACK_AVX 0
#endif

#endif
