//===- KanJvp.cpp - forward-mode differentiation pass -----------*- C++ -*-===//
//
// Differentiates a straight-line function of kan (and arith) ops in forward
// mode along `width` directions at once. Every primal value is computed once
// and shared; tangents carry a leading direction dimension.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Jvp.h"
#include "kan/Transforms/Passes.h"
#include "kan/Support/Options.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANJVP
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

/// A zero tangent, materialised only where a result needs one.
static Value buildZeroTangent(OpBuilder &b, Location loc, Value primal,
                              int64_t width) {
  auto type = cast<RankedTensorType>(getTangentType(primal.getType(), width));
  auto elt = cast<FloatType>(type.getElementType());
  Value zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(elt, 0.0));
  SmallVector<Value> dyn;
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dyn.push_back(b.create<tensor::DimOp>(loc, primal, i - 1));
  return b.create<tensor::SplatOp>(loc, zero, type, dyn);
}

LogicalResult mlir::kan::emitJvp(OpBuilder &b, func::FuncOp func, int64_t width,
                                 ValueRange primalArgs,
                                 ArrayRef<Value> tangentArgs,
                                 SmallVectorImpl<Value> &results,
                                 SmallVectorImpl<Value> &resultTangents) {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError()
           << "kan-jvp needs a function with a single block (no control flow)";
  IRMapping primal;
  DenseMap<Value, Value> tangent;
  Block &body = func.getBody().front();
  for (auto [arg, v, t] :
       llvm::zip_equal(body.getArguments(), primalArgs, tangentArgs)) {
    primal.map(arg, v);
    if (t)
      tangent[arg] = t;
  }
  for (Operation &op : body.without_terminator()) {
    SmallVector<Value> operands, tangents;
    bool active = false;
    for (Value v : op.getOperands()) {
      operands.push_back(primal.lookup(v));
      tangents.push_back(tangent.lookup(v));
      active |= static_cast<bool>(tangents.back());
    }
    if (op.getNumRegions() != 0)
      return op.emitOpError() << "has regions; kan-jvp differentiates "
                                 "straight-line code only";
    if (!active) {
      // Nothing depends on a tangent: the derivative is zero, keep the op.
      b.clone(op, primal);
      continue;
    }
    auto rule = dyn_cast<JvpOpInterface>(&op);
    if (!rule)
      return op.emitOpError() << "has no forward-mode derivative rule ('"
                              << op.getName() << "' does not implement "
                              << "JvpOpInterface)";
    SmallVector<Value> newPrimals, newTangents;
    if (failed(rule.buildJvp(b, width, operands, tangents, newPrimals,
                             newTangents)))
      return failure();
    for (auto [oldV, newV, t] :
         llvm::zip_equal(op.getResults(), newPrimals, newTangents)) {
      primal.map(oldV, newV);
      if (t)
        tangent[oldV] = t;
    }
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (Value v : ret.getOperands()) {
    Value p = primal.lookup(v);
    results.push_back(p);
    if (!isa<FloatType>(getElementTypeOrSelf(v.getType())))
      continue;
    Value t = tangent.lookup(v);
    resultTangents.push_back(t ? t
                               : buildZeroTangent(b, ret.getLoc(), p, width));
  }
  return success();
}

SmallVector<int64_t> mlir::kan::getParameterStreams(func::FuncOp model) {
  SmallVector<int64_t> streams(model.getNumArguments(), -1);
  int64_t layer = 0;
  model.walk([&](Operation *op) {
    Value base, spline, scaler;
    if (auto l = dyn_cast<LayerOp>(op)) {
      base = l.getBaseWeight(), spline = l.getSplineWeight(),
      scaler = l.getSplineScaler();
    } else {
      return;
    }
    auto setStream = [&](Value v, int64_t s) {
      if (auto arg = dyn_cast_or_null<BlockArgument>(v))
        if (arg.getOwner()->getParentOp() == model &&
            streams[arg.getArgNumber()] < 0)
          streams[arg.getArgNumber()] = s;
    };
    setStream(base, 3 * layer);
    setStream(spline, 3 * layer + 1);
    setStream(scaler, 3 * layer + 2);
    ++layer;
  });
  return streams;
}

namespace {
struct KanJvpPass : public kan::impl::KanJvpBase<KanJvpPass> {
  using KanJvpBase::KanJvpBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func) {
      module.emitError() << "kan-jvp: no function named '" << funcName << "'";
      return signalPassFailure();
    }
    if (auto why = kan::cli::check(kan::cli::directions,
                                     static_cast<int64_t>(width), "width")) {
      func.emitError() << "kan-jvp: " << *why;
      return signalPassFailure();
    }
    FunctionType type = func.getFunctionType();
    SmallVector<bool> dup(type.getNumInputs());
    if (!activity.empty()) {
      if (activity.size() != type.getNumInputs()) {
        func.emitError() << "kan-jvp: 'activity' lists " << activity.size()
                         << " entries but @" << funcName << " has "
                         << type.getNumInputs() << " arguments";
        return signalPassFailure();
      }
      for (auto [i, a] : llvm::enumerate(activity)) {
        if (a != "dup" && a != "const") {
          func.emitError() << "kan-jvp: activity entry " << i << " is '" << a
                           << "'; expected 'dup' or 'const'";
          return signalPassFailure();
        }
        dup[i] = a == "dup";
        if (dup[i] && !isa<FloatType>(getElementTypeOrSelf(type.getInput(i)))) {
          func.emitError() << "kan-jvp: argument " << i << " of type "
                           << type.getInput(i)
                           << " cannot be duplicated (not floating point)";
          return signalPassFailure();
        }
      }
    } else {
      SmallVector<int64_t> streams = getParameterStreams(func);
      for (unsigned i = 0; i < dup.size(); ++i)
        dup[i] = streams[i] >= 0;
    }

    std::string name = funcName + "_jvp";
    if (module.lookupSymbol(name)) {
      func.emitError() << "kan-jvp: @" << name << " already exists";
      return signalPassFailure();
    }
    SmallVector<Type> inputs(type.getInputs());
    for (unsigned i = 0; i < dup.size(); ++i)
      if (dup[i])
        inputs.push_back(getTangentType(type.getInput(i), width));
    SmallVector<Type> outputs(type.getResults());
    for (Type t : type.getResults())
      if (isa<FloatType>(getElementTypeOrSelf(t)))
        outputs.push_back(getTangentType(t, width));

    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(func);
    auto jvp = b.create<func::FuncOp>(func.getLoc(), name,
                                      b.getFunctionType(inputs, outputs));
    Block *entry = jvp.addEntryBlock();
    b.setInsertionPointToStart(entry);
    SmallVector<Value> tangents(dup.size());
    unsigned next = dup.size();
    for (unsigned i = 0; i < dup.size(); ++i)
      if (dup[i])
        tangents[i] = entry->getArgument(next++);
    SmallVector<Value> results, resultTangents;
    if (failed(emitJvp(b, func, width,
                       entry->getArguments().take_front(dup.size()), tangents,
                       results, resultTangents))) {
      jvp.erase();
      return signalPassFailure();
    }
    results.append(resultTangents);
    b.create<func::ReturnOp>(func.getLoc(), results);
  }
};
} // namespace
