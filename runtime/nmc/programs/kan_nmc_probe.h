/*===- kan_nmc_probe.h - protocol of the NM Quad board probe -------------===*
 *
 * Shared by kan_nmc_probe_host.c (PL_* launcher) and kan_nmc_probe_core.c
 * (one program on every core), built by an emitted folder's `make probe`
 * (vendor SDK) and `make probe-emu` (host emulation). Addresses are 32-bit
 * words from KAN_NMC_DDR_USER_BASE; the host zeroes the runtime control
 * block first (kan_nmc_host_init_chip), as the model's launcher does.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_PROBE_H
#define KAN_NMC_PROBE_H

#include "kan_nmc_memmap.h"

/* The emitted kernel the probe times and checks: kan_nmc_gemm_tile_f64_<M>x32
 * with K = KAN_PROBE_KK (the folder's Makefile passes both). */
#ifndef KAN_PROBE_M
#error "KAN_PROBE_M (rows of the emitted kernel to probe) is not defined"
#endif
#ifndef KAN_PROBE_KK
#error "KAN_PROBE_KK (K of the probed kernel calls) is not defined"
#endif
#define KAN_PROBE_N 32
/* Bt (KK x 32 doubles) must fit one 0x4000-word bank. */
#if KAN_PROBE_KK < 1 || KAN_PROBE_KK > 256 || KAN_PROBE_M < 1 || KAN_PROBE_M > 24
#error "KAN_PROBE_KK must be 1..256 and KAN_PROBE_M 1..24"
#endif

/* Host commands (PL_Sync values) and the cores' answer. */
#define KAN_PROBE_CMD_EXIT 0
#define KAN_PROBE_CMD_NOP 1    /* round trip only: the sync overhead */
#define KAN_PROBE_CMD_CHECKS 2 /* core 0: DDR, word order, kernel, FMA */
#define KAN_PROBE_CMD_KERNEL 3 /* core 0: REPS calls of the kernel */
#define KAN_PROBE_CMD_SOFT 4   /* core 0: SOFT_ITERS scalar multiply-adds */
#define KAN_PROBE_CMD_DDR 5    /* cores < ACTIVE: REPS DDR-to-bank copies */
#define KAN_PROBE_READY 0x5052

/* The io block (host -> cores). */
#define KAN_PROBE_IO (KAN_NMC_DDR_USER_BASE + 0u)
#define KAN_PROBE_IO_REPS 0
#define KAN_PROBE_IO_ACTIVE 1
#define KAN_PROBE_IO_EMI_OK 2 /* the host could write the EMI candidate */
#define KAN_PROBE_IO_SOFT_ITERS 3
#define KAN_PROBE_IO_WORDS 16

/* Results (cores -> host), doubles at even offsets. */
#define KAN_PROBE_RES (KAN_NMC_DDR_USER_BASE + 64u)
#define KAN_PROBE_RES_READ_DOUBLE 0   /* 2x the double the host wrote */
#define KAN_PROBE_RES_CORE_DOUBLE 2   /* 0.75 stored by the core */
#define KAN_PROBE_RES_MISMATCHES 4    /* word: kernel != C path, exact data */
#define KAN_PROBE_RES_FIRST_BAD 5     /* word: index of the first one */
#define KAN_PROBE_RES_BAD_GOT 6       /* double */
#define KAN_PROBE_RES_BAD_WANT 8      /* double */
#define KAN_PROBE_RES_FMA_KERNEL 10   /* double: a*b + c on the kernel */
#define KAN_PROBE_RES_FMA_C 12        /* double: the same on the C path */
#define KAN_PROBE_RES_SOFT_SINK 14    /* double: keeps the soft loop alive */
#define KAN_PROBE_RES_WORDS 64

/* DDR visibility patterns: the host writes PATTERN_WORDS words at
 * base + PATTERN_OFFSET, the core writes their complement right after. */
#define KAN_PROBE_PATTERN (KAN_NMC_DDR_USER_BASE + 128u)
#define KAN_PROBE_PATTERN_WORDS 16u
#define KAN_PROBE_EMI_PATTERN (KAN_NMC_EMI_BASE + 0x1000u)
/* The double the host writes (1.5, low word first as on x86). */
#define KAN_PROBE_DOUBLE (KAN_NMC_DDR_USER_BASE + 192u)

/* Per-core DDR areas the bandwidth test reads. */
#define KAN_PROBE_STREAM (KAN_NMC_DDR_USER_BASE + 0x1000u)
#define KAN_PROBE_STREAM_WORDS 0x1000u

#endif /* KAN_NMC_PROBE_H */
