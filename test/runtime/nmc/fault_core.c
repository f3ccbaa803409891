/* One rule broken per case; the host picks the case with PL_Sync's value. */
#include "kan_nmc.h"

KAN_NMC_BANK_BUFFER(2, double, buf, 8);
KAN_NMC_CORE_LOCAL double private_copy[8];

int KAN_NMC_CORE_MAIN(void) {
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  int which = ncl_hostSync(0);
  switch (which) {
  case 1: /* DDR range past the emulated end */
    return (int)*(unsigned *)kan_nmc_ddr_range(
        KAN_NMC_DDR_BASE + (unsigned)ncl_hostSync(1) - 1u, 4u);
  case 2: /* copy overruns the bank buffer (8 doubles = 16 words) */
    kan_nmc_dma_start(buf, kan_nmc_ddr_ptr(KAN_NMC_DDR_USER_BASE), 18u, &h);
    break;
  case 3: /* copy never waited */
    kan_nmc_dma_start(buf, kan_nmc_ddr_ptr(KAN_NMC_DDR_USER_BASE), 16u, &h);
    return 0;
  case 4: /* copy into a core-private C object instead of a bank buffer */
    kan_nmc_dma_start(private_copy, kan_nmc_ddr_ptr(KAN_NMC_DDR_USER_BASE),
                      16u, &h);
    break;
  case 5: /* barrier of 2 with one core only: the core-side wait times out */
    kan_nmc_barrier(2);
    break;
  case 6: /* DDR permit never released */
    kan_nmc_ddr_acquire();
    return 0;
  case 7: /* local memory seen by the host through its access */
    buf[0] = 42.0;
    ncl_hostSyncArray(1, buf, 16u, 0, 0);
    ncl_hostSync(2);
    return 0;
  }
  kan_nmc_dma_wait(&h);
  return 0;
}
