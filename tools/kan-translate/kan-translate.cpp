//===- kan-translate.cpp - target sources from a kan module -----*- C++ -*-===//
//
// kan-translate --target=NAME [target options] -o DIR model.mlir
//
// A thin driver over the target registry (kan/Target/TargetBackend.h): it
// looks the target up, hands it the flags that are its options, runs the
// target's pipeline unless the module is already lowered, and lets the target
// write its sources into DIR. It knows no target by name.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Target/InitAllTargets.h"
#include "kan/Target/TargetBackend.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
namespace cl = llvm::cl;

static constexpr llvm::StringLiteral kDefaultTarget = "cpu";

static cl::OptionCategory category("kan-translate options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string>
    target("target",
           cl::desc("The target (see --list-targets; default cpu); its "
                    "options are listed below"),
           cl::init(kDefaultTarget.str()), cl::cat(category));
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::value_desc("dir"), cl::cat(category));
static cl::opt<bool> listTargets("list-targets",
                                 cl::desc("List the registered targets"),
                                 cl::init(false), cl::cat(category));

/// The options of every target, for --help.
static std::string describeTargets() {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "\nTarget options (also kan-opt's kan-compile-NAME{...}; a flag given "
        "as --name=value or --name value):\n";
  for (const kan::TargetBackend *backend : kan::getTargetBackends()) {
    os << "\n  --target=" << backend->getName() << ": "
       << backend->getDescription() << "\n";
    for (const auto &o : backend->createOptions()->describe()) {
      std::string flag = "--" + o.name + (o.takesValue ? "=<value>" : "");
      os << "    " << flag;
      os.indent(flag.size() < 24 ? 24 - flag.size() : 1);
      os << o.help << " (default: "
         << (o.defaultValue.empty() ? "empty" : o.defaultValue) << ")\n";
    }
  }
  return text;
}

/// The target named on the command line (before cl parses it: the target's
/// options decide how the other flags are read).
static StringRef findTargetName(int argc, char **argv) {
  StringRef name = kDefaultTarget;
  for (int i = 1; i < argc; ++i) {
    StringRef a(argv[i]);
    if (a == "--")
      break;
    StringRef flag = a.ltrim('-');
    if (flag.size() == a.size())
      continue;
    if (flag.consume_front("target=")) {
      name = flag;
    } else if (flag == "target" && i + 1 < argc) {
      name = argv[++i];
    }
  }
  return name;
}

/// Moves the flags that are options of `backend` from argv into `taken`
/// (name, value); the rest is left in `rest` for cl. A flag of another
/// target is an error.
static LogicalResult
takeTargetFlags(int argc, char **argv, const kan::TargetBackend &backend,
                const kan::TargetOptions &options,
                SmallVectorImpl<std::pair<StringRef, StringRef>> &taken,
                SmallVectorImpl<const char *> &rest) {
  rest.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    StringRef a(argv[i]);
    StringRef flag = a.ltrim('-');
    if (a == "--") {
      for (; i < argc; ++i)
        rest.push_back(argv[i]);
      break;
    }
    auto [name, value] = flag.split('=');
    bool hasValue = flag.contains('=');
    if (flag.size() == a.size() || name.empty() || name == "target" ||
        name == "o" || name == "list-targets") {
      rest.push_back(argv[i]);
      continue;
    }
    std::optional<bool> takesValue = options.takesValue(name);
    if (!takesValue) {
      for (const kan::TargetBackend *other : kan::getTargetBackends())
        if (other != &backend && other->createOptions()->takesValue(name)) {
          llvm::errs() << "kan-translate: --" << name
                       << " is an option of target '" << other->getName()
                       << "', not of '" << backend.getName() << "'\n";
          return failure();
        }
      rest.push_back(argv[i]);
      continue;
    }
    if (!hasValue && *takesValue) {
      if (i + 1 >= argc) {
        llvm::errs() << "kan-translate: --" << name << " needs a value\n";
        return failure();
      }
      value = argv[++i];
    }
    taken.emplace_back(name, value);
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  kan::registerAllTargets();

  StringRef targetName = findTargetName(argc, argv);
  std::string unknown;
  llvm::raw_string_ostream unknownOs(unknown);
  const kan::TargetBackend *backend =
      kan::findTargetBackend(targetName, unknownOs);
  if (!backend) {
    llvm::errs() << "kan-translate: " << unknown;
    return 1;
  }
  std::unique_ptr<kan::TargetOptions> options = backend->createOptions();
  SmallVector<std::pair<StringRef, StringRef>> targetFlags;
  SmallVector<const char *> rest;
  if (failed(takeTargetFlags(argc, argv, *backend, *options, targetFlags,
                             rest)))
    return 1;

  static std::string targetHelp = describeTargets();
  static cl::extrahelp targetHelpPrinter(targetHelp);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      rest.size(), rest.data(),
      "kan-translate: turns a kan module into target sources\n\n"
      "  kan-translate --target=NAME [target options] -o DIR model.mlir\n"
      "Runs the target's pipeline (the same as kan-opt's kan-compile-NAME)\n"
      "unless the module is already lowered, then writes the target's\n"
      "sources into DIR. With --train-step the noise_step training step is\n"
      "built as well.\n");
  for (auto [name, value] : targetFlags) {
    std::string err;
    llvm::raw_string_ostream es(err);
    if (failed(options->setOption(name, value, es))) {
      llvm::errs() << "kan-translate: --target=" << backend->getName() << ": "
                   << err;
      return 1;
    }
  }

  if (listTargets) {
    for (const kan::TargetBackend *b : kan::getTargetBackends())
      llvm::outs() << b->getName() << "\t" << b->getDescription() << "\n";
    return 0;
  }
  if (outDir.empty()) {
    llvm::errs() << "kan-translate: -o DIR is required\n";
    return 1;
  }

  DialectRegistry registry;
  kan::registerAllDialects(registry);
  MLIRContext ctx(registry);
  std::string err;
  auto buffer = openInputFile(inputFile, &err);
  if (!buffer) {
    llvm::errs() << "kan-translate: " << err << "\n";
    return 1;
  }
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sm, &ctx);
  if (!module)
    return 1;

  if (!backend->isLowered(*module)) {
    PassManager pm(&ctx);
    backend->buildPipeline(pm, *options);
    if (failed(pm.run(*module)))
      return 1;
  }
  kan::DirectoryOutput output(outDir);
  return failed(backend->emit(*module, *options, output, llvm::outs())) ? 1
                                                                        : 0;
}
