/*===- kan_nmc_probe_core.c - core side of the NM Quad board probe -------===*
 *
 * One program on every core of a chip; the host (kan_nmc_probe_host.c)
 * sends commands with PL_Sync and times each round trip. Core 0 answers the
 * checks (DDR visibility, the word order of doubles, the emitted kernel
 * against the C path on exact data and on a multiply-add that shows whether
 * the FPU rounds once) and runs the timed kernel and soft-float loops; the
 * first ACTIVE cores stream DDR into a bank for the bandwidth rounds.
 *===----------------------------------------------------------------------===*/
#include "kan_nmc.h"
#include "kan_nmc_probe.h"
#include "kan_nmc_tile.h"

#define KAN_PROBE_CAT_(m) kan_nmc_gemm_tile_f64_##m##x32
#define KAN_PROBE_CAT(m) KAN_PROBE_CAT_(m)
/* The folder's assembly kernel (its .s file is linked in). */
#define KAN_PROBE_KERNEL KAN_PROBE_CAT(KAN_PROBE_M)
void KAN_PROBE_KERNEL(const double *A, const double *Bt, double *C, int m,
                      int n, int kk);

KAN_NMC_BANK_BUFFER(2, double, probe_a, KAN_PROBE_M *KAN_PROBE_KK);
KAN_NMC_BANK_BUFFER(3, double, probe_bt, KAN_PROBE_KK *KAN_PROBE_N);
KAN_NMC_BANK_BUFFER(4, double, probe_c, KAN_PROBE_M *KAN_PROBE_N);
KAN_NMC_BANK_BUFFER(4, double, probe_ref, KAN_PROBE_M *KAN_PROBE_N);
KAN_NMC_BANK_BUFFER(5, kan_nmc_word, probe_stream, KAN_PROBE_STREAM_WORDS);

typedef union probe_double {
  kan_nmc_word w[2];
  double d;
} probe_double;

static void put_double(unsigned addr, double d) {
  volatile kan_nmc_word *p =
      (volatile kan_nmc_word *)kan_nmc_ddr_range(addr, 2u);
  probe_double u;
  u.d = d;
  p[0] = u.w[0];
  p[1] = u.w[1];
}

/* Reads the host's pattern at `addr` and writes its complement after it. */
static void echo_pattern(unsigned addr) {
  volatile kan_nmc_word *p = (volatile kan_nmc_word *)kan_nmc_ddr_range(
      addr, 2u * KAN_PROBE_PATTERN_WORDS);
  unsigned i;
  for (i = 0; i < KAN_PROBE_PATTERN_WORDS; ++i)
    p[KAN_PROBE_PATTERN_WORDS + i] = ~p[i];
}

/* Small integers: every product and sum is exact, so the kernel and the C
 * path agree bit for bit whatever the rounding, unless the kernel pairs
 * the wrong elements (the .retrive walking order). */
static void fill_exact(double *c) {
  int i, j, k;
  for (i = 0; i < KAN_PROBE_M; ++i)
    for (k = 0; k < KAN_PROBE_KK; ++k)
      probe_a[i * KAN_PROBE_KK + k] = (double)((i * 7 + k * 3) % 11) - 5.0;
  for (k = 0; k < KAN_PROBE_KK; ++k)
    for (j = 0; j < KAN_PROBE_N; ++j)
      probe_bt[k * KAN_PROBE_N + j] = (double)((k * 5 + j * 3) % 13) - 6.0;
  for (i = 0; i < KAN_PROBE_M; ++i)
    for (j = 0; j < KAN_PROBE_N; ++j)
      c[i * KAN_PROBE_N + j] = (double)((i + j) % 4);
}

/* (1 + 2^-30)(1 - 2^-30) - 1 is -2^-60 rounded once and 0 rounded twice. */
static void fill_fma(double *c) {
  const double eps = 1.0 / 1073741824.0;
  int i;
  for (i = 0; i < KAN_PROBE_M * KAN_PROBE_KK; ++i)
    probe_a[i] = 0.0;
  for (i = 0; i < KAN_PROBE_KK * KAN_PROBE_N; ++i)
    probe_bt[i] = 0.0;
  for (i = 0; i < KAN_PROBE_M; ++i)
    probe_a[i * KAN_PROBE_KK] = 1.0 + eps;
  for (i = 0; i < KAN_PROBE_N; ++i)
    probe_bt[i] = 1.0 - eps;
  for (i = 0; i < KAN_PROBE_M * KAN_PROBE_N; ++i)
    c[i] = -1.0;
}

static void checks(unsigned emi_ok) {
  volatile kan_nmc_word *res = (volatile kan_nmc_word *)kan_nmc_ddr_range(
      KAN_PROBE_RES, KAN_PROBE_RES_WORDS);
  volatile kan_nmc_word *dw =
      (volatile kan_nmc_word *)kan_nmc_ddr_range(KAN_PROBE_DOUBLE, 2u);
  probe_double u;
  unsigned i, bad = 0, first = 0;
  echo_pattern(KAN_PROBE_PATTERN);
  if (emi_ok)
    echo_pattern(KAN_PROBE_EMI_PATTERN);
  /* The host's double as this core's double type lays it out. */
  u.w[0] = dw[0];
  u.w[1] = dw[1];
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_READ_DOUBLE, 2.0 * u.d);
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_CORE_DOUBLE, 0.75);

  fill_exact(probe_c);
  fill_exact(probe_ref);
  KAN_PROBE_KERNEL(probe_a, probe_bt, probe_c, KAN_PROBE_M, KAN_PROBE_N,
                   KAN_PROBE_KK);
  kan_nmc_gemm_tile_f64_c(probe_a, probe_bt, probe_ref, KAN_PROBE_M,
                          KAN_PROBE_N, KAN_PROBE_KK);
  for (i = 0; i < (unsigned)(KAN_PROBE_M * KAN_PROBE_N); ++i)
    if (probe_c[i] != probe_ref[i] && bad++ == 0)
      first = i;
  res[KAN_PROBE_RES_MISMATCHES] = bad;
  res[KAN_PROBE_RES_FIRST_BAD] = first;
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_BAD_GOT, probe_c[first]);
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_BAD_WANT, probe_ref[first]);

  fill_fma(probe_c);
  fill_fma(probe_ref);
  KAN_PROBE_KERNEL(probe_a, probe_bt, probe_c, KAN_PROBE_M, KAN_PROBE_N,
                   KAN_PROBE_KK);
  kan_nmc_gemm_tile_f64_c(probe_a, probe_bt, probe_ref, KAN_PROBE_M,
                          KAN_PROBE_N, KAN_PROBE_KK);
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_FMA_KERNEL, probe_c[0]);
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_FMA_C, probe_ref[0]);
}

static void time_kernel(unsigned reps) {
  unsigned r;
  fill_exact(probe_c);
  for (r = 0; r < reps; ++r)
    KAN_PROBE_KERNEL(probe_a, probe_bt, probe_c, KAN_PROBE_M, KAN_PROBE_N,
                     KAN_PROBE_KK);
}

/* Scalar fp64 as nmc-gcc compiles it (software DMul/DAdd calls on NMC). */
static void time_soft(unsigned iters) {
  volatile double x = 1.0, y = 1.0 - 1.0 / 1048576.0, z = 1.0 / 1024.0;
  unsigned i;
  for (i = 0; i < iters; ++i)
    x = x * y + z;
  put_double(KAN_PROBE_RES + KAN_PROBE_RES_SOFT_SINK, x);
}

/* DDR -> bank copies, each under the DDR-stream permit as the model's. */
static void stream_ddr(int me, unsigned reps) {
  const void *src = kan_nmc_ddr_range(
      KAN_PROBE_STREAM + (unsigned)me * KAN_PROBE_STREAM_WORDS,
      KAN_PROBE_STREAM_WORDS);
  unsigned r;
  for (r = 0; r < reps; ++r) {
    kan_nmc_dma h = KAN_NMC_DMA_INIT;
    kan_nmc_ddr_acquire();
    kan_nmc_dma_start(probe_stream, src, KAN_PROBE_STREAM_WORDS, &h);
    kan_nmc_dma_wait(&h);
    kan_nmc_ddr_release();
  }
}

int KAN_NMC_CORE_MAIN(void) {
  int me = kan_nmc_core_index();
  for (;;) {
    int cmd = kan_nmc_sync(KAN_PROBE_READY);
    volatile kan_nmc_word *io = (volatile kan_nmc_word *)kan_nmc_ddr_range(
        KAN_PROBE_IO, KAN_PROBE_IO_WORDS);
    if (cmd == KAN_PROBE_CMD_EXIT)
      return 0;
    if (cmd == KAN_PROBE_CMD_CHECKS && me == 0)
      checks(io[KAN_PROBE_IO_EMI_OK]);
    else if (cmd == KAN_PROBE_CMD_KERNEL && me == 0)
      time_kernel(io[KAN_PROBE_IO_REPS]);
    else if (cmd == KAN_PROBE_CMD_SOFT && me == 0)
      time_soft(io[KAN_PROBE_IO_SOFT_ITERS]);
    else if (cmd == KAN_PROBE_CMD_DDR && (unsigned)me < io[KAN_PROBE_IO_ACTIVE])
      stream_ddr(me, io[KAN_PROBE_IO_REPS]);
  }
}
