//===- Prune.cpp - removing weak edges and nodes --------------------------===//

#include "kan/Tools/Edges.h"

#include <algorithm>
#include <cassert>

using namespace kan::tools;

PruneResult kan::tools::pruneModel(const Model &m,
                                   const std::vector<LayerTrace> &trace,
                                   int64_t rows, const PruneOptions &opt) {
  const ModelShape &s = m.shape;
  for (size_t l = 0; l < s.numLayers(); ++l)
    assert(!s.hasSymbolic(l) && "symbolic edges are fixed after pruning");
  // Edge scores decide the edges; for nodes, the scale criterion looks at
  // the strongest edge in and out, the attribution one at the node score.
  std::vector<std::vector<double>> importance;
  Attribution attr;
  if (opt.attribution) {
    attr = attributionScores(trace, rows);
    importance = attr.edge;
  } else {
    importance = edgeImportance(trace, rows);
  }
  const double nodeThreshold = opt.nodeThreshold, threshold = opt.edgeThreshold;
  const size_t L = s.numLayers();
  const int64_t nb = s.gridSize + s.order, cols = s.gridSize + 2 * s.order + 1;
  // keep[l][j]: node j of width index l survives (inputs and outputs always).
  std::vector<std::vector<bool>> keep(L + 1);
  for (size_t l = 0; l <= L; ++l)
    keep[l].assign(static_cast<size_t>(s.widths[l]), true);
  PruneResult res;
  for (size_t l = 1; l < L; ++l)
    for (int64_t j = 0; j < s.widths[l]; ++j) {
      double in = 0, out = 0;
      if (opt.attribution) {
        in = out = attr.node[l][j];
      } else {
        for (int64_t i = 0; i < s.widths[l - 1]; ++i)
          in = std::max(in, importance[l - 1][j * s.widths[l - 1] + i]);
        for (int64_t k = 0; k < s.widths[l + 1]; ++k)
          out = std::max(out, importance[l][k * s.widths[l] + j]);
      }
      if (in < nodeThreshold || out < nodeThreshold) {
        keep[l][j] = false;
        ++res.removedNodes;
      }
    }
  // A layer keeps at least one node so the network stays connected.
  for (size_t l = 1; l < L; ++l)
    if (std::none_of(keep[l].begin(), keep[l].end(), [](bool b) { return b; })) {
      int64_t best = 0;
      double bestImp = -1;
      for (int64_t j = 0; j < s.widths[l]; ++j) {
        double v = 0;
        for (int64_t k = 0; k < s.widths[l + 1]; ++k)
          v = std::max(v, importance[l][k * s.widths[l] + j]);
        if (opt.attribution)
          v = attr.node[l][j];
        if (v > bestImp)
          bestImp = v, best = j;
      }
      keep[l][best] = true;
      --res.removedNodes;
    }
  ModelShape ns = s;
  std::vector<std::vector<int64_t>> idx(L + 1);
  for (size_t l = 0; l <= L; ++l) {
    for (int64_t j = 0; j < s.widths[l]; ++j)
      if (keep[l][j])
        idx[l].push_back(j);
    ns.widths[l] = static_cast<int64_t>(idx[l].size());
  }
  Model out = allocateModel(ns);
  out.metadata = m.metadata;
  for (size_t l = 0; l < L; ++l) {
    const int64_t inOld = s.widths[l], inNew = ns.widths[l];
    const LayerTrace &lt = trace[l];
    // Mean of what the removed edges into each kept node added, and the
    // kept edge that takes it (the one whose inputs lie inside its grid
    // most often).
    std::vector<double> removedMean(static_cast<size_t>(ns.widths[l + 1]), 0.0);
    std::vector<int64_t> carrier(static_cast<size_t>(ns.widths[l + 1]), -1);
    for (int64_t b = 0; b < ns.widths[l + 1]; ++b) {
      int64_t o = idx[l + 1][b];
      int64_t bestInside = -1;
      for (int64_t i = 0; i < inOld; ++i) {
        bool kept = keep[l][i] && importance[l][o * inOld + i] >= threshold;
        if (!kept) {
          double mean = 0;
          for (int64_t r = 0; r < rows; ++r)
            mean += lt.phi[(r * lt.out + o) * lt.in + i];
          removedMean[b] += mean / static_cast<double>(rows);
          continue;
        }
        const Tensor &g = m.tensor(l, Grid);
        double lo = g.get(i * cols + s.order), hi = g.get(i * cols + cols - 1 - s.order);
        int64_t inside = 0;
        for (int64_t r = 0; r < rows; ++r) {
          double x = lt.x[r * lt.in + i];
          inside += x >= lo && x < hi;
        }
        int64_t a = std::find(idx[l].begin(), idx[l].end(), i) - idx[l].begin();
        if (inside > bestInside)
          bestInside = inside, carrier[b] = a;
      }
    }
    for (int64_t a = 0; a < inNew; ++a) {
      int64_t i = idx[l][a];
      for (int64_t c = 0; c < cols; ++c)
        out.tensor(l, Grid).set(a * cols + c, m.tensor(l, Grid).get(i * cols + c));
      for (int64_t b = 0; b < ns.widths[l + 1]; ++b) {
        int64_t o = idx[l + 1][b];
        int64_t eOld = o * inOld + i, eNew = b * inNew + a;
        bool zero = importance[l][eOld] < threshold;
        res.zeroedEdges += zero;
        out.tensor(l, BaseWeight).set(eNew, zero ? 0.0 : m.tensor(l, BaseWeight).get(eOld));
        for (int64_t k = 0; k < nb; ++k)
          out.tensor(l, SplineWeight)
              .set(eNew * nb + k, zero ? 0.0 : m.tensor(l, SplineWeight).get(eOld * nb + k));
        if (s.withScaler)
          out.tensor(l, SplineScaler).set(eNew, m.tensor(l, SplineScaler).get(eOld));
      }
    }
    for (int64_t b = 0; b < ns.widths[l + 1]; ++b) {
      if (carrier[b] < 0 || removedMean[b] == 0)
        continue;
      int64_t e = b * inNew + carrier[b];
      double sc = s.withScaler ? out.tensor(l, SplineScaler).get(e) : 1.0;
      if (sc == 0)
        continue;
      for (int64_t k = 0; k < nb; ++k) {
        Tensor &w = out.tensor(l, SplineWeight);
        w.set(e * nb + k, w.get(e * nb + k) + removedMean[b] / sc);
      }
    }
  }
  out.setMeta("widths", ns.widthsString());
  res.model = std::move(out);
  return res;
}
