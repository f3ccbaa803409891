//===- Passes.h - conversion passes of the kan project ----------*- C++ -*-===//

#ifndef KAN_CONVERSION_PASSES_H
#define KAN_CONVERSION_PASSES_H

#include "kan/Dialect/NMC/NMCDialect.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kan {

#define GEN_PASS_DECL
#include "kan/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kan/Conversion/Passes.h.inc"

/// @formula, or @formula_<n> (n >= 1, one per output of a multi-output
/// formula).
bool isFormulaName(llvm::StringRef name);

} // namespace mlir::kan

#endif // KAN_CONVERSION_PASSES_H
