/* Runs the NMC implementations of barrier and DDR semaphore (the DDR
 * control-block algorithms of kan_nmc.h) on emulated cores. */
#include "kan_nmc.h"

#define ROUNDS 20
#define LOCKED_INCREMENTS 20
#define SLOTS 0x100u   /* control-block word offset of per-core round slots */
#define COUNTER 0x120u /* incremented under the bakery lock */
#define INSIDE 0x121u  /* cores currently holding a semaphore permit */
#define INSIDE_MAX 0x122u

int KAN_NMC_CORE_MAIN(void) {
  volatile kan_nmc_word *ctrl = (volatile kan_nmc_word *)kan_nmc_ddr_range(
      KAN_NMC_DDR_CTRL_BASE, KAN_NMC_DDR_CTRL_WORDS);
  int n = ncl_hostSync(0), me = kan_nmc_core_index(), r, i;
  for (r = 1; r <= ROUNDS; ++r) {
    ctrl[SLOTS + me] = (kan_nmc_word)r;
    kan_nmc_ctrl_barrier(ctrl, me, n);
    for (i = 0; i < n; ++i)
      if (ctrl[SLOTS + i] != (kan_nmc_word)r)
        return 100 + r;
    kan_nmc_ctrl_barrier(ctrl, me, n);
  }
  for (i = 0; i < LOCKED_INCREMENTS; ++i) {
    kan_nmc_ctrl_lock(ctrl, me);
    ctrl[COUNTER] = ctrl[COUNTER] + 1u;
    kan_nmc_ctrl_unlock(ctrl, me);
  }
  for (i = 0; i < LOCKED_INCREMENTS; ++i) {
    kan_nmc_ctrl_sem_acquire(ctrl, me);
    kan_nmc_ctrl_lock(ctrl, me);
    ctrl[INSIDE] = ctrl[INSIDE] + 1u;
    if (ctrl[INSIDE] > ctrl[INSIDE_MAX])
      ctrl[INSIDE_MAX] = ctrl[INSIDE];
    kan_nmc_ctrl_unlock(ctrl, me);
    { unsigned delay = 1u; KAN_NMC_SPIN_PAUSE(delay); }
    kan_nmc_ctrl_lock(ctrl, me);
    ctrl[INSIDE] = ctrl[INSIDE] - 1u;
    kan_nmc_ctrl_unlock(ctrl, me);
    kan_nmc_ctrl_sem_release(ctrl, me);
  }
  kan_nmc_ctrl_barrier(ctrl, me, n);
  return 0;
}
