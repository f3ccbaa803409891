//===- Regrid.cpp - grid update and extension by least squares ------------===//

#include "kan/Tools/Edges.h"

#include <algorithm>
#include <cmath>

using namespace kan::tools;

Model kan::tools::regridModel(const Model &m,
                              const std::vector<LayerTrace> &trace,
                              int64_t rows, int64_t newG, double eps,
                              RegridReport *report) {
  const ModelShape &s = m.shape;
  ModelShape ns = s;
  ns.gridSize = newG;
  Model out = allocateModel(ns);
  out.metadata = m.metadata;
  out.setMeta("grid_size", std::to_string(newG));
  const int64_t k = s.order, nbOld = s.gridSize + k, nbNew = newG + k;
  const int64_t colsNew = newG + 2 * k + 1;
  if (report)
    report->residual.assign(s.numLayers(), 0.0);
  for (size_t l = 0; l < s.numLayers(); ++l) {
    const LayerTrace &lt = trace[l];
    const int64_t in = lt.in, outW = lt.out;
    // Weights other than the spline coefficients carry over.
    for (size_t which : {BaseWeight, SplineScaler}) {
      if (which == SplineScaler && !s.withScaler)
        continue;
      for (size_t e = 0; e < m.tensor(l, which).numel(); ++e)
        out.tensor(l, which).set(e, m.tensor(l, which).get(e));
    }
    std::vector<double> col(static_cast<size_t>(rows)), sorted, Bold, Bnew;
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t r = 0; r < rows; ++r)
        col[r] = lt.x[r * in + i];
      sorted = col;
      std::sort(sorted.begin(), sorted.end());
      double lo = sorted.front(), hi = sorted.back();
      if (!(hi > lo)) // a constant input: a unit range around it
        lo -= 1, hi += 1;
      const double margin = 0.01;
      double step = (hi - lo + 2 * margin) / static_cast<double>(newG);
      // Knots G+1: the quantiles blended with the uniform grid, then k
      // uniform steps on each side (efficient-kan's update_grid).
      std::vector<double> knots(static_cast<size_t>(colsNew));
      for (int64_t j = 0; j <= newG; ++j) {
        size_t q = static_cast<size_t>(
            std::llround(static_cast<double>(j) * (rows - 1) / newG));
        double adaptive = sorted[q];
        double uniform = lo - margin + static_cast<double>(j) * step;
        knots[k + j] = eps * uniform + (1 - eps) * adaptive;
      }
      for (int64_t j = 1; j <= k; ++j) {
        knots[k - j] = knots[k] - static_cast<double>(j) * step;
        knots[k + newG + j] = knots[k + newG] + static_cast<double>(j) * step;
      }
      // Quantile knots may coincide for clustered data: keep them strictly
      // increasing.
      for (int64_t j = 1; j < colsNew; ++j)
        knots[j] = std::max(knots[j], knots[j - 1] + 1e-9 * step);
      for (int64_t j = 0; j < colsNew; ++j)
        out.tensor(l, Grid).set(i * colsNew + j, knots[j]);
      edgeBasis(m, l, i, col, Bold);
      edgeBasis(out, l, i, col, Bnew);
      for (int64_t o = 0; o < outW; ++o) {
        int64_t e = o * in + i;
        double sc = s.withScaler ? m.tensor(l, SplineScaler).get(e) : 1.0;
        std::vector<double> b(static_cast<size_t>(rows), 0.0), c;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < nbOld; ++j)
            b[r] += sc * m.tensor(l, SplineWeight).get(e * nbOld + j) * Bold[r * nbOld + j];
        double res = leastSquares(rows, nbNew, Bnew, b, c);
        if (report)
          report->residual[l] = std::max(report->residual[l],
                                         res / std::sqrt(static_cast<double>(rows)));
        for (int64_t j = 0; j < nbNew; ++j)
          out.tensor(l, SplineWeight).set(e * nbNew + j, sc != 0 ? c[j] / sc : 0.0);
      }
    }
  }
  // Symbolic edges carry over as they are.
  for (size_t l = 0; l < s.numLayers(); ++l)
    if (const Tensor *t = symbolicTensor(m, l))
      symbolicTensor(out, l)->storage = t->storage;
  return out;
}
