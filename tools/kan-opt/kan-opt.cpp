//===- kan-opt.cpp - the kan optimizer driver -------------------*- C++ -*-===//
//
// mlir-opt for the kan dialect: registers the kan dialect, the upstream
// dialects the pipeline produces, every kan pass and, from the target
// registry, one `kan-compile-NAME` pipeline per target. --kan-target=NAME
// names that pipeline through the registry.
// The input is read within the limits of --max-input-bytes and
// --max-nesting before MLIR's parser sees it.
// Unlike mlir-opt, -o is written atomically: the output appears only when the
// run succeeded and was written completely, and a failure (an invalid input,
// a full disk) leaves an existing output file as it was.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Support/SafeOutput.h"
#include "kan/Target/InitAllTargets.h"
#include "kan/Target/TargetBackend.h"
#include "kan/Support/Options.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/StringSaver.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

// Documents the flag; main() rewrites it into the pass flag it stands for.
static llvm::cl::opt<std::string> kanTarget(
    "kan-target",
    llvm::cl::desc("Run a target's pipeline at this point of the pass flags: "
                   "NAME or NAME{options}, the same as "
                   "--kan-compile-NAME[=options] (targets: see kan-translate "
                   "--list-targets)"),
    llvm::cl::value_desc("target"), llvm::cl::init(""));

/// Rewrites every `--kan-target=NAME{options}` into
/// `--kan-compile-NAME=options` once NAME is known to the registry.
static LogicalResult expandKanTarget(int argc, char **argv,
                                     llvm::StringSaver &saver,
                                     SmallVectorImpl<char *> &args) {
  for (int i = 0; i < argc; ++i) {
    StringRef a(argv[i]);
    StringRef flag = a.ltrim('-');
    StringRef spec;
    if (flag.size() == a.size() || !flag.starts_with("kan-target")) {
      args.push_back(argv[i]);
      continue;
    }
    if (flag.consume_front("kan-target=")) {
      spec = flag;
    } else if (flag == "kan-target" && i + 1 < argc) {
      spec = argv[++i];
    } else {
      args.push_back(argv[i]);
      continue;
    }
    auto [name, options] = spec.split('{');
    std::string unknown;
    llvm::raw_string_ostream unknownOs(unknown);
    if (!mlir::kan::findTargetBackend(name, unknownOs)) {
      llvm::errs() << "kan-opt: --kan-target: " << unknown;
      return failure();
    }
    std::string expanded = ("--kan-compile-" + name).str();
    if (!options.empty())
      expanded += "=" + options.drop_back(options.ends_with("}")).str();
    args.push_back(const_cast<char *>(saver.save(expanded).data()));
  }
  return success();
}

namespace cli = mlir::kan::cli;

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  mlir::kan::registerAllPasses();
  mlir::kan::registerAllTargets();
  mlir::kan::registerTargetPipelines();
  // Make the limits' options known before the command line is parsed.
  (void)cli::inputLimits();
  llvm::BumpPtrAllocator allocator;
  llvm::StringSaver saver(allocator);
  SmallVector<char *> args;
  if (failed(expandKanTarget(argc, argv, saver, args)))
    return 1;
  args.push_back(nullptr);
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      static_cast<int>(args.size() - 1), args.data(), "KAN optimizer driver\n",
      registry);
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
  auto out = ::kan::support::AtomicOutputFile::create(outputFile);
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
