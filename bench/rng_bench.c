/* rng_bench.c - the dense perturbation generator (kan_perturb_dense_*):
 * normal or Rademacher draws of one tensor, as the fg rule's directions and
 * kan_update_dense make them.
 *
 * Usage: rng_bench [--dist normal|rademacher] [--dtype f64|f32]
 *                  [--size N] [--reps R]
 * Prints one JSON line (impl "kanrt-rng", bench "perturb_dense", dist,
 * dtype, size, median_ms, median_cpu_ms, ns_per_element (CPU time), reps,
 * kernels: the runtime's kernel level, which picks the generator's copy).
 */
#define _POSIX_C_SOURCE 200809L
#include <kanrt/kanrt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"

static void usage(void) {
  fprintf(stderr, "usage: rng_bench [--dist normal|rademacher] "
                  "[--dtype f64|f32] [--size N] [--reps R]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int dist = KAN_DIST_NORMAL, f64 = 1, reps = 11, i;
  long size = 1 << 20;
  const char *dname = "normal";
  double *wall, *cpu;
  void *out;
  for (i = 1; i < argc; ++i) {
    if (i + 1 >= argc)
      usage();
    if (strcmp(argv[i], "--dist") == 0) {
      dname = argv[++i];
      if (strcmp(dname, "normal") == 0)
        dist = KAN_DIST_NORMAL;
      else if (strcmp(dname, "rademacher") == 0)
        dist = KAN_DIST_RADEMACHER;
      else
        usage();
    } else if (strcmp(argv[i], "--dtype") == 0) {
      ++i;
      if (strcmp(argv[i], "f64") != 0 && strcmp(argv[i], "f32") != 0)
        usage();
      f64 = strcmp(argv[i], "f64") == 0;
    } else if (strcmp(argv[i], "--size") == 0) {
      size = atol(argv[++i]);
    } else if (strcmp(argv[i], "--reps") == 0) {
      reps = atoi(argv[++i]);
    } else {
      usage();
    }
  }
  if (size < 1 || reps < 1)
    usage();
  out = malloc((size_t)size * (f64 ? sizeof(double) : sizeof(float)));
  wall = malloc(sizeof(double) * (size_t)reps);
  cpu = malloc(sizeof(double) * (size_t)reps);
  if (!out || !wall || !cpu) {
    fprintf(stderr, "rng_bench: out of memory\n");
    return 1;
  }
  for (i = -1; i < reps; ++i) { /* one warm-up */
    double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    kan_status st =
        f64 ? kan_perturb_dense_f64(7, (uint32_t)(i + 1), 0, 0, dist,
                                    (size_t)size, (double *)out)
            : kan_perturb_dense_f32(7, (uint32_t)(i + 1), 0, 0, dist,
                                    (size_t)size, (float *)out);
    if (st != KAN_OK) {
      fprintf(stderr, "rng_bench: %s\n", kan_last_error());
      return 1;
    }
    if (i >= 0) {
      wall[i] = clock_ms(CLOCK_MONOTONIC) - w0;
      cpu[i] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
  }
  {
    const double mw = median(wall, reps), mc = median(cpu, reps);
    printf("{\"impl\": \"kanrt-rng\", \"bench\": \"perturb_dense\", \"dist\": "
           "\"%s\", \"dtype\": \"%s\", \"widths\": null, \"batch\": null, \"ndir\": null, "
           "\"size\": %ld, \"median_ms\": %.4f, "
           "\"median_cpu_ms\": %.4f, \"ns_per_element\": %.3f, \"reps\": %d, "
           "\"kernels\": \"%s\"}\n",
           dname, f64 ? "f64" : "f32", size, mw, mc, mc * 1e6 / (double)size,
           reps, kan_isa_name(kan_isa_active()));
  }
  free(out);
  free(wall);
  free(cpu);
  return 0;
}
