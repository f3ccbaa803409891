//===- kan-opt.cpp - the kan optimizer driver -------------------*- C++ -*-===//
//
// mlir-opt for the kan dialect: registers the kan dialect, the upstream
// dialects the pipeline produces, every kan pass and the named pipelines.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/NMQuad/NMQuadTarget.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  mlir::kan::registerAllPasses();
  mlir::kan::registerCPUPipeline();
  mlir::kan::registerNMQuadPipeline();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "KAN optimizer driver\n", registry));
}
