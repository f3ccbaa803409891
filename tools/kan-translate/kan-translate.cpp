//===- kan-translate.cpp - emit target sources from a kan module -*- C++
//-*-===//
//
// kan-translate --target=cpu -o DIR model.mlir
//
// Runs the target's pipeline on a module holding @model (and, with
// --train-step, builds the noise_step training step first) unless the
// module is already lowered, then writes the target's sources into DIR.
// The NM Quad folder also carries the model's weights: those the module
// holds (kan.weights, as kan-import writes them), or with --init-seed
// freshly initialised ones for a module that holds none.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/Common.h"
#include "kan/Target/NMQuad/NMQuadTarget.h"
#ifdef KAN_TRANSLATE_WITH_RUNTIME
#include "kan/Tools/Model.h"
#endif

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <optional>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("kan-translate options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("Target: cpu or nmquad"),
                                   cl::init("cpu"), cl::cat(category));
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::value_desc("dir"), cl::Required,
                                   cl::cat(category));
static cl::opt<bool> trainStep(
    "train-step",
    cl::desc("Also build the noise_step training step (kan_train_step)"),
    cl::init(false), cl::cat(category));
static cl::opt<std::string> rule("rule", cl::desc("Update rule: ternary or fg"),
                                 cl::init("ternary"), cl::cat(category));
static cl::opt<std::string>
    dist("dist",
         cl::desc("Directions: sparse_ternary, normal or rademacher "
                  "(default: by rule)"),
         cl::init(""), cl::cat(category));
static cl::opt<std::string> loss("loss", cl::desc("Loss: cross_entropy or mse"),
                                 cl::init("cross_entropy"), cl::cat(category));
static cl::opt<int64_t> directions("n", cl::desc("Directions per step"),
                                   cl::init(32), cl::cat(category));
static cl::opt<double>
    density("density", cl::desc("Non-zero fraction of sparse directions"),
            cl::init(2e-3), cl::cat(category));
static cl::opt<double> lr("lr", cl::desc("Learning rate"), cl::init(3e-3),
                          cl::cat(category));
static cl::opt<int64_t> tileRows("tile-rows",
                                 cl::desc("Largest row tile of a layer GEMM"),
                                 cl::init(128), cl::cat(category));
static cl::opt<std::string>
    prefix("prefix",
           cl::desc("Prefix of every exported C symbol and of the file names"),
           cl::init("kan_"), cl::cat(category));
static cl::opt<bool>
    report("report", cl::desc("Print the target's schedule report (nmquad)"),
           cl::init(false), cl::cat(category));
static cl::opt<uint64_t> initSeed(
    "init-seed",
    cl::desc("nmquad, for a module without weights: write freshly "
             "initialised weights from this seed (kan-train's initialiser) "
             "instead of refusing"),
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
/// the model has each one as an f64 tensor of the same shape.
static LogicalResult
writeDeployedWeights(const ::kan::tools::Model &model,
                     ArrayRef<mlir::kan::NMQuadParam> params, StringRef path) {
  auto shapeStr = [](ArrayRef<int64_t> s) {
    std::string r = "[";
    for (auto [i, d] : llvm::enumerate(s))
      r += (i ? "," : "") + std::to_string(d);
    return r + "]";
  };
  for (const mlir::kan::NMQuadParam &p : params) {
    auto it = llvm::find_if(model.tensors, [&](const ::kan::tools::Tensor &t) {
      return t.name == p.name;
    });
    if (it == model.tensors.end() || it->f32 ||
        ArrayRef<int64_t>(it->shape) != ArrayRef<int64_t>(p.shape)) {
      llvm::errs() << "kan-translate: " << inputFile << ": the NM Quad "
                   << "program loads '" << p.name << "' as f64 "
                   << shapeStr(p.shape) << ", the model's weights have "
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

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-translate: turns a kan module into target sources\n\n"
      "  kan-translate --target=cpu -o DIR model.mlir\n"
      "    DIR/kan_model.c and DIR/kan_model.h (C99; link with kanrt)\n"
      "  kan-translate --target=nmquad [--report] [--init-seed=N] -o DIR "
      "model.mlir\n"
      "    NMC core C, FPU assembly tiles, a PL_* host launcher, the model's\n"
      "    weights (weights.safetensors: the module's kan.weights, as\n"
      "    kan-import writes them; a module without weights is refused\n"
      "    unless --init-seed asks for fresh ones) and a Makefile (targets\n"
      "    nmc, host-emu, host-emu-train) whose KANRT_PREFIX defaults to the\n"
      "    prefix this kan-translate is installed under\n"
      "With --train-step the noise_step training step is built as well.\n");

  DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
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

  if (target != "cpu" && target != "nmquad") {
    llvm::errs() << "kan-translate: unknown target '" << target
                 << "' (cpu or nmquad)\n";
    return 1;
  }
  if (initSeed.getNumOccurrences() && target != "nmquad") {
    llvm::errs() << "kan-translate: --init-seed applies to --target=nmquad "
                    "only (the cpu target writes no weights)\n";
    return 1;
  }
  bool lowered = false;
  module->walk([&](Operation *op) {
    if (isa<mlir::kan::FeatureGemmOp, mlir::kan::FeatureGemmJvpOp>(op))
      lowered = true;
  });
  // The deployed weights are read before the pipeline rewrites @model.
#ifdef KAN_TRANSLATE_WITH_RUNTIME
  std::optional<::kan::tools::Model> weights;
  if (target == "nmquad") {
    if (lowered) {
      llvm::errs() << "kan-translate: " << inputFile
                   << ": already lowered; --target=nmquad reads the weights "
                      "to deploy from @model's kan.layer ops, give it the "
                      "module before lowering\n";
      return 1;
    }
    auto w = deployedWeights(*module);
    if (!w) {
      llvm::errs() << "kan-translate: " << llvm::toString(w.takeError())
                   << "\n";
      return 1;
    }
    weights = std::move(*w);
  }
#else
  if (target == "nmquad") {
    llvm::errs() << "kan-translate: built without the runtime "
                    "(KAN_BUILD_RUNTIME=OFF); --target=nmquad needs it to "
                    "write the model's weights\n";
    return 1;
  }
#endif
  // Lower unless the module already holds GEMM-form IR.
  if (!lowered) {
    PassManager pm(&ctx);
    mlir::kan::TrainStepOptions opts;
    opts.rule = rule, opts.dist = dist, opts.loss = loss;
    opts.directions = directions, opts.density = density, opts.lr = lr;
    if (target == "nmquad") {
      mlir::kan::buildNMQuadPipeline(pm, trainStep ? &opts : nullptr,
                                     mlir::kan::KanToNMCOptions());
    } else {
      mlir::kan::CPUSchedule schedule;
      schedule.tileRows = tileRows;
      mlir::kan::buildCPUPipeline(pm, trainStep ? &opts : nullptr, schedule);
    }
    if (failed(pm.run(*module)))
      return 1;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outDir)) {
    llvm::errs() << "kan-translate: cannot create " << outDir << ": "
                 << ec.message() << "\n";
    return 1;
  }
  if (target == "cpu") {
    std::string src, hdr;
    llvm::raw_string_ostream s(src), h(hdr);
    if (failed(mlir::kan::emitCPUSource(*module, s, h, prefix)))
      return 1;
    if (failed(mlir::kan::writeTargetFile(outDir, prefix + "model.c", src)) ||
        failed(mlir::kan::writeTargetFile(outDir, prefix + "model.h", hdr)))
      return 1;
    return 0;
  }
#ifdef KAN_TRANSLATE_WITH_RUNTIME
  mlir::kan::NMQuadEmitOptions options;
  options.report = report ? &llvm::outs() : nullptr;
  options.runtimePrefix = mlir::kan::defaultNMQuadRuntimePrefix();
  options.writeWeights = [&](ArrayRef<mlir::kan::NMQuadParam> params,
                             StringRef path) {
    return writeDeployedWeights(*weights, params, path);
  };
  return failed(mlir::kan::emitNMQuad(*module, outDir, options)) ? 1 : 0;
#else
  return 1;
#endif
}
