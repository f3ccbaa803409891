//===- NMCDialect.cpp - the nmc dialect -------------------------*- C++ -*-===//

#include "nmc/NMCDialect.h"
#include "nmc/NMCOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nmc;

#include "nmc/NMCDialect.cpp.inc"
#include "nmc/NMCEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "nmc/NMCAttrs.cpp.inc"

void NMCDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "nmc/NMCAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "nmc/NMCOps.cpp.inc"
      >();
}
