/*===- isa.c - kernel dispatch per instruction-set level --------*- C -*-===*/
/* kernels.c and gemm.c are compiled once per level with
   -DKAN_ISA_SUFFIX=_<isa> (runtime/CMakeLists.txt); this file holds one
   table of function pointers per level and the public kernels of
   kanrt/kernels.h, which forward through the table chosen on first use.
   The choice never changes during a run, so a run's arithmetic is fixed by
   (build, level): that is what makes replay bit-exact across machines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef KANRT_USE_CBLAS
#include <cblas.h>
#endif

/* The table: one pointer per kernel and type. */
typedef struct kan_kernel_table {
#define KAN_KERNEL(ret, name, params, args) ret(*NAME(name)) params;
#define KAN_KERNEL_VOID(name, params, args) KAN_KERNEL(void, name, params, args)
#include "dispatch_types.inc"
#undef KAN_KERNEL
#undef KAN_KERNEL_VOID
} kan_kernel_table;

/* Prototypes and table of each level compiled into this build. */
#define KAN_ISA_SUFFIX _baseline
#include "isa_level.inc"
#undef KAN_ISA_SUFFIX
#ifdef KANRT_ISA_AVX2
#define KAN_ISA_SUFFIX _avx2
#include "isa_level.inc"
#undef KAN_ISA_SUFFIX
#endif
#ifdef KANRT_ISA_AVX512
#define KAN_ISA_SUFFIX _avx512
#include "isa_level.inc"
#undef KAN_ISA_SUFFIX
#endif

static const char *const kan_isa_names[] = {"baseline", "avx2", "avx512",
                                            "native"};

const char *kan_isa_name(kan_isa isa) {
  return (unsigned)isa < 4 ? kan_isa_names[isa] : "unknown";
}

const char *kan_isa_cflags(kan_isa isa) {
#if defined(__x86_64__)
  switch (isa) {
  case KAN_ISA_BASELINE:
    return "-march=x86-64";
  case KAN_ISA_AVX2:
    return "-march=x86-64-v3";
  case KAN_ISA_AVX512:
    return "-march=x86-64-v4";
  case KAN_ISA_NATIVE:
    return "-march=native";
  }
#else
  (void)isa;
#endif
  return "";
}

kan_isa kan_isa_best(void) {
#if defined(KANRT_ISA_NATIVE)
  return KAN_ISA_NATIVE;
#else
  kan_isa best = KAN_ISA_BASELINE;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
#ifdef KANRT_ISA_AVX2
  if (__builtin_cpu_supports("x86-64-v3"))
    best = KAN_ISA_AVX2;
#endif
#ifdef KANRT_ISA_AVX512
  if (__builtin_cpu_supports("x86-64-v4"))
    best = KAN_ISA_AVX512;
#endif
#endif
  return best;
#endif
}

static const kan_kernel_table *kan_table_of(kan_isa isa) {
  switch (isa) {
#ifdef KANRT_ISA_AVX2
  case KAN_ISA_AVX2:
    return &kan_kernels_avx2;
#endif
#ifdef KANRT_ISA_AVX512
  case KAN_ISA_AVX512:
    return &kan_kernels_avx512;
#endif
  default:
    return &kan_kernels_baseline;
  }
}

/* KAN_ISA (unset/"auto": the best level) lowered to what the CPU has. */
static kan_isa kan_isa_choose(void) {
  const kan_isa best = kan_isa_best();
  const char *env = getenv("KAN_ISA");
  kan_isa want = best;
  int i, found = 0;
  if (!env || !*env || strcmp(env, "auto") == 0)
    return best;
  for (i = 0; i < 4; ++i)
    if (strcmp(env, kan_isa_names[i]) == 0) {
      want = (kan_isa)i;
      found = 1;
    }
  if (!found) {
    fprintf(stderr,
            "kanrt: KAN_ISA=%s is not one of auto, baseline, avx2, avx512, "
            "native; using %s\n",
            env, kan_isa_name(best));
    return best;
  }
  if (best == KAN_ISA_NATIVE || want == KAN_ISA_NATIVE) {
    if (want != best)
      fprintf(stderr, "kanrt: KAN_ISA=%s but this library has only %s "
              "kernels; using %s\n", env, kan_isa_name(best),
              kan_isa_name(best));
    return best;
  }
  if (want > best) {
    fprintf(stderr, "kanrt: KAN_ISA=%s is not supported by this CPU or "
            "build; using %s\n", env, kan_isa_name(best));
    return best;
  }
  return want;
}

static kan_isa kan_isa_current = KAN_ISA_BASELINE;
static const kan_kernel_table *kan_active_table;

/* Races on first use are benign: every thread computes the same choice. */
static const kan_kernel_table *kan_kernels(void) {
  const kan_kernel_table *t =
      __atomic_load_n(&kan_active_table, __ATOMIC_ACQUIRE);
  if (!t) {
    const kan_isa isa = kan_isa_choose();
    __atomic_store_n(&kan_isa_current, isa, __ATOMIC_RELAXED);
    t = kan_table_of(isa);
    __atomic_store_n(&kan_active_table, t, __ATOMIC_RELEASE);
  }
  return t;
}

kan_isa kan_isa_active(void) {
  (void)kan_kernels();
  return __atomic_load_n(&kan_isa_current, __ATOMIC_RELAXED);
}

/* The public kernels. */
#define KAN_KERNEL(ret, name, params, args)                                    \
  ret NAME(name) params { return kan_kernels()->NAME(name) args; }
#define KAN_KERNEL_VOID(name, params, args)                                    \
  void NAME(name) params { kan_kernels()->NAME(name) args; }
#include "dispatch_types.inc"
#undef KAN_KERNEL
#undef KAN_KERNEL_VOID

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
