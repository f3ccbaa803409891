//===- KanInterfaces.cpp - interfaces of the kan dialect --------*- C++ -*-===//

#include "kan/Dialect/Kan/KanInterfaces.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

#include "kan/Dialect/Kan/KanInterfaces.cpp.inc"

Type mlir::kan::getTangentType(Type primal, int64_t width) {
  if (auto t = dyn_cast<RankedTensorType>(primal)) {
    SmallVector<int64_t> shape{width};
    llvm::append_range(shape, t.getShape());
    return RankedTensorType::get(shape, t.getElementType());
  }
  return RankedTensorType::get({width}, primal);
}
