/* Core 0 talks to the host before the barrier, core 1 after it: a host that
 * syncs core 1 first deadlocks until its PL_Sync times out. */
#include "kan_nmc.h"

int KAN_NMC_CORE_MAIN(void) {
  if (kan_nmc_core_index() == 0) {
    ncl_hostSync(100);
    kan_nmc_barrier(2);
  } else {
    kan_nmc_barrier(2);
    ncl_hostSync(101);
  }
  return 7;
}
