//===- kan-translate.cpp - emit target sources from a kan module -*- C++
//-*-===//
//
// kan-translate --target=cpu -o DIR model.mlir
//
// Runs the target's pipeline on a module holding @model (and, with
// --train-step, builds the noise_step training step first) unless the
// module is already lowered, then writes the target's sources into DIR.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/Common.h"
#include "kan/Target/NMQuad/NMQuadTarget.h"

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

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-translate: turns a kan module into target sources\n\n"
      "  kan-translate --target=cpu -o DIR model.mlir\n"
      "    DIR/kan_model.c and DIR/kan_model.h (C99; link with kanrt)\n"
      "  kan-translate --target=nmquad [--report] -o DIR model.mlir\n"
      "    NMC core C, FPU assembly tiles, a PL_* host launcher, weights and\n"
      "    a Makefile (targets nmc, host-emu, host-emu-train)\n"
      "With --train-step the noise_step training step is built as well.\n");

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

  if (target != "cpu" && target != "nmquad") {
    llvm::errs() << "kan-translate: unknown target '" << target
                 << "' (cpu or nmquad)\n";
    return 1;
  }
  // Lower unless the module already holds GEMM-form IR.
  bool lowered = false;
  module->walk([&](Operation *op) {
    if (isa<kan::FeatureGemmOp, kan::FeatureGemmJvpOp>(op))
      lowered = true;
  });
  // GEMM-form IR (cut after any later stage) gets the rest of the CPU
  // pipeline; model-level IR gets all of it.
  if (lowered && target == "cpu") {
    PassManager pm(&ctx);
    kan::CPUSchedule schedule;
    schedule.tileRows = tileRows;
    kan::buildCPUBackendPipeline(pm, schedule);
    if (failed(pm.run(*module)))
      return 1;
  }
  if (!lowered) {
    PassManager pm(&ctx);
    kan::TrainStepOptions opts;
    opts.rule = rule, opts.dist = dist, opts.loss = loss;
    opts.directions = directions, opts.density = density, opts.lr = lr;
    kan::CPUSchedule schedule;
    schedule.tileRows = tileRows;
    if (target == "cpu")
      kan::buildCPUPipeline(pm, trainStep ? &opts : nullptr, schedule);
    else
      kan::buildGemmFormPipeline(pm, trainStep ? &opts : nullptr);
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
    if (failed(kan::emitCPUSource(*module, s, h, prefix)))
      return 1;
    if (failed(kan::writeTargetFile(outDir, prefix + "model.c", src)) ||
        failed(kan::writeTargetFile(outDir, prefix + "model.h", hdr)))
      return 1;
    return 0;
  }
  return failed(kan::emitNMQuad(*module, outDir, report, llvm::outs())) ? 1 : 0;
}
