/*===- kan_nmc.h - core-side support for emitted NMC4 code ---------------===*
 *
 * The contract between the NM Quad code generator and the runtime (full text
 * in docs/NMQUAD-RUNTIME.md).  One source serves two builds:
 *   - NMC (nmc-gcc 4.8, -mnmc4 -mnmc4-float): thin inline code, buffers in
 *     named sections placed by nmc-kan.lds;
 *   - KAN_NMC_HOST_EMU (x86 gcc): every core is a thread of one process and
 *     the functions below check what the hardware would silently get wrong
 *     (bank overflow, out-of-range addresses, missing waits, deadlocks).
 *
 * gnu99 only: no C11, no VLAs, no byte-sized types.  Sizes and addresses are
 * 32-bit words (on NMC CHAR_BIT is 32 and sizeof(double) is 2).
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_H
#define KAN_NMC_H

#include <stdint.h>

#include "kan_nmc_memmap.h"
#include <nm6408load_nmc.h> /* the SDK copy when its directory comes first */

#ifdef __cplusplus
extern "C" {
#endif

/* One 32-bit memory word; the unit of every size and address below. */
typedef unsigned int kan_nmc_word;

/* Words occupied by `count` objects of `type` (type a multiple of a word). */
#define KAN_NMC_WORDS_OF(type, count)                                          \
  ((unsigned)(count) * (unsigned)(sizeof(type) / sizeof(kan_nmc_word)))

/* Linear core number inside the chip: cluster * 4 + core, 0..15. */
static inline int kan_nmc_core_index(void) {
  return ncl_getClusterID() * KAN_NMC_CLUSTER_CORES + ncl_getCoreID();
}

/*===--- Program entry and core-private state -----------------------------===*
 * Write the core program's entry as
 *     int KAN_NMC_CORE_MAIN(void) { ...; return 0; }
 * On NMC this is `main`.  Under emulation it is `kan_nmc_core_main`, which
 * the emulated PL_LoadProgramFile starts on a thread per core; when the build
 * defines KAN_NMC_PROGRAM_ID=<id>, it is `kan_nmc_main_<id>` registered as
 * program "<id>.abs", so several core programs can live in one process.
 *
 * Mutable file-scope or static objects of core code must be declared
 * KAN_NMC_CORE_LOCAL (thread-local under emulation: each core owns a copy,
 * as each core owns its local memory on the chip).  `static const` tables
 * need nothing.
 *===----------------------------------------------------------------------===*/
#ifdef KAN_NMC_HOST_EMU
#define KAN_NMC_CORE_LOCAL static __thread
#ifdef KAN_NMC_PROGRAM_ID
#define KAN_NMC_CAT_(a, b) a##b
#define KAN_NMC_CAT(a, b) KAN_NMC_CAT_(a, b)
#define KAN_NMC_STR_(a) #a
#define KAN_NMC_STR(a) KAN_NMC_STR_(a)
#define KAN_NMC_PROGRAM_NAME KAN_NMC_STR(KAN_NMC_PROGRAM_ID)
#define KAN_NMC_ENTRY_ KAN_NMC_CAT(kan_nmc_main_, KAN_NMC_PROGRAM_ID)
#define KAN_NMC_CORE_MAIN                                                      \
  KAN_NMC_ENTRY_(void);                                                        \
  static void __attribute__((constructor))                                     \
  KAN_NMC_CAT(kan_nmc_register_, KAN_NMC_PROGRAM_ID)(void) {                  \
    kan_nmc_emu_register_program(KAN_NMC_PROGRAM_NAME, KAN_NMC_ENTRY_);        \
  }                                                                            \
  int KAN_NMC_ENTRY_
#else
#define KAN_NMC_PROGRAM_NAME ""
#define KAN_NMC_CORE_MAIN kan_nmc_core_main
#endif
#else
#define KAN_NMC_CORE_LOCAL static
#define KAN_NMC_CORE_MAIN main
#endif

/*===--- Bank placement ---------------------------------------------------===*
 * KAN_NMC_BANK_BUFFER(bank, type, name, count);
 *   File-scope array `name` of `count` `type` in local bank NMMB<bank>
 *   (bank: integer literal 0..7; bank 0 is shared with code and stack and
 *   only its upper KAN_NMC_BANK0_BUFFER_WORDS are for buffers).
 *   NMC: section .bss.bank<bank>.  Emulation: `name` is a core-local
 *   `type *` bound before the program starts to this core's emulated bank;
 *   a bank whose buffers do not fit stops the load with a message naming
 *   bank and buffer (PL_LoadProgramFile fails, status PROGRAM_EXCEPTION,
 *   result KAN_NMC_EXIT_BANK_OVERFLOW).  Use `name[i]` and `name` as a
 *   pointer; do not take sizeof(name), use KAN_NMC_WORDS_OF.
 * KAN_NMC_BANK_DATA(bank, type, name, count, {initialiser});
 *   Same with initial contents; NMC section .data.bank<bank>.
 *===----------------------------------------------------------------------===*/
#ifdef KAN_NMC_HOST_EMU
#define KAN_NMC_BANK_DECL_(bank, type, name, count, init)                      \
  static __thread type *name;                                                  \
  static void kan_nmc_bind_##name(void *p) { name = (type *)p; }               \
  static void __attribute__((constructor)) kan_nmc_reg_##name(void) {         \
    kan_nmc_emu_register_buffer(KAN_NMC_PROGRAM_NAME, #name, (bank),          \
                                KAN_NMC_WORDS_OF(type, count), (init),         \
                                kan_nmc_bind_##name);                          \
  }                                                                            \
  extern int kan_nmc_bank_decl_end_
#define KAN_NMC_BANK_BUFFER(bank, type, name, count)                           \
  KAN_NMC_BANK_DECL_(bank, type, name, count, (const void *)0)
#define KAN_NMC_BANK_DATA(bank, type, name, count, ...)                        \
  static const type kan_nmc_init_##name[count] = __VA_ARGS__;                  \
  KAN_NMC_BANK_DECL_(bank, type, name, count, kan_nmc_init_##name)
#else
#define KAN_NMC_BANK_BUFFER(bank, type, name, count)                           \
  static type name[count] __attribute__((section(".bss.bank" #bank)))
#define KAN_NMC_BANK_DATA(bank, type, name, count, ...)                        \
  static type name[count] __attribute__((section(".data.bank" #bank))) =      \
      __VA_ARGS__
#endif

/*===--- DDR addresses and host exchange ----------------------------------===*
 * The host places data in chip DDR at word addresses of its choosing and
 * passes them with PL_SyncArray / a parameter block.  Core code converts a
 * word address to a pointer with kan_nmc_ddr_range(addr, words) (checks the
 * whole range under emulation) or kan_nmc_ddr_ptr(addr) (one word).
 * kan_nmc_addr_of(p) is the inverse for DDR and bank pointers.
 * kan_nmc_sync / kan_nmc_sync_array are ncl_hostSync / ncl_hostSyncArray with
 * word addresses instead of pointers; they return the host's value.
 *===----------------------------------------------------------------------===*/
#ifdef KAN_NMC_HOST_EMU
void *kan_nmc_ddr_range(unsigned addr, unsigned words);
void *kan_nmc_ddr_ptr(unsigned addr);
unsigned kan_nmc_addr_of(const void *p);
int kan_nmc_sync(int value);
int kan_nmc_sync_array(int value, unsigned out_addr, unsigned out_len,
                       unsigned *in_addr, unsigned *in_len);
#else
static inline void *kan_nmc_ddr_range(unsigned addr, unsigned words) {
  (void)words;
  return (void *)(uintptr_t)addr;
}
static inline void *kan_nmc_ddr_ptr(unsigned addr) {
  return (void *)(uintptr_t)addr;
}
static inline unsigned kan_nmc_addr_of(const void *p) {
  return (unsigned)(uintptr_t)p;
}
static inline int kan_nmc_sync(int value) { return ncl_hostSync(value); }
static inline int kan_nmc_sync_array(int value, unsigned out_addr,
                                     unsigned out_len, unsigned *in_addr,
                                     unsigned *in_len) {
  void *in = 0;
  unsigned int len = 0;
  int r = ncl_hostSyncArray(value, (void *)(uintptr_t)out_addr, out_len, &in,
                            &len);
  if (in_addr)
    *in_addr = (unsigned)(uintptr_t)in;
  if (in_len)
    *in_len = len;
  return r;
}
#endif

/*===--- Block copies (double buffering) ----------------------------------===*
 * kan_nmc_dma_start(dst, src, words, &h) starts a copy of `words` words;
 * kan_nmc_dma_wait(&h) completes it.  Neither side may be touched between
 * the two calls.  Each endpoint must be a bank buffer of this core or DDR of
 * this chip.  NMC: no public NM6408 DMA API exists, so start is a core copy
 * loop and wait is a no-op.  Emulation: endpoints are bounds-checked at
 * start and the copy happens at wait, so reading the destination early or
 * overwriting the source early produces wrong results in tests; a handle
 * never waited is an error at core exit.
 *===----------------------------------------------------------------------===*/
typedef struct kan_nmc_dma {
  void *dst;
  const void *src;
  unsigned words;
  int pending;
} kan_nmc_dma;
/* Initialiser for a handle that has no copy in flight. */
#define KAN_NMC_DMA_INIT {0, 0, 0u, 0}

#ifdef KAN_NMC_HOST_EMU
void kan_nmc_dma_start(void *dst, const void *src, unsigned words,
                       kan_nmc_dma *h);
void kan_nmc_dma_wait(kan_nmc_dma *h);
#else
static inline void kan_nmc_dma_start(void *dst, const void *src,
                                     unsigned words, kan_nmc_dma *h) {
  volatile kan_nmc_word *d = (volatile kan_nmc_word *)dst;
  const volatile kan_nmc_word *s = (const volatile kan_nmc_word *)src;
  unsigned i;
  for (i = 0; i < words; ++i)
    d[i] = s[i];
  h->dst = dst;
  h->src = src;
  h->words = words;
  h->pending = 0;
}
static inline void kan_nmc_dma_wait(kan_nmc_dma *h) { h->pending = 0; }
#endif

/*===--- Synchronisation among the cores of a chip ------------------------===*
 * kan_nmc_barrier(n): cores 0..n-1 of the chip (kan_nmc_core_index) wait for
 *   each other.  Every participant must make the same sequence of calls with
 *   the same n.
 * kan_nmc_ddr_acquire() / kan_nmc_ddr_release(): counting semaphore bounding
 *   the cores of a chip that stream DDR at once (KAN_NMC_DDR_STREAMS, default
 *   8).  Not reentrant.
 * On NMC both use the control block in DDR with plain loads and stores
 * (per-core arrival counters and a Lamport bakery lock), assuming DDR is
 * uncached and sequentially consistent between cores; every wait backs off
 * between polls (kan_nmc_backoff below), none spins on DDR. Host/core
 * synchronisation is the vendor's ncl_hostSync (kan_nmc_sync), which polls
 * nothing in DDR.  Under emulation they
 * are mutex/condition based with timeouts and named diagnostics; the NMC
 * algorithms (kan_nmc_ctrl_*) are still compiled and unit-tested on threads.
 *===----------------------------------------------------------------------===*/
#define KAN_NMC_CTRL_ARRIVE 0u   /* 16 words: barrier generation per core */
#define KAN_NMC_CTRL_RELEASE 16u /* barrier generation released by core 0 */
#define KAN_NMC_CTRL_CHOOSING 32u /* 16 words: bakery "choosing" flags */
#define KAN_NMC_CTRL_NUMBER 48u   /* 16 words: bakery tickets */
#define KAN_NMC_CTRL_SEM_COUNT 64u
#define KAN_NMC_CTRL_SEM_LIMIT 65u /* 0: KAN_NMC_DDR_STREAMS */

#ifndef KAN_NMC_DDR_STREAMS
#define KAN_NMC_DDR_STREAMS KAN_NMC_DDR_STREAMS_DEFAULT
#endif

/* Back-off between two polls of a DDR word. Public 4-chip training code
 * reports that idle cores polling DDR in a tight loop hang the VPU DMA of
 * the active ones, and waits 10 M cycles between polls (barometech/
 * PromeTorch docs/nmquad/README_NMQUAD_RU.md, sections 7 and 11). Here the
 * wait starts at KAN_NMC_BACKOFF_MIN iterations of a loop on a local
 * (stack) counter and doubles up to KAN_NMC_BACKOFF_MAX, so a barrier that
 * opens soon costs little and a long wait polls DDR rarely. */
#ifndef KAN_NMC_BACKOFF_MIN
#define KAN_NMC_BACKOFF_MIN 64u
#endif
#ifndef KAN_NMC_BACKOFF_MAX
#define KAN_NMC_BACKOFF_MAX (1u << 20)
#endif
#ifdef KAN_NMC_HOST_EMU
void kan_nmc_emu_spin_pause(void);
#define KAN_NMC_FENCE() __sync_synchronize()
#define KAN_NMC_SPIN_PAUSE(delay) ((void)(delay), kan_nmc_emu_spin_pause())
#else
#define KAN_NMC_FENCE() __asm__ __volatile__("" ::: "memory")
static inline void kan_nmc_backoff(unsigned *delay) {
  volatile unsigned i;
  for (i = 0; i < *delay; ++i) {
  }
  if (*delay < KAN_NMC_BACKOFF_MAX)
    *delay *= 2u;
}
#define KAN_NMC_SPIN_PAUSE(delay) kan_nmc_backoff(&(delay))
#endif

static inline void kan_nmc_ctrl_barrier(volatile kan_nmc_word *ctrl, int me,
                                        int n) {
  kan_nmc_word g = ctrl[KAN_NMC_CTRL_ARRIVE + me] + 1u;
  unsigned delay = KAN_NMC_BACKOFF_MIN;
  int i;
  ctrl[KAN_NMC_CTRL_ARRIVE + me] = g;
  KAN_NMC_FENCE();
  if (me == 0) {
    for (i = 1; i < n; ++i)
      while (ctrl[KAN_NMC_CTRL_ARRIVE + i] != g)
        KAN_NMC_SPIN_PAUSE(delay);
    KAN_NMC_FENCE();
    ctrl[KAN_NMC_CTRL_RELEASE] = g;
  } else {
    while (ctrl[KAN_NMC_CTRL_RELEASE] != g)
      KAN_NMC_SPIN_PAUSE(delay);
  }
  KAN_NMC_FENCE();
}

static inline void kan_nmc_ctrl_lock(volatile kan_nmc_word *ctrl, int me) {
  volatile kan_nmc_word *choosing = ctrl + KAN_NMC_CTRL_CHOOSING;
  volatile kan_nmc_word *number = ctrl + KAN_NMC_CTRL_NUMBER;
  kan_nmc_word m = 0;
  unsigned delay = KAN_NMC_BACKOFF_MIN;
  int j;
  choosing[me] = 1u;
  KAN_NMC_FENCE();
  for (j = 0; j < KAN_NMC_CHIP_CORES; ++j)
    if (number[j] > m)
      m = number[j];
  number[me] = m + 1u;
  KAN_NMC_FENCE();
  choosing[me] = 0u;
  KAN_NMC_FENCE();
  for (j = 0; j < KAN_NMC_CHIP_CORES; ++j) {
    if (j == me)
      continue;
    while (choosing[j])
      KAN_NMC_SPIN_PAUSE(delay);
    for (;;) {
      kan_nmc_word nj = number[j];
      if (nj == 0u || nj > number[me] || (nj == number[me] && j > me))
        break;
      KAN_NMC_SPIN_PAUSE(delay);
    }
  }
  KAN_NMC_FENCE();
}

static inline void kan_nmc_ctrl_unlock(volatile kan_nmc_word *ctrl, int me) {
  KAN_NMC_FENCE();
  ctrl[KAN_NMC_CTRL_NUMBER + me] = 0u;
  KAN_NMC_FENCE();
}

static inline void kan_nmc_ctrl_sem_acquire(volatile kan_nmc_word *ctrl,
                                            int me) {
  unsigned delay = KAN_NMC_BACKOFF_MIN;
  for (;;) {
    kan_nmc_word limit;
    kan_nmc_ctrl_lock(ctrl, me);
    limit = ctrl[KAN_NMC_CTRL_SEM_LIMIT];
    if (limit == 0u)
      limit = KAN_NMC_DDR_STREAMS;
    if (ctrl[KAN_NMC_CTRL_SEM_COUNT] < limit) {
      ctrl[KAN_NMC_CTRL_SEM_COUNT] = ctrl[KAN_NMC_CTRL_SEM_COUNT] + 1u;
      kan_nmc_ctrl_unlock(ctrl, me);
      return;
    }
    kan_nmc_ctrl_unlock(ctrl, me);
    KAN_NMC_SPIN_PAUSE(delay);
  }
}

static inline void kan_nmc_ctrl_sem_release(volatile kan_nmc_word *ctrl,
                                            int me) {
  kan_nmc_ctrl_lock(ctrl, me);
  ctrl[KAN_NMC_CTRL_SEM_COUNT] = ctrl[KAN_NMC_CTRL_SEM_COUNT] - 1u;
  kan_nmc_ctrl_unlock(ctrl, me);
}

#ifdef KAN_NMC_HOST_EMU
void kan_nmc_barrier(int nmcores);
void kan_nmc_ddr_acquire(void);
void kan_nmc_ddr_release(void);
#else
static inline volatile kan_nmc_word *kan_nmc_ctrl_block(void) {
  return (volatile kan_nmc_word *)(uintptr_t)KAN_NMC_DDR_CTRL_BASE;
}
static inline void kan_nmc_barrier(int nmcores) {
  if (nmcores > 1)
    kan_nmc_ctrl_barrier(kan_nmc_ctrl_block(), kan_nmc_core_index(), nmcores);
}
static inline void kan_nmc_ddr_acquire(void) {
  kan_nmc_ctrl_sem_acquire(kan_nmc_ctrl_block(), kan_nmc_core_index());
}
static inline void kan_nmc_ddr_release(void) {
  kan_nmc_ctrl_sem_release(kan_nmc_ctrl_block(), kan_nmc_core_index());
}
#endif

/*===--- Emulation-only hooks (called by the macros above) ----------------===*/
#ifdef KAN_NMC_HOST_EMU
int kan_nmc_emu_register_program(const char *abs_name, int (*entry)(void));
void kan_nmc_emu_register_buffer(const char *program, const char *name,
                                 int bank, unsigned words, const void *init,
                                 void (*bind)(void *));
#endif

#ifdef __cplusplus
}
#endif

#endif /* KAN_NMC_H */
