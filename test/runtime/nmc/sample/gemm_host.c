/*===- gemm_host.c - sample host launcher, in the style of the emitter ---===*
 *
 * Uses only nm_quad_load.h (plus the header-only kan_nmc_host.h), so the
 * same file builds against the vendor SDK and against the emulation.
 * Usage: gemm_host [chips] [cores-per-chip] [core-program.abs]
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gemm_params.h"
#include "kan_nmc_host.h"
#include "nm_quad_load.h"

#define M_ROWS 37
#define N_COLS 40
#define K_INNER 48
#define SHIFT 5

#define ADDR_PARAMS KAN_NMC_DDR_USER_BASE
#define ADDR_A (ADDR_PARAMS + 0x100u)
#define ADDR_BT (ADDR_A + 2u * M_ROWS * K_INNER)
#define ADDR_C (ADDR_BT + 2u * N_COLS * K_INNER)
#define ADDR_S (ADDR_C + 2u * M_ROWS * N_COLS)

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != PL_OK) {                                                        \
      fprintf(stderr, "gemm_host: %s failed with %d (line %d)\n", #call, rc_, \
              __LINE__);                                                       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static double a[M_ROWS * K_INNER], bt[N_COLS * K_INNER];
static double c[M_ROWS * N_COLS], s[M_ROWS];

static void fill(unsigned chip) {
  unsigned i;
  for (i = 0; i < M_ROWS * K_INNER; ++i)
    a[i] = (double)((i * 7u + chip * 13u) % 17u) / 8.0 - 1.0;
  for (i = 0; i < N_COLS * K_INNER; ++i)
    bt[i] = (double)((i * 5u + chip * 3u) % 11u) / 4.0 - 1.25;
}

static int check(unsigned chip) {
  unsigned i, j, p;
  double ref[M_ROWS * N_COLS];
  for (i = 0; i < M_ROWS; ++i)
    for (j = 0; j < N_COLS; ++j) {
      double acc = 0.0;
      for (p = 0; p < K_INNER; ++p)
        acc += a[i * K_INNER + p] * bt[j * K_INNER + p];
      ref[i * N_COLS + j] = acc;
      if (fabs(acc - c[i * N_COLS + j]) > 1e-12 * (1.0 + fabs(acc))) {
        fprintf(stderr, "gemm_host: chip %u C[%u][%u] = %.17g, expected %.17g\n",
                chip, i, j, c[i * N_COLS + j], acc);
        return 1;
      }
    }
  for (i = 0; i < M_ROWS; ++i) {
    double acc = 0.0;
    for (j = 0; j < N_COLS; ++j)
      acc += ref[((i + SHIFT) % M_ROWS) * N_COLS + j];
    if (fabs(acc - s[i]) > 1e-9 * (1.0 + fabs(acc))) {
      fprintf(stderr, "gemm_host: chip %u S[%u] = %.17g, expected %.17g\n",
              chip, i, s[i], acc);
      return 1;
    }
  }
  return 0;
}

int kan_sample_gemm_host(unsigned nchips, unsigned ncores, const char *abs) {
  PL_Board *board[KAN_NMC_MAX_CHIPS];
  PL_Access *acc[KAN_NMC_MAX_CHIPS][KAN_NMC_CHIP_CORES];
  unsigned count = 0, chip, core;
  PL_Word param[GEMM_PARAM_WORDS] = {0};

  CHECK(PL_GetBoardCount(&count));
  if (nchips < 1 || nchips > count || nchips > KAN_NMC_MAX_CHIPS ||
      ncores < 1 || ncores > KAN_NMC_CHIP_CORES) {
    fprintf(stderr, "gemm_host: want %u chips x %u cores, have %u chips\n",
            nchips, ncores, count);
    return 1;
  }
  CHECK(PL_SetTimeout(20000));
  param[GEMM_P_M] = M_ROWS;
  param[GEMM_P_N] = N_COLS;
  param[GEMM_P_K] = K_INNER;
  param[GEMM_P_NCORES] = ncores;
  param[GEMM_P_A] = ADDR_A;
  param[GEMM_P_BT] = ADDR_BT;
  param[GEMM_P_C] = ADDR_C;
  param[GEMM_P_S] = ADDR_S;
  param[GEMM_P_SHIFT] = SHIFT;

  /* Load: data and parameters into each chip's DDR, then the cores. */
  for (chip = 0; chip < nchips; ++chip) {
    CHECK(PL_GetBoardDesc(chip, &board[chip]));
    CHECK(PL_ResetBoard(board[chip]));
    CHECK(PL_LoadInitCode(board[chip]));
    for (core = 0; core < ncores; ++core) {
      PL_CoreNo no = kan_nmc_host_core_no((int)core);
      CHECK(PL_GetAccess(board[chip], &no, &acc[chip][core]));
    }
    CHECK(kan_nmc_host_init_chip(acc[chip][0], 0));
    fill(chip);
    CHECK(PL_WriteMemBlock(acc[chip][0], (const PL_Word *)a, ADDR_A,
                           2u * M_ROWS * K_INNER));
    CHECK(PL_WriteMemBlock(acc[chip][0], (const PL_Word *)bt, ADDR_BT,
                           2u * N_COLS * K_INNER));
    CHECK(PL_WriteMemBlock(acc[chip][0], param, ADDR_PARAMS,
                           GEMM_PARAM_WORDS));
    for (core = 0; core < ncores; ++core)
      CHECK(PL_LoadProgramFile(acc[chip][core], abs));
  }
  /* Start: chip index and parameter block to every core. */
  for (chip = 0; chip < nchips; ++chip)
    for (core = 0; core < ncores; ++core)
      CHECK(PL_SyncArray(acc[chip][core], (int)chip, ADDR_PARAMS,
                         GEMM_PARAM_WORDS, NULL, NULL, NULL));
  /* Finish: every core reports, then exits with 0. */
  for (chip = 0; chip < nchips; ++chip)
    for (core = 0; core < ncores; ++core) {
      int rv = -1;
      PL_Word status = 0, result = 1;
      int spins = 0;
      CHECK(PL_Sync(acc[chip][core], 0, &rv));
      if (rv != GEMM_DONE_VALUE((int)chip, (int)core)) {
        fprintf(stderr, "gemm_host: chip %u core %u reported %d\n", chip,
                core, rv);
        return 1;
      }
      for (;;) {
        struct timespec ms = {0, 1000000L};
        CHECK(PL_GetStatus(acc[chip][core], &status));
        if (status != PROGRAM_PROGRESS || ++spins > 20000)
          break;
        nanosleep(&ms, NULL);
      }
      CHECK(PL_GetResult(acc[chip][core], &result));
      if (status != PROGRAM_FINISHED || result != 0) {
        fprintf(stderr, "gemm_host: chip %u core %u status %u result 0x%x\n",
                chip, core, status, result);
        return 1;
      }
    }
  /* Results back and compared with a naive product. */
  for (chip = 0; chip < nchips; ++chip) {
    fill(chip);
    CHECK(PL_ReadMemBlock(acc[chip][0], (PL_Word *)c, ADDR_C,
                          2u * M_ROWS * N_COLS));
    CHECK(PL_ReadMemBlock(acc[chip][0], (PL_Word *)s, ADDR_S, 2u * M_ROWS));
    if (check(chip))
      return 1;
    for (core = 0; core < ncores; ++core)
      CHECK(PL_CloseAccess(acc[chip][core]));
    CHECK(PL_CloseBoardDesc(board[chip]));
  }
  return 0;
}

#ifndef GEMM_HOST_NO_MAIN
int main(int argc, char **argv) {
  unsigned chips = argc > 1 ? (unsigned)atoi(argv[1]) : 4u;
  unsigned cores = argc > 2 ? (unsigned)atoi(argv[2]) : 16u;
  const char *abs = argc > 3 ? argv[3] : "gemm_core.abs";
  int rc = kan_sample_gemm_host(chips, cores, abs);
  printf("gemm_host: %u chips x %u cores: %s\n", chips, cores,
         rc ? "FAILED" : "ok");
  return rc;
}
#endif
