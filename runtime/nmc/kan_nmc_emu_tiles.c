/*===- kan_nmc_emu_tiles.c - the FPU tile kernel symbols under emulation --===*
 *
 * An emitted core program calls kan_nmc_gemm_tile_f64_<m>x32 or
 * kan_nmc_gemm_tile_f32_<m>x64 (assembly on NMC). Under host emulation
 * these definitions run the C loop instead, so the same core C links;
 * `make host-emu-sim` links libkanrt_nmc_sim first, whose definitions run
 * the folder's assembly in the simulator, and this file is then not pulled
 * from the archive.
 *===----------------------------------------------------------------------===*/
#include "kan_nmc_tile.h"

#if !KAN_NMC_HAVE_ASM_TILES
#define KAN_EMU_F64(M)                                                         \
  void kan_nmc_gemm_tile_f64_##M##x32(const double *A, const double *Bt,      \
                                       double *C, int m, int n, int kk);       \
  void kan_nmc_gemm_tile_f64_##M##x32(const double *A, const double *Bt,      \
                                       double *C, int m, int n, int kk) {      \
    (void)m;                                                                   \
    (void)n;                                                                   \
    kan_nmc_gemm_tile_f64_c(A, Bt, C, M, KAN_NMC_TILE_F64_N, kk);              \
  }
KAN_EMU_F64(1)
KAN_EMU_F64(2)
KAN_EMU_F64(3)
KAN_EMU_F64(4)
KAN_EMU_F64(8)
KAN_EMU_F64(12)
KAN_EMU_F64(16)
KAN_EMU_F64(20)
KAN_EMU_F64(24)
#undef KAN_EMU_F64
#define KAN_EMU_F32(M)                                                         \
  void kan_nmc_gemm_tile_f32_##M##x64(const float *A, const float *Bt,         \
                                      float *C, int m, int n, int kk);         \
  void kan_nmc_gemm_tile_f32_##M##x64(const float *A, const float *Bt,         \
                                      float *C, int m, int n, int kk) {        \
    (void)m;                                                                   \
    (void)n;                                                                   \
    kan_nmc_gemm_tile_f32_c(A, Bt, C, M, KAN_NMC_TILE_F32_N, kk);              \
  }
KAN_EMU_F32(1)
KAN_EMU_F32(2)
KAN_EMU_F32(3)
KAN_EMU_F32(4)
KAN_EMU_F32(8)
KAN_EMU_F32(12)
#undef KAN_EMU_F32
#endif
