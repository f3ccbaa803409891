//===- Pipeline.cpp - the CPU target's pass pipeline ------------*- C++ -*-===//

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Conversion/Passes.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace mlir::kan;

void mlir::kan::buildCPUPipeline(OpPassManager &pm,
                                 const CPUTargetOptions &options) {
  // Formula functions (kan-symbolic --format mlir) become EmitC; a model
  // module is left unchanged by this pass.
  pm.addPass(createKanFormulaToEmitC());
  buildFrontendPipeline(pm, options);
  KanTileAndFuseOptions t;
  t.maxRows = options.tileRows;
  t.panelBytes = options.panelBytes;
  pm.addNestedPass<func::FuncOp>(createKanTileAndFuse(t));
  pm.addNestedPass<func::FuncOp>(createKanPlanMemory());
}
