//===- KanPlanMemory.cpp - buffer slots with liveness reuse -----*- C++ -*-===//
//
// The CPU target's memory plan: intermediate tensors share buffers whose
// lifetimes do not overlap, so the peak of a training step is the largest
// live set of one program point, allocated once per call. The plan is two
// attributes (kan/Transforms/MemoryPlan.h) that kan-bufferize turns into
// memref IR.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/MemoryPlan.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANPLANMEMORY
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {

/// Values an op reads, its nested regions included (captured values).
SetVector<Value> usedValues(Operation *op) {
  SetVector<Value> used;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (!op->isAncestor(v.getParentRegion()->getParentOp()))
        used.insert(v);
  });
  return used;
}

/// A value that needs no slot of its own: a loop's initial tensor (the
/// loop result holds the buffer), or the CSR directions, sized at run time.
bool needsNoSlot(Operation &op) {
  if (auto empty = dyn_cast<tensor::EmptyOp>(op))
    return llvm::all_of(empty->getUsers(),
                        [](Operation *u) { return isa<scf::ForallOp>(u); });
  return isa<SparseDirectionsOp>(op);
}

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
    // Already bufferised (a pipeline cut after kan-bufferize, finished).
    if (!body.getOps<bufferization::MaterializeInDestinationOp>().empty())
      return;
    Operation *ret = body.getTerminator();
    DenseSet<Value> returned(ret->getOperands().begin(),
                             ret->getOperands().end());

    SmallVector<std::pair<int64_t, int64_t>> slots;
    SmallVector<bool> busy;
    DenseMap<Value, int64_t> slotOf;
    Builder b(func.getContext());
    for (Operation &op : body.without_terminator()) {
      SmallVector<int64_t> assigned;
      for (OpResult r : op.getResults()) {
        auto t = dyn_cast<RankedTensorType>(r.getType());
        // Function results are written straight into the caller's buffers.
        if (!t || !isa<FloatType>(t.getElementType()) || returned.contains(r) ||
            needsNoSlot(op)) {
          assigned.push_back(kNoSlot);
          continue;
        }
        // An update overwrites its parameter when nothing reads the old
        // value later: the result takes over the parameter's buffer (its
        // slot, or the caller's argument).
        if (Value param = getUpdatedParam(r)) {
          bool later = llvm::any_of(param.getUsers(), [&](Operation *user) {
            Operation *top = body.findAncestorOpInBlock(*user);
            return top && top != &op && op.isBeforeInBlock(top);
          });
          if (!later) {
            assigned.push_back(kInPlace);
            auto it = slotOf.find(param);
            if (it != slotOf.end()) {
              slotOf[r] = it->second;
              slotOf.erase(it);
            }
            continue;
          }
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
      if (llvm::any_of(op.getResultTypes(),
                       [](Type t) { return isa<ShapedType>(t); }))
        op.setAttr(kSlotsAttr, b.getDenseI64ArrayAttr(assigned));
      // Values whose last use is this op (or inside its loop body) free
      // their slots.
      for (Value v : usedValues(&op)) {
        auto it = slotOf.find(v);
        if (it == slotOf.end())
          continue;
        bool later = llvm::any_of(v.getUsers(), [&](Operation *user) {
          Operation *top = body.findAncestorOpInBlock(*user);
          return top && top != &op && op.isBeforeInBlock(top);
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
    func->setAttr(kMemoryPlanAttr, b.getDenseI64ArrayAttr(flat));
  }
};
} // namespace
