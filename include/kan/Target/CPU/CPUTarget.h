//===- CPUTarget.h - the CPU target: pipeline, C ----------------*- C++ -*-===//
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

#include "kan/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::kan {

/// The CPU target's schedule (tile sizes come from the target, not from
/// kan-tile-and-fuse's generic defaults).
struct CPUSchedule {
  /// Two tiles of 128 rows for the default batch of 256 keep both cores
  /// busy and repack W only twice per layer.
  int64_t tileRows = 128;
  /// W is streamed once per tile: the panels of a tile stay within a few MB
  /// of last-level cache.
  int64_t panelBytes = 8 << 20;
  /// Row tiles are split for this many threads: a batch of one tile (128
  /// rows and fewer) still gives two cores rows. Rows are independent, so
  /// the split does not change results.
  int64_t tileThreads = 2;
  /// A fused chain of layer JVPs (noise_step's and fg's steps) keeps one
  /// tile's panels and inter-layer tangents per thread within this.
  int64_t fuseBytes = 2 << 20;
  /// Dense directions drawn once per step up to this size (8 f64 fg
  /// directions of a 784 x 64 layer, draws included, fit).
  int64_t pregenerateBytes = 64 << 20;
  /// Dense directions drawn per tile are drawn, and the tile's features
  /// computed, in blocks of columns whose features, W'_d and draws fit in
  /// this per thread (fg's 784 x 64 layer at 128 rows: 512 columns).
  int64_t drawBytes = 1 << 20;
};

/// Options of the CPU target (kan-translate --target=cpu, kan-compile-cpu).
class CPUTargetOptions : public FrontendOptions {
public:
  Checked<int64_t> tileRows{*this, "tile-rows",
                            llvm::cl::desc("Largest row tile of a layer GEMM"),
                            llvm::cl::init(CPUSchedule().tileRows),
                            cli::bounds(cli::tileRows)};
  Checked<int64_t> tileThreads{
      *this, "tile-threads",
      llvm::cl::desc("Threads the row tiles of a batch are shared by: each "
                     "gets a tile even when the batch fits one "
                     "(kan-tile-and-fuse threads; 1: tiles from tile-rows "
                     "and panel-bytes alone)"),
      llvm::cl::init(CPUSchedule().tileThreads), cli::bounds(cli::threads)};
  Option<int64_t> panelBytes{
      *this, "panel-bytes",
      llvm::cl::desc("Budget in bytes for the feature and tangent panels of "
                     "one row tile"),
      llvm::cl::init(CPUSchedule().panelBytes)};
  Option<int64_t> fuseBytes{
      *this, "fuse-bytes",
      llvm::cl::desc("Budget in bytes for one row tile of a chain of layer "
                     "JVPs fused into one loop: every layer's panels and the "
                     "tangents passed between the layers (kan-tile-and-fuse; "
                     "0: one loop per layer)"),
      llvm::cl::init(CPUSchedule().fuseBytes)};
  Option<std::string> inputTangentKernel{
      *this, "input-tangent-kernel",
      llvm::cl::desc("Input tangents of a layer JVP: auto, jacobian (one "
                     "Jacobian apply per direction), jacobian-multi (all "
                     "directions per row) or panel (kan-prepare-cpu)"),
      llvm::cl::init("auto")};
  Option<int64_t> pregenerateBytes{
      *this, "pregenerate-bytes",
      llvm::cl::desc("Dense directions (fg) whose packed W'_d of all "
                     "directions fit in this many bytes are drawn once per "
                     "step instead of per row tile (0: always per tile)"),
      llvm::cl::init(CPUSchedule().pregenerateBytes)};
  Option<int64_t> drawBytes{
      *this, "draw-bytes",
      llvm::cl::desc("Budget in bytes per thread for one column block of a "
                     "layer JVP whose dense directions are drawn per row "
                     "tile: the tile's features, W'_d and the draws of that "
                     "many columns (kan-prepare-cpu; 0: the whole feature "
                     "panel and W'_d at once)"),
      llvm::cl::init(CPUSchedule().drawBytes)};
  Option<std::string, cli::CheckedStringParser> prefix{
      *this, "prefix",
      llvm::cl::desc("Prefix of every exported C symbol and of the file "
                     "names (emission; a C identifier)"),
      llvm::cl::init("kan_"), cli::format(cli::checkCIdentifier)};
};

/// Adds the CPU pipeline: the frontend (kan-build-train-step with
/// train-step, kan-lower-to-gemm), then buildCPUBackendPipeline.
void buildCPUPipeline(OpPassManager &pm, const CPUTargetOptions &options);

/// The CPU part after the GEMM form: kan-tile-and-fuse (row tiles as
/// scf.forall), kan-prepare-cpu, kan-plan-memory, kan-bufferize (memref
/// buffers), kan-to-emitc. Each pass leaves IR it
/// already handled as it is, so GEMM-form IR cut at any later stage can be
/// finished with it.
void buildCPUBackendPipeline(OpPassManager &pm,
                             const CPUTargetOptions &options);

/// The CPU target's backend (registered as "cpu" by registerCPUTarget).
const TargetBackend &getCPUTarget();
void registerCPUTarget();

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
