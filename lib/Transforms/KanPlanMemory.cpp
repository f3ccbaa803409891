//===- KanPlanMemory.cpp - buffer slots with liveness reuse -----*- C++ -*-===//
//
// The CPU target's memory plan: intermediate tensors share buffers whose
// lifetimes do not overlap, so the peak of a training step is the largest
// live set of one program point, allocated once per call.
//
//===----------------------------------------------------------------------===//

#include "kan/KanOps.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANPLANMEMORY
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {
struct KanPlanMemoryPass
    : public kan::impl::KanPlanMemoryBase<KanPlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitError() << "kan-plan-memory needs straight-line functions";
      return signalPassFailure();
    }
    Block &body = func.getBody().front();
    Operation *ret = body.getTerminator();
    DenseSet<Value> returned(ret->getOperands().begin(),
                             ret->getOperands().end());

    SmallVector<std::pair<int64_t, int64_t>> slots;
    SmallVector<bool> busy;
    DenseMap<Value, int64_t> slotOf;
    Builder b(func.getContext());
    for (Operation &op : body.without_terminator()) {
      SmallVector<int64_t> assigned;
      for (Value r : op.getResults()) {
        auto t = dyn_cast<ShapedType>(r.getType());
        // Function results are written straight into the caller's buffers;
        // an update reuses its parameter's buffer.
        if (!t || !isa<FloatType>(t.getElementType()) || returned.contains(r) ||
            isa<UpdateOp>(op)) {
          assigned.push_back(-1);
          continue;
        }
        auto size = getBatchAffineNumElements(t);
        int64_t slot = -1;
        for (auto [i, isBusy] : llvm::enumerate(busy))
          if (!isBusy) {
            slot = i;
            break;
          }
        if (slot < 0) {
          slot = slots.size();
          slots.push_back({0, 0});
          busy.push_back(false);
        }
        slots[slot].first = std::max(slots[slot].first, size.first);
        slots[slot].second = std::max(slots[slot].second, size.second);
        busy[slot] = true;
        slotOf[r] = slot;
        assigned.push_back(slot);
      }
      if (op.getNumResults())
        op.setAttr("kan.slots", b.getDenseI64ArrayAttr(assigned));
      // Operands whose last use is this op free their slots.
      for (Value v : op.getOperands()) {
        auto it = slotOf.find(v);
        if (it == slotOf.end())
          continue;
        bool later = llvm::any_of(v.getUsers(), [&](Operation *user) {
          return user != &op && op.isBeforeInBlock(user);
        });
        if (!later)
          busy[it->second] = false;
      }
      // A result nobody uses is dead right away.
      for (Value r : op.getResults()) {
        auto it = slotOf.find(r);
        if (it != slotOf.end() && r.use_empty())
          busy[it->second] = false;
      }
    }
    SmallVector<int64_t> flat;
    for (auto [perN, constant] : slots) {
      flat.push_back(perN);
      flat.push_back(constant);
    }
    func->setAttr("kan.memory_plan", b.getDenseI64ArrayAttr(flat));
  }
};
} // namespace
