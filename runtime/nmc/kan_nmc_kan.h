/*===- kan_nmc_kan.h - core-side KAN layer routines for emitted programs --===*
 *
 * Header-only (static functions): included by the model_core.c that
 * kan-translate --target=nmquad emits and by the runtime's command loop
 * (programs/kan_nmc_model_core.c, which also holds the data commands'
 * routines); each compiles only the routines it calls. The emitted file
 * owns the schedule (bank buffers, DDR map, the order of the calls) and the
 * loop nest of every layer GEMM (printed from the nmc IR); these routines
 * are the primitives it calls: copies under the DDR-stream permit, address
 * arithmetic of the layouts below, and the per-core work of the steps that
 * stay in C (weight packing, feature rows, sparse tangents, loss, update).
 * Features and perturbations come from the kanrt kernels (kernels.c,
 * rng.c, optim.c), compiled into the core program, so the numbers are those
 * of the CPU target.
 *
 * Layouts (DDR, word addresses, KAN_NMC_KAN_W words per value):
 *   feature rows  N x K, chunk-major: chunk q (inputs [q*ic, q*ic+icq)) at
 *                 column q*ic*(G+k+1), holding [act(x) (icq) | B(x) (icq*gk)]
 *   packed W^T    panel (q, b) = rows of chunk q, outputs [NB b, NB b+NB):
 *                 P_q x NB row-major at (q*P*outp + NB b*P_q), outp = out
 *                 rounded up to NB, P_q = Kc_q padded to KAN_NMC_KAN_KALIGN
 *                 (P of a whole chunk); columns past `out` and rows past
 *                 Kc_q are zero (narrow layers run the same FPU kernels).
 *                 NB = 32 (f64) or 64 (f32)
 *   tangents      direction-major: (d*N + r)*out, as the CPU target
 *
 * C99 (gnu99) as nmc-gcc 4.8 accepts it; sizes and addresses in words
 * (KAN_NMC_KAN_W per element).
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_KAN_H
#define KAN_NMC_KAN_H

#include <math.h>

#include <kanrt/kernels.h>
#include <kanrt/optim.h>
#include <kanrt/rng.h>

#include "kan_nmc.h"
#include "kan_nmc_launch.h"
#include "kan_nmc_tile.h"

/* Element type of the program's model values: f64 (two words) or, in a
 * program built with -DKAN_NMC_F32 (MODEL_DEFS of an f32 folder's
 * Makefile), f32 (one word). The tile kernels' output block width and the
 * K alignment they need follow it (kan_nmc_tile.h): f32 panels pad each K
 * chunk with zero rows (W^T) and columns (A) to a multiple of 64. */
#ifdef KAN_NMC_F32
typedef float kan_nmc_real;
#define KAN_NMC_KAN_W 1u
#define KAN_NMC_KAN_NB 64u
#define KAN_NMC_KAN_KALIGN 64u
#define KAN_NMC_KAN_RT(f) f##_f32
#else
typedef double kan_nmc_real;
#define KAN_NMC_KAN_W 2u
#define KAN_NMC_KAN_NB 32u
#define KAN_NMC_KAN_KALIGN 1u
#define KAN_NMC_KAN_RT(f) f##_f64
#endif

typedef struct kan_nmc_layer_desc {
  unsigned in, out, G, k, act, chunk, tile_rows;
  unsigned grid, base, spline, scaler; /* DDR addresses; scaler 0: none */
  unsigned packed;                     /* packed W^T panels */
  int streams[3];                      /* perturbation streams, -1: none */
  double density;
} kan_nmc_layer_desc;

typedef struct kan_nmc_kan_bufs {
  kan_nmc_real *a;    /* A panel: tile_rows x P (padded Kc) */
  kan_nmc_real *bt;   /* Bt panels: 2 halves of P_max x NB */
  kan_nmc_real *c;    /* C tile: blocks of tile_rows x NB */
  kan_nmc_real *grid; /* chunk x (G+2k+1) */
  kan_nmc_real *aux;  /* kan_grid_aux_size(chunk, G, k) */
  kan_nmc_real *x;    /* tile_rows x chunk */
  kan_nmc_real *xt;   /* tile_rows x chunk */
  kan_nmc_real *feat; /* tile_rows x Kc: feature rows on their way to DDR */
  kan_nmc_real *seg;  /* one segment of a feature row (sparse tangents) */
  kan_nmc_real *yrow; /* one tangent row */
  unsigned *idx; /* sparse draws */
  int *sgn;
  unsigned *cols, *orow;
  double *vals;
  double *coef;  /* update coefficients (width) */
  unsigned c_words;  /* words of the C tile (data rows pass through it) */
  unsigned bt_half;  /* elements per Bt half */
  unsigned seg_cols; /* feature columns per segment */
  unsigned max_nnz;  /* entries of cols/orow/vals */
  unsigned max_draws; /* entries of idx/sgn */
} kan_nmc_kan_bufs;

typedef struct kan_nmc_kan_core {
  unsigned me, ncores, split_outputs;
} kan_nmc_kan_core;

static inline unsigned kan_nmc_kan_gk1(const kan_nmc_layer_desc *L) {
  return L->G + L->k + 1u;
}
static inline unsigned kan_nmc_kan_min(unsigned a, unsigned b) {
  return a < b ? a : b;
}

/* Blocking copies, each under a DDR-stream permit. */
static inline void kan_nmc_kan_get(void *dst, unsigned addr, unsigned words) {
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(dst, kan_nmc_ddr_range(addr, words), words, &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();
}
static inline void kan_nmc_kan_put(unsigned addr, const void *src,
                                   unsigned words) {
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(kan_nmc_ddr_range(addr, words), src, words, &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();
}

/* This core's share [*b, *e) of `count` items. */
static inline void kan_nmc_kan_share(unsigned count, const kan_nmc_kan_core *cc,
                                     unsigned *b, unsigned *e) {
  *b = cc->me * count / cc->ncores;
  *e = (cc->me + 1u) * count / cc->ncores;
}

/* Columns of K chunk q (whole inputs [q*chunk, q*chunk+icq)). */
static inline unsigned kan_nmc_kan_chunk_cols(const kan_nmc_layer_desc *L,
                                              unsigned q) {
  unsigned i0 = q * L->chunk;
  return kan_nmc_kan_min(L->chunk, L->in - i0) * kan_nmc_kan_gk1(L);
}

/* Columns rounded up to the tile kernels' K alignment. */
static inline unsigned kan_nmc_kan_kpad(unsigned cols) {
  return (cols + KAN_NMC_KAN_KALIGN - 1u) / KAN_NMC_KAN_KALIGN *
         KAN_NMC_KAN_KALIGN;
}

/* DDR address of panel (q, b) of the packed W^T (NB columns, padded). */
static inline unsigned kan_nmc_kan_panel(const kan_nmc_layer_desc *L,
                                         unsigned q, unsigned b) {
  unsigned nblk = (L->out + KAN_NMC_KAN_NB - 1u) / KAN_NMC_KAN_NB;
  unsigned full = kan_nmc_kan_kpad(L->chunk * kan_nmc_kan_gk1(L));
  return L->packed +
         KAN_NMC_KAN_W * (q * full * nblk * KAN_NMC_KAN_NB +
                          b * KAN_NMC_KAN_NB *
                              kan_nmc_kan_kpad(kan_nmc_kan_chunk_cols(L, q)));
}

/* Asynchronous copy under a DDR-stream permit held exactly while words
 * move: on NMC the copy is a core loop done inside kan_nmc_kan_start, so
 * the permit is taken and given back there; under emulation the words move
 * at the wait, so kan_nmc_kan_wait takes it. A core holds at most one
 * permit at a time either way. */
static inline void kan_nmc_kan_start(void *dst, const void *src, unsigned words,
                                     kan_nmc_dma *h) {
#ifndef KAN_NMC_HOST_EMU
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(dst, src, words, h);
  kan_nmc_ddr_release();
#else
  kan_nmc_dma_start(dst, src, words, h);
#endif
}
static inline void kan_nmc_kan_wait(kan_nmc_dma *h) {
#ifdef KAN_NMC_HOST_EMU
  kan_nmc_ddr_acquire();
  kan_nmc_dma_wait(h);
  kan_nmc_ddr_release();
#else
  kan_nmc_dma_wait(h);
#endif
}

/* rows x cols elements from DDR (row stride src_ld) into a bank buffer
 * (row stride dst_ld >= cols, the columns past cols zeroed: the f32
 * kernels' K padding), one permit per row. */
static inline void kan_nmc_kan_get_rows(kan_nmc_real *dst, unsigned dst_ld,
                                        unsigned src, unsigned src_ld,
                                        unsigned rows, unsigned cols) {
  unsigned r, j;
  for (r = 0; r < rows; ++r) {
    kan_nmc_kan_get(dst + r * dst_ld, src + KAN_NMC_KAN_W * r * src_ld,
                    KAN_NMC_KAN_W * cols);
    for (j = cols; j < dst_ld; ++j)
      dst[r * dst_ld + j] = 0;
  }
}

/* The C tile rows [rb, rb+mm) of output blocks [b0, b1) to DDR rows of
 * `out` elements at c (block b of the tile: m x NB at (b-b0)*m*NB). */
static inline void kan_nmc_kan_put_c(const kan_nmc_layer_desc *L, unsigned c,
                                     const kan_nmc_real *tile, unsigned m,
                                     unsigned rb, unsigned mm, unsigned b0,
                                     unsigned b1) {
  unsigned rr, b;
  for (rr = 0; rr < mm; ++rr)
    for (b = b0; b < b1; ++b) {
      unsigned o0 = b * KAN_NMC_KAN_NB;
      unsigned nb = kan_nmc_kan_min(KAN_NMC_KAN_NB, L->out - o0);
      kan_nmc_kan_put(c + KAN_NMC_KAN_W * ((rb + rr) * L->out + o0),
                      tile + ((b - b0) * m + rr) * KAN_NMC_KAN_NB,
                      KAN_NMC_KAN_W * nb);
    }
}

static inline void kan_nmc_kan_zero(kan_nmc_real *p, unsigned count) {
  unsigned i;
  for (i = 0; i < count; ++i)
    p[i] = 0.0;
}

/* Panels (q, b) of W^T, round-robin over the cores. Sources are read in
 * place from DDR (O(|W|) once per step, against O(N |W|) for the GEMM). */
static inline void kan_nmc_kan_pack(const kan_nmc_layer_desc *L,
                                    const kan_nmc_kan_bufs *B,
                                    const kan_nmc_kan_core *cc) {
  unsigned gk = L->G + L->k, gk1 = gk + 1u;
  unsigned nq = (L->in + L->chunk - 1u) / L->chunk;
  unsigned nblk = (L->out + KAN_NMC_KAN_NB - 1u) / KAN_NMC_KAN_NB, t;
  const kan_nmc_real *wb = (const kan_nmc_real *)kan_nmc_ddr_range(
      L->base, KAN_NMC_KAN_W * L->out * L->in);
  const kan_nmc_real *cw = (const kan_nmc_real *)kan_nmc_ddr_range(
      L->spline, KAN_NMC_KAN_W * L->out * L->in * gk);
  const kan_nmc_real *s = L->scaler
                              ? (const kan_nmc_real *)kan_nmc_ddr_range(
                                    L->scaler, KAN_NMC_KAN_W * L->out * L->in)
                              : 0;
  for (t = cc->me; t < nq * nblk; t += cc->ncores) {
    unsigned q = t / nblk, b = t % nblk;
    unsigned i0 = q * L->chunk, icq = kan_nmc_kan_min(L->chunk, L->in - i0);
    unsigned o0 = b * KAN_NMC_KAN_NB;
    unsigned nb = kan_nmc_kan_min(KAN_NMC_KAN_NB, L->out - o0);
    unsigned kc = icq * gk1, p, oo;
    for (p = 0; p < kan_nmc_kan_kpad(kc) * KAN_NMC_KAN_NB; ++p)
      B->bt[p] = 0;
    for (oo = 0; oo < nb; ++oo) {
      unsigned o = o0 + oo;
      for (p = 0; p < icq; ++p)
        B->bt[p * KAN_NMC_KAN_NB + oo] = wb[o * L->in + i0 + p];
      for (p = 0; p < icq * gk; ++p) {
        unsigned ii = p / gk, j = p % gk;
        kan_nmc_real v = cw[(o * L->in + i0 + ii) * gk + j];
        if (s)
          v = v * s[o * L->in + i0 + ii];
        B->bt[(icq + p) * KAN_NMC_KAN_NB + oo] = v;
      }
    }
    kan_nmc_kan_put(kan_nmc_kan_panel(L, q, b), B->bt,
                    KAN_NMC_KAN_W * kan_nmc_kan_kpad(kc) * KAN_NMC_KAN_NB);
  }
}

/* Feature rows [r0, r1) of x (n_rows x in) into f (n_rows x K). With xt
 * (direction-major, d) it writes the tangent features A'_d instead. */
static inline void kan_nmc_kan_features(const kan_nmc_layer_desc *L,
                                        const kan_nmc_kan_bufs *B, unsigned x,
                                        unsigned xt, unsigned d,
                                        unsigned n_rows, unsigned f,
                                        unsigned r0, unsigned r1) {
  unsigned gk1 = kan_nmc_kan_gk1(L), gt = L->G + 2u * L->k + 1u;
  unsigned kfull = L->in * gk1, m = L->tile_rows, rb, i0;
  for (rb = r0; rb < r1; rb += m) {
    unsigned mm = kan_nmc_kan_min(m, r1 - rb), rr;
    for (i0 = 0; i0 < L->in; i0 += L->chunk) {
      unsigned icq = kan_nmc_kan_min(L->chunk, L->in - i0), kc = icq * gk1;
      kan_nmc_kan_get(B->grid, L->grid + KAN_NMC_KAN_W * i0 * gt,
                      KAN_NMC_KAN_W * icq * gt);
      KAN_NMC_KAN_RT(kan_grid_prepare)
      (icq, (int)L->G, (int)L->k, B->grid, B->aux);
      for (rr = 0; rr < mm; ++rr) {
        kan_nmc_kan_get(B->x + rr * icq,
                        x + KAN_NMC_KAN_W * ((rb + rr) * L->in + i0),
                        KAN_NMC_KAN_W * icq);
        if (xt)
          kan_nmc_kan_get(B->xt + rr * icq,
                          xt + KAN_NMC_KAN_W *
                                   ((d * n_rows + rb + rr) * L->in + i0),
                          KAN_NMC_KAN_W * icq);
      }
      if (xt)
        KAN_NMC_KAN_RT(kan_pack_features_jvp)
        (mm, icq, (int)L->G, (int)L->k, (int)L->act, B->x, icq, 1, B->xt, icq,
         0, B->grid, B->aux, 0, 0, B->feat, kc, 0);
      else
        KAN_NMC_KAN_RT(kan_pack_features)
        (mm, icq, (int)L->G, (int)L->k, (int)L->act, B->x, icq, B->grid, B->aux,
         B->feat, kc);
      for (rr = 0; rr < mm; ++rr)
        kan_nmc_kan_put(f + KAN_NMC_KAN_W * ((rb + rr) * kfull + i0 * gk1),
                        B->feat + rr * kc, KAN_NMC_KAN_W * kc);
    }
  }
}

/* Chunk-major position of full-layout feature column col. */
static inline unsigned kan_nmc_kan_column(const kan_nmc_layer_desc *L,
                                          unsigned col) {
  unsigned gk = L->G + L->k, i, j, i0, icq, base;
  int silu = col < L->in;
  if (silu)
    i = col, j = 0;
  else
    i = (col - L->in) / gk, j = (col - L->in) % gk;
  i0 = i / L->chunk * L->chunk;
  icq = kan_nmc_kan_min(L->chunk, L->in - i0);
  base = i0 * (gk + 1u);
  return silu ? base + (i - i0) : base + icq + (i - i0) * gk + j;
}

/* The (column, output, value) triples of sparse ternary W'_d, in the order
 * the CPU target applies them. Returns their count. */
static inline unsigned kan_nmc_kan_sparse_draws(const kan_nmc_layer_desc *L,
                                                const kan_nmc_kan_bufs *B,
                                                unsigned long long seed,
                                                unsigned step, unsigned d) {
  unsigned gk = L->G + L->k, q = 0, e, j;
  unsigned sizes[3];
  const kan_nmc_real *cw = (const kan_nmc_real *)kan_nmc_ddr_range(
      L->spline, KAN_NMC_KAN_W * L->out * L->in * gk);
  const kan_nmc_real *s = L->scaler
                              ? (const kan_nmc_real *)kan_nmc_ddr_range(
                                    L->scaler, KAN_NMC_KAN_W * L->out * L->in)
                              : 0;
  int t;
  sizes[0] = L->out * L->in;
  sizes[1] = L->out * L->in * gk;
  sizes[2] = L->out * L->in;
  for (t = 0; t < 3; ++t) {
    unsigned m;
    if (L->streams[t] < 0)
      continue;
    m = (unsigned)kan_sparse_count(sizes[t], L->density);
    kan_perturb_sparse(seed, step, d, (unsigned)L->streams[t], sizes[t], m,
                       (uint32_t *)B->idx, (int32_t *)B->sgn);
    for (e = 0; e < m; ++e) {
      unsigned f = B->idx[e];
      if (t == 0) {
        B->orow[q] = f / L->in;
        B->cols[q] = kan_nmc_kan_column(L, f % L->in);
        B->vals[q++] = (double)B->sgn[e];
      } else if (t == 1) {
        unsigned rem = f % (L->in * gk);
        B->orow[q] = f / (L->in * gk);
        B->cols[q] = kan_nmc_kan_column(L, L->in + rem);
        B->vals[q] = (double)B->sgn[e];
        if (s)
          B->vals[q] = B->vals[q] * (double)s[B->orow[q] * L->in + rem / gk];
        ++q;
      } else {
        /* A scaler's gk spline columns are consecutive in the layout. */
        unsigned o = f / L->in;
        unsigned c0 = kan_nmc_kan_column(L, L->in + (f % L->in) * gk);
        for (j = 0; j < gk; ++j, ++q) {
          B->orow[q] = o;
          B->cols[q] = c0 + j;
          B->vals[q] = (double)B->sgn[e] * (double)cw[f * gk + j];
        }
      }
    }
  }
  return q;
}

/* y'_d rows [r0, r1) += A W'_d^T for sparse W'_d (zero_first: y'_d = that). */
static inline void kan_nmc_kan_sparse_tangent(const kan_nmc_layer_desc *L,
                                              const kan_nmc_kan_bufs *B,
                                              unsigned f, unsigned yt,
                                              unsigned nnz, unsigned r0,
                                              unsigned r1, int zero_first) {
  unsigned kfull = L->in * kan_nmc_kan_gk1(L), r, s0, e, o;
  for (r = r0; r < r1; ++r) {
    if (zero_first)
      for (o = 0; o < L->out; ++o)
        B->yrow[o] = 0;
    else
      kan_nmc_kan_get(B->yrow, yt + KAN_NMC_KAN_W * r * L->out,
                      KAN_NMC_KAN_W * L->out);
    for (s0 = 0; s0 < kfull; s0 += B->seg_cols) {
      unsigned len = kan_nmc_kan_min(B->seg_cols, kfull - s0);
      kan_nmc_kan_get(B->seg, f + KAN_NMC_KAN_W * (r * kfull + s0),
                      KAN_NMC_KAN_W * len);
      /* The CPU target's kan_sparse_tangent: one product per entry in the
       * element type. */
      for (e = 0; e < nnz; ++e)
        if (B->cols[e] >= s0 && B->cols[e] < s0 + len)
          B->yrow[B->orow[e]] +=
              (kan_nmc_real)B->vals[e] * B->seg[B->cols[e] - s0];
    }
    kan_nmc_kan_put(yt + KAN_NMC_KAN_W * r * L->out, B->yrow,
                    KAN_NMC_KAN_W * L->out);
  }
}

/* Loss and unnormalised JVP sums over rows [0, n) in the CPU target's
 * order, in double whatever the element type (the partials are the host's
 * f64 exchange): partials[0] = sum of row losses, partials[1 + d] = sum over
 * rows and classes of dL/dz . z'_d. mse: target is n x classes values,
 * otherwise n class indices (one word each). */
static inline void kan_nmc_kan_loss(int mse, unsigned z, unsigned zt,
                                    unsigned target, unsigned n,
                                    unsigned classes, unsigned width,
                                    unsigned partials) {
  const kan_nmc_real *zz =
      (const kan_nmc_real *)kan_nmc_ddr_range(z, KAN_NMC_KAN_W * n * classes);
  const kan_nmc_real *zd = (const kan_nmc_real *)kan_nmc_ddr_range(
      zt, KAN_NMC_KAN_W * width * n * classes);
  double *out = (double *)kan_nmc_ddr_range(partials, 2u * (1u + width));
  double acc = 0.0;
  unsigned i, c, d;
  for (d = 0; d < width; ++d)
    out[1 + d] = 0.0;
  for (i = 0; i < n; ++i) {
    const kan_nmc_real *zi = zz + i * classes;
    if (mse) {
      const kan_nmc_real *yi = (const kan_nmc_real *)kan_nmc_ddr_range(
          target + KAN_NMC_KAN_W * i * classes, KAN_NMC_KAN_W * classes);
      for (c = 0; c < classes; ++c) {
        double r = (double)zi[c] - (double)yi[c];
        acc += r * r;
        for (d = 0; d < width; ++d)
          out[1 + d] += 2.0 * r * zd[(d * n + i) * classes + c];
      }
    } else {
      unsigned y = *(const unsigned *)kan_nmc_ddr_ptr(target + i);
      double mx = (double)zi[0], se = 0.0;
      for (c = 1; c < classes; ++c)
        if (zi[c] > mx)
          mx = zi[c];
      for (c = 0; c < classes; ++c)
        se += exp(zi[c] - mx);
      acc += mx + log(se) - zi[y];
      for (c = 0; c < classes; ++c) {
        double g = exp(zi[c] - mx) / se - (c == y ? 1.0 : 0.0);
        for (d = 0; d < width; ++d)
          out[1 + d] += g * zd[(d * n + i) * classes + c];
      }
    }
  }
  out[0] = acc;
}

/* theta -= scale * lr_scale * sum_d coef[d] v_d, in place in DDR (sparse
 * positions): the product the CPU target's kan_train_step_scaled forms
 * (kan_update_sparse: per direction, draws in order, one rounding per
 * entry). Each direction's draws go to the draws buffer first (Philox, no
 * DDR), so the DDR permit is held only while the entries are updated; a
 * tensor with more draws than the buffer holds is updated by kanrt under
 * one permit. */
static inline void kan_nmc_kan_update(unsigned param, unsigned size,
                                      unsigned coef, unsigned width,
                                      unsigned stream, double scale,
                                      double density, unsigned long long seed,
                                      unsigned step, double lr_scale,
                                      const kan_nmc_kan_bufs *B) {
  double *coef_buf = B->coef, sc = scale * lr_scale;
  unsigned m = (unsigned)kan_sparse_count(size, density), d, e;
  kan_nmc_real *theta;
  kan_nmc_kan_get(coef_buf, coef, 2u * width);
  if (m > B->max_draws) {
    kan_nmc_ddr_acquire();
    KAN_NMC_KAN_RT(kan_update_sparse)
    (seed, step, width, stream, size, density, coef_buf, sc,
     (kan_nmc_real *)kan_nmc_ddr_range(param, KAN_NMC_KAN_W * size));
    kan_nmc_ddr_release();
    return;
  }
  theta = (kan_nmc_real *)kan_nmc_ddr_range(param, KAN_NMC_KAN_W * size);
  for (d = 0; d < width; ++d) {
    const double c = coef_buf[d];
    if (c == 0.0)
      continue;
    kan_perturb_sparse(seed, step, d, stream, size, m, (uint32_t *)B->idx,
                       (int32_t *)B->sgn);
    kan_nmc_ddr_acquire();
    for (e = 0; e < m; ++e)
      theta[B->idx[e]] = (kan_nmc_real)((double)theta[B->idx[e]] -
                                        sc * (c * (double)B->sgn[e]));
    kan_nmc_ddr_release();
  }
}

/*===--- What an emitted model_core.c gives the core program --------------===*
 * The command loop is static (programs/kan_nmc_model_core.c); the emitted
 * file defines this core's buffer binding and one function per nmc.entry,
 * each printed from the entry's IR body.
 *===----------------------------------------------------------------------===*/

/* One command's arguments, read from the io block. */
typedef struct kan_nmc_kan_cmd {
  unsigned rows;           /* rows of this chip's launch */
  unsigned long long seed; /* run seed (perturbations, batch draws) */
  unsigned step;           /* training step */
  double lr_scale;         /* step-size factor (1: none given) */
} kan_nmc_kan_cmd;

typedef void (*kan_nmc_kan_entry)(const kan_nmc_kan_bufs *B,
                                  const kan_nmc_kan_core *cc,
                                  const kan_nmc_kan_cmd *c);

typedef struct kan_nmc_kan_model {
  kan_nmc_kan_entry forward;    /* KAN_CMD_FORWARD */
  kan_nmc_kan_entry train_step; /* KAN_CMD_TRAIN; 0: a forward-only program */
  unsigned split_outputs;       /* cores split output blocks, not rows */
  unsigned io;                  /* DDR: the io block */
  unsigned x, target, y;        /* DDR: input rows, class indices (0: none),
                                   output rows */
  unsigned inputs, outputs;
} kan_nmc_kan_model;

/* Defined by the emitted model_core.c. */
extern const kan_nmc_kan_model kan_nmc_kan_program;
void kan_nmc_kan_bind(kan_nmc_kan_bufs *B); /* this core's bank buffers */

#endif /* KAN_NMC_KAN_H */
