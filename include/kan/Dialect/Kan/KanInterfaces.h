//===- KanInterfaces.h - interfaces of the kan dialect ----------*- C++ -*-===//

#ifndef KAN_KANINTERFACES_H
#define KAN_KANINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

#include "kan/Dialect/Kan/KanInterfaces.h.inc"

namespace mlir::kan {
/// Returns the tangent type of `primal` for `width` directions: a tensor with
/// a leading dimension `width` (scalars become 1-D tensors).
Type getTangentType(Type primal, int64_t width);

/// Attaches the JVP rules of the upstream ops the pipeline produces (arith)
/// as external models (lib/Transforms/JvpRules.cpp).
void registerJvpExternalModels(DialectRegistry &registry);
} // namespace mlir::kan

#endif // KAN_KANINTERFACES_H
