/*===- kan_nmc_emu.c - NM Quad host emulation: boards, cores, memories ---===*
 *
 * Each emulated chip (PL_Board) owns a DDR array and 16 cores; each core owns
 * 8 banks of KAN_NMC_BANK_WORDS words and runs its program on a thread.
 * Everything that waits (host/core sync, barrier, DDR permit) uses one mutex
 * and one condition variable per chip with a deadline, so a deadlock ends in
 * a message and an error code instead of a hang.  A core that breaks a rule
 * is stopped (pthread_exit) with status PROGRAM_EXCEPTION and a
 * KAN_NMC_EXIT_* result; peers waiting on it are released with an error.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kan_nmc.h"
#include "kan_nmc_emu.h"
#include "nm_quad_load.h"

#define EMU_MAX_BUFFERS 1024
#define EMU_MAX_PROGRAMS 64
#define EMU_BUFFER_ALIGN 2u /* words: even alignment of fp64 on NMC */

/* The default core program, defined by core code built without
 * KAN_NMC_PROGRAM_ID (KAN_NMC_CORE_MAIN == kan_nmc_core_main). */
extern int kan_nmc_core_main(void) __attribute__((weak));

typedef struct emu_buffer {
  const char *program;
  const char *name;
  int bank;
  unsigned words;
  const void *init;
  void (*bind)(void *);
} emu_buffer;

typedef struct emu_program {
  char name[64];
  int (*entry)(void);
} emu_program;

typedef struct emu_core {
  struct PL_Board *chip;
  int index, nm_id, cluster_id;
  kan_nmc_word *banks; /* KAN_NMC_LOCAL_WORDS words */
  int running;
  PL_Word status, result;
  int (*entry)(void);
  const char *program;
  const char *where; /* what the core waits for, for diagnostics */
  /* Host <-> core mailbox (PL_Sync / ncl_hostSync). */
  int h_full, c_full;
  int h_val, c_val;
  PL_Addr h_addr, c_addr;
  PL_Word h_len, c_len;
  int ddr_held;
  unsigned pending_dma;
  /* Placement of the program's bank buffers: offsets parallel to g_buffers. */
  unsigned offsets[EMU_MAX_BUFFERS];
} emu_core;

struct PL_Board {
  unsigned index;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  kan_nmc_word *ddr;
  emu_core cores[KAN_NMC_CHIP_CORES];
  int bar_n, bar_count;
  unsigned bar_gen, bar_arrived;
  unsigned sem_count, sem_limit;
  unsigned sem_waiters; /* cores waiting for a permit: only they need a wake */
  unsigned streams; /* cores streaming DDR now: permits held, unguarded copies */
  int failed_core;
  kan_nmc_emu_stats stats;
};

struct PL_Access {
  struct PL_Board *chip;
  emu_core *core;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct PL_Board g_chips[KAN_NMC_MAX_CHIPS];
static unsigned g_nchips;
static unsigned g_ddr_words;
static unsigned g_env_streams;
static volatile unsigned g_ddr_cap;
static volatile unsigned g_timeout_ms;
static volatile unsigned g_core_timeout_ms;
static unsigned g_default_timeout_ms;
static int g_host_syncs; /* in-flight PL_Sync/PL_SyncArray, under g_reg_mu */
static emu_buffer g_buffers[EMU_MAX_BUFFERS];
static unsigned g_nbuffers;
static int g_buffer_overflow;
static emu_program g_programs[EMU_MAX_PROGRAMS];
static unsigned g_nprograms;
static __thread emu_core *tls_core;

/*===--- helpers -----------------------------------------------------------===*/

static unsigned env_unsigned(const char *name, unsigned dflt, unsigned lo,
                             unsigned hi) {
  const char *s = getenv(name);
  char *end;
  unsigned long v;
  if (!s || !*s)
    return dflt;
  v = strtoul(s, &end, 0);
  if (*end || v < lo || v > hi) {
    fprintf(stderr, "kan-nmc-emu: ignoring %s=%s (expected %u..%u), using %u\n",
            name, s, lo, hi, dflt);
    return dflt;
  }
  return (unsigned)v;
}

static void emu_init(void) {
  unsigned i, k;
  pthread_condattr_t ca;
  g_nchips = env_unsigned("KAN_NMC_CHIPS", 4, 1, KAN_NMC_MAX_CHIPS);
  /* The whole window the cores address; calloc maps it lazily, so only
   * the words a run touches cost host memory. */
  g_ddr_words = env_unsigned("KAN_NMC_DDR_WORDS",
                             KAN_NMC_DDR_END - KAN_NMC_DDR_BASE, 1u << 12,
                             KAN_NMC_DDR_END - KAN_NMC_DDR_BASE);
  g_ddr_cap = env_unsigned("KAN_NMC_DDR_CAP", KAN_NMC_DDR_STREAMS_DEFAULT, 1,
                           KAN_NMC_CHIP_CORES);
  g_default_timeout_ms =
      env_unsigned("KAN_NMC_TIMEOUT_MS", 60000, 1, 24u * 3600u * 1000u);
  g_env_streams = env_unsigned("KAN_NMC_DDR_STREAMS", 0, 1, 16);
  g_timeout_ms = g_default_timeout_ms;
  g_core_timeout_ms = g_default_timeout_ms;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  for (i = 0; i < KAN_NMC_MAX_CHIPS; ++i) {
    struct PL_Board *b = &g_chips[i];
    b->index = i;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, &ca);
    b->failed_core = -1;
    for (k = 0; k < KAN_NMC_CHIP_CORES; ++k) {
      emu_core *c = &b->cores[k];
      c->chip = b;
      c->index = (int)k;
      c->nm_id = (int)k % KAN_NMC_CLUSTER_CORES;
      c->cluster_id = (int)k / KAN_NMC_CLUSTER_CORES;
      c->status = PROGRAM_NO;
      c->where = "not started";
    }
  }
  pthread_condattr_destroy(&ca);
}

static void ensure_init(void) { pthread_once(&g_once, emu_init); }

/* Memory is allocated on first use so that unused chips cost nothing. */
static int chip_memory(struct PL_Board *b) {
  unsigned k;
  if (b->ddr)
    return 0;
  b->ddr = (kan_nmc_word *)calloc(g_ddr_words, sizeof(kan_nmc_word));
  if (!b->ddr)
    return -1;
  for (k = 0; k < KAN_NMC_CHIP_CORES; ++k) {
    b->cores[k].banks =
        (kan_nmc_word *)calloc(KAN_NMC_LOCAL_WORDS, sizeof(kan_nmc_word));
    if (!b->cores[k].banks)
      return -1;
  }
  return 0;
}

static void deadline_after(struct timespec *ts, unsigned ms) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000u;
  ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec += 1;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Wait on the chip's condition; returns nonzero once the deadline passed. */
static int chip_wait(struct PL_Board *b, const struct timespec *deadline) {
  return pthread_cond_timedwait(&b->cv, &b->mu, deadline) == ETIMEDOUT;
}

static const char *status_name(PL_Word s) {
  switch (s) {
  case PROGRAM_NO:
    return "not loaded";
  case PROGRAM_PROGRESS:
    return "running";
  case PROGRAM_FINISHED:
    return "finished";
  case PROGRAM_EXCEPTION:
    return "stopped on an error";
  }
  return "?";
}

static emu_core *self_or_die(const char *fn) {
  if (!tls_core) {
    fprintf(stderr,
            "kan-nmc-emu: %s called outside a core program thread; only code "
            "started by PL_LoadProgramFile may call core-side functions\n",
            fn);
    abort();
  }
  return tls_core;
}

/* Stop the calling core with `code`; never returns. */
static void core_fail(emu_core *c, unsigned code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void core_fail(emu_core *c, unsigned code, const char *fmt, ...) {
  struct PL_Board *b = c->chip;
  va_list ap;
  char msg[768];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "kan-nmc-emu: chip %u core %d (cluster %d, nm %d): %s\n",
          b->index, c->index, c->cluster_id, c->nm_id, msg);
  pthread_mutex_lock(&b->mu);
  if (c->ddr_held) {
    c->ddr_held = 0;
    b->sem_count--;
    b->streams--;
  }
  c->status = PROGRAM_EXCEPTION;
  c->result = code;
  c->running = 0;
  c->where = "stopped";
  /* A value the core already posted stays for the host to take; a host
   * value can no longer be taken. */
  c->h_full = 0;
  if (b->failed_core < 0)
    b->failed_core = c->index;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  tls_core = NULL;
  pthread_exit(NULL);
}

/* A failed peer ends every wait on the chip (the hardware would hang). */
static void check_peer(emu_core *c, const char *what) {
  int f = c->chip->failed_core;
  if (f >= 0 && f != c->index) {
    pthread_mutex_unlock(&c->chip->mu);
    core_fail(c, KAN_NMC_EXIT_PEER_FAILED,
              "%s abandoned: core %d of this chip stopped on an error", what,
              f);
  }
}

/*===--- registration (constructors of core code) -------------------------===*/

static const char *program_key(const char *name, char *buf, size_t n) {
  const char *base = strrchr(name, '/');
  size_t len;
  base = base ? base + 1 : name;
  len = strlen(base);
  if (len > 4 && strcmp(base + len - 4, ".abs") == 0)
    len -= 4;
  if (len >= n)
    len = n - 1;
  memcpy(buf, base, len);
  buf[len] = 0;
  return buf;
}

int kan_nmc_emu_register_program(const char *abs_name, int (*entry)(void)) {
  char key[64];
  unsigned i;
  int rc = 0;
  if (!abs_name || !entry)
    return -1;
  program_key(abs_name, key, sizeof key);
  pthread_mutex_lock(&g_reg_mu);
  for (i = 0; i < g_nprograms; ++i)
    if (strcmp(g_programs[i].name, key) == 0)
      break;
  if (i < g_nprograms) {
    g_programs[i].entry = entry;
  } else if (g_nprograms < EMU_MAX_PROGRAMS) {
    strcpy(g_programs[g_nprograms].name, key);
    g_programs[g_nprograms++].entry = entry;
  } else {
    fprintf(stderr, "kan-nmc-emu: too many core programs (max %d)\n",
            EMU_MAX_PROGRAMS);
    rc = -1;
  }
  pthread_mutex_unlock(&g_reg_mu);
  return rc;
}

void kan_nmc_emu_register_buffer(const char *program, const char *name,
                                 int bank, unsigned words, const void *init,
                                 void (*bind)(void *)) {
  pthread_mutex_lock(&g_reg_mu);
  if (g_nbuffers == EMU_MAX_BUFFERS) {
    fprintf(stderr, "kan-nmc-emu: more than %d bank buffers; '%s' dropped\n",
            EMU_MAX_BUFFERS, name);
    g_buffer_overflow = 1;
  } else {
    emu_buffer *e = &g_buffers[g_nbuffers++];
    e->program = program;
    e->name = name;
    e->bank = bank;
    e->words = words;
    e->init = init;
    e->bind = bind;
  }
  pthread_mutex_unlock(&g_reg_mu);
}

/* Place the buffers of `program` into banks; on failure describe it in
 * `err` and return -1.  Same rules as the linker script: bank 0 offers its
 * upper KAN_NMC_BANK0_BUFFER_WORDS, banks 1-7 all KAN_NMC_BANK_WORDS. */
static int layout_buffers(const char *program, unsigned *offsets, char *err,
                          size_t errn) {
  unsigned used[KAN_NMC_BANKS];
  unsigned i;
  int b;
  for (b = 0; b < KAN_NMC_BANKS; ++b)
    used[b] = b == 0 ? KAN_NMC_BANK_WORDS - KAN_NMC_BANK0_BUFFER_WORDS : 0u;
  if (g_buffer_overflow) {
    snprintf(err, errn, "too many bank buffers registered");
    return -1;
  }
  for (i = 0; i < g_nbuffers; ++i) {
    const emu_buffer *e = &g_buffers[i];
    unsigned start;
    if (strcmp(e->program, program) != 0)
      continue;
    if (e->bank < 0 || e->bank >= KAN_NMC_BANKS) {
      snprintf(err, errn, "bank buffer '%s' names bank %d; banks are 0..%d",
               e->name, e->bank, KAN_NMC_BANKS - 1);
      return -1;
    }
    start = (used[e->bank] + EMU_BUFFER_ALIGN - 1u) & ~(EMU_BUFFER_ALIGN - 1u);
    if ((unsigned long long)start + e->words > KAN_NMC_BANK_WORDS) {
      unsigned cap = e->bank == 0 ? KAN_NMC_BANK0_BUFFER_WORDS
                                  : KAN_NMC_BANK_WORDS;
      unsigned before =
          used[e->bank] - (e->bank == 0 ? KAN_NMC_BANK_WORDS - cap : 0u);
      snprintf(err, errn,
               "bank overflow: buffer '%s' (%u words) does not fit bank NMMB%d "
               "(%u of %u buffer words already used)",
               e->name, e->words, e->bank, before, cap);
      return -1;
    }
    offsets[i] = KAN_NMC_BANK_ADDR(e->bank) + start;
    used[e->bank] = start + e->words;
  }
  return 0;
}

/*===--- cores -------------------------------------------------------------===*/

static void *core_thread(void *arg) {
  emu_core *c = (emu_core *)arg;
  struct PL_Board *b = c->chip;
  unsigned i;
  int r;
  tls_core = c;
  pthread_mutex_lock(&g_reg_mu);
  for (i = 0; i < g_nbuffers; ++i) {
    const emu_buffer *e = &g_buffers[i];
    kan_nmc_word *p;
    if (strcmp(e->program, c->program) != 0)
      continue;
    p = c->banks + c->offsets[i];
    if (e->init)
      memcpy(p, e->init, (size_t)e->words * sizeof(kan_nmc_word));
    e->bind(p);
  }
  pthread_mutex_unlock(&g_reg_mu);

  r = c->entry();

  if (c->pending_dma)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "program returned %d with %u block copies started by "
              "kan_nmc_dma_start and never completed by kan_nmc_dma_wait",
              r, c->pending_dma);
  if (c->ddr_held)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "program returned %d while holding a DDR permit "
              "(kan_nmc_ddr_acquire without kan_nmc_ddr_release)",
              r);
  pthread_mutex_lock(&b->mu);
  c->result = (PL_Word)r;
  c->status = PROGRAM_FINISHED;
  c->running = 0;
  c->where = "finished";
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  tls_core = NULL;
  return NULL;
}

/*===--- host API ----------------------------------------------------------===*/

int PL_GetVersion(unsigned int *version_major, unsigned int *version_minor) {
  if (version_major)
    *version_major = PLOAD_MAJOR_VERSION;
  if (version_minor)
    *version_minor = PLOAD_MINOR_VERSION;
  return PL_OK;
}

int PL_GetBoardCount(unsigned int *count) {
  ensure_init();
  if (!count)
    return PL_ERROR;
  *count = g_nchips;
  return PL_OK;
}

int PL_GetBoardDesc(unsigned int index, PL_Board **board) {
  ensure_init();
  if (!board)
    return PL_ERROR;
  if (index >= g_nchips) {
    fprintf(stderr, "kan-nmc-emu: PL_GetBoardDesc(%u): only %u boards\n",
            index, g_nchips);
    return PL_ERROR;
  }
  pthread_mutex_lock(&g_chips[index].mu);
  if (chip_memory(&g_chips[index]) != 0) {
    pthread_mutex_unlock(&g_chips[index].mu);
    fprintf(stderr, "kan-nmc-emu: out of host memory for board %u\n", index);
    return PL_ERROR;
  }
  pthread_mutex_unlock(&g_chips[index].mu);
  *board = &g_chips[index];
  return PL_OK;
}

int PL_CloseBoardDesc(PL_Board *board) { return board ? PL_OK : PL_ERROR; }

int PL_ResetBoard(PL_Board *board) {
  int k, rc = PL_OK;
  if (!board)
    return PL_ERROR;
  pthread_mutex_lock(&board->mu);
  for (k = 0; k < KAN_NMC_CHIP_CORES; ++k)
    if (board->cores[k].running) {
      fprintf(stderr,
              "kan-nmc-emu: PL_ResetBoard(board %u): core %d is still "
              "running and emulated cores cannot be stopped\n",
              board->index, k);
      rc = PL_ERROR;
    }
  if (rc == PL_OK) {
    for (k = 0; k < KAN_NMC_CHIP_CORES; ++k) {
      emu_core *c = &board->cores[k];
      c->status = PROGRAM_NO;
      c->result = 0;
      c->h_full = c->c_full = 0;
      c->where = "not started";
    }
    board->failed_core = -1;
    board->bar_count = board->bar_n = 0;
    board->bar_arrived = 0;
    board->sem_count = 0;
    board->streams = 0;
  }
  pthread_mutex_unlock(&board->mu);
  return rc;
}

int PL_LoadInitCode(PL_Board *board) { return board ? PL_OK : PL_ERROR; }

int PL_GetAccess(PL_Board *board, PL_CoreNo *coreNo, PL_Access **access) {
  PL_Access *a;
  if (!board || !coreNo || !access)
    return PL_ERROR;
  if (coreNo->nm_id < 0 || coreNo->nm_id >= KAN_NMC_CLUSTER_CORES ||
      coreNo->cluster_id < 0 || coreNo->cluster_id >= KAN_NMC_CLUSTERS) {
    fprintf(stderr,
            "kan-nmc-emu: PL_GetAccess(board %u, {nm_id %d, cluster_id %d}): "
            "only NMC cores {0..3, 0..3} are emulated (no ARM cores)\n",
            board->index, coreNo->nm_id, coreNo->cluster_id);
    return PL_ERROR;
  }
  a = (PL_Access *)malloc(sizeof *a);
  if (!a)
    return PL_ERROR;
  a->chip = board;
  a->core = &board->cores[coreNo->cluster_id * KAN_NMC_CLUSTER_CORES +
                          coreNo->nm_id];
  *access = a;
  return PL_OK;
}

int PL_CloseAccess(PL_Access *access) {
  if (!access)
    return PL_ERROR;
  free(access);
  return PL_OK;
}

int PL_LoadProgramFile(PL_Access *access, const char *filename) {
  struct PL_Board *b;
  emu_core *c;
  char key[64], err[512];
  int (*entry)(void) = NULL;
  const char *program = "";
  unsigned i, k;
  int any_running = 0;
  pthread_t th;
  pthread_attr_t attr;
  if (!access || !filename)
    return PL_ERROR;
  b = access->chip;
  c = access->core;
  program_key(filename, key, sizeof key);
  pthread_mutex_lock(&b->mu);
  any_running = c->running;
  pthread_mutex_unlock(&b->mu);
  if (any_running) {
    fprintf(stderr, "kan-nmc-emu: PL_LoadProgramFile(\"%s\"): chip %u core %d "
                    "is still running a program\n", filename, b->index,
            c->index);
    return PL_ERROR;
  }
  pthread_mutex_lock(&g_reg_mu);
  for (i = 0; i < g_nprograms; ++i)
    if (strcmp(g_programs[i].name, key) == 0) {
      entry = g_programs[i].entry;
      program = g_programs[i].name;
    }
  if (!entry && kan_nmc_core_main)
    entry = kan_nmc_core_main;
  err[0] = 0;
  if (entry && layout_buffers(program, c->offsets, err, sizeof err) != 0) {
    pthread_mutex_unlock(&g_reg_mu);
    fprintf(stderr, "kan-nmc-emu: PL_LoadProgramFile(\"%s\") on chip %u core "
                    "%d: %s\n", filename, b->index, c->index, err);
    pthread_mutex_lock(&b->mu);
    c->status = PROGRAM_EXCEPTION;
    c->result = KAN_NMC_EXIT_BANK_OVERFLOW;
    pthread_mutex_unlock(&b->mu);
    return PL_ERROR;
  }
  pthread_mutex_unlock(&g_reg_mu);
  if (!entry) {
    fprintf(stderr,
            "kan-nmc-emu: PL_LoadProgramFile(\"%s\"): no core program linked "
            "(define int KAN_NMC_CORE_MAIN(void) in the core sources, or build "
            "them with -DKAN_NMC_PROGRAM_ID=%s)\n", filename, key);
    return PL_FILE;
  }

  pthread_mutex_lock(&b->mu);
  if (c->running) {
    pthread_mutex_unlock(&b->mu);
    fprintf(stderr, "kan-nmc-emu: PL_LoadProgramFile(\"%s\"): chip %u core %d "
                    "is still running a program\n", filename, b->index,
            c->index);
    return PL_ERROR;
  }
  for (k = 0; k < KAN_NMC_CHIP_CORES; ++k)
    any_running |= b->cores[k].running;
  if (!any_running) {
    /* A fresh launch on this chip: forget the previous run's sync state. */
    PL_Word limit = b->ddr[KAN_NMC_CTRL_SEM_LIMIT]; /* kan_nmc_host_init_chip */
    b->failed_core = -1;
    b->bar_count = b->bar_n = 0;
    b->bar_arrived = 0;
    b->sem_count = 0;
    b->streams = 0;
    b->sem_limit = g_env_streams   ? g_env_streams
                   : limit != 0u   ? limit
                                   : KAN_NMC_DDR_STREAMS_DEFAULT;
  }
  c->entry = entry;
  c->program = program;
  c->status = PROGRAM_PROGRESS;
  c->result = 0;
  c->h_full = c->c_full = 0;
  c->ddr_held = 0;
  c->pending_dma = 0;
  c->where = "running";
  c->running = 1;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&th, &attr, core_thread, c) != 0) {
    c->running = 0;
    c->status = PROGRAM_NO;
    pthread_mutex_unlock(&b->mu);
    pthread_attr_destroy(&attr);
    fprintf(stderr, "kan-nmc-emu: cannot start a thread for chip %u core %d\n",
            b->index, c->index);
    return PL_ERROR;
  }
  pthread_attr_destroy(&attr);
  pthread_mutex_unlock(&b->mu);
  return PL_OK;
}

/* Map a host word range onto emulated memory: chip DDR, or the local memory
 * of the accessed core (addresses below KAN_NMC_LOCAL_WORDS). */
static kan_nmc_word *host_range(PL_Access *a, PL_Addr addr, unsigned len,
                                const char *fn) {
  unsigned long long end = (unsigned long long)addr + len;
  if (addr >= KAN_NMC_DDR_BASE && end <= (unsigned long long)KAN_NMC_DDR_BASE +
                                             g_ddr_words)
    return a->chip->ddr + (addr - KAN_NMC_DDR_BASE);
  if (end <= KAN_NMC_LOCAL_WORDS)
    return a->core->banks + addr;
  fprintf(stderr,
          "kan-nmc-emu: %s(board %u, address 0x%08x, %u words): range "
          "[0x%08x, 0x%08llx) is outside DDR [0x%08x, 0x%08x) and the core's "
          "local memory [0, 0x%05x)\n",
          fn, a->chip->index, addr, len, addr, end, KAN_NMC_DDR_BASE,
          KAN_NMC_DDR_BASE + g_ddr_words, KAN_NMC_LOCAL_WORDS);
  return NULL;
}

int PL_ReadMemBlock(PL_Access *access, PL_Word *block, PL_Addr address,
                    unsigned int len) {
  kan_nmc_word *p;
  if (!access || (!block && len))
    return PL_ERROR;
  if (!len)
    return PL_OK;
  p = host_range(access, address, len, "PL_ReadMemBlock");
  if (!p)
    return PL_BADADDRESS;
  memcpy(block, p, (size_t)len * sizeof(PL_Word));
  return PL_OK;
}

int PL_WriteMemBlock(PL_Access *access, const PL_Word *block, PL_Addr address,
                     unsigned int len) {
  kan_nmc_word *p;
  if (!access || (!block && len))
    return PL_ERROR;
  if (!len)
    return PL_OK;
  p = host_range(access, address, len, "PL_WriteMemBlock");
  if (!p)
    return PL_BADADDRESS;
  memcpy(p, block, (size_t)len * sizeof(PL_Word));
  return PL_OK;
}

static int host_sync(PL_Access *a, const char *fn, int value, PL_Addr oa,
                     PL_Word ol, int *rv, PL_Addr *ia, PL_Word *il) {
  struct PL_Board *b;
  emu_core *c;
  struct timespec dl;
  unsigned ms = g_timeout_ms;
  int rc = PL_OK;
  if (!a)
    return PL_ERROR;
  b = a->chip;
  c = a->core;
  pthread_mutex_lock(&g_reg_mu);
  g_host_syncs++;
  pthread_mutex_unlock(&g_reg_mu);
  deadline_after(&dl, ms);
  pthread_mutex_lock(&b->mu);
  while (c->h_full && c->running)
    if (chip_wait(b, &dl)) {
      rc = PL_TIMEOUT;
      break;
    }
  if (rc == PL_OK && !c->running && !c->c_full) {
    fprintf(stderr,
            "kan-nmc-emu: %s(board %u, core %d): the core is %s (result 0x%x) "
            "and will never answer\n",
            fn, b->index, c->index, status_name(c->status), c->result);
    rc = PL_ERROR;
  }
  if (rc == PL_OK) {
    c->h_full = 1;
    c->h_val = value;
    c->h_addr = oa;
    c->h_len = ol;
    pthread_cond_broadcast(&b->cv);
    while (!c->c_full) {
      if (!c->running) {
        fprintf(stderr,
                "kan-nmc-emu: %s(board %u, core %d): the core stopped (%s, "
                "result 0x%x) before reaching ncl_hostSync\n",
                fn, b->index, c->index, status_name(c->status), c->result);
        rc = PL_ERROR;
        break;
      }
      if (chip_wait(b, &dl) && !c->c_full) {
        rc = PL_TIMEOUT;
        break;
      }
    }
    if (rc != PL_OK) {
      c->h_full = 0; /* withdraw: the core never took it */
    } else {
      if (rv)
        *rv = c->c_val;
      if (ia)
        *ia = c->c_addr;
      if (il)
        *il = c->c_len;
      c->c_full = 0;
      pthread_cond_broadcast(&b->cv);
    }
  }
  if (rc == PL_TIMEOUT)
    fprintf(stderr,
            "kan-nmc-emu: %s(board %u, core %d, value %d) timed out after %u "
            "ms: the core is %s, waiting in %s (deadlock?)\n",
            fn, b->index, c->index, value, ms, status_name(c->status),
            c->where);
  pthread_mutex_unlock(&b->mu);
  pthread_mutex_lock(&g_reg_mu);
  g_host_syncs--;
  pthread_mutex_unlock(&g_reg_mu);
  return rc;
}

int PL_Sync(PL_Access *access, int value, int *returnValue) {
  return host_sync(access, "PL_Sync", value, 0, 0, returnValue, NULL, NULL);
}

int PL_SyncArray(PL_Access *access, int value, PL_Addr outAddress,
                 PL_Word outLen, int *returnValue, PL_Addr *inAddress,
                 PL_Word *inLen) {
  return host_sync(access, "PL_SyncArray", value, outAddress, outLen,
                   returnValue, inAddress, inLen);
}

int PL_SetTimeout(unsigned int timeout) {
  int busy;
  ensure_init();
  pthread_mutex_lock(&g_reg_mu);
  busy = g_host_syncs > 0;
  if (!busy)
    g_timeout_ms = timeout ? timeout : g_default_timeout_ms;
  pthread_mutex_unlock(&g_reg_mu);
  /* The vendor library answers PL_AGAIN while a PL_SyncXXX is waiting. */
  return busy ? PL_AGAIN : PL_OK;
}

int PL_GetStatus(PL_Access *access, PL_Word *status) {
  if (!access || !status)
    return PL_ERROR;
  pthread_mutex_lock(&access->chip->mu);
  *status = access->core->status;
  pthread_mutex_unlock(&access->chip->mu);
  return PL_OK;
}

int PL_GetResult(PL_Access *access, PL_Word *result) {
  if (!access || !result)
    return PL_ERROR;
  pthread_mutex_lock(&access->chip->mu);
  *result = access->core->result;
  pthread_mutex_unlock(&access->chip->mu);
  return PL_OK;
}

/*===--- core API (nm6408load_nmc.h) ---------------------------------------===*/

const char *ncl_getBoardName(void) { return "NM_Quad (host emulation)"; }

int ncl_getCoreID(void) { return self_or_die("ncl_getCoreID")->nm_id; }

int ncl_getClusterID(void) {
  return self_or_die("ncl_getClusterID")->cluster_id;
}

void ncl_getProcessorNo(struct ncl_ProcessorNo *ProcessorNo) {
  emu_core *c = self_or_die("ncl_getProcessorNo");
  if (ProcessorNo) {
    ProcessorNo->cluster_id = c->cluster_id;
    ProcessorNo->core_id = c->nm_id;
  }
}

void ncl_icache_dis(void) {}
void ncl_icache_ena(void) {}
void ncl_icache_inv(void) {}

static int core_sync(emu_core *c, const char *fn, int value, PL_Addr oa,
                     PL_Word ol, PL_Addr *ia, PL_Word *il) {
  struct PL_Board *b = c->chip;
  struct timespec dl;
  unsigned ms = g_core_timeout_ms;
  int rv;
  deadline_after(&dl, ms);
  pthread_mutex_lock(&b->mu);
  c->where = fn;
  while (c->c_full)
    if (chip_wait(b, &dl) && c->c_full) {
      pthread_mutex_unlock(&b->mu);
      core_fail(c, KAN_NMC_EXIT_TIMEOUT,
                "%s(%d) timed out after %u ms: the host never took the "
                "previous value",
                fn, value, ms);
    }
  c->c_full = 1;
  c->c_val = value;
  c->c_addr = oa;
  c->c_len = ol;
  pthread_cond_broadcast(&b->cv);
  while (!c->h_full)
    if (chip_wait(b, &dl) && !c->h_full) {
      c->c_full = 0;
      pthread_mutex_unlock(&b->mu);
      core_fail(c, KAN_NMC_EXIT_TIMEOUT,
                "%s(%d) timed out after %u ms: the host never called "
                "PL_Sync/PL_SyncArray for this core (deadlock?)",
                fn, value, ms);
    }
  rv = c->h_val;
  if (ia)
    *ia = c->h_addr;
  if (il)
    *il = c->h_len;
  c->h_full = 0;
  c->where = "running";
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return rv;
}

int ncl_hostSync(int value) {
  emu_core *c = self_or_die("ncl_hostSync");
  return core_sync(c, "ncl_hostSync", value, 0, 0, NULL, NULL);
}

/* Pointer -> word address, 0 if `p` is neither DDR of the chip nor local. */
static int addr_of(emu_core *c, const void *p, unsigned *addr) {
  const kan_nmc_word *w = (const kan_nmc_word *)p;
  const kan_nmc_word *ddr = c->chip->ddr;
  if (w >= ddr && w < ddr + g_ddr_words) {
    *addr = KAN_NMC_DDR_BASE + (unsigned)(w - ddr);
    return 1;
  }
  if (w >= c->banks && w < c->banks + KAN_NMC_LOCAL_WORDS) {
    *addr = (unsigned)(w - c->banks);
    return 1;
  }
  return 0;
}

int ncl_hostSyncArray(int value, void *outArray, unsigned int outLen,
                      void **inArray, unsigned int *inLen) {
  emu_core *c = self_or_die("ncl_hostSyncArray");
  unsigned out = 0;
  PL_Addr in = 0;
  int rv;
  if (outArray && !addr_of(c, outArray, &out))
    core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
              "ncl_hostSyncArray(%d, %p, %u): the array is neither in chip "
              "DDR nor in the core's banks, the host could not reach it",
              value, outArray, outLen);
  rv = core_sync(c, "ncl_hostSyncArray", value, out, outLen, &in, inLen);
  if (inArray) {
    unsigned long long end = (unsigned long long)in;
    if (in >= KAN_NMC_DDR_BASE && end < KAN_NMC_DDR_BASE + g_ddr_words)
      *inArray = c->chip->ddr + (in - KAN_NMC_DDR_BASE);
    else if (in != 0 && in < KAN_NMC_LOCAL_WORDS)
      *inArray = c->banks + in;
    else /* not an address after all: pass the number through as NMC would */
      *inArray = (void *)(uintptr_t)in;
  }
  return rv;
}

/*===--- kan_nmc.h runtime under emulation --------------------------------===*/

int kan_nmc_sync(int value) {
  return core_sync(self_or_die("kan_nmc_sync"), "kan_nmc_sync", value, 0, 0,
                   NULL, NULL);
}

int kan_nmc_sync_array(int value, unsigned out_addr, unsigned out_len,
                       unsigned *in_addr, unsigned *in_len) {
  PL_Addr a = 0;
  PL_Word l = 0;
  int rv = core_sync(self_or_die("kan_nmc_sync_array"), "kan_nmc_sync_array",
                     value, out_addr, out_len, &a, &l);
  if (in_addr)
    *in_addr = a;
  if (in_len)
    *in_len = l;
  return rv;
}

void *kan_nmc_ddr_range(unsigned addr, unsigned words) {
  emu_core *c = self_or_die("kan_nmc_ddr_range");
  unsigned long long end = (unsigned long long)addr + words;
  if (addr < KAN_NMC_DDR_BASE ||
      end > (unsigned long long)KAN_NMC_DDR_BASE + g_ddr_words)
    core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
              "DDR range [0x%08x, 0x%08llx) (%u words) is outside the "
              "emulated DDR [0x%08x, 0x%08x)",
              addr, end, words, KAN_NMC_DDR_BASE,
              KAN_NMC_DDR_BASE + g_ddr_words);
  return c->chip->ddr + (addr - KAN_NMC_DDR_BASE);
}

void *kan_nmc_ddr_ptr(unsigned addr) { return kan_nmc_ddr_range(addr, 1u); }

unsigned kan_nmc_addr_of(const void *p) {
  emu_core *c = self_or_die("kan_nmc_addr_of");
  unsigned a;
  if (!addr_of(c, p, &a))
    core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
              "kan_nmc_addr_of(%p): not a DDR or bank address of this core", p);
  return a;
}

/* Check that [p, p+words) is inside chip DDR or inside one bank buffer of
 * the calling core; returns 1 for DDR, 0 for a bank buffer. */
static int dma_endpoint(emu_core *c, const void *p, unsigned words,
                        const char *role) {
  const kan_nmc_word *w = (const kan_nmc_word *)p;
  const kan_nmc_word *ddr = c->chip->ddr;
  unsigned i;
  if (w >= ddr && w < ddr + g_ddr_words) {
    unsigned a = KAN_NMC_DDR_BASE + (unsigned)(w - ddr);
    if ((unsigned long long)(w - ddr) + words > g_ddr_words)
      core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
                "kan_nmc_dma_start: %s DDR range [0x%08x, +%u words) runs past "
                "the end of DDR 0x%08x",
                role, a, words, KAN_NMC_DDR_BASE + g_ddr_words);
    return 1;
  }
  if (w >= c->banks && w < c->banks + KAN_NMC_LOCAL_WORDS) {
    unsigned a = (unsigned)(w - c->banks);
    pthread_mutex_lock(&g_reg_mu);
    for (i = 0; i < g_nbuffers; ++i) {
      const emu_buffer *e = &g_buffers[i];
      if (strcmp(e->program, c->program) != 0)
        continue;
      if (a >= c->offsets[i] && a < c->offsets[i] + e->words) {
        unsigned off = a - c->offsets[i];
        pthread_mutex_unlock(&g_reg_mu);
        if ((unsigned long long)off + words > e->words)
          core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
                    "kan_nmc_dma_start: %s overruns bank buffer '%s' (NMMB%d, "
                    "%u words): words [%u, %u)",
                    role, e->name, e->bank, e->words, off, off + words);
        return 0;
      }
    }
    pthread_mutex_unlock(&g_reg_mu);
    core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
              "kan_nmc_dma_start: %s local address 0x%05x is in no bank buffer",
              role, a);
  }
  core_fail(c, KAN_NMC_EXIT_BAD_ADDRESS,
            "kan_nmc_dma_start: %s %p is neither chip DDR nor a bank buffer "
            "(copies must not touch core-private C objects)",
            role, p);
}

/* One more core streams DDR (chip mutex held): counted against the cap of
 * the hardware (KAN_NMC_DDR_CAP, default 8: chips are reported to hang
 * beyond it), whatever the program's permits allow. A run that exceeds it
 * stops here with the count. */
static void stream_begin(emu_core *c, const char *what) {
  struct PL_Board *b = c->chip;
  unsigned cap = g_ddr_cap;
  b->streams++;
  if (b->streams > b->stats.ddr_streams_max)
    b->stats.ddr_streams_max = b->streams;
  if (b->streams > cap) {
    unsigned n = b->streams;
    b->stats.ddr_cap_exceeded++;
    /* The chip has failed from here on: no other core takes a stream. */
    if (b->failed_core < 0)
      b->failed_core = c->index;
    pthread_mutex_unlock(&b->mu);
    core_fail(c, KAN_NMC_EXIT_DDR_CAP,
              "%s: %u cores of this chip stream DDR at once, more than the "
              "cap of %u (KAN_NMC_DDR_CAP; a board hangs there)",
              what, n, cap);
  }
}

void kan_nmc_dma_start(void *dst, const void *src, unsigned words,
                       kan_nmc_dma *h) {
  emu_core *c = self_or_die("kan_nmc_dma_start");
  int ddr;
  if (!h)
    core_fail(c, KAN_NMC_EXIT_USAGE, "kan_nmc_dma_start: NULL handle");
  if (h->pending == 1)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_dma_start: handle %p reused before kan_nmc_dma_wait",
              (void *)h);
  ddr = dma_endpoint(c, dst, words, "destination");
  ddr |= dma_endpoint(c, src, words, "source");
  if (ddr && !c->ddr_held) {
    pthread_mutex_lock(&c->chip->mu);
    c->chip->stats.dma_unguarded++;
    pthread_mutex_unlock(&c->chip->mu);
  }
  h->dst = dst;
  h->src = src;
  h->words = words;
  h->pending = 1;
  c->pending_dma++;
}

static int in_ddr(emu_core *c, const void *p) {
  const kan_nmc_word *w = (const kan_nmc_word *)p;
  return w >= c->chip->ddr && w < c->chip->ddr + g_ddr_words;
}

void kan_nmc_dma_wait(kan_nmc_dma *h) {
  emu_core *c = self_or_die("kan_nmc_dma_wait");
  int unguarded;
  if (!h || h->pending != 1)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_dma_wait: handle %p has no copy in flight", (void *)h);
  /* The copy lands only now: code that reads the destination or rewrites
   * the source before waiting sees the damage in tests. A copy touching
   * DDR without a permit is a stream of its own while it moves. */
  unguarded = !c->ddr_held && (in_ddr(c, h->dst) || in_ddr(c, h->src));
  if (unguarded) {
    pthread_mutex_lock(&c->chip->mu);
    check_peer(c, "kan_nmc_dma_wait");
    stream_begin(c, "kan_nmc_dma_wait (no DDR permit)");
    pthread_mutex_unlock(&c->chip->mu);
  }
  memmove(h->dst, h->src, (size_t)h->words * sizeof(kan_nmc_word));
  h->pending = 0;
  c->pending_dma--;
  pthread_mutex_lock(&c->chip->mu);
  if (unguarded)
    c->chip->streams--;
  c->chip->stats.dma_copies++;
  c->chip->stats.dma_words += h->words;
  pthread_mutex_unlock(&c->chip->mu);
}

void kan_nmc_barrier(int nmcores) {
  emu_core *c = self_or_die("kan_nmc_barrier");
  struct PL_Board *b = c->chip;
  struct timespec dl;
  unsigned ms = g_core_timeout_ms, gen;
  if (nmcores < 1 || nmcores > KAN_NMC_CHIP_CORES || c->index >= nmcores)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_barrier(%d): the barrier is for cores 0..%d and this "
              "is core %d",
              nmcores, nmcores - 1, c->index);
  if (nmcores == 1)
    return;
  deadline_after(&dl, ms);
  pthread_mutex_lock(&b->mu);
  check_peer(c, "kan_nmc_barrier");
  if (b->bar_count == 0) {
    b->bar_n = nmcores;
  } else if (b->bar_n != nmcores) {
    int n = b->bar_n;
    pthread_mutex_unlock(&b->mu);
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_barrier(%d) while other cores wait in "
              "kan_nmc_barrier(%d)",
              nmcores, n);
  }
  gen = b->bar_gen;
  b->bar_arrived |= 1u << c->index;
  if (++b->bar_count == nmcores) {
    b->bar_count = 0;
    b->bar_arrived = 0;
    b->bar_gen++;
    b->stats.barriers++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return;
  }
  c->where = "kan_nmc_barrier";
  while (b->bar_gen == gen) {
    check_peer(c, "kan_nmc_barrier");
    if (chip_wait(b, &dl) && b->bar_gen == gen) {
      unsigned arrived = b->bar_arrived;
      char list[128];
      int k, n = 0;
      list[0] = 0;
      for (k = 0; k < nmcores; ++k)
        if (!(arrived & (1u << k)))
          n += snprintf(list + n, sizeof list - (size_t)n, " %d", k);
      pthread_mutex_unlock(&b->mu);
      core_fail(c, KAN_NMC_EXIT_TIMEOUT,
                "kan_nmc_barrier(%d) timed out after %u ms; cores that never "
                "arrived:%s",
                nmcores, ms, list);
    }
  }
  c->where = "running";
  pthread_mutex_unlock(&b->mu);
}

void kan_nmc_ddr_acquire(void) {
  emu_core *c = self_or_die("kan_nmc_ddr_acquire");
  struct PL_Board *b = c->chip;
  struct timespec dl;
  unsigned ms = g_core_timeout_ms;
  if (c->ddr_held)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_ddr_acquire: this core already holds a DDR permit");
  deadline_after(&dl, ms);
  pthread_mutex_lock(&b->mu);
  check_peer(c, "kan_nmc_ddr_acquire");
  c->where = "kan_nmc_ddr_acquire";
  while (b->sem_count >= b->sem_limit) {
    int late;
    check_peer(c, "kan_nmc_ddr_acquire");
    b->sem_waiters++;
    late = chip_wait(b, &dl);
    b->sem_waiters--;
    if (late && b->sem_count >= b->sem_limit) {
      unsigned lim = b->sem_limit;
      pthread_mutex_unlock(&b->mu);
      core_fail(c, KAN_NMC_EXIT_TIMEOUT,
                "kan_nmc_ddr_acquire timed out after %u ms: all %u permits "
                "stay held",
                ms, lim);
    }
  }
  b->sem_count++;
  c->ddr_held = 1;
  c->where = "running";
  stream_begin(c, "kan_nmc_ddr_acquire");
  pthread_mutex_unlock(&b->mu);
}

void kan_nmc_ddr_release(void) {
  emu_core *c = self_or_die("kan_nmc_ddr_release");
  struct PL_Board *b = c->chip;
  if (!c->ddr_held)
    core_fail(c, KAN_NMC_EXIT_USAGE,
              "kan_nmc_ddr_release without kan_nmc_ddr_acquire");
  pthread_mutex_lock(&b->mu);
  b->sem_count--;
  b->streams--;
  c->ddr_held = 0;
  /* Cores in barriers and host syncs share the condition: wake them only
   * when a core waits for this permit. */
  if (b->sem_waiters)
    pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

void kan_nmc_emu_spin_pause(void) { sched_yield(); }

/*===--- emulation controls (kan_nmc_emu.h) -------------------------------===*/

int kan_nmc_emu_get_stats(unsigned chip, kan_nmc_emu_stats *out) {
  ensure_init();
  if (chip >= g_nchips || !out)
    return -1;
  pthread_mutex_lock(&g_chips[chip].mu);
  *out = g_chips[chip].stats;
  pthread_mutex_unlock(&g_chips[chip].mu);
  return 0;
}

void kan_nmc_emu_reset_stats(void) {
  unsigned i;
  ensure_init();
  for (i = 0; i < KAN_NMC_MAX_CHIPS; ++i) {
    pthread_mutex_lock(&g_chips[i].mu);
    memset(&g_chips[i].stats, 0, sizeof g_chips[i].stats);
    pthread_mutex_unlock(&g_chips[i].mu);
  }
}

void kan_nmc_emu_set_core_timeout(unsigned ms) {
  ensure_init();
  g_core_timeout_ms = ms ? ms : g_default_timeout_ms;
}

void kan_nmc_emu_set_ddr_cap(unsigned cap) {
  ensure_init();
  g_ddr_cap = cap >= 1u && cap <= KAN_NMC_CHIP_CORES
                  ? cap
                  : env_unsigned("KAN_NMC_DDR_CAP", KAN_NMC_DDR_STREAMS_DEFAULT,
                                 1, KAN_NMC_CHIP_CORES);
}

unsigned kan_nmc_emu_ddr_cap(void) {
  ensure_init();
  return g_ddr_cap;
}

unsigned kan_nmc_emu_ddr_words(void) {
  ensure_init();
  return g_ddr_words;
}

unsigned kan_nmc_emu_running_cores(void) {
  unsigned i, k, n = 0;
  ensure_init();
  for (i = 0; i < KAN_NMC_MAX_CHIPS; ++i) {
    pthread_mutex_lock(&g_chips[i].mu);
    for (k = 0; k < KAN_NMC_CHIP_CORES; ++k)
      n += (unsigned)g_chips[i].cores[k].running;
    pthread_mutex_unlock(&g_chips[i].mu);
  }
  return n;
}
