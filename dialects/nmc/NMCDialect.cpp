//===- NMCDialect.cpp - the nmc dialect -------------------------*- C++ -*-===//

#include "nmc/NMCDialect.h"
#include "nmc/NMCOps.h"

using namespace mlir;
using namespace mlir::nmc;

#include "nmc/NMCDialect.cpp.inc"

void NMCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nmc/NMCOps.cpp.inc"
      >();
}
