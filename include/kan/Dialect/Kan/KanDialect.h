//===- KanDialect.h - the kan dialect ---------------------------*- C++ -*-===//

#ifndef KAN_KANDIALECT_H
#define KAN_KANDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "kan/Dialect/Kan/KanDialect.h.inc"
#include "kan/Dialect/Kan/KanEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "kan/Dialect/Kan/KanAttrs.h.inc"

#endif // KAN_KANDIALECT_H
