//===- KanBuildTrainStep.cpp - noise_step training step as IR ---*- C++ -*-===//
//
// Builds train_step(x, y, seed, step, params...) -> (loss, alphas, params...)
// from a model function: perturbations of every trained parameter, the
// model's JVP along them (inlined), the loss JVP, and the update that
// regenerates each perturbation from the seed; or rule=activity's
// perturbations of the hidden pre-activations (with local-losses, each
// carried through an auxiliary head of its layer).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Jvp.h"
#include "kan/Transforms/Passes.h"
#include "kan/Support/Options.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANBUILDTRAINSTEP
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

/// @train_step after `model`: (input, target, seed, step, params...) ->
/// (loss, alphas[directions], params...), its entry block the insertion
/// point of `b`. Every rule's step has this signature (the C ABI's).
/// `extra` parameters (local-loss heads) follow the model's, as arguments
/// and as results.
static func::FuncOp createTrainStepFunc(OpBuilder &b, func::FuncOp model,
                                        Type targetType, int64_t directions,
                                        TypeRange extra = {}) {
  FunctionType type = model.getFunctionType();
  Type elt = cast<RankedTensorType>(type.getResult(0)).getElementType();
  SmallVector<Type> inputs{type.getInput(0), targetType, b.getI64Type(),
                           b.getI64Type()};
  llvm::append_range(inputs, type.getInputs().drop_front());
  llvm::append_range(inputs, extra);
  SmallVector<Type> outputs{elt, RankedTensorType::get({directions}, elt)};
  llvm::append_range(outputs, type.getInputs().drop_front());
  llvm::append_range(outputs, extra);
  b.setInsertionPointAfter(model);
  auto step = b.create<func::FuncOp>(model.getLoc(), "train_step",
                                     b.getFunctionType(inputs, outputs));
  b.setInsertionPointToStart(step.addEntryBlock());
  return step;
}

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
    bool activity = rule == "activity";
    std::optional<UpdateRule> updateRule = symbolizeUpdateRule(rule);
    if (!updateRule && !activity)
      return fail("unknown rule '" + rule + "' (ternary, fg or activity)");
    if (gradient && !activity)
      return fail("gradient=true needs rule=activity (the weight-perturbation "
                  "rules return their scalars with update=false)");
    if (localLosses && !activity)
      return fail("local-losses=true needs rule=activity (the local losses "
                  "train hidden layers from perturbations of their "
                  "activities)");
    std::string distName = dist;
    if (distName.empty())
      distName = updateRule && *updateRule == UpdateRule::ternary
                     ? "sparse_ternary"
                     : "normal";
    std::optional<Distribution> distribution = symbolizeDistribution(distName);
    if (!distribution)
      return fail("unknown dist '" + distName +
                  "' (sparse_ternary, normal or rademacher)");
    if (!(updateRule && *updateRule == UpdateRule::ternary) &&
        *distribution == Distribution::sparse_ternary)
      return fail("rule '" + rule +
                  "' needs unit-variance directions (normal or "
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

    if (activity) {
      if (loss != "cross_entropy")
        return fail("rule 'activity' supports the cross_entropy loss only");
      if (failed(buildActivityStep(model, *distribution)))
        return signalPassFailure();
      return;
    }

    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    Location loc = model.getLoc();
    Type elt = logitsType.getElementType();
    Type targetType =
        loss == "mse" ? Type(logitsType)
                      : Type(RankedTensorType::get({logitsType.getDimSize(0)},
                                                   b.getI64Type()));
    auto step = createTrainStepFunc(b, model, targetType, directions);
    Type alphasType = step.getResultTypes()[1];
    Block *entry = &step.front();
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

  LogicalResult buildActivityStep(func::FuncOp model, Distribution dist);
};
} // namespace

/// The step of rule `activity` (see the pass description).
LogicalResult KanBuildTrainStepPass::buildActivityStep(func::FuncOp model,
                                                       Distribution dist) {
  // The model as a chain of layers: x -> layer 0 -> ... -> layer L-1 -> ret.
  SmallVector<LayerOp> layers;
  Block &body = model.getBody().front();
  Value prev = model.getArgument(0);
  for (Operation &op : body) {
    if (auto l = dyn_cast<LayerOp>(op)) {
      if (l.getInput() != prev)
        return model.emitError()
               << "kan-build-train-step: rule 'activity' needs a chain of "
                  "kan.layer ops (layer "
               << layers.size() << " does not read the previous one)";
      auto isArg = [&](Value v) {
        return !v || (isa<BlockArgument>(v) &&
                      cast<BlockArgument>(v).getOwner() == &body);
      };
      if (!isArg(l.getGrid()) || !isArg(l.getBaseWeight()) ||
          !isArg(l.getSplineWeight()) || !isArg(l.getSplineScaler()))
        return model.emitError()
               << "kan-build-train-step: rule 'activity' needs every layer's "
                  "grid and weights to be arguments of the model";
      layers.push_back(l);
      prev = l.getOutput();
      continue;
    }
    if (auto r = dyn_cast<func::ReturnOp>(op)) {
      if (r.getNumOperands() != 1 || r.getOperand(0) != prev)
        return model.emitError() << "kan-build-train-step: rule 'activity' "
                                    "needs the model to return its last layer";
      continue;
    }
    return op.emitError() << "kan-build-train-step: rule 'activity' needs a "
                             "model of kan.layer ops only";
  }
  if (layers.empty())
    return model.emitError() << "kan-build-train-step: the model has no "
                                "kan.layer";
  if (localLosses && layers.size() < 2)
    return model.emitError() << "kan-build-train-step: local-losses=true "
                                "needs a hidden layer (the model has one "
                                "layer)";

  MLIRContext *ctx = model.getContext();
  OpBuilder b(ctx);
  Location loc = model.getLoc();
  FunctionType type = model.getFunctionType();
  auto logitsType = cast<RankedTensorType>(type.getResult(0));
  Type elt = logitsType.getElementType();
  auto labelsType =
      RankedTensorType::get({logitsType.getDimSize(0)}, b.getI64Type());
  size_t L = layers.size();
  // Local losses: a head per hidden layer l, a layer from l's width to the
  // classes with l's grid size, order, activation and scaler.
  struct Head {
    Value grid, base, spline, scaler;
  };
  SmallVector<Head> heads;
  SmallVector<Type> headTypes;
  SmallVector<unsigned> headTensors;
  int64_t classes = logitsType.getDimSize(1);
  if (localLosses)
    for (size_t l = 0; l + 1 < L; ++l) {
      LayerOp lay = layers[l];
      auto dim = [](Value v, unsigned d) {
        return cast<RankedTensorType>(v.getType()).getDimSize(d);
      };
      int64_t width = dim(lay.getOutput(), 1);
      int64_t knots = dim(lay.getGrid(), 1);
      int64_t coefs = dim(lay.getSplineWeight(), 2);
      headTypes.push_back(RankedTensorType::get({width, knots}, elt));
      headTypes.push_back(RankedTensorType::get({classes, width}, elt));
      headTypes.push_back(RankedTensorType::get({classes, width, coefs}, elt));
      if (lay.getSplineScaler())
        headTypes.push_back(RankedTensorType::get({classes, width}, elt));
      headTensors.push_back(lay.getSplineScaler() ? 4 : 3);
    }
  auto step = createTrainStepFunc(b, model, labelsType, directions, headTypes);
  Type alphasType = step.getResultTypes()[1];
  Block *entry = &step.front();
  Value labels = entry->getArgument(1);
  Value seed = entry->getArgument(2), stepIdx = entry->getArgument(3);
  IRMapping map;
  map.map(model.getArgument(0), entry->getArgument(0));
  for (unsigned i = 1; i < model.getNumArguments(); ++i)
    map.map(model.getArgument(i), entry->getArgument(i + 3));
  for (unsigned h = 0, a = model.getNumArguments() + 3; h < headTensors.size();
       a += headTensors[h++]) {
    Head head{entry->getArgument(a), entry->getArgument(a + 1),
              entry->getArgument(a + 2), Value()};
    if (headTensors[h] == 4)
      head.scaler = entry->getArgument(a + 3);
    heads.push_back(head);
  }

  // The primal sweep: every layer's input and pre-activations.
  SmallVector<Value> ins, zs;
  for (LayerOp l : layers) {
    ins.push_back(map.lookup(l.getInput()));
    Operation *c = b.clone(*l, map);
    zs.push_back(c->getResult(0));
  }
  SmallVector<Value> grads(L), headGrads(heads.size());
  grads[L - 1] =
      b.create<SoftmaxCrossEntropyGradOp>(loc, zs[L - 1].getType(), zs[L - 1],
                                          labels);
  // One tangent sweep per hidden layer, from its pre-activations on.
  Value loss, alphas;
  for (size_t l = 0; l + 1 < L; ++l) {
    auto zType = cast<RankedTensorType>(zs[l].getType());
    auto uType = RankedTensorType::get(
        {directions, zType.getDimSize(0), zType.getDimSize(1)}, elt);
    Value u = b.create<PerturbActivityOp>(
        loc, uType, zs[l], seed, stepIdx, DistributionAttr::get(ctx, dist),
        b.getI64IntegerAttr(0x40000000 + int64_t(l)),
        b.getI64IntegerAttr(firstDirection));
    Value h = zs[l], t = u;
    auto jvpOf = [&](Value grid, Value base, Value spline, Value scaler,
                     LayerOp like) {
      auto hType = RankedTensorType::get(
          {zType.getDimSize(0),
           cast<RankedTensorType>(base.getType()).getDimSize(0)},
          elt);
      auto tType = RankedTensorType::get(
          {directions, hType.getDimSize(0), hType.getDimSize(1)}, elt);
      auto jvp = b.create<LayerJvpOp>(
          loc, TypeRange{hType, tType}, h, grid, base, spline, scaler, t,
          Value(), Value(), Value(), like.getOrderAttr(), like.getActAttr());
      h = jvp.getOutput();
      t = jvp.getOutputTangent();
    };
    if (localLosses) {
      // Only through layer l's head: the later layers do not see it.
      const Head &hd = heads[l];
      jvpOf(hd.grid, hd.base, hd.spline, hd.scaler, layers[l]);
      // The head's own update is exact.
      headGrads[l] =
          b.create<SoftmaxCrossEntropyGradOp>(loc, h.getType(), h, labels);
    } else {
      for (size_t m = l + 1; m < L; ++m) {
        LayerOp lm = layers[m];
        jvpOf(map.lookup(lm.getGrid()), map.lookup(lm.getBaseWeight()),
              map.lookup(lm.getSplineWeight()),
              lm.getSplineScaler() ? map.lookup(lm.getSplineScaler()) : Value(),
              lm);
      }
    }
    auto hType = cast<RankedTensorType>(h.getType());
    auto aType = RankedTensorType::get({directions, hType.getDimSize(0)}, elt);
    auto ex = b.create<SoftmaxCrossEntropyExamplesJvpOp>(
        loc, TypeRange{elt, alphasType, aType}, h, labels, t);
    if (!alphas)
      alphas = ex.getLossTangent();
    else
      alphas = b.create<arith::AddFOp>(loc, alphas, ex.getLossTangent());
    // Without local losses the loss whose JVP this is is the model's.
    if (!localLosses && !loss)
      loss = ex.getLoss();
    grads[l] = b.create<ActivityEstimateOp>(loc, zType, ex.getExampleTangents(),
                                            u);
  }
  if (!loss)
    loss = b.create<SoftmaxCrossEntropyOp>(loc, elt, zs[L - 1], labels);
  if (!alphas) {
    // No hidden layer: the update is exact, no direction is drawn.
    Value zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(elt, 0.0));
    alphas = b.create<tensor::SplatOp>(loc, alphasType, zero);
  }
  SmallVector<Value> returned{loss, alphas};
  SmallVector<Value> newParams(entry->getArguments().drop_front(4));
  if (update || gradient) {
    for (size_t l = 0; l < L; ++l) {
      LayerOp lay = layers[l];
      Value wb = map.lookup(lay.getBaseWeight());
      Value ws = map.lookup(lay.getSplineWeight());
      Value ss = lay.getSplineScaler() ? map.lookup(lay.getSplineScaler())
                                       : Value();
      SmallVector<Type> resTypes{wb.getType(), ws.getType()};
      if (ss)
        resTypes.push_back(ss.getType());
      auto up = b.create<ActivityUpdateOp>(
          loc, resTypes, ins[l], map.lookup(lay.getGrid()), grads[l], wb, ws,
          ss, /*aux=*/Value(), b.getF64FloatAttr(lr), lay.getOrderAttr(),
          lay.getActAttr(), gradient ? b.getUnitAttr() : UnitAttr(),
          /*input_tile=*/IntegerAttr(), /*row_tile=*/IntegerAttr());
      auto replace = [&](Value old, Value now) {
        for (Value &v : newParams)
          if (v == old)
            v = now;
      };
      replace(wb, up.getNewBaseWeight());
      replace(ws, up.getNewSplineWeight());
      if (ss)
        replace(ss, up.getNewSplineScaler());
    }
    for (auto [l, hd] : llvm::enumerate(heads)) {
      SmallVector<Type> resTypes{hd.base.getType(), hd.spline.getType()};
      if (hd.scaler)
        resTypes.push_back(hd.scaler.getType());
      auto up = b.create<ActivityUpdateOp>(
          loc, resTypes, zs[l], hd.grid, headGrads[l], hd.base, hd.spline,
          hd.scaler, /*aux=*/Value(), b.getF64FloatAttr(lr),
          layers[l].getOrderAttr(), layers[l].getActAttr(),
          gradient ? b.getUnitAttr() : UnitAttr(),
          /*input_tile=*/IntegerAttr(), /*row_tile=*/IntegerAttr());
      for (Value &v : newParams) {
        if (v == hd.base)
          v = up.getNewBaseWeight();
        else if (v == hd.spline)
          v = up.getNewSplineWeight();
        else if (hd.scaler && v == hd.scaler)
          v = up.getNewSplineScaler();
      }
    }
  }
  llvm::append_range(returned, newParams);
  b.create<func::ReturnOp>(loc, returned);
  return success();
}
