/*===- kan_reference.c - naive KAN reference (tests only) -------*- C -*-===*/
#include "kan_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* All levels 0..k of the recursion for one scalar, exactly as efficient-kan
   writes it: level p has G+2k-p entries. tab[p][j]. */
static void cox_de_boor(const double *t, int G, int k, double x,
                        double *tab /* (k+1) x (G+2k) */) {
  const int L = G + 2 * k;
  int p, j;
  for (j = 0; j < L; ++j)
    tab[j] = (t[j] <= x && x < t[j + 1]) ? 1.0 : 0.0;
  for (p = 1; p <= k; ++p) {
    const double *prev = tab + (size_t)(p - 1) * L;
    double *cur = tab + (size_t)p * L;
    for (j = 0; j < L - p; ++j) {
      const double d1 = t[j + p] - t[j], d2 = t[j + p + 1] - t[j + 1];
      const double a = d1 != 0 ? (x - t[j]) / d1 * prev[j] : 0.0;
      const double b = d2 != 0 ? (t[j + p + 1] - x) / d2 * prev[j + 1] : 0.0;
      cur[j] = a + b;
    }
    for (; j < L; ++j)
      cur[j] = 0.0;
  }
}

static double *scratch(int G, int k) {
  return (double *)calloc((size_t)(k + 1) * (size_t)(G + 2 * k), sizeof(double));
}

void kanref_basis(size_t N, size_t I, int G, int k, const double *x,
                  const double *grid, double *B) {
  const size_t nb = (size_t)(G + k), nk = (size_t)(G + 2 * k + 1);
  double *tab = scratch(G, k);
  size_t n, i, j;
  for (n = 0; n < N; ++n)
    for (i = 0; i < I; ++i) {
      cox_de_boor(grid + i * nk, G, k, x[n * I + i], tab);
      for (j = 0; j < nb; ++j)
        B[(n * I + i) * nb + j] = tab[(size_t)k * (G + 2 * k) + j];
    }
  free(tab);
}

void kanref_basis_deriv(size_t N, size_t I, int G, int k, const double *x,
                        const double *grid, double *dB) {
  const size_t nb = (size_t)(G + k), nk = (size_t)(G + 2 * k + 1);
  double *tab = scratch(G, k);
  size_t n, i, j;
  for (n = 0; n < N; ++n)
    for (i = 0; i < I; ++i) {
      const double *t = grid + i * nk;
      cox_de_boor(t, G, k, x[n * I + i], tab);
      for (j = 0; j < nb; ++j) {
        double v = 0;
        if (k > 0) {
          const double *lo = tab + (size_t)(k - 1) * (G + 2 * k);
          const double d1 = t[j + k] - t[j], d2 = t[j + k + 1] - t[j + 1];
          if (d1 != 0)
            v += lo[j] / d1;
          if (d2 != 0)
            v -= lo[j + 1] / d2;
          v *= k;
        }
        dB[(n * I + i) * nb + j] = v;
      }
    }
  free(tab);
}

double kanref_act(int act, double v) {
  return act == 1 ? v : v / (1.0 + exp(-v));
}

double kanref_act_deriv(int act, double v) {
  double s;
  if (act == 1)
    return 1.0;
  s = 1.0 / (1.0 + exp(-v));
  return s * (1.0 + v * (1.0 - s));
}

void kanref_layer_forward(size_t N, size_t I, size_t O, int G, int k, int act,
                          const double *x, const double *grid,
                          const double *base_w, const double *spline_w,
                          const double *scaler, double *y) {
  const size_t nb = (size_t)(G + k);
  double *B = (double *)malloc(N * I * nb * sizeof(double) + 1);
  size_t n, o, i, j;
  kanref_basis(N, I, G, k, x, grid, B);
  for (n = 0; n < N; ++n)
    for (o = 0; o < O; ++o) {
      double s = 0;
      for (i = 0; i < I; ++i) {
        const double sc = scaler ? scaler[o * I + i] : 1.0;
        s += kanref_act(act, x[n * I + i]) * base_w[o * I + i];
        for (j = 0; j < nb; ++j)
          s += B[(n * I + i) * nb + j] * (spline_w[(o * I + i) * nb + j] * sc);
      }
      y[n * O + o] = s;
    }
  free(B);
}

void kanref_layer_jvp(size_t N, size_t I, size_t O, int G, int k, int act,
                      const double *x, const double *xt, const double *grid,
                      const double *base_w, const double *spline_w,
                      const double *scaler, const double *base_wt,
                      const double *spline_wt, const double *scaler_t,
                      double *yt) {
  const size_t nb = (size_t)(G + k);
  double *B = (double *)malloc(N * I * nb * sizeof(double) + 1);
  double *dB = (double *)malloc(N * I * nb * sizeof(double) + 1);
  size_t n, o, i, j;
  kanref_basis(N, I, G, k, x, grid, B);
  kanref_basis_deriv(N, I, G, k, x, grid, dB);
  for (n = 0; n < N; ++n)
    for (o = 0; o < O; ++o) {
      double s = 0;
      for (i = 0; i < I; ++i) {
        const size_t oi = o * I + i, ni = n * I + i;
        const double sc = scaler ? scaler[oi] : 1.0;
        const double sct = (scaler && scaler_t) ? scaler_t[oi] : 0.0;
        const double xv = x[ni], xtv = xt ? xt[ni] : 0.0;
        s += kanref_act_deriv(act, xv) * xtv * base_w[oi];
        if (base_wt)
          s += kanref_act(act, xv) * base_wt[oi];
        for (j = 0; j < nb; ++j) {
          const double c = spline_w[oi * nb + j];
          const double ct = spline_wt ? spline_wt[oi * nb + j] : 0.0;
          s += dB[ni * nb + j] * xtv * (c * sc);
          s += B[ni * nb + j] * (ct * sc + c * sct);
        }
      }
      yt[n * O + o] = s;
    }
  free(B);
  free(dB);
}

double kanref_mse(size_t n, const double *z, const double *y) {
  double s = 0;
  size_t i;
  for (i = 0; i < n; ++i)
    s += (z[i] - y[i]) * (z[i] - y[i]);
  return n ? s / (double)n : 0.0;
}

double kanref_mse_jvp(size_t n, const double *z, const double *y,
                      const double *zt) {
  double s = 0;
  size_t i;
  for (i = 0; i < n; ++i)
    s += 2.0 * (z[i] - y[i]) * zt[i];
  return n ? s / (double)n : 0.0;
}

/* Stable log-sum-exp softmax of one row. */
static void softmax_row(size_t C, const double *z, double *p) {
  double mx = z[0], s = 0;
  size_t c;
  for (c = 1; c < C; ++c)
    if (z[c] > mx)
      mx = z[c];
  for (c = 0; c < C; ++c)
    s += (p[c] = exp(z[c] - mx));
  for (c = 0; c < C; ++c)
    p[c] /= s;
}

double kanref_softmax_xent(size_t N, size_t C, const double *z,
                           const int64_t *labels) {
  double *p = (double *)malloc(C * sizeof(double) + 1), s = 0;
  size_t n;
  for (n = 0; n < N; ++n) {
    softmax_row(C, z + n * C, p);
    s -= log(p[labels[n]]);
  }
  free(p);
  return N ? s / (double)N : 0.0;
}

double kanref_softmax_xent_jvp(size_t N, size_t C, const double *z,
                               const int64_t *labels, const double *zt) {
  double *p = (double *)malloc(C * sizeof(double) + 1), s = 0;
  size_t n, c;
  for (n = 0; n < N; ++n) {
    softmax_row(C, z + n * C, p);
    for (c = 0; c < C; ++c)
      s += (p[c] - ((int64_t)c == labels[n] ? 1.0 : 0.0)) * zt[n * C + c];
  }
  free(p);
  return N ? s / (double)N : 0.0;
}
