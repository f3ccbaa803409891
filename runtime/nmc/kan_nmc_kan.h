/*===- kan_nmc_kan.h - core-side KAN layer routines for emitted programs --===*
 *
 * Header-only (static functions): included once by the model_core.c that
 * kan-translate --target=nmquad emits. The emitted file owns the schedule
 * (bank buffers, DDR map, the order of the calls) and the loop nest of
 * every layer GEMM (printed from the nmc IR); these routines are the
 * primitives it calls: copies under the DDR-stream permit, address
 * arithmetic of the layouts below, and the per-core work of the steps that
 * stay in C (weight packing, feature rows, sparse tangents, loss, update). Features and perturbations come from
 * the kanrt kernels (kernels.c, rng.c, optim.c), compiled into the core
 * program, so the numbers are those of the CPU target.
 *
 * Layouts (DDR, fp64, word addresses):
 *   feature rows  N x K, chunk-major: chunk q (inputs [q*ic, q*ic+icq)) at
 *                 column q*ic*(G+k+1), holding [act(x) (icq) | B(x) (icq*gk)]
 *   packed W^T    panel (q, b) = rows of chunk q, outputs [32b, 32b+32):
 *                 Kc_q x 32 row-major at (q*ic*(G+k+1)*outp + 32b*Kc_q),
 *                 outp = out rounded up to 32; columns past `out` are zero
 *                 (narrow layers run the same 32-wide FPU kernels)
 *   tangents      direction-major: (d*N + r)*out, as the CPU target
 *
 * C99 (gnu99) as nmc-gcc 4.8 accepts it; sizes and addresses in words.
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

#define KAN_NMC_KAN_NB 32u

typedef struct kan_nmc_layer_desc {
  unsigned in, out, G, k, act, chunk, tile_rows;
  unsigned grid, base, spline, scaler; /* DDR addresses; scaler 0: none */
  unsigned packed;                     /* packed W^T panels */
  int streams[3];                      /* perturbation streams, -1: none */
  double density;
} kan_nmc_layer_desc;

typedef struct kan_nmc_kan_bufs {
  double *a;     /* A panel: tile_rows x Kc */
  double *bt;    /* Bt panels: 2 halves of Kc_max x 32 */
  double *c;     /* C tile: blocks of tile_rows x 32 */
  double *grid;  /* chunk x (G+2k+1) */
  double *aux;   /* kan_grid_aux_size(chunk, G, k) */
  double *x;     /* tile_rows x chunk */
  double *xt;    /* tile_rows x chunk */
  double *feat;  /* tile_rows x Kc: feature rows on their way to DDR */
  double *seg;   /* one segment of a feature row (sparse tangents) */
  double *yrow;  /* one tangent row */
  unsigned *idx; /* sparse draws */
  int *sgn;
  unsigned *cols, *orow;
  double *vals;
  double *coef;  /* update coefficients (width) */
  unsigned c_words;  /* words of the C tile (data rows pass through it) */
  unsigned bt_half;  /* doubles per Bt half */
  unsigned seg_cols; /* feature columns per segment */
  unsigned max_nnz;  /* entries of cols/orow/vals */
} kan_nmc_kan_bufs;

typedef struct kan_nmc_kan_core {
  unsigned me, ncores, split_outputs;
} kan_nmc_kan_core;

static unsigned kan_nmc_kan_gk1(const kan_nmc_layer_desc *L) {
  return L->G + L->k + 1u;
}
static unsigned kan_nmc_kan_min(unsigned a, unsigned b) { return a < b ? a : b; }

/* Blocking copies, each under a DDR-stream permit. */
static void kan_nmc_kan_get(void *dst, unsigned addr, unsigned words) {
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(dst, kan_nmc_ddr_range(addr, words), words, &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();
}
static void kan_nmc_kan_put(unsigned addr, const void *src, unsigned words) {
  kan_nmc_dma h = KAN_NMC_DMA_INIT;
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(kan_nmc_ddr_range(addr, words), src, words, &h);
  kan_nmc_dma_wait(&h);
  kan_nmc_ddr_release();
}

/* This core's share [*b, *e) of `count` items. */
static void kan_nmc_kan_share(unsigned count, const kan_nmc_kan_core *cc,
                              unsigned *b, unsigned *e) {
  *b = cc->me * count / cc->ncores;
  *e = (cc->me + 1u) * count / cc->ncores;
}

/* Columns of K chunk q (whole inputs [q*chunk, q*chunk+icq)). */
static unsigned kan_nmc_kan_chunk_cols(const kan_nmc_layer_desc *L,
                                       unsigned q) {
  unsigned i0 = q * L->chunk;
  return kan_nmc_kan_min(L->chunk, L->in - i0) * kan_nmc_kan_gk1(L);
}

/* DDR address of panel (q, b) of the packed W^T (32 columns, padded). */
static unsigned kan_nmc_kan_panel(const kan_nmc_layer_desc *L, unsigned q,
                                  unsigned b) {
  unsigned nblk = (L->out + KAN_NMC_KAN_NB - 1u) / KAN_NMC_KAN_NB;
  unsigned i0 = q * L->chunk;
  return L->packed + 2u * (i0 * kan_nmc_kan_gk1(L) * nblk * KAN_NMC_KAN_NB +
                           b * KAN_NMC_KAN_NB * kan_nmc_kan_chunk_cols(L, q));
}

/* Asynchronous copy under a DDR-stream permit held exactly while words
 * move: on NMC the copy is a core loop done inside kan_nmc_kan_start, so
 * the permit is taken and given back there; under emulation the words move
 * at the wait, so kan_nmc_kan_wait takes it. A core holds at most one
 * permit at a time either way. */
static void kan_nmc_kan_start(void *dst, const void *src, unsigned words,
                              kan_nmc_dma *h) {
#ifndef KAN_NMC_HOST_EMU
  kan_nmc_ddr_acquire();
  kan_nmc_dma_start(dst, src, words, h);
  kan_nmc_ddr_release();
#else
  kan_nmc_dma_start(dst, src, words, h);
#endif
}
static void kan_nmc_kan_wait(kan_nmc_dma *h) {
#ifdef KAN_NMC_HOST_EMU
  kan_nmc_ddr_acquire();
  kan_nmc_dma_wait(h);
  kan_nmc_ddr_release();
#else
  kan_nmc_dma_wait(h);
#endif
}

/* rows x cols doubles from DDR (row stride src_ld doubles) into a bank
 * buffer (row stride dst_ld), one permit per row. */
static void kan_nmc_kan_get_rows(double *dst, unsigned dst_ld, unsigned src,
                                 unsigned src_ld, unsigned rows,
                                 unsigned cols) {
  unsigned r;
  for (r = 0; r < rows; ++r)
    kan_nmc_kan_get(dst + r * dst_ld, src + 2u * r * src_ld, 2u * cols);
}

/* The C tile rows [rb, rb+mm) of output blocks [b0, b1) to DDR rows of
 * `out` doubles at c (block b of the tile: m x 32 at (b-b0)*m*32). */
static void kan_nmc_kan_put_c(const kan_nmc_layer_desc *L, unsigned c,
                              const double *tile, unsigned m, unsigned rb,
                              unsigned mm, unsigned b0, unsigned b1) {
  unsigned rr, b;
  for (rr = 0; rr < mm; ++rr)
    for (b = b0; b < b1; ++b) {
      unsigned o0 = b * KAN_NMC_KAN_NB;
      unsigned nb = kan_nmc_kan_min(KAN_NMC_KAN_NB, L->out - o0);
      kan_nmc_kan_put(c + 2u * ((rb + rr) * L->out + o0),
                      tile + ((b - b0) * m + rr) * KAN_NMC_KAN_NB, 2u * nb);
    }
}

static void kan_nmc_kan_zero(double *p, unsigned count) {
  unsigned i;
  for (i = 0; i < count; ++i)
    p[i] = 0.0;
}

/* Panels (q, b) of W^T, round-robin over the cores. Sources are read in
 * place from DDR (O(|W|) once per step, against O(N |W|) for the GEMM). */
static void kan_nmc_kan_pack(const kan_nmc_layer_desc *L,
                             const kan_nmc_kan_bufs *B,
                             const kan_nmc_kan_core *cc) {
  unsigned gk = L->G + L->k, gk1 = gk + 1u;
  unsigned nq = (L->in + L->chunk - 1u) / L->chunk;
  unsigned nblk = (L->out + KAN_NMC_KAN_NB - 1u) / KAN_NMC_KAN_NB, t;
  const double *wb = (const double *)kan_nmc_ddr_range(L->base, 2u * L->out * L->in);
  const double *cw =
      (const double *)kan_nmc_ddr_range(L->spline, 2u * L->out * L->in * gk);
  const double *s =
      L->scaler ? (const double *)kan_nmc_ddr_range(L->scaler, 2u * L->out * L->in)
                : 0;
  for (t = cc->me; t < nq * nblk; t += cc->ncores) {
    unsigned q = t / nblk, b = t % nblk;
    unsigned i0 = q * L->chunk, icq = kan_nmc_kan_min(L->chunk, L->in - i0);
    unsigned o0 = b * KAN_NMC_KAN_NB;
    unsigned nb = kan_nmc_kan_min(KAN_NMC_KAN_NB, L->out - o0);
    unsigned kc = icq * gk1, p, oo;
    for (p = 0; p < kc * KAN_NMC_KAN_NB; ++p)
      B->bt[p] = 0.0;
    for (oo = 0; oo < nb; ++oo) {
      unsigned o = o0 + oo;
      for (p = 0; p < icq; ++p)
        B->bt[p * KAN_NMC_KAN_NB + oo] = wb[o * L->in + i0 + p];
      for (p = 0; p < icq * gk; ++p) {
        unsigned ii = p / gk, j = p % gk;
        double v = cw[(o * L->in + i0 + ii) * gk + j];
        if (s)
          v = v * s[o * L->in + i0 + ii];
        B->bt[(icq + p) * KAN_NMC_KAN_NB + oo] = v;
      }
    }
    kan_nmc_kan_put(kan_nmc_kan_panel(L, q, b), B->bt,
                    2u * kc * KAN_NMC_KAN_NB);
  }
}

/* Feature rows [r0, r1) of x (n_rows x in) into f (n_rows x K). With xt
 * (direction-major, d) it writes the tangent features A'_d instead. */
static void kan_nmc_kan_features(const kan_nmc_layer_desc *L,
                                 const kan_nmc_kan_bufs *B, unsigned x,
                                 unsigned xt, unsigned d, unsigned n_rows,
                                 unsigned f, unsigned r0, unsigned r1) {
  unsigned gk1 = kan_nmc_kan_gk1(L), gt = L->G + 2u * L->k + 1u;
  unsigned kfull = L->in * gk1, m = L->tile_rows, rb, i0;
  for (rb = r0; rb < r1; rb += m) {
    unsigned mm = kan_nmc_kan_min(m, r1 - rb), rr;
    for (i0 = 0; i0 < L->in; i0 += L->chunk) {
      unsigned icq = kan_nmc_kan_min(L->chunk, L->in - i0), kc = icq * gk1;
      kan_nmc_kan_get(B->grid, L->grid + 2u * i0 * gt, 2u * icq * gt);
      kan_grid_prepare_f64(icq, (int)L->G, (int)L->k, B->grid, B->aux);
      for (rr = 0; rr < mm; ++rr) {
        kan_nmc_kan_get(B->x + rr * icq, x + 2u * ((rb + rr) * L->in + i0),
                        2u * icq);
        if (xt)
          kan_nmc_kan_get(B->xt + rr * icq,
                          xt + 2u * ((d * n_rows + rb + rr) * L->in + i0),
                          2u * icq);
      }
      if (xt)
        kan_pack_features_jvp_f64(mm, icq, (int)L->G, (int)L->k, (int)L->act,
                                  B->x, icq, 1, B->xt, icq, 0, B->grid, B->aux,
                                  0, 0, B->feat, kc, 0);
      else
        kan_pack_features_f64(mm, icq, (int)L->G, (int)L->k, (int)L->act, B->x,
                              icq, B->grid, B->aux, B->feat, kc);
      for (rr = 0; rr < mm; ++rr)
        kan_nmc_kan_put(f + 2u * ((rb + rr) * kfull + i0 * gk1),
                        B->feat + rr * kc, 2u * kc);
    }
  }
}

/* Chunk-major position of full-layout feature column col. */
static unsigned kan_nmc_kan_column(const kan_nmc_layer_desc *L, unsigned col) {
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
static unsigned kan_nmc_kan_sparse_draws(const kan_nmc_layer_desc *L,
                                         const kan_nmc_kan_bufs *B,
                                         unsigned long long seed,
                                         unsigned step, unsigned d) {
  unsigned gk = L->G + L->k, q = 0, e, j;
  unsigned sizes[3];
  const double *cw =
      (const double *)kan_nmc_ddr_range(L->spline, 2u * L->out * L->in * gk);
  const double *s =
      L->scaler ? (const double *)kan_nmc_ddr_range(L->scaler, 2u * L->out * L->in)
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
          B->vals[q] = B->vals[q] * s[B->orow[q] * L->in + rem / gk];
        ++q;
      } else {
        /* A scaler's gk spline columns are consecutive in the layout. */
        unsigned o = f / L->in;
        unsigned c0 = kan_nmc_kan_column(L, L->in + (f % L->in) * gk);
        for (j = 0; j < gk; ++j, ++q) {
          B->orow[q] = o;
          B->cols[q] = c0 + j;
          B->vals[q] = (double)B->sgn[e] * cw[f * gk + j];
        }
      }
    }
  }
  return q;
}

/* y'_d rows [r0, r1) += A W'_d^T for sparse W'_d (zero_first: y'_d = that). */
static void kan_nmc_kan_sparse_tangent(const kan_nmc_layer_desc *L,
                                       const kan_nmc_kan_bufs *B, unsigned f,
                                       unsigned yt, unsigned nnz, unsigned r0,
                                       unsigned r1, int zero_first) {
  unsigned kfull = L->in * kan_nmc_kan_gk1(L), r, s0, e, o;
  for (r = r0; r < r1; ++r) {
    if (zero_first)
      for (o = 0; o < L->out; ++o)
        B->yrow[o] = 0.0;
    else
      kan_nmc_kan_get(B->yrow, yt + 2u * r * L->out, 2u * L->out);
    for (s0 = 0; s0 < kfull; s0 += B->seg_cols) {
      unsigned len = kan_nmc_kan_min(B->seg_cols, kfull - s0);
      kan_nmc_kan_get(B->seg, f + 2u * (r * kfull + s0), 2u * len);
      for (e = 0; e < nnz; ++e)
        if (B->cols[e] >= s0 && B->cols[e] < s0 + len)
          B->yrow[B->orow[e]] += B->vals[e] * B->seg[B->cols[e] - s0];
    }
    kan_nmc_kan_put(yt + 2u * r * L->out, B->yrow, 2u * L->out);
  }
}

/* Loss and unnormalised JVP sums over rows [0, n) in the CPU target's
 * order: partials[0] = sum of row losses, partials[1 + d] = sum over rows
 * and classes of dL/dz . z'_d. mse: target is n x classes fp64, otherwise
 * n class indices (one word each). */
static void kan_nmc_kan_loss(int mse, unsigned z, unsigned zt, unsigned target,
                             unsigned n, unsigned classes, unsigned width,
                             unsigned partials) {
  const double *zz = (const double *)kan_nmc_ddr_range(z, 2u * n * classes);
  const double *zd =
      (const double *)kan_nmc_ddr_range(zt, 2u * width * n * classes);
  double *out = (double *)kan_nmc_ddr_range(partials, 2u * (1u + width));
  double acc = 0.0;
  unsigned i, c, d;
  for (d = 0; d < width; ++d)
    out[1 + d] = 0.0;
  for (i = 0; i < n; ++i) {
    const double *zi = zz + i * classes;
    if (mse) {
      const double *yi =
          (const double *)kan_nmc_ddr_range(target + 2u * i * classes, 2u * classes);
      for (c = 0; c < classes; ++c) {
        double r = zi[c] - yi[c];
        acc += r * r;
        for (d = 0; d < width; ++d)
          out[1 + d] += 2.0 * r * zd[(d * n + i) * classes + c];
      }
    } else {
      unsigned y = *(const unsigned *)kan_nmc_ddr_ptr(target + i);
      double mx = zi[0], se = 0.0;
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
 * positions): the product the CPU target's kan_train_step_scaled forms. */
static void kan_nmc_kan_update(unsigned param, unsigned size, unsigned coef,
                               unsigned width, unsigned stream, double scale,
                               double density, unsigned long long seed,
                               unsigned step, double lr_scale,
                               double *coef_buf) {
  kan_nmc_kan_get(coef_buf, coef, 2u * width);
  kan_nmc_ddr_acquire();
  kan_update_sparse_f64(seed, step, width, stream, size, density, coef_buf,
                        scale * lr_scale,
                        (double *)kan_nmc_ddr_range(param, 2u * size));
  kan_nmc_ddr_release();
}

/* The io block's step-size factor (0: none given, 1). */
static double kan_nmc_kan_lr_scale(const kan_nmc_word *io) {
  double s = *(const double *)(io + KAN_IO_LR_SCALE);
  return s == 0.0 ? 1.0 : s;
}

/*===--- Training data in chip DDR (KAN_CMD_BATCH / TEST_ROWS / SCORE) ----===*
 * The batch order is kan-train's (lib/Tools/Data.cpp, BatchSampler): step s
 * takes positions [s B, s B + B) of the endless sequence of per-epoch
 * permutations, each a Fisher-Yates shuffle driven by Philox keyed by the
 * seed, counter (i, epoch, 0xDA7A). Core 0 of a chip shuffles an epoch
 * once into one of two slots of the data control block (a step spans at
 * most two epochs: B <= N), the cores then gather their share of the
 * chip's rows and map pixel bytes b to b / 127.5 - 1, kan-train's scaling.
 */

/* Permutation of epoch `e` of n samples into perm (DDR, under one permit:
 * one core shuffles while the others wait at the barrier). */
static void kan_nmc_kan_shuffle(unsigned perm, unsigned n,
                                unsigned long long seed,
                                unsigned long long e) {
  kan_nmc_word *p;
  uint32_t key[2], ctr[4], w[4];
  unsigned i;
  key[0] = (uint32_t)seed;
  key[1] = (uint32_t)(seed >> 32);
  kan_nmc_ddr_acquire();
  p = (kan_nmc_word *)kan_nmc_ddr_range(perm, n);
  for (i = 0; i < n; ++i)
    p[i] = i;
  for (i = n - 1u; i > 0u; --i) {
    unsigned j;
    kan_nmc_word t;
    ctr[0] = i;
    ctr[1] = (uint32_t)e;
    ctr[2] = (uint32_t)(e >> 32);
    ctr[3] = 0xDA7Au;
    kan_philox4x32_10(ctr, key, w);
    j = (unsigned)(((unsigned long long)w[0] * (unsigned long long)(i + 1u)) >>
                   32);
    t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  kan_nmc_ddr_release();
}

/* Image row `idx` (packed) as doubles into DDR row `dst` of `inputs`
 * values, through the C tile in pieces. */
static void kan_nmc_kan_image_row(const kan_nmc_kan_bufs *B, unsigned images,
                                  unsigned idx, unsigned inputs,
                                  unsigned dst) {
  unsigned rw = KAN_DATA_ROW_WORDS(inputs);
  /* Pixels per piece: 2 words as a double + 1/4 word packed, 4 at a time. */
  unsigned piece = B->c_words * 4u / 9u / 4u * 4u, p0, j;
  double *vals = B->c;
  kan_nmc_word *packed;
  if (piece < 4u)
    piece = 4u;
  packed = (kan_nmc_word *)(B->c + piece);
  for (p0 = 0; p0 < inputs; p0 += piece) {
    unsigned len = kan_nmc_kan_min(piece, inputs - p0);
    unsigned w0 = p0 / 4u, nw = (len + 3u) / 4u;
    kan_nmc_kan_get(packed, images + idx * rw + w0, nw);
    for (j = 0; j < len; ++j) {
      unsigned b = (packed[j / 4u] >> (8u * (j % 4u))) & 0xFFu;
      vals[j] = (double)b / 127.5 - 1.0;
    }
    kan_nmc_kan_put(dst + 2u * p0, vals, 2u * len);
  }
}

/* Rows [0, io[ROWS]) of x (and, for a batch, the class indices at target):
 * a training batch drawn for io[STEP] (batch != 0), or the test rows from
 * io[TEST_ROW0] on. */
static void kan_nmc_kan_data_rows(int batch, const kan_nmc_word *io,
                                  const kan_nmc_kan_bufs *B,
                                  const kan_nmc_kan_core *cc, unsigned x,
                                  unsigned target, unsigned inputs) {
  unsigned rows = io[KAN_IO_ROWS], n = io[KAN_IO_DATA_ROWS];
  unsigned ctrl = io[KAN_IO_DATA_CTRL], r0, r1, r, off0 = 0;
  unsigned long long seed = (unsigned long long)io[KAN_IO_SEED_LO] |
                            (unsigned long long)io[KAN_IO_SEED_HI] << 32;
  unsigned long long e0 = 0;
  if (batch) {
    /* Position of row 0: epoch e0, offset off0 (one 64-bit division; the
     * rows reach at most into epoch e0 + 1 as B <= N). */
    unsigned long long first =
        (unsigned long long)io[KAN_IO_STEP] * io[KAN_IO_BATCH] + io[KAN_IO_ROW0];
    e0 = first / n;
    off0 = (unsigned)(first - e0 * n);
    if (cc->me == 0u && rows > 0u) {
      unsigned long long e, e1 = e0 + (off0 + rows - 1u >= n ? 1u : 0u);
      for (e = e0; e <= e1; ++e) {
        unsigned slot = (unsigned)(e & 1u);
        kan_nmc_kan_get(B->c, ctrl + KAN_DATA_CTRL_EPOCH + slot, 1u);
        if (*(kan_nmc_word *)B->c == (kan_nmc_word)(e + 1u))
          continue;
        kan_nmc_kan_shuffle(ctrl + KAN_DATA_CTRL_PERM + slot * n, n, seed, e);
        *(kan_nmc_word *)B->c = (kan_nmc_word)(e + 1u);
        kan_nmc_kan_put(ctrl + KAN_DATA_CTRL_EPOCH + slot, B->c, 1u);
      }
    }
    kan_nmc_barrier((int)cc->ncores);
  }
  kan_nmc_kan_share(rows, cc, &r0, &r1);
  for (r = r0; r < r1; ++r) {
    unsigned idx;
    if (batch) {
      unsigned off = off0 + r, slot = (unsigned)(e0 & 1u);
      if (off >= n) {
        off -= n;
        slot ^= 1u;
      }
      kan_nmc_kan_get(B->c, ctrl + KAN_DATA_CTRL_PERM + slot * n + off, 1u);
      idx = *(kan_nmc_word *)B->c;
    } else {
      idx = io[KAN_IO_TEST_ROW0] + r;
    }
    kan_nmc_kan_image_row(B, batch ? io[KAN_IO_DATA] : io[KAN_IO_TEST], idx,
                          inputs, x + 2u * r * inputs);
    if (batch) {
      kan_nmc_kan_get(B->c, io[KAN_IO_DATA_LABELS] + idx, 1u);
      kan_nmc_kan_put(target + r, B->c, 1u);
    }
  }
}

/* Adds to this core's counter the rows [0, io[ROWS]) of y whose first
 * largest logit (kan-train's argmax) is the test label. */
static void kan_nmc_kan_score(const kan_nmc_word *io,
                              const kan_nmc_kan_bufs *B,
                              const kan_nmc_kan_core *cc, unsigned y,
                              unsigned classes) {
  unsigned rows = io[KAN_IO_ROWS], ctrl = io[KAN_IO_DATA_CTRL], r0, r1, r, c;
  kan_nmc_word *cnt = (kan_nmc_word *)(B->c + classes + 1u);
  kan_nmc_kan_share(rows, cc, &r0, &r1);
  kan_nmc_kan_get(cnt, ctrl + KAN_DATA_CTRL_CORRECT + cc->me, 1u);
  for (r = r0; r < r1; ++r) {
    unsigned best = 0;
    kan_nmc_kan_get(B->c, y + 2u * r * classes, 2u * classes);
    kan_nmc_kan_get(cnt + 1, io[KAN_IO_TEST_LABELS] + io[KAN_IO_TEST_ROW0] + r,
                    1u);
    for (c = 1; c < classes; ++c)
      if (B->c[c] > B->c[best])
        best = c;
    cnt[0] += best == cnt[1];
  }
  kan_nmc_kan_put(ctrl + KAN_DATA_CTRL_CORRECT + cc->me, cnt, 1u);
}

#endif /* KAN_NMC_KAN_H */
