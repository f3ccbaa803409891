//===- JvpRules.cpp - forward-mode rules of kan and upstream ops -*- C++
//-*-===//
//
// The derivative rule of each op lives with the op through JvpOpInterface.
// Rules for upstream ops are attached as external models.
//
//===----------------------------------------------------------------------===//

#include "kan/KanOps.h"
#include "kan/Transforms/Jvp.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::kan;

Type mlir::kan::getTangentType(Type primal, int64_t width) {
  if (auto t = dyn_cast<RankedTensorType>(primal)) {
    SmallVector<int64_t> shape{width};
    llvm::append_range(shape, t.getShape());
    return RankedTensorType::get(shape, t.getElementType());
  }
  return RankedTensorType::get({width}, primal);
}

namespace {

LogicalResult rejectTangent(Operation *op, Value tangent, StringRef operand) {
  if (tangent)
    return op->emitOpError() << "has no forward-mode rule for a tangent of "
                                "operand '"
                             << operand << "' (it must be constant)";
  return success();
}

struct LayerJvpModel
    : public JvpOpInterface::ExternalModel<LayerJvpModel, LayerOp> {
  LogicalResult buildJvp(Operation *op, OpBuilder &b, int64_t width,
                         ArrayRef<Value> operands, ArrayRef<Value> tangents,
                         SmallVectorImpl<Value> &primals,
                         SmallVectorImpl<Value> &resultTangents) const {
    auto layer = cast<LayerOp>(op);
    if (failed(rejectTangent(op, tangents[1], "grid")))
      return failure();
    bool hasScaler = static_cast<bool>(layer.getSplineScaler());
    Value scaler = hasScaler ? operands[4] : Value();
    Value scalerT = hasScaler ? tangents[4] : Value();
    auto yT = layer.getOutput().getType();
    auto jvp = b.create<LayerJvpOp>(
        op->getLoc(), TypeRange{yT, getTangentType(yT, width)}, operands[0],
        operands[1], operands[2], operands[3], scaler, tangents[0], tangents[2],
        tangents[3], scalerT, layer.getOrderAttr(), layer.getActAttr());
    primals.push_back(jvp.getOutput());
    resultTangents.push_back(jvp.getOutputTangent());
    return success();
  }
};

template <typename LossOp, typename LossJvpOp>
struct LossJvpModel
    : public JvpOpInterface::ExternalModel<LossJvpModel<LossOp, LossJvpOp>,
                                           LossOp> {
  LogicalResult buildJvp(Operation *op, OpBuilder &b, int64_t width,
                         ArrayRef<Value> operands, ArrayRef<Value> tangents,
                         SmallVectorImpl<Value> &primals,
                         SmallVectorImpl<Value> &resultTangents) const {
    if (failed(rejectTangent(op, tangents[1], "labels/target")))
      return failure();
    if (!tangents[0]) {
      primals.push_back(b.clone(*op)->getResult(0));
      resultTangents.push_back(Value());
      return success();
    }
    Type loss = op->getResult(0).getType();
    auto jvp = b.create<LossJvpOp>(op->getLoc(),
                                   TypeRange{loss, getTangentType(loss, width)},
                                   operands[0], operands[1], tangents[0]);
    primals.push_back(jvp->getResult(0));
    resultTangents.push_back(jvp->getResult(1));
    return success();
  }
};

/// Linear ops: the tangent is the same op applied to the tangents, with a
/// missing tangent standing for zero.
template <typename OpTy>
struct AddSubJvpModel
    : public JvpOpInterface::ExternalModel<AddSubJvpModel<OpTy>, OpTy> {
  LogicalResult buildJvp(Operation *op, OpBuilder &b, int64_t width,
                         ArrayRef<Value> operands, ArrayRef<Value> tangents,
                         SmallVectorImpl<Value> &primals,
                         SmallVectorImpl<Value> &resultTangents) const {
    Location loc = op->getLoc();
    primals.push_back(b.create<OpTy>(loc, operands[0], operands[1]));
    Value ta = tangents[0], tb = tangents[1];
    if (ta && tb)
      resultTangents.push_back(b.create<OpTy>(loc, ta, tb));
    else if (ta)
      resultTangents.push_back(ta);
    else if (std::is_same<OpTy, arith::SubFOp>::value)
      resultTangents.push_back(b.create<arith::NegFOp>(loc, tb));
    else
      resultTangents.push_back(tb);
    return success();
  }
};

struct NegFJvpModel
    : public JvpOpInterface::ExternalModel<NegFJvpModel, arith::NegFOp> {
  LogicalResult buildJvp(Operation *op, OpBuilder &b, int64_t width,
                         ArrayRef<Value> operands, ArrayRef<Value> tangents,
                         SmallVectorImpl<Value> &primals,
                         SmallVectorImpl<Value> &resultTangents) const {
    primals.push_back(b.create<arith::NegFOp>(op->getLoc(), operands[0]));
    resultTangents.push_back(
        b.create<arith::NegFOp>(op->getLoc(), tangents[0]));
    return success();
  }
};

/// Product rule for scalars: (ab)' = a' b + a b'. The scalar factor is
/// splatted over the directions of the other tangent.
struct MulFJvpModel
    : public JvpOpInterface::ExternalModel<MulFJvpModel, arith::MulFOp> {
  LogicalResult buildJvp(Operation *op, OpBuilder &b, int64_t width,
                         ArrayRef<Value> operands, ArrayRef<Value> tangents,
                         SmallVectorImpl<Value> &primals,
                         SmallVectorImpl<Value> &resultTangents) const {
    Location loc = op->getLoc();
    if (isa<ShapedType>(operands[0].getType()))
      return op->emitOpError()
             << "has a forward-mode rule only for scalar operands; "
                "elementwise tensor products need a broadcast of the "
                "primal over the directions";
    primals.push_back(b.create<arith::MulFOp>(loc, operands[0], operands[1]));
    auto tangentType =
        cast<RankedTensorType>(getTangentType(operands[0].getType(), width));
    Value sum;
    for (int i = 0; i < 2; ++i) {
      if (!tangents[i])
        continue;
      Value other =
          b.create<tensor::SplatOp>(loc, tangentType, operands[1 - i]);
      Value term = b.create<arith::MulFOp>(loc, tangents[i], other);
      sum = sum ? b.create<arith::AddFOp>(loc, sum, term).getResult() : term;
    }
    resultTangents.push_back(sum);
    return success();
  }
};

} // namespace

void mlir::kan::registerJvpExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, KanDialect *) {
    LayerOp::attachInterface<LayerJvpModel>(*ctx);
    MseOp::attachInterface<LossJvpModel<MseOp, MseJvpOp>>(*ctx);
    SoftmaxCrossEntropyOp::attachInterface<
        LossJvpModel<SoftmaxCrossEntropyOp, SoftmaxCrossEntropyJvpOp>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::AddFOp::attachInterface<AddSubJvpModel<arith::AddFOp>>(*ctx);
    arith::SubFOp::attachInterface<AddSubJvpModel<arith::SubFOp>>(*ctx);
    arith::NegFOp::attachInterface<NegFJvpModel>(*ctx);
    arith::MulFOp::attachInterface<MulFJvpModel>(*ctx);
  });
}
