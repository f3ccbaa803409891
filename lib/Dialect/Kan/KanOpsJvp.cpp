//===- KanOpsJvp.cpp - forward-mode rules of the kan ops --------*- C++ -*-===//
//
// JvpOpInterface implemented on the ops themselves: the derivative of a kan
// op is part of its definition. Upstream ops get theirs as external models
// (lib/Transforms/JvpRules.cpp).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"

using namespace mlir;
using namespace mlir::kan;

static LogicalResult rejectTangent(Operation *op, Value tangent,
                                   StringRef operand) {
  if (tangent)
    return op->emitOpError() << "has no forward-mode rule for a tangent of "
                                "operand '"
                             << operand << "' (it must be constant)";
  return success();
}

LogicalResult LayerOp::buildJvp(OpBuilder &b, int64_t width,
                                ArrayRef<Value> operands,
                                ArrayRef<Value> tangents,
                                SmallVectorImpl<Value> &primals,
                                SmallVectorImpl<Value> &resultTangents) {
  if (failed(rejectTangent(*this, tangents[1], "grid")))
    return failure();
  bool hasScaler = static_cast<bool>(getSplineScaler());
  Value scaler = hasScaler ? operands[4] : Value();
  Value scalerT = hasScaler ? tangents[4] : Value();
  auto yT = getOutput().getType();
  auto jvp = b.create<LayerJvpOp>(
      getLoc(), TypeRange{yT, getTangentType(yT, width)}, operands[0],
      operands[1], operands[2], operands[3], scaler, tangents[0], tangents[2],
      tangents[3], scalerT, getOrderAttr(), getActAttr());
  primals.push_back(jvp.getOutput());
  resultTangents.push_back(jvp.getOutputTangent());
  return success();
}

LogicalResult SymbolicEdgesOp::buildJvp(OpBuilder &b, int64_t width,
                                        ArrayRef<Value> operands,
                                        ArrayRef<Value> tangents,
                                        SmallVectorImpl<Value> &primals,
                                        SmallVectorImpl<Value> &resultTangents) {
  auto yT = getOutput().getType();
  auto jvp = b.create<SymbolicEdgesJvpOp>(
      getLoc(), TypeRange{yT, getTangentType(yT, width)}, operands[0],
      operands[1], operands[2], tangents[0], tangents[1], tangents[2],
      getFunctionsAttr());
  primals.push_back(jvp.getOutput());
  resultTangents.push_back(jvp.getOutputTangent());
  return success();
}

/// A loss and its JVP op: the loss alone when the prediction's tangent is
/// zero, else `LossJvpOp` (loss, tangent per direction).
template <typename LossJvpOp>
static LogicalResult buildLossJvp(Operation *op, OpBuilder &b, int64_t width,
                                  ArrayRef<Value> operands,
                                  ArrayRef<Value> tangents,
                                  SmallVectorImpl<Value> &primals,
                                  SmallVectorImpl<Value> &resultTangents) {
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

LogicalResult MseOp::buildJvp(OpBuilder &b, int64_t width,
                              ArrayRef<Value> operands,
                              ArrayRef<Value> tangents,
                              SmallVectorImpl<Value> &primals,
                              SmallVectorImpl<Value> &resultTangents) {
  return buildLossJvp<MseJvpOp>(*this, b, width, operands, tangents, primals,
                                resultTangents);
}

LogicalResult SoftmaxCrossEntropyOp::buildJvp(
    OpBuilder &b, int64_t width, ArrayRef<Value> operands,
    ArrayRef<Value> tangents, SmallVectorImpl<Value> &primals,
    SmallVectorImpl<Value> &resultTangents) {
  return buildLossJvp<SoftmaxCrossEntropyJvpOp>(
      *this, b, width, operands, tangents, primals, resultTangents);
}
