/*===- kanrt/threads.h - OpenMP threads of generated code -------*- C -*-===*/
/** \file
 * Included by generated C (not by kanrt.h): the thread count and number of
 * the parallel loops of a generated file follow how that file is compiled
 * (with -fopenmp or without), not how kanrt was.
 */
#ifndef KANRT_THREADS_H
#define KANRT_THREADS_H

#ifdef _OPENMP
#include <omp.h>
/** Threads a parallel loop of the file may use. */
static inline int kan_omp_threads(void) { return omp_get_max_threads(); }
/** The calling thread's number inside a parallel loop (0 outside). */
static inline int kan_omp_thread(void) { return omp_get_thread_num(); }
/** Sets the threads of later parallel loops (n > 0); returns the number in
 * use. */
static inline int kan_omp_set_threads(int n) {
  if (n > 0)
    omp_set_num_threads(n);
  return omp_get_max_threads();
}
#else
static inline int kan_omp_threads(void) { return 1; }
static inline int kan_omp_thread(void) { return 0; }
static inline int kan_omp_set_threads(int n) {
  (void)n;
  return 1;
}
#endif

#endif /* KANRT_THREADS_H */
