//===- Backend.cpp - the NM Quad target in the target registry --*- C++ -*-===//

#include "kan/Target/NMQuad/NMQuadTarget.h"
#include "kan/Dialect/NMC/NMCOps.h"

using namespace mlir;
using namespace mlir::kan;

namespace {
class NMQuadTargetBackend final
    : public TargetBackendBase<NMQuadTargetOptions> {
public:
  StringRef getName() const override { return "nmquad"; }
  StringRef getDescription() const override {
    return "NM Quad (NM6408): NMC core C, FPU assembly tiles, a PL_* host "
           "launcher, weights and a Makefile";
  }
  using TargetBackendBase::buildPipeline;
  using TargetBackendBase::emit;
  void buildPipeline(OpPassManager &pm,
                     const NMQuadTargetOptions &options) const override {
    buildNMQuadPipeline(pm, options);
  }
  bool isLowered(ModuleOp module) const override {
    return !module.getOps<nmc::ProgramOp>().empty();
  }
  bool deploysWeights() const override { return true; }
  LogicalResult emit(ModuleOp module, const NMQuadTargetOptions &options,
                     TargetOutput &output, raw_ostream &os) const override {
    NMQuadEmitOptions emit;
    emit.report = options.report ? &os : nullptr;
    emit.calibrationPath = options.calibration;
    emit.runtimePrefix = options.runtimePrefix.empty()
                             ? defaultNMQuadRuntimePrefix()
                             : options.runtimePrefix;
    emit.writeWeights = options.writeWeights;
    return emitNMQuad(module, output, emit);
  }
};
} // namespace

const TargetBackend &mlir::kan::getNMQuadTarget() {
  static NMQuadTargetBackend backend;
  return backend;
}

void mlir::kan::registerNMQuadTarget() {
  registerTargetBackend(getNMQuadTarget());
}
