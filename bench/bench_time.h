/*===- bench_time.h - clocks and medians shared by the C benchmarks -*- C -*-===*/
/* Included after <stdlib.h> and <time.h> with _POSIX_C_SOURCE set. */
#ifndef KAN_BENCH_TIME_H
#define KAN_BENCH_TIME_H

/* Milliseconds on clock `id` (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
   CLOCK_THREAD_CPUTIME_ID). */
static inline double clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n), n >= 1; sorts v. */
static inline double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
