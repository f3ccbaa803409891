//===- KanModel.cpp - kan modules of a given shape --------------*- C++ -*-===//

#include "kan/Dialect/Kan/KanModel.h"
#include "kan/Dialect/Kan/KanOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::kan;

std::string ModelShape::widthsString() const {
  std::string s;
  for (auto [i, w] : llvm::enumerate(widths))
    s += (i ? "," : "") + std::to_string(w);
  return s;
}

OwningOpRef<ModuleOp> mlir::kan::buildModel(MLIRContext &ctx,
                                            const ModelShape &spec) {
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
  unsigned firstSymbolic = inputs.size();
  for (size_t l = 0; l + 1 < spec.widths.size(); ++l)
    if (spec.hasSymbolic(l))
      inputs.push_back(
          RankedTensorType::get({spec.widths[l + 1], spec.widths[l], 4}, elt));
  auto resultType = RankedTensorType::get({n, spec.widths.back()}, elt);
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(loc, "model",
                                     b.getFunctionType(inputs, {resultType}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value x = entry->getArgument(0);
  unsigned arg = 1, symArg = firstSymbolic;
  auto act = spec.identityActivation ? Activation::identity : Activation::silu;
  for (size_t l = 0; l + 1 < spec.widths.size(); ++l) {
    Value grid = entry->getArgument(arg++);
    Value base = entry->getArgument(arg++);
    Value spline = entry->getArgument(arg++);
    Value scaler = spec.withScaler ? entry->getArgument(arg++) : Value();
    auto yType = RankedTensorType::get({n, spec.widths[l + 1]}, elt);
    Value y = b.create<LayerOp>(loc, yType, x, grid, base, spline, scaler,
                                b.getI64IntegerAttr(k),
                                ActivationAttr::get(&ctx, act));
    if (spec.hasSymbolic(l)) {
      func.setArgAttr(symArg, "kan.param_name",
                      b.getStringAttr("layers." + std::to_string(l) +
                                      ".symbolic"));
      y = b.create<SymbolicEdgesOp>(loc, yType, x, y,
                                    entry->getArgument(symArg++),
                                    b.getStrArrayAttr(llvm::SmallVector<StringRef>(
                                        spec.symbolic[l].begin(),
                                        spec.symbolic[l].end())));
    }
    x = y;
  }
  b.create<func::ReturnOp>(loc, x);
  return module;
}
