/*===- gemm.c - GEMM C = alpha A B^T + beta C, f64 and f32 ------*- C -*-===*/
#include <stdlib.h>

#include "internal.h"

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
#define NAME(f) KAN_ISA_NAME(f##_f64)
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
#define NAME(f) KAN_ISA_NAME(f##_f32)
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
