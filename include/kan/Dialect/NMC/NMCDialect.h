//===- NMCDialect.h - the nmc dialect ---------------------------*- C++ -*-===//

#ifndef NMC_NMCDIALECT_H
#define NMC_NMCDIALECT_H

#include "mlir/IR/Dialect.h"

#include "kan/Dialect/NMC/NMCDialect.h.inc"

#endif // NMC_NMCDIALECT_H
