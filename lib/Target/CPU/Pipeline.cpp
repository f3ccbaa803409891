//===- Pipeline.cpp - the CPU target's pass pipeline ------------*- C++ -*-===//

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Conversion/Passes.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kan;

void mlir::kan::buildCPUPipeline(OpPassManager &pm,
                                 const CPUTargetOptions &options) {
  // Formula functions (kan-symbolic --format mlir) become EmitC; a model
  // module is left unchanged by this pass.
  KanFormulaToEmitCOptions f;
  f.prefix = options.prefix;
  pm.addPass(createKanFormulaToEmitC(f));
  buildFrontendPipeline(pm, options);
  buildCPUBackendPipeline(pm, options);
}

void mlir::kan::buildCPUBackendPipeline(OpPassManager &pm,
                                        const CPUTargetOptions &options) {
  KanTileAndFuseOptions t;
  t.maxRows = options.tileRows;
  t.panelBytes = options.panelBytes;
  t.threads = options.tileThreads;
  t.fuseBytes = options.fuseBytes;
  pm.addNestedPass<func::FuncOp>(createKanTileAndFuse(t));
  // Tiling materialises the batch size once per loop; one is enough.
  pm.addPass(createCSEPass());
  KanPrepareCPUOptions p;
  p.inputTangentKernel = options.inputTangentKernel;
  p.pregenerateBytes = options.pregenerateBytes;
  p.drawBytes = options.drawBytes;
  pm.addNestedPass<func::FuncOp>(createKanPrepareCPU(p));
  pm.addNestedPass<func::FuncOp>(createKanPlanMemory());
  // The plan as memref IR: allocs, views, bindings, deallocs.
  pm.addNestedPass<func::FuncOp>(createKanBufferize());
  // Runtime calls, loops and buffers as EmitC; the printer only prints.
  KanToEmitCOptions e;
  e.prefix = options.prefix;
  pm.addPass(createKanToEmitC(e));
}
