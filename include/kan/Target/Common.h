//===- Common.h - helpers shared by the target emitters ---------*- C++ -*-===//

#ifndef KAN_TARGET_COMMON_H
#define KAN_TARGET_COMMON_H

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::kan {

/// A C literal of `v` that reads back to the same double.
std::string printExactDouble(double v);

/// Writes `dir/name` atomically (temporary file, fsync, rename: a failure
/// leaves an existing file unchanged), reporting failures on stderr.
LogicalResult writeTargetFile(llvm::StringRef dir, llvm::StringRef name,
                              llvm::StringRef text);

/// Runs `emit` on a staging folder for `outDir` and moves the files it
/// wrote into `outDir` when it succeeds (see kan/Support/SafeOutput.h); on
/// failure `outDir` is left as it was.
LogicalResult
emitToStagedDirectory(llvm::StringRef outDir,
                      llvm::function_ref<LogicalResult(llvm::StringRef)> emit);

} // namespace mlir::kan

#endif // KAN_TARGET_COMMON_H
