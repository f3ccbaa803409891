//===- KanDialect.cpp - the kan dialect -------------------------*- C++ -*-===//

#include "kan/Dialect/Kan/KanDialect.h"
#include "kan/Dialect/Kan/KanOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kan;

#include "kan/Dialect/Kan/KanDialect.cpp.inc"
#include "kan/Dialect/Kan/KanEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "kan/Dialect/Kan/KanAttrs.cpp.inc"

void KanDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "kan/Dialect/Kan/KanAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "kan/Dialect/Kan/KanOps.cpp.inc"
      >();
}
