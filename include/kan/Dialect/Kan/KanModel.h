//===- KanModel.h - the shape of a KAN and its kan IR -----------*- C++ -*-===//
//
// One description of a model's shape for the compiler and the tools: the
// targets, the JIT, kan-import, kan-run and kan-train all build the same
// `@model` function from it.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_KANMODEL_H
#define KAN_KANMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::kan {

/// Shape of a KAN in the efficient-kan formulation.
struct ModelShape {
  std::vector<int64_t> widths{784, 64, 10};
  int64_t gridSize = 5;
  int64_t order = 3;
  bool f32 = false;
  bool withScaler = true;
  /// Identity instead of SiLU as the base activation.
  bool identityActivation = false;
  /// Batch size; -1 builds a dynamic batch dimension.
  int64_t batch = -1;
  /// Symbolic edges (pykan's fix_symbolic): per layer, empty or out x in
  /// library names ("" for an edge that stays a spline). A layer with any
  /// gets a `kan.symbolic_edges` op and an out x in x 4 parameter tensor
  /// (a, b, c, d), after all the layers' tensors.
  std::vector<std::vector<std::string>> symbolic;

  /// Whether layer l has symbolic edges.
  bool hasSymbolic(size_t l) const {
    return l < symbolic.size() && !symbolic[l].empty();
  }

  size_t numLayers() const { return widths.size() - 1; }
  /// Parameter tensors per layer: grid, base_weight, spline_weight and,
  /// with a scaler, spline_scaler.
  size_t tensorsPerLayer() const { return withScaler ? 4 : 3; }
  /// The widths as "784,64,10".
  std::string widthsString() const;
};

/// Builds `func.func @model(%x: tensor<N x I0>, params...) -> tensor<N x OL>`
/// of kan.layer ops; params per layer are grid, base_weight, spline_weight
/// and (withScaler) spline_scaler, then one symbolic parameter tensor per
/// layer with symbolic edges (argument attribute kan.param_name
/// "layers.{l}.symbolic").
OwningOpRef<ModuleOp> buildModel(MLIRContext &ctx, const ModelShape &shape);

} // namespace mlir::kan

#endif // KAN_KANMODEL_H
