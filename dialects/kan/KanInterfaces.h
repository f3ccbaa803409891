//===- KanInterfaces.h - interfaces of the kan dialect ----------*- C++ -*-===//

#ifndef KAN_KANINTERFACES_H
#define KAN_KANINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

#include "kan/KanInterfaces.h.inc"

namespace mlir::kan {
/// Attaches the JVP rules of the upstream ops the pipeline produces (arith,
/// tensor) as external models.
void registerJvpExternalModels(DialectRegistry &registry);
} // namespace mlir::kan

#endif // KAN_KANINTERFACES_H
