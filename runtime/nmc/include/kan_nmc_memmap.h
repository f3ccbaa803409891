/*===- kan_nmc_memmap.h - NM6408 memory map shared by host and cores -----===*
 *
 * Plain macros usable from the host launcher and from core code.  Every
 * address and size is in 32-bit words.  Sources and assumptions are listed
 * in docs/NMQUAD-RUNTIME.md (section "Memory map").
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_MEMMAP_H
#define KAN_NMC_MEMMAP_H

/* Topology of one NM6408 (one PL_Board of the NM Quad). */
#define KAN_NMC_CLUSTERS 4
#define KAN_NMC_CLUSTER_CORES 4
#define KAN_NMC_CHIP_CORES 16
#define KAN_NMC_MAX_CHIPS 4

/* Core-local memory: 512 KB = 0x20000 words in 8 banks NMMB0-7 of 64 KB. */
#define KAN_NMC_BANKS 8
#define KAN_NMC_BANK_WORDS 0x4000u
#define KAN_NMC_LOCAL_WORDS 0x20000u
/* Local word address of the first word of bank b. */
#define KAN_NMC_BANK_ADDR(b) ((unsigned)(b) * KAN_NMC_BANK_WORDS)
/* 0x000-0x1FF: loader/reset area (IMB ORIGIN 0x200 in nmc_template.x). */
#define KAN_NMC_LOCAL_RESERVED_WORDS 0x200u
/* Banks 0 and 1 hold the code, default .data/.bss and the 0x2000-word
 * stack (nmc-kan.lds: one region, words 0x200-0x7FFF); bank buffers go to
 * banks 2-7. An emitted core program is estimated at 10-16 K words of
 * code (make nmc-check), more than bank 0 alone leaves after the stack. */
#define KAN_NMC_CODE_BANKS 2
#define KAN_NMC_STACK_WORDS 0x2000u
#define KAN_NMC_BANK0_BUFFER_WORDS 0x2000u

/* DDR (EMI) of a chip as seen by its NMC cores and by PL_*MemBlock, in
 * words. The vendor's nm6408brd.lds puts EMI_CPU at 0x340000 for
 * 0x1FCC0000 in GNU ld units, which are bytes: in PromeTorch's linked
 * dispatcher_nmquad.abs, ORIGIN 0x800 of NMMB puts .text at word 0x200.
 * So the window is words [0xD0000, 0x8000000). Public working code
 * (PromeTorch's host PL_WriteMemBlock and core pointers) only uses words
 * from 0x340000 on; the runtime starts there too (KAN_NMC_DDR_BASE), and
 * `make probe` checks both addresses on a board. */
#define KAN_NMC_EMI_BASE 0x000D0000u
#define KAN_NMC_DDR_BASE 0x00340000u
#define KAN_NMC_DDR_END 0x08000000u
/* Runtime control block (barrier and DDR-stream semaphore state on NMC).
 * The host zeroes it before loading programs (kan_nmc_host_init_chip). */
#define KAN_NMC_DDR_CTRL_BASE KAN_NMC_DDR_BASE
#define KAN_NMC_DDR_CTRL_WORDS 0x400u
/* First word the host may use for weights, batches and results. */
#define KAN_NMC_DDR_USER_BASE (KAN_NMC_DDR_BASE + KAN_NMC_DDR_CTRL_WORDS)

/* Cores of one chip allowed to stream DDR at once (hangs reported above 8). */
#define KAN_NMC_DDR_STREAMS_DEFAULT 8

/* Core results (PL_GetResult) set when the runtime stops a core on an error.
 * A core program's own result codes must stay below 0xE0000000. */
#define KAN_NMC_EXIT_BANK_OVERFLOW 0xE0000001u
#define KAN_NMC_EXIT_BAD_ADDRESS 0xE0000002u
#define KAN_NMC_EXIT_TIMEOUT 0xE0000003u
#define KAN_NMC_EXIT_USAGE 0xE0000004u
#define KAN_NMC_EXIT_PEER_FAILED 0xE0000005u
#define KAN_NMC_EXIT_DDR_CAP 0xE0000006u

#endif /* KAN_NMC_MEMMAP_H */
