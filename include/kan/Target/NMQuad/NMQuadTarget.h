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
#include "kan/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>

namespace mlir::kan {

/// Options of the NM Quad target (kan-translate --target=nmquad,
/// kan-compile-nmquad). The schedule's defaults are kan-to-nmc's (Passes.td).
class NMQuadTargetOptions : public FrontendOptions {
public:
  Option<int64_t> chips{*this, "chips",
                        llvm::cl::desc("NM6408 chips (1..4)"),
                        llvm::cl::init(defaults().chips)};
  Option<int64_t> cores{*this, "cores",
                        llvm::cl::desc("NMC4 cores per chip (1..16)"),
                        llvm::cl::init(defaults().cores)};
  Option<std::string> split{
      *this, "split",
      llvm::cl::desc("Split of a layer GEMM over cores: rows or outputs"),
      llvm::cl::init(defaults().split)};
  Option<int64_t> ddrStreams{*this, "ddr-streams",
                             llvm::cl::desc("Cores of a chip on DDR at once "
                                            "(1..8)"),
                             llvm::cl::init(defaults().ddrStreams)};
  Option<int64_t> batch{*this, "batch",
                        llvm::cl::desc("Largest batch slice of one chip "
                                       "(sizes the DDR map)"),
                        llvm::cl::init(defaults().batch)};
  Option<std::string> board{
      *this, "board",
      llvm::cl::desc("Board profile: mini (NM Card Mini: one NM6408, 5 GB "
                     "DDR) or quad (NM Quad: four NM6408, 5 GB each, 20 GB); "
                     "sets --chips to the board's unless given, and the "
                     "schedule is refused, naming what does not fit and by "
                     "how much, when the model or batch exceeds the board"),
      llvm::cl::init("")};
  Option<bool> report{*this, "report",
                      llvm::cl::desc("Print the schedule report on stdout "
                                     "(emission)"),
                      llvm::cl::init(false)};
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("With --report: the calibration file `make probe` "
                     "wrote (probe_host, or make probe-emu under host "
                     "emulation); its measured kernel, DDR-copy and "
                     "soft-float cycles replace the assumed ones"),
      llvm::cl::init("")};

  /// The kan-to-nmc options these stand for.
  KanToNMCOptions getScheduleOptions() const;

private:
  static KanToNMCOptions defaults() { return {}; }
};

/// Adds the NM Quad pipeline: the frontend (kan-build-train-step with
/// train-step, kan-lower-to-gemm), then kan-to-nmc with the schedule options.
void buildNMQuadPipeline(OpPassManager &pm, const NMQuadTargetOptions &options);

/// The NM Quad target's backend (registered as "nmquad").
const TargetBackend &getNMQuadTarget();
void registerNMQuadTarget();

/// A parameter the launcher loads from weights.safetensors.
using NMQuadParam = DeployedParam;

struct NMQuadEmitOptions {
  /// Where the schedule report goes (none when null).
  llvm::raw_ostream *report = nullptr;
  /// A calibration file for the report (none when empty).
  std::string calibrationPath;
  /// The default of KANRT_PREFIX in the emitted Makefile: the prefix the
  /// runtime (headers, libraries, core sources) is installed under.
  std::string runtimePrefix;
  /// Writes the folder's weights.safetensors holding the given parameters.
  /// The emitter has no weights of its own: the driver supplies the model's.
  WeightsWriter writeWeights;
};

/// Writes the NM Quad folder of a module holding an nmc.program (the
/// pipeline's output) to \p output. The module is not modified.
mlir::LogicalResult emitNMQuad(mlir::ModuleOp module, TargetOutput &output,
                               const NMQuadEmitOptions &options);

/// The runtime prefix of the running tool: the directory above the bin/
/// directory holding the executable (an install prefix, or the build tree,
/// which stages the runtime in the install layout). Falls back to the
/// configured CMAKE_INSTALL_PREFIX when the executable cannot be located.
std::string defaultNMQuadRuntimePrefix();

} // namespace mlir::kan

#endif // KAN_TARGET_NMQUAD_NMQUADTARGET_H
