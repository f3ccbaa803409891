//===- kan-import.cpp - efficient-kan safetensors <-> kan modules -*- C++ -*-===//
//
// kan-import model.safetensors -o model.mlir
//   writes @model (kan.layer ops, the CPU target's argument order) with the
//   weights embedded as dense_resource blobs (module attribute kan.weights).
// kan-import --export model.mlir -o model.safetensors
//   writes the weights back under the same efficient-kan keys; a round trip
//   reproduces the file byte for byte.
//
//===----------------------------------------------------------------------===//

#include "kan/Support/SafeOutput.h"
#include "kan/Tools/Model.h"
#include "kan/Support/Options.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace kan::tools;
namespace cli = mlir::kan::cli;
namespace cl = llvm::cl;

static cl::OptionCategory cat("kan-import options");
static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.safetensors | model.mlir with --export>"),
                                      cl::cat(cat));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output file (.mlir, or .safetensors with --export)"),
                                       cl::value_desc("path"), cl::cat(cat));
static cl::opt<bool> exportMode("export",
                                cl::desc("Read a kan module and write its weights as efficient-kan safetensors"),
                                cl::cat(cat));
static cl::opt<bool> ignoreUnknown(
    "ignore-unknown-tensors",
    cl::desc("Drop tensors of the safetensors file that are not parameters "
             "of the model (by default they are an error)"),
    cl::cat(cat));

static int fail(llvm::Error e) {
  llvm::WithColor::error(llvm::errs(), "kan-import") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&cat, &cli::limitsCategory()});
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-import: convert between efficient-kan safetensors and kan modules\n");
  mlir::MLIRContext ctx;
  if (exportMode) {
    auto model = readMlirFile(ctx, inputPath);
    if (!model)
      return fail(model.takeError());
    if (llvm::Error e = writeSafetensors(*model, outputPath))
      return fail(std::move(e));
    return 0;
  }
  auto model = readSafetensors(inputPath, ignoreUnknown);
  if (!model)
    return fail(model.takeError());
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModelModule(ctx, *model);
  if (mlir::failed(mlir::verify(*module))) {
    llvm::WithColor::error(llvm::errs(), "kan-import")
        << inputPath << ": the built module does not verify\n";
    return 1;
  }
  // Atomic: a failed write (a full disk) leaves an existing output as it was.
  if (outputPath == "-") {
    module->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  auto out = kan::support::AtomicOutputFile::create(outputPath);
  if (!out)
    return fail(out.takeError());
  module->print((*out)->os());
  (*out)->os() << "\n";
  if (llvm::Error e = (*out)->commit())
    return fail(std::move(e));
  return 0;
}
