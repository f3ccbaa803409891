/*===- rng.c - Philox4x32-10 and the perturbation mapping -------*- C -*-===*/
/* Compiled with -ffp-contract=off: the normal mapping must round exactly as
   documented in kanrt/rng.h. */
#include <math.h>
#include <string.h>

#include "internal.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* 32x32 -> 64 product split in hi/lo words; only 32-bit results are kept so
   a 32-bit target can reproduce it with its own widening multiply. */
static inline void mulhilo32(uint32_t a, uint32_t b, uint32_t *hi,
                             uint32_t *lo) {
  const uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void kan_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                       uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  int r;
  for (r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    if (r > 0) { /* Random123 bumps the key before every round but the first */
      k0 += PHILOX_W0;
      k1 += PHILOX_W1;
    }
    mulhilo32(PHILOX_M0, c0, &hi0, &lo0);
    mulhilo32(PHILOX_M1, c2, &hi1, &lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

double kan_uniform53(uint32_t hi, uint32_t lo) {
  /* (2z+1) * 2^-53 with z the top 52 bits: an odd 53-bit integer, so the
     conversion and the scaling are exact and the result lies in
     [2^-53, 1 - 2^-53]. (z + 0.5) * 2^-53 with 53 bits would round to 1. */
  const uint64_t z = ((uint64_t)hi << 20) | (uint64_t)(lo >> 12);
  return (double)(2 * z + 1) * (1.0 / 9007199254740992.0);
}

static void block(uint64_t seed, uint32_t b, uint32_t dir, uint32_t step,
                  uint32_t stream, uint32_t w[4]) {
  uint32_t ctr[4], key[2];
  ctr[0] = b;
  ctr[1] = dir;
  ctr[2] = step;
  ctr[3] = stream;
  key[0] = (uint32_t)seed;
  key[1] = (uint32_t)(seed >> 32);
  kan_philox4x32_10(ctr, key, w);
}

/* Normal pairs of consecutive blocks (normal.inc). In kanrt each kernel
   level has its own copy (rng_level.c, the level's vector width) and the
   active level's is used; all give the same bits. Single-level builds (the
   NMC core program) compile the loop here. */
#if defined(KANRT_ISA_BASELINE) || defined(KANRT_ISA_NATIVE)
#include "kanrt/isa.h"
typedef void (*kan_normal_blocks_fn)(uint64_t, uint32_t, size_t, uint32_t,
                                     uint32_t, uint32_t, double *);
void kan_normal_blocks_baseline(uint64_t seed, uint32_t b0, size_t nb,
                                uint32_t dir, uint32_t step, uint32_t stream,
                                double *out);
#ifdef KANRT_ISA_AVX2
void kan_normal_blocks_avx2(uint64_t seed, uint32_t b0, size_t nb,
                            uint32_t dir, uint32_t step, uint32_t stream,
                            double *out);
#endif
#ifdef KANRT_ISA_AVX512
void kan_normal_blocks_avx512(uint64_t seed, uint32_t b0, size_t nb,
                              uint32_t dir, uint32_t step, uint32_t stream,
                              double *out);
#endif

static kan_normal_blocks_fn normal_blocks_of(int isa) {
  switch (isa) {
#ifdef KANRT_ISA_AVX2
  case KAN_ISA_AVX2:
    return kan_normal_blocks_avx2;
#endif
#ifdef KANRT_ISA_AVX512
  case KAN_ISA_AVX512:
    return kan_normal_blocks_avx512;
#endif
  default:
    return kan_normal_blocks_baseline;
  }
}

int kan_normal_blocks_at(int isa, uint64_t seed, uint32_t b0, size_t nb,
                         uint32_t dir, uint32_t step, uint32_t stream,
                         double *out) {
  kan_normal_blocks_fn fn = normal_blocks_of(isa);
  if (isa != KAN_ISA_BASELINE && fn == kan_normal_blocks_baseline)
    return 0;
  fn(seed, b0, nb, dir, step, stream, out);
  return 1;
}

static void normal_blocks(uint64_t seed, uint32_t b0, size_t nb, uint32_t dir,
                          uint32_t step, uint32_t stream, double *out) {
  normal_blocks_of(kan_isa_active())(seed, b0, nb, dir, step, stream, out);
}
#else
#define KAN_NORMAL_BLOCKS normal_blocks
#define KAN_NORMAL_STORAGE static
#include "normal.inc"
#endif

/* Pairs per call of normal_blocks from the dense generator (a stack buffer
   of 2 x NORMAL_CHUNK doubles). */
#ifdef __NM__
#define NORMAL_CHUNK 8
#else
#define NORMAL_CHUNK 128
#endif

static kan_status check_range(int dist, size_t begin, size_t count) {
  size_t end;
  if (dist != KAN_DIST_NORMAL && dist != KAN_DIST_RADEMACHER)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_perturb_dense: distribution %d is not dense",
                         dist);
  if (!kan_add_ok(begin, count, &end) ||
      (uint64_t)end > (dist == KAN_DIST_NORMAL ? (uint64_t)1 << 33
                                                : (uint64_t)1 << 39))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_perturb_dense: element range too large for "
                         "32-bit block counters");
  return KAN_OK;
}

#define DEFINE_DENSE(T, SFX)                                                   \
  kan_status kan_perturb_dense_range_##SFX(uint64_t seed, uint32_t step,       \
                                           uint32_t dir, uint32_t stream,      \
                                           int dist, size_t begin,             \
                                           size_t count, T *out) {             \
    size_t e, end = begin + count;                                             \
    kan_status st = check_range(dist, begin, count);                           \
    if (st)                                                                    \
      return st;                                                               \
    if (dist == KAN_DIST_NORMAL) {                                             \
      double nv[2 * NORMAL_CHUNK];                                             \
      for (e = begin; e < end;) {                                              \
        const size_t b = e >> 1, bend = (end + 1) >> 1;                        \
        const size_t nb = bend - b < NORMAL_CHUNK ? bend - b : NORMAL_CHUNK;   \
        const size_t stop = 2 * (b + nb) < end ? 2 * (b + nb) : end;           \
        normal_blocks(seed, (uint32_t)b, nb, dir, step, stream, nv);           \
        for (; e < stop; ++e)                                                  \
          out[e - begin] = (T)nv[e - 2 * b];                                   \
      }                                                                        \
    } else {                                                                   \
      uint32_t w[4];                                                           \
      uint64_t cur = (uint64_t)-1;                                             \
      for (e = begin; e < end; ++e) {                                          \
        const uint64_t b = (uint64_t)e >> 7;                                   \
        if (b != cur) {                                                        \
          block(seed, (uint32_t)b, dir, step, stream, w);                      \
          cur = b;                                                             \
        }                                                                      \
        out[e - begin] = ((w[(e >> 5) & 3] >> (e & 31)) & 1u) ? (T)-1 : (T)1; \
      }                                                                        \
    }                                                                          \
    return KAN_OK;                                                             \
  }                                                                            \
  kan_status kan_perturb_dense_##SFX(uint64_t seed, uint32_t step,             \
                                     uint32_t dir, uint32_t stream, int dist,  \
                                     size_t size, T *out) {                    \
    return kan_perturb_dense_range_##SFX(seed, step, dir, stream, dist, 0,     \
                                         size, out);                           \
  }

DEFINE_DENSE(double, f64)
DEFINE_DENSE(float, f32)

size_t kan_sparse_count(size_t size, double density) {
  double d;
  size_t m;
  if (size == 0 || !(density > 0.0 && density <= 1.0))
    return 0;
  d = density * (double)size;
  d = d + 0.5;
  m = (size_t)floor(d);
  if (m < 1)
    m = 1;
  if (m > size)
    m = size;
  return m;
}

void kan_sparse_draws(uint64_t seed, uint32_t step, uint32_t dir,
                      uint32_t stream, size_t size, size_t e0, size_t count,
                      uint32_t *index, int32_t *sign) {
  size_t e;
  uint32_t w[4];
  for (e = e0; e < e0 + count; ++e) {
    const uint32_t *ps;
    if (e == e0 || (e & 1) == 0)
      block(seed, (uint32_t)(e >> 1), dir, step, stream, w);
    ps = w + 2 * (e & 1);
    index[e - e0] = (uint32_t)(((uint64_t)ps[0] * (uint64_t)size) >> 32);
    sign[e - e0] = (ps[1] & 1u) ? -1 : 1;
  }
}

kan_status kan_perturb_sparse(uint64_t seed, uint32_t step, uint32_t dir,
                              uint32_t stream, size_t size, size_t m,
                              uint32_t *index, int32_t *sign) {
  if (size == 0 || (uint64_t)size > ((uint64_t)1 << 32))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_perturb_sparse: size %zu not in [1, 2^32]",
                         size);
  if ((uint64_t)m > ((uint64_t)1 << 33))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_perturb_sparse: %zu draws exceed 2^33", m);
  if (m && (!index || !sign))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_perturb_sparse: NULL output");
  kan_sparse_draws(seed, step, dir, stream, size, 0, m, index, sign);
  return KAN_OK;
}
