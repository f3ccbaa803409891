/*===- gemm_core.c - sample core program, in the style of the emitter ----===*
 *
 * One program for all cores.  Each of the first NCORES cores of a chip
 * computes its slice of rows of C = A * B (B given transposed) with B
 * resident in bank 1, A streamed through bank 2 and C through bank 3, both
 * double-buffered; then, after a barrier, it reads rows written by other
 * cores to form S[r] = sum_j C[(r + shift) % M][j].
 *===----------------------------------------------------------------------===*/
#include "kan_nmc.h"

#include "gemm_params.h"

#define TR GEMM_TILE_ROWS

KAN_NMC_BANK_BUFFER(0, kan_nmc_word, params, GEMM_PARAM_WORDS);
KAN_NMC_BANK_BUFFER(1, double, bt, GEMM_MAX_N *GEMM_MAX_K);
KAN_NMC_BANK_BUFFER(2, double, a_tiles, 2 * TR * GEMM_MAX_K);
KAN_NMC_BANK_BUFFER(3, double, c_tiles, 2 * TR * GEMM_MAX_N);
KAN_NMC_BANK_BUFFER(4, double, row, GEMM_MAX_N);
KAN_NMC_BANK_BUFFER(5, double, sums, 2);

/* Core-private state: one copy per core. */
KAN_NMC_CORE_LOCAL unsigned g_rows_begin;
KAN_NMC_CORE_LOCAL unsigned g_rows_end;

static void compute_tile(const double *a, double *c, unsigned rows,
                         unsigned n, unsigned k) {
  unsigned i, j, p;
  for (i = 0; i < rows; ++i)
    for (j = 0; j < n; ++j) {
      double acc = 0.0;
      for (p = 0; p < k; ++p)
        acc += a[i * k + p] * bt[j * k + p];
      c[i * n + j] = acc;
    }
}

/* Phase 1: C rows [g_rows_begin, g_rows_end). */
static void gemm_rows(unsigned n, unsigned k, unsigned addr_a,
                      unsigned addr_c) {
  kan_nmc_dma ha[2] = {KAN_NMC_DMA_INIT, KAN_NMC_DMA_INIT};
  kan_nmc_dma hc[2] = {KAN_NMC_DMA_INIT, KAN_NMC_DMA_INIT};
  unsigned r0 = g_rows_begin, r1 = g_rows_end;
  unsigned ntiles = (r1 - r0 + TR - 1) / TR, t;
  const unsigned a_row_words = KAN_NMC_WORDS_OF(double, k);
  const unsigned c_row_words = KAN_NMC_WORDS_OF(double, n);
  if (ntiles == 0)
    return;
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(a_tiles,
                    kan_nmc_ddr_range(addr_a + r0 * a_row_words,
                                      (r1 - r0 < TR ? r1 - r0 : TR) *
                                          a_row_words),
                    (r1 - r0 < TR ? r1 - r0 : TR) * a_row_words, &ha[0]);
  for (t = 0; t < ntiles; ++t) {
    unsigned cur = t & 1u, nxt = cur ^ 1u;
    unsigned rb = r0 + t * TR;
    unsigned rows = r1 - rb < TR ? r1 - rb : TR;
    if (t + 1 < ntiles) {
      unsigned nb = rb + TR;
      unsigned nrows = r1 - nb < TR ? r1 - nb : TR;
      kan_nmc_dma_start(a_tiles + nxt * TR * GEMM_MAX_K,
                        kan_nmc_ddr_range(addr_a + nb * a_row_words,
                                          nrows * a_row_words),
                        nrows * a_row_words, &ha[nxt]);
    }
    kan_nmc_dma_wait(&ha[cur]);
    if (hc[cur].pending)
      kan_nmc_dma_wait(&hc[cur]); /* C half still draining from tile t-2 */
    compute_tile(a_tiles + cur * TR * GEMM_MAX_K,
                 c_tiles + cur * TR * GEMM_MAX_N, rows, n, k);
    kan_nmc_dma_start(kan_nmc_ddr_range(addr_c + rb * c_row_words,
                                        rows * c_row_words),
                      c_tiles + cur * TR * GEMM_MAX_N, rows * c_row_words,
                      &hc[cur]);
  }
  if (hc[0].pending)
    kan_nmc_dma_wait(&hc[0]);
  if (hc[1].pending)
    kan_nmc_dma_wait(&hc[1]);
  kan_nmc_ddr_release();
}

/* Phase 2: S rows of this core from C rows of (usually) other cores. */
static void shifted_row_sums(unsigned m, unsigned n, unsigned shift,
                             unsigned addr_c, unsigned addr_s) {
  const unsigned c_row_words = KAN_NMC_WORDS_OF(double, n);
  unsigned r, j;
  for (r = g_rows_begin; r < g_rows_end; ++r) {
    kan_nmc_dma h = KAN_NMC_DMA_INIT;
    unsigned src = (r + shift) % m;
    double s = 0.0;
    kan_nmc_ddr_acquire();
    kan_nmc_dma_start(row,
                      kan_nmc_ddr_range(addr_c + src * c_row_words,
                                        c_row_words),
                      c_row_words, &h);
    kan_nmc_dma_wait(&h);
    for (j = 0; j < n; ++j)
      s += row[j];
    sums[0] = s;
    kan_nmc_dma_start(kan_nmc_ddr_range(addr_s + r * 2u, 2u), sums, 2u, &h);
    kan_nmc_dma_wait(&h);
    kan_nmc_ddr_release();
  }
}

int KAN_NMC_CORE_MAIN(void) {
  unsigned paddr = 0, plen = 0, m, n, k, ncores, me;
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  int chip;

  /* 1. The host sends the chip index and the parameter block address. */
  chip = kan_nmc_sync_array(0, 0, 0, &paddr, &plen);
  me = (unsigned)kan_nmc_core_index();
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(params, kan_nmc_ddr_range(paddr, GEMM_PARAM_WORDS),
                    GEMM_PARAM_WORDS, &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();
  m = params[GEMM_P_M];
  n = params[GEMM_P_N];
  k = params[GEMM_P_K];
  ncores = params[GEMM_P_NCORES];
  if (plen != GEMM_PARAM_WORDS || n > GEMM_MAX_N || k > GEMM_MAX_K ||
      ncores < 1 || ncores > KAN_NMC_CHIP_CORES || me >= ncores) {
    kan_nmc_sync(-1);
    return GEMM_ERR_PARAMS;
  }
  g_rows_begin = me * m / ncores;
  g_rows_end = (me + 1) * m / ncores;

  /* 2. B stays resident in bank 1 for the whole kernel. */
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(bt, kan_nmc_ddr_range(params[GEMM_P_BT], 2 * n * k),
                    KAN_NMC_WORDS_OF(double, n * k), &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();

  gemm_rows(n, k, params[GEMM_P_A], params[GEMM_P_C]);
  /* 3. Every C row is in DDR before anyone reads another core's rows. */
  kan_nmc_barrier((int)ncores);
  shifted_row_sums(m, n, params[GEMM_P_SHIFT], params[GEMM_P_C],
                   params[GEMM_P_S]);
  kan_nmc_barrier((int)ncores);

  /* 4. Report completion to the host. */
  kan_nmc_sync(GEMM_DONE_VALUE(chip, (int)me));
  return 0;
}
