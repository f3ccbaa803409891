//===- Pipeline.cpp - the NM Quad target's pass pipeline --------*- C++ -*-===//
//
// (train step,) GEMM form, then kan-to-nmc with the schedule's options: the
// module that comes out holds only nmc.schedule and nmc.program, which the
// NM Quad emitter prints.
//
//===----------------------------------------------------------------------===//

#include "kan/Target/NMQuad/NMQuadTarget.h"
#include "kan/Conversion/Passes.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kan;

void mlir::kan::buildNMQuadPipeline(OpPassManager &pm,
                                    const TrainStepOptions *train,
                                    const KanToNMCOptions &schedule) {
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
  pm.addPass(createKanToNMC(schedule));
}

namespace {
struct NMQuadPipelineOptions
    : public PassPipelineOptions<NMQuadPipelineOptions> {
  Option<bool> trainStep{*this, "train-step",
                         llvm::cl::desc("Build the noise_step training step"),
                         llvm::cl::init(false)};
  Option<std::string> rule{*this, "rule", llvm::cl::desc("ternary or fg"),
                           llvm::cl::init("ternary")};
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("cross_entropy or mse"),
                           llvm::cl::init("cross_entropy")};
  Option<int64_t> directions{*this, "n", llvm::cl::desc("Directions"),
                             llvm::cl::init(32)};
  Option<double> density{*this, "density", llvm::cl::desc("Sparse density"),
                         llvm::cl::init(2e-3)};
  Option<double> lr{*this, "lr", llvm::cl::desc("Learning rate"),
                    llvm::cl::init(3e-3)};
  Option<int64_t> chips{*this, "chips", llvm::cl::desc("NM6408 chips (1..4)"),
                        llvm::cl::init(1)};
  Option<int64_t> cores{*this, "cores",
                        llvm::cl::desc("NMC4 cores per chip (1..16)"),
                        llvm::cl::init(16)};
  Option<std::string> split{*this, "split",
                            llvm::cl::desc("GEMM split: rows or outputs"),
                            llvm::cl::init("rows")};
  Option<int64_t> ddrStreams{*this, "ddr-streams",
                             llvm::cl::desc("Cores of a chip on DDR at once"),
                             llvm::cl::init(8)};
  Option<int64_t> batch{*this, "batch",
                        llvm::cl::desc("Largest batch slice of one chip"),
                        llvm::cl::init(256)};
};
} // namespace

void mlir::kan::registerNMQuadPipeline() {
  PassPipelineRegistration<NMQuadPipelineOptions>(
      "kan-compile-nmquad",
      "The NM Quad target's pipeline: (train step,) GEMM form, kan-to-nmc; "
      "the output is what kan-translate --target=nmquad prints",
      [](OpPassManager &pm, const NMQuadPipelineOptions &o) {
        TrainStepOptions t;
        t.rule = o.rule, t.loss = o.loss, t.dist = "sparse_ternary";
        t.directions = o.directions, t.density = o.density, t.lr = o.lr;
        KanToNMCOptions s;
        s.chips = o.chips, s.cores = o.cores, s.split = o.split;
        s.ddrStreams = o.ddrStreams, s.batch = o.batch;
        buildNMQuadPipeline(pm, o.trainStep ? &t : nullptr, s);
      });
}
