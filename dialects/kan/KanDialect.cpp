//===- KanDialect.cpp - the kan dialect -------------------------*- C++ -*-===//

#include "kan/KanDialect.h"
#include "kan/KanOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kan;

#include "kan/KanDialect.cpp.inc"
#include "kan/KanEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "kan/KanAttrs.cpp.inc"

void KanDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "kan/KanAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "kan/KanOps.cpp.inc"
      >();
}
