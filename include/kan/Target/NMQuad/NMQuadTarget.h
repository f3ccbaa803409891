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
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kan {

/// Writes the NM Quad folder into \p outDir; with \p report, prints the
/// per-kernel schedule report to \p os. The module is not modified.
mlir::LogicalResult emitNMQuad(mlir::ModuleOp module, llvm::StringRef outDir,
                               bool report, llvm::raw_ostream &os);

} // namespace mlir::kan

#endif // KAN_TARGET_NMQUAD_NMQUADTARGET_H
