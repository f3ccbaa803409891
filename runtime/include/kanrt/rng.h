/*===- kanrt/rng.h - counter-based random perturbations ---------*- C -*-===*/
/** \file
 * Philox4x32-10 (Salmon et al., SC'11; identical to Random123's
 * philox4x32_R(10, ctr, key)) and the exact mapping from its 32-bit words to
 * the perturbations used by the optimisers. Everything that decides a
 * position or a sign uses 32-bit integer operations only, so another
 * implementation (e.g. NeuroMatrix cores) reproduces it bit-exactly.
 *
 * Key and counter of every draw:
 *   key = { (uint32)seed, (uint32)(seed >> 32) }
 *   ctr = { block, dir, step, stream }
 * where block is defined per distribution below, dir the direction index,
 * step the optimiser step, stream the parameter tensor's stream id
 * (convention: layer l base_weight 3l, spline_weight 3l+1, spline_scaler
 * 3l+2).
 *
 * Let w[0..3] = Philox4x32-10(ctr, key).
 *
 * - KAN_DIST_NORMAL: element e uses block b = e / 2 (so e < 2^33).
 *   u1 = U(w[0], w[1]), u2 = U(w[2], w[3]) with
 *   U(a, b) = (double)(2 * z + 1) * 2^-53 with z = ((uint64)a << 20) |
 *   (b >> 12) (the top 52 bits of a:b): an exact uniform double in
 *   [2^-53, 1 - 2^-53], i.e. the midpoints of a 2^-52 grid on (0,1).
 *   r = sqrt(-2 * log(u1)), element 2b = r * cos(2 pi u2), element 2b+1 =
 *   r * sin(2 pi u2), where log, cos and sin are the runtime's own
 *   (runtime/src/normal.inc: fdlibm's log and sin/cos kernels, within 1 ulp;
 *   the angle reduced exactly as 2 pi u2 = 2 pi (u2 - q/4) + q pi/2 with
 *   q = round(4 u2)), every step an IEEE-754 double operation rounded once
 *   and none fused: the same bits on every IEEE-754 machine,
 *   kernel level and libm. float outputs round the double result once.
 * - KAN_DIST_RADEMACHER: element e uses block b = e >> 7 (e < 2^39), bit
 *   (w[(e >> 5) & 3] >> (e & 31)) & 1; 1 means -1, 0 means +1.
 * - Sparse ternary (kan_perturb_sparse): m draws with replacement; draw e
 *   uses block b = e >> 1; even e uses (w[0], w[1]), odd e uses (w[2], w[3])
 *   as (p, s): index = (uint32)(((uint64)p * size) >> 32) (Lemire's
 *   multiply-shift, 1 <= size <= 2^32), sign = (s & 1) ? -1 : +1.
 *   Duplicates add. The count is m = kan_sparse_count(size, density).
 */
#ifndef KANRT_RNG_H
#define KANRT_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Perturbation distributions. */
typedef enum kan_distribution {
  KAN_DIST_NORMAL = 0,     /**< N(0,1) by Box-Muller */
  KAN_DIST_RADEMACHER = 1, /**< +-1 with probability 1/2 each */
  KAN_DIST_SPARSE = 2      /**< sparse ternary (kan_perturb_sparse) */
} kan_distribution;

/** Philox4x32-10 block: out = philox4x32_R(10, ctr, key) of Random123. */
void kan_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                       uint32_t out[4]);

/** U(hi, lo) above: exact uniform double in (0,1) from two words. */
double kan_uniform53(uint32_t hi, uint32_t lo);

/** Elements [begin, begin+count) of the dense perturbation of one tensor
 * (dist KAN_DIST_NORMAL or KAN_DIST_RADEMACHER) as defined above. Lets tiled
 * code generate just the slice it needs. */
kan_status kan_perturb_dense_range_f64(uint64_t seed, uint32_t step,
                                       uint32_t dir, uint32_t stream,
                                       int dist, size_t begin, size_t count,
                                       double *out);
/** Float version of kan_perturb_dense_range_f64 (double result rounded). */
kan_status kan_perturb_dense_range_f32(uint64_t seed, uint32_t step,
                                       uint32_t dir, uint32_t stream,
                                       int dist, size_t begin, size_t count,
                                       float *out);
/** Whole tensor: kan_perturb_dense_range_f64 with begin = 0. */
kan_status kan_perturb_dense_f64(uint64_t seed, uint32_t step, uint32_t dir,
                                 uint32_t stream, int dist, size_t size,
                                 double *out);
/** Float version of kan_perturb_dense_f64. */
kan_status kan_perturb_dense_f32(uint64_t seed, uint32_t step, uint32_t dir,
                                 uint32_t stream, int dist, size_t size,
                                 float *out);

/** Number of sparse draws: m = max(1, (size_t)floor(density * (double)size
 * + 0.5)) with two IEEE-754 double operations (one multiply, one add, no
 * fused multiply-add), capped at size. Returns 0 when size == 0 or density is
 * not in (0, 1]. */
size_t kan_sparse_count(size_t size, double density);

/** The m sparse ternary draws of one tensor: index[e] in [0, size) and
 * sign[e] in {-1, +1}, e = 0..m-1, in draw order. O(m) time, independent of
 * size. Requires 1 <= size <= 2^32 and m < 2^33. */
kan_status kan_perturb_sparse(uint64_t seed, uint32_t step, uint32_t dir,
                              uint32_t stream, size_t size, size_t m,
                              uint32_t *index, int32_t *sign);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_RNG_H */
