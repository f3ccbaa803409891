//===- Jvp.h - forward-mode differentiation utilities -----------*- C++ -*-===//

#ifndef KAN_TRANSFORMS_JVP_H
#define KAN_TRANSFORMS_JVP_H

#include "kan/Dialect/Kan/KanInterfaces.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kan {

/// Emits, at the builder's insertion point, the forward-mode derivative of
/// the straight-line body of `func`. `primalArgs` are the values of the
/// function's arguments; `tangentArgs` their tangents (null = constant).
/// On success `results` holds the primal results and `resultTangents` their
/// tangents, materialising zeros where a tangent is identically zero.
LogicalResult emitJvp(OpBuilder &builder, func::FuncOp func, int64_t width,
                      ValueRange primalArgs, ArrayRef<Value> tangentArgs,
                      SmallVectorImpl<Value> &results,
                      SmallVectorImpl<Value> &resultTangents);

/// Which arguments of a model function are trained by default: every
/// floating-point argument used as a base weight, spline weight or spline
/// scaler of a `kan.layer`. The stream id of each trained argument follows
/// the runtime convention (layer l: base 3l, spline 3l+1, scaler 3l+2).
/// Returns -1 for arguments that are not trained.
SmallVector<int64_t> getParameterStreams(func::FuncOp model);

} // namespace mlir::kan

#endif // KAN_TRANSFORMS_JVP_H
