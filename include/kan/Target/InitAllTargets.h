//===- InitAllTargets.h - register every compilation target -----*- C++ -*-===//

#ifndef KAN_TARGET_INITALLTARGETS_H
#define KAN_TARGET_INITALLTARGETS_H

namespace mlir::kan {
/// Adds every target (cpu, nmquad) to the registry of TargetBackend.h; a
/// second call does nothing.
void registerAllTargets();
} // namespace mlir::kan

#endif // KAN_TARGET_INITALLTARGETS_H
