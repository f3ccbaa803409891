/*===- kan_nmc_probe_host.c - host side of the NM Quad board probe -------===*
 *
 * Loads kan_nmc_probe_core.c's program on the cores of chip 0, checks what
 * the runtime assumes about the board (the DDR base, the word order of
 * doubles, the emitted kernel's .retrive walking order and multiply-add
 * rounding against the C path) and times the kernel, scalar (software)
 * fp64 and DDR-to-bank copies with 1, 4, 8 and 16 cores active. Writes the
 * calibration file `kan-translate --target=nmquad --report --calibration`
 * reads. Times are host wall-clock round trips (PL_Sync out and back) less
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
          "usage: probe_host [--cores K] [--program probe_core.abs]\n"
          "  [--out calibration.json] [--clock-ghz G] [--ddr-streams S]\n"
          "  [--kernel-reps R] [--soft-iters N] [--ddr-reps R]\n"
          "Checks the board against the NM Quad runtime's assumptions and\n"
          "writes the calibration file kan-translate --report reads.\n");
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

int main(int argc, char **argv) {
  const char *program = "probe_core.abs", *out = "calibration.json";
  unsigned count = 0, streams = KAN_NMC_DDR_STREAMS_DEFAULT;
  unsigned kernel_reps = 100, soft_iters = 1000000, ddr_reps = 1024;
  unsigned k, i, emi_ok, emi_echo = 0, mismatches, first;
  double clock_ghz = 1.0, nop, t_kernel, t_soft, t_ddr[4];
  static const unsigned actives[4] = {1, 4, 8, 16};
  PL_Board *board;
  PL_Word pat[2 * KAN_PROBE_PATTERN_WORDS], emi[2 * KAN_PROBE_PATTERN_WORDS];
  PL_Word res[KAN_PROBE_RES_WORDS], dw[2];
  PL_Word *stream;
  double one_half = 1.5, fma_k, fma_c;
  const char *order, *fma;
  FILE *f;
  for (i = 1; i < (unsigned)argc; ++i) {
    const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    if (!strcmp(a, "--cores"))
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
  CHECK(PL_SetTimeout(600000));
  CHECK(PL_GetBoardDesc(0, &board));
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
  fprintf(stderr, "probe_host: writing the EMI base candidate 0x%08x "
                  "(an error from the host API here is a result)\n",
          (unsigned)KAN_PROBE_EMI_PATTERN);
  emi_ok = PL_WriteMemBlock(acc[0], emi, KAN_PROBE_EMI_PATTERN,
                            2 * KAN_PROBE_PATTERN_WORDS) == PL_OK;
  memcpy(dw, &one_half, sizeof dw);
  CHECK(PL_WriteMemBlock(acc[0], dw, KAN_PROBE_DOUBLE, 2));
  stream = (PL_Word *)malloc(sizeof(PL_Word) * KAN_PROBE_STREAM_WORDS);
  if (!stream)
    return 1;
  for (k = 0; k < ncores; ++k) {
    for (i = 0; i < KAN_PROBE_STREAM_WORDS; ++i)
      stream[i] = k * 0x10000u + i;
    CHECK(PL_WriteMemBlock(acc[0], stream,
                           KAN_PROBE_STREAM + k * KAN_PROBE_STREAM_WORDS,
                           KAN_PROBE_STREAM_WORDS));
  }
  free(stream);
  write_io(kernel_reps, 0, emi_ok, soft_iters);
  for (k = 0; k < ncores; ++k)
    CHECK(PL_LoadProgramFile(acc[k], program));

  nop = round_trip(KAN_PROBE_CMD_NOP, 5);
  round_trip(KAN_PROBE_CMD_CHECKS, 1);
  CHECK(PL_ReadMemBlock(acc[0], res, KAN_PROBE_RES, KAN_PROBE_RES_WORDS));
  CHECK(PL_ReadMemBlock(acc[0], pat, KAN_PROBE_PATTERN, 2 * KAN_PROBE_PATTERN_WORDS));
  if (emi_ok) {
    CHECK(PL_ReadMemBlock(acc[0], emi, KAN_PROBE_EMI_PATTERN,
                          2 * KAN_PROBE_PATTERN_WORDS));
    emi_echo = pattern_ok(emi);
  }
  t_kernel = net(round_trip(KAN_PROBE_CMD_KERNEL, 3), nop);
  t_soft = net(round_trip(KAN_PROBE_CMD_SOFT, 3), nop);
  write_io(ddr_reps, 0, emi_ok, soft_iters);
  for (i = 0; i < 4; ++i) {
    t_ddr[i] = 0;
    if (actives[i] > ncores)
      continue;
    write_io(ddr_reps, actives[i], emi_ok, soft_iters);
    t_ddr[i] = net(round_trip(KAN_PROBE_CMD_DDR, 3), nop);
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
      fprintf(stderr, "probe_host: core %u status %u result 0x%x\n", k, status,
              result);
      return 1;
    }
    CHECK(PL_CloseAccess(acc[k]));
  }
  CHECK(PL_CloseBoardDesc(board));

  if (res[KAN_PROBE_RES_CORE_DOUBLE] == 0u &&
      res[KAN_PROBE_RES_CORE_DOUBLE + 1] == 0x3FE80000u)
    order = "low-word-first";
  else if (res[KAN_PROBE_RES_CORE_DOUBLE] == 0x3FE80000u &&
           res[KAN_PROBE_RES_CORE_DOUBLE + 1] == 0u)
    order = "high-word-first";
  else
    order = "unknown";
  mismatches = res[KAN_PROBE_RES_MISMATCHES];
  first = res[KAN_PROBE_RES_FIRST_BAD];
  fma_k = get_double(res + KAN_PROBE_RES_FMA_KERNEL);
  fma_c = get_double(res + KAN_PROBE_RES_FMA_C);
  /* -2^-60 when the product is not rounded before the sum. */
  fma = fma_k == 0.0 ? "separate" : fma_k == -1.0 / 1152921504606846976.0
                                        ? "fused"
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
             "one; cycles at clock_ghz\",\n");
#endif
  fprintf(f, "  \"clock_ghz\": %.17g,\n  \"cores\": %u,\n  \"ddr_streams\": %u,\n",
          clock_ghz, ncores, streams);
  fprintf(f, "  \"sync_round_trip_seconds\": %.9g,\n", nop);
  fprintf(f, "  \"ddr_base\": {\"address\": %u, \"visible\": %s},\n",
          (unsigned)KAN_NMC_DDR_BASE, pattern_ok(pat) ? "true" : "false");
  fprintf(f, "  \"emi_base\": {\"address\": %u, \"host_write\": %s, "
             "\"visible\": %s},\n",
          (unsigned)KAN_NMC_EMI_BASE, emi_ok ? "true" : "false",
          emi_echo ? "true" : "false");
  fprintf(f, "  \"double_word_order\": {\"order\": \"%s\", "
             "\"core_reads_host_doubles\": %s, \"core_words\": [%u, %u]},\n",
          order, get_double(res + KAN_PROBE_RES_READ_DOUBLE) == 3.0 ? "true" : "false",
          (unsigned)res[KAN_PROBE_RES_CORE_DOUBLE],
          (unsigned)res[KAN_PROBE_RES_CORE_DOUBLE + 1]);
  fprintf(f, "  \"kernel\": {\"symbol\": \"kan_nmc_gemm_tile_f64_%dx32\", "
             "\"m\": %d, \"n\": %d, \"kk\": %d, \"calls\": %u,\n"
             "    \"seconds\": %.9g, \"seconds_per_call\": %.9g, \"cycles_per_call\": %.9g,\n"
             "    \"retrive_order_ok\": %s, \"mismatches\": %u",
          KAN_PROBE_M, KAN_PROBE_M, KAN_PROBE_N, KAN_PROBE_KK, kernel_reps,
          t_kernel, t_kernel / kernel_reps, t_kernel / kernel_reps * clock_ghz * 1e9,
          mismatches ? "false" : "true", mismatches);
  if (mismatches)
    fprintf(f, ", \"first_mismatch\": {\"row\": %u, \"col\": %u, \"got\": %.17g, "
               "\"want\": %.17g}",
            first / KAN_PROBE_N, first % KAN_PROBE_N,
            get_double(res + KAN_PROBE_RES_BAD_GOT),
            get_double(res + KAN_PROBE_RES_BAD_WANT));
  fprintf(f, "},\n");
  fprintf(f, "  \"fma\": {\"kernel\": \"%s\", \"kernel_value\": %.17g, "
             "\"c_path_value\": %.17g, \"same_as_c_path\": %s},\n",
          fma, fma_k, fma_c, fma_k == fma_c ? "true" : "false");
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
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) != 0) {
    fprintf(stderr, "probe_host: cannot write %s\n", out);
    return 1;
  }
  printf("probe_host (%s): DDR base 0x%08x %s; EMI 0x%08x %s; doubles %s; "
         "kernel %dx32 kk=%d %s, multiply-add %s; -> %s\n",
         PROBE_MEASURED_ON, (unsigned)KAN_NMC_DDR_BASE,
         pattern_ok(pat) ? "shared" : "NOT shared", (unsigned)KAN_NMC_EMI_BASE,
         !emi_ok ? "refused by the host API" : emi_echo ? "shared" : "NOT shared",
         order, KAN_PROBE_M, KAN_PROBE_KK,
         mismatches ? "DIFFERS from the C path" : "matches the C path", fma, out);
  return 0;
}
