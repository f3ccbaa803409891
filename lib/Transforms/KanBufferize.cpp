//===- KanBufferize.cpp - the memory plan as memref IR ----------*- C++ -*-===//
//
// Turns kan-plan-memory's slots into buffers of the IR. Each slot is one
// `memref.alloc` at the top of the function, its capacity computed from the
// batch size (`tensor.dim` of an argument); every tensor placed in the slot
// is a `memref.reinterpret_cast` view of it, made in front of the op that
// produces the tensor, and the tensor is bound to its view by
// `bufferization.materialize_in_destination` right after that op: kan ops
// have no destination operands, so the binding says where the producer
// writes (what one-shot bufferization would do in place). Two values of one
// slot are two views of one alloc. An update that overwrites its parameter
// is bound to the parameter's buffer (its view, or `bufferization.to_memref`
// of a function argument). Every slot is freed by `memref.dealloc` in front
// of the return. The plan's attributes are consumed.
//
// The CSR arrays of kan.sparse_directions have no slot: their capacity is
// a run-time bound (kanrt's kan_sparse_directions_capacity, called here as
// an emitc.call_opaque), so each gets an alloc of its own in front of the
// op and a dealloc behind the last op that reads it.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/MemoryPlan.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANBUFFERIZE
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {
struct KanBufferizePass
    : public kan::impl::KanBufferizeBase<KanBufferizePass> {
  void runOnOperation() override;

private:
  Value index(int64_t v);
  /// c * n, built once per c.
  Value timesBatch(int64_t c);
  LogicalResult view(OpResult r, Value slot);
  LogicalResult bufferizeCsr(SparseDirectionsOp op);

  OpBuilder *b = nullptr;
  Location loc = UnknownLoc();
  /// Where shared index values (constants, n, products) are built.
  Operation *top = nullptr;
  Value n;
  DenseMap<int64_t, Value> constants, products;
  /// The memref each bound tensor lives in.
  DenseMap<Value, Value> bufferOf;
};
} // namespace

Value KanBufferizePass::index(int64_t v) {
  Value &c = constants[v];
  if (!c) {
    OpBuilder::InsertionGuard g(*b);
    b->setInsertionPoint(top);
    c = b->create<arith::ConstantIndexOp>(loc, v);
  }
  return c;
}

Value KanBufferizePass::timesBatch(int64_t c) {
  if (c == 1)
    return n;
  Value &p = products[c];
  if (!p) {
    Value k = index(c);
    OpBuilder::InsertionGuard g(*b);
    b->setInsertionPoint(top);
    p = b->create<arith::MulIOp>(loc, k, n);
  }
  return p;
}

LogicalResult KanBufferizePass::view(OpResult r, Value slot) {
  auto t = cast<RankedTensorType>(r.getType());
  // Row-major strides; the batch dimension (the only dynamic one) is n.
  SmallVector<OpFoldResult> sizes(t.getRank()), strides(t.getRank());
  int64_t stat = 1;
  bool dyn = false;
  for (int64_t i = t.getRank() - 1; i >= 0; --i) {
    strides[i] = dyn ? OpFoldResult(timesBatch(stat))
                     : OpFoldResult(b->getIndexAttr(stat));
    if (ShapedType::isDynamic(t.getDimSize(i))) {
      if (dyn)
        return r.getOwner()->emitOpError()
               << "has a result with more than one dynamic dimension; the "
                  "CPU target's dynamic dimension is the batch";
      dyn = true;
      sizes[i] = n;
    } else {
      stat *= t.getDimSize(i);
      sizes[i] = b->getIndexAttr(t.getDimSize(i));
    }
  }
  auto type = MemRefType::get(t.getShape(), t.getElementType());
  b->setInsertionPoint(r.getOwner());
  Value v = b->create<memref::ReinterpretCastOp>(
      r.getLoc(), type, slot, b->getIndexAttr(0), sizes, strides);
  bufferOf[r] = v;
  return success();
}

LogicalResult KanBufferizePass::bufferizeCsr(SparseDirectionsOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  int64_t width = op.getWidth();
  if (!op.getCols().getType().isDynamicDim(1))
    return op.emitOpError()
           << "has a static number of non-zeros; the CPU target sizes the "
              "CSR arrays at run time";
  // They live between the op and the loops that read them.
  for (Value r : op->getResults())
    for (Operation *user : r.getUsers())
      if (user->hasTrait<OpTrait::IsTerminator>())
        return op.emitOpError() << "has a CSR array the function returns; "
                                   "the CPU target keeps them internal";
  Location l = op.getLoc();
  b->setInsertionPoint(op);
  // The non-zeros of one direction, at most.
  SmallVector<Attribute> args = {b->getI64IntegerAttr(out),
                                 b->getI64IntegerAttr(in),
                                 b->getI64IntegerAttr(gk), op.getDensityAttr()};
  for (int64_t s : op.getStreams())
    args.push_back(b->getI64IntegerAttr(s));
  Value cap64 = b->create<emitc::CallOpaqueOp>(
                     l, TypeRange{b->getI64Type()},
                     "kan_sparse_directions_capacity", ValueRange(),
                     b->getArrayAttr(args))
                    .getResult(0);
  Value cap = b->create<arith::IndexCastOp>(l, b->getIndexType(), cap64);
  // One spare entry per direction.
  Value count = b->create<arith::MulIOp>(
      l, index(width), b->create<arith::AddIOp>(l, cap, index(1)));
  SmallVector<Value> buffers;
  for (OpResult r : op->getResults()) {
    auto t = cast<RankedTensorType>(r.getType());
    b->setInsertionPoint(op);
    Value buf;
    SmallVector<OpFoldResult> sizes = {b->getIndexAttr(width)}, strides;
    if (r == op.getRowptr()) {
      buf = b->create<memref::AllocOp>(
          l, MemRefType::get({width * (out + 1)}, t.getElementType()));
      sizes.push_back(b->getIndexAttr(out + 1));
      strides = {b->getIndexAttr(out + 1), b->getIndexAttr(1)};
    } else {
      buf = b->create<memref::AllocOp>(
          l, MemRefType::get({ShapedType::kDynamic}, t.getElementType()),
          ValueRange{count});
      sizes.push_back(cap);
      strides = {cap, b->getIndexAttr(1)};
    }
    buffers.push_back(buf);
    bufferOf[r] = b->create<memref::ReinterpretCastOp>(
        l, MemRefType::get(t.getShape(), t.getElementType()), buf,
        b->getIndexAttr(0), sizes, strides);
  }
  Operation *last = op;
  for (OpResult r : op->getResults()) {
    b->setInsertionPointAfter(last);
    last = b->create<bufferization::MaterializeInDestinationOp>(
        l, TypeRange(), r, bufferOf[r], /*restrict=*/true, /*writable=*/true);
  }
  // Freed behind the last top-level op that reads them (a row-tile loop).
  Block *block = op->getBlock();
  for (Value r : op->getResults())
    for (Operation *user : r.getUsers()) {
      Operation *top = block->findAncestorOpInBlock(*user);
      if (top && last->isBeforeInBlock(top))
        last = top;
    }
  b->setInsertionPointAfter(last);
  for (Value buf : buffers)
    b->create<memref::DeallocOp>(l, buf);
  return success();
}

void KanBufferizePass::runOnOperation() {
  func::FuncOp func = getOperation();
  auto plan = func->getAttrOfType<DenseI64ArrayAttr>(kMemoryPlanAttr);
  // Nothing planned: kan-plan-memory did not run, or this already did.
  if (func.isExternal() || !plan)
    return;
  auto fail = [&](Operation *op, const Twine &msg) {
    op->emitError() << "kan-bufferize: " << msg;
    signalPassFailure();
  };
  if (!func.getBody().hasOneBlock())
    return fail(func, "needs straight-line functions");
  if (plan.size() % 2)
    return fail(func, "kan.memory_plan needs two numbers per slot");
  Block &body = func.getBody().front();
  n = Value();
  constants.clear();
  products.clear();
  bufferOf.clear();
  OpBuilder builder(func.getContext());
  b = &builder;
  loc = func.getLoc();
  top = &body.front();

  // The slots' element types, from the values they hold; their sizes must
  // cover every value.
  int64_t numSlots = plan.size() / 2;
  SmallVector<Type> elem(numSlots);
  SmallVector<OpResult> inPlace;
  bool needsBatch = false;
  for (int64_t s = 0; s < numSlots; ++s)
    needsBatch |= plan[2 * s] != 0;
  for (Operation &op : body.without_terminator()) {
    auto slots = op.getAttrOfType<DenseI64ArrayAttr>(kSlotsAttr);
    if (!slots)
      continue;
    if ((int64_t)slots.size() != op.getNumResults())
      return fail(&op, "kan.slots needs one entry per result");
    for (auto [i, s] : llvm::enumerate(slots.asArrayRef())) {
      if (s == kInPlace)
        inPlace.push_back(op.getResult(i));
      if (s == kNoSlot || s == kInPlace)
        continue;
      auto t = dyn_cast<RankedTensorType>(op.getResult(i).getType());
      if (s < 0 || s >= numSlots || !t)
        return fail(&op, "result " + Twine(i) + " has slot " + Twine(s) +
                             ", not a slot of kan.memory_plan for a tensor");
      if (elem[s] && elem[s] != t.getElementType())
        return fail(&op, "result " + Twine(i) +
                             " has another element type than slot " +
                             Twine(s) + " holds");
      elem[s] = t.getElementType();
      auto [perN, c] = getBatchAffineNumElements(t);
      if (perN > plan[2 * s] || c > plan[2 * s + 1])
        return fail(&op, "result " + Twine(i) + " does not fit in slot " +
                             Twine(s));
      needsBatch |= perN != 0;
    }
  }
  for (auto [s, e] : llvm::enumerate(elem))
    if (!e)
      return fail(func, "slot " + Twine(s) + " of kan.memory_plan holds no "
                        "value");

  // The batch size: the dynamic dimension of an argument.
  if (needsBatch) {
    for (BlockArgument a : body.getArguments()) {
      auto t = dyn_cast<RankedTensorType>(a.getType());
      if (!t)
        continue;
      for (int64_t d = 0; d < t.getRank() && !n; ++d)
        if (t.isDynamicDim(d)) {
          b->setInsertionPoint(top);
          n = b->create<tensor::DimOp>(loc, a, index(d));
        }
      if (n)
        break;
    }
    if (!n)
      return fail(func, "has batch-sized buffers but no argument with a "
                        "dynamic dimension");
  }

  // One alloc per slot, for the whole call.
  SmallVector<Value> slotBuffers;
  for (int64_t s = 0; s < numSlots; ++s) {
    int64_t perN = plan[2 * s], c = plan[2 * s + 1];
    SmallVector<Value> dynSizes;
    Value count;
    if (perN) {
      count = timesBatch(perN);
      if (c) {
        b->setInsertionPoint(top);
        count = b->create<arith::AddIOp>(loc, count, index(c));
      }
      dynSizes.push_back(count);
    }
    auto type = MemRefType::get({perN ? ShapedType::kDynamic : c}, elem[s]);
    b->setInsertionPoint(top);
    slotBuffers.push_back(b->create<memref::AllocOp>(loc, type, dynSizes));
  }

  // Arguments that updates overwrite.
  for (OpResult r : inPlace) {
    Value param = getUpdatedParam(r);
    if (!param)
      return fail(r.getOwner(), "result " + Twine(r.getResultNumber()) +
                                    " is in place but updates no parameter");
    if (!isa<BlockArgument>(param) || bufferOf.count(param))
      continue;
    auto t = cast<RankedTensorType>(param.getType());
    b->setInsertionPoint(top);
    bufferOf[param] = b->create<bufferization::ToMemrefOp>(
        loc, MemRefType::get(t.getShape(), t.getElementType()), param);
  }

  // Views in front of the producers, bindings behind them.
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    if (auto sd = dyn_cast<SparseDirectionsOp>(op))
      if (failed(bufferizeCsr(sd)))
        return signalPassFailure();
    auto slots = op.getAttrOfType<DenseI64ArrayAttr>(kSlotsAttr);
    if (!slots)
      continue;
    op.removeAttr(kSlotsAttr);
    Operation *last = &op;
    for (auto [i, s] : llvm::enumerate(slots.asArrayRef())) {
      OpResult r = op.getResult(i);
      if (s == kNoSlot)
        continue;
      Value buffer;
      if (s == kInPlace) {
        buffer = bufferOf.lookup(getUpdatedParam(r));
        if (!buffer)
          return fail(&op, "result " + Twine(i) + " overwrites a parameter "
                           "that has no buffer");
        bufferOf[r] = buffer;
      } else {
        if (failed(view(r, slotBuffers[s])))
          return signalPassFailure();
        buffer = bufferOf[r];
      }
      b->setInsertionPointAfter(last);
      last = b->create<bufferization::MaterializeInDestinationOp>(
          op.getLoc(), TypeRange(), r, buffer, /*restrict=*/true,
          /*writable=*/true);
    }
  }
  b->setInsertionPoint(body.getTerminator());
  for (Value s : slotBuffers)
    b->create<memref::DeallocOp>(loc, s);
  func->removeAttr(kMemoryPlanAttr);
}
