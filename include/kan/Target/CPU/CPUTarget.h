//===- CPUTarget.h - the CPU target: model building, pipeline, C --*- C++
//-*-===//
//
// The CPU target turns a kan module (a model function, optionally with a
// train step built by kan-build-train-step) into C99 sources that link
// against the runtime (kanrt). Generated C ABI (see README "Generated code"):
//
//   /* P = KAN_MODEL_NUM_PARAMS pointers, in the model's argument order:
//      for each layer l: grid, base_weight, spline_weight[, spline_scaler] */
//   int <prefix>forward(const T *x, int64_t n, T *const *params, T *y);
//   int <prefix>train_step(const T *x, const int64_t *labels_or_target,
//                          int64_t n, uint64_t seed, int64_t step,
//                          T *const *params /* updated in place */,
//                          T *loss, T *alphas /* n directions */);
//
// T is double (f64 models) or float (f32). Return 0 on success, a kan_status
// otherwise. Parameters are updated in place by train_step.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TARGET_CPU_CPUTARGET_H
#define KAN_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::kan {

/// Shape of a KAN in the efficient-kan formulation.
struct ModelSpec {
  std::vector<int64_t> widths{784, 64, 10};
  int64_t gridSize = 5;
  int64_t order = 3;
  bool f32 = false;
  bool withScaler = true;
  bool identityActivation = false;
  /// Batch size; -1 builds a dynamic batch dimension.
  int64_t batch = -1;
};

/// Builds `func.func @model(%x: tensor<N x I0>, params...) -> tensor<N x OL>`
/// of kan.layer ops; params per layer are grid, base_weight, spline_weight
/// and (withScaler) spline_scaler.
OwningOpRef<ModuleOp> buildModel(MLIRContext &ctx, const ModelSpec &spec);

/// Reads the shape of a model function back (widths, G, k, dtype, scaler).
FailureOr<ModelSpec> inferModelSpec(ModuleOp module);

/// Options of the training step (the kan-build-train-step pass options).
struct TrainStepOptions {
  std::string rule = "ternary";
  std::string dist = "";
  std::string loss = "cross_entropy";
  int64_t directions = 32;
  double density = 2e-3;
  double lr = 3e-3;
};

/// Target schedule knobs (tile sizes come from the target, not patterns).
struct CPUSchedule {
  /// Two tiles of 128 rows for the default batch of 256 keep both cores
  /// busy and repack W only twice per layer.
  int64_t tileRows = 128;
  int64_t panelBytes = 8 << 20;
};

/// Adds the CPU pipeline: (optionally) kan-build-train-step, kan-lower-to-gemm,
/// kan-tile-and-fuse with the CPU schedule, canonicalisation.
void buildCPUPipeline(OpPassManager &pm, const TrainStepOptions *train,
                      const CPUSchedule &schedule);

/// Registers `kan-compile-cpu` (options: train-step, rule, dist, loss, n,
/// density, lr, tile-rows) for kan-opt's --pass-pipeline.
void registerCPUPipeline();

/// Emits the C99 source and header of a lowered module (the output of
/// buildCPUPipeline). Does not modify the IR. `prefix` prefixes every
/// exported symbol (default "kan_").
LogicalResult emitCPUSource(ModuleOp module, llvm::raw_ostream &source,
                            llvm::raw_ostream &header,
                            llvm::StringRef prefix = "kan_");

/// The C source and header of a formula module after kan-formula-to-emitc:
/// the EmitC functions as MLIR's C emitter prints them and `kan_forward`
/// over rows (no parameters). Called by emitCPUSource for modules whose
/// functions are formulas.
LogicalResult emitFormulaSource(ModuleOp module, llvm::raw_ostream &source,
                                llvm::raw_ostream &header,
                                llvm::StringRef prefix);

} // namespace mlir::kan

#endif // KAN_TARGET_CPU_CPUTARGET_H
