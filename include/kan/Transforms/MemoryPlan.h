//===- MemoryPlan.h - what kan-plan-memory tells kan-bufferize --*- C++ -*-===//
//
// The CPU memory plan is two attributes: `kan.memory_plan` on a function
// (per slot: elements per batch row, constant elements) and `kan.slots` on
// every op with tensor results (per result: a slot, kNoSlot or kInPlace).
// kan-plan-memory writes them, kan-bufferize turns them into memref IR and
// removes them.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TRANSFORMS_MEMORYPLAN_H
#define KAN_TRANSFORMS_MEMORYPLAN_H

#include "kan/Dialect/Kan/KanOps.h"

namespace mlir::kan {

inline constexpr const char *kMemoryPlanAttr = "kan.memory_plan";
inline constexpr const char *kSlotsAttr = "kan.slots";
/// A result with no slot: a function result (the caller's buffer), a loop's
/// initial tensor, run-time sized CSR arrays, or no floating-point tensor.
inline constexpr int64_t kNoSlot = -1;
/// An update result that overwrites its parameter's buffer.
inline constexpr int64_t kInPlace = -2;

/// The parameter an update result may overwrite: the param of kan.update,
/// the matching weight of kan.activity_update; null for other results and
/// for the estimates an activity update returns instead of applying them.
inline Value getUpdatedParam(OpResult r) {
  Operation *op = r.getOwner();
  if (auto u = dyn_cast<UpdateOp>(op))
    return u.getParam();
  auto a = dyn_cast<ActivityUpdateOp>(op);
  if (!a || a.getGradient())
    return Value();
  if (r == a.getNewBaseWeight())
    return a.getBaseWeight();
  if (r == a.getNewSplineWeight())
    return a.getSplineWeight();
  return a.getSplineScaler();
}

} // namespace mlir::kan

#endif // KAN_TRANSFORMS_MEMORYPLAN_H
