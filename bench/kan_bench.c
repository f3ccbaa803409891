/* kan_bench.c - times code emitted by kan-translate --target=cpu.
 *
 * Compiled once per emitted model (the model's header fixes T, the parameter
 * list and, with --train-step, KAN_DIRECTIONS):
 *   cc -std=c99 -O3 -march=native -I<repo>/runtime/include -IDIR \
 *      DIR/kan_model.c bench/kan_bench.c libkanrt.a -lm -lz
 *
 * Usage: kan_bench --mode forward|train --batch N --widths 784,64,10
 *                  [--grid-size 5] [--order 3] [--reps R] [--memory]
 *                  [--bench NAME] [--rule ternary|fg|activity] [--density D]
 *
 * The rule is the one the model was emitted with (kan-translate --train-step
 * --rule R; every rule's step has the same C ABI); --rule and --density only
 * label the JSON line.
 *
 * Prints one JSON line: impl, bench, widths, batch, dtype, ndir, median_ms,
 * median_cpu_ms (process CPU time: less sensitive to other jobs on a shared
 * machine), gflops_dense_equiv, peak_rss_mb, baseline_rss_mb, data_mb, reps,
 * threads (OpenMP threads of the emitted row-tile loops when built with
 * -fopenmp, else 1) and kernels (the runtime's kernel level). OpenMP builds
 * add thread_cpu_ms: each OpenMP thread's CPU time per call (median call
 * count, CLOCK_THREAD_CPUTIME_ID summed over the timed calls / reps), busiest
 * first. With OMP_WAIT_POLICY=passive (no spinning at the barriers) the
 * busiest thread's share is the wall time the call would take if every
 * thread had a core to itself, whatever else runs on the machine.
 * Timed runs: one warm-up, then the median of R repetitions. --memory: a
 * single cold run (no warm-up) so VmHWM is the peak of exactly one call in
 * this fresh process; baseline_rss_mb is VmRSS just before that call, with
 * inputs, outputs and parameters allocated and touched; data_mb is the size
 * of those buffers.
 * Dense-equivalent flops (same definitions as bench/torch/peer_bench.py):
 *   forward F = sum over layers 2*N*O*I*(G+k+1); train step F*(1+2n).
 */
#define _POSIX_C_SOURCE 200809L
#include "kan_model.h"

#include <kanrt/kanrt.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define P KAN_NUM_PARAMS
#define MAXL 16

static double status_mb(const char *field) {
  char line[256];
  size_t len = strlen(field);
  double kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, len) && line[len] == ':') {
      kb = strtod(line + len + 1, NULL);
      break;
    }
  fclose(f);
  return kb < 0 ? -1 : kb / 1024.0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform(void) { /* xorshift64*, in [0, 1) */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static void usage(void) {
  fprintf(stderr, "usage: kan_bench --mode forward|train --batch N --widths I,H,..,O "
                  "[--grid-size G] [--order k] [--reps R] [--memory] [--bench NAME] "
                  "[--rule R] [--density D]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *mode = NULL, *widths_s = NULL, *bench = NULL, *rule = NULL;
  long long batch = 0;
  int G = 5, K = 3, reps = 5, memory = 0, nl = 0, a, i;
  long long widths[MAXL];
  double density = -1;
  for (a = 1; a < argc; ++a) {
    const char *opt = argv[a];
    if (!strcmp(opt, "--memory")) { memory = 1; continue; }
    if (a + 1 >= argc) usage();
    if (!strcmp(opt, "--mode")) mode = argv[++a];
    else if (!strcmp(opt, "--batch")) batch = atoll(argv[++a]);
    else if (!strcmp(opt, "--widths")) widths_s = argv[++a];
    else if (!strcmp(opt, "--grid-size")) G = atoi(argv[++a]);
    else if (!strcmp(opt, "--order")) K = atoi(argv[++a]);
    else if (!strcmp(opt, "--reps")) reps = atoi(argv[++a]);
    else if (!strcmp(opt, "--bench")) bench = argv[++a];
    else if (!strcmp(opt, "--rule")) rule = argv[++a];
    else if (!strcmp(opt, "--density")) density = atof(argv[++a]);
    else usage();
  }
  if (!mode || !widths_s || batch <= 0 || reps <= 0) usage();
  /* As kan-train and kan-run do: repeated calls reuse freed buffers. */
  kan_keep_freed_memory();
  {
    const char *s = widths_s;
    while (*s && nl < MAXL) {
      char *end;
      widths[nl++] = strtoll(s, &end, 10);
      s = *end == ',' ? end + 1 : end;
    }
  }
  if (nl < 2 || widths[0] != KAN_NUM_INPUTS || widths[nl - 1] != KAN_NUM_OUTPUTS) {
    fprintf(stderr, "kan_bench: --widths does not match the model\n");
    return 2;
  }
  int train = !strcmp(mode, "train");
#ifndef KAN_DIRECTIONS
  if (train) {
    fprintf(stderr, "kan_bench: this model was emitted without --train-step\n");
    return 2;
  }
#endif

  /* Inputs, outputs and parameters (efficient-kan-like initialisation). */
  size_t n = (size_t)batch, data_bytes = 0;
  kan_real *x = malloc(sizeof(kan_real) * n * KAN_NUM_INPUTS);
  kan_real *y = malloc(sizeof(kan_real) * n * KAN_NUM_OUTPUTS);
  int64_t *labels = malloc(sizeof(int64_t) * n);
  kan_real *params[P];
  if (!x || !y || !labels) return 3;
  data_bytes += sizeof(kan_real) * n * (KAN_NUM_INPUTS + KAN_NUM_OUTPUTS);
  for (size_t e = 0; e < n * KAN_NUM_INPUTS; ++e) x[e] = (kan_real)(2 * uniform() - 1);
  memset(y, 0, sizeof(kan_real) * n * KAN_NUM_OUTPUTS);
  for (size_t r = 0; r < n; ++r) labels[r] = (int64_t)(uniform() * KAN_NUM_OUTPUTS);
  if (train) data_bytes += sizeof(int64_t) * n;
  {
    int knots = G + 2 * K + 1;
    double scale = 1;
    for (i = 0; i < P; ++i) {
      size_t numel = (size_t)kan_param_numel[i];
      params[i] = malloc(sizeof(kan_real) * numel);
      if (!params[i]) return 3;
      data_bytes += sizeof(kan_real) * numel;
      if (ends_with(kan_param_names[i], ".grid")) {
        size_t rows = numel / knots, r;
        double h = 2.0 / G;
        int j;
        for (r = 0; r < rows; ++r)
          for (j = 0; j < knots; ++j) params[i][r * knots + j] = (kan_real)(-1 + (j - K) * h);
        scale = 1.0 / sqrt((double)rows); /* the layer's fan-in */
      } else if (ends_with(kan_param_names[i], ".spline_weight")) {
        for (size_t e = 0; e < numel; ++e) params[i][e] = (kan_real)(0.1 * scale * (2 * uniform() - 1));
      } else {
        for (size_t e = 0; e < numel; ++e) params[i][e] = (kan_real)(scale * (2 * uniform() - 1));
      }
    }
  }

  double flops = 0;
  for (i = 0; i + 1 < nl; ++i)
    flops += 2.0 * (double)batch * widths[i + 1] * widths[i] * (G + K + 1);
  int ndir = 0;
#ifdef KAN_DIRECTIONS
  if (train) {
    ndir = KAN_DIRECTIONS;
    flops *= 1 + 2 * ndir;
  }
  kan_real loss, alphas[KAN_DIRECTIONS];
#endif
  int64_t step = 0;
  int status = 0;
#define RUN()                                                                  \
  do {                                                                         \
    if (train) {                                                               \
      TRAIN_CALL;                                                              \
    } else {                                                                   \
      status = kan_forward(x, (int64_t)n, params, y);                          \
    }                                                                          \
    if (status) {                                                              \
      fprintf(stderr, "kan_bench: status %d: %s\n", status, kan_last_error()); \
      return 1;                                                                \
    }                                                                          \
  } while (0)
#ifdef KAN_DIRECTIONS
#define TRAIN_CALL status = kan_train_step(x, labels, (int64_t)n, 1234, step++, params, &loss, alphas)
#else
#define TRAIN_CALL status = 1
#endif

  double base_mb = status_mb("VmRSS"), med;
  double *times = malloc(sizeof(double) * (size_t)reps);
  double *cpu = malloc(sizeof(double) * (size_t)reps), cpu_med;
  if (!times || !cpu) return 3;
  if (!memory) RUN(); /* warm-up */
#ifdef _OPENMP
  /* libgomp keeps one pool: thread t of these regions is thread t of the
     emitted row-tile regions. */
  enum { MAXT = 64 };
  double tcpu0[MAXT] = {0}, tcpu1[MAXT] = {0};
  int nthr = omp_get_max_threads() < MAXT ? omp_get_max_threads() : MAXT;
#pragma omp parallel num_threads(nthr)
  tcpu0[omp_get_thread_num()] = clock_ms(CLOCK_THREAD_CPUTIME_ID);
#endif
  for (int r = 0; r < reps; ++r) {
    double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    RUN();
    times[r] = clock_ms(CLOCK_MONOTONIC) - t0;
    cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (memory) { reps = 1; break; }
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nthr)
  tcpu1[omp_get_thread_num()] = clock_ms(CLOCK_THREAD_CPUTIME_ID);
  for (i = 0; i < nthr; ++i)
    tcpu1[i] = (tcpu1[i] - tcpu0[i]) / reps;
  qsort(tcpu1, (size_t)nthr, sizeof(double), cmp_double);
#endif
  qsort(times, (size_t)reps, sizeof(double), cmp_double);
  qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
  med = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
  cpu_med = reps % 2 ? cpu[reps / 2] : 0.5 * (cpu[reps / 2 - 1] + cpu[reps / 2]);
  double peak_mb = status_mb("VmHWM");

  printf("{\"impl\": \"kan-cpu\", \"bench\": \"%s\", \"widths\": [", bench ? bench : mode);
  for (i = 0; i < nl; ++i) printf("%s%lld", i ? ", " : "", widths[i]);
  printf("], \"batch\": %lld, \"dtype\": \"%s\", \"ndir\": ", batch,
         sizeof(kan_real) == 8 ? "f64" : "f32");
  if (ndir) printf("%d", ndir); else printf("null");
  printf(", \"median_ms\": %.4f, \"median_cpu_ms\": %.4f, \"gflops_dense_equiv\": %.3f, \"peak_rss_mb\": %.1f, "
         "\"baseline_rss_mb\": %.1f, \"data_mb\": %.1f, \"reps\": %d, \"grid_size\": %d, "
         "\"spline_order\": %d",
         med, cpu_med, flops / med / 1e6, peak_mb, base_mb, data_bytes / 1048576.0, reps, G, K);
  if (rule) printf(", \"rule\": \"%s\"", rule);
  if (density >= 0) printf(", \"density\": %g", density);
#ifdef _OPENMP
  printf(", \"threads\": %d, \"thread_cpu_ms\": [", omp_get_max_threads());
  for (i = nthr - 1; i >= 0; --i)
    printf("%s%.4f", i == nthr - 1 ? "" : ", ", tcpu1[i]);
  printf("]");
#else
  printf(", \"threads\": 1");
#endif
  printf(", \"kernels\": \"%s\"}\n", kan_isa_name(kan_isa_active()));
  return 0;
}
