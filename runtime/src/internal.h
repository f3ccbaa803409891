/*===- internal.h - shared helpers of the kanrt sources ---------*- C -*-===*/
#ifndef KANRT_INTERNAL_H
#define KANRT_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kanrt/kanrt.h"

#if defined(__GNUC__)
#define KAN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KAN_PRINTF(a, b)
#endif

/** Name of a kernel compiled for one instruction-set level:
 * KAN_ISA_NAME(kan_basis_f64) is kan_basis_f64_avx2 when compiled with
 * -DKAN_ISA_SUFFIX=_avx2 (see isa.c). */
#define KAN_ISA_CAT2(a, b) a##b
#define KAN_ISA_CAT(a, b) KAN_ISA_CAT2(a, b)
#define KAN_ISA_NAME(f) KAN_ISA_CAT(f, KAN_ISA_SUFFIX)

/** A public function defined in a file compiled with hidden visibility. */
#if defined(__GNUC__)
#define KAN_EXPORT __attribute__((visibility("default")))
#else
#define KAN_EXPORT
#endif

/** Records a printf-style message as the thread's last error; returns st. */
kan_status kan_set_error(kan_status st, const char *fmt, ...) KAN_PRINTF(2, 3);

/** a*b into *r; returns 0 on overflow. */
static inline int kan_mul_ok(size_t a, size_t b, size_t *r) {
  if (a != 0 && b > (size_t)-1 / a)
    return 0;
  *r = a * b;
  return 1;
}

/** a+b into *r; returns 0 on overflow. */
static inline int kan_add_ok(size_t a, size_t b, size_t *r) {
  if (b > (size_t)-1 - a)
    return 0;
  *r = a + b;
  return 1;
}

/** One row of a softmax in double, shared by the losses (loss.c) and the
 * activity rule's per-example loss (activity.c) so both round alike:
 * *mx = max_c z[c]; returns sum_c exp(z[c] - *mx). log-sum-exp is then
 * *mx + log(returned), softmax_c exp(z[c] - *mx) / returned. */
#define KAN_DEFINE_SOFTMAX_ROW(T, SFX)                                         \
  static inline double kan_softmax_row_##SFX(int64_t classes, const T *z,      \
                                             double *mx) {                     \
    double m = z[0], se = 0.0;                                                 \
    int64_t c;                                                                 \
    for (c = 1; c < classes; ++c)                                              \
      if (z[c] > m)                                                            \
        m = z[c];                                                              \
    for (c = 0; c < classes; ++c)                                              \
      se += exp((double)z[c] - m);                                             \
    *mx = m;                                                                   \
    return se;                                                                 \
  }
KAN_DEFINE_SOFTMAX_ROW(double, f64)
KAN_DEFINE_SOFTMAX_ROW(float, f32)
#undef KAN_DEFINE_SOFTMAX_ROW

/** Reads a whole file (at most KAN_IO_MAX_BYTES) into a malloc'ed buffer. */
kan_status kan_read_file(const char *path, unsigned char **data, size_t *size);

/** Atomic write: path.tmp.<pid>, fsync, rename. The chunks are written in
 * order. Stale path.tmp.<pid> files of dead processes are removed first. */
kan_status kan_write_file_atomic(const char *path, size_t nchunks,
                                 const void *const *chunks,
                                 const size_t *sizes);

/** Removes path.tmp.<pid> files whose process no longer exists (left by a
 * kill during an atomic write). */
void kan_remove_stale_temps(const char *path);

/** Little-endian loads and stores. */
static inline uint32_t kan_load_u32le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t kan_load_u64le(const unsigned char *p) {
  return (uint64_t)kan_load_u32le(p) | (uint64_t)kan_load_u32le(p + 4) << 32;
}
static inline void kan_store_u32le(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v & 0xff);
  p[1] = (unsigned char)((v >> 8) & 0xff);
  p[2] = (unsigned char)((v >> 16) & 0xff);
  p[3] = (unsigned char)((v >> 24) & 0xff);
}
static inline void kan_store_u64le(unsigned char *p, uint64_t v) {
  kan_store_u32le(p, (uint32_t)v);
  kan_store_u32le(p + 4, (uint32_t)(v >> 32));
}

/** Checks that data (numel elements of a float dtype) is finite; returns
 * the index of the first non-finite element or (size_t)-1. */
size_t kan_find_nonfinite(kan_dtype dtype, const void *data, size_t numel);

/** Host is little-endian (checked once at run time). */
int kan_host_little_endian(void);

/** Sparse draws e0..e0+count-1 of one tensor (no argument checks). */
void kan_sparse_draws(uint64_t seed, uint32_t step, uint32_t dir,
                      uint32_t stream, size_t size, size_t e0, size_t count,
                      uint32_t *index, int32_t *sign);

/** Normal pairs of blocks b0..b0+nb-1 (out: 2 nb doubles) computed by the
 * copy of kernel level isa (a kan_isa); returns 0, writing nothing, when
 * this build has no such level. For tests: every level gives the same bits. */
int kan_normal_blocks_at(int isa, uint64_t seed, uint32_t b0, size_t nb,
                         uint32_t dir, uint32_t step, uint32_t stream,
                         double *out);

/** strdup for C99. */
char *kan_strdup(const char *s);

#endif /* KANRT_INTERNAL_H */
