//===- kan-translate.cpp - target sources from a kan module -----*- C++ -*-===//
//
// kan-translate --target=NAME [target options] -o DIR model.mlir
//
// A thin driver over the target registry (kan/Target/TargetBackend.h): it
// looks the target up, hands it the flags that are its options, runs the
// target's pipeline unless the module is already lowered, and lets the target
// write its sources into DIR. It knows no target by name. A target that
// deploys weights (the NM Quad folder) gets the module's own (kan.weights,
// as kan-import writes them), read before lowering, or with --init-seed
// freshly initialised ones for a module that holds none.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Support/Options.h"
#include "kan/Target/Common.h"
#include "kan/Target/InitAllTargets.h"
#include "kan/Target/TargetBackend.h"
#ifdef KAN_TRANSLATE_WITH_RUNTIME
#include "kan/Tools/Model.h"
#endif
#include "nmcsim/TileCost.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

#include <optional>

using namespace mlir;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;

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
static cl::opt<uint64_t> initSeed(
    "init-seed",
    cl::desc("For a target that deploys weights (nmquad) and a module "
             "without any: write freshly initialised weights from this seed "
             "(kan-train's initialiser) instead of refusing"),
    cl::value_desc("N"), cl::cat(category));

#ifdef KAN_TRANSLATE_WITH_RUNTIME
/// The weights an NM Quad folder deploys: the module's own, or with
/// --init-seed (only for a module without any) freshly initialised ones.
static llvm::Expected<::kan::tools::Model> deployedWeights(ModuleOp module) {
  auto error = [](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  if (::kan::tools::hasModelWeights(module)) {
    if (initSeed.getNumOccurrences())
      return error(inputFile + ": the module carries its weights "
                               "(kan.weights); --init-seed would replace "
                               "them, drop it");
    return ::kan::tools::readModelModule(module, inputFile);
  }
  if (!initSeed.getNumOccurrences())
    return error(inputFile +
                 ": the module carries no weights (no module attribute "
                 "'kan.weights'); import a trained model with kan-import, or "
                 "pass --init-seed=N to deploy freshly initialised weights");
  auto shape = ::kan::tools::readModelShape(module, inputFile);
  if (!shape)
    return shape.takeError();
  ::kan::tools::Model model = ::kan::tools::allocateModel(*shape);
  ::kan::tools::initializeModel(model, initSeed);
  model.setMeta("init_seed", std::to_string(initSeed));
  return model;
}

/// Writes `path` with the tensors the launcher loads, after checking that
/// the model has each one as a tensor of the program's element type and of
/// the same shape.
static LogicalResult
writeDeployedWeights(const ::kan::tools::Model &model,
                     ArrayRef<mlir::kan::DeployedParam> params, StringRef path) {
  auto shapeStr = [](ArrayRef<int64_t> s) {
    std::string r = "[";
    for (auto [i, d] : llvm::enumerate(s))
      r += (i ? "," : "") + std::to_string(d);
    return r + "]";
  };
  for (const mlir::kan::DeployedParam &p : params) {
    auto it = llvm::find_if(model.tensors, [&](const ::kan::tools::Tensor &t) {
      return t.name == p.name;
    });
    if (it == model.tensors.end() || it->f32 != p.f32 ||
        ArrayRef<int64_t>(it->shape) != ArrayRef<int64_t>(p.shape)) {
      llvm::errs() << "kan-translate: " << inputFile << ": the NM Quad "
                   << "program loads '" << p.name << "' as "
                   << (p.f32 ? "f32 " : "f64 ") << shapeStr(p.shape)
                   << ", the model's weights have "
                   << (it == model.tensors.end()
                           ? std::string("no such tensor")
                           : (it->f32 ? "f32 " : "f64 ") + shapeStr(it->shape))
                   << "\n";
      return failure();
    }
  }
  if (llvm::Error e = ::kan::tools::writeSafetensors(model, path)) {
    llvm::errs() << "kan-translate: " << llvm::toString(std::move(e)) << "\n";
    return failure();
  }
  return success();
}
#endif

/// The options of every target, for --help.
static std::string describeTargets() {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "\nTarget options (also kan-opt's kan-compile-NAME{...}; a flag given "
        "as --name=value or --name value):\n";
  for (const mlir::kan::TargetBackend *backend : mlir::kan::getTargetBackends()) {
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
takeTargetFlags(int argc, char **argv, const mlir::kan::TargetBackend &backend,
                const mlir::kan::TargetOptions &options,
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
        name == "o" || name == "list-targets" || name == "init-seed") {
      rest.push_back(argv[i]);
      continue;
    }
    std::optional<bool> takesValue = options.takesValue(name);
    if (!takesValue) {
      for (const mlir::kan::TargetBackend *other : mlir::kan::getTargetBackends())
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
  mlir::kan::registerAllTargets();
  // The FPU kernel cycles of --report (nmquad): the simulator's timing model.
  ::kan::nmcsim::registerTimingCostModel();

  StringRef targetName = findTargetName(argc, argv);
  std::string unknown;
  llvm::raw_string_ostream unknownOs(unknown);
  const mlir::kan::TargetBackend *backend =
      mlir::kan::findTargetBackend(targetName, unknownOs);
  if (!backend) {
    llvm::errs() << "kan-translate: " << unknown;
    return 1;
  }
  std::unique_ptr<mlir::kan::TargetOptions> options = backend->createOptions();
  SmallVector<std::pair<StringRef, StringRef>> targetFlags;
  SmallVector<const char *> rest;
  if (failed(takeTargetFlags(argc, argv, *backend, *options, targetFlags,
                             rest)))
    return 1;

  static std::string targetHelp = describeTargets();
  static cl::extrahelp targetHelpPrinter(targetHelp);
  cl::HideUnrelatedOptions({&category, &cli::limitsCategory()});
  cl::ParseCommandLineOptions(
      rest.size(), rest.data(),
      "kan-translate: turns a kan module into target sources\n\n"
      "  kan-translate --target=NAME [target options] -o DIR model.mlir\n"
      "Runs the target's pipeline (the same as kan-opt's kan-compile-NAME)\n"
      "unless the module is already lowered, then writes the target's\n"
      "sources into DIR (staged, then moved into place: a failure leaves DIR\n"
      "as it was). With --train-step the noise_step training step is built\n"
      "as well. The nmquad folder carries the module's weights\n"
      "(weights.safetensors: its kan.weights, as kan-import writes them; a\n"
      "module without weights is refused unless --init-seed asks for fresh\n"
      "ones) and a Makefile whose KANRT_PREFIX defaults to the prefix this\n"
      "kan-translate is installed under. Symbolic edges and formula modules\n"
      "(kan-symbolic) are f64 and compile for --target=cpu only.\n");
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
    for (const mlir::kan::TargetBackend *b : mlir::kan::getTargetBackends())
      llvm::outs() << b->getName() << "\t" << b->getDescription() << "\n";
    return 0;
  }
  if (outDir.empty()) {
    llvm::errs() << "kan-translate: -o DIR is required\n";
    return 1;
  }

  DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  MLIRContext ctx(registry);
  // Bounded (size, nesting) before MLIR's recursive-descent parser sees it.
  auto buffer = cli::readMlirInput(inputFile);
  if (!buffer) {
    llvm::errs() << "kan-translate: error: "
                 << llvm::toString(buffer.takeError()) << "\n";
    return 1;
  }
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sm, &ctx);
  if (!module)
    return 1;

  bool lowered = backend->isLowered(*module);
  if (initSeed.getNumOccurrences() && !backend->deploysWeights()) {
    llvm::errs() << "kan-translate: --init-seed applies to targets that "
                    "deploy weights; '"
                 << backend->getName() << "' writes none\n";
    return 1;
  }
  // The deployed weights are read before the pipeline rewrites @model.
#ifdef KAN_TRANSLATE_WITH_RUNTIME
  std::optional<::kan::tools::Model> weights;
  if (backend->deploysWeights()) {
    // A formula (kan-symbolic --format mlir) is scalar f64 math, no model.
    bool formula = false;
    module->walk([&](Operation *op) {
      formula |= op->hasAttr("kan.formula");
    });
    if (formula) {
      llvm::errs() << "kan-translate: " << inputFile
                   << ": a formula module (functions with kan.formula, as "
                      "kan-symbolic --format mlir writes them) compiles for "
                      "--target=cpu only; --target="
                   << backend->getName()
                   << " compiles models (@model and the weights it "
                      "deploys), not formulas\n";
      return 1;
    }
    // Lowered for any target, @model no longer names its layers' weights.
    if (llvm::any_of(mlir::kan::getTargetBackends(),
                     [&](const mlir::kan::TargetBackend *b) {
                       return b->isLowered(*module);
                     })) {
      llvm::errs() << "kan-translate: " << inputFile
                   << ": already lowered; --target=" << backend->getName()
                   << " reads the weights to deploy from @model's kan.layer "
                      "ops, give it the module before lowering\n";
      return 1;
    }
    auto w = deployedWeights(*module);
    if (!w) {
      llvm::errs() << "kan-translate: " << llvm::toString(w.takeError())
                   << "\n";
      return 1;
    }
    weights = std::move(*w);
    options->writeWeights = [&](ArrayRef<mlir::kan::DeployedParam> params,
                                StringRef path) {
      return writeDeployedWeights(*weights, params, path);
    };
  }
#else
  if (backend->deploysWeights()) {
    llvm::errs() << "kan-translate: built without the runtime "
                    "(KAN_BUILD_RUNTIME=OFF); --target="
                 << backend->getName()
                 << " needs it to write the model's weights\n";
    return 1;
  }
#endif
  // Lowered IR (for the CPU target: GEMM form, possibly cut after a later
  // stage) gets what remains of the target's pipeline; model-level IR all
  // of it.
  if (lowered) {
    PassManager pm(&ctx);
    backend->buildFinishingPipeline(pm, *options);
    if (failed(pm.run(*module)))
      return 1;
  }
  if (!lowered) {
    PassManager pm(&ctx);
    backend->buildPipeline(pm, *options);
    if (failed(pm.run(*module)))
      return 1;
  }
  // Every file goes to a staging folder first: a failure (a full disk)
  // leaves a previous output folder as it was, never partly replaced.
  return failed(mlir::kan::emitToStagedDirectory(outDir, [&](StringRef dir) {
           mlir::kan::DirectoryOutput output(dir);
           return backend->emit(*module, *options, output, llvm::outs());
         }))
             ? 1
             : 0;
}
