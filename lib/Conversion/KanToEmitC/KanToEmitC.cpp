//===- KanToEmitC.cpp - lowered kan functions to EmitC ----------*- C++ -*-===//
//
// The CPU target's last conversion: every function of a lowered module (GEMM
// form, row tiles as scf.forall, kernels chosen by kan-prepare-cpu, buffers
// as memrefs from kan-bufferize) becomes an emitc.func whose body calls the
// runtime (kanrt) once per kan op. Every buffer is a pointer variable
// allocated, checked and freed by ops of the IR, so the C printer allocates
// nothing: the memrefs of kan-bufferize (memref.alloc, views, deallocs) are
// lowered here, a tensor lives in the memref it is bound to
// (bufferization.materialize_in_destination) or in the caller's result
// buffer; the per-thread scratch of a loop, which no tensor holds, is
// allocated here, and so are the per-thread tile buffers of the tensors one
// layer of a fused row tile passes to the next (kan-tile-and-fuse's
// chains), which live for one tile. The batch dimension is dynamic:
// memrefs and tensors become pointers with sizes and strides held here, as
// IREE's VM-to-EmitC does (upstream MemRef-to-EmitC handles static shapes
// only).
//
// Errors: a failing runtime call stores its status and skips the rest of
// the function (the rest is nested in `if (status == KAN_OK)`); buffers are
// freed on every path. Row tiles and sparse directions are emitc.for loops
// behind an OpenMP pragma; a failure inside them is recorded and raised
// after the loop.
//
// The exported C ABI (prefix + forward, forward_jvp, train_step,
// train_step_scaled, set_threads, the parameter tables) is built here too,
// and described by the module attribute `kan.cpu_abi` for the header.
//
//===----------------------------------------------------------------------===//

#include "kan/Conversion/Passes.h"
#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Target/Common.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANTOEMITC
#include "kan/Conversion/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {

/// Precedes every parallel loop; without OpenMP the loop is serial.
const char *const kParallelFor =
    "#ifdef _OPENMP\n#pragma omp parallel for schedule(static)\n#endif";

/// An extent or stride: a constant or an i64 value.
struct Dim {
  int64_t c = 0;
  Value v;
  Dim() = default;
  Dim(int64_t c) : c(c) {}
  Dim(Value v) : v(v) {}
  bool isConst(int64_t x) const { return !v && c == x; }
};

/// A tensor as C sees it: a pointer to its first element, sizes and element
/// strides.
struct View {
  Value ptr;
  SmallVector<Dim> sizes, strides;
};

/// An argument of a runtime call: a value, or a constant printed in place.
struct Arg {
  Value v;
  Attribute a;
  Arg(Value v) : v(v) {}
  Arg(Attribute a) : a(a) {}
};

/// Per-thread scratch of a tiled layer op, allocated before its loop.
struct TileScratch {
  Value panel, tpanel, jac, work, workSize, wt, tb, tc, ts;
  /// weight_tangent_cols: one column block's features, W'_d and draws.
  Value cols;
  int64_t colsSize = 0;
  int64_t rows = 0;
};

/// A tensor one layer of a fused row tile passes to the next: one tile of
/// it per thread, `rows` rows (the loop's largest tile) of `elems` elements.
struct TileBuffer {
  Value buffer;
  int64_t rows = 0, elems = 0;
};

class FunctionLowering {
public:
  FunctionLowering(func::FuncOp func, OpBuilder &moduleBuilder)
      : func(func), ctx(func.getContext()), b(ctx), mb(moduleBuilder) {}

  FailureOr<emitc::FuncOp> lower();
  static FailureOr<bool> isF32(func::FuncOp func);
  bool hasUpdates = false;

private:
  bool guarded = false;
  /// Names of the static tables declared in this function.
  unsigned tables = 0;
  Location loc() { return func.getLoc(); }
  Type i64() { return b.getI64Type(); }
  Type ptrTo(Type t) { return emitc::PointerType::get(t); }
  Type opaque(StringRef s) { return emitc::OpaqueType::get(ctx, s); }
  Type statusType() { return opaque("kan_status"); }
  std::string sfx() const { return f32 ? "f32" : "f64"; }
  std::string fn(StringRef base) const { return (base + "_" + sfx()).str(); }
  Type elemType(Type t) {
    Type e = getElementTypeOrSelf(t);
    if (isa<FloatType>(e))
      return T;
    if (e.isInteger(32))
      return b.getIntegerType(32, /*isSigned=*/false);
    return i64();
  }
  int64_t elemBytes(Type t) {
    Type e = elemType(t);
    return e.getIntOrFloatBitWidth() / 8;
  }

  Attribute lit(StringRef s) { return emitc::OpaqueAttr::get(ctx, s); }
  Attribute cint(int64_t v) { return b.getI64IntegerAttr(v); }
  Attribute real(double v) { return lit(printExactDouble(v)); }
  Arg arg(Dim d) { return d.v ? Arg(d.v) : Arg(cint(d.c)); }

  Value constant(int64_t v) {
    return b.create<emitc::ConstantOp>(loc(), i64(), cint(v));
  }
  Value value(Dim d) { return d.v ? d.v : constant(d.c); }
  Dim mul(Dim x, Dim y) {
    if (!x.v && !y.v)
      return Dim(x.c * y.c);
    if (x.isConst(0) || y.isConst(0))
      return Dim(int64_t(0));
    if (x.isConst(1))
      return y;
    if (y.isConst(1))
      return x;
    return Dim(b.create<emitc::MulOp>(loc(), i64(), value(x), value(y))
                   .getResult());
  }
  Dim add(Dim x, Dim y) {
    if (!x.v && !y.v)
      return Dim(x.c + y.c);
    if (x.isConst(0))
      return y;
    if (y.isConst(0))
      return x;
    return Dim(b.create<emitc::AddOp>(loc(), i64(), value(x), value(y))
                   .getResult());
  }
  /// ptr + offset elements.
  Value offset(Value ptr, Dim off) {
    if (off.isConst(0))
      return ptr;
    return b.create<emitc::AddOp>(loc(), ptr.getType(), ptr, value(off));
  }

  /// A runtime call; resultType null for void. A void call outside the
  /// loops runs only while the status is KAN_OK.
  Value call(StringRef callee, Type resultType, ArrayRef<Arg> args) {
    SmallVector<Value> operands;
    SmallVector<Attribute> attrs;
    for (const Arg &a : args) {
      if (a.v) {
        attrs.push_back(b.getIndexAttr(operands.size()));
        operands.push_back(a.v);
      } else {
        attrs.push_back(a.a);
      }
    }
    SmallVector<Type> results;
    if (resultType)
      results.push_back(resultType);
    Value r;
    auto build = [&] {
      auto op = b.create<emitc::CallOpaqueOp>(loc(), results, callee, operands,
                                              b.getArrayAttr(attrs));
      r = resultType ? op.getResult(0) : Value();
    };
    if (resultType)
      build();
    else
      effect(build);
    return r;
  }
  /// Builds side effects that must not happen after a failure: outside the
  /// loops inside `if (status == KAN_OK)`, inside them directly (a loop
  /// does not start after a failure).
  void effect(function_ref<void()> fn) {
    if (loopError || guarded) {
      fn();
      return;
    }
    OpBuilder::InsertionGuard g(b);
    auto ifOp = b.create<emitc::IfOp>(loc(), isOk());
    b.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
    guarded = true;
    fn();
    guarded = false;
  }
  Value isOk() {
    return b.create<emitc::CmpOp>(loc(), b.getI1Type(),
                                  emitc::CmpPredicate::eq, status, okStatus);
  }
  /// A call returning kan_status: on failure the function's status (or,
  /// inside a parallel loop, the loop's error flag) takes it.
  void checked(StringRef callee, ArrayRef<Arg> args) {
    effect([&] { check(call(callee, statusType(), args)); });
  }
  void check(Value st);
  Value variable(Type t, Attribute init) {
    return b.create<emitc::VariableOp>(loc(), t, init);
  }
  /// A pointer variable declared (NULL) at the top of the function, freed
  /// at its end.
  Value declareBuffer(Type elem);
  /// Allocates count elements of `elem` into the buffer variable `var`.
  void allocate(Value var, Dim count, int64_t elemSize);
  void release(Value var);

  Dim numel(Type type);
  View &view(Value v);
  LogicalResult defineSlice(Operation *op, Value v, Value source,
                            ArrayRef<OpFoldResult> offsets,
                            ArrayRef<OpFoldResult> sizes,
                            ArrayRef<OpFoldResult> strides);
  Dim index(OpFoldResult ofr);
  /// The buffer of a tensor result: a caller's result, the memref
  /// kan-bufferize bound it to, or the tile of a loop's output.
  void defineBuffer(Value v);
  LogicalResult lowerAlloc(memref::AllocOp op);
  LogicalResult lowerReinterpretCast(memref::ReinterpretCastOp op);
  LogicalResult lowerDealloc(memref::DeallocOp op);
  Value ptr(Value v) { return view(v).ptr; }
  Arg opt(Value v) { return v ? Arg(ptr(v)) : Arg(lit("NULL")); }
  Value scalar(Value v) { return scalars.lookup(v); }
  Value thread();

  LogicalResult lowerOp(Operation *op);
  LogicalResult lowerForall(scf::ForallOp loop);
  /// A C loop from lb to ub (step) that the threads share (kParallelFor);
  /// no iteration starts after a failure, and `body`, built inside it,
  /// records errors in the loop's status, raised after it.
  LogicalResult parallelFor(Value lb, Value ub, Value step,
                            function_ref<LogicalResult(Value)> body);
  LogicalResult lowerAffineMinMax(Operation *op, AffineMap map,
                                  ValueRange dimOperands,
                                  ValueRange symOperands, bool isMin);
  LogicalResult lowerSparseDirections(SparseDirectionsOp op);
  LogicalResult allocateTileScratch(Operation *op, int64_t rows);
  /// The scratch allocateTileScratch made for a feature GEMM inside a row
  /// tile, whose grid's knot data `aux` kan-tile-and-fuse hoisted.
  FailureOr<TileScratch *> tileScratch(Operation *op, Value aux);
  LogicalResult lowerFeatureGemm(FeatureGemmOp op);
  LogicalResult lowerFeatureGemmJvp(FeatureGemmJvpOp op);
  LogicalResult lowerPerturb(PerturbOp op);
  LogicalResult lowerLoss(Operation *op, bool mse, bool jvp);
  LogicalResult lowerUpdate(UpdateOp op);
  /// The activity-rule ops, one runtime call each (kanrt/activity.h) but
  /// the update's tiles.
  LogicalResult lowerActivityOp(Operation *op);
  /// kan.activity_update: a parallel loop over its column tiles.
  LogicalResult lowerActivityUpdate(ActivityUpdateOp op);
  /// kan.symbolic_edges(_jvp): one runtime call each (kanrt/symbolic.h).
  LogicalResult lowerSymbolicEdges(Operation *op);
  /// The result of an update in its buffer: in place when kan-bufferize
  /// bound it to the parameter's buffer, else a copy of the parameter first
  /// (none when \p copy is false).
  void updateInPlaceOrCopy(Operation *op, Value param, Value res, bool copy);
  LogicalResult lowerElementwise(Operation *op);
  LogicalResult lowerReturn(func::ReturnOp op);

  func::FuncOp func;
  MLIRContext *ctx;
  OpBuilder b;
  OpBuilder &mb;
  Type T;
  bool f32 = false;
  Value n, lrScale, status, okStatus;
  /// Where buffer variables are declared (the top of the function).
  OpBuilder::InsertPoint declPoint;
  SmallVector<Value> buffers;
  /// Inside a parallel loop: the loop's error flag and thread number.
  Value loopError, loopThread;
  Block *loopBody = nullptr;
  DenseMap<Value, View> views;
  DenseMap<Value, Value> scalars;
  DenseMap<Value, Dim> dims;
  DenseMap<Value, tensor::ParallelInsertSliceOp> insertOf;
  DenseMap<Operation *, TileScratch> scratch;
  DenseMap<Value, TileBuffer> tileBuffers;
  /// The memref each tensor is bound to (kan-bufferize).
  DenseMap<Value, Value> bufferOf;
  /// memref.dealloc ops in front of the return: the cleanup frees them.
  DenseSet<Operation *> finalDeallocs;
  /// A tensor result without a buffer was diagnosed.
  bool missingBuffer = false;
  DenseMap<Value, unsigned> resultIndex;
  SmallVector<Value> results;
};

FailureOr<bool> FunctionLowering::isF32(func::FuncOp func) {
  std::optional<bool> f32;
  for (Type t : func.getFunctionType().getInputs()) {
    Type e = getElementTypeOrSelf(t);
    if (!isa<FloatType>(e))
      continue;
    bool is32 = e.isF32();
    if (!e.isF32() && !e.isF64()) {
      func.emitError() << "the CPU target supports f32 and f64 data only";
      return failure();
    }
    if (f32 && *f32 != is32) {
      func.emitError() << "the CPU target needs one floating-point type per "
                          "function (f32 or f64), not a mix";
      return failure();
    }
    f32 = is32;
  }
  return f32.value_or(false);
}

void FunctionLowering::check(Value st) {
  if (loopError) {
    Value failed = b.create<emitc::CmpOp>(loc(), b.getI1Type(),
                                          emitc::CmpPredicate::ne, st,
                                          okStatus);
    auto ifOp = b.create<emitc::IfOp>(loc(), failed);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
    b.create<emitc::AssignOp>(loc(), loopError, st);
    return;
  }
  b.create<emitc::AssignOp>(loc(), status, st);
}

Value FunctionLowering::declareBuffer(Type elem) {
  OpBuilder::InsertionGuard g(b);
  b.restoreInsertionPoint(declPoint);
  Value var = variable(ptrTo(elem), lit("NULL"));
  declPoint = b.saveInsertionPoint();
  buffers.push_back(var);
  return var;
}

void FunctionLowering::allocate(Value var, Dim count, int64_t elemSize) {
  effect([&] {
    Value p =
        call("kan_buffer_alloc", var.getType(), {arg(count), cint(elemSize)});
    b.create<emitc::AssignOp>(loc(), var, p);
    checked("kan_buffer_status", {var});
  });
}

void FunctionLowering::release(Value var) {
  // After a failure the buffer is left to the cleanup at the end.
  effect([&] {
    call("free", Type(), {var});
    b.create<emitc::AssignOp>(
        loc(), var, b.create<emitc::LiteralOp>(loc(), var.getType(), "NULL"));
  });
}

Dim FunctionLowering::numel(Type type) {
  auto [perN, constant] = getBatchAffineNumElements(cast<ShapedType>(type));
  return perN ? mul(Dim(perN), Dim(n)) : Dim(constant);
}

View &FunctionLowering::view(Value v) {
  auto it = views.find(v);
  assert(it != views.end() && "tensor without a buffer");
  return it->second;
}

/// Row-major strides of a buffer; a dynamic dimension is `dyn`.
static void denseView(View &w, ShapedType t, Dim dyn,
                      function_ref<Dim(Dim, Dim)> mul) {
  int64_t stat = 1;
  bool hasDyn = false;
  w.strides.resize(t.getRank());
  for (int64_t i = t.getRank() - 1; i >= 0; --i) {
    w.strides[i] = hasDyn ? mul(Dim(stat), dyn) : Dim(stat);
    if (ShapedType::isDynamic(t.getDimSize(i)))
      hasDyn = true;
    else
      stat *= t.getDimSize(i);
  }
  for (int64_t d : t.getShape())
    w.sizes.push_back(ShapedType::isDynamic(d) ? dyn : Dim(d));
}

Dim FunctionLowering::index(OpFoldResult ofr) {
  if (auto a = dyn_cast<Attribute>(ofr))
    return Dim(cast<IntegerAttr>(a).getInt());
  return dims.lookup(cast<Value>(ofr));
}

LogicalResult FunctionLowering::defineSlice(Operation *op, Value v,
                                            Value source,
                                            ArrayRef<OpFoldResult> offsets,
                                            ArrayRef<OpFoldResult> sizes,
                                            ArrayRef<OpFoldResult> strides) {
  if (llvm::any_of(strides, [](OpFoldResult s) {
        return getConstantIntValue(s) != std::optional<int64_t>(1);
      }))
    return op->emitOpError() << "with non-unit strides is not supported by "
                                "the CPU target";
  View src = view(source);
  View w;
  Dim off(int64_t(0));
  for (auto [i, o] : llvm::enumerate(offsets))
    off = add(off, mul(index(o), src.strides[i]));
  w.ptr = offset(src.ptr, off);
  for (OpFoldResult s : sizes)
    w.sizes.push_back(index(s));
  w.strides = src.strides;
  views[v] = w;
  return success();
}

void FunctionLowering::defineBuffer(Value v) {
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t)
    return;
  // The tile a loop body inserts into the loop's shared output.
  auto ins = insertOf.find(v);
  if (ins != insertOf.end()) {
    tensor::ParallelInsertSliceOp s = ins->second;
    // Unit strides were checked with the loop.
    (void)defineSlice(s, v, s.getDest(), s.getMixedOffsets(),
                      s.getMixedSizes(), s.getMixedStrides());
    return;
  }
  View w;
  // A tensor passed between the layers of a fused tile: this thread's tile
  // buffer, rows strided by the largest tile, as many rows as the layer's
  // input tile has.
  auto tb = tileBuffers.find(v);
  if (tb != tileBuffers.end()) {
    TileBuffer buf = tb->second;
    Operation *def = v.getDefiningOp();
    Dim rows = view(def->getOperand(0)).sizes[0];
    int64_t rowDim = t.getRank() == 3 ? 1 : 0;
    int64_t stride = 1;
    w.strides.resize(t.getRank());
    w.sizes.resize(t.getRank());
    for (int64_t i = t.getRank() - 1; i >= 0; --i) {
      w.strides[i] = Dim(stride);
      w.sizes[i] = i == rowDim ? rows : Dim(t.getDimSize(i));
      stride *= i == rowDim ? buf.rows : t.getDimSize(i);
    }
    w.ptr = offset(buf.buffer, mul(Dim(thread()), Dim(buf.elems)));
    views[v] = w;
    return;
  }
  denseView(w, t, Dim(n), [&](Dim x, Dim y) { return mul(x, y); });
  auto ret = resultIndex.find(v);
  if (ret != resultIndex.end()) {
    w.ptr = results[ret->second];
    views[v] = w;
    return;
  }
  auto bound = bufferOf.find(v);
  if (bound != bufferOf.end()) {
    // A copy: inserting into `views` may move the entry.
    View m = view(bound->second);
    views[v] = m;
    return;
  }
  if (Operation *def = v.getDefiningOp())
    def->emitOpError() << "has a tensor result without a buffer (kan-bufferize "
                          "binds every intermediate tensor to a memref)";
  else
    emitError(v.getLoc()) << "tensor without a buffer";
  missingBuffer = true;
  w.ptr = b.create<emitc::LiteralOp>(loc(), ptrTo(elemType(t)), "NULL");
  views[v] = w;
}

LogicalResult FunctionLowering::lowerAlloc(memref::AllocOp op) {
  MemRefType t = op.getType();
  if (t.getRank() != 1 || !t.getLayout().isIdentity())
    return op.emitOpError() << "is supported by the CPU target only as a 1-D "
                               "buffer (kan-bufferize)";
  if (llvm::none_of(op->getUsers(),
                    [](Operation *u) { return isa<memref::DeallocOp>(u); }))
    return op.emitOpError() << "has no memref.dealloc";
  View w;
  Dim count = t.isDynamicDim(0) ? dims.lookup(op.getDynamicSizes()[0])
                                : Dim(t.getDimSize(0));
  w.ptr = declareBuffer(elemType(t));
  allocate(w.ptr, count, elemBytes(t));
  w.sizes = {count};
  w.strides = {Dim(1)};
  views[op.getResult()] = w;
  return success();
}

LogicalResult
FunctionLowering::lowerReinterpretCast(memref::ReinterpretCastOp op) {
  View src = view(op.getSource()), w;
  w.ptr = offset(src.ptr, index(op.getMixedOffsets()[0]));
  for (OpFoldResult s : op.getMixedSizes())
    w.sizes.push_back(index(s));
  for (OpFoldResult s : op.getMixedStrides())
    w.strides.push_back(index(s));
  views[op.getResult()] = w;
  return success();
}

LogicalResult FunctionLowering::lowerDealloc(memref::DeallocOp op) {
  auto alloc = op.getMemref().getDefiningOp<memref::AllocOp>();
  if (!alloc)
    return op.emitOpError() << "must free a memref.alloc";
  // The deallocs in front of the return are the cleanup at the end of the
  // function, which frees every buffer variable on every path (free(NULL)
  // does nothing); an earlier one frees its buffer where it stands.
  if (!finalDeallocs.contains(op))
    release(ptr(alloc));
  return success();
}

Value FunctionLowering::thread() {
  if (!loopThread) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loopBody);
    loopThread = call("kan_omp_thread", i64(), {});
  }
  return loopThread;
}

} // namespace

//===----------------------------------------------------------------------===//
// Row-tile loops
//===----------------------------------------------------------------------===//

namespace {
FailureOr<Dim> lowerAffine(AffineExpr e, ArrayRef<Dim> dims, ArrayRef<Dim> syms,
                           function_ref<Dim(Dim, Dim)> add,
                           function_ref<Dim(Dim, Dim)> mul,
                           function_ref<Dim(Dim, Dim)> ceilDiv) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return Dim(c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  if (auto s = dyn_cast<AffineSymbolExpr>(e))
    return syms[s.getPosition()];
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return failure();
  // ceildiv: a tile computed from the batch (kan-tile-and-fuse's share of
  // its threads), whose divisors are positive.
  if (e.getKind() != AffineExprKind::Add &&
      e.getKind() != AffineExprKind::Mul &&
      e.getKind() != AffineExprKind::CeilDiv)
    return failure();
  FailureOr<Dim> l = lowerAffine(bin.getLHS(), dims, syms, add, mul, ceilDiv);
  FailureOr<Dim> r = lowerAffine(bin.getRHS(), dims, syms, add, mul, ceilDiv);
  if (failed(l) || failed(r) ||
      (e.getKind() == AffineExprKind::CeilDiv && !r->v && r->c < 1))
    return failure();
  if (e.getKind() == AffineExprKind::CeilDiv)
    return ceilDiv(*l, *r);
  return e.getKind() == AffineExprKind::Add ? add(*l, *r) : mul(*l, *r);
}
} // namespace

LogicalResult FunctionLowering::lowerAffineMinMax(Operation *op, AffineMap map,
                                                  ValueRange dimOperands,
                                                  ValueRange symOperands,
                                                  bool isMin) {
  SmallVector<Dim> ds, ss;
  for (Value v : dimOperands)
    ds.push_back(dims.lookup(v));
  for (Value v : symOperands)
    ss.push_back(dims.lookup(v));
  // ceil(x / y) for y > 0 and any sign of x: x / y truncates toward zero,
  // one more when a positive x leaves a remainder.
  auto ceilDiv = [&](Dim x, Dim y) -> Dim {
    if (!x.v && !y.v)
      return Dim(x.c >= 0 ? (x.c + y.c - 1) / y.c : -(-x.c / y.c));
    if (y.isConst(1))
      return x;
    Value yv = value(y);
    Value q = b.create<emitc::DivOp>(loc(), i64(), value(x), yv);
    Value r = b.create<emitc::RemOp>(loc(), i64(), value(x), yv);
    Value up = b.create<emitc::CmpOp>(loc(), b.getI1Type(),
                                      emitc::CmpPredicate::gt, r, constant(0));
    Value q1 = b.create<emitc::AddOp>(loc(), i64(), q, constant(1));
    return Dim(
        b.create<emitc::ConditionalOp>(loc(), i64(), up, q1, q).getResult());
  };
  std::optional<Dim> m;
  for (AffineExpr e : map.getResults()) {
    FailureOr<Dim> c = lowerAffine(
        e, ds, ss, [&](Dim x, Dim y) { return add(x, y); },
        [&](Dim x, Dim y) { return mul(x, y); }, ceilDiv);
    if (failed(c))
      return op->emitOpError() << "has an expression the CPU target cannot "
                                  "lower";
    if (!m) {
      m = *c;
      continue;
    }
    if (!m->v && !c->v) {
      m = Dim(isMin ? std::min(m->c, c->c) : std::max(m->c, c->c));
      continue;
    }
    Value x = value(*m), y = value(*c);
    Value better = b.create<emitc::CmpOp>(
        loc(), b.getI1Type(),
        isMin ? emitc::CmpPredicate::lt : emitc::CmpPredicate::gt, y, x);
    m = Dim(
        b.create<emitc::ConditionalOp>(loc(), i64(), better, y, x).getResult());
  }
  dims[op->getResult(0)] = *m;
  return success();
}

LogicalResult FunctionLowering::lowerForall(scf::ForallOp loop) {
  // The tile: a constant, or computed from the batch (kan-tile-and-fuse's
  // share of its threads) as an affine.min with a constant bound, which
  // sizes the per-thread scratch.
  std::optional<int64_t> step;
  Value dynStep;
  if (loop.getRank() == 1) {
    OpFoldResult s = loop.getMixedStep()[0];
    step = getConstantIntValue(s);
    if (auto v = dyn_cast<Value>(s); !step && v && dims.count(v))
      if (auto min = v.getDefiningOp<affine::AffineMinOp>())
        for (AffineExpr e : min.getAffineMap().getResults())
          if (auto c = dyn_cast<AffineConstantExpr>(e);
              c && c.getValue() > 0 && (!step || c.getValue() < *step)) {
            step = c.getValue();
            dynStep = min.getResult();
          }
  }
  if (!step)
    return loop.emitOpError()
           << "must be a one-dimensional row-tile loop whose tile size is a "
              "constant or has a constant bound (kan-tile-and-fuse)";
  // The loop's results hold the buffers its tiles are written into.
  for (auto [res, arg] :
       llvm::zip(loop.getResults(), loop.getRegionIterArgs())) {
    defineBuffer(res);
    // A copy first: inserting into `views` may move the entry a reference
    // would point to.
    View w = view(res);
    views[arg] = w;
  }
  for (Operation &op : loop.getTerminator().getYieldingOps()) {
    auto ins = dyn_cast<tensor::ParallelInsertSliceOp>(op);
    if (!ins || !ins.getSource().getDefiningOp() ||
        ins.getSource().getDefiningOp()->getBlock() != loop.getBody())
      return op.emitOpError() << "must insert a result of the loop body";
    if (llvm::any_of(ins.getMixedStrides(), [](OpFoldResult s) {
          return getConstantIntValue(s) != std::optional<int64_t>(1);
        }))
      return ins.emitOpError() << "with non-unit strides is not supported by "
                                  "the CPU target";
    insertOf[ins.getSource()] = ins;
  }
  for (Operation &op : loop.getBody()->without_terminator())
    if (isa<FeatureGemmOp, FeatureGemmJvpOp>(op) &&
        failed(allocateTileScratch(&op, *step)))
      return failure();
  // The outputs and tangents one layer of a fused tile passes to the next
  // (kan-tile-and-fuse's chains) are not inserted into the loop's results:
  // each thread has one tile of them.
  SmallVector<Value> passed;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (!isa<FeatureGemmOp, FeatureGemmJvpOp>(op))
      continue;
    for (OpResult r : op.getResults()) {
      if (insertOf.count(r))
        continue;
      auto t = cast<RankedTensorType>(r.getType());
      int64_t rowDim = t.getRank() == 3 ? 1 : 0;
      int64_t rows = t.isDynamicDim(rowDim)
                         ? *step
                         : std::max(*step, t.getDimSize(rowDim));
      int64_t elems = rows;
      for (int64_t i = 0; i < t.getRank(); ++i)
        if (i != rowDim)
          elems *= t.getDimSize(i);
      Value buf = declareBuffer(T);
      Value threads = call("kan_omp_threads", i64(), {});
      allocate(buf, mul(Dim(elems), Dim(threads)), elemBytes(t));
      tileBuffers[r] = TileBuffer{buf, rows, elems};
      passed.push_back(buf);
    }
  }
  // Row tiles are independent: threads (OpenMP, when compiled with it) each
  // take whole tiles with scratch of their own; an error inside the loop is
  // recorded and raised after it.
  Value lb = value(index(loop.getMixedLowerBound()[0]));
  Value ub = value(index(loop.getMixedUpperBound()[0]));
  Value st = dynStep ? value(dims.lookup(dynStep)) : constant(*step);
  if (failed(parallelFor(lb, ub, st, [&](Value iv) -> LogicalResult {
        dims[loop.getInductionVar(0)] = Dim(iv);
        for (Operation &op : loop.getBody()->without_terminator())
          if (failed(lowerOp(&op)))
            return failure();
        return success();
      })))
    return failure();
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto it = scratch.find(&op);
    if (it == scratch.end())
      continue;
    TileScratch &s = it->second;
    for (Value v :
         {s.panel, s.tpanel, s.jac, s.work, s.wt, s.tb, s.tc, s.ts, s.cols})
      if (v)
        release(v);
  }
  for (Value v : passed)
    release(v);
  return success();
}

LogicalResult
FunctionLowering::parallelFor(Value lb, Value ub, Value step,
                              function_ref<LogicalResult(Value)> body) {
  Value err = variable(statusType(), lit("KAN_OK"));
  Value guardedUb =
      b.create<emitc::ConditionalOp>(loc(), i64(), isOk(), ub, lb);
  // The pragma must precede the loop directly.
  b.create<emitc::VerbatimOp>(loc(), kParallelFor);
  auto forOp = b.create<emitc::ForOp>(loc(), lb, guardedUb, step);
  LogicalResult built = success();
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    loopError = err;
    loopBody = forOp.getBody();
    loopThread = Value();
    built = body(forOp.getInductionVar());
    loopError = Value();
    loopBody = nullptr;
    loopThread = Value();
  }
  if (failed(built))
    return failure();
  effect([&] { check(err); });
  return success();
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

LogicalResult FunctionLowering::lowerSparseDirections(SparseDirectionsOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  int64_t width = op.getWidth();
  ArrayRef<int64_t> streams = op.getStreams();
  Attribute density = real(op.getDensity().convertToDouble());
  SmallVector<Arg> shape = {cint(out), cint(in), cint(gk), density,
                            cint(streams[0]), cint(streams[1]),
                            cint(streams[2])};
  // Columns of W'_d as CSR matrices by output row, in the buffers
  // kan-bufferize made (their capacity, the non-zeros of one direction, is
  // the row stride); the per-thread scratch of the draws is allocated here.
  for (Value r : op->getResults())
    defineBuffer(r);
  View rp = view(op.getRowptr()), cc = view(op.getCols()),
       cv = view(op.getVals());
  Dim cap = cc.strides[0];
  Value work = declareBuffer(opaque("unsigned char"));
  Value workSize = call(fn("kan_sparse_directions_work_size"), i64(), shape);
  Value threads = call("kan_omp_threads", i64(), {});
  allocate(work, mul(Dim(threads), Dim(workSize)), 1);
  // Directions are independent: threads take them.
  // The bounds in statements of their own: the order of the C declarations
  // must not depend on the order C++ evaluates arguments in.
  Value lb = constant(0), ub = constant(width), one = constant(1);
  if (failed(parallelFor(lb, ub, one, [&](Value d) -> LogicalResult {
        Value dir = add(Dim(d), Dim(op.getFirstDirection())).v;
        if (!dir)
          dir = d;
        Value w = offset(work, mul(Dim(thread()), Dim(workSize)));
        SmallVector<Arg> args = {scalar(op.getSeed()), scalar(op.getStep()),
                                 dir};
        args.append(shape.begin(), shape.end());
        args.append({ptr(op.getSplineWeight()), opt(op.getSplineScaler()), w,
                     offset(rp.ptr, mul(Dim(d), rp.strides[0])),
                     offset(cc.ptr, mul(Dim(d), cap)),
                     offset(cv.ptr, mul(Dim(d), cap))});
        checked(fn("kan_sparse_direction"), args);
        return success();
      })))
    return failure();
  release(work);
  return success();
}

LogicalResult FunctionLowering::allocateTileScratch(Operation *op,
                                                    int64_t tr) {
  TileScratch &s = scratch[op];
  s.rows = tr;
  int64_t bytes = f32 ? 4 : 8;
  auto alloc = [&](Value &buf, int64_t perThread) {
    buf = declareBuffer(T);
    Value threads = call("kan_omp_threads", i64(), {});
    allocate(buf, mul(Dim(perThread), Dim(threads)), bytes);
  };
  if (auto g = dyn_cast<FeatureGemmOp>(op)) {
    auto gT = g.getGrid().getType();
    int64_t order = g.getOrder(), g0 = gT.getDimSize(1) - 2 * order - 1;
    if (!g.getKernel())
      return g.emitOpError() << "needs its kernel from kan-prepare-cpu";
    if (*g.getKernel() == ForwardKernel::span) {
      s.work = declareBuffer(opaque("unsigned char"));
      s.workSize = call(fn("kan_layer_forward_work_size"), i64(),
                        {cint(tr), cint(g0), cint(order)});
      Value threads = call("kan_omp_threads", i64(), {});
      allocate(s.work, mul(Dim(s.workSize), Dim(threads)), 1);
      return success();
    }
    alloc(s.panel, tr * g.getWeights().getType().getDimSize(1));
    return success();
  }
  auto j = cast<FeatureGemmJvpOp>(op);
  if (!j.getInputTangentKernel() || !j.getWeightTangentKernel())
    return j.emitOpError() << "needs its kernels from kan-prepare-cpu";
  int64_t gk = j.getSplineWeight().getType().getDimSize(2);
  auto wT = j.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  int64_t in = j.getGrid().getType().getDimSize(0), width = j.getWidth();
  InputTangentKernel itk = *j.getInputTangentKernel();
  std::optional<uint64_t> cols = j.getWeightTangentCols();
  if (cols && (*j.getWeightTangentKernel() != WeightTangentKernel::regenerate ||
               itk == InputTangentKernel::panel))
    return j.emitOpError()
           << "has weight_tangent_cols, which needs the regenerate weight "
              "tangent kernel and input tangents without feature panels";
  if (cols) {
    // Column blocks (kan_layer_jvp_cols_work_size): no feature panel, no
    // whole W'_d.
    s.colsSize = (tr + out) * (int64_t)*cols + ((int64_t)*cols / gk + 2) *
                                                   (2 * gk + 2);
    alloc(s.cols, s.colsSize);
  } else {
    alloc(s.panel, tr * kk);
  }
  // Jacobian rows padded to a multiple of 8 outputs (full vector blocks).
  int64_t ldj = (out + 7) / 8 * 8;
  if (itk == InputTangentKernel::jacobian ||
      itk == InputTangentKernel::jacobian_multi)
    alloc(s.jac, tr * in * ldj);
  else if (itk == InputTangentKernel::panel)
    alloc(s.tpanel, width * tr * kk);
  if (*j.getWeightTangentKernel() == WeightTangentKernel::regenerate &&
      !cols) {
    // Dense directions are regenerated per tile into one O x K buffer; the
    // n x |W| perturbation never exists.
    alloc(s.wt, out * kk);
    alloc(s.tb, out * in);
    alloc(s.tc, out * in * gk);
    alloc(s.ts, out * in);
  }
  return success();
}

static Attribute actLiteral(OpBuilder &b, Activation act) {
  return emitc::OpaqueAttr::get(b.getContext(), act == Activation::silu
                                                    ? "KAN_ACT_SILU"
                                                    : "KAN_ACT_IDENTITY");
}

/// The sizes of a (tiled) feature GEMM: order k, inputs, grid intervals G,
/// outputs and the feature width (columns of the packed weights).
struct GemmShape {
  int64_t order, in, g, out, kk;
};
template <typename OpT> static GemmShape gemmShape(OpT op) {
  auto gT = op.getGrid().getType();
  auto wT = op.getWeights().getType();
  int64_t order = op.getOrder();
  return {order, gT.getDimSize(0), gT.getDimSize(1) - 2 * order - 1,
          wT.getDimSize(0), wT.getDimSize(1)};
}

FailureOr<TileScratch *> FunctionLowering::tileScratch(Operation *op,
                                                      Value aux) {
  auto it = scratch.find(op);
  if (it == scratch.end() || !aux) {
    op->emitOpError() << "must be tiled by kan-tile-and-fuse before emission";
    return failure();
  }
  return &it->second;
}

LogicalResult FunctionLowering::lowerFeatureGemm(FeatureGemmOp op) {
  FailureOr<TileScratch *> found = tileScratch(op, op.getAux());
  if (failed(found))
    return failure();
  TileScratch &s = **found;
  GemmShape shape = gemmShape(op);
  int64_t order = shape.order, in = shape.in, g = shape.g, out = shape.out,
          kk = shape.kk;
  defineBuffer(op.getOutput());
  View x = view(op.getInput()), y = view(op.getOutput());
  Attribute act = actLiteral(b, op.getAct());
  if (s.work) {
    // Span-local: no feature matrix, the basis window of each input only.
    Value w = offset(s.work, mul(Dim(thread()), Dim(s.workSize)));
    call(fn("kan_layer_forward_span"), Type(),
         {arg(x.sizes[0]), cint(in), cint(out), cint(g), cint(order), act,
          x.ptr, arg(x.strides[0]), ptr(op.getGrid()), ptr(op.getAux()),
          ptr(op.getWeights()), cint(out), w, y.ptr, arg(y.strides[0])});
    return success();
  }
  Value pt = offset(s.panel, mul(Dim(thread()), Dim(s.rows * kk)));
  call(fn("kan_pack_features"), Type(),
       {arg(x.sizes[0]), cint(in), cint(g), cint(order), act, x.ptr,
        arg(x.strides[0]), ptr(op.getGrid()), ptr(op.getAux()), pt, cint(kk)});
  call(fn("kan_gemm_nt"), Type(),
       {arg(x.sizes[0]), cint(out), cint(kk), cint(1), pt, cint(kk),
        ptr(op.getWeights()), cint(kk), cint(0), y.ptr, arg(y.strides[0])});
  return success();
}

LogicalResult FunctionLowering::lowerFeatureGemmJvp(FeatureGemmJvpOp op) {
  FailureOr<TileScratch *> found = tileScratch(op, op.getAux());
  if (failed(found))
    return failure();
  TileScratch &s = **found;
  GemmShape shape = gemmShape(op);
  int64_t order = shape.order, in = shape.in, g = shape.g, out = shape.out,
          kk = shape.kk;
  int64_t gk = g + order;
  int64_t width = op.getWidth(), tr = s.rows;
  Attribute act = actLiteral(b, op.getAct());
  defineBuffer(op.getOutput());
  defineBuffer(op.getOutputTangent());
  View x = view(op.getInput()), y = view(op.getOutput()),
       yt = view(op.getOutputTangent());
  Dim m = x.sizes[0];
  Value w = ptr(op.getWeights());
  Value grid = ptr(op.getGrid()), aux = ptr(op.getAux());
  InputTangentKernel itk = *op.getInputTangentKernel();
  WeightTangentKernel wtk = *op.getWeightTangentKernel();
  bool multiJac = itk == InputTangentKernel::jacobian_multi;
  bool useJac = itk == InputTangentKernel::jacobian || multiJac;
  bool hasXt = itk != InputTangentKernel::none;
  View xt = hasXt ? view(op.getInputTangent()) : View();
  int64_t ldj = (out + 7) / 8 * 8;
  bool regenerate = wtk == WeightTangentKernel::regenerate;
  bool sparse = wtk == WeightTangentKernel::sparse_rows;
  Value th = thread();

  std::optional<uint64_t> cols = op.getWeightTangentCols();
  Value pt = cols ? Value() : offset(s.panel, mul(Dim(th), Dim(tr * kk)));
  Value jt, tpt, wtt, tbt, tct, tst;
  if (useJac)
    jt = offset(s.jac, mul(Dim(th), Dim(tr * in * ldj)));
  else if (hasXt)
    tpt = offset(s.tpanel, mul(Dim(th), Dim(width * tr * kk)));
  if (regenerate && !cols) {
    wtt = offset(s.wt, mul(Dim(th), Dim(out * kk)));
    tbt = offset(s.tb, mul(Dim(th), Dim(out * in)));
    tct = offset(s.tc, mul(Dim(th), Dim(out * in * gk)));
    tst = offset(s.ts, mul(Dim(th), Dim(out * in)));
  }
  if (itk == InputTangentKernel::panel)
    call(fn("kan_pack_features_jvp"), Type(),
         {arg(m), cint(in), cint(g), cint(order), act, x.ptr,
          arg(x.strides[0]), cint(width), xt.ptr, arg(xt.strides[1]),
          arg(xt.strides[0]), grid, aux, pt, cint(kk), tpt, cint(kk),
          cint(tr * kk)});
  else if (!cols)
    call(fn("kan_pack_features"), Type(),
         {arg(m), cint(in), cint(g), cint(order), act, x.ptr,
          arg(x.strides[0]), grid, aux, pt, cint(kk)});
  // With column blocks the primal product is made block by block below.
  if (!cols)
    call(fn("kan_gemm_nt"), Type(),
         {arg(m), cint(out), cint(kk), cint(1), pt, cint(kk), w, cint(kk),
          cint(0), y.ptr, arg(y.strides[0])});
  if (useJac)
    call(fn("kan_layer_jacobian_span"), Type(),
         {arg(m), cint(in), cint(out), cint(g), cint(order), act, x.ptr,
          arg(x.strides[0]), grid, aux, ptr(op.getSpanWeights()), cint(out),
          jt, cint(ldj)});
  if (multiJac)
    // Every direction's J x'_d before the loop, row by row.
    call(fn("kan_jacobian_apply_multi"), Type(),
         {arg(m), cint(in), cint(out), cint(width), jt, cint(ldj), xt.ptr,
          arg(xt.strides[1]), arg(xt.strides[0]), yt.ptr, arg(yt.strides[1]),
          arg(yt.strides[0])});
  // Each y'_d from an input tangent not applied above (or zero); the
  // weight tangents add to it after the loop.
  if (!multiJac) {
    Value lb = constant(0), ub = constant(width), one = constant(1);
    auto forOp = b.create<emitc::ForOp>(loc(), lb, ub, one);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    Value d = forOp.getInductionVar();
    Value ytd = offset(yt.ptr, mul(Dim(d), yt.strides[0]));
    if (useJac && !multiJac)
      call(fn("kan_jacobian_apply"), Type(),
           {arg(m), cint(in), cint(out), jt, cint(ldj),
            offset(xt.ptr, mul(Dim(d), xt.strides[0])), arg(xt.strides[1]),
            ytd, arg(yt.strides[1])});
    else if (hasXt && !useJac)
      call(fn("kan_gemm_nt"), Type(),
           {arg(m), cint(out), cint(kk), cint(1),
            offset(tpt, mul(Dim(d), Dim(tr * kk))), cint(kk), w, cint(kk),
            cint(0), ytd, arg(yt.strides[1])});
    else if (!hasXt)
      call(fn("kan_fill"), Type(), {arg(mul(m, Dim(out))), cint(0), ytd});
  }
  // Dense weight tangents, stored or regenerated here, all directions in
  // one call: the panel is packed for the GEMM once rather than once per
  // direction. Regenerated: directions first .. first + width - 1 of the
  // step (one rank's slice in a direction-parallel run).
  if (wtk == WeightTangentKernel::dense)
    call(fn("kan_gemm_nt_directions"), Type(),
         {cint(width), arg(m), cint(out), cint(kk), pt, cint(kk),
          ptr(op.getWeightsTangent()), cint(kk), cint(out * kk), cint(1),
          yt.ptr, arg(yt.strides[1]), arg(yt.strides[0])});
  if (regenerate && cols) {
    // Features, y and every direction's A W'_d^T one column block at a
    // time (kan-prepare-cpu's weight_tangent_cols).
    ArrayRef<int64_t> streams = *op.getStreams();
    checked(fn("kan_regenerated_layer_jvp_cols"),
            {arg(m), cint(in), cint(g), cint(order), act, x.ptr,
             arg(x.strides[0]), grid, aux, w, cint(kk), cint(out),
             cint(width), cint(op.getFirstDirection()), scalar(op.getSeed()),
             scalar(op.getStep()), cint(streams[0]), cint(streams[1]),
             cint(streams[2]),
             lit(*op.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                                       : "KAN_DIST_RADEMACHER"),
             ptr(op.getSplineWeight()), opt(op.getSplineScaler()),
             cint((int64_t)*cols),
             offset(s.cols, mul(Dim(th), Dim(s.colsSize))), y.ptr,
             arg(y.strides[0]), yt.ptr, arg(yt.strides[1]),
             arg(yt.strides[0])});
  } else if (regenerate) {
    ArrayRef<int64_t> streams = *op.getStreams();
    checked(fn("kan_regenerated_tangent_gemm_directions"),
            {cint(width), cint(op.getFirstDirection()), arg(m), cint(out),
             cint(in), cint(gk), scalar(op.getSeed()), scalar(op.getStep()),
             cint(streams[0]), cint(streams[1]), cint(streams[2]),
             lit(*op.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                                       : "KAN_DIST_RADEMACHER"),
             ptr(op.getSplineWeight()), opt(op.getSplineScaler()), pt, wtt, tbt,
             tct, tst, yt.ptr, arg(yt.strides[1]), arg(yt.strides[0])});
  }
  // Sparse directions after the direction loop, all at once: each row of
  // the panel is then read from memory once rather than once per direction.
  if (sparse) {
    View rp = view(op.getCsrRowptr()), cc = view(op.getCsrCols()),
         cv = view(op.getCsrVals());
    call(fn("kan_sparse_tangent_csr_multi"), Type(),
         {arg(m), pt, cint(kk), cint(out), cint(width), rp.ptr,
          arg(rp.strides[0]), cc.ptr, cv.ptr, arg(cc.strides[0]), yt.ptr,
          arg(yt.strides[1]), arg(yt.strides[0])});
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Perturbations, losses, updates
//===----------------------------------------------------------------------===//

LogicalResult FunctionLowering::lowerPerturb(PerturbOp op) {
  auto t = op.getType();
  int64_t width = t.getDimSize(0);
  int64_t size = t.getNumElements() / width;
  defineBuffer(op.getResult());
  Value r = ptr(op.getResult());
  if (op.getDist() != Distribution::sparse_ternary) {
    // Directions on the file's threads (kanrt/threads.h: the same bits).
    checked(fn("kan_omp_perturb_dense_directions"),
            {scalar(op.getSeed()), scalar(op.getStep()),
             cint(op.getFirstDirection()), cint(width), cint(op.getStream()),
             lit(op.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                                      : "KAN_DIST_RADEMACHER"),
             cint(size), r});
    return success();
  }
  // A sparse perturbation used as a plain tensor (not fused into a GEMM).
  checked(fn("kan_perturb_sparse_directions"),
          {scalar(op.getSeed()), scalar(op.getStep()),
           cint(op.getFirstDirection()), cint(width), cint(op.getStream()),
           cint(size), real(op.getDensity()->convertToDouble()), r});
  return success();
}

LogicalResult FunctionLowering::lowerLoss(Operation *op, bool mse, bool jvp) {
  Value z = op->getOperand(0), target = op->getOperand(1);
  Value zt = jvp ? op->getOperand(2) : Value();
  Value alphas = jvp ? op->getResult(1) : Value();
  int64_t classes = cast<ShapedType>(z.getType()).getDimSize(1);
  int64_t width = jvp ? cast<ShapedType>(zt.getType()).getDimSize(0) : 0;
  Value l = variable(T, lit(""));
  scalars[op->getResult(0)] = l;
  if (alphas)
    defineBuffer(alphas);
  Value addr = b.create<emitc::ApplyOp>(loc(), ptrTo(T), "&", l);
  // One runtime kernel per loss (sums in double, kanrt/loss.h), its rows
  // and directions on the file's threads (kanrt/threads.h: the same bits).
  checked(fn(mse ? "kan_omp_loss_mse" : "kan_omp_loss_softmax_xent"),
          {arg(view(z).sizes[0]), cint(classes), ptr(z), ptr(target), opt(zt),
           cint(width), addr, opt(alphas)});
  return success();
}

LogicalResult FunctionLowering::lowerUpdate(UpdateOp op) {
  Value param = op.getParam();
  int64_t size = op.getType().getNumElements();
  updateInPlaceOrCopy(op, param, op.getResult(), /*copy=*/true);
  int64_t width = op.getCoefficients().getType().getDimSize(0);
  Value r = ptr(op.getResult());
  // The compiled scale times the run-time lr_scale argument (1.0 leaves it
  // bit for bit).
  Value scale0 = b.create<emitc::ConstantOp>(
      loc(), b.getF64Type(), real(op.getScale().convertToDouble()));
  Value scale =
      b.create<emitc::MulOp>(loc(), b.getF64Type(), scale0, lrScale);
  if (op.getDist() == Distribution::sparse_ternary)
    checked(fn("kan_apply_update_sparse"),
            {scalar(op.getSeed()), scalar(op.getStep()), cint(width),
             cint(op.getStream()), cint(size),
             real(op.getDensity()->convertToDouble()),
             ptr(op.getCoefficients()), scale, r});
  else
    checked(fn("kan_apply_update_dense"),
            {scalar(op.getSeed()), scalar(op.getStep()), cint(width),
             cint(op.getStream()),
             lit(op.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                                      : "KAN_DIST_RADEMACHER"),
             cint(size), ptr(op.getCoefficients()), scale, r});
  return success();
}

void FunctionLowering::updateInPlaceOrCopy(Operation *op, Value param,
                                           Value res, bool copy) {
  defineBuffer(res);
  // The caller may pass the parameter itself as the result buffer (an
  // update in place through the ABI): the copy then does nothing.
  if (copy && ptr(res) != ptr(param))
    call(fn("kan_copy"), Type(),
         {arg(numel(param.getType())), ptr(param), ptr(res)});
}

LogicalResult FunctionLowering::lowerActivityOp(Operation *op) {
  auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  if (auto p = dyn_cast<PerturbActivityOp>(op)) {
    defineBuffer(p.getResult());
    checked(fn("kan_perturb_activity"),
            {scalar(p.getSeed()), scalar(p.getStep()),
             cint(p.getFirstDirection()), cint(p.getWidth()),
             cint(p.getStream()),
             lit(p.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                                     : "KAN_DIST_RADEMACHER"),
             arg(view(p.getActivation()).sizes[0]),
             cint(shape(p.getActivation())[1]), ptr(p.getResult())});
    return success();
  }
  if (auto e = dyn_cast<SoftmaxCrossEntropyExamplesJvpOp>(op)) {
    Value l = variable(T, lit(""));
    scalars[e.getLoss()] = l;
    defineBuffer(e.getLossTangent());
    defineBuffer(e.getExampleTangents());
    Value addr = b.create<emitc::ApplyOp>(loc(), ptrTo(T), "&", l);
    checked(fn("kan_loss_softmax_xent_examples"),
            {arg(view(e.getLogits()).sizes[0]), cint(shape(e.getLogits())[1]),
             ptr(e.getLogits()), ptr(e.getLabels()), ptr(e.getLogitsTangent()),
             cint(shape(e.getLogitsTangent())[0]), addr,
             ptr(e.getLossTangent()), ptr(e.getExampleTangents()),
             lit("NULL")});
    return success();
  }
  if (auto g = dyn_cast<SoftmaxCrossEntropyGradOp>(op)) {
    defineBuffer(g.getGrad());
    checked(fn("kan_loss_softmax_xent_examples"),
            {arg(view(g.getLogits()).sizes[0]), cint(shape(g.getLogits())[1]),
             ptr(g.getLogits()), ptr(g.getLabels()), lit("NULL"), cint(0),
             lit("NULL"), lit("NULL"), lit("NULL"), ptr(g.getGrad())});
    return success();
  }
  if (auto a = dyn_cast<ActivityEstimateOp>(op)) {
    defineBuffer(a.getEstimate());
    ArrayRef<int64_t> u = shape(a.getPerturbations());
    checked(fn("kan_activity_estimate"),
            {arg(view(a.getPerturbations()).sizes[1]), cint(u[2]), cint(u[0]),
             ptr(a.getExampleTangents()), ptr(a.getPerturbations()),
             ptr(a.getEstimate())});
    return success();
  }
  return lowerActivityUpdate(cast<ActivityUpdateOp>(op));
}

LogicalResult FunctionLowering::lowerActivityUpdate(ActivityUpdateOp u) {
  if (!u.getAux() || !u.getInputTile() || !u.getRowTile())
    return u.emitOpError()
           << "must be tiled by kan-lower-to-gemm before emission";
  bool gradient = u.getGradient();
  SmallVector<std::pair<Value, Value>> pairs{
      {u.getBaseWeight(), u.getNewBaseWeight()},
      {u.getSplineWeight(), u.getNewSplineWeight()}};
  if (u.getSplineScaler())
    pairs.push_back({u.getSplineScaler(), u.getNewSplineScaler()});
  // As kan.update; the estimated update (gradient) always gets a buffer of
  // its own and the parameters stay as they are.
  for (auto [param, res] : pairs)
    updateInPlaceOrCopy(u, param, res, /*copy=*/!gradient);
  auto w = cast<ShapedType>(u.getBaseWeight().getType());
  int64_t k = u.getOrder();
  int64_t G = cast<ShapedType>(u.getGrid().getType()).getDimSize(1) - 2 * k - 1;
  Value scale;
  if (gradient) {
    scale = b.create<emitc::ConstantOp>(loc(), b.getF64Type(), lit("0.0"));
  } else {
    Value scale0 = b.create<emitc::ConstantOp>(
        loc(), b.getF64Type(), real(u.getScale().convertToDouble()));
    scale = b.create<emitc::MulOp>(loc(), b.getF64Type(), scale0, lrScale);
  }
  auto target = [&](Value param, Value res) -> Arg {
    return gradient ? Arg(ptr(param)) : Arg(ptr(res));
  };
  auto grad = [&](Value res) -> Arg {
    return gradient && res ? Arg(ptr(res)) : Arg(lit("NULL"));
  };
  // The tiles own disjoint weights: threads take whole tiles, each with its
  // own work (one chunk's features, their transpose, g^T and the tile's dW).
  int64_t in = w.getDimSize(1), out = w.getDimSize(0);
  int64_t tile = *u.getInputTile(), rows = *u.getRowTile();
  Value workSize =
      call("kan_activity_update_work_size", i64(),
           {cint(out), cint(G), cint(k), cint(tile), cint(rows)});
  Value work = declareBuffer(T);
  Value threads = call("kan_omp_threads", i64(), {});
  allocate(work, mul(Dim(workSize), Dim(threads)), f32 ? 4 : 8);
  View x = view(u.getInput()), g = view(u.getLocalGrad());
  Value lb = constant(0), ub = constant((in + tile - 1) / tile),
        one = constant(1);
  if (failed(parallelFor(lb, ub, one, [&](Value t) -> LogicalResult {
        Dim first = mul(Dim(t), Dim(tile));
        checked(fn("kan_activity_update_tile"),
                {arg(x.sizes[0]),
                 cint(in),
                 cint(out),
                 cint(G),
                 cint(k),
                 cint(static_cast<int>(u.getAct())),
                 x.ptr,
                 arg(x.strides[0]),
                 ptr(u.getGrid()),
                 ptr(u.getAux()),
                 g.ptr,
                 arg(g.strides[0]),
                 arg(first),
                 cint(tile),
                 cint(rows),
                 scale,
                 target(u.getBaseWeight(), u.getNewBaseWeight()),
                 target(u.getSplineWeight(), u.getNewSplineWeight()),
                 u.getSplineScaler()
                     ? target(u.getSplineScaler(), u.getNewSplineScaler())
                     : Arg(lit("NULL")),
                 grad(u.getNewBaseWeight()),
                 grad(u.getNewSplineWeight()),
                 u.getSplineScaler() ? grad(u.getNewSplineScaler())
                                     : Arg(lit("NULL")),
                 offset(work, mul(Dim(thread()), Dim(workSize)))});
        return success();
      })))
    return failure();
  release(work);
  return success();
}

LogicalResult FunctionLowering::lowerSymbolicEdges(Operation *op) {
  if (f32)
    return op->emitOpError() << "supports f64 models only";
  auto jvp = dyn_cast<SymbolicEdgesJvpOp>(op);
  ArrayAttr functions = jvp ? jvp.getFunctions()
                            : cast<SymbolicEdgesOp>(op).getFunctions();
  Value x = op->getOperand(0), y = op->getOperand(1), p = op->getOperand(2);
  auto xT = cast<ShapedType>(x.getType());
  int64_t in = xT.getDimSize(1),
          out = cast<ShapedType>(y.getType()).getDimSize(1);
  // The function names as a static table at the top of the function
  // (library names, checked by the verifier, need no escaping).
  std::string table = "kan_symbolic_functions_" + std::to_string(tables++);
  std::string decl = "static const char *const " + table + "[] = {";
  for (auto [e, a] : llvm::enumerate(functions))
    decl += (e ? ", \"" : "\"") + cast<StringAttr>(a).getValue().str() + "\"";
  decl += "};";
  {
    OpBuilder::InsertionGuard g(b);
    b.restoreInsertionPoint(declPoint);
    b.create<emitc::VerbatimOp>(loc(), decl);
    declPoint = b.saveInsertionPoint();
  }
  for (Value r : op->getResults())
    defineBuffer(r);
  if (jvp)
    checked("kan_symbolic_edges_jvp_f64",
            {arg(view(x).sizes[0]), cint(in), cint(out), cint(jvp.getWidth()),
             lit(table), ptr(x), ptr(y), ptr(p), opt(jvp.getInputTangent()),
             opt(jvp.getLayerOutputTangent()), opt(jvp.getParamsTangent()),
             ptr(jvp.getOutput()), ptr(jvp.getOutputTangent())});
  else
    checked("kan_symbolic_edges_f64",
            {arg(view(x).sizes[0]), cint(in), cint(out), lit(table), ptr(x),
             ptr(y), ptr(p), ptr(op->getResult(0))});
  return success();
}

LogicalResult FunctionLowering::lowerElementwise(Operation *op) {
  Value res = op->getResult(0);
  if (!isa<ShapedType>(res.getType())) {
    // Scalars: C arithmetic.
    Value x = scalar(op->getOperand(0));
    Value r;
    if (isa<arith::NegFOp>(op))
      r = b.create<emitc::UnaryMinusOp>(loc(), T, x);
    else if (isa<arith::AddFOp>(op))
      r = b.create<emitc::AddOp>(loc(), T, x, scalar(op->getOperand(1)));
    else if (isa<arith::SubFOp>(op))
      r = b.create<emitc::SubOp>(loc(), T, x, scalar(op->getOperand(1)));
    else
      r = b.create<emitc::MulOp>(loc(), T, x, scalar(op->getOperand(1)));
    scalars[res] = r;
    return success();
  }
  defineBuffer(res);
  StringRef name = isa<arith::AddFOp>(op)   ? "kan_add"
                   : isa<arith::SubFOp>(op) ? "kan_sub"
                   : isa<arith::MulFOp>(op) ? "kan_mul"
                                            : "kan_neg";
  SmallVector<Arg> args = {arg(numel(res.getType()))};
  for (Value v : op->getOperands())
    args.push_back(ptr(v));
  args.push_back(ptr(res));
  call(fn(name), Type(), args);
  return success();
}

LogicalResult FunctionLowering::lowerReturn(func::ReturnOp op) {
  for (auto [i, v] : llvm::enumerate(op.getOperands())) {
    Value r = results[i];
    if (!isa<ShapedType>(v.getType())) {
      Value zero = constant(0);
      effect([&] {
        Value slot =
            b.create<emitc::SubscriptOp>(loc(), T, r, ValueRange{zero});
        b.create<emitc::AssignOp>(loc(), slot, scalar(v));
      });
      continue;
    }
    if (ptr(v) == r)
      continue;
    call(fn("kan_copy"), Type(), {arg(numel(v.getType())), ptr(v), r});
  }
  return success();
}

LogicalResult FunctionLowering::lowerOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<PackWeightsOp>([&](PackWeightsOp o) -> LogicalResult {
        auto c = o.getSplineWeight().getType();
        int64_t out = c.getDimSize(0), in = c.getDimSize(1),
                gk = c.getDimSize(2);
        if (!o.getLayout())
          return o.emitOpError() << "needs its layout from kan-prepare-cpu";
        defineBuffer(o.getWeights());
        bool span = *o.getLayout() == WeightLayout::span;
        // G and k enter the kernels only through G + k here.
        StringRef callee = span ? "kan_pack_weights_span" : "kan_pack_weights";
        int64_t ldw = span ? out : in * (gk + 1);
        Value base = ptr(o.getBaseWeight()), spline = ptr(o.getSplineWeight()),
              scale = o.getSplineScaler() ? ptr(o.getSplineScaler()) : Value(),
              w = ptr(o.getWeights());
        // Outputs o0 .. o0 + n - 1: the kernels see the slice as a layer of
        // n outputs (rows of the sources; columns of W in the span layout,
        // rows in the dense one).
        // o0 = idx * unit.
        auto pack = [&](Dim idx, int64_t unit, Dim n) {
          call(fn(callee), Type(),
               {arg(n), cint(in), cint(gk), cint(0),
                offset(base, mul(idx, Dim(unit * in))),
                offset(spline, mul(idx, Dim(unit * in * gk))),
                scale ? Arg(offset(scale, mul(idx, Dim(unit * in))))
                      : Arg(lit("NULL")),
                offset(w, mul(idx, Dim(unit * (span ? 1 : ldw)))), cint(ldw)});
        };
        // Blocks of one cache line of outputs (the span kernel's block of 8
        // for f64): the threads share the packing of a wide layer (3.6 MB
        // for layer 1 of [784,64,10]) instead of thread 0 doing all of it
        // before the row tiles. Each output is packed by the same
        // expressions either way, so the weights are the same bits.
        int64_t chunk = f32 ? 16 : 8, blocks = out / chunk;
        if (loopBody || blocks < 2) {
          pack(Dim(int64_t(0)), 1, Dim(out));
          return success();
        }
        // No block runs after a failure.
        Value lb = constant(0), one = constant(1);
        Value ub = b.create<emitc::ConditionalOp>(loc(), i64(), isOk(),
                                                  constant(blocks), lb);
        b.create<emitc::VerbatimOp>(loc(), kParallelFor);
        auto forOp = b.create<emitc::ForOp>(loc(), lb, ub, one);
        {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(forOp.getBody()->getTerminator());
          bool wasGuarded = guarded;
          guarded = true;
          pack(Dim(forOp.getInductionVar()), chunk, Dim(chunk));
          guarded = wasGuarded;
        }
        if (out % chunk)
          pack(Dim(blocks * chunk), 1, Dim(out % chunk));
        return success();
      })
      .Case<PackWeightsTangentOp>([&](PackWeightsTangentOp o) {
        auto c = o.getSplineWeight().getType();
        int64_t out = c.getDimSize(0), in = c.getDimSize(1),
                gk = c.getDimSize(2);
        int64_t width = o.getWeightsTangent().getType().getDimSize(0);
        defineBuffer(o.getWeightsTangent());
        call(fn("kan_pack_weights_jvp_directions"), Type(),
             {cint(width), cint(out), cint(in), cint(gk),
              ptr(o.getSplineWeight()), opt(o.getSplineScaler()),
              opt(o.getBaseWeightTangent()), opt(o.getSplineWeightTangent()),
              opt(o.getSplineScalerTangent()), ptr(o.getWeightsTangent()),
              cint(in * (gk + 1))});
        return success();
      })
      .Case<GridPrepareOp>([&](GridPrepareOp o) {
        auto gT = o.getGrid().getType();
        int64_t order = o.getOrder();
        defineBuffer(o.getAux());
        checked(fn("kan_grid_prepare"),
                {cint(gT.getDimSize(0)),
                 cint(gT.getDimSize(1) - 2 * order - 1), cint(order),
                 ptr(o.getGrid()), ptr(o.getAux())});
        return success();
      })
      .Case<SpanWeightsOp>([&](SpanWeightsOp o) {
        auto wT = o.getWeights().getType();
        int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1),
                in = o.getInputs();
        defineBuffer(o.getResult());
        call(fn("kan_weights_dense_to_span"), Type(),
             {cint(out), cint(in), cint(kk / in - 1), cint(0),
              ptr(o.getWeights()), cint(kk), ptr(o.getResult()), cint(out)});
        return success();
      })
      .Case<SparseDirectionsOp>(
          [&](auto o) { return lowerSparseDirections(o); })
      .Case<FeatureGemmOp>([&](auto o) { return lowerFeatureGemm(o); })
      .Case<FeatureGemmJvpOp>([&](auto o) { return lowerFeatureGemmJvp(o); })
      .Case<PerturbOp>([&](auto o) { return lowerPerturb(o); })
      .Case<MseOp>([&](auto o) { return lowerLoss(o, true, false); })
      .Case<SoftmaxCrossEntropyOp>(
          [&](auto o) { return lowerLoss(o, false, false); })
      .Case<MseJvpOp>([&](auto o) { return lowerLoss(o, true, true); })
      .Case<SoftmaxCrossEntropyJvpOp>(
          [&](auto o) { return lowerLoss(o, false, true); })
      .Case<UpdateCoefficientsOp>([&](UpdateCoefficientsOp o) {
        int64_t width = o.getAlphas().getType().getDimSize(0);
        defineBuffer(o.getCoefficients());
        checked(fn("kan_update_coefficients"),
                {lit(o.getRule() == UpdateRule::fg ? "KAN_RULE_FG"
                                                   : "KAN_RULE_TERNARY"),
                 cint(width), ptr(o.getAlphas()), ptr(o.getCoefficients())});
        return success();
      })
      .Case<UpdateOp>([&](auto o) { return lowerUpdate(o); })
      .Case<PerturbActivityOp, SoftmaxCrossEntropyExamplesJvpOp,
            SoftmaxCrossEntropyGradOp, ActivityEstimateOp, ActivityUpdateOp>(
          [&](Operation *o) { return lowerActivityOp(o); })
      .Case<SymbolicEdgesOp, SymbolicEdgesJvpOp>(
          [&](Operation *o) { return lowerSymbolicEdges(o); })
      .Case<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::NegFOp>(
          [&](Operation *o) { return lowerElementwise(o); })
      .Case<arith::ConstantOp>([&](arith::ConstantOp c) -> LogicalResult {
        if (c.getType().isIndex()) {
          dims[c.getResult()] = Dim(cast<IntegerAttr>(c.getValue()).getInt());
          return success();
        }
        auto f = dyn_cast<FloatAttr>(c.getValue());
        if (!f)
          return c.emitOpError()
                 << "only scalar floating-point constants are supported by "
                    "the CPU target";
        scalars[c.getResult()] = b.create<emitc::ConstantOp>(
            loc(), T, real(f.getValueAsDouble()));
        return success();
      })
      .Case<tensor::SplatOp>([&](tensor::SplatOp s) {
        defineBuffer(s.getResult());
        call(fn("kan_fill"), Type(),
             {arg(numel(s.getType())), scalar(s.getInput()),
              ptr(s.getResult())});
        return success();
      })
      .Case<tensor::DimOp>([&](tensor::DimOp d) -> LogicalResult {
        // Only the batch dimension is dynamic.
        std::optional<int64_t> i = d.getConstantIndex();
        auto t = cast<ShapedType>(d.getSource().getType());
        if (!i || *i >= t.getRank())
          return d.emitOpError() << "needs a constant dimension index";
        int64_t size = t.getDimSize(*i);
        dims[d.getResult()] = ShapedType::isDynamic(size) ? Dim(n) : Dim(size);
        return success();
      })
      .Case<tensor::EmptyOp>([&](tensor::EmptyOp e) -> LogicalResult {
        // The initial value of a row-tile loop: the loop result holds the
        // buffer.
        if (!llvm::all_of(e->getUsers(),
                          [](Operation *u) { return isa<scf::ForallOp>(u); }))
          return e.emitOpError()
                 << "is supported by the CPU target only as the shared "
                    "output of a row-tile loop";
        return success();
      })
      .Case<tensor::ExtractSliceOp>([&](tensor::ExtractSliceOp s) {
        return defineSlice(s, s.getResult(), s.getSource(),
                           s.getMixedOffsets(), s.getMixedSizes(),
                           s.getMixedStrides());
      })
      .Case<scf::ForallOp>([&](auto o) { return lowerForall(o); })
      .Case<memref::AllocOp>([&](auto o) { return lowerAlloc(o); })
      .Case<memref::ReinterpretCastOp>(
          [&](auto o) { return lowerReinterpretCast(o); })
      .Case<memref::DeallocOp>([&](auto o) { return lowerDealloc(o); })
      .Case<bufferization::ToMemrefOp>([&](bufferization::ToMemrefOp o) {
        View w = view(o.getTensor());
        views[o.getResult()] = w;
        return success();
      })
      .Case<bufferization::MaterializeInDestinationOp>(
          [&](bufferization::MaterializeInDestinationOp o) -> LogicalResult {
            // The producer (lowered before) computed the tensor in place.
            if (!views.count(o.getSource()) || !views.count(o.getDest()) ||
                ptr(o.getSource()) != ptr(o.getDest()))
              return o.emitOpError() << "must follow the producer of its "
                                        "tensor";
            return success();
          })
      .Case<emitc::CallOpaqueOp>([&](emitc::CallOpaqueOp c) -> LogicalResult {
        // A run-time size query of kan-bufferize (a CSR capacity).
        if (c.getNumOperands() || c.getNumResults() != 1 ||
            !c.getResult(0).getType().isInteger(64))
          return c.emitOpError() << "is supported by the CPU target only as "
                                    "a size query (no operands, one i64)";
        dims[c.getResult(0)] = Dim(b.clone(*c)->getResult(0));
        return success();
      })
      .Case<arith::IndexCastOp>([&](arith::IndexCastOp c) {
        dims[c.getResult()] = dims.lookup(c.getIn());
        return success();
      })
      .Case<arith::MulIOp, arith::AddIOp>([&](Operation *o) -> LogicalResult {
        if (!o->getResult(0).getType().isIndex())
          return o->emitOpError() << "is supported by the CPU target only on "
                                     "index values (buffer sizes)";
        Dim x = dims.lookup(o->getOperand(0)), y = dims.lookup(o->getOperand(1));
        dims[o->getResult(0)] = isa<arith::MulIOp>(o) ? mul(x, y) : add(x, y);
        return success();
      })
      .Case<affine::AffineMinOp, affine::AffineMaxOp>([&](auto o) {
        return lowerAffineMinMax(o, o.getAffineMap(), o.getDimOperands(),
                                 o.getSymbolOperands(),
                                 isa<affine::AffineMinOp>(o.getOperation()));
      })
      .Case<LayerOp, LayerJvpOp>([&](Operation *o) -> LogicalResult {
        return o->emitOpError()
               << "must be lowered by kan-lower-to-gemm before emission";
      })
      .Default([&](Operation *o) -> LogicalResult {
        return o->emitOpError() << "is not supported by the CPU target";
      });
}

/// Sizes and strides are built eagerly; those no call reads are dropped
/// (the C would declare unused variables).
static void eraseUnused(emitc::FuncOp f) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    f.walk([&](Operation *op) {
      if (isa<emitc::ConstantOp, emitc::MulOp, emitc::AddOp, emitc::LiteralOp,
              emitc::CastOp, emitc::CmpOp, emitc::ConditionalOp>(op) &&
          op->use_empty())
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    changed = !dead.empty();
  }
}

FailureOr<emitc::FuncOp> FunctionLowering::lower() {
  FailureOr<bool> is32 = isF32(func);
  if (failed(is32))
    return failure();
  f32 = *is32;
  T = f32 ? Type(b.getF32Type()) : Type(b.getF64Type());
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the CPU target needs straight-line functions";
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // A value returned from the function is computed straight into the
  // caller's buffer unless it is an argument or returned twice.
  for (auto [i, v] : llvm::enumerate(ret.getOperands()))
    if (!isa<BlockArgument>(v) && !resultIndex.count(v))
      resultIndex[v] = i;

  // Signature: arguments, the batch size, result pointers, lr_scale.
  SmallVector<Type> inputs;
  for (BlockArgument a : body.getArguments()) {
    Type t = a.getType();
    Type e = getElementTypeOrSelf(t);
    if (isa<ShapedType>(t))
      inputs.push_back(ptrTo(isa<FloatType>(e) ? T : i64()));
    else
      inputs.push_back(isa<FloatType>(e) ? T : i64());
  }
  inputs.push_back(i64());
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    inputs.push_back(ptrTo(T));
  // A run-time factor on every update's compiled scale (an activity update
  // that returns its estimate instead has nothing to scale).
  hasUpdates = !func.getOps<UpdateOp>().empty() ||
               llvm::any_of(func.getOps<ActivityUpdateOp>(),
                            [](ActivityUpdateOp u) { return !u.getGradient(); });
  if (hasUpdates)
    inputs.push_back(b.getF64Type());
  auto fnType = FunctionType::get(ctx, inputs, {opaque("int")});
  auto f = mb.create<emitc::FuncOp>(func.getLoc(),
                                    (func.getSymName() + "_impl").str(), fnType);
  f.setSpecifiersAttr(mb.getStrArrayAttr({"static"}));
  Block *entry = f.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (BlockArgument a : body.getArguments()) {
    Value v = entry->getArgument(a.getArgNumber());
    if (auto t = dyn_cast<ShapedType>(a.getType())) {
      View w;
      w.ptr = v;
      views[a] = w;
    } else {
      scalars[a] = v;
    }
  }
  n = entry->getArgument(body.getNumArguments());
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    results.push_back(entry->getArgument(body.getNumArguments() + 1 + i));
  if (hasUpdates)
    lrScale = entry->getArguments().back();
  // Argument views need n for their strides.
  for (BlockArgument a : body.getArguments())
    if (auto t = dyn_cast<ShapedType>(a.getType()))
      denseView(views[a], t, Dim(n), [&](Dim x, Dim y) { return mul(x, y); });

  status = variable(statusType(), lit("KAN_OK"));
  okStatus = b.create<emitc::LiteralOp>(loc(), statusType(), "KAN_OK");
  // Buffer variables are declared in front of this marker, the body is
  // built behind them.
  Operation *bodyStart = b.create<emitc::VerbatimOp>(loc(), "");
  declPoint = OpBuilder::InsertPoint(entry, Block::iterator(bodyStart));
  b.setInsertionPointToEnd(entry);
  for (auto m : body.getOps<bufferization::MaterializeInDestinationOp>())
    if (!bufferOf.try_emplace(m.getSource(), m.getDest()).second)
      return m.emitOpError() << "binds a tensor that is already bound";
  for (Operation *op = ret->getPrevNode();
       op && isa<memref::DeallocOp>(op); op = op->getPrevNode())
    finalDeallocs.insert(op);
  for (Operation &op : body.without_terminator()) {
    if (failed(lowerOp(&op)) || missingBuffer)
      return failure();
  }
  if (failed(lowerReturn(ret)))
    return failure();
  // Cleanup on every path: free(NULL) does nothing.
  b.setInsertionPointToEnd(entry);
  bodyStart->erase();
  guarded = true;
  for (Value buf : buffers)
    call("free", Type(), {buf});
  Value result = b.create<emitc::CastOp>(loc(), opaque("int"), status);
  b.create<emitc::ReturnOp>(loc(), result);
  eraseUnused(f);
  return f;
}

//===----------------------------------------------------------------------===//
// Module: the exported C ABI
//===----------------------------------------------------------------------===//

namespace {
struct KanToEmitCPass : public kan::impl::KanToEmitCBase<KanToEmitCPass> {
  using KanToEmitCBase::KanToEmitCBase;
  void runOnOperation() override;
};

void KanToEmitCPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto model = module.lookupSymbol<func::FuncOp>("model");
  if (!model)
    return; // Not a model module (a formula, or already converted).
  MLIRContext *ctx = &getContext();
  FailureOr<bool> f32 = FunctionLowering::isF32(model);
  if (failed(f32))
    return signalPassFailure();
  std::string T = *f32 ? "float" : "double";
  Type real = *f32 ? Type(Float32Type::get(ctx)) : Type(Float64Type::get(ctx));
  unsigned numParams = model.getNumArguments() - 1;
  std::string pre = prefix;

  // Parameter names follow efficient-kan's state_dict.
  std::vector<std::string> paramNames;
  SmallVector<int64_t> paramNumel;
  {
    unsigned layer = 0, slot = 0;
    bool scaler = false;
    model.walk([&](PackWeightsOp p) {
      scaler |= static_cast<bool>(p.getSplineScaler());
    });
    const char *keys[] = {"grid", "base_weight", "spline_weight",
                          "spline_scaler"};
    unsigned perLayer = scaler ? 4 : 3;
    for (unsigned i = 0; i < numParams; ++i) {
      paramNumel.push_back(
          cast<ShapedType>(model.getArgumentTypes()[i + 1]).getNumElements());
      // Parameters after the layers' (symbolic edges) carry their name.
      if (auto a = model.getArgAttrOfType<StringAttr>(i + 1, "kan.param_name")) {
        paramNames.push_back(a.str());
        continue;
      }
      paramNames.push_back("layers." + std::to_string(layer) + "." +
                           keys[slot]);
      if (++slot == perLayer)
        slot = 0, ++layer;
    }
  }
  int64_t numInputs =
      cast<ShapedType>(model.getArgumentTypes()[0]).getDimSize(1);
  int64_t numOutputs =
      cast<ShapedType>(model.getResultTypes()[0]).getDimSize(1);

  SmallVector<func::FuncOp> funcs;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      funcs.push_back(f);

  OpBuilder mb(ctx);
  mb.setInsertionPointToStart(module.getBody());
  Location loc = module.getLoc();
  mb.create<emitc::VerbatimOp>(
      loc, "/* Generated by kan-translate --target=cpu. Do not edit. */");
  mb.create<emitc::IncludeOp>(loc, pre + "model.h", false);
  mb.create<emitc::IncludeOp>(loc, "kanrt/kanrt.h", true);
  mb.create<emitc::IncludeOp>(loc, "kanrt/threads.h", true);
  mb.create<emitc::IncludeOp>(loc, "stdbool.h", true);
  mb.create<emitc::IncludeOp>(loc, "stdint.h", true);
  mb.create<emitc::IncludeOp>(loc, "stdlib.h", true);
  {
    std::string names, numels;
    for (unsigned i = 0; i < numParams; ++i) {
      names += (i ? ", \"" : "\"") + paramNames[i] + "\"";
      numels += (i ? ", " : "") + std::to_string(paramNumel[i]);
    }
    mb.create<emitc::VerbatimOp>(
        loc, "const char *const " + pre + "param_names[" +
                 std::to_string(numParams) + "] = {" + names + "};");
    mb.create<emitc::VerbatimOp>(
        loc, "const int64_t " + pre + "param_numel[" +
                 std::to_string(numParams) + "] = {" + numels + "};");
  }

  DenseMap<StringRef, bool> updates;
  for (func::FuncOp f : funcs) {
    FunctionLowering lowering(f, mb);
    if (failed(lowering.lower()))
      return signalPassFailure();
    updates[f.getSymName()] = lowering.hasUpdates;
  }

  // The exported entry points.
  Type i64 = IntegerType::get(ctx, 64);
  Type intT = emitc::OpaqueType::get(ctx, "int");
  Type realPtr = emitc::PointerType::get(real);
  // Opaque types may not end in '*': pointers to opaque element types.
  Type constRealPtr =
      emitc::PointerType::get(emitc::OpaqueType::get(ctx, "const " + T));
  Type paramsT =
      emitc::PointerType::get(emitc::OpaqueType::get(ctx, T + " *const"));
  auto entryPoint = [&](StringRef name, ArrayRef<Type> args) {
    auto f = mb.create<emitc::FuncOp>(loc, (pre + name).str(),
                                      FunctionType::get(ctx, args, {intT}));
    Block *e = f.addEntryBlock();
    OpBuilder b(ctx);
    b.setInsertionPointToStart(e);
    return std::make_pair(b, e);
  };
  auto paramList = [&](OpBuilder &b, Value params, unsigned count) {
    SmallVector<Value> v;
    for (unsigned i = 0; i < count; ++i) {
      Value idx = b.create<emitc::ConstantOp>(loc, i64, b.getI64IntegerAttr(i));
      v.push_back(b.create<emitc::SubscriptOp>(
          loc, cast<emitc::PointerType>(params.getType()).getPointee(), params,
          ValueRange{idx}));
    }
    return v;
  };
  auto callImpl = [&](OpBuilder &b, StringRef callee, ValueRange args) {
    Value r = b.create<emitc::CallOpaqueOp>(loc, TypeRange{intT}, callee, args)
                  .getResult(0);
    b.create<emitc::ReturnOp>(loc, r);
  };
  {
    auto [b, e] = entryPoint("set_threads", {intT});
    callImpl(b, "kan_omp_set_threads", {e->getArgument(0)});
  }
  {
    auto [b, e] = entryPoint("forward", {constRealPtr, i64, paramsT, realPtr});
    SmallVector<Value> args = {
        b.create<emitc::CastOp>(loc, realPtr, e->getArgument(0))};
    args.append(paramList(b, e->getArgument(2), numParams));
    args.append({e->getArgument(1), e->getArgument(3)});
    callImpl(b, "model_impl", args);
  }
  DictionaryAttr jvpInfo, stepInfo;
  Builder ab(ctx);
  if (auto jvp = module.lookupSymbol<func::FuncOp>("model_jvp")) {
    unsigned numTangents = jvp.getNumArguments() - model.getNumArguments();
    auto [b, e] = entryPoint("forward_jvp", {constRealPtr, i64, paramsT,
                                             paramsT, realPtr, realPtr});
    SmallVector<Value> args = {
        b.create<emitc::CastOp>(loc, realPtr, e->getArgument(0))};
    args.append(paramList(b, e->getArgument(2), numParams));
    args.append(paramList(b, e->getArgument(3), numTangents));
    args.append({e->getArgument(1), e->getArgument(4), e->getArgument(5)});
    callImpl(b, "model_jvp_impl", args);
    jvpInfo = ab.getDictionaryAttr(
        {ab.getNamedAttr("tangents", ab.getI64IntegerAttr(numTangents))});
  }
  if (auto step = module.lookupSymbol<func::FuncOp>("train_step")) {
    auto target = step.getArgumentTypes()[1];
    bool labels = getElementTypeOrSelf(target).isInteger(64);
    std::string targetT = labels ? "int64_t" : T;
    Type targetPtr = emitc::PointerType::get(labels ? i64 : real);
    Type constTargetPtr = emitc::PointerType::get(
        emitc::OpaqueType::get(ctx, "const " + targetT));
    Type u64 = IntegerType::get(ctx, 64, IntegerType::Unsigned);
    int64_t width = cast<ShapedType>(step.getResultTypes()[1]).getDimSize(0);
    bool upd = updates.lookup("train_step");
    // The model's parameters, then the step's own (local-loss heads).
    unsigned stepParams = step.getNumArguments() - 4;
    // rule=activity gradient=true: the results are the updates dtheta, into
    // buffers of their own (train_step_grad instead of train_step).
    bool gradients = llvm::any_of(
        step.getOps<ActivityUpdateOp>(),
        [](ActivityUpdateOp u) { return u.getGradient(); });
    if (gradients) {
      auto [b, e] = entryPoint("train_step_grad",
                               {constRealPtr, constTargetPtr, i64, u64, i64,
                                paramsT, paramsT, realPtr, realPtr});
      SmallVector<Value> args = {
          b.create<emitc::CastOp>(loc, realPtr, e->getArgument(0)),
          b.create<emitc::CastOp>(loc, targetPtr, e->getArgument(1)),
          b.create<emitc::CastOp>(loc, i64, e->getArgument(3)),
          e->getArgument(4)};
      args.append(paramList(b, e->getArgument(5), stepParams));
      args.append({e->getArgument(2), e->getArgument(7), e->getArgument(8)});
      args.append(paramList(b, e->getArgument(6), stepParams));
      callImpl(b, "train_step_impl", args);
    } else {
      auto [b, e] = entryPoint("train_step_scaled",
                               {constRealPtr, constTargetPtr, i64, u64, i64,
                                Float64Type::get(ctx), paramsT, realPtr,
                                realPtr});
      SmallVector<Value> params = paramList(b, e->getArgument(6), stepParams);
      SmallVector<Value> args = {
          b.create<emitc::CastOp>(loc, realPtr, e->getArgument(0)),
          b.create<emitc::CastOp>(loc, targetPtr, e->getArgument(1)),
          b.create<emitc::CastOp>(loc, i64, e->getArgument(3)),
          e->getArgument(4)};
      args.append(params);
      args.append({e->getArgument(2), e->getArgument(7), e->getArgument(8)});
      args.append(params);
      if (upd)
        args.push_back(e->getArgument(5));
      else
        // A step built without its update has nothing to scale.
        b.create<emitc::CallOpaqueOp>(loc, TypeRange{}, "KAN_UNUSED",
                                      ValueRange{e->getArgument(5)});
      callImpl(b, "train_step_impl", args);
      // The unscaled step: lr_scale 1.0.
      auto [b1, e1] = entryPoint("train_step",
                                 {constRealPtr, constTargetPtr, i64, u64, i64,
                                  paramsT, realPtr, realPtr});
      Value one = b1.create<emitc::ConstantOp>(
          loc, b1.getF64Type(), emitc::OpaqueAttr::get(ctx, "1.0"));
      SmallVector<Value> unscaled(e1->getArguments().begin(),
                                  e1->getArguments().end());
      unscaled.insert(unscaled.begin() + 5, one);
      callImpl(b1, pre + "train_step_scaled", unscaled);
    }
    stepInfo = ab.getDictionaryAttr(
        {ab.getNamedAttr("directions", ab.getI64IntegerAttr(width)),
         ab.getNamedAttr("target", ab.getStringAttr(targetT)),
         ab.getNamedAttr("gradients", ab.getBoolAttr(gradients)),
         ab.getNamedAttr("params", ab.getI64IntegerAttr(stepParams))});
  }

  for (func::FuncOp f : funcs)
    f.erase();

  // What the header declares.
  SmallVector<Attribute> names;
  for (const std::string &s : paramNames)
    names.push_back(ab.getStringAttr(s));
  SmallVector<NamedAttribute> abi = {
      ab.getNamedAttr("prefix", ab.getStringAttr(pre)),
      ab.getNamedAttr("real", ab.getStringAttr(T)),
      ab.getNamedAttr("inputs", ab.getI64IntegerAttr(numInputs)),
      ab.getNamedAttr("outputs", ab.getI64IntegerAttr(numOutputs)),
      ab.getNamedAttr("param_names", ab.getArrayAttr(names)),
      ab.getNamedAttr("param_numel", ab.getDenseI64ArrayAttr(paramNumel))};
  if (jvpInfo)
    abi.push_back(ab.getNamedAttr("forward_jvp", jvpInfo));
  if (stepInfo)
    abi.push_back(ab.getNamedAttr("train_step", stepInfo));
  module->setAttr("kan.cpu_abi", ab.getDictionaryAttr(abi));
}

} // namespace
