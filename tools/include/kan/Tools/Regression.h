//===- Regression.h - least-squares training with exact gradients -*- C++ -*-===//
//
// Regression for kan-train --task regression: data with target columns, an
// affine map of the inputs into the grid range, and the exact gradient of
// the mean squared error computed in forward mode (one coordinate tangent
// per trainable parameter through the compiled JVP, no backward pass),
// minimised by Adam or L-BFGS.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_REGRESSION_H
#define KAN_TOOLS_REGRESSION_H

#include "kan/Tools/Edges.h"
#include "kan/Tools/Engine.h"
#include "kan/Tools/Model.h"

#include <functional>

namespace kan::tools {

/// Inputs (rows x inputs) and targets (rows x targets), row-major.
struct RegressionData {
  std::string name;
  int64_t rows = 0, inputs = 0, targets = 0;
  std::vector<double> x, y;
};

/// Reads a CSV whose last `targets` columns are the targets and the columns
/// before them the inputs (all finite numbers).
llvm::Expected<RegressionData> loadRegressionCsv(llvm::StringRef path,
                                                 bool header,
                                                 int64_t targets);

/// Samples for a model with I inputs and O outputs: a CSV of I columns
/// (targets = 0) or I + O columns (the targets after the inputs).
llvm::Expected<RegressionData> loadSamplesCsv(llvm::StringRef path,
                                              bool header, int64_t inputs,
                                              int64_t outputs);

/// x' = (x - shift) * scale per input column: what the model sees. The
/// identity unless --scale-inputs asked for the training set's [min, max]
/// mapped onto the grid range [-1, 1].
struct InputScaling {
  std::vector<double> shift, scale;
  static InputScaling identity(int64_t inputs);
  static InputScaling fromRange(const RegressionData &train, double lo,
                                double hi);
  void apply(RegressionData &d) const;
  /// Kept in the checkpoint metadata ("input_shift", "input_scale").
  void store(Model &m) const;
  static llvm::Expected<InputScaling> load(const Model &m,
                                           llvm::StringRef what);
};

/// A trained model as kan-symbolic, kan-prune and kan-plot read it: f64
/// (refused otherwise, naming `tool`), with the input scaling its
/// checkpoint stores.
struct ScaledModel {
  Model model;
  InputScaling scaling;
};
llvm::Expected<ScaledModel> readScaledModel(mlir::MLIRContext &ctx,
                                            llvm::StringRef path,
                                            llvm::StringRef tool);

/// The trainable parameters (every tensor but the grids) as one vector, in
/// the order of Model::tensors.
std::vector<double> flattenParams(const Model &m);
void unflattenParams(Model &m, llvm::ArrayRef<double> p);
size_t numTrainable(const Model &m);

/// The edge scale A_oi the sparsity regulariser penalises.
enum class RegularizerMetric {
  MeanAbs,  ///< mean_r |phi_oi(x_r)|, entropy over the whole layer
  StdRatio, ///< pykan's edge_forward_spline_n (see setRegularizer)
};

/// Mean squared error over rows and targets, and its exact gradient by
/// forward mode: kan_forward_jvp compiled with `width` directions, each a
/// coordinate tangent e_p, so dy/dp for every parameter comes out of
/// ceil(P / width) calls per row block. Nothing is stored for a reverse
/// sweep.
class ExactGradient {
public:
  static llvm::Expected<std::unique_ptr<ExactGradient>>
  create(const ModelShape &shape, const CompileOptions &opts);
  /// Loss (MSE) only.
  llvm::Expected<double> loss(Model &m, const RegressionData &d);
  /// Loss and gradient with respect to flattenParams order.
  llvm::Expected<double> lossAndGradient(Model &m, const RegressionData &d,
                                         std::vector<double> &grad);
  /// Predictions (rows x targets).
  llvm::Error predict(Model &m, const RegressionData &d,
                      std::vector<double> &y);
  /// pykan's sparsity regulariser, added to the loss:
  /// lambda * sum over layers of (l1 * sum_ij A_ij + entropy * H(A / sum A)),
  /// A_ij = mean over rows of |phi_ij(x)|. Its gradient is forward mode
  /// too: the edge's own parameters analytically, the earlier layers'
  /// through the JVP of the model truncated before the layer (coordinate
  /// tangents, like the loss).
  ///
  /// With RegularizerMetric::StdRatio it is current pykan's default
  /// (reg_metric 'edge_forward_spline_n'): A_oi = std_r(phi_oi) /
  /// (std_r(x_i) + 0.1) with phi the spline part of the edge (base + spline,
  /// not a symbolic fit), and the entropy taken per output node over its
  /// inputs and per input node over its outputs, p = A / (row or column sum
  /// + 1), mean over rows plus mean over columns of -sum p log2(p + 1e-4).
  /// The input's deviation depends on the earlier layers, so its gradient
  /// goes through their JVP as well.
  llvm::Error setRegularizer(double lambda, double l1, double entropy,
                             const CompileOptions &opts,
                             RegularizerMetric metric =
                                 RegularizerMetric::MeanAbs);
  /// The regulariser alone (0 when not set); grad gets its gradient added.
  llvm::Expected<double> regularizer(Model &m, const RegressionData &d,
                                     std::vector<double> *grad);
  int64_t width() const { return w; }
  int64_t evaluations() const { return evals; }

private:
  /// StdRatio for layer l: its value, the gradient of its own edges added
  /// to grad and dreg/dx_l into Gx (when grad is not null).
  double stdRatioLayer(const Model &m, size_t l, const LayerTrace &lt,
                       int64_t N, std::vector<double> *Gx,
                       std::vector<double> *grad,
                       const std::vector<size_t> &offset);
  /// Adds sum_r,i Gx[r,i] dx_l[r,i]/dq for the parameters q before layer l.
  llvm::Error earlierLayers(Model &m, size_t l, const RegressionData &d,
                            const std::vector<double> &Gx,
                            std::vector<double> &grad);
  std::unique_ptr<Engine> fwd, jvp;
  /// Per layer l >= 1: JVP of the first l layers, and its width.
  std::vector<std::unique_ptr<Engine>> prefixJvp;
  std::vector<int64_t> prefixWidth;
  ModelShape shape;
  double lambda = 0, lambdaL1 = 1, lambdaEntropy = 2;
  RegularizerMetric metric = RegularizerMetric::MeanAbs;
  int64_t w = 1;
  int64_t evals = 0;
};

/// Zeroes the gradient of the spline part (base weight, spline weights,
/// scaler) of every symbolic edge: as pykan's fix_symbolic masks the
/// numeric part, training moves only its (a, b, c, d). lossAndGradient
/// applies it.
void maskSymbolicEdges(const Model &m, std::vector<double> &grad);

/// f(p) -> loss, fills grad.
using Objective =
    std::function<llvm::Expected<double>(llvm::ArrayRef<double> p,
                                         std::vector<double> &grad)>;
/// Called after every iteration with (iteration, loss); return false to stop.
using IterationCallback = std::function<bool(int64_t, double)>;

struct AdamOptions {
  double lr = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};
/// Adam for `iterations` steps (or until the callback stops it); p updated.
llvm::Expected<double> minimizeAdam(const Objective &f, std::vector<double> &p,
                                    int64_t iterations, const AdamOptions &o,
                                    const IterationCallback &cb);

struct LbfgsOptions {
  int history = 10;
  double gradTolerance = 1e-12; ///< stop when max |g| is below this
};
/// L-BFGS (two-loop recursion) with a backtracking Armijo line search that
/// also enforces the curvature condition before a pair enters the memory.
llvm::Expected<double> minimizeLbfgs(const Objective &f, std::vector<double> &p,
                                     int64_t iterations, const LbfgsOptions &o,
                                     const IterationCallback &cb);

} // namespace kan::tools

#endif // KAN_TOOLS_REGRESSION_H
