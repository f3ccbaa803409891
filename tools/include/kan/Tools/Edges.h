//===- Edges.h - a KAN's edge functions evaluated one by one ----*- C++ -*-===//
//
// The symbolic tools look inside a model: the input each layer sees, every
// edge's function phi_oi(x) = wb_oi silu(x) + s_oi sum_j c_oij B_j(x) and its
// derivative, importance scores, and least-squares spline fits. Evaluated in
// plain C++ with the runtime's B-spline basis (f64 models).
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_EDGES_H
#define KAN_TOOLS_EDGES_H

#include "kan/Tools/Model.h"

namespace kan::tools {

/// phi and dphi/dx of edge (layer l, output o, input i) at every xs[r].
/// dphi may be null.
void edgeValues(const Model &m, size_t l, int64_t o, int64_t i,
                llvm::ArrayRef<double> xs, std::vector<double> &phi,
                std::vector<double> *dphi = nullptr);

/// B-spline basis values (n x (G+k)) of input i of layer l at xs, and
/// their derivatives when dB is not null.
void edgeBasis(const Model &m, size_t l, int64_t i, llvm::ArrayRef<double> xs,
               std::vector<double> &B, std::vector<double> *dB = nullptr);

/// The inputs of every layer and the edge activations on n rows of x.
struct LayerTrace {
  int64_t in = 0, out = 0;
  std::vector<double> x;   ///< n x in: what the layer sees
  std::vector<double> phi; ///< n x out x in
};
std::vector<LayerTrace> traceModel(const Model &m, const double *x, int64_t n);
/// The network's output (n x O) from a trace (sum of the last layer's phi).
std::vector<double> traceOutput(const std::vector<LayerTrace> &t, int64_t n);

/// Edge importance as pykan's scale: mean over rows of |phi_oi(x)|, per
/// layer an out x in matrix.
std::vector<std::vector<double>> edgeImportance(const std::vector<LayerTrace> &t,
                                                int64_t n);

/// pykan's attribution scores (MultKAN.attribute): relevance propagated
/// back from the outputs. With E_l[o,i] the standard deviation over rows of
/// phi_oi (unbiased, as torch.std) and s_l[o] that of node o of layer l+1
/// (the sum of its incoming edges), starting from S_L = identity (outputs x
/// outputs):
///   edge_l[k,o,i] = E_l[o,i] S_{l+1}[k,o] / (s_l[o] + 1e-4),
///   S_l[k,i] = sum_o edge_l[k,o,i],
/// and the scores are the sums over k (the outputs): node[l][j] (l = 0..L,
/// node[L] = 1 for every output), edge[l] (out x in).
struct Attribution {
  std::vector<std::vector<double>> node, edge;
};
Attribution attributionScores(const std::vector<LayerTrace> &t, int64_t n);

/// Which scores decide what pruneModel removes.
struct PruneOptions {
  /// false: pykan's scale criterion (edge importance mean |phi|; a hidden
  /// node stays when its largest incoming and largest outgoing edge reach
  /// nodeThreshold). true: attribution scores (a hidden node stays when its
  /// node score reaches nodeThreshold, as pykan's prune_node(mode='auto')).
  bool attribution = false;
  double nodeThreshold = 1e-2;
  /// Edges whose score is below this become 0 (pykan's prune_edge).
  double edgeThreshold = 1e-2;
};

/// pykan's pruning: hidden nodes removed and weak edges zeroed (base and
/// spline weights cleared) as PruneOptions says. What the removed edges
/// added on average is kept as a constant on a remaining edge into the same
/// node (B-splines sum to one inside the grid, so adding c / scaler to
/// every coefficient adds c there). The result has the smaller widths;
/// tensors are copied, metadata kept.
struct PruneResult {
  Model model;
  int64_t removedNodes = 0, zeroedEdges = 0;
};
PruneResult pruneModel(const Model &m, const std::vector<LayerTrace> &trace,
                       int64_t rows, const PruneOptions &options);

/// New grids from the inputs each layer sees and the spline coefficients
/// refitted by least squares, so the network's function is kept up to the
/// fit's residual. With newGridSize == G this is efficient-kan's
/// update_grid (knots at the inputs' quantiles blended with a uniform grid
/// over their range by `eps`, the grid extended by k uniform steps on each
/// side); with another size it is pykan's grid extension (G -> G') on the
/// same blended grid. The new coefficients reproduce the old spline part
/// phi_oi - base_oi * silu; efficient-kan refits the scaled coefficients
/// into spline_weight, which counts the scaler twice, here the scaler is
/// divided out. `trace` must come from traceModel on the same inputs.
struct RegridReport {
  /// Largest RMS least-squares residual of an edge's spline, per layer.
  std::vector<double> residual;
};
Model regridModel(const Model &m, const std::vector<LayerTrace> &trace,
                  int64_t rows, int64_t newGridSize, double eps,
                  RegridReport *report = nullptr);

/// Least squares min ||A c - b||_2 for a dense m x n A (row-major, m >= n),
/// by Householder QR with column scaling; a rank-deficient column gets 0.
/// Returns the residual norm.
double leastSquares(int64_t m, int64_t n, std::vector<double> a,
                    std::vector<double> b, std::vector<double> &c);

} // namespace kan::tools

#endif // KAN_TOOLS_EDGES_H
