/*===- kan_nmc_probe_host.c - host side of the NM Quad board probe -------===*
 *
 * Loads kan_nmc_probe_core.c's program on the cores of every chip in turn
 * (--chips: all the host API reports), checks on each what the runtime
 * assumes about the board (the DDR base, the word order of doubles, the
 * emitted kernel's .retrive walking order and multiply-add rounding against
 * the C path) and times the kernel, scalar (software) fp64 and DDR-to-bank
 * copies with 1, 4, 8 and 16 cores active. Writes the calibration file
 * `kan-translate --target=nmquad --report --calibration` reads: a check
 * holds only if it holds on every chip, a time is the slowest chip's (a
 * data-parallel step waits for it), and `per_chip` keeps each chip's. Times are host wall-clock round trips (PL_Sync out and back) less
 * an empty round trip, so they hold on a board and under emulation alike;
 * built with KAN_NMC_HOST_EMU they are emulation figures, and the file
 * says so.
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kan_nmc_host.h"
#include "kan_nmc_probe.h"
#include "nm_quad_load.h"

#ifdef KAN_NMC_HOST_EMU
#define PROBE_MEASURED_ON "host-emulation"
#else
#define PROBE_MEASURED_ON "board"
#endif

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != PL_OK) {                                                        \
      fprintf(stderr, "probe_host: %s failed with %d (line %d)\n", #call, rc_, \
              __LINE__);                                                       \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static PL_Access *acc[KAN_NMC_CHIP_CORES];
static unsigned ncores = KAN_NMC_CHIP_CORES;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sync_all(int cmd) {
  unsigned k;
  for (k = 0; k < ncores; ++k) {
    int rv = -1;
    CHECK(PL_Sync(acc[k], cmd, &rv));
    if (rv != KAN_PROBE_READY) {
      fprintf(stderr, "probe_host: core %u answered %d\n", k, rv);
      exit(1);
    }
  }
}

/* Seconds from handing out `cmd` to every core being back (the NOP that
 * follows pairs with each core's next sync), best of `tries`. */
static double round_trip(int cmd, int tries) {
  double best = 1e30;
  int t;
  for (t = 0; t < tries; ++t) {
    double t0 = now(), dt;
    sync_all(cmd);
    sync_all(KAN_PROBE_CMD_NOP);
    dt = now() - t0;
    if (dt < best)
      best = dt;
  }
  return best;
}

/* A round trip less the empty one; at least a microsecond, so that work
 * lost in the clock's noise gives a large figure rather than a negative. */
static double net(double t, double nop) {
  return t - nop > 1e-6 ? t - nop : 1e-6;
}

static void write_io(unsigned reps, unsigned active, unsigned emi_ok,
                     unsigned soft_iters) {
  PL_Word io[KAN_PROBE_IO_WORDS];
  memset(io, 0, sizeof io);
  io[KAN_PROBE_IO_REPS] = reps;
  io[KAN_PROBE_IO_ACTIVE] = active;
  io[KAN_PROBE_IO_EMI_OK] = emi_ok;
  io[KAN_PROBE_IO_SOFT_ITERS] = soft_iters;
  CHECK(PL_WriteMemBlock(acc[0], io, KAN_PROBE_IO, KAN_PROBE_IO_WORDS));
}

static double get_double(const PL_Word *w) {
  double d;
  memcpy(&d, w, sizeof d);
  return d;
}

/* Whether the core read the host's pattern and the host reads the core's
 * complement back. */
static int pattern_ok(const PL_Word *back) {
  unsigned i;
  for (i = 0; i < KAN_PROBE_PATTERN_WORDS; ++i)
    if (back[KAN_PROBE_PATTERN_WORDS + i] != ~back[i])
      return 0;
  return 1;
}

static void pattern(PL_Word *w, PL_Word seed) {
  unsigned i;
  for (i = 0; i < KAN_PROBE_PATTERN_WORDS; ++i)
    w[i] = seed ^ (i * 0x9E3779B9u);
  for (i = 0; i < KAN_PROBE_PATTERN_WORDS; ++i)
    w[KAN_PROBE_PATTERN_WORDS + i] = 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: probe_host [--chips C] [--cores K] [--program probe_core.abs]\n"
          "  [--out calibration.json] [--clock-ghz G] [--ddr-streams S]\n"
          "  [--kernel-reps R] [--soft-iters N] [--ddr-reps R]\n"
          "Checks every chip of the board (--chips: the first C, default all)\n"
          "against the NM Quad runtime's assumptions and writes the\n"
          "calibration file kan-translate --report reads.\n");
  exit(2);
}

static unsigned parse_count(const char *opt, const char *v, unsigned lo,
                            unsigned hi) {
  char *end = NULL;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || n < lo || n > hi) {
    fprintf(stderr, "probe_host: %s %s: want an integer in [%u, %u]\n", opt, v,
            lo, hi);
    exit(2);
  }
  return (unsigned)n;
}

static const unsigned actives[4] = {1, 4, 8, 16};

/* What one chip's probe found. */
typedef struct chip_result {
  PL_Word res[KAN_PROBE_RES_WORDS];
  int ddr_ok, emi_ok, emi_echo;
  double nop, t_kernel, t_soft, t_ddr[4];
  const char *order;
} chip_result;

static const char *double_order(const PL_Word *res) {
  if (res[KAN_PROBE_RES_CORE_DOUBLE] == 0u &&
      res[KAN_PROBE_RES_CORE_DOUBLE + 1] == 0x3FE80000u)
    return "low-word-first";
  if (res[KAN_PROBE_RES_CORE_DOUBLE] == 0x3FE80000u &&
      res[KAN_PROBE_RES_CORE_DOUBLE + 1] == 0u)
    return "high-word-first";
  return "unknown";
}

/* Loads the probe on `ncores` cores of chip `chip`, runs every round and
 * stops the cores. */
static void probe_chip(unsigned chip, const char *program, unsigned streams,
                       unsigned kernel_reps, unsigned soft_iters,
                       unsigned ddr_reps, chip_result *r) {
  PL_Board *board;
  PL_Word pat[2 * KAN_PROBE_PATTERN_WORDS], emi[2 * KAN_PROBE_PATTERN_WORDS];
  PL_Word dw[2];
  PL_Word *stream;
  double one_half = 1.5;
  unsigned k, i;
  memset(r, 0, sizeof *r);
  CHECK(PL_GetBoardDesc(chip, &board));
  CHECK(PL_ResetBoard(board));
  CHECK(PL_LoadInitCode(board));
  for (k = 0; k < ncores; ++k) {
    PL_CoreNo no = kan_nmc_host_core_no((int)k);
    CHECK(PL_GetAccess(board, &no, &acc[k]));
  }
  CHECK(kan_nmc_host_init_chip(acc[0], streams));

  /* The runtime's DDR base and the EMI base of the vendor's linker script
   * (docs/NEUROMATRIX.md); the host API may refuse the second. */
  pattern(pat, 0xA5C30000u);
  CHECK(PL_WriteMemBlock(acc[0], pat, KAN_PROBE_PATTERN, 2 * KAN_PROBE_PATTERN_WORDS));
  pattern(emi, 0x3CA50000u);
  fprintf(stderr, "probe_host: chip %u: writing the EMI base candidate 0x%08x "
                  "(an error from the host API here is a result)\n",
          chip, (unsigned)KAN_PROBE_EMI_PATTERN);
  r->emi_ok = PL_WriteMemBlock(acc[0], emi, KAN_PROBE_EMI_PATTERN,
                               2 * KAN_PROBE_PATTERN_WORDS) == PL_OK;
  memcpy(dw, &one_half, sizeof dw);
  CHECK(PL_WriteMemBlock(acc[0], dw, KAN_PROBE_DOUBLE, 2));
  stream = (PL_Word *)malloc(sizeof(PL_Word) * KAN_PROBE_STREAM_WORDS);
  if (!stream) {
    fprintf(stderr, "probe_host: out of memory\n");
    exit(1);
  }
  for (k = 0; k < ncores; ++k) {
    for (i = 0; i < KAN_PROBE_STREAM_WORDS; ++i)
      stream[i] = k * 0x10000u + i;
    CHECK(PL_WriteMemBlock(acc[0], stream,
                           KAN_PROBE_STREAM + k * KAN_PROBE_STREAM_WORDS,
                           KAN_PROBE_STREAM_WORDS));
  }
  free(stream);
  write_io(kernel_reps, 0, (unsigned)r->emi_ok, soft_iters);
  for (k = 0; k < ncores; ++k)
    CHECK(PL_LoadProgramFile(acc[k], program));

  r->nop = round_trip(KAN_PROBE_CMD_NOP, 5);
  round_trip(KAN_PROBE_CMD_CHECKS, 1);
  CHECK(PL_ReadMemBlock(acc[0], r->res, KAN_PROBE_RES, KAN_PROBE_RES_WORDS));
  CHECK(PL_ReadMemBlock(acc[0], pat, KAN_PROBE_PATTERN, 2 * KAN_PROBE_PATTERN_WORDS));
  r->ddr_ok = pattern_ok(pat);
  if (r->emi_ok) {
    CHECK(PL_ReadMemBlock(acc[0], emi, KAN_PROBE_EMI_PATTERN,
                          2 * KAN_PROBE_PATTERN_WORDS));
    r->emi_echo = pattern_ok(emi);
  }
  r->t_kernel = net(round_trip(KAN_PROBE_CMD_KERNEL, 3), r->nop);
  r->t_soft = net(round_trip(KAN_PROBE_CMD_SOFT, 3), r->nop);
  for (i = 0; i < 4; ++i) {
    if (actives[i] > ncores)
      continue;
    write_io(ddr_reps, actives[i], (unsigned)r->emi_ok, soft_iters);
    r->t_ddr[i] = net(round_trip(KAN_PROBE_CMD_DDR, 3), r->nop);
  }
  for (k = 0; k < ncores; ++k) {
    PL_Word status = 0, result = 1;
    int rv = -1, spins = 0;
    CHECK(PL_Sync(acc[k], KAN_PROBE_CMD_EXIT, &rv));
    for (;;) {
      struct timespec ms = {0, 1000000L};
      CHECK(PL_GetStatus(acc[k], &status));
      if (status != PROGRAM_PROGRESS || ++spins > 20000)
        break;
      nanosleep(&ms, NULL);
    }
    CHECK(PL_GetResult(acc[k], &result));
    if (status != PROGRAM_FINISHED || result != 0) {
      fprintf(stderr, "probe_host: chip %u core %u status %u result 0x%x\n",
              chip, k, status, result);
      exit(1);
    }
    CHECK(PL_CloseAccess(acc[k]));
  }
  CHECK(PL_CloseBoardDesc(board));
  r->order = double_order(r->res);
}

static double max2(double a, double b) { return a > b ? a : b; }

/* "0, 2" for the chips where bad[c] is set. */
static const char *chip_list(const int *bad, unsigned nchips, char *buf) {
  unsigned c;
  buf[0] = 0;
  for (c = 0; c < nchips; ++c)
    if (bad[c])
      sprintf(buf + strlen(buf), "%s%u", buf[0] ? ", " : "", c);
  return buf;
}

int main(int argc, char **argv) {
  const char *program = "probe_core.abs", *out = "calibration.json";
  unsigned count = 0, nchips = 0, streams = KAN_NMC_DDR_STREAMS_DEFAULT;
  unsigned kernel_reps = 100, soft_iters = 1000000, ddr_reps = 1024;
  unsigned c, i, mismatches = 0, first = 0, first_chip = 0;
  double clock_ghz = 1.0, nop = 0, t_kernel = 0, t_soft = 0, t_ddr[4];
  static chip_result chip[KAN_NMC_MAX_CHIPS];
  int bad_ddr[KAN_NMC_MAX_CHIPS], bad_kernel[KAN_NMC_MAX_CHIPS];
  int ddr_ok = 1, emi_ok = 1, emi_echo = 1, fma_same = 1;
  double fma_k, fma_c;
  const char *order, *fma;
  char list[64];
  FILE *f;
  for (i = 1; i < (unsigned)argc; ++i) {
    const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    if (!strcmp(a, "--chips"))
      nchips = parse_count(a, v, 1, KAN_NMC_MAX_CHIPS);
    else if (!strcmp(a, "--cores"))
      ncores = parse_count(a, v, 1, KAN_NMC_CHIP_CORES);
    else if (!strcmp(a, "--program"))
      program = v;
    else if (!strcmp(a, "--out"))
      out = v;
    else if (!strcmp(a, "--clock-ghz")) {
      char *end = NULL;
      clock_ghz = strtod(v, &end);
      if (*end || !(clock_ghz > 0.0 && clock_ghz < 100.0)) {
        fprintf(stderr, "probe_host: --clock-ghz %s: want a frequency in GHz\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--ddr-streams"))
      streams = parse_count(a, v, 1, KAN_NMC_CHIP_CORES);
    else if (!strcmp(a, "--kernel-reps"))
      kernel_reps = parse_count(a, v, 1, 100000000);
    else if (!strcmp(a, "--soft-iters"))
      soft_iters = parse_count(a, v, 1, 1000000000);
    else if (!strcmp(a, "--ddr-reps"))
      ddr_reps = parse_count(a, v, 1, 100000000);
    else
      usage();
    ++i;
  }
  CHECK(PL_GetBoardCount(&count));
  if (count < 1) {
    fprintf(stderr, "probe_host: no board\n");
    return 1;
  }
  if (count > KAN_NMC_MAX_CHIPS)
    count = KAN_NMC_MAX_CHIPS;
  if (!nchips)
    nchips = count;
  if (nchips > count) {
    fprintf(stderr, "probe_host: --chips %u: the host API sees %u chip(s)\n",
            nchips, count);
    return 2;
  }
  CHECK(PL_SetTimeout(600000));
  for (c = 0; c < nchips; ++c)
    probe_chip(c, program, streams, kernel_reps, soft_iters, ddr_reps, &chip[c]);

  /* Every check on every chip; the slowest chip's times. */
  for (i = 0; i < 4; ++i)
    t_ddr[i] = 0;
  order = chip[0].order;
  for (c = 0; c < nchips; ++c) {
    const chip_result *r = &chip[c];
    unsigned bad = r->res[KAN_PROBE_RES_MISMATCHES];
    bad_ddr[c] = !r->ddr_ok;
    bad_kernel[c] = bad != 0;
    ddr_ok &= r->ddr_ok;
    emi_ok &= r->emi_ok;
    emi_echo &= r->emi_echo;
    if (bad && !mismatches)
      first = r->res[KAN_PROBE_RES_FIRST_BAD], first_chip = c;
    mismatches += bad;
    if (strcmp(r->order, order))
      order = "differs between chips";
    fma_same &= get_double(r->res + KAN_PROBE_RES_FMA_KERNEL) ==
                get_double(chip[0].res + KAN_PROBE_RES_FMA_KERNEL);
    nop = max2(nop, r->nop);
    t_kernel = max2(t_kernel, r->t_kernel);
    t_soft = max2(t_soft, r->t_soft);
    for (i = 0; i < 4; ++i)
      t_ddr[i] = max2(t_ddr[i], r->t_ddr[i]);
  }
  fma_k = get_double(chip[0].res + KAN_PROBE_RES_FMA_KERNEL);
  fma_c = get_double(chip[0].res + KAN_PROBE_RES_FMA_C);
  /* -2^-60 when the product is not rounded before the sum. */
  fma = !fma_same ? "differs between chips"
        : fma_k == 0.0                                ? "separate"
        : fma_k == -1.0 / 1152921504606846976.0       ? "fused"
                                                      : "unknown";

  f = fopen(out, "w");
  if (!f) {
    fprintf(stderr, "probe_host: cannot write %s\n", out);
    return 1;
  }
  fprintf(f, "{\n  \"format\": \"kan-nmquad-calibration\",\n  \"version\": 1,\n");
  fprintf(f, "  \"measured_on\": \"%s\",\n", PROBE_MEASURED_ON);
#ifdef KAN_NMC_HOST_EMU
  fprintf(f, "  \"note\": \"host emulation: the times are of this machine "
             "running the emulation and the simulator, not of a board\",\n");
#else
  fprintf(f, "  \"note\": \"board: host wall-clock round trips less an empty "
             "one; cycles at clock_ghz; checks of every chip, times of the "
             "slowest\",\n");
#endif
  fprintf(f, "  \"clock_ghz\": %.17g,\n  \"chips\": %u,\n  \"cores\": %u,\n"
             "  \"ddr_streams\": %u,\n",
          clock_ghz, nchips, ncores, streams);
  fprintf(f, "  \"sync_round_trip_seconds\": %.9g,\n", nop);
  fprintf(f, "  \"ddr_base\": {\"address\": %u, \"visible\": %s},\n",
          (unsigned)KAN_NMC_DDR_BASE, ddr_ok ? "true" : "false");
  fprintf(f, "  \"emi_base\": {\"address\": %u, \"host_write\": %s, "
             "\"visible\": %s},\n",
          (unsigned)KAN_NMC_EMI_BASE, emi_ok ? "true" : "false",
          emi_ok && emi_echo ? "true" : "false");
  fprintf(f, "  \"double_word_order\": {\"order\": \"%s\", "
             "\"core_reads_host_doubles\": %s, \"core_words\": [%u, %u]},\n",
          order,
          get_double(chip[0].res + KAN_PROBE_RES_READ_DOUBLE) == 3.0 ? "true" : "false",
          (unsigned)chip[0].res[KAN_PROBE_RES_CORE_DOUBLE],
          (unsigned)chip[0].res[KAN_PROBE_RES_CORE_DOUBLE + 1]);
  fprintf(f, "  \"kernel\": {\"symbol\": \"kan_nmc_gemm_tile_f64_%dx32\", "
             "\"m\": %d, \"n\": %d, \"kk\": %d, \"calls\": %u,\n"
             "    \"seconds\": %.9g, \"seconds_per_call\": %.9g, \"cycles_per_call\": %.9g,\n"
             "    \"retrive_order_ok\": %s, \"mismatches\": %u",
          KAN_PROBE_M, KAN_PROBE_M, KAN_PROBE_N, KAN_PROBE_KK, kernel_reps,
          t_kernel, t_kernel / kernel_reps, t_kernel / kernel_reps * clock_ghz * 1e9,
          mismatches ? "false" : "true", mismatches);
  if (mismatches)
    fprintf(f, ", \"first_mismatch\": {\"chip\": %u, \"row\": %u, \"col\": %u, "
               "\"got\": %.17g, \"want\": %.17g}",
            first_chip, first / KAN_PROBE_N, first % KAN_PROBE_N,
            get_double(chip[first_chip].res + KAN_PROBE_RES_BAD_GOT),
            get_double(chip[first_chip].res + KAN_PROBE_RES_BAD_WANT));
  fprintf(f, "},\n");
  fprintf(f, "  \"fma\": {\"kernel\": \"%s\", \"kernel_value\": %.17g, "
             "\"c_path_value\": %.17g, \"same_as_c_path\": %s},\n",
          fma, fma_k, fma_c, fma_same && fma_k == fma_c ? "true" : "false");
  fprintf(f, "  \"soft_float\": {\"ops\": %u, \"seconds\": %.9g, "
             "\"seconds_per_op\": %.9g, \"cycles_per_op\": %.9g},\n",
          2u * soft_iters, t_soft, t_soft / (2.0 * soft_iters),
          t_soft / (2.0 * soft_iters) * clock_ghz * 1e9);
  fprintf(f, "  \"ddr_read\": [");
  for (i = 0; i < 4; ++i) {
    double words = (double)ddr_reps * KAN_PROBE_STREAM_WORDS;
    if (actives[i] > ncores)
      continue;
    fprintf(f, "%s\n    {\"active_cores\": %u, \"seconds\": %.9g, "
               "\"bytes_per_second_per_core\": %.9g, \"cycles_per_word\": %.9g, "
               "\"below_noise\": %s}",
            i ? "," : "", actives[i], t_ddr[i], 4.0 * words / t_ddr[i],
            t_ddr[i] * clock_ghz * 1e9 / words,
            /* the copies took less than the round trips' noise: the
             * figure is the 1 us floor of net(), a bound only */
            t_ddr[i] <= 1e-6 ? "true" : "false");
  }
  fprintf(f, "\n  ],\n  \"per_chip\": [");
  for (c = 0; c < nchips; ++c) {
    const chip_result *r = &chip[c];
    double words = (double)ddr_reps * KAN_PROBE_STREAM_WORDS;
    fprintf(f, "%s\n    {\"chip\": %u, \"ddr_visible\": %s, "
               "\"retrive_order_ok\": %s, \"mismatches\": %u, "
               "\"double_word_order\": \"%s\", \"sync_round_trip_seconds\": %.9g, "
               "\"kernel_cycles_per_call\": %.9g, \"soft_cycles_per_op\": %.9g, "
               "\"ddr_cycles_per_word\": [",
            c ? "," : "", c, r->ddr_ok ? "true" : "false",
            r->res[KAN_PROBE_RES_MISMATCHES] ? "false" : "true",
            (unsigned)r->res[KAN_PROBE_RES_MISMATCHES], r->order, r->nop,
            r->t_kernel / kernel_reps * clock_ghz * 1e9,
            r->t_soft / (2.0 * soft_iters) * clock_ghz * 1e9);
    for (i = 0; i < 4 && actives[i] <= ncores; ++i)
      fprintf(f, "%s%.9g", i ? ", " : "", r->t_ddr[i] * clock_ghz * 1e9 / words);
    fprintf(f, "]}");
  }
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) != 0) {
    fprintf(stderr, "probe_host: cannot write %s\n", out);
    return 1;
  }
  printf("probe_host (%s, %u chip(s)): DDR base 0x%08x %s; EMI 0x%08x %s; "
         "doubles %s; kernel %dx32 kk=%d %s",
         PROBE_MEASURED_ON, nchips, (unsigned)KAN_NMC_DDR_BASE,
         ddr_ok ? "shared" : "NOT shared", (unsigned)KAN_NMC_EMI_BASE,
         !emi_ok ? "refused by the host API" : emi_echo ? "shared" : "NOT shared",
         order, KAN_PROBE_M, KAN_PROBE_KK,
         mismatches ? "DIFFERS from the C path" : "matches the C path");
  if (mismatches)
    printf(" on chip(s) %s", chip_list(bad_kernel, nchips, list));
  printf(", multiply-add %s; -> %s\n", fma, out);
  if (!ddr_ok)
    printf("probe_host: DDR base NOT shared on chip(s) %s\n",
           chip_list(bad_ddr, nchips, list));
  return 0;
}
