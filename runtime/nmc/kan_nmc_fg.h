/*===- kan_nmc_fg.h - dense perturbations on the cores (the fg rule) -----===*
 *
 * Header-only (static functions): included after kan_nmc_kan.h by the
 * model_core.c of a program whose layers draw dense directions (normal or
 * rademacher, the forward-gradient rule's). Where sparse directions are
 * applied in C (kan_nmc_kan_sparse_tangent), a dense W'_d is as large as W:
 * its panels are packed into DDR in the layout of kan_nmc_kan_pack, and the
 * emitted loop nest multiplies them on the FPU tile kernels like W^T. The
 * draws are kanrt's (kan_perturb_dense_range_f64), the products those of
 * kan_pack_weights_jvp_f64 and the update's those of kan_update_dense_f64
 * (its multiply-adds on the FPU, kan_nmc_axpy.h), so the numbers are those
 * of the CPU target.
 *
 * C99 (gnu99) as nmc-gcc 4.8 accepts it; sizes and addresses in words.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_FG_H
#define KAN_NMC_FG_H

#ifdef KAN_NMC_F32
#error "dense perturbations (the fg rule) are built for f64 programs only"
#endif

#include "kan_nmc_axpy.h"
#include "kan_nmc_kan.h"

/* Panels (q, b) of W'_d^T = [Vb | Vc * S + C * Vs]^T of direction d into
 * DDR at `packed`, round robin over the cores, each staged in B->bt. V is
 * drawn from (seed, step, d, stream sb / sc / ss; -1: no perturbation) as
 * kan.perturb draws it; `draws` holds chunk * (G + k + 2) doubles. */
static void kan_nmc_fg_pack_tangent(const kan_nmc_layer_desc *L,
                                    const kan_nmc_kan_bufs *B, unsigned packed,
                                    double *draws, unsigned long long seed,
                                    unsigned step, unsigned d, int sb, int sc,
                                    int ss, int dist,
                                    const kan_nmc_kan_core *cc) {
  unsigned gk = L->G + L->k, gk1 = gk + 1u;
  unsigned nq = (L->in + L->chunk - 1u) / L->chunk;
  unsigned nblk = (L->out + KAN_NMC_KAN_NB - 1u) / KAN_NMC_KAN_NB, t;
  const double *cw =
      (const double *)kan_nmc_ddr_range(L->spline, 2u * L->out * L->in * gk);
  const double *s =
      L->scaler ? (const double *)kan_nmc_ddr_range(L->scaler, 2u * L->out * L->in)
                : 0;
  if (!s)
    ss = -1; /* no scaler: nothing to perturb (kan_pack_weights_jvp) */
  for (t = cc->me; t < nq * nblk; t += cc->ncores) {
    unsigned q = t / nblk, b = t % nblk;
    unsigned i0 = q * L->chunk, icq = kan_nmc_kan_min(L->chunk, L->in - i0);
    unsigned o0 = b * KAN_NMC_KAN_NB;
    unsigned nb = kan_nmc_kan_min(KAN_NMC_KAN_NB, L->out - o0);
    unsigned kc = icq * gk1, p, oo;
    double *vb = draws, *vc = draws + icq, *vs = draws + icq + icq * gk;
    for (p = 0; p < kc * KAN_NMC_KAN_NB; ++p)
      B->bt[p] = 0.0;
    for (oo = 0; oo < nb; ++oo) {
      unsigned oi0 = (o0 + oo) * L->in + i0;
      if (sb >= 0)
        kan_perturb_dense_range_f64(seed, step, d, (unsigned)sb, dist, oi0,
                                    icq, vb);
      if (sc >= 0)
        kan_perturb_dense_range_f64(seed, step, d, (unsigned)sc, dist,
                                    oi0 * gk, icq * gk, vc);
      if (ss >= 0)
        kan_perturb_dense_range_f64(seed, step, d, (unsigned)ss, dist, oi0,
                                    icq, vs);
      for (p = 0; p < icq; ++p)
        B->bt[p * KAN_NMC_KAN_NB + oo] = sb >= 0 ? vb[p] : 0.0;
      for (p = 0; p < icq * gk; ++p) {
        unsigned ii = p / gk, oi = oi0 + ii;
        double sv = s ? s[oi] : 1.0;
        double v = sc >= 0 ? vc[p] * sv : 0.0;
        if (ss >= 0)
          v += cw[oi * gk + p % gk] * vs[ii];
        B->bt[(icq + p) * KAN_NMC_KAN_NB + oo] = v;
      }
    }
    kan_nmc_kan_put(packed + (kan_nmc_kan_panel(L, q, b) - L->packed), B->bt,
                    2u * kc * KAN_NMC_KAN_NB);
  }
}

/* Elements of a parameter one update step moves through the banks. */
#define KAN_NMC_FG_CHUNK 256u

/* theta -= scale * sum_d coef[d] v_d for dense v, in place in DDR, in the
 * order of kan_update_dense_f64 (acc = acc + c_d v_d over d, then theta +
 * (-scale) acc, which rounds as theta - scale acc) with both multiply-adds
 * on the FPU (kan_nmc_axpy_f64). Elements are independent: the cores of a
 * chip take its chunks round robin. acc, v and th hold KAN_NMC_FG_CHUNK
 * doubles (v two more), acc in another bank than v and th. */
static void kan_nmc_fg_update(unsigned param, unsigned size, unsigned coef,
                              unsigned width, unsigned stream, int dist,
                              double scale, unsigned long long seed,
                              unsigned step, double *coef_buf, double *acc,
                              double *v, double *th,
                              const kan_nmc_kan_core *cc) {
  unsigned j0, j, i;
  double *neg = v + KAN_NMC_FG_CHUNK; /* -scale, even-aligned in a bank */
  kan_nmc_kan_get(coef_buf, coef, 2u * width);
  for (j0 = cc->me * KAN_NMC_FG_CHUNK; j0 < size;
       j0 += cc->ncores * KAN_NMC_FG_CHUNK) {
    unsigned cnt = kan_nmc_kan_min(KAN_NMC_FG_CHUNK, size - j0);
    for (j = 0; j < cnt; ++j)
      acc[j] = 0.0;
    for (i = 0; i < width; ++i) {
      kan_perturb_dense_range_f64(seed, step, i, stream, dist, j0, cnt, v);
      kan_nmc_axpy_f64(coef_buf + i, v, acc, (int)cnt);
    }
    *neg = -scale;
    kan_nmc_kan_get(th, param + 2u * j0, 2u * cnt);
    kan_nmc_axpy_f64(neg, acc, th, (int)cnt);
    kan_nmc_kan_put(param + 2u * j0, th, 2u * cnt);
  }
}

#endif /* KAN_NMC_FG_H */
