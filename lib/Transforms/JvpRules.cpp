//===- JvpRules.cpp - forward-mode rules of upstream ops --------*- C++ -*-===//
//
// JvpOpInterface for the upstream ops the pipeline produces, attached as
// external models. The kan ops implement the interface themselves
// (lib/Dialect/Kan/KanOpsJvp.cpp).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanInterfaces.h"
#include "kan/Transforms/Jvp.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::kan;

namespace {

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
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::AddFOp::attachInterface<AddSubJvpModel<arith::AddFOp>>(*ctx);
    arith::SubFOp::attachInterface<AddSubJvpModel<arith::SubFOp>>(*ctx);
    arith::NegFOp::attachInterface<NegFJvpModel>(*ctx);
    arith::MulFOp::attachInterface<MulFJvpModel>(*ctx);
  });
}
