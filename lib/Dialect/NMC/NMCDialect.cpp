//===- NMCDialect.cpp - the nmc dialect -------------------------*- C++ -*-===//

#include "kan/Dialect/NMC/NMCDialect.h"
#include "kan/Dialect/NMC/NMCOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nmc;

#include "kan/Dialect/NMC/NMCDialect.cpp.inc"
#include "kan/Dialect/NMC/NMCEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "kan/Dialect/NMC/NMCAttrs.cpp.inc"

void NMCDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "kan/Dialect/NMC/NMCAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "kan/Dialect/NMC/NMCOps.cpp.inc"
      >();
}
