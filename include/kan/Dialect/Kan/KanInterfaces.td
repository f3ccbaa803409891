//===- KanInterfaces.td - interfaces of the kan dialect ----*- tablegen -*-===//

#ifndef KAN_INTERFACES_TD
#define KAN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Kan_JvpOpInterface : OpInterface<"JvpOpInterface"> {
  let cppNamespace = "::mlir::kan";
  let description = [{
    Forward-mode derivative rule of an op. Given the tangents of the
    operands (a null Value means the tangent is known to be zero), the rule
    builds the primal replacement and the tangents of the results. Tangents
    carry a leading dimension of size `width`: one slice per direction,
    sharing every primal value. kan ops implement it themselves
    (lib/Dialect/Kan/KanOpsJvp.cpp); upstream ops (arith) get it through
    external models registered by `registerJvpExternalModels`.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the derivative of this op at the builder's insertion point.
        `tangents` has one entry per operand; on success `primals` and
        `resultTangents` receive one entry per result (null = zero tangent).
      }],
      "::llvm::LogicalResult", "buildJvp",
      (ins "::mlir::OpBuilder &":$builder, "int64_t":$width,
           "::llvm::ArrayRef<::mlir::Value>":$operands,
           "::llvm::ArrayRef<::mlir::Value>":$tangents,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$primals,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$resultTangents)>
  ];
}

#endif // KAN_INTERFACES_TD
