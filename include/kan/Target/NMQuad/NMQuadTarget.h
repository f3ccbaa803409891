//===- NMQuadTarget.h - the NM Quad target ----------------------*- C++ -*-===//
//
// kan-translate --target=nmquad: schedules the GEMM-form module on NM Quad
// cores (kan-to-nmc, unless the module already holds an nmc.program) and
// writes a folder a user builds with the vendor SDK (`make nmc`) or runs
// under host emulation (`make host-emu`). docs/NMQUAD-TARGET.md describes
// the schedule, the folder and the report.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TARGET_NMQUAD_NMQUADTARGET_H
#define KAN_TARGET_NMQUAD_NMQUADTARGET_H

#include "mlir/IR/BuiltinOps.h"
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

/// Writes the NM Quad folder into \p outDir. The module is not modified.
mlir::LogicalResult emitNMQuad(mlir::ModuleOp module, llvm::StringRef outDir,
                               const NMQuadEmitOptions &options);

/// The runtime prefix of the running tool: the directory above the bin/
/// directory holding the executable (an install prefix, or the build tree,
/// which stages the runtime in the install layout). Falls back to the
/// configured CMAKE_INSTALL_PREFIX when the executable cannot be located.
std::string defaultNMQuadRuntimePrefix();

} // namespace mlir::kan

#endif // KAN_TARGET_NMQUAD_NMQUADTARGET_H
