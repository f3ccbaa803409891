/*===- kan_nmc_tile.h - FP64/FP32 GEMM tile kernels for one NMC4 core -----===*
 *
 * The NM Quad code generator emits calls to these two functions for every
 * GEMM tile it places in the local banks of a core:
 *
 *   C (m x n, row-major, contiguous) += A (m x kk, row-major) * Bt (kk x n,
 *   row-major)
 *
 * The caller places A, Bt and C in three different 64 KB banks (NMMB0-7):
 * two vector streams in one bank serialise. Sizes are element counts.
 *
 * The C entry points below are plain C loops (any m, n, kk >= 0). The FPU
 * micro-kernels are assembly that kan-translate --target=nmquad emits into
 * the folder, one file per shape the program calls (lib/Target/NMQuad/
 * Kernels):
 *
 *   f64: n == 32 (one 32-lane vreg per C row), m in {1,2,3,4,8,12,16,20,24},
 *        kk >= 1.                Symbol: _kan_nmc_gemm_tile_f64_<m>x32
 *   f32: n == 64 (two floats per 64-bit lane), m in {1,2,3,4,8,12},
 *        kk a positive multiple of 64.    Symbol: _kan_nmc_gemm_tile_f32_<m>x64
 *
 * The emitted core program calls the kernels through a table of the ones
 * it carries (kan_nmc_gemm_rows_f64 / _f32), so it links exactly those
 * symbols.
 * Macro contract: when __NM__ is defined (the macro NMC builds test, as in
 * nmpp's nmdef.h) and KAN_NMC_HOST_EMULATION is not, KAN_NMC_HAVE_ASM_TILES
 * is 1 and the kernel symbols come from the folder's assembly; otherwise
 * (host emulation) kan_nmc_emu_tiles.c defines every one as the C loop, or
 * libkanrt_nmc_sim runs the folder's assembly in the simulator.
 *
 * Assembly calling convention (CONVENTN.pdf via NEUROMATRIX.md): arguments on
 * the stack, first argument at the highest address, stack (ar7) grows upward;
 * 32-bit int and pointers take one word, 64-bit values two words,
 * even-aligned; callee-saved ar0-ar4, ar6, gr0-gr5; addresses and sizes are
 * in 32-bit words. The kernels take the same six arguments as the C entry
 * points (m and n are ignored: they are implied by the symbol).
 *
 * C99 (gnu99), accepted by nmc-gcc 4.8: no C11, no VLAs, no byte-sized types.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_TILE_H
#define KAN_NMC_TILE_H

#ifdef __cplusplus
extern "C" {
#endif

#define KAN_NMC_TILE_F64_N 32
#define KAN_NMC_TILE_F32_N 64
#define KAN_NMC_TILE_F32_KK_MULTIPLE 64
#define KAN_NMC_TILE_F64_MAX_M 24
#define KAN_NMC_TILE_F32_MAX_M 12

#if defined(__NM__) && !defined(KAN_NMC_HOST_EMULATION)
#define KAN_NMC_HAVE_ASM_TILES 1
#else
#define KAN_NMC_HAVE_ASM_TILES 0
#endif

/* C += A * Bt in FP64. */
void kan_nmc_gemm_tile_f64(const double *A, const double *Bt, double *C, int m,
                           int n, int kk);
/* C += A * Bt in FP32. */
void kan_nmc_gemm_tile_f32(const float *A, const float *Bt, float *C, int m,
                           int n, int kk);

/* One FPU tile kernel of m rows (n and kk as for the C entry points). */
typedef void (*kan_nmc_tile_f64_fn)(const double *A, const double *Bt,
                                    double *C, int m, int n, int kk);
typedef struct kan_nmc_tile_f64 {
  int m;
  kan_nmc_tile_f64_fn fn;
} kan_nmc_tile_f64;

/* C (rows x 32) += A (rows x kk) * Bt (kk x 32) with the `count` kernels of
 * `kernels` (largest m first, the last of m == 1): each call takes the
 * largest kernel that fits the rows left. rows <= 0 does nothing. */
void kan_nmc_gemm_rows_f64(const kan_nmc_tile_f64 *kernels, int count,
                           const double *A, const double *Bt, double *C,
                           int rows, int kk);

/* The same in FP32: C (rows x 64) += A (rows x kk) * Bt (kk x 64), kk a
 * multiple of 64 (the caller pads K with zero columns). */
typedef void (*kan_nmc_tile_f32_fn)(const float *A, const float *Bt, float *C,
                                    int m, int n, int kk);
typedef struct kan_nmc_tile_f32 {
  int m;
  kan_nmc_tile_f32_fn fn;
} kan_nmc_tile_f32;
void kan_nmc_gemm_rows_f32(const kan_nmc_tile_f32 *kernels, int count,
                           const float *A, const float *Bt, float *C, int rows,
                           int kk);

/* 1 if an assembly kernel exists for (m, n, kk), else 0. Independent of the
 * build: the host tests use it to enumerate the shapes to simulate. */
int kan_nmc_gemm_tile_f64_has_asm(int m, int n, int kk);
int kan_nmc_gemm_tile_f32_has_asm(int m, int n, int kk);

/* The C loops, always available (reference for the simulator tests). */
void kan_nmc_gemm_tile_f64_c(const double *A, const double *Bt, double *C,
                             int m, int n, int kk);
void kan_nmc_gemm_tile_f32_c(const float *A, const float *Bt, float *C, int m,
                             int n, int kk);

#ifdef __cplusplus
}
#endif

#endif /* KAN_NMC_TILE_H */
