//===- KanBuildTrainStep.cpp - noise_step training step as IR ---*- C++ -*-===//
//
// Builds train_step(x, y, seed, step, params...) -> (loss, alphas, params...)
// from a model function: perturbations of every trained parameter, the
// model's JVP along them (inlined), the loss JVP, and the update that
// regenerates each perturbation from the seed.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Jvp.h"
#include "kan/Transforms/Passes.h"
#include "kan/Support/Options.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANBUILDTRAINSTEP
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {
struct KanBuildTrainStepPass
    : public kan::impl::KanBuildTrainStepBase<KanBuildTrainStepPass> {
  using KanBuildTrainStepBase::KanBuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto model = module.lookupSymbol<func::FuncOp>(modelName);
    if (!model) {
      module.emitError() << "kan-build-train-step: no function named '"
                         << modelName << "'";
      return signalPassFailure();
    }
    auto fail = [&](const Twine &msg) {
      model.emitError() << "kan-build-train-step: " << msg;
      signalPassFailure();
    };
    // The options' intervals are the tools' (kan/Support/Options.h).
    if (auto why = kan::cli::check(kan::cli::directions,
                                     static_cast<int64_t>(directions), "n"))
      return fail(*why);
    if (auto why = kan::cli::check(kan::cli::learningRate,
                                     static_cast<double>(lr), "lr"))
      return fail(*why);
    // Direction indices are 32-bit in the perturbation counter.
    if (firstDirection < 0 ||
        firstDirection + directions > (int64_t(1) << 32))
      return fail("first-direction " + Twine(int64_t(firstDirection)) +
                  " + n " + Twine(int64_t(directions)) +
                  " is outside the 32-bit direction range");
    if (loss != "cross_entropy" && loss != "mse")
      return fail("unknown loss '" + loss + "' (cross_entropy or mse)");
    std::optional<UpdateRule> updateRule = symbolizeUpdateRule(rule);
    if (!updateRule)
      return fail("unknown rule '" + rule + "' (ternary or fg)");
    std::string distName = dist;
    if (distName.empty())
      distName =
          *updateRule == UpdateRule::ternary ? "sparse_ternary" : "normal";
    std::optional<Distribution> distribution = symbolizeDistribution(distName);
    if (!distribution)
      return fail("unknown dist '" + distName +
                  "' (sparse_ternary, normal or rademacher)");
    if (*updateRule == UpdateRule::fg &&
        *distribution == Distribution::sparse_ternary)
      return fail("rule 'fg' needs unit-variance directions (normal or "
                  "rademacher), not sparse_ternary");
    bool sparse = *distribution == Distribution::sparse_ternary;
    if (sparse)
      if (auto why = kan::cli::check(kan::cli::density,
                                       static_cast<double>(density),
                                       "density"))
        return fail(*why);

    FunctionType type = model.getFunctionType();
    if (type.getNumInputs() < 1 || type.getNumResults() != 1)
      return fail("the model must take (input, params...) and return one "
                  "tensor of logits");
    auto logitsType = dyn_cast<RankedTensorType>(type.getResult(0));
    if (!logitsType || logitsType.getRank() != 2)
      return fail("the model's result must be a 2-D tensor");
    SmallVector<int64_t> streams = getParameterStreams(model);
    if (llvm::none_of(streams, [](int64_t s) { return s >= 0; }))
      return fail("the model has no trainable parameter arguments");
    if (module.lookupSymbol("train_step"))
      return fail("@train_step already exists");

    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    Location loc = model.getLoc();
    Type elt = logitsType.getElementType();
    Type targetType =
        loss == "mse" ? Type(logitsType)
                      : Type(RankedTensorType::get({logitsType.getDimSize(0)},
                                                   b.getI64Type()));
    SmallVector<Type> inputs{type.getInput(0), targetType, b.getI64Type(),
                             b.getI64Type()};
    llvm::append_range(inputs, type.getInputs().drop_front());
    auto alphasType = RankedTensorType::get({directions}, elt);
    SmallVector<Type> outputs{elt, alphasType};
    llvm::append_range(outputs, type.getInputs().drop_front());

    b.setInsertionPointAfter(model);
    auto step = b.create<func::FuncOp>(loc, "train_step",
                                       b.getFunctionType(inputs, outputs));
    Block *entry = step.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value x = entry->getArgument(0), target = entry->getArgument(1);
    Value seed = entry->getArgument(2), stepIdx = entry->getArgument(3);
    ValueRange params = entry->getArguments().drop_front(4);

    FloatAttr densityAttr = sparse ? b.getF64FloatAttr(density) : FloatAttr();
    SmallVector<Value> primalArgs{x}, tangentArgs{Value()};
    for (auto [i, p] : llvm::enumerate(params)) {
      primalArgs.push_back(p);
      int64_t stream = streams[i + 1];
      if (stream < 0) {
        tangentArgs.push_back(Value());
        continue;
      }
      auto vType =
          cast<RankedTensorType>(getTangentType(p.getType(), directions));
      tangentArgs.push_back(
          b.create<PerturbOp>(loc, vType, seed, stepIdx, *distribution, stream,
                              firstDirection, densityAttr));
    }

    SmallVector<Value> results, resultTangents;
    if (failed(emitJvp(b, model, directions, primalArgs, tangentArgs, results,
                       resultTangents))) {
      step.erase();
      return signalPassFailure();
    }
    Operation *lossOp;
    if (loss == "mse")
      lossOp = b.create<MseJvpOp>(loc, TypeRange{elt, alphasType}, results[0],
                                  target, resultTangents[0]);
    else
      lossOp = b.create<SoftmaxCrossEntropyJvpOp>(
          loc, TypeRange{elt, alphasType}, results[0], target,
          resultTangents[0]);
    Value alphas = lossOp->getResult(1);
    SmallVector<Value> returned{lossOp->getResult(0), alphas};
    if (!update) {
      llvm::append_range(returned, params);
      b.create<func::ReturnOp>(loc, returned);
      return;
    }
    Value coefs =
        b.create<UpdateCoefficientsOp>(loc, alphasType, alphas, *updateRule);
    double scale = *updateRule == UpdateRule::fg ? lr / directions : lr;
    for (auto [i, p] : llvm::enumerate(params)) {
      int64_t stream = streams[i + 1];
      if (stream < 0) {
        returned.push_back(p);
        continue;
      }
      returned.push_back(b.create<UpdateOp>(
          loc, p.getType(), p, coefs, seed, stepIdx,
          DistributionAttr::get(ctx, *distribution),
          b.getI64IntegerAttr(stream), b.getF64FloatAttr(scale), densityAttr));
    }
    b.create<func::ReturnOp>(loc, returned);
  }
};
} // namespace
