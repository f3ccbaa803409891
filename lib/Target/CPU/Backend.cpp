//===- Backend.cpp - the CPU target in the target registry -----*- C++ -*-===//

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Dialect/Kan/KanOps.h"

using namespace mlir;
using namespace mlir::kan;

namespace {
class CPUTargetBackend final : public TargetBackendBase<CPUTargetOptions> {
public:
  StringRef getName() const override { return "cpu"; }
  StringRef getDescription() const override {
    return "portable C99 linked against kanrt: <prefix>model.c and "
           "<prefix>model.h";
  }
  using TargetBackendBase::buildFinishingPipeline;
  using TargetBackendBase::buildPipeline;
  using TargetBackendBase::emit;
  void buildPipeline(OpPassManager &pm,
                     const CPUTargetOptions &options) const override {
    buildCPUPipeline(pm, options);
  }
  void buildFinishingPipeline(OpPassManager &pm,
                              const CPUTargetOptions &options) const override {
    buildCPUBackendPipeline(pm, options);
  }
  bool isLowered(ModuleOp module) const override {
    bool lowered = false;
    module->walk([&](Operation *op) {
      if (isa<FeatureGemmOp, FeatureGemmJvpOp>(op) ||
          op->hasAttr("kan.cpu_abi")) {
        lowered = true;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return lowered;
  }
  LogicalResult emit(ModuleOp module, const CPUTargetOptions &options,
                     TargetOutput &output, raw_ostream &) const override {
    std::string src, hdr;
    llvm::raw_string_ostream s(src), h(hdr);
    std::string prefix = options.prefix;
    if (failed(emitCPUSource(module, s, h, prefix)))
      return failure();
    if (failed(output.write(prefix + "model.c", src)) ||
        failed(output.write(prefix + "model.h", hdr)))
      return failure();
    return success();
  }
};
} // namespace

const TargetBackend &mlir::kan::getCPUTarget() {
  static CPUTargetBackend backend;
  return backend;
}

void mlir::kan::registerCPUTarget() { registerTargetBackend(getCPUTarget()); }
