/* gemm_bench.c - the dense-equivalent GEMMs of a KAN forward pass, timed with
 * OpenBLAS (cblas_dgemm / cblas_sgemm, run with OPENBLAS_NUM_THREADS=1) and
 * with the runtime's kan_gemm_nt_* for reference.
 *
 * For a model of widths w and batch N, layer l is the GEMM
 *   C (N x O) = A (N x K) * B^T,  B O x K,  K = I (G+k+1)
 * (the single GEMM over [silu(x) | B(x)] the KAN forward reduces to), with
 * 2*N*O*K flops. The model's time is the sum of the per-layer medians.
 *
 * Usage: gemm_bench --impl openblas|kanrt --dtype f64|f32
 *                   (--widths 784,64,10 --batch 256 | --shape M,N,K)
 *                   [--grid-size 5] [--order 3] [--reps R] [--bench NAME]
 * Prints one JSON line (impl, bench, widths, batch, dtype, ndir, median_ms,
 * median_cpu_ms, gflops_dense_equiv, peak_rss_mb, reps, layers_ms, and
 * blas_core: OpenBLAS's core type, or kernels: the runtime's kernel level).
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <kanrt/kanrt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"

/* OpenBLAS's name of the kernels it runs (DYNAMIC_ARCH picks them from
   cpuid, or OPENBLAS_CORETYPE forces them). */
char *openblas_get_corename(void);

#define MAXL 16

static void usage(void) {
  fprintf(stderr, "usage: gemm_bench --impl openblas|kanrt --dtype f64|f32 "
                  "(--widths I,..,O --batch N | --shape M,N,K) [--grid-size G] "
                  "[--order k] [--reps R] [--bench NAME]\n");
  exit(2);
}

/* One C = A B^T of m x n x k; returns wall and CPU medians over reps. */
static void time_gemm(int blas, int f64, long m, long n, long k, int reps,
                      double *wall, double *cpu) {
  size_t es = f64 ? sizeof(double) : sizeof(float);
  void *A = malloc(es * (size_t)(m * k)), *B = malloc(es * (size_t)(n * k)),
       *C = malloc(es * (size_t)(m * n));
  double *tw = malloc(sizeof(double) * (size_t)(reps + 1)),
         *tc = malloc(sizeof(double) * (size_t)(reps + 1));
  long e;
  if (!A || !B || !C || !tw || !tc) exit(3);
  for (e = 0; e < m * k; ++e) {
    double v = (double)((e * 7919) % 2001 - 1000) * 1e-3;
    if (f64) ((double *)A)[e] = v; else ((float *)A)[e] = (float)v;
  }
  for (e = 0; e < n * k; ++e) {
    double v = (double)((e * 104729) % 2001 - 1000) * 1e-3;
    if (f64) ((double *)B)[e] = v; else ((float *)B)[e] = (float)v;
  }
  for (int r = -1; r < reps; ++r) { /* r = -1: warm-up */
    double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (blas && f64)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0,
                  A, (int)k, B, (int)k, 0.0, C, (int)n);
    else if (blas)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f,
                  A, (int)k, B, (int)k, 0.0f, C, (int)n);
    else if (f64)
      kan_gemm_nt_f64((size_t)m, (size_t)n, (size_t)k, 1.0, A, (size_t)k, B, (size_t)k, 0.0,
                      C, (size_t)n);
    else
      kan_gemm_nt_f32((size_t)m, (size_t)n, (size_t)k, 1.0f, A, (size_t)k, B, (size_t)k,
                      0.0f, C, (size_t)n);
    if (r >= 0) {
      tw[r] = clock_ms(CLOCK_MONOTONIC) - t0;
      tc[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
  }
  *wall = median(tw, reps);
  *cpu = median(tc, reps);
  free(A), free(B), free(C), free(tw), free(tc);
}

int main(int argc, char **argv) {
  const char *impl = NULL, *dtype = "f64", *widths_s = NULL, *shape_s = NULL, *bench = NULL;
  long batch = 0, widths[MAXL], shape[3] = {0, 0, 0};
  int G = 5, K = 3, reps = 5, nl = 0, a, i;
  for (a = 1; a < argc; ++a) {
    const char *opt = argv[a];
    if (a + 1 >= argc) usage();
    if (!strcmp(opt, "--impl")) impl = argv[++a];
    else if (!strcmp(opt, "--dtype")) dtype = argv[++a];
    else if (!strcmp(opt, "--widths")) widths_s = argv[++a];
    else if (!strcmp(opt, "--shape")) shape_s = argv[++a];
    else if (!strcmp(opt, "--batch")) batch = atol(argv[++a]);
    else if (!strcmp(opt, "--grid-size")) G = atoi(argv[++a]);
    else if (!strcmp(opt, "--order")) K = atoi(argv[++a]);
    else if (!strcmp(opt, "--reps")) reps = atoi(argv[++a]);
    else if (!strcmp(opt, "--bench")) bench = argv[++a];
    else usage();
  }
  if (!impl || (strcmp(impl, "openblas") && strcmp(impl, "kanrt")) || reps <= 0) usage();
  int blas = !strcmp(impl, "openblas"), f64 = !strcmp(dtype, "f64");
  long gm[MAXL], gn[MAXL], gk[MAXL];
  int ng = 0;
  if (shape_s) {
    if (sscanf(shape_s, "%ld,%ld,%ld", &shape[0], &shape[1], &shape[2]) != 3) usage();
    gm[0] = shape[0], gn[0] = shape[1], gk[0] = shape[2], ng = 1;
  } else {
    const char *s = widths_s;
    if (!s || batch <= 0) usage();
    while (*s && nl < MAXL) {
      char *end;
      widths[nl++] = strtol(s, &end, 10);
      s = *end == ',' ? end + 1 : end;
    }
    for (i = 0; i + 1 < nl; ++i)
      gm[ng] = batch, gn[ng] = widths[i + 1], gk[ng] = widths[i] * (G + K + 1), ++ng;
  }
  double wall = 0, cpu = 0, flops = 0, lw[MAXL], lc;
  for (i = 0; i < ng; ++i) {
    time_gemm(blas, f64, gm[i], gn[i], gk[i], reps, &lw[i], &lc);
    wall += lw[i], cpu += lc;
    flops += 2.0 * gm[i] * gn[i] * gk[i];
  }
  const char *name = blas ? (f64 ? "openblas-dgemm" : "openblas-sgemm")
                          : (kan_gemm_uses_cblas() ? "kanrt-gemm-cblas" : "kanrt-gemm");
  printf("{\"impl\": \"%s\", \"bench\": \"%s\", \"widths\": ", name,
         bench ? bench : "gemm_dense_equiv");
  if (shape_s) {
    printf("null, \"shape\": [%ld, %ld, %ld], \"batch\": %ld", gm[0], gn[0], gk[0], gm[0]);
  } else {
    printf("[");
    for (i = 0; i < nl; ++i) printf("%s%ld", i ? ", " : "", widths[i]);
    printf("], \"batch\": %ld", batch);
  }
  printf(", \"dtype\": \"%s\", \"ndir\": null, \"median_ms\": %.4f, \"median_cpu_ms\": %.4f, "
         "\"gflops_dense_equiv\": %.3f, \"peak_rss_mb\": null, \"reps\": %d, \"layers_ms\": [",
         f64 ? "f64" : "f32", wall, cpu, flops / wall / 1e6, reps);
  for (i = 0; i < ng; ++i) printf("%s%.4f", i ? ", " : "", lw[i]);
  printf("], \"%s\": \"%s\"}\n", blas ? "blas_core" : "kernels",
         blas ? openblas_get_corename() : kan_isa_name(kan_isa_active()));
  return 0;
}
