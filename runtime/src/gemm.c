/*===- gemm.c - GEMM C = alpha A B^T + beta C, f64 and f32 ------*- C -*-===*/
#include <stdlib.h>

#include "internal.h"

#include "transpose.h"

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
   The MC x KC rows of A (read in place) stay in L2 across the NR panels, a
   KC x NR panel of B in L1. With A in place, 6 x 4 vectors (NR = 64 floats,
   one panel for 64 outputs) measured the same as 12 x 2 with AVX-512 f32,
   and 4 x 3 or 3 x 4 ymm 8-12 % slower than 6 x 2 with AVX2.
   KAN_GEMM_MR_F64 and friends override the tiles (for tuning runs). */
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
/* Packed A (kan_gemm_nt_packed_a, all of A packed once, megabytes read from
   L3 or memory): chunks of KAN_GEMM_LINE columns prefetched this many
   chunks ahead. Without it 256 x 64 x 7056 (f32) took 1.5 ms packed
   against 1.1 in place; 1, 2, 4, 6, 8 ahead: 1.38, 1.20, 1.05-1.08,
   1.00-1.02, 1.03-1.05 ms. */
#ifndef KAN_GEMM_PACKED_AHEAD
#define KAN_GEMM_PACKED_AHEAD 4
#endif

#define T double
#define NAME(f) KAN_ISA_NAME(f##_f64)
#define MR KAN_GEMM_MR_F64
#define NR KAN_GEMM_NR_F64
#define MC (12 * MR)
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

#define T float
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
