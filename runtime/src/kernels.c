/*===- kernels.c - KAN layer micro-kernels, f64 and f32 ---------*- C -*-===*/
#include <math.h>
#include <string.h>

#include "internal.h"

/* kanrt compiles this file once per instruction-set level with
   -DKAN_ISA_SUFFIX=_<isa> (kernels named kan_<kernel>_<type>_<isa>, reached
   through isa.c). Without it (a single-level build such as the NMC core
   program's) the kernels get their public names. */
#if !defined(KAN_ISA_SUFFIX) || defined(KAN_ISA_PRIMARY)
/* Not per level: defined once, by the baseline (KAN_ISA_PRIMARY) build. */
KAN_EXPORT size_t kan_grid_aux_size(size_t in, int G, int k) {
  size_t per, total;
  if (G < 1 || k < 0 || k > KAN_MAX_SPLINE_ORDER || G > (1 << 24))
    return 0;
  per = (size_t)4 + (size_t)k * (size_t)(G + 2 * k);
  if (!kan_mul_ok(in, per, &total))
    return 0;
  return total;
}
#endif
#ifndef KAN_ISA_SUFFIX
#define KAN_ISA_SUFFIX
#endif

/* Vectors of the span-local forward (GCC/Clang vector extension, lowered to
   what the target has): the level's full width, 64 bytes with AVX-512, 32
   with AVX, 16 otherwise. */
#if defined(__GNUC__) && !defined(KANRT_GEMM_NO_VECTOR)
#define KAN_SPAN_VECTOR 1
#if defined(__AVX512F__)
#define KAN_SPAN_VBYTES 64
#elif defined(__AVX__)
#define KAN_SPAN_VBYTES 32
#else
#define KAN_SPAN_VBYTES 16
#endif
#else
#define KAN_SPAN_VECTOR 0
#define KAN_SPAN_VBYTES 16
#endif
/* Output block of the span kernel: KAN_SPAN_NV vector accumulators per
   row, at most 64 outputs so layers of 64 outputs run in full vector
   blocks: 8 vectors, but 4 of 16 floats with AVX-512 (measured: two rows of
   4 at once, for 8 independent chains, ran slower than one). */
#ifndef KAN_SPAN_NV_F32
#if KAN_SPAN_VBYTES == 64
#define KAN_SPAN_NV_F32 4
#else
#define KAN_SPAN_NV_F32 8
#endif
#endif
#ifndef KAN_SPAN_NV_F64
#define KAN_SPAN_NV_F64 8
#endif
/* Bytes of the Wspan slice of one input block that should stay in L1. */
#define KAN_SPAN_L1_BYTES 20480

#define T double
#define NAME(f) KAN_ISA_NAME(f##_f64)
#define EXP exp
#define KAN_SPAN_NV KAN_SPAN_NV_F64
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP
#undef KAN_SPAN_NV

#define T float
#define NAME(f) KAN_ISA_NAME(f##_f32)
#define EXP expf
#define KAN_SPAN_NV KAN_SPAN_NV_F32
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP
#undef KAN_SPAN_NV
