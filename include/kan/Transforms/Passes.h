//===- Passes.h - kan transformation passes ---------------------*- C++ -*-===//

#ifndef KAN_TRANSFORMS_PASSES_H
#define KAN_TRANSFORMS_PASSES_H

#include "kan/Dialect/Kan/KanDialect.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kan {

#define GEN_PASS_DECL
#include "kan/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kan/Transforms/Passes.h.inc"

} // namespace mlir::kan

#endif // KAN_TRANSFORMS_PASSES_H
