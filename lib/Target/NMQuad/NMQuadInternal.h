//===- NMQuadInternal.h - pieces of the NM Quad emitter ---------*- C++ -*-===//

#ifndef KAN_LIB_TARGET_NMQUAD_NMQUADINTERNAL_H
#define KAN_LIB_TARGET_NMQUAD_NMQUADINTERNAL_H

#include "nmc/NMCOps.h"

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
  std::string rule;
  std::vector<nmc::GemmTileOp> tiles;
  std::vector<nmc::UpdateOp> updates;
};

FailureOr<NMQuadProgram> collectNMQuadProgram(ModuleOp module);
void printNMQuadParams(NMQuadProgram &p, llvm::raw_ostream &os);
void printNMQuadHost(NMQuadProgram &p, llvm::raw_ostream &os);
void printNMQuadMakefile(NMQuadProgram &p, const std::set<int64_t> &tiles,
                         llvm::StringRef runtimePrefix, llvm::raw_ostream &os);
void printNMQuadReport(NMQuadProgram &p, llvm::raw_ostream &os);

} // namespace mlir::kan

#endif
