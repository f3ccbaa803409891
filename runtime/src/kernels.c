/*===- kernels.c - KAN layer micro-kernels, f64 and f32 ---------*- C -*-===*/
#include <float.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "transpose.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
   with AVX, 16 otherwise. NMC core programs (__NM__) get scalar code: the
   NMC4 has no vector unit GCC's vector extension could map to. */
#if defined(__GNUC__) && !defined(KANRT_GEMM_NO_VECTOR) && !defined(__NM__)
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
/* Basis, SiLU and their derivatives in vector form (the closed form on
   uniform cubic grids, a vector exp): needs __builtin_convertvector (GCC 9,
   Clang); older compilers, and KANRT_SPAN_NO_VECTOR_VALUES, keep the
   recursion and libm's exp for every row. */
#if KAN_SPAN_VECTOR && !defined(KANRT_SPAN_NO_VECTOR_VALUES) &&                \
    (defined(__clang__) || __GNUC__ >= 9)
#define KAN_SPAN_VALUES 1
#else
#define KAN_SPAN_VALUES 0
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

/* Constants of the vector exp (kernels.inc, NAME(vexp)) per type: range
   [LO, HI] (beyond it exp is 0 or inf), ln 2 split in a high part with
   trailing zero bits (n ln2_hi is exact) and the rest, the exponent field,
   and the Taylor series of q(r) = (exp(r) - 1 - r) / r^2. */
#define KAN_ITYPE int64_t
#define KAN_EPS DBL_EPSILON
#define KAN_EXP_LO (-745.2)
#define KAN_EXP_HI 709.8
#define KAN_EXP_MAGIC 0x1.8p52
#define KAN_LOG2E 0x1.71547652b82fep0
#define KAN_LN2_HI 6.93147180369123816490e-01
#define KAN_LN2_LO 1.90821492927058770002e-10
#define KAN_EXP_BIAS 1023
#define KAN_EXP_MANT 52
#define KAN_EXP_Q(r)                                                           \
  ((T)(1.0 / 2) +                                                             \
   (r) * ((T)(1.0 / 6) +                                                      \
   (r) * ((T)(1.0 / 24) +                                                     \
   (r) * ((T)(1.0 / 120) +                                                    \
   (r) * ((T)(1.0 / 720) +                                                    \
   (r) * ((T)(1.0 / 5040) +                                                   \
   (r) * ((T)(1.0 / 40320) +                                                  \
   (r) * ((T)(1.0 / 362880) +                                                 \
   (r) * ((T)(1.0 / 3628800) +                                                \
   (r) * ((T)(1.0 / 39916800) +                                               \
   (r) * ((T)(1.0 / 479001600) +                                              \
   (r) * (T)(1.0 / 6227020800))))))))))))
#if defined(__AVX512F__)
#define KAN_V512_MASKZ_LOADU(mk, p) _mm512_maskz_loadu_pd((__mmask8)(mk), (p))
#define KAN_V512_MASK_STOREU(p, mk, v)                                         \
  _mm512_mask_storeu_pd((p), (__mmask8)(mk), (__m512d)(v))
#endif
#define T double
#define NAME(f) KAN_ISA_NAME(f##_f64)
#define EXP exp
#define KAN_SPAN_NV KAN_SPAN_NV_F64
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP
#undef KAN_SPAN_NV
#undef KAN_V512_MASKZ_LOADU
#undef KAN_V512_MASK_STOREU
#undef KAN_ITYPE
#undef KAN_EPS
#undef KAN_EXP_LO
#undef KAN_EXP_HI
#undef KAN_EXP_MAGIC
#undef KAN_LOG2E
#undef KAN_LN2_HI
#undef KAN_LN2_LO
#undef KAN_EXP_BIAS
#undef KAN_EXP_MANT
#undef KAN_EXP_Q

#define KAN_ITYPE int32_t
#define KAN_EPS FLT_EPSILON
#define KAN_EXP_LO (-104.0f)
#define KAN_EXP_HI 88.8f
#define KAN_EXP_MAGIC 0x1.8p23f
#define KAN_LOG2E 0x1.715476p0f
#define KAN_LN2_HI 0x1.62e400p-1f
#define KAN_LN2_LO 0x1.7f7d1cp-20f
#define KAN_EXP_BIAS 127
#define KAN_EXP_MANT 23
#define KAN_EXP_Q(r)                                                           \
  ((T)(1.0 / 2) +                                                             \
   (r) * ((T)(1.0 / 6) +                                                      \
   (r) * ((T)(1.0 / 24) +                                                     \
   (r) * ((T)(1.0 / 120) +                                                    \
   (r) * ((T)(1.0 / 720) + (r) * (T)(1.0 / 5040))))))
#if defined(__AVX512F__)
#define KAN_V512_MASKZ_LOADU(mk, p) _mm512_maskz_loadu_ps((__mmask16)(mk), (p))
#define KAN_V512_MASK_STOREU(p, mk, v)                                         \
  _mm512_mask_storeu_ps((p), (__mmask16)(mk), (__m512)(v))
#endif
#define T float
#define NAME(f) KAN_ISA_NAME(f##_f32)
#define EXP expf
#define KAN_SPAN_NV KAN_SPAN_NV_F32
#include "kernels.inc"
#undef T
#undef NAME
#undef EXP
#undef KAN_SPAN_NV
