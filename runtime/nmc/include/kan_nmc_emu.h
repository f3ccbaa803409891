/*===- kan_nmc_emu.h - controls of the NM Quad host emulation ------------===*
 *
 * Only for code built with KAN_NMC_HOST_EMU (tests, kan-run's emulated path).
 * Emitted host launchers do not need it: they use nm_quad_load.h only.
 *
 * Environment read on first use:
 *   KAN_NMC_CHIPS        emulated chips (boards), 1..4, default 4
 *   KAN_NMC_DDR_WORDS    emulated DDR words per chip from KAN_NMC_DDR_BASE,
 *                        default the whole window to KAN_NMC_DDR_END
 *                        (about 500 MB, mapped lazily: only touched pages
 *                        take host memory)
 *   KAN_NMC_TIMEOUT_MS   initial PL_SetTimeout and core-side wait limit,
 *                        default 60000
 *   KAN_NMC_DDR_STREAMS  per-chip limit of kan_nmc_ddr_acquire, default 8
 *   KAN_NMC_DDR_CAP      cores of a chip that may stream DDR at once (permits
 *                        held plus copies touching DDR without one), 1..16,
 *                        default 8; the core that goes beyond it stops with
 *                        KAN_NMC_EXIT_DDR_CAP and the run fails
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_EMU_H
#define KAN_NMC_EMU_H

#ifdef __cplusplus
extern "C" {
#endif

/* Per-chip counters since the last kan_nmc_emu_reset_stats. */
typedef struct kan_nmc_emu_stats {
  unsigned ddr_streams_max;        /* peak cores streaming DDR at once */
  unsigned ddr_cap_exceeded;       /* streams refused above the cap */
  unsigned long long dma_copies;   /* completed kan_nmc_dma_wait */
  unsigned long long dma_words;    /* words copied by them */
  unsigned long long dma_unguarded; /* copies touching DDR without a permit */
  unsigned long long barriers;     /* completed multi-core barriers */
} kan_nmc_emu_stats;

int kan_nmc_emu_get_stats(unsigned chip, kan_nmc_emu_stats *out);
void kan_nmc_emu_reset_stats(void);

/* Limit in ms for waits made by cores (host sync, barrier, DDR permit);
 * 0 restores the default.  Host-side waits use PL_SetTimeout. */
void kan_nmc_emu_set_core_timeout(unsigned ms);

/* The cap on cores of a chip streaming DDR at once (0 restores the
 * environment's or default value), and the cap in force. */
void kan_nmc_emu_set_ddr_cap(unsigned cap);
unsigned kan_nmc_emu_ddr_cap(void);

/* Emulated DDR words per chip (addresses KAN_NMC_DDR_BASE onwards). */
unsigned kan_nmc_emu_ddr_words(void);

/* Register a core program under `abs_name` ("x" or "x.abs"); KAN_NMC_CORE_MAIN
 * does this itself when KAN_NMC_PROGRAM_ID is defined.  Returns 0 on success. */
int kan_nmc_emu_register_program(const char *abs_name, int (*entry)(void));

/* Number of core threads still running on all chips. */
unsigned kan_nmc_emu_running_cores(void);

#ifdef __cplusplus
}
#endif

#endif /* KAN_NMC_EMU_H */
