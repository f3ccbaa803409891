//===- KanOps.h - operations of the kan dialect -----------------*- C++ -*-===//

#ifndef KAN_KANOPS_H
#define KAN_KANOPS_H

#include "kan/KanDialect.h"
#include "kan/KanInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "kan/KanOps.h.inc"

#endif // KAN_KANOPS_H
