//===- ModelBuilder.cpp - kan modules of a given shape ----------*- C++ -*-===//

#include "kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::kan;

OwningOpRef<ModuleOp> mlir::kan::buildModel(MLIRContext &ctx,
                                            const ModelSpec &spec) {
  ctx.loadDialect<KanDialect, func::FuncDialect>();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  Type elt = spec.f32 ? Type(b.getF32Type()) : Type(b.getF64Type());
  int64_t n = spec.batch < 0 ? ShapedType::kDynamic : spec.batch;
  int64_t g = spec.gridSize, k = spec.order;
  SmallVector<Type> inputs{
      RankedTensorType::get({n, spec.widths.front()}, elt)};
  for (size_t l = 0; l + 1 < spec.widths.size(); ++l) {
    int64_t in = spec.widths[l], out = spec.widths[l + 1];
    inputs.push_back(RankedTensorType::get({in, g + 2 * k + 1}, elt));
    inputs.push_back(RankedTensorType::get({out, in}, elt));
    inputs.push_back(RankedTensorType::get({out, in, g + k}, elt));
    if (spec.withScaler)
      inputs.push_back(RankedTensorType::get({out, in}, elt));
  }
  auto resultType = RankedTensorType::get({n, spec.widths.back()}, elt);
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(loc, "model",
                                     b.getFunctionType(inputs, {resultType}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value x = entry->getArgument(0);
  unsigned arg = 1;
  auto act = spec.identityActivation ? Activation::identity : Activation::silu;
  for (size_t l = 0; l + 1 < spec.widths.size(); ++l) {
    Value grid = entry->getArgument(arg++);
    Value base = entry->getArgument(arg++);
    Value spline = entry->getArgument(arg++);
    Value scaler = spec.withScaler ? entry->getArgument(arg++) : Value();
    auto yType = RankedTensorType::get({n, spec.widths[l + 1]}, elt);
    x = b.create<LayerOp>(loc, yType, x, grid, base, spline, scaler,
                          b.getI64IntegerAttr(k),
                          ActivationAttr::get(&ctx, act));
  }
  b.create<func::ReturnOp>(loc, x);
  return module;
}

FailureOr<ModelSpec> mlir::kan::inferModelSpec(ModuleOp module) {
  auto func = module.lookupSymbol<func::FuncOp>("model");
  if (!func) {
    module.emitError() << "no @model function in the module";
    return failure();
  }
  ModelSpec spec;
  spec.widths.clear();
  bool first = true;
  WalkResult r = func.walk([&](LayerOp layer) {
    if (first) {
      spec.widths.push_back(layer.getNumInputs());
      spec.gridSize = layer.getGridSize();
      spec.order = layer.getOrder();
      spec.f32 = layer.getInput().getType().getElementType().isF32();
      spec.withScaler = static_cast<bool>(layer.getSplineScaler());
      spec.identityActivation = layer.getAct() == Activation::identity;
      spec.batch = layer.getInput().getType().getDimSize(0);
      if (ShapedType::isDynamic(spec.batch))
        spec.batch = -1;
      first = false;
    } else if (layer.getGridSize() != spec.gridSize ||
               (int64_t)layer.getOrder() != spec.order ||
               static_cast<bool>(layer.getSplineScaler()) != spec.withScaler) {
      layer.emitOpError() << "all layers of a model must share G, k and the "
                             "presence of a spline scaler";
      return WalkResult::interrupt();
    }
    spec.widths.push_back(layer.getNumOutputs());
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  if (spec.widths.size() < 2) {
    func.emitError() << "@model has no kan.layer";
    return failure();
  }
  return spec;
}
