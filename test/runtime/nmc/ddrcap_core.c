/* Every core takes a DDR permit and holds it across a barrier of all n
 * cores, so exactly n cores stream DDR at once: with permits for all of
 * them, the emulator's cap on concurrent DDR streams decides the run. */
#include "kan_nmc.h"

int KAN_NMC_CORE_MAIN(void) {
  int n = ncl_hostSync(0);
  kan_nmc_ddr_acquire();
  kan_nmc_barrier(n);
  kan_nmc_ddr_release();
  return 0;
}
