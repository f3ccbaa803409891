/*===- kan_nmc_host.h - host launcher helpers for the NM Quad target -----===*
 *
 * Header-only, depends on nm_quad_load.h only, so it builds against the real
 * SDK and against the emulation alike.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_HOST_H
#define KAN_NMC_HOST_H

#include "kan_nmc_memmap.h"
#include <nm_quad_load.h> /* the SDK copy when its directory comes first */

/* Offset of the DDR-stream limit inside the control block (kan_nmc.h). */
#define KAN_NMC_HOST_CTRL_SEM_LIMIT 65u

/* Zero the runtime control block of the chip reached through `access` and
 * set its DDR-stream limit (0: KAN_NMC_DDR_STREAMS_DEFAULT).  Call once per
 * chip before any PL_LoadProgramFile on it.  Returns a PL_* code. */
static inline int kan_nmc_host_init_chip(PL_Access *access,
                                         unsigned ddr_streams) {
  PL_Word zero[64];
  unsigned i;
  int rc;
  for (i = 0; i < 64u; ++i)
    zero[i] = 0u;
  for (i = 0; i < KAN_NMC_DDR_CTRL_WORDS; i += 64u) {
    rc = PL_WriteMemBlock(access, zero, KAN_NMC_DDR_CTRL_BASE + i, 64u);
    if (rc != PL_OK)
      return rc;
  }
  zero[0] = ddr_streams;
  return PL_WriteMemBlock(access, zero,
                          KAN_NMC_DDR_CTRL_BASE + KAN_NMC_HOST_CTRL_SEM_LIMIT,
                          1u);
}

/* Linear core number 0..15 to the PL_CoreNo the host API wants. */
static inline PL_CoreNo kan_nmc_host_core_no(int core_index) {
  PL_CoreNo no;
  no.nm_id = core_index % KAN_NMC_CLUSTER_CORES;
  no.cluster_id = core_index / KAN_NMC_CLUSTER_CORES;
  return no;
}

#endif /* KAN_NMC_HOST_H */
