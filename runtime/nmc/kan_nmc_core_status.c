/*===- kan_nmc_core_status.c - kan_set_error for the NMC core program -----===*
 *
 * The kanrt kernels compiled into an NM Quad core program (kernels.c,
 * rng.c, optim.c) report bad arguments through kan_set_error. The host
 * library's version formats the message with vsnprintf, which a core
 * program has no use for; this one keeps only the status, core-local.
 * Compiled into the core program only (`make nmc`, `make nmc-check`): host
 * builds use runtime/src/status.c.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include "kan_nmc.h"

KAN_NMC_CORE_LOCAL kan_status kan_nmc_core_last_status;

kan_status kan_set_error(kan_status st, const char *fmt, ...) {
  (void)fmt;
  kan_nmc_core_last_status = st;
  return st;
}
