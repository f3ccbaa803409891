/*===- symbolic.c - symbolic edges of a KAN ---------------------*- C -*-===*/

#include "kanrt/symbolic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double sq(double u) { return u * u; }

/* Value and derivative of each library function at u. */
static double sym_eval(int fn, double u, double *d) {
  double v, s, e;
  switch (fn) {
  case 0: *d = 1; return u;                                      /* x */
  case 1: *d = 2 * u; return u * u;                              /* x^2 */
  case 2: *d = 3 * u * u; return u * u * u;                      /* x^3 */
  case 3: *d = 4 * u * u * u; return sq(u * u);                  /* x^4 */
  case 4: *d = 5 * sq(u * u); return sq(u * u) * u;              /* x^5 */
  case 5: *d = -1 / (u * u); return 1 / u;                       /* 1/x */
  case 6: *d = -2 / (u * u * u); return 1 / (u * u);             /* 1/x^2 */
  case 7: *d = -3 / sq(u * u); return 1 / (u * u * u);           /* 1/x^3 */
  case 8: *d = -4 / (sq(u * u) * u); return 1 / sq(u * u);       /* 1/x^4 */
  case 9: *d = -5 / sq(u * u * u); return 1 / (sq(u * u) * u);   /* 1/x^5 */
  case 10: s = sqrt(u); *d = 0.5 / s; return s;                  /* sqrt */
  case 11: s = sqrt(u); *d = 1.5 * s; return u * s;              /* x^1.5 */
  case 12: s = sqrt(u); *d = -0.5 / (u * s); return 1 / s;       /* 1/sqrt(x) */
  case 13: v = exp(u); *d = v; return v;                         /* exp */
  case 14: *d = 1 / u; return log(u);                            /* log */
  case 15: *d = (u > 0) - (u < 0); return fabs(u);               /* abs */
  case 16: *d = cos(u); return sin(u);                           /* sin */
  case 17: *d = -sin(u); return cos(u);                          /* cos */
  case 18: v = tan(u); *d = 1 + v * v; return v;                 /* tan */
  case 19: v = tanh(u); *d = 1 - v * v; return v;                /* tanh */
  case 20: *d = 0; return (double)((u > 0) - (u < 0));           /* sgn */
  case 21: *d = 1 / sqrt(1 - u * u); return asin(u);             /* arcsin */
  case 22: *d = -1 / sqrt(1 - u * u); return acos(u);            /* arccos */
  case 23: *d = 1 / (1 + u * u); return atan(u);                 /* arctan */
  case 24: *d = 1 / (1 - u * u); return atanh(u);                /* arctanh */
  case 25: *d = 0; return 0;                                     /* 0 */
  case 26: e = exp(-u * u); *d = -2 * u * e; return e;           /* gaussian */
  case 27: *d = sinh(u); return cosh(u);                         /* cosh */
  case 28: v = 1 / (1 + exp(-u)); *d = v * (1 - v); return v;    /* sigmoid */
  default: *d = NAN; return NAN;
  }
}

static const char *const kNames[] = {
    "x",      "x^2",    "x^3",    "x^4",    "x^5",       "1/x",
    "1/x^2",  "1/x^3",  "1/x^4",  "1/x^5",  "sqrt",      "x^1.5",
    "1/sqrt(x)", "exp", "log",    "abs",    "sin",       "cos",
    "tan",    "tanh",   "sgn",    "arcsin", "arccos",    "arctan",
    "arctanh", "0",     "gaussian", "cosh", "sigmoid"};
#define KAN_SYMBOLIC_COUNT ((int)(sizeof(kNames) / sizeof(kNames[0])))

int kan_symbolic_count(void) { return KAN_SYMBOLIC_COUNT; }

int kan_symbolic_find(const char *name) {
  int i;
  if (!name)
    return -1;
  for (i = 0; i < KAN_SYMBOLIC_COUNT; ++i)
    if (strcmp(name, kNames[i]) == 0)
      return i;
  return -1;
}

const char *kan_symbolic_name(int fn) {
  return fn >= 0 && fn < KAN_SYMBOLIC_COUNT ? kNames[fn] : NULL;
}

double kan_symbolic_eval(int fn, double u, double *derivative) {
  double d;
  double v = sym_eval(fn, u, &d);
  if (derivative)
    *derivative = d;
  return v;
}

/* The function index of every edge (-1: a spline edge), or NULL with
 * *status set. */
static int *resolve(int64_t in, int64_t out, const char *const *fns,
                    kan_status *status) {
  int64_t e;
  int *idx;
  *status = KAN_OK;
  if (in <= 0 || out <= 0 || !fns) {
    *status = KAN_ERR_INVALID_ARGUMENT;
    return NULL;
  }
  idx = (int *)malloc(sizeof(int) * (size_t)(in * out));
  if (!idx) {
    *status = KAN_ERR_OUT_OF_MEMORY;
    return NULL;
  }
  for (e = 0; e < in * out; ++e) {
    if (!fns[e] || fns[e][0] == '\0') {
      idx[e] = -1;
      continue;
    }
    idx[e] = kan_symbolic_find(fns[e]);
    if (idx[e] < 0) {
      free(idx);
      *status = KAN_ERR_INVALID_ARGUMENT;
      return NULL;
    }
  }
  return idx;
}

kan_status kan_symbolic_edges_f64(int64_t n, int64_t in, int64_t out,
                                  const char *const *fns, const double *x,
                                  const double *y, const double *params,
                                  double *result) {
  kan_status st;
  int64_t r, o, i;
  int *idx;
  if (n < 0 || !x || !y || !params || !result)
    return KAN_ERR_INVALID_ARGUMENT;
  idx = resolve(in, out, fns, &st);
  if (!idx)
    return st;
  for (r = 0; r < n; ++r)
    for (o = 0; o < out; ++o) {
      double acc = y[r * out + o], d;
      for (i = 0; i < in; ++i) {
        const double *p = params + (o * in + i) * 4;
        if (idx[o * in + i] < 0)
          continue;
        acc += p[2] * sym_eval(idx[o * in + i], p[0] * x[r * in + i] + p[1], &d) + p[3];
      }
      result[r * out + o] = acc;
    }
  free(idx);
  return KAN_OK;
}

kan_status kan_symbolic_edges_jvp_f64(int64_t n, int64_t in, int64_t out,
                                      int64_t width, const char *const *fns,
                                      const double *x, const double *y,
                                      const double *params, const double *xt,
                                      const double *yt, const double *pt,
                                      double *result, double *result_t) {
  kan_status st;
  int64_t r, o, i, w;
  int *idx;
  if (n < 0 || width < 1 || !x || !y || !params || !result || !result_t)
    return KAN_ERR_INVALID_ARGUMENT;
  idx = resolve(in, out, fns, &st);
  if (!idx)
    return st;
  for (w = 0; w < width; ++w)
    for (r = 0; r < n * out; ++r)
      result_t[w * n * out + r] = yt ? yt[w * n * out + r] : 0.0;
  for (r = 0; r < n; ++r)
    for (o = 0; o < out; ++o) {
      double acc = y[r * out + o];
      for (i = 0; i < in; ++i) {
        const int64_t e = o * in + i;
        const double *p = params + e * 4, xv = x[r * in + i];
        double f, df;
        if (idx[e] < 0)
          continue;
        f = sym_eval(idx[e], p[0] * xv + p[1], &df);
        acc += p[2] * f + p[3];
        /* d(c f(a x + b) + d) = c f' (a dx + x da + db) + f dc + dd */
        for (w = 0; w < width; ++w) {
          double du = 0, dv = 0;
          if (xt)
            du += p[0] * xt[(w * n + r) * in + i];
          if (pt) {
            const double *q = pt + (w * out * in + e) * 4;
            du += xv * q[0] + q[1];
            dv = f * q[2] + q[3];
          }
          result_t[(w * n + r) * out + o] += p[2] * df * du + dv;
        }
      }
      result[r * out + o] = acc;
    }
  free(idx);
  return KAN_OK;
}
