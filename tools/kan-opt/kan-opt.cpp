//===- kan-opt.cpp - the kan optimizer driver -------------------*- C++ -*-===//
//
// mlir-opt for the kan dialect: registers the kan dialect, the upstream
// dialects the pipeline produces, every kan pass and the named pipelines.
// The input is read within the limits of --max-input-bytes and
// --max-nesting before MLIR's parser sees it.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Tools/Options.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cli = mlir::kan::cli;

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  mlir::kan::registerAllPasses();
  mlir::kan::registerCPUPipeline();
  // Make the limits' options known before the command line is parsed.
  (void)cli::inputLimits();
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "KAN optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects()) {
    llvm::outs() << "Available Dialects: ";
    llvm::interleave(registry.getDialectNames(), llvm::outs(), ",");
    llvm::outs() << "\n";
    return 0;
  }
  auto buffer = cli::readMlirInput(inputFile);
  if (!buffer) {
    llvm::WithColor::error(llvm::errs(), "kan-opt")
        << llvm::toString(buffer.takeError()) << "\n";
    return 1;
  }
  std::string err;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFile, &err);
  if (!output) {
    llvm::WithColor::error(llvm::errs(), "kan-opt") << err << "\n";
    return 1;
  }
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(*buffer),
                                     registry, config)))
    return 1;
  output->keep();
  return 0;
}
