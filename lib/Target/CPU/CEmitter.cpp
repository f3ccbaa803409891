//===- CEmitter.cpp - C99 emission of lowered kan modules -------*- C++ -*-===//
//
// Prints the output of the CPU pipeline as C99 that calls the runtime's
// micro-kernels. A pure printer (CIRCT ExportVerilog rule): every decision
// (GEMM form, fused producers, row tiles as scf.forall loops) was made by
// passes and is read off the IR; nothing here modifies it.
//
// Every tensor value is a buffer or a view of one: function arguments and
// results are caller-owned pointers, `kan.update` works in place on its
// parameter, a value placed by kan-plan-memory lives in its slot, a slice
// (tensor.extract_slice, or the tile a loop body inserts into its shared
// output) is a pointer into its source with the source's strides.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/Common.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::kan;

namespace {

/// Precedes every row-tile loop; without OpenMP the loop is serial.
const char *const kParallelFor =
    "#ifdef _OPENMP\n#pragma omp parallel for schedule(static)\n#endif\n";

/// A double literal that reads back to the same bits.
std::string exact(double v) { return printExactDouble(v); }

/// A tensor as C sees it: a pointer to its first element, the sizes and
/// the element strides of every dimension (C expressions).
struct View {
  std::string ptr;
  SmallVector<std::string> sizes, strides;
};

/// Per-thread scratch of a tiled layer op, allocated before its loop.
struct TileScratch {
  std::string panel, tpanel, jac, work, wt, tb, tc, ts;
  int64_t rows = 0;
};

class FunctionEmitter {
public:
  FunctionEmitter(func::FuncOp func, llvm::raw_ostream &out)
      : func(func), out(out) {}

  LogicalResult emit();

  /// The C element type of the function's floating-point data.
  static FailureOr<bool> isF32(func::FuncOp func);

private:
  std::string T() const { return f32 ? "float" : "double"; }
  std::string sfx() const { return f32 ? "f32" : "f64"; }
  std::string cType(Type elt) const {
    if (isa<FloatType>(elt))
      return T();
    return elt.isInteger(32) ? "uint32_t" : "int64_t";
  }

  /// Number of elements of a tensor type as a C expression (dynamic
  /// dimensions are the batch size `n`).
  std::string numel(Type type) const {
    auto [perN, constant] = getBatchAffineNumElements(cast<ShapedType>(type));
    return perN ? "((int64_t)" + std::to_string(perN) + " * n)"
                : "((int64_t)" + std::to_string(constant) + ")";
  }
  std::string name(Value v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    return names[v] = "v" + std::to_string(nextId++);
  }
  std::string opt(Value v) { return v ? name(v) : std::string("NULL"); }
  std::string fresh(StringRef base) {
    return (base + std::to_string(nextId++)).str();
  }
  /// An index-typed value or constant as a C expression.
  std::string index(OpFoldResult ofr) {
    if (auto a = dyn_cast<Attribute>(ofr))
      return std::to_string(cast<IntegerAttr>(a).getInt());
    return name(cast<Value>(ofr));
  }

  /// The view of a shaped value (a dense row-major buffer unless it was
  /// recorded as a slice).
  View &view(Value v);
  /// Records `v` as the slice [offsets, offsets + sizes) of `source`.
  LogicalResult defineSlice(Operation *op, Value v, Value source,
                            ArrayRef<OpFoldResult> offsets,
                            ArrayRef<OpFoldResult> sizes,
                            ArrayRef<OpFoldResult> strides);

  /// Declares the buffer of a tensor result unless it aliases a function
  /// result or an operand (in-place update).
  void defineBuffer(Value v);
  void releaseDeadOperands(Operation *op);

  LogicalResult emitOp(Operation *op);
  LogicalResult emitForall(scf::ForallOp loop);
  LogicalResult emitAffineMin(affine::AffineMinOp op);
  LogicalResult emitGridPrepare(GridPrepareOp op);
  LogicalResult emitSparseDirections(SparseDirectionsOp op);
  LogicalResult emitPackWeights(PackWeightsOp op);
  LogicalResult emitPackWeightsTangent(PackWeightsTangentOp op);
  /// Allocates the per-thread scratch of a tiled op before its loop.
  LogicalResult emitTileScratch(Operation *op, int64_t rows);
  LogicalResult emitSpanWeights(SpanWeightsOp op);
  LogicalResult emitFeatureGemm(FeatureGemmOp op);
  LogicalResult emitFeatureGemmJvp(FeatureGemmJvpOp op);
  /// The update's scale times the run-time lr_scale argument.
  std::string scaled(UpdateOp op);
  bool hasUpdates = false;
  LogicalResult emitPerturb(PerturbOp op);
  LogicalResult emitLoss(Operation *op, bool mse, bool jvp);
  LogicalResult emitCoefficients(UpdateCoefficientsOp op);
  LogicalResult emitUpdate(UpdateOp op);
  /// The activity-rule ops, one runtime call each (kanrt/activity.h).
  LogicalResult emitActivityOp(Operation *op);
  LogicalResult emitElementwise(Operation *op);
  /// kan.symbolic_edges(_jvp): one runtime call (kanrt/symbolic.h).
  LogicalResult emitSymbolicEdges(Operation *op);
  LogicalResult emitReturn(func::ReturnOp op);

  func::FuncOp func;
  llvm::raw_ostream &out;
  /// The body is printed here first: buffer pointers are declared (NULL)
  /// at the top so that every error path can free them.
  std::string bodyText;
  llvm::raw_string_ostream os{bodyText};
  std::vector<std::pair<std::string, std::string>> buffers;
  bool f32 = false;
  unsigned nextId = 0;
  DenseMap<Value, std::string> names;
  DenseMap<Value, View> views;
  /// The run-time bound of a dynamic non-batch dimension (CSR capacity).
  DenseMap<Value, std::string> capacity;
  DenseMap<Operation *, TileScratch> scratch;
  /// Buffers this function owns (freed at their last use or on exit).
  llvm::SetVector<Value> owned;
  DenseMap<Value, unsigned> resultIndex;
};

FailureOr<bool> FunctionEmitter::isF32(func::FuncOp func) {
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


View &FunctionEmitter::view(Value v) {
  auto it = views.find(v);
  if (it != views.end())
    return it->second;
  auto t = cast<ShapedType>(v.getType());
  View w;
  w.ptr = name(v);
  auto cap = capacity.find(v);
  // Row-major strides; a dynamic dimension is the batch size n (or the
  // run-time capacity of a CSR array).
  std::string dyn = cap != capacity.end() ? cap->second : "n";
  int64_t stat = 1;
  bool hasDyn = false;
  w.strides.resize(t.getRank());
  for (int64_t i = t.getRank() - 1; i >= 0; --i) {
    w.strides[i] = hasDyn ? "(int64_t)" + std::to_string(stat) + " * " + dyn
                          : std::to_string(stat);
    if (ShapedType::isDynamic(t.getDimSize(i)))
      hasDyn = true;
    else
      stat *= t.getDimSize(i);
  }
  for (int64_t d : t.getShape())
    w.sizes.push_back(ShapedType::isDynamic(d) ? dyn : std::to_string(d));
  return views[v] = w;
}

LogicalResult FunctionEmitter::defineSlice(Operation *op, Value v,
                                           Value source,
                                           ArrayRef<OpFoldResult> offsets,
                                           ArrayRef<OpFoldResult> sizes,
                                           ArrayRef<OpFoldResult> strides) {
  if (llvm::any_of(strides, [](OpFoldResult s) {
        return getConstantIntValue(s) != std::optional<int64_t>(1);
      }))
    return op->emitOpError() << "with non-unit strides is not supported by "
                                "the CPU emitter";
  View src = view(source);
  View w;
  std::string off;
  for (auto [i, o] : llvm::enumerate(offsets)) {
    if (getConstantIntValue(o) == std::optional<int64_t>(0))
      continue;
    off += (off.empty() ? "" : " + ") + index(o) + " * " + src.strides[i];
  }
  w.ptr = off.empty() ? src.ptr : "(" + src.ptr + " + " + off + ")";
  for (OpFoldResult s : sizes)
    w.sizes.push_back(index(s));
  w.strides = src.strides;
  views[v] = w;
  return success();
}

void FunctionEmitter::defineBuffer(Value v) {
  if (!isa<ShapedType>(v.getType()))
    return;
  auto ret = resultIndex.find(v);
  if (ret != resultIndex.end()) {
    names[v] = "res" + std::to_string(ret->second);
    return;
  }
  // A value placed by kan-plan-memory lives in its slot.
  if (auto slots =
          v.getDefiningOp()->getAttrOfType<DenseI64ArrayAttr>("kan.slots")) {
    int64_t slot = slots[cast<OpResult>(v).getResultNumber()];
    if (slot >= 0) {
      names[v] = "slot" + std::to_string(slot);
      return;
    }
  }
  std::string n = name(v);
  buffers.push_back({n, T()});
  os << "  " << n << " = (" << T() << " *)malloc(sizeof(" << T() << ") * "
     << numel(v.getType()) << ");\n"
     << "  if (!" << n
     << ") { status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n";
  owned.insert(v);
}

void FunctionEmitter::releaseDeadOperands(Operation *op) {
  // Values read by the op or inside its loop body.
  llvm::SetVector<Value> used;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (!op->isAncestor(v.getParentRegion()->getParentOp()))
        used.insert(v);
  });
  Block *block = op->getBlock();
  for (Value v : used) {
    if (!owned.contains(v))
      continue;
    bool laterUse = llvm::any_of(v.getUsers(), [&](Operation *user) {
      Operation *top = block->findAncestorOpInBlock(*user);
      return top && top != op && op->isBeforeInBlock(top);
    });
    if (!laterUse) {
      os << "  free(" << name(v) << "); " << name(v) << " = NULL;\n";
      owned.remove(v);
    }
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Row-tile loops
//===----------------------------------------------------------------------===//

namespace {
/// An affine expression over C operands (the forms tiling produces).
FailureOr<std::string> printAffine(AffineExpr e, ArrayRef<std::string> dims,
                                   ArrayRef<std::string> syms) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return std::to_string(c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  if (auto s = dyn_cast<AffineSymbolExpr>(e))
    return syms[s.getPosition()];
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin || (e.getKind() != AffineExprKind::Add &&
               e.getKind() != AffineExprKind::Mul))
    return failure();
  FailureOr<std::string> l = printAffine(bin.getLHS(), dims, syms);
  FailureOr<std::string> r = printAffine(bin.getRHS(), dims, syms);
  if (failed(l) || failed(r))
    return failure();
  return "(" + *l + (e.getKind() == AffineExprKind::Add ? " + " : " * ") + *r +
         ")";
}
} // namespace

LogicalResult FunctionEmitter::emitAffineMin(affine::AffineMinOp op) {
  SmallVector<std::string> dims, syms;
  for (Value v : op.getDimOperands())
    dims.push_back(name(v));
  for (Value v : op.getSymbolOperands())
    syms.push_back(name(v));
  std::string m = name(op.getResult());
  for (auto [i, e] : llvm::enumerate(op.getAffineMap().getResults())) {
    FailureOr<std::string> c = printAffine(e, dims, syms);
    if (failed(c))
      return op.emitOpError() << "has an expression the CPU emitter cannot "
                                 "print";
    if (i == 0)
      os << "    int64_t " << m << " = " << *c << ";\n";
    else
      os << "    if (" << *c << " < " << m << ") " << m << " = " << *c
         << ";\n";
  }
  return success();
}

LogicalResult FunctionEmitter::emitForall(scf::ForallOp loop) {
  std::optional<int64_t> step;
  if (loop.getRank() == 1)
    step = getConstantIntValue(loop.getMixedStep()[0]);
  if (!step)
    return loop.emitOpError()
           << "must be a one-dimensional row-tile loop with a constant tile "
              "size (kan-tile-and-fuse)";
  // The loop's results hold the buffers its tiles are written into.
  for (auto [res, arg] :
       llvm::zip(loop.getResults(), loop.getRegionIterArgs())) {
    defineBuffer(res);
    names[arg] = name(res);
  }
  std::string r = fresh("r");
  names[loop.getInductionVar(0)] = r;
  for (auto min : loop.getBody()->getOps<affine::AffineMinOp>())
    names[min.getResult()] = fresh("m");
  for (Operation &op : loop.getTerminator().getYieldingOps()) {
    auto ins = dyn_cast<tensor::ParallelInsertSliceOp>(op);
    if (!ins || !ins.getSource().getDefiningOp() ||
        ins.getSource().getDefiningOp()->getBlock() != loop.getBody())
      return op.emitOpError() << "must insert a result of the loop body";
    if (failed(defineSlice(ins, ins.getSource(), ins.getDest(),
                           ins.getMixedOffsets(), ins.getMixedSizes(),
                           ins.getMixedStrides())))
      return failure();
  }
  for (Operation &op : loop.getBody()->without_terminator())
    if (isa<FeatureGemmOp, FeatureGemmJvpOp>(op) &&
        failed(emitTileScratch(&op, *step)))
      return failure();
  // Row tiles are independent: threads (OpenMP, when compiled with it) each
  // take whole tiles with scratch of their own; an error inside the loop is
  // recorded and raised after it.
  os << "  { int terr = 0;\n"
     << kParallelFor
     << llvm::formatv("  for (int64_t {0} = {1}; {0} < {2}; {0} += {3}) {{\n",
                      r, index(loop.getMixedLowerBound()[0]),
                      index(loop.getMixedUpperBound()[0]), *step)
     << "    size_t th = (size_t)kan_thread();\n";
  for (Operation &op : loop.getBody()->without_terminator())
    if (failed(emitOp(&op)))
      return failure();
  os << "  }\n  if (terr) { status = (kan_status)terr; goto cleanup; }\n";
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto it = scratch.find(&op);
    if (it == scratch.end())
      continue;
    TileScratch &s = it->second;
    for (const std::string &b :
         {s.panel, s.tpanel, s.jac, s.work, s.wt, s.tb, s.tc, s.ts})
      if (!b.empty())
        os << "  free(" << b << "); " << b << " = NULL;\n";
  }
  os << "  }\n";
  return success();
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

LogicalResult FunctionEmitter::emitGridPrepare(GridPrepareOp op) {
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  defineBuffer(op.getAux());
  os << llvm::formatv("  status = kan_grid_prepare_{0}({1}, {2}, {3}, {4}, "
                      "{5});\n  if (status != KAN_OK) goto cleanup;\n",
                      sfx(), gT.getDimSize(0),
                      gT.getDimSize(1) - 2 * order - 1, order,
                      name(op.getGrid()), name(op.getAux()));
  return success();
}

LogicalResult FunctionEmitter::emitSparseDirections(SparseDirectionsOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  int64_t width = op.getWidth();
  ArrayRef<int64_t> streams = op.getStreams();
  std::string seed = "(uint64_t)" + name(op.getSeed());
  std::string step = "(uint32_t)" + name(op.getStep());
  // Columns of W'_d: sparse ternary draws of Wb', C' and S' turned into
  // (output row, feature column, value) triples, O(non-zeros) work.
  double density = op.getDensity().convertToDouble();
  std::string cols = fresh("cols"), orow = fresh("orow"), vals = fresh("vals");
  std::string idx = fresh("idx"), sgn = fresh("sgn"), maxnz = fresh("maxnz");
  std::string rowptr = name(op.getRowptr()), ccols = name(op.getCols()),
              cvals = name(op.getVals());
  std::string mb = fresh("mb"), mc = fresh("mc"), ms = fresh("ms");
  buffers.push_back({cols, "uint32_t"});
  buffers.push_back({orow, "uint32_t"});
  buffers.push_back({vals, T()});
  buffers.push_back({idx, "uint32_t"});
  buffers.push_back({sgn, "int32_t"});
  buffers.push_back({rowptr, "uint32_t"});
  buffers.push_back({ccols, "uint32_t"});
  buffers.push_back({cvals, T()});
  for (Value v : op.getResults())
    owned.insert(v);
  capacity[op.getCols()] = maxnz;
  capacity[op.getVals()] = maxnz;
  os << llvm::formatv(
      "  size_t {0} = {3} >= 0 ? kan_sparse_count({4}, {5}) : 0;\n"
      "  size_t {1} = {6} >= 0 ? kan_sparse_count({7}, {5}) : 0;\n"
      "  size_t {2} = {8} >= 0 ? kan_sparse_count({4}, {5}) : 0;\n",
      mb, mc, ms, streams[0], out * in, exact(density), streams[1],
      out * in * gk, streams[2]);
  os << llvm::formatv("  size_t {0} = {1} + {2} + {3} * {4};\n"
                      "  size_t {5}m = {1} > {2} ? {1} : {2};\n"
                      "  if ({3} > {5}m) {5}m = {3};\n",
                      maxnz, mb, mc, ms, gk, maxnz);
  // Per direction: the triples of W'_d (built in per-thread scratch), then
  // grouped by output row (CSR) for the tangent kernel. Directions are
  // independent: threads (OpenMP, when compiled with it) take them.
  os << llvm::formatv(
      "  {0} = (uint32_t *)malloc(sizeof(uint32_t) * ({1} + 1) * "
      "(size_t)kan_threads());\n"
      "  {3} = (uint32_t *)malloc(sizeof(uint32_t) * ({1} + 1) * "
      "(size_t)kan_threads());\n"
      "  {4} = ({5} *)malloc(sizeof({5}) * ({1} + 1) * "
      "(size_t)kan_threads());\n"
      "  {7} = (uint32_t *)malloc(sizeof(uint32_t) * ({1}m + 1) * "
      "(size_t)kan_threads());\n"
      "  {8} = (int32_t *)malloc(sizeof(int32_t) * ({1}m + 1) * "
      "(size_t)kan_threads());\n"
      "  {9} = (uint32_t *)malloc(sizeof(uint32_t) * {2} * {10});\n"
      "  {11} = (uint32_t *)malloc(sizeof(uint32_t) * {2} * ({1} + 1));\n"
      "  {12} = ({5} *)malloc(sizeof({5}) * {2} * ({1} + 1));\n"
      "  if (!{0} || !{3} || !{4} || !{7} || !{8} || !{9} || !{11} "
      "|| !{12}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
      cols, maxnz, width, orow, vals, T(), "", idx, sgn, rowptr, out + 1,
      ccols, cvals);
  std::string cw = name(op.getSplineWeight());
  std::string s = op.getSplineScaler() ? name(op.getSplineScaler()) : "";
  os << "  { int gerr = 0;\n"
     << kParallelFor << "  for (int64_t d = 0; d < " << width << "; ++d) {\n"
     << "    size_t th = (size_t)kan_thread(), e, q = 0;\n"
     << "    const uint32_t dir = (uint32_t)(d + " << op.getFirstDirection()
     << ");\n"
     << "    kan_status st;\n"
     << llvm::formatv(
            "    uint32_t *c = {0} + th * ({4} + 1), *o = {1} + th * ({4} + "
            "1);\n"
            "    {2} *v = {3} + th * ({4} + 1);\n"
            "    uint32_t *ix = {5} + th * ({4}m + 1);\n"
            "    int32_t *sg = {6} + th * ({4}m + 1);\n",
            cols, orow, T(), vals, maxnz, idx, sgn);
  if (streams[0] >= 0)
    os << llvm::formatv(
        "    st = kan_perturb_sparse({0}, {1}, dir, {2}, {3}, "
        "{4}, {5}, {6});\n"
        "    if (st != KAN_OK) {{ gerr = (int)st; continue; }\n"
        "    for (e = 0; e < {4}; ++e, ++q) {{ o[q] = {5}[e] / {7}; c[q] = "
        "{5}[e] % {7}; v[q] = ({8}){6}[e]; }\n",
        seed, step, streams[0], out * in, mb, "ix", "sg", in, T());
  if (streams[1] >= 0)
    os << llvm::formatv(
        "    st = kan_perturb_sparse({0}, {1}, dir, {2}, {3}, "
        "{4}, {5}, {6});\n"
        "    if (st != KAN_OK) {{ gerr = (int)st; continue; }\n"
        "    for (e = 0; e < {4}; ++e, ++q) {{\n"
        "      uint32_t f = {5}[e], rem = f % {7}u;\n"
        "      o[q] = f / {7}u; c[q] = {8}u + rem;\n"
        "      v[q] = ({9}){6}[e]{10};\n"
        "    }\n",
        seed, step, streams[1], out * in * gk, mc, "ix", "sg", in * gk, in,
        T(),
        s.empty() ? std::string()
                  : " * " + s + "[o[q] * " + std::to_string(in) +
                        "u + rem / " + std::to_string(gk) + "u]");
  if (streams[2] >= 0)
    os << llvm::formatv(
        "    st = kan_perturb_sparse({0}, {1}, dir, {2}, {3}, "
        "{4}, {5}, {6});\n"
        "    if (st != KAN_OK) {{ gerr = (int)st; continue; }\n"
        "    for (e = 0; e < {4}; ++e) {{\n"
        "      uint32_t oi = {5}[e], j;\n"
        "      for (j = 0; j < {7}; ++j, ++q) {{ o[q] = oi / {8}; c[q] = {8} "
        "+ (oi % {8}) * {7} + j; v[q] = ({9}){6}[e] * {10}[oi * {7} + j]; }\n"
        "    }\n",
        seed, step, streams[2], out * in, ms, "ix", "sg", gk, in, T(), cw);
  os << llvm::formatv(
            "    kan_coo_to_csr_{0}(q, o, c, v, {1}, {2} + d * {3}, {4} "
            "+ d * {5}, {6} + d * {5});\n",
            sfx(), out, rowptr, out + 1, ccols, maxnz, cvals)
     << "  }\n"
     << "  if (gerr) { status = (kan_status)gerr; goto cleanup; }\n  }\n";
  for (const std::string &b : {cols, orow, vals, idx, sgn})
    os << "  free(" << b << "); " << b << " = NULL;\n";
  return success();
}

LogicalResult FunctionEmitter::emitPackWeights(PackWeightsOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  if (!op.getLayout())
    return op.emitOpError() << "needs its layout from kan-prepare-cpu";
  defineBuffer(op.getWeights());
  // G and k enter the kernels only through G + k here.
  if (*op.getLayout() == WeightLayout::span) {
    os << llvm::formatv("  kan_pack_weights_span_{0}({1}, {2}, {3}, 0, {4}, {5}, "
                        "{6}, {7}, {1});\n",
                        sfx(), out, in, gk, name(op.getBaseWeight()),
                        name(op.getSplineWeight()), opt(op.getSplineScaler()),
                        name(op.getWeights()));
    return success();
  }
  os << llvm::formatv("  kan_pack_weights_{0}({1}, {2}, {3}, 0, {4}, {5}, {6}, "
                      "{7}, {8});\n",
                      sfx(), out, in, gk, name(op.getBaseWeight()),
                      name(op.getSplineWeight()), opt(op.getSplineScaler()),
                      name(op.getWeights()), in * (gk + 1));
  return success();
}

LogicalResult FunctionEmitter::emitPackWeightsTangent(PackWeightsTangentOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  int64_t width = op.getWeightsTangent().getType().getDimSize(0);
  int64_t kk = in * (gk + 1);
  defineBuffer(op.getWeightsTangent());
  auto slice = [&](Value v, int64_t size) -> std::string {
    if (!v)
      return "NULL";
    return name(v) + " + d * " + std::to_string(size);
  };
  os << "  for (int64_t d = 0; d < " << width << "; ++d)\n"
     << llvm::formatv(
            "    kan_pack_weights_jvp_{0}({1}, {2}, {3}, 0, {4}, {5}, "
            "{6}, {7}, {8}, {9} + d * {10}, {11});\n",
            sfx(), out, in, gk, name(op.getSplineWeight()),
            opt(op.getSplineScaler()),
            slice(op.getBaseWeightTangent(), out * in),
            slice(op.getSplineWeightTangent(), out * in * gk),
            slice(op.getSplineScalerTangent(), out * in),
            name(op.getWeightsTangent()), out * kk, kk);
  return success();
}

LogicalResult FunctionEmitter::emitSpanWeights(SpanWeightsOp op) {
  auto wT = op.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1), in = op.getInputs();
  defineBuffer(op.getResult());
  os << llvm::formatv("  kan_weights_dense_to_span_{0}({1}, {2}, {3}, 0, {4}, "
                      "{5}, {6}, {1});\n",
                      sfx(), out, in, kk / in - 1, name(op.getWeights()), kk,
                      name(op.getResult()));
  return success();
}

LogicalResult FunctionEmitter::emitTileScratch(Operation *op, int64_t tr) {
  TileScratch &s = scratch[op];
  s.rows = tr;
  auto alloc = [&](std::string &buf, StringRef base, int64_t perThread) {
    buf = fresh(base);
    buffers.push_back({buf, T()});
    os << llvm::formatv(
        "  {0} = ({1} *)malloc(sizeof({1}) * {2} * (size_t)kan_threads());\n"
        "  if (!{0}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
        buf, T(), perThread);
  };
  if (auto g = dyn_cast<FeatureGemmOp>(op)) {
    auto gT = g.getGrid().getType();
    int64_t order = g.getOrder(), g0 = gT.getDimSize(1) - 2 * order - 1;
    if (!g.getKernel())
      return g.emitOpError() << "needs its kernel from kan-prepare-cpu";
    if (*g.getKernel() == ForwardKernel::span) {
      s.work = fresh("work");
      buffers.push_back({s.work, "unsigned char"});
      os << llvm::formatv(
          "  size_t {4}sz = kan_layer_forward_work_size_{0}({1}, {2}, {3});\n"
          "  {4} = (unsigned char *)malloc({4}sz * (size_t)kan_threads());\n"
          "  if (!{4}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
          sfx(), tr, g0, order, s.work);
      return success();
    }
    alloc(s.panel, "panel", tr * g.getWeights().getType().getDimSize(1));
    return success();
  }
  auto j = cast<FeatureGemmJvpOp>(op);
  if (!j.getInputTangentKernel() || !j.getWeightTangentKernel())
    return j.emitOpError() << "needs its kernels from kan-prepare-cpu";
  int64_t gk = j.getSplineWeight().getType().getDimSize(2);
  auto wT = j.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  int64_t in = j.getGrid().getType().getDimSize(0), width = j.getWidth();
  alloc(s.panel, "panel", tr * kk);
  // Jacobian rows padded to a multiple of 8 outputs (full vector blocks).
  int64_t ldj = (out + 7) / 8 * 8;
  if (*j.getInputTangentKernel() == InputTangentKernel::jacobian ||
      *j.getInputTangentKernel() == InputTangentKernel::jacobian_multi)
    alloc(s.jac, "jac", tr * in * ldj);
  else if (*j.getInputTangentKernel() == InputTangentKernel::panel)
    alloc(s.tpanel, "tpanel", width * tr * kk);
  if (*j.getWeightTangentKernel() == WeightTangentKernel::regenerate) {
    // Dense directions are regenerated per tile into one O x K buffer; the
    // n x |W| perturbation never exists.
    alloc(s.wt, "wt", out * kk);
    alloc(s.tb, "tb", out * in);
    alloc(s.tc, "tc", out * in * gk);
    alloc(s.ts, "ts", out * in);
  }
  return success();
}

LogicalResult FunctionEmitter::emitFeatureGemm(FeatureGemmOp op) {
  auto it = scratch.find(op);
  if (it == scratch.end() || !op.getAux())
    return op.emitOpError()
           << "must be tiled by kan-tile-and-fuse before emission";
  TileScratch &s = it->second;
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  int64_t in = gT.getDimSize(0), g = gT.getDimSize(1) - 2 * order - 1;
  auto wT = op.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  View x = view(op.getInput()), y = view(op.getOutput());
  std::string act =
      op.getAct() == Activation::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY";
  if (!s.work.empty()) {
    // Span-local: no feature matrix, the basis window of each input only.
    os << llvm::formatv(
        "    kan_layer_forward_span_{0}({1}, {2}, {3}, {4}, {5}, {6}, {7}, "
        "{8}, {9}, {10}, {11}, {3}, {12} + th * {12}sz, {13}, {14});\n",
        sfx(), x.sizes[0], in, out, g, order, act, x.ptr, x.strides[0],
        name(op.getGrid()), name(op.getAux()), name(op.getWeights()), s.work,
        y.ptr, y.strides[0]);
    return success();
  }
  os << llvm::formatv(
      "    {0} *pt = {1} + th * {2};\n"
      "    kan_pack_features_{3}({4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, "
      "{12}, pt, {13});\n"
      "    kan_gemm_nt_{3}({4}, {14}, {13}, 1, pt, {13}, {15}, {13}, 0, {16}, "
      "{17});\n",
      T(), s.panel, s.rows * kk, sfx(), x.sizes[0], in, g, order, act, x.ptr,
      x.strides[0], name(op.getGrid()), name(op.getAux()), kk, out,
      name(op.getWeights()), y.ptr, y.strides[0]);
  return success();
}

LogicalResult FunctionEmitter::emitFeatureGemmJvp(FeatureGemmJvpOp op) {
  auto it = scratch.find(op);
  if (it == scratch.end() || !op.getAux())
    return op.emitOpError()
           << "must be tiled by kan-tile-and-fuse before emission";
  TileScratch &s = it->second;
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  int64_t in = gT.getDimSize(0), g = gT.getDimSize(1) - 2 * order - 1;
  int64_t gk = g + order;
  auto wT = op.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  int64_t width = op.getWidth(), tr = s.rows;
  std::string act =
      op.getAct() == Activation::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY";
  View x = view(op.getInput()), y = view(op.getOutput()),
       yt = view(op.getOutputTangent());
  std::string m = x.sizes[0], w = name(op.getWeights());
  std::string grid = name(op.getGrid()), aux = name(op.getAux());
  InputTangentKernel itk = *op.getInputTangentKernel();
  WeightTangentKernel wtk = *op.getWeightTangentKernel();
  bool multiJac = itk == InputTangentKernel::jacobian_multi;
  bool useJac = itk == InputTangentKernel::jacobian || multiJac;
  bool hasXt = itk != InputTangentKernel::none;
  View xt = hasXt ? view(op.getInputTangent()) : View();
  int64_t ldj = (out + 7) / 8 * 8;
  std::optional<Distribution> dist = op.getDist();
  bool regenerate = wtk == WeightTangentKernel::regenerate;
  bool sparse = wtk == WeightTangentKernel::sparse_rows;

  os << llvm::formatv("    {0} *pt = {1} + th * {2};\n", T(), s.panel, tr * kk);
  if (useJac)
    os << llvm::formatv("    {0} *jt = {1} + th * {2};\n", T(), s.jac,
                        tr * in * ldj);
  else if (hasXt)
    os << llvm::formatv("    {0} *tpt = {1} + th * {2};\n", T(), s.tpanel,
                        width * tr * kk);
  if (regenerate)
    os << llvm::formatv("    {0} *wtt = {1} + th * {2}, *tbt = {3} + th * {4}, "
                        "*tct = {5} + th * {6}, *tst = {7} + th * {4};\n",
                        T(), s.wt, out * kk, s.tb, out * in, s.tc,
                        out * in * gk, s.ts);
  if (itk == InputTangentKernel::panel)
    os << llvm::formatv(
        "    kan_pack_features_jvp_{0}({1}, {2}, {3}, {4}, {5}, {6}, {7}, "
        "{8}, {9}, {10}, (size_t)({11}), {12}, {13}, pt, {14}, tpt, {14}, "
        "(size_t){15} * {14});\n",
        sfx(), m, in, g, order, act, x.ptr, x.strides[0], width, xt.ptr,
        xt.strides[1], xt.strides[0], grid, aux, kk, tr);
  else
    os << llvm::formatv("    kan_pack_features_{0}({1}, {2}, {3}, {4}, {5}, "
                        "{6}, {7}, {8}, {9}, pt, {10});\n",
                        sfx(), m, in, g, order, act, x.ptr, x.strides[0], grid,
                        aux, kk);
  os << llvm::formatv("    kan_gemm_nt_{0}({1}, {2}, {3}, 1, pt, {3}, {4}, {3}, "
                      "0, {5}, {6});\n",
                      sfx(), m, out, kk, w, y.ptr, y.strides[0]);
  if (useJac)
    os << llvm::formatv(
        "    kan_layer_jacobian_span_{0}({1}, {2}, {3}, {4}, {5}, {6}, {7}, "
        "{8}, {9}, {10}, {11}, {3}, jt, {12});\n",
        sfx(), m, in, out, g, order, act, x.ptr, x.strides[0], grid, aux,
        name(op.getSpanWeights()), ldj);
  if (multiJac)
    // Every direction's J x'_d before the loop, row by row.
    os << llvm::formatv("    kan_jacobian_apply_multi_{0}({1}, {2}, {3}, {4}, "
                        "jt, {5}, {6}, {7}, (size_t)({8}), {9}, {10}, "
                        "(size_t)({11}));\n",
                        sfx(), m, in, out, width, ldj, xt.ptr, xt.strides[1],
                        xt.strides[0], yt.ptr, yt.strides[1], yt.strides[0]);
  // Per-direction work left: an input tangent not applied above, or a
  // weight tangent other than the sparse one.
  bool perDirection =
      !multiJac || regenerate || wtk == WeightTangentKernel::dense;
  if (perDirection)
    os << "    for (int64_t d = 0; d < " << width << "; ++d) {\n"
       << llvm::formatv("      {0} *ytd = {1} + d * ({2});\n", T(), yt.ptr,
                        yt.strides[0]);
  if (useJac && !multiJac)
    os << llvm::formatv("      kan_jacobian_apply_{0}({1}, {2}, {3}, jt, {4}, "
                        "{5} + d * ({6}), {7}, ytd, {8});\n",
                        sfx(), m, in, out, ldj, xt.ptr, xt.strides[0],
                        xt.strides[1], yt.strides[1]);
  else if (hasXt && !useJac)
    os << llvm::formatv("      kan_gemm_nt_{0}({1}, {2}, {3}, 1, tpt + d * {4}, "
                        "{3}, {5}, {3}, 0, ytd, {6});\n",
                        sfx(), m, out, kk, tr * kk, w, yt.strides[1]);
  else if (!hasXt)
    os << "      memset(ytd, 0, sizeof(" << T() << ") * " << m << " * " << out
       << ");\n";
  if (regenerate) {
    // Directions first .. first + width - 1 of the step (one rank's slice
    // in a direction-parallel run).
    int64_t first = op.getFirstDirection();
    ArrayRef<int64_t> streams = *op.getStreams();
    std::string seed = "(uint64_t)" + name(op.getSeed());
    std::string step = "(uint32_t)" + name(op.getStep());
    auto draw = [&](int64_t stream, const std::string &buf, int64_t size) {
      if (stream < 0)
        return;
      os << llvm::formatv(
          "      {{ kan_status st = kan_perturb_dense_{0}({1}, {2}, "
          "(uint32_t)(d + {7}), "
          "{3}, {4}, {5}, {6});\n        if (st != KAN_OK) terr = (int)st; }\n",
          sfx(), seed, step, stream,
          *dist == Distribution::normal ? "KAN_DIST_NORMAL"
                                        : "KAN_DIST_RADEMACHER",
          size, buf, first);
    };
    draw(streams[0], "tbt", out * in);
    draw(streams[1], "tct", out * in * gk);
    draw(streams[2], "tst", out * in);
    os << llvm::formatv(
        "      kan_pack_weights_jvp_{0}({1}, {2}, {3}, 0, {4}, {5}, {6}, {7}, "
        "{8}, {9}, {10});\n",
        sfx(), out, in, gk, name(op.getSplineWeight()),
        opt(op.getSplineScaler()), streams[0] >= 0 ? "tbt" : "NULL",
        streams[1] >= 0 ? "tct" : "NULL", streams[2] >= 0 ? "tst" : "NULL",
        "wtt", kk);
    os << llvm::formatv("      kan_gemm_nt_{0}({1}, {2}, {3}, 1, pt, {3}, wtt, "
                        "{3}, 1, ytd, {4});\n",
                        sfx(), m, out, kk, yt.strides[1]);
  }
  if (wtk == WeightTangentKernel::dense)
    os << llvm::formatv(
        "      kan_gemm_nt_{0}({1}, {2}, {3}, 1, pt, {3}, {4} + d * {5}, {3}, 1, "
        "ytd, {6});\n",
        sfx(), m, out, kk, name(op.getWeightsTangent()), out * kk,
        yt.strides[1]);
  if (perDirection)
    os << "    }\n";
  // Sparse directions after the direction loop, all at once: each row of
  // the panel is then read from memory once rather than once per direction.
  if (sparse) {
    View rp = view(op.getCsrRowptr()), cc = view(op.getCsrCols()),
         cv = view(op.getCsrVals());
    os << llvm::formatv(
        "    kan_sparse_tangent_csr_multi_{0}({1}, pt, {2}, {3}, {4}, {5}, {6}, "
        "{7}, {8}, {9}, {10}, {11}, (size_t)({12}));\n",
        sfx(), m, kk, out, width, rp.ptr, rp.strides[0], cc.ptr, cv.ptr,
        cc.strides[0], yt.ptr, yt.strides[1], yt.strides[0]);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Perturbations, losses, updates
//===----------------------------------------------------------------------===//

LogicalResult FunctionEmitter::emitPerturb(PerturbOp op) {
  auto t = op.getType();
  int64_t width = t.getDimSize(0);
  int64_t size = t.getNumElements() / width;
  defineBuffer(op.getResult());
  std::string r = name(op.getResult());
  std::string seed = "(uint64_t)" + name(op.getSeed());
  std::string step = "(uint32_t)" + name(op.getStep());
  int64_t first = op.getFirstDirection();
  if (op.getDist() != Distribution::sparse_ternary) {
    os << "  for (int64_t d = 0; d < " << width << "; ++d) {\n"
       << llvm::formatv("    status = kan_perturb_dense_{0}({1}, {2}, "
                        "(uint32_t)(d + {3}), {4}, {5}, {6}, {7} + d * {6});\n",
                        sfx(), seed, step, first, op.getStream(),
                        op.getDist() == Distribution::normal
                            ? "KAN_DIST_NORMAL"
                            : "KAN_DIST_RADEMACHER",
                        size, r)
       << "    if (status != KAN_OK) goto cleanup;\n  }\n";
    return success();
  }
  // A sparse perturbation used as a plain tensor (not fused into a GEMM).
  std::string idx = fresh("idx"), sgn = fresh("sgn"), m = fresh("m");
  buffers.push_back({idx, "uint32_t"});
  buffers.push_back({sgn, "int32_t"});
  os << llvm::formatv(
      "  {{ size_t {0} = kan_sparse_count({1}, {2}), e;\n"
      "  {3} = (uint32_t *)malloc(sizeof(uint32_t) * {0});\n"
      "  {4} = (int32_t *)malloc(sizeof(int32_t) * {0});\n"
      "  if (!{3} || !{4}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n"
      "  memset({5}, 0, sizeof({6}) * {7});\n"
      "  for (int64_t d = 0; d < {8}; ++d) {{\n"
      "    status = kan_perturb_sparse({9}, {10}, (uint32_t)(d + {11}), {12}, "
      "{1}, {0}, {3}, {4});\n"
      "    if (status != KAN_OK) goto cleanup;\n"
      "    for (e = 0; e < {0}; ++e) {5}[d * {1} + {3}[e]] += ({6}){4}[e];\n"
      "  }\n"
      "  free({3}); {3} = NULL; free({4}); {4} = NULL; }\n",
      m, size, exact(op.getDensity()->convertToDouble()), idx, sgn, r, T(),
      t.getNumElements(), width, seed, step, first, op.getStream());
  return success();
}

LogicalResult FunctionEmitter::emitLoss(Operation *op, bool mse, bool jvp) {
  Value z = op->getOperand(0), target = op->getOperand(1);
  Value zt = jvp ? op->getOperand(2) : Value();
  Value alphas = jvp ? op->getResult(1) : Value();
  int64_t classes = cast<ShapedType>(z.getType()).getDimSize(1);
  int64_t width = jvp ? cast<ShapedType>(zt.getType()).getDimSize(0) : 0;
  std::string l = name(op->getResult(0));
  os << "  " << T() << " " << l << ";\n";
  if (alphas)
    defineBuffer(alphas);
  // One runtime kernel per loss (sums in double, kanrt/loss.h).
  os << llvm::formatv("  status = kan_loss_{0}_{1}({2}, {3}, {4}, {5}, {6}, "
                      "{7}, &{8}, {9});\n  if (status != KAN_OK) goto "
                      "cleanup;\n",
                      mse ? "mse" : "softmax_xent", sfx(), view(z).sizes[0],
                      classes, name(z), name(target), opt(zt), width, l,
                      opt(alphas));
  return success();
}

LogicalResult FunctionEmitter::emitCoefficients(UpdateCoefficientsOp op) {
  int64_t width = op.getAlphas().getType().getDimSize(0);
  defineBuffer(op.getCoefficients());
  std::string a = name(op.getAlphas()), c = name(op.getCoefficients());
  if (op.getRule() == UpdateRule::fg) {
    os << "  memcpy(" << c << ", " << a << ", sizeof(" << T() << ") * " << width
       << ");\n";
    return success();
  }
  // The runtime's median rule works on doubles.
  os << "  { double ad[" << width << "], td[" << width << "]; int64_t d;\n"
     << "  for (d = 0; d < " << width << "; ++d) ad[d] = (double)" << a
     << "[d];\n"
     << "  status = kan_ternary_coefficients(" << width << ", ad, td);\n"
     << "  if (status != KAN_OK) goto cleanup;\n"
     << "  for (d = 0; d < " << width << "; ++d) " << c << "[d] = (" << T()
     << ")td[d]; }\n";
  return success();
}

std::string FunctionEmitter::scaled(UpdateOp op) {
  return exact(op.getScale().convertToDouble()) + " * lr_scale";
}

LogicalResult FunctionEmitter::emitUpdate(UpdateOp op) {
  Value param = op.getParam();
  bool laterUse = llvm::any_of(param.getUsers(), [&](Operation *user) {
    return user != op && op->isBeforeInBlock(user);
  });
  int64_t size = op.getType().getNumElements();
  std::string p = name(param);
  if (laterUse || resultIndex.count(op.getResult())) {
    defineBuffer(op.getResult());
    // The caller may pass the parameter itself as the result buffer (an
    // update in place through the ABI): copying onto itself is undefined.
    os << "  if (" << name(op.getResult()) << " != " << p << ") memcpy("
       << name(op.getResult()) << ", " << p << ", sizeof(" << T() << ") * "
       << size << ");\n";
  } else {
    // In place: the old parameter is dead after its update.
    names[op.getResult()] = p;
    if (owned.contains(param)) {
      owned.remove(param);
      owned.insert(op.getResult());
    }
  }
  int64_t width = op.getCoefficients().getType().getDimSize(0);
  std::string r = name(op.getResult());
  os << "  { double cd[" << width << "]; int64_t d;\n"
     << "  for (d = 0; d < " << width << "; ++d) cd[d] = (double)"
     << name(op.getCoefficients()) << "[d];\n";
  std::string seed = "(uint64_t)" + name(op.getSeed());
  std::string step = "(uint32_t)" + name(op.getStep());
  if (op.getDist() == Distribution::sparse_ternary)
    os << llvm::formatv("  status = kan_update_sparse_{0}({1}, {2}, {3}, {4}, "
                        "{5}, {6}, cd, {7}, {8});\n",
                        sfx(), seed, step, width, op.getStream(), size,
                        exact(op.getDensity()->convertToDouble()),
                        scaled(op), r);
  else
    os << llvm::formatv("  status = kan_update_dense_{0}({1}, {2}, {3}, {4}, "
                        "{5}, {6}, cd, {7}, {8});\n",
                        sfx(), seed, step, width, op.getStream(),
                        op.getDist() == Distribution::normal
                            ? "KAN_DIST_NORMAL"
                            : "KAN_DIST_RADEMACHER",
                        size, scaled(op), r);
  os << "  if (status != KAN_OK) goto cleanup; }\n";
  return success();
}

LogicalResult FunctionEmitter::emitActivityOp(Operation *op) {
  auto check = [&] { os << "  if (status != KAN_OK) goto cleanup;\n"; };
  auto dims = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  if (auto p = dyn_cast<PerturbActivityOp>(op)) {
    defineBuffer(p.getResult());
    os << llvm::formatv(
        "  status = kan_perturb_activity_{0}((uint64_t){1}, (uint32_t){2}, "
        "{3}u, {4}u, {5}u, {6}, {7}, {8}, {9});\n",
        sfx(), name(p.getSeed()), name(p.getStep()), p.getFirstDirection(),
        p.getWidth(), p.getStream(),
        p.getDist() == Distribution::normal ? "KAN_DIST_NORMAL"
                                            : "KAN_DIST_RADEMACHER",
        view(p.getActivation()).sizes[0], dims(p.getActivation())[1],
        name(p.getResult()));
    check();
    return success();
  }
  if (auto e = dyn_cast<SoftmaxCrossEntropyExamplesJvpOp>(op)) {
    std::string l = name(e.getLoss());
    os << "  " << T() << " " << l << ";\n";
    defineBuffer(e.getLossTangent());
    defineBuffer(e.getExampleTangents());
    os << llvm::formatv(
        "  status = kan_loss_softmax_xent_examples_{0}({1}, {2}, {3}, {4}, "
        "{5}, {6}, &{7}, {8}, {9}, NULL);\n",
        sfx(), view(e.getLogits()).sizes[0], dims(e.getLogits())[1],
        name(e.getLogits()), name(e.getLabels()), name(e.getLogitsTangent()),
        dims(e.getLogitsTangent())[0], l, name(e.getLossTangent()),
        name(e.getExampleTangents()));
    check();
    return success();
  }
  if (auto g = dyn_cast<SoftmaxCrossEntropyGradOp>(op)) {
    defineBuffer(g.getGrad());
    os << llvm::formatv("  status = kan_loss_softmax_xent_examples_{0}({1}, "
                        "{2}, {3}, {4}, NULL, 0, NULL, NULL, NULL, {5});\n",
                        sfx(), view(g.getLogits()).sizes[0],
                        dims(g.getLogits())[1], name(g.getLogits()),
                        name(g.getLabels()), name(g.getGrad()));
    check();
    return success();
  }
  if (auto a = dyn_cast<ActivityEstimateOp>(op)) {
    defineBuffer(a.getEstimate());
    ArrayRef<int64_t> u = dims(a.getPerturbations());
    os << llvm::formatv(
        "  status = kan_activity_estimate_{0}({1}, {2}, {3}, {4}, {5}, {6});\n",
        sfx(), view(a.getPerturbations()).sizes[1], u[2], u[0],
        name(a.getExampleTangents()), name(a.getPerturbations()),
        name(a.getEstimate()));
    check();
    return success();
  }
  auto u = cast<ActivityUpdateOp>(op);
  bool gradient = u.getGradient();
  SmallVector<std::pair<Value, Value>> pairs{
      {u.getBaseWeight(), u.getNewBaseWeight()},
      {u.getSplineWeight(), u.getNewSplineWeight()}};
  if (u.getSplineScaler())
    pairs.push_back({u.getSplineScaler(), u.getNewSplineScaler()});
  // As kan.update: in place when the old value is dead afterwards, else in
  // the result's own buffer (gradient: always a buffer of its own).
  for (auto [param, res] : pairs) {
    bool laterUse = llvm::any_of(param.getUsers(), [&](Operation *user) {
      return user != op && op->isBeforeInBlock(user);
    });
    if (gradient || laterUse || resultIndex.count(res)) {
      defineBuffer(res);
      if (!gradient)
        os << "  if (" << name(res) << " != " << name(param) << ") memcpy("
           << name(res) << ", " << name(param) << ", sizeof(" << T()
           << ") * " << numel(param.getType()) << ");\n";
    } else {
      names[res] = name(param);
      if (owned.contains(param)) {
        owned.remove(param);
        owned.insert(res);
      }
    }
  }
  auto w = u.getBaseWeight().getType();
  int64_t k = u.getOrder();
  int64_t G = u.getGrid().getType().getDimSize(1) - 2 * k - 1;
  auto arg = [&](Value param, Value res) {
    return gradient ? name(param) : name(res);
  };
  os << llvm::formatv(
      "  status = kan_activity_update_{0}({1}, {2}, {3}, {4}, {5}, {6}, {7}, "
      "{8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16});\n",
      sfx(), view(u.getInput()).sizes[0], w.getDimSize(1), w.getDimSize(0), G,
      k, static_cast<int>(u.getAct()), name(u.getInput()), name(u.getGrid()),
      name(u.getLocalGrad()),
      gradient ? std::string("0.0")
               : exact(u.getScale().convertToDouble()) + " * lr_scale",
      arg(u.getBaseWeight(), u.getNewBaseWeight()),
      arg(u.getSplineWeight(), u.getNewSplineWeight()),
      u.getSplineScaler() ? arg(u.getSplineScaler(), u.getNewSplineScaler())
                          : std::string("NULL"),
      gradient ? name(u.getNewBaseWeight()) : std::string("NULL"),
      gradient ? name(u.getNewSplineWeight()) : std::string("NULL"),
      gradient && u.getSplineScaler() ? name(u.getNewSplineScaler())
                                      : std::string("NULL"));
  check();
  return success();
}

LogicalResult FunctionEmitter::emitElementwise(Operation *op) {
  Value res = op->getResult(0);
  auto shaped = dyn_cast<ShapedType>(res.getType());
  auto expr = [&](const std::string &i) -> FailureOr<std::string> {
    auto at = [&](Value v) {
      return isa<ShapedType>(v.getType()) ? name(v) + "[" + i + "]" : name(v);
    };
    if (isa<arith::AddFOp>(op))
      return at(op->getOperand(0)) + " + " + at(op->getOperand(1));
    if (isa<arith::SubFOp>(op))
      return at(op->getOperand(0)) + " - " + at(op->getOperand(1));
    if (isa<arith::MulFOp>(op))
      return at(op->getOperand(0)) + " * " + at(op->getOperand(1));
    if (isa<arith::NegFOp>(op))
      return "-" + at(op->getOperand(0));
    return failure();
  };
  if (!shaped) {
    FailureOr<std::string> e = expr("0");
    if (failed(e))
      return op->emitOpError() << "is not supported by the CPU emitter";
    os << "  " << T() << " " << name(res) << " = " << *e << ";\n";
    return success();
  }
  defineBuffer(res);
  FailureOr<std::string> e = expr("e");
  if (failed(e))
    return op->emitOpError() << "is not supported by the CPU emitter";
  os << "  for (int64_t e = 0; e < " << numel(res.getType()) << "; ++e) "
     << name(res) << "[e] = " << *e << ";\n";
  return success();
}

LogicalResult FunctionEmitter::emitSymbolicEdges(Operation *op) {
  if (f32)
    return op->emitOpError() << "supports f64 models only";
  auto jvp = dyn_cast<SymbolicEdgesJvpOp>(op);
  ArrayAttr functions = jvp ? jvp.getFunctions()
                            : cast<SymbolicEdgesOp>(op).getFunctions();
  Value x = op->getOperand(0), y = op->getOperand(1), p = op->getOperand(2);
  auto xT = cast<ShapedType>(x.getType());
  int64_t in = xT.getDimSize(1),
          out = cast<ShapedType>(y.getType()).getDimSize(1);
  std::string rows = ShapedType::isDynamic(xT.getDimSize(0))
                         ? "n"
                         : std::to_string(xT.getDimSize(0));
  std::string fns = fresh("fns");
  os << "  { static const char *const " << fns << "[] = {";
  for (auto [e, a] : llvm::enumerate(functions)) {
    // Library names (checked by the verifier) need no escaping.
    os << (e ? ", " : "") << "\"" << cast<StringAttr>(a).getValue() << "\"";
  }
  os << "};\n";
  for (Value r : op->getResults())
    defineBuffer(r);
  if (jvp)
    os << llvm::formatv(
        "  status = kan_symbolic_edges_jvp_f64({0}, {1}, {2}, {3}, {4}, {5}, "
        "{6}, {7}, {8}, {9}, {10}, {11}, {12});\n",
        rows, in, out, jvp.getWidth(), fns, name(x), name(y), name(p),
        opt(jvp.getInputTangent()), opt(jvp.getLayerOutputTangent()),
        opt(jvp.getParamsTangent()), name(jvp.getOutput()),
        name(jvp.getOutputTangent()));
  else
    os << llvm::formatv("  status = kan_symbolic_edges_f64({0}, {1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7});\n",
                        rows, in, out, fns, name(x), name(y), name(p),
                        name(op->getResult(0)));
  os << "  if (status != KAN_OK) goto cleanup; }\n";
  return success();
}

LogicalResult FunctionEmitter::emitReturn(func::ReturnOp op) {
  for (auto [i, v] : llvm::enumerate(op.getOperands())) {
    std::string r = "res" + std::to_string(i);
    if (!isa<ShapedType>(v.getType())) {
      os << "  *" << r << " = " << name(v) << ";\n";
      continue;
    }
    if (name(v) == r)
      continue;
    os << "  if (" << r << " != " << name(v) << ") memcpy(" << r << ", "
       << name(v) << ", sizeof(" << T() << ") * " << numel(v.getType())
       << ");\n";
  }
  return success();
}

LogicalResult FunctionEmitter::emitOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<PackWeightsOp>([&](auto o) { return emitPackWeights(o); })
      .Case<PackWeightsTangentOp>(
          [&](auto o) { return emitPackWeightsTangent(o); })
      .Case<FeatureGemmOp>([&](auto o) { return emitFeatureGemm(o); })
      .Case<FeatureGemmJvpOp>([&](auto o) { return emitFeatureGemmJvp(o); })
      .Case<PerturbOp>([&](auto o) { return emitPerturb(o); })
      .Case<MseOp>([&](auto o) { return emitLoss(o, true, false); })
      .Case<SoftmaxCrossEntropyOp>(
          [&](auto o) { return emitLoss(o, false, false); })
      .Case<MseJvpOp>([&](auto o) { return emitLoss(o, true, true); })
      .Case<SoftmaxCrossEntropyJvpOp>(
          [&](auto o) { return emitLoss(o, false, true); })
      .Case<UpdateCoefficientsOp>([&](auto o) { return emitCoefficients(o); })
      .Case<UpdateOp>([&](auto o) { return emitUpdate(o); })
      .Case<PerturbActivityOp, SoftmaxCrossEntropyExamplesJvpOp,
            SoftmaxCrossEntropyGradOp, ActivityEstimateOp, ActivityUpdateOp>(
          [&](Operation *o) { return emitActivityOp(o); })
      .Case<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::NegFOp>(
          [&](Operation *o) { return emitElementwise(o); })
      .Case<arith::ConstantOp>([&](arith::ConstantOp c) -> LogicalResult {
        if (c.getType().isIndex()) {
          names[c.getResult()] =
              std::to_string(cast<IntegerAttr>(c.getValue()).getInt());
          return success();
        }
        auto f = dyn_cast<FloatAttr>(c.getValue());
        if (!f)
          return c.emitOpError()
                 << "only scalar floating-point constants are supported by "
                    "the CPU emitter";
        os << llvm::formatv("  {0} {1} = {2};\n", T(), name(c.getResult()),
                            exact(f.getValueAsDouble()));
        return success();
      })
      .Case<tensor::SplatOp>([&](tensor::SplatOp s) -> LogicalResult {
        defineBuffer(s.getResult());
        os << "  for (int64_t e = 0; e < " << numel(s.getType()) << "; ++e) "
           << name(s.getResult()) << "[e] = " << name(s.getInput()) << ";\n";
        return success();
      })
      .Case<tensor::DimOp>([&](tensor::DimOp d) -> LogicalResult {
        // Only the batch dimension is dynamic.
        std::optional<int64_t> i = d.getConstantIndex();
        auto t = cast<ShapedType>(d.getSource().getType());
        if (!i || *i >= t.getRank())
          return d.emitOpError() << "needs a constant dimension index";
        int64_t size = t.getDimSize(*i);
        names[d.getResult()] =
            ShapedType::isDynamic(size) ? "n" : std::to_string(size);
        return success();
      })
      .Case<tensor::EmptyOp>([&](tensor::EmptyOp e) -> LogicalResult {
        // The initial value of a row-tile loop: the loop result holds the
        // buffer.
        if (!llvm::all_of(e->getUsers(),
                          [](Operation *u) { return isa<scf::ForallOp>(u); }))
          return e.emitOpError()
                 << "is supported by the CPU emitter only as the shared "
                    "output of a row-tile loop";
        return success();
      })
      .Case<tensor::ExtractSliceOp>([&](tensor::ExtractSliceOp s) {
        return defineSlice(s, s.getResult(), s.getSource(),
                           s.getMixedOffsets(), s.getMixedSizes(),
                           s.getMixedStrides());
      })
      .Case<scf::ForallOp>([&](auto o) { return emitForall(o); })
      .Case<affine::AffineMinOp>([&](auto o) { return emitAffineMin(o); })
      .Case<GridPrepareOp>([&](auto o) { return emitGridPrepare(o); })
      .Case<SpanWeightsOp>([&](auto o) { return emitSpanWeights(o); })
      .Case<SparseDirectionsOp>(
          [&](auto o) { return emitSparseDirections(o); })
      .Case<SymbolicEdgesOp, SymbolicEdgesJvpOp>(
          [&](Operation *o) { return emitSymbolicEdges(o); })
      .Case<LayerOp, LayerJvpOp>([&](Operation *o) -> LogicalResult {
        return o->emitOpError()
               << "must be lowered by kan-lower-to-gemm before emission";
      })
      .Default([&](Operation *o) -> LogicalResult {
        return o->emitOpError() << "is not supported by the CPU emitter";
      });
}

LogicalResult FunctionEmitter::emit() {
  FailureOr<bool> is32 = isF32(func);
  if (failed(is32))
    return failure();
  f32 = *is32;
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the CPU emitter needs straight-line functions";
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // A value returned from the function is computed straight into the
  // caller's buffer unless it is an argument or returned twice.
  for (auto [i, v] : llvm::enumerate(ret.getOperands()))
    if (!isa<BlockArgument>(v) && !resultIndex.count(v))
      resultIndex[v] = i;

  // Signature: arguments, the batch size, then result pointers.
  std::string sig;
  llvm::raw_string_ostream s(sig);
  s << "static int " << func.getSymName() << "_impl(";
  for (BlockArgument arg : body.getArguments()) {
    std::string n = "a" + std::to_string(arg.getArgNumber());
    names[arg] = n;
    Type t = arg.getType();
    Type e = getElementTypeOrSelf(t);
    if (isa<ShapedType>(t))
      s << (isa<FloatType>(e) ? T() : "int64_t") << " *" << n;
    else if (isa<FloatType>(e))
      s << T() << " " << n;
    else
      s << "int64_t " << n;
    s << ", ";
  }
  s << "int64_t n";
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    s << ", " << T() << " *res" << i;
  // A run-time factor on every update's compiled scale (a learning-rate
  // schedule without recompiling); 1.0 leaves the scale bit for bit.
  hasUpdates = !func.getOps<UpdateOp>().empty() ||
               llvm::any_of(func.getOps<ActivityUpdateOp>(),
                            [](ActivityUpdateOp u) { return !u.getGradient(); });
  if (hasUpdates)
    s << ", double lr_scale";
  s << ")";

  // The memory plan: every slot allocated once for the whole call.
  if (auto plan = func->getAttrOfType<DenseI64ArrayAttr>("kan.memory_plan")) {
    for (int64_t i = 0; i + 1 < (int64_t)plan.size(); i += 2) {
      std::string slot = "slot" + std::to_string(i / 2);
      buffers.push_back({slot, T()});
      os << llvm::formatv("  {0} = ({1} *)malloc(sizeof({1}) * ((size_t){2} * "
                          "(size_t)n + {3}) + 1);\n"
                          "  if (!{0}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto "
                          "cleanup; }\n",
                          slot, T(), plan[i], plan[i + 1]);
    }
  }
  for (Operation &op : body.without_terminator()) {
    if (failed(emitOp(&op)))
      return failure();
    releaseDeadOperands(&op);
  }
  if (failed(emitReturn(ret)))
    return failure();

  out << sig << " {\n  kan_status status = KAN_OK;\n";
  for (auto &[b, type] : buffers)
    out << "  " << type << " *" << b << " = NULL;\n";
  out << "  (void)n;\n" << bodyText << "cleanup:\n";
  for (auto &[b, type] : buffers)
    out << "  free(" << b << ");\n";
  out << "  return (int)status;\n}\n\n";
  return success();
}

//===----------------------------------------------------------------------===//
// Module: the exported C ABI
//===----------------------------------------------------------------------===//

LogicalResult mlir::kan::emitCPUSource(ModuleOp module,
                                       llvm::raw_ostream &source,
                                       llvm::raw_ostream &header,
                                       llvm::StringRef prefix) {
  auto model = module.lookupSymbol<func::FuncOp>("model");
  if (!model && (module.lookupSymbol<emitc::FuncOp>("formula") ||
                 module.lookupSymbol<emitc::FuncOp>("formula_1")))
    return emitFormulaSource(module, source, header, prefix);
  if (!model)
    return module.emitError() << "the CPU target needs a @model function";
  FailureOr<bool> f32 = FunctionEmitter::isF32(model);
  if (failed(f32))
    return failure();
  std::string T = *f32 ? "float" : "double";
  unsigned numParams = model.getNumArguments() - 1;
  std::string guard = (prefix.upper() + "MODEL_H");

  // Parameter names follow efficient-kan's state_dict.
  std::vector<std::string> paramNames;
  std::vector<int64_t> paramNumel;
  {
    unsigned layer = 0, slot = 0;
    bool scaler = false;
    // The layers are in GEMM form by now: the scaler shows in pack_weights.
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
  int64_t inputs = cast<ShapedType>(model.getArgumentTypes()[0]).getDimSize(1);
  int64_t outputs = cast<ShapedType>(model.getResultTypes()[0]).getDimSize(1);

  header << "/* Generated by kan-translate --target=cpu. Do not edit. */\n"
         << "#ifndef " << guard << "\n#define " << guard << "\n\n"
         << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n"
         << "#endif\n\n"
         << "typedef " << T << " " << prefix << "real;\n"
         << "#define " << prefix.upper() << "NUM_PARAMS " << numParams << "\n"
         << "#define " << prefix.upper() << "NUM_INPUTS " << inputs << "\n"
         << "#define " << prefix.upper() << "NUM_OUTPUTS " << outputs << "\n"
         << "/** efficient-kan state_dict names and element counts of the "
            "parameters, in the order of the params arrays. */\n"
         << "extern const char *const " << prefix << "param_names[" << numParams
         << "];\n"
         << "extern const int64_t " << prefix << "param_numel[" << numParams
         << "];\n\n";
  source << "/* Generated by kan-translate --target=cpu. Do not edit. */\n"
         << "#include \"" << prefix << "model.h\"\n"
         << "#include <kanrt/kanrt.h>\n#include <math.h>\n#include <stdlib.h>\n"
         << "#include <string.h>\n\n"
         << "#ifdef _OPENMP\n#include <omp.h>\n"
         << "static int kan_threads(void) { return omp_get_max_threads(); }\n"
         << "static int kan_thread(void) { return omp_get_thread_num(); }\n"
         << "#else\n"
         << "static int kan_threads(void) { return 1; }\n"
         << "static int kan_thread(void) { return 0; }\n"
         << "#endif\n\n"
         << "int " << prefix << "set_threads(int n) {\n"
         << "#ifdef _OPENMP\n  if (n > 0) omp_set_num_threads(n);\n"
         << "#else\n  (void)n;\n#endif\n  return kan_threads();\n}\n\n"
         << "const char *const " << prefix << "param_names[" << numParams
         << "] = {";
  for (unsigned i = 0; i < numParams; ++i)
    source << (i ? ", " : "") << "\"" << paramNames[i] << "\"";
  source << "};\nconst int64_t " << prefix << "param_numel[" << numParams
         << "] = {";
  for (unsigned i = 0; i < numParams; ++i)
    source << (i ? ", " : "") << paramNumel[i];
  source << "};\n\n";

  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    FunctionEmitter emitter(func, source);
    if (failed(emitter.emit()))
      return failure();
  }

  auto params = [&](StringRef array) {
    std::string s;
    for (unsigned i = 0; i < numParams; ++i)
      s += ", " + array.str() + "[" + std::to_string(i) + "]";
    return s;
  };
  header << "/** Threads for the row tiles when the file is compiled with "
            "OpenMP (-fopenmp); returns the number in use (1 without). */\n"
         << "int " << prefix << "set_threads(int n);\n";
  // forward(x, n, params, y)
  header << "/** y (n x " << outputs << ") = model(x (n x " << inputs
         << ")). Returns 0 or a kan_status. */\n"
         << "int " << prefix << "forward(const " << T << " *x, int64_t n, " << T
         << " *const *params, " << T << " *y);\n";
  source << "int " << prefix << "forward(const " << T << " *x, int64_t n, " << T
         << " *const *params, " << T << " *y) {\n"
         << "  return model_impl((" << T << " *)x" << params("params")
         << ", n, y);\n}\n\n";

  if (auto jvp = module.lookupSymbol<func::FuncOp>("model_jvp")) {
    unsigned numTangents = jvp.getNumArguments() - model.getNumArguments();
    header << "/** The model and its tangent along " << numTangents
           << " tangent inputs (the kan-jvp activity). */\n"
           << "int " << prefix << "forward_jvp(const " << T
           << " *x, int64_t n, " << T << " *const *params, " << T
           << " *const *tangents, " << T << " *y, " << T << " *yt);\n";
    std::string tangents;
    for (unsigned i = 0; i < numTangents; ++i)
      tangents += ", tangents[" + std::to_string(i) + "]";
    source << "int " << prefix << "forward_jvp(const " << T
           << " *x, int64_t n, " << T << " *const *params, " << T
           << " *const *tangents, " << T << " *y, " << T << " *yt) {\n"
           << "  return model_jvp_impl((" << T << " *)x" << params("params")
           << tangents << ", n, y, yt);\n}\n\n";
  }

  if (auto step = module.lookupSymbol<func::FuncOp>("train_step")) {
    auto target = step.getArgumentTypes()[1];
    bool labels = getElementTypeOrSelf(target).isInteger(64);
    std::string targetT = labels ? "int64_t" : T;
    int64_t width = cast<ShapedType>(step.getResultTypes()[1]).getDimSize(0);
    // A step built without its update (kan-build-train-step update=false)
    // only computes the loss and the scalars; lr_scale has nothing to scale.
    bool updates = !step.getOps<UpdateOp>().empty() ||
                   llvm::any_of(step.getOps<ActivityUpdateOp>(),
                                [](ActivityUpdateOp u) {
                                  return !u.getGradient();
                                });
    // rule=activity gradient=true: the results are the updates dtheta, into
    // buffers of their own (train_step_grad instead of train_step).
    bool gradients = llvm::any_of(
        step.getOps<ActivityUpdateOp>(),
        [](ActivityUpdateOp u) { return u.getGradient(); });
    if (gradients) {
      header << "#define " << prefix.upper() << "DIRECTIONS " << width << "\n"
             << "/** The activity rule's estimated update of a batch: loss, "
                "the "
             << width
             << " JVP scalars of the batch loss, and in grads[i] the update "
                "dtheta of params[i] (a copy of the grid for grids); the "
                "parameters are not changed. */\n"
             << "int " << prefix << "train_step_grad(const " << T
             << " *x, const " << targetT
             << " *target, int64_t n, uint64_t seed, int64_t step, " << T
             << " *const *params, " << T << " *const *grads, " << T
             << " *loss, " << T << " *alphas);\n";
      source << "int " << prefix << "train_step_grad(const " << T
             << " *x, const " << targetT
             << " *target, int64_t n, uint64_t seed, int64_t step, " << T
             << " *const *params, " << T << " *const *grads, " << T
             << " *loss, " << T << " *alphas) {\n"
             << "  return train_step_impl((" << T << " *)x, (" << targetT
             << " *)target, (int64_t)seed, step" << params("params")
             << ", n, loss, alphas" << params("grads") << ");\n}\n";
      header << "\n#ifdef __cplusplus\n}\n#endif\n#endif\n";
      return success();
    }
    header << "#define " << prefix.upper() << "DIRECTIONS " << width << "\n"
           << "/** One noise_step training step on a batch: loss, the " << width
           << " JVP scalars, parameters updated in place. */\n"
           << "int " << prefix << "train_step(const " << T << " *x, const "
           << targetT << " *target, int64_t n, uint64_t seed, int64_t step, "
           << T << " *const *params, " << T << " *loss, " << T
           << " *alphas);\n"
           << "/** The same with every update's step size (lr, or lr/n for "
              "fg) multiplied\n    by lr_scale: a learning-rate schedule "
              "without recompiling. */\n"
           << "int " << prefix << "train_step_scaled(const " << T
           << " *x, const " << targetT
           << " *target, int64_t n, uint64_t seed, int64_t step, double "
              "lr_scale, "
           << T << " *const *params, " << T << " *loss, " << T
           << " *alphas);\n";
    source << "int " << prefix << "train_step_scaled(const " << T
           << " *x, const " << targetT
           << " *target, int64_t n, uint64_t seed, int64_t step, double "
              "lr_scale, "
           << T << " *const *params, " << T << " *loss, " << T
           << " *alphas) {\n"
           << (updates ? "" : "  (void)lr_scale;\n")
           << "  return train_step_impl((" << T << " *)x, (" << targetT
           << " *)target, (int64_t)seed, step" << params("params")
           << ", n, loss, alphas" << params("params")
           << (updates ? ", lr_scale" : "") << ");\n}\n"
           << "int " << prefix << "train_step(const " << T << " *x, const "
           << targetT << " *target, int64_t n, uint64_t seed, int64_t step, "
           << T << " *const *params, " << T << " *loss, " << T
           << " *alphas) {\n"
           << "  return " << prefix
           << "train_step_scaled(x, target, n, seed, step, 1.0, params, loss, "
              "alphas);\n}\n";
  }
  header << "\n#ifdef __cplusplus\n}\n#endif\n#endif\n";
  return success();
}
