//===- NMQuadTarget.h - the NM Quad target ----------------------*- C++ -*-===//
//
// kan-translate --target=nmquad: the NM Quad pipeline (buildNMQuadPipeline:
// GEMM form, then kan-to-nmc with the schedule's options) turns the model
// into one nmc.program; the emitter prints that program as a folder a user
// builds with the vendor SDK (`make nmc`), checks without it (`make
// nmc-check`) or runs under host emulation (`make host-emu`,
// `make host-emu-sim`). docs/NMQUAD-TARGET.md describes
// the schedule, the folder and the report.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TARGET_NMQUAD_NMQUADTARGET_H
#define KAN_TARGET_NMQUAD_NMQUADTARGET_H

#include "kan/Conversion/Passes.h"
#include "kan/Target/CPU/CPUTarget.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>

namespace mlir::kan {

/// A parameter the launcher loads from weights.safetensors: an f64 tensor
/// under its efficient-kan name (layers.<l>.grid, ...).
struct NMQuadParam {
  std::string name;
  llvm::SmallVector<int64_t> shape;
};

struct NMQuadEmitOptions {
  /// Where the schedule report goes (none when null).
  llvm::raw_ostream *report = nullptr;
  /// The default of KANRT_PREFIX in the emitted Makefile: the prefix the
  /// runtime (headers, libraries, core sources) is installed under.
  std::string runtimePrefix;
  /// Writes `path` (the folder's weights.safetensors) holding `params`.
  /// The emitter has no weights of its own: the caller supplies the model's.
  std::function<LogicalResult(llvm::ArrayRef<NMQuadParam> params,
                              llvm::StringRef path)>
      writeWeights;
};

/// Adds the NM Quad pipeline: (optionally) kan-build-train-step,
/// kan-lower-to-gemm, canonicalisation, kan-to-nmc with \p schedule.
void buildNMQuadPipeline(OpPassManager &pm, const TrainStepOptions *train,
                         const KanToNMCOptions &schedule);

/// Registers `kan-compile-nmquad` for kan-opt's --pass-pipeline.
void registerNMQuadPipeline();

/// Writes the NM Quad folder of a module in nmc form (the output of
/// buildNMQuadPipeline) into \p outDir. The module is not modified.
mlir::LogicalResult emitNMQuad(mlir::ModuleOp module, llvm::StringRef outDir,
                               const NMQuadEmitOptions &options);

/// The runtime prefix of the running tool: the directory above the bin/
/// directory holding the executable (an install prefix, or the build tree,
/// which stages the runtime in the install layout). Falls back to the
/// configured CMAKE_INSTALL_PREFIX when the executable cannot be located.
std::string defaultNMQuadRuntimePrefix();

} // namespace mlir::kan

#endif // KAN_TARGET_NMQUAD_NMQUADTARGET_H
