//===- Pipeline.cpp - the CPU target's pass pipeline ------------*- C++ -*-===//

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Conversion/Passes.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kan;

void mlir::kan::buildCPUPipeline(OpPassManager &pm,
                                 const TrainStepOptions *train,
                                 const CPUSchedule &schedule) {
  // Formula functions (kan-symbolic --format mlir) become EmitC; a model
  // module is left unchanged by this pass.
  pm.addPass(createKanFormulaToEmitC());
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
  pm.addNestedPass<func::FuncOp>(createKanPlanMemory());
}

namespace {
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<bool> trainStep{*this, "train-step",
                         llvm::cl::desc("Build the noise_step training step"),
                         llvm::cl::init(false)};
  Option<std::string> rule{*this, "rule", llvm::cl::desc("ternary or fg"),
                           llvm::cl::init("ternary")};
  Option<std::string> dist{*this, "dist",
                           llvm::cl::desc("sparse_ternary, normal, rademacher"),
                           llvm::cl::init("")};
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("cross_entropy or mse"),
                           llvm::cl::init("cross_entropy")};
  Option<int64_t> directions{*this, "n", llvm::cl::desc("Directions"),
                             llvm::cl::init(32)};
  Option<double> density{*this, "density", llvm::cl::desc("Sparse density"),
                         llvm::cl::init(2e-3)};
  Option<double> lr{*this, "lr", llvm::cl::desc("Learning rate"),
                    llvm::cl::init(3e-3)};
  Option<int64_t> tileRows{*this, "tile-rows",
                           llvm::cl::desc("Largest row tile"),
                           llvm::cl::init(128)};
};
} // namespace

void mlir::kan::registerCPUPipeline() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "kan-compile-cpu",
      "The CPU target's pipeline: (train step,) GEMM form, row tiles; the "
      "output is what kan-translate --target=cpu prints",
      [](OpPassManager &pm, const CPUPipelineOptions &o) {
        TrainStepOptions t;
        t.rule = o.rule, t.dist = o.dist, t.loss = o.loss;
        t.directions = o.directions, t.density = o.density, t.lr = o.lr;
        CPUSchedule s;
        s.tileRows = o.tileRows;
        buildCPUPipeline(pm, o.trainStep ? &t : nullptr, s);
      });
}
