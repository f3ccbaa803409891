//===- NMQuadInternal.h - pieces of the NM Quad emitter ---------*- C++ -*-===//

#ifndef KAN_LIB_TARGET_NMQUAD_NMQUADINTERNAL_H
#define KAN_LIB_TARGET_NMQUAD_NMQUADINTERNAL_H

#include "kan/Dialect/NMC/NMCOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <set>
#include <string>
#include <vector>

namespace mlir::kan {

/// The nmc program read once, for the printers (never modified).
struct NMQuadProgram {
  nmc::ScheduleOp schedule;
  nmc::ProgramOp program;
  std::vector<nmc::BankBufferOp> banks;
  std::set<std::string> bankSet;
  std::vector<nmc::DdrBufferOp> ddrOrder;
  llvm::StringMap<nmc::DdrBufferOp> ddr;
  std::vector<nmc::LayerOp> layers;
  std::vector<nmc::EntryOp> entries;
  nmc::EntryOp train;
  llvm::DenseMap<int64_t, nmc::SparseTangentOp> sparse;
  nmc::LossOp loss;
  nmc::Rule rule = nmc::Rule::ternary;
  std::vector<nmc::KernelOp> kernels;
  std::vector<nmc::GemmTileOp> tiles;
  std::vector<nmc::UpdateOp> updates;
};

FailureOr<NMQuadProgram> collectNMQuadProgram(ModuleOp module);
/// Whether the core calls kan_nmc_axpy_f64 (a dense update): the folder
/// then carries kan_nmc_axpy_f64.s.
inline bool needsNMQuadAxpy(const NMQuadProgram &p) {
  for (nmc::UpdateOp u : p.updates)
    if (u.getDist() != nmc::Dist::sparse_ternary)
      return true;
  return false;
}
void printNMQuadParams(NMQuadProgram &p, llvm::raw_ostream &os);
void printNMQuadHost(NMQuadProgram &p, llvm::raw_ostream &os);
void printNMQuadMakefile(NMQuadProgram &p, llvm::StringRef runtimePrefix,
                         llvm::raw_ostream &os);

/// What `make probe` measured (the calibration file probe_host writes), in
/// the units the report uses.
struct NMQuadCalibration {
  std::string path;
  bool emulation = false; ///< measured under host emulation, not a board
  double clockGHz = 1.0;
  int64_t kernelM = 0, kernelKK = 0;
  double kernelCycles = 0;   ///< per call of the probed kernel
  double softOpCycles = 0;   ///< per scalar fp64 operation
  /// The DDR rounds: cores copying at once, cycles per 32-bit word per
  /// core, and whether the round took less than the timing noise.
  struct DdrRound {
    int64_t active;
    double cyclesPerWord;
    bool belowNoise;
  };
  std::vector<DdrRound> ddrRounds;
  bool ddrVisible = true, retriveOk = true, fmaSameAsC = true;
  std::string wordOrder, fma;
  /// Seconds of one PL_Sync with one core (0: not measured).
  double syncSeconds = 0;
  /// Chips probed; the figures above are the slowest chip's and the checks
  /// hold on every chip. The chips that failed a check, by index.
  int64_t chips = 1;
  std::vector<int64_t> badDdr, badKernel;
};

/// Reads a calibration file; on failure `error` names the problem.
LogicalResult readNMQuadCalibration(llvm::StringRef path,
                                    NMQuadCalibration &out,
                                    std::string &error);
void printNMQuadReport(NMQuadProgram &p, const NMQuadCalibration *calibration,
                       llvm::raw_ostream &os);

} // namespace mlir::kan

#endif
