//===- NMCOps.h - operations of the nmc dialect -----------------*- C++ -*-===//

#ifndef NMC_NMCOPS_H
#define NMC_NMCOPS_H

#include "kan/Dialect/NMC/NMCDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"

#include "kan/Dialect/NMC/NMCEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "kan/Dialect/NMC/NMCAttrs.h.inc"

#define GET_OP_CLASSES
#include "kan/Dialect/NMC/NMCOps.h.inc"

namespace mlir::nmc {
/// True if an f64 x 32 FPU tile kernel of \p m rows exists.
bool isF64TileRows(int64_t m);
/// Row counts of the f32 x 64 tile kernels.
bool isF32TileRows(int64_t m);
/// Row counts of the tile kernels of `p`.
bool isTileRows(Precision p, int64_t m);
/// 32-bit words per element of `p`.
inline int64_t wordsPerElement(Precision p) {
  return p == Precision::f64 ? 2 : 1;
}
} // namespace mlir::nmc

#endif // NMC_NMCOPS_H
