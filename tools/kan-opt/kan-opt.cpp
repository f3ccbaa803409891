//===- kan-opt.cpp - the kan optimizer driver -------------------*- C++ -*-===//
//
// mlir-opt for the kan dialect: registers the kan dialect, the upstream
// dialects the pipeline produces, every kan pass and the named pipelines.
// The input is read within the limits of --max-input-bytes and
// --max-nesting before MLIR's parser sees it.
// Unlike mlir-opt, -o is written atomically: the output appears only when the
// run succeeded and was written completely, and a failure (an invalid input,
// a full disk) leaves an existing output file as it was.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Support/SafeOutput.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Tools/Options.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
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
  if (outputFile == "-")
    return mlir::failed(mlir::MlirOptMain(llvm::outs(), std::move(*buffer),
                                          registry, config))
               ? 1
               : 0;
  auto out = kan::support::AtomicOutputFile::create(outputFile);
  if (!out) {
    llvm::WithColor::error(llvm::errs(), "kan-opt")
        << llvm::toString(out.takeError()) << "\n";
    return 1;
  }
  if (mlir::failed(mlir::MlirOptMain((*out)->os(), std::move(*buffer),
                                     registry, config)))
    return 1;
  if (llvm::Error e = (*out)->commit()) {
    llvm::WithColor::error(llvm::errs(), "kan-opt")
        << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  return 0;
}
