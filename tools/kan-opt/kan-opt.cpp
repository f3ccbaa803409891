//===- kan-opt.cpp - the kan optimizer driver -------------------*- C++ -*-===//
//
// mlir-opt for the kan dialect: registers the kan dialect, the upstream
// dialects the pipeline produces, every kan pass and the named pipelines.
// Unlike mlir-opt, -o is written atomically: the output appears only when the
// run succeeded and was written completely, and a failure (an invalid input,
// a full disk) leaves an existing output file as it was.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Support/SafeOutput.h"
#include "kan/Target/CPU/CPUTarget.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  mlir::kan::registerAllPasses();
  mlir::kan::registerCPUPipeline();
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "KAN optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  // Listings and standard output need no atomic file: mlir-opt's own driver.
  if (outputFile == "-" || config.shouldShowDialects())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFile, outputFile, registry));
  std::string err;
  auto input = mlir::openInputFile(inputFile, &err);
  if (!input) {
    llvm::errs() << err << "\n";
    return 1;
  }
  auto out = kan::support::AtomicOutputFile::create(outputFile);
  if (!out) {
    llvm::errs() << "kan-opt: " << llvm::toString(out.takeError()) << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain((*out)->os(), std::move(input), registry, config)))
    return 1;
  if (llvm::Error e = (*out)->commit()) {
    llvm::errs() << "kan-opt: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  return 0;
}
