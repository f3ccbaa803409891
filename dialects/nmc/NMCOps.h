//===- NMCOps.h - operations of the nmc dialect -----------------*- C++ -*-===//

#ifndef NMC_NMCOPS_H
#define NMC_NMCOPS_H

#include "nmc/NMCDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"

#define GET_OP_CLASSES
#include "nmc/NMCOps.h.inc"

#endif // NMC_NMCOPS_H
