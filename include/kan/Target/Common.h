//===- Common.h - helpers shared by the target emitters ---------*- C++ -*-===//

#ifndef KAN_TARGET_COMMON_H
#define KAN_TARGET_COMMON_H

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::kan {

/// A C literal of `v` that reads back to the same double.
std::string printExactDouble(double v);

/// Writes `dir/name` (created or replaced), reporting failures on stderr.
LogicalResult writeTargetFile(llvm::StringRef dir, llvm::StringRef name,
                              llvm::StringRef text);

} // namespace mlir::kan

#endif // KAN_TARGET_COMMON_H
