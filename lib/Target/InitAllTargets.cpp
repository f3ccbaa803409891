//===- InitAllTargets.cpp - register every compilation target ---*- C++ -*-===//

#include "kan/Target/InitAllTargets.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/NMQuad/NMQuadTarget.h"

void mlir::kan::registerAllTargets() {
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  // One line per target.
  registerCPUTarget();
  registerNMQuadTarget();
}
