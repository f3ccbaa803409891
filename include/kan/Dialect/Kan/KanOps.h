//===- KanOps.h - operations of the kan dialect -----------------*- C++ -*-===//

#ifndef KAN_KANOPS_H
#define KAN_KANOPS_H

#include "kan/Dialect/Kan/KanDialect.h"
#include "kan/Dialect/Kan/KanInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"

#define GET_OP_CLASSES
#include "kan/Dialect/Kan/KanOps.h.inc"

namespace mlir::kan {
/// Elements of a tensor whose dynamic dimensions are the batch size n, as
/// (elements per unit of n, constant elements): one of the two is zero.
std::pair<int64_t, int64_t> getBatchAffineNumElements(ShapedType type);
} // namespace mlir::kan

#endif // KAN_KANOPS_H
