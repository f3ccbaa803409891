/*===- kanrt/symbolic.h - symbolic edges of a KAN ---------------*- C -*-===*/
/** \file
 * A KAN edge fixed to a library function: phi(x) = c f(a x + b) + d, as
 * pykan's fix_symbolic makes it. The library's names are pykan's
 * SYMBOLIC_LIB spellings: x, x^2, x^3, x^4, x^5, 1/x, 1/x^2, 1/x^3, 1/x^4,
 * 1/x^5, sqrt, x^1.5, 1/sqrt(x), exp, log, abs, sin, cos, tan, tanh, sgn,
 * arcsin, arccos, arctan, arctanh, 0, gaussian (exp(-x^2)), cosh, sigmoid.
 *
 * kan_symbolic_edges_f64 adds the symbolic edges of a layer to the layer's
 * output: result[r, o] = y[r, o] + sum over the edges (o, i) whose name is
 * not "" of c f(a x[r, i] + b) + d, with (a, b, c, d) = params[(o * in + i)
 * * 4 + 0..3]. `fns` holds out x in names, "" for an edge that stays a
 * spline. The _jvp form also carries `width` tangents, direction-major:
 * xt (width x n x in), yt (width x n x out), pt (width x out x in x 4), any
 * of them NULL for zero, and writes result_t (width x n x out).
 * result may be y. KAN_ERR_INVALID_ARGUMENT for a name not in the library.
 */
#ifndef KANRT_SYMBOLIC_H
#define KANRT_SYMBOLIC_H

#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of library functions; they are numbered 0 .. count-1. */
int kan_symbolic_count(void);
/** Index of the function named `name`, or -1. */
int kan_symbolic_find(const char *name);
/** Name of function `fn` (NULL when out of range). */
const char *kan_symbolic_name(int fn);
/** f(u), and f'(u) into *derivative when it is not NULL. */
double kan_symbolic_eval(int fn, double u, double *derivative);

kan_status kan_symbolic_edges_f64(int64_t n, int64_t in, int64_t out,
                                  const char *const *fns, const double *x,
                                  const double *y, const double *params,
                                  double *result);
kan_status kan_symbolic_edges_jvp_f64(int64_t n, int64_t in, int64_t out,
                                      int64_t width, const char *const *fns,
                                      const double *x, const double *y,
                                      const double *params, const double *xt,
                                      const double *yt, const double *pt,
                                      double *result, double *result_t);

#ifdef __cplusplus
}
#endif

#endif /* KANRT_SYMBOLIC_H */
