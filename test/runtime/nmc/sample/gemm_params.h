/*===- gemm_params.h - parameter block shared by the sample host/core ----===*
 * Emitted folders carry one such header: the layout of the parameter block
 * the host writes to DDR and passes to every core with PL_SyncArray.
 *===----------------------------------------------------------------------===*/
#ifndef GEMM_PARAMS_H
#define GEMM_PARAMS_H

/* Word offsets inside the parameter block. */
#define GEMM_P_M 0      /* rows of A and C */
#define GEMM_P_N 1      /* columns of C (rows of Bt) */
#define GEMM_P_K 2      /* inner dimension */
#define GEMM_P_NCORES 3 /* cores taking part, 1..16 */
#define GEMM_P_A 4      /* DDR word address of A (M x K fp64, row-major) */
#define GEMM_P_BT 5     /* DDR word address of Bt (N x K fp64, row-major) */
#define GEMM_P_C 6      /* DDR word address of C (M x N fp64) */
#define GEMM_P_S 7      /* DDR word address of S (M fp64) */
#define GEMM_P_SHIFT 8  /* S[r] = sum_j C[(r + SHIFT) % M][j] */
#define GEMM_PARAM_WORDS 16

#define GEMM_MAX_N 64
#define GEMM_MAX_K 64
#define GEMM_TILE_ROWS 4

/* Core results (PL_GetResult); 0 is success. */
#define GEMM_ERR_PARAMS 2
/* Value each core returns in the final sync: chip * 1000 + core index. */
#define GEMM_DONE_VALUE(chip, core) ((chip) * 1000 + (core))

#endif
