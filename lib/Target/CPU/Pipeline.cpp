//===- Pipeline.cpp - the CPU target's pass pipeline ------------*- C++ -*-===//

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kan;

void mlir::kan::buildCPUPipeline(OpPassManager &pm,
                                 const TrainStepOptions *train,
                                 const CPUSchedule &schedule) {
  if (train) {
    KanBuildTrainStepOptions o;
    o.rule = train->rule;
    o.dist = train->dist;
    o.loss = train->loss;
    o.directions = train->directions;
    o.density = train->density;
    o.lr = train->lr;
    pm.addPass(createKanBuildTrainStep(o));
  }
  pm.addNestedPass<func::FuncOp>(createKanLowerToGemm());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  KanTileAndFuseOptions t;
  t.maxRows = schedule.tileRows;
  // W is streamed once per tile: tiles of up to 64 rows keep the GEMM
  // compute-bound; their panels stay within a few MB of last-level cache.
  t.panelBytes = schedule.panelBytes;
  pm.addNestedPass<func::FuncOp>(createKanTileAndFuse(t));
}
