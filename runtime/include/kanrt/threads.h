/*===- kanrt/threads.h - OpenMP threads of generated code -------*- C -*-===*/
/** \file
 * Included by generated C (not by kanrt.h): the thread count and number of
 * the parallel loops of a generated file follow how that file is compiled
 * (with -fopenmp or without), not how kanrt was. The losses of
 * kanrt/loss.h and the dense directions of kanrt/ops.h run here on those
 * threads (kan_omp_loss_*, kan_omp_perturb_dense_directions_*).
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

#include <stdlib.h>

#include "kanrt/loss.h"
#include "kanrt/ops.h"

/* Rows per block of kan_omp_loss_*: the scratch (g and the terms) stays
   within 1024 x (classes + 1) doubles at any batch size. */
#define KAN_OMP_LOSS_BLOCK_ROWS 1024

/* The losses of kanrt/loss.h on the threads of the calling file: per block
   of rows, the rows split into one range per thread, then the directions;
   each value is summed in the order the serial loss sums it, so the result
   is the same bits as kan_loss_*(same arguments) with any thread count.
   TGT is the target's type, PER its elements per row, TERMS the loss terms
   per row, DENOM the mean's divisor. */
#ifdef _OPENMP
#define KAN_OMP_LOSS_FOR _Pragma("omp parallel for schedule(static)")
#else
#define KAN_OMP_LOSS_FOR
#endif
#define KAN_DEFINE_OMP_LOSS(NAME, T, SFX, TGT, PER, TERMS, DENOM)              \
  static inline kan_status kan_omp_loss_##NAME##_##SFX(                        \
      int64_t n, int64_t classes, const T *z, const TGT *target, const T *zt,  \
      int64_t width, T *loss, T *alphas) {                                     \
    const int tangents = zt && width;                                          \
    const int64_t parts = kan_omp_threads();                                   \
    double acc = 0.0, *ad, *term, *g = NULL;                                   \
    int64_t b, r, p, d;                                                        \
    kan_status st = kan_loss_##NAME##_check_##SFX(n, classes, z, target, zt,   \
                                                  width, loss, alphas);        \
    if (st)                                                                    \
      return st;                                                               \
    if (parts < 2)                                                             \
      return kan_loss_##NAME##_##SFX(n, classes, z, target, zt, width, loss,   \
                                     alphas);                                  \
    b = n < KAN_OMP_LOSS_BLOCK_ROWS ? n : KAN_OMP_LOSS_BLOCK_ROWS;             \
    if (kan_loss_scratch(b, (TERMS), classes, width, tangents, &ad, &term,     \
                         &g)) {                                                \
      /* Reports the allocation failure (or runs on less memory). */           \
      return kan_loss_##NAME##_##SFX(n, classes, z, target, zt, width, loss,   \
                                     alphas);                                  \
    }                                                                          \
    for (r = 0; r < n; r += b) {                                               \
      const int64_t m = n - r < b ? n - r : b;                                 \
      KAN_OMP_LOSS_FOR                                                         \
      for (p = 0; p < parts; ++p) {                                            \
        const int64_t lo = m * p / parts, hi = m * (p + 1) / parts;            \
        kan_loss_##NAME##_rows_##SFX(hi - lo, classes, z + (r + lo) * classes, \
                                     target + (r + lo) * (PER),                \
                                     term + lo * (TERMS),                      \
                                     g ? g + lo * classes : NULL);             \
      }                                                                        \
      acc = kan_loss_sum(m * (TERMS), term, acc);                              \
      if (tangents) {                                                          \
        KAN_OMP_LOSS_FOR                                                       \
        for (d = 0; d < width; ++d)                                            \
          kan_loss_tangents_##SFX(m, classes, g, zt + r * classes,             \
                                  n * classes, d, d + 1, ad);                  \
      }                                                                        \
    }                                                                          \
    *loss = (T)(acc / (DENOM));                                                \
    if (tangents)                                                              \
      for (d = 0; d < width; ++d)                                              \
        alphas[d] = (T)(ad[d] / (DENOM));                                      \
    kan_loss_scratch_free(ad, term, g);                                        \
    return KAN_OK;                                                             \
  }
KAN_DEFINE_OMP_LOSS(softmax_xent, double, f64, int64_t, 1, 1, (double)n)
KAN_DEFINE_OMP_LOSS(softmax_xent, float, f32, int64_t, 1, 1, (double)n)
KAN_DEFINE_OMP_LOSS(mse, double, f64, double, classes, classes,
                    (double)n * (double)classes)
KAN_DEFINE_OMP_LOSS(mse, float, f32, float, classes, classes,
                    (double)n * (double)classes)
#undef KAN_DEFINE_OMP_LOSS
#undef KAN_OMP_LOSS_FOR

/* kan_perturb_dense_directions (kanrt/ops.h) with the directions split over
   the threads: each direction's draws are a function of its number alone,
   so the result is the same bits with any thread count. The errors (of
   the arguments, which every direction shares) are reported by the serial
   call, on the calling thread. */
#ifdef _OPENMP
#define KAN_OMP_PERTURB_FOR                                                    \
  _Pragma("omp parallel for schedule(static) reduction(| : failed)")
#else
#define KAN_OMP_PERTURB_FOR
#endif
#define KAN_DEFINE_OMP_PERTURB(T, SFX)                                         \
  static inline kan_status kan_omp_perturb_dense_directions_##SFX(             \
      uint64_t seed, uint32_t step, uint32_t first, size_t width,              \
      uint32_t stream, int dist, size_t size, T *out) {                        \
    const int64_t n = (int64_t)width;                                          \
    int64_t d;                                                                 \
    int failed = 0;                                                            \
    if (n < 2 || kan_omp_threads() < 2)                                        \
      return kan_perturb_dense_directions_##SFX(seed, step, first, width,      \
                                                stream, dist, size, out);      \
    KAN_OMP_PERTURB_FOR                                                        \
    for (d = 0; d < n; ++d)                                                    \
      failed |= kan_perturb_dense_directions_##SFX(                            \
                    seed, step, (uint32_t)(first + (uint32_t)d), 1, stream,    \
                    dist, size, out + (size_t)d * size) != KAN_OK;             \
    if (failed)                                                                \
      return kan_perturb_dense_directions_##SFX(seed, step, first, width,      \
                                                stream, dist, size, out);      \
    return KAN_OK;                                                             \
  }
KAN_DEFINE_OMP_PERTURB(double, f64)
KAN_DEFINE_OMP_PERTURB(float, f32)
#undef KAN_DEFINE_OMP_PERTURB
#undef KAN_OMP_PERTURB_FOR

#endif /* KANRT_THREADS_H */
