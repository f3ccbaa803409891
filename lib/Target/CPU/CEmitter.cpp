//===- CEmitter.cpp - C99 emission of lowered kan modules -------*- C++ -*-===//
//
// Prints the output of the CPU pipeline as C99 that calls the runtime's
// micro-kernels. A pure printer (CIRCT ExportVerilog rule): every decision
// (GEMM form, fused producers, tile sizes) was made by passes and is read off
// the IR; nothing here modifies it.
//
// Every tensor value is a buffer: function arguments and results are
// caller-owned pointers, `kan.update` works in place on its parameter, every
// other value gets a heap buffer that is freed right after its last use, so
// the peak is the live set of one straight-line program point.
//
//===----------------------------------------------------------------------===//

#include "kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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

  /// Number of elements of a tensor type as a C expression (dynamic
  /// dimensions are the batch size `n`).
  std::string numel(Type type) const {
    auto [perN, constant] = getBatchAffineNumElements(cast<ShapedType>(type));
    return perN ? "((int64_t)" + std::to_string(perN) + " * n)"
                : "((int64_t)" + std::to_string(constant) + ")";
  }
  std::string dim(Value v, unsigned i) const {
    int64_t d = cast<ShapedType>(v.getType()).getDimSize(i);
    return ShapedType::isDynamic(d) ? "n" : std::to_string(d);
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

  /// Declares the buffer of a tensor result unless it aliases a function
  /// result or an operand (in-place update).
  void defineBuffer(Value v);
  void releaseDeadOperands(Operation *op);

  LogicalResult emitOp(Operation *op);
  LogicalResult emitPackWeights(PackWeightsOp op);
  LogicalResult emitPackWeightsTangent(PackWeightsTangentOp op);
  LogicalResult emitFeatureGemm(FeatureGemmOp op);
  /// The update's scale times the run-time lr_scale argument.
  std::string scaled(UpdateOp op);
  bool hasUpdates = false;
  LogicalResult emitSpanForward(FeatureGemmOp op);
  static bool hasSpanLayout(Value weights);
  LogicalResult emitFeatureGemmJvp(FeatureGemmJvpOp op);
  LogicalResult emitPerturb(PerturbOp op);
  LogicalResult emitLoss(Operation *op, bool mse, bool jvp);
  LogicalResult emitCoefficients(UpdateCoefficientsOp op);
  LogicalResult emitUpdate(UpdateOp op);
  LogicalResult emitElementwise(Operation *op);
  LogicalResult emitReturn(func::ReturnOp op);

  /// Emits the shared prologue of both layer GEMMs: grid preparation and
  /// the feature panel of one tile. Returns the tile size.
  /// The per-input knot data of a layer's grid (kan_grid_prepare into a
  /// fresh aux buffer); returns the buffer's name.
  std::string emitGridAux(Value grid, int64_t order);
  int64_t emitLayerPrologue(Value grid, Value w, int64_t order,
                            std::optional<int64_t> tileRows, std::string &aux,
                            std::string &panel);

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
  for (Value v : op->getOperands()) {
    if (!owned.contains(v))
      continue;
    bool laterUse = llvm::any_of(v.getUsers(), [&](Operation *user) {
      return user != op && op->isBeforeInBlock(user);
    });
    if (!laterUse) {
      os << "  free(" << name(v) << "); " << name(v) << " = NULL;\n";
      owned.remove(v);
    }
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

LogicalResult FunctionEmitter::emitPackWeights(PackWeightsOp op) {
  auto c = op.getSplineWeight().getType();
  int64_t out = c.getDimSize(0), in = c.getDimSize(1), gk = c.getDimSize(2);
  defineBuffer(op.getWeights());
  // G and k enter the kernels only through G + k here.
  if (hasSpanLayout(op.getWeights())) {
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

int64_t FunctionEmitter::emitLayerPrologue(Value grid, Value w, int64_t order,
                                           std::optional<int64_t> tileRows,
                                           std::string &aux,
                                           std::string &panel) {
  int64_t kk = cast<ShapedType>(w.getType()).getDimSize(1);
  int64_t tr = tileRows.value_or(64);
  aux = emitGridAux(grid, order);
  panel = fresh("panel");
  buffers.push_back({panel, T()});
  os << llvm::formatv(
      "  {0} = ({1} *)malloc(sizeof({1}) * {2} * (size_t)kan_threads());\n"
      "  if (!{0}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
      panel, T(), tr * kk);
  return tr;
}

std::string FunctionEmitter::emitGridAux(Value grid, int64_t order) {
  auto gT = cast<ShapedType>(grid.getType());
  int64_t in = gT.getDimSize(0);
  int64_t g = gT.getDimSize(1) - 2 * order - 1;
  std::string aux = fresh("aux");
  buffers.push_back({aux, T()});
  os << llvm::formatv(
      "  {0} = ({1} *)malloc(sizeof({1}) * kan_grid_aux_size({2}, {3}, {4}));\n"
      "  if (!{0}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n"
      "  status = kan_grid_prepare_{5}({2}, {3}, {4}, {6}, {0});\n"
      "  if (status != KAN_OK) goto cleanup;\n",
      aux, T(), in, g, order, sfx(), name(grid));
  return aux;
}

LogicalResult FunctionEmitter::emitFeatureGemm(FeatureGemmOp op) {
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  int64_t in = gT.getDimSize(0), g = gT.getDimSize(1) - 2 * order - 1;
  auto wT = op.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  defineBuffer(op.getOutput());
  std::string aux, panel;
  if (hasSpanLayout(op.getWeights()))
    return emitSpanForward(op);
  os << "  { /* " << op->getName() << ": y = [act(x) | B(x)] W^T */\n";
  int64_t tr = emitLayerPrologue(op.getGrid(), op.getWeights(), order,
                                 op.getTileRows(), aux, panel);
  std::string rows = dim(op.getInput(), 0);
  // Row tiles are independent: threads (OpenMP, when compiled with it)
  // each take whole tiles with a panel of their own.
  os << llvm::formatv(
      "{15}"
      "  for (int64_t r0 = 0; r0 < {0}; r0 += {1}) {{\n"
      "    int64_t m = {0} - r0 < {1} ? {0} - r0 : {1};\n"
      "    {16} *pt = {10} + (size_t)kan_thread() * {17};\n"
      "    kan_pack_features_{2}(m, {3}, {4}, {5}, {6}, {7} + r0 * {3}, {3}, "
      "{8}, {9}, pt, {11});\n"
      "    kan_gemm_nt_{2}(m, {12}, {11}, 1, pt, {11}, {13}, {11}, 0, "
      "{14} + r0 * {12}, {12});\n"
      "  }\n",
      rows, tr, sfx(), in, g, order,
      op.getAct() == Activation::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY",
      name(op.getInput()), name(op.getGrid()), aux, panel, kk, out,
      name(op.getWeights()), name(op.getOutput()), kParallelFor, T(), tr * kk);
  os << "  free(" << aux << "); " << aux << " = NULL; free(" << panel << "); "
     << panel << " = NULL;\n  }\n";
  return success();
}

/// Packed weights only feature_gemm reads take the span layout: the forward
/// then skips the zero basis values instead of multiplying them.
bool FunctionEmitter::hasSpanLayout(Value weights) {
  if (!weights.getDefiningOp<PackWeightsOp>())
    return false;
  return llvm::all_of(weights.getUsers(),
                      [](Operation *u) { return isa<FeatureGemmOp>(u); });
}

LogicalResult FunctionEmitter::emitSpanForward(FeatureGemmOp op) {
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  int64_t in = gT.getDimSize(0), g = gT.getDimSize(1) - 2 * order - 1;
  int64_t out = op.getWeights().getType().getDimSize(0);
  int64_t tr = op.getTileRows().value_or(64);
  std::string rows = dim(op.getInput(), 0);
  os << "  { /* " << op->getName()
     << ": y = [act(x) | B(x)] W^T, span-local (no feature matrix) */\n";
  std::string aux = emitGridAux(op.getGrid(), order);
  std::string work = fresh("work");
  buffers.push_back({work, "unsigned char"});
  os << llvm::formatv(
      "  size_t wsz = kan_layer_forward_work_size_{0}({1}, {2}, {3});\n"
      "  {4} = (unsigned char *)malloc(wsz * (size_t)kan_threads());\n"
      "  if (!{4}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
      sfx(), tr, g, order, work);
  os << llvm::formatv(
      "{0}"
      "  for (int64_t r0 = 0; r0 < {1}; r0 += {2}) {{\n"
      "    int64_t m = {1} - r0 < {2} ? {1} - r0 : {2};\n"
      "    kan_layer_forward_span_{3}(m, {4}, {5}, {6}, {7}, {8}, {9} + r0 * {4}, "
      "{4}, {10}, {11}, {12}, {5}, {13} + (size_t)kan_thread() * wsz, "
      "{14} + r0 * {5}, {5});\n"
      "  }\n",
      kParallelFor, rows, tr, sfx(), in, out, g, order,
      op.getAct() == Activation::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY",
      name(op.getInput()), name(op.getGrid()), aux, name(op.getWeights()), work,
      name(op.getOutput()));
  os << "  free(" << aux << "); " << aux << " = NULL; free(" << work << "); "
     << work << " = NULL;\n  }\n";
  return success();
}

LogicalResult FunctionEmitter::emitFeatureGemmJvp(FeatureGemmJvpOp op) {
  auto gT = op.getGrid().getType();
  int64_t order = op.getOrder();
  int64_t in = gT.getDimSize(0), g = gT.getDimSize(1) - 2 * order - 1;
  int64_t gk = g + order;
  auto wT = op.getWeights().getType();
  int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
  int64_t width = op.getWidth();
  std::string act =
      op.getAct() == Activation::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY";
  defineBuffer(op.getOutput());
  defineBuffer(op.getOutputTangent());
  std::string rows = dim(op.getInput(), 0);
  std::string x = name(op.getInput()), y = name(op.getOutput()),
              yt = name(op.getOutputTangent()), w = name(op.getWeights());
  os << "  { /* " << op->getName()
     << ": y = A W^T, y'_d = A'_d W^T + A W'_d^T */\n";
  std::string aux, panel;
  int64_t tr = emitLayerPrologue(op.getGrid(), op.getWeights(), order,
                                 op.getTileRows(), aux, panel);
  bool hasXt = static_cast<bool>(op.getInputTangent());
  // A KAN layer is a sum of one-input functions, so y'_d = J x'_d with the
  // layer's input Jacobian J (O x I per row): one J per row tile serves all
  // directions. It replaces the tangent feature panels (I(G+k+1) per row and
  // direction) and their GEMMs whenever it is the smaller of the two.
  bool useJac = hasXt && out < width * (gk + 1);
  // Jacobian rows padded to a multiple of 8 outputs (full vector blocks).
  int64_t ldj = (out + 7) / 8 * 8;
  std::string tpanel, wspan, jac;
  if (useJac) {
    wspan = fresh("wspan"), jac = fresh("jac");
    buffers.push_back({wspan, T()});
    buffers.push_back({jac, T()});
    os << llvm::formatv(
        "  {0} = ({1} *)malloc(sizeof({1}) * {2});\n"
        "  {3} = ({1} *)malloc(sizeof({1}) * {4} * (size_t)kan_threads());\n"
        "  if (!{0} || !{3}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; "
        "}\n"
        "  kan_weights_dense_to_span_{5}({6}, {7}, {8}, 0, {9}, {10}, {0}, "
        "{6});\n",
        wspan, T(), out * kk, jac, tr * in * ldj, sfx(), out, in, gk, w, kk);
  } else if (hasXt) {
    tpanel = fresh("tpanel");
    buffers.push_back({tpanel, T()});
    os << llvm::formatv(
        "  {0} = ({1} *)malloc(sizeof({1}) * {2} * "
        "(size_t)kan_threads());\n"
        "  if (!{0}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
        tpanel, T(), width * tr * kk);
  }

  // Fused perturbations: the seed, step and streams define W'_d.
  std::optional<Distribution> dist = op.getDist();
  bool sparse = dist && *dist == Distribution::sparse_ternary;
  bool dense = dist && !sparse;
  std::string seed, step;
  ArrayRef<int64_t> streams;
  if (dist) {
    seed = "(uint64_t)" + name(op.getSeed());
    step = "(uint32_t)" + name(op.getStep());
    streams = *op.getStreams();
  }
  std::string cols, orow, vals, nnz, idx, sgn, maxnz, rowptr, ccols, cvals;
  if (sparse) {
    // Columns of W'_d: sparse ternary draws of Wb', C' and S' turned into
    // (output row, feature column, value) triples, O(non-zeros) work.
    double density = op.getDensity()->convertToDouble();
    cols = fresh("cols"), orow = fresh("orow"), vals = fresh("vals");
    nnz = fresh("nnz"), idx = fresh("idx"), sgn = fresh("sgn");
    rowptr = fresh("rowptr"), ccols = fresh("ccols"), cvals = fresh("cvals");
    maxnz = fresh("maxnz");
    std::string mb = fresh("mb"), mc = fresh("mc"), ms = fresh("ms");
    buffers.push_back({cols, "uint32_t"});
    buffers.push_back({orow, "uint32_t"});
    buffers.push_back({vals, T()});
    buffers.push_back({nnz, "size_t"});
    buffers.push_back({idx, "uint32_t"});
    buffers.push_back({sgn, "int32_t"});
    buffers.push_back({rowptr, "uint32_t"});
    buffers.push_back({ccols, "uint32_t"});
    buffers.push_back({cvals, T()});
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
        "  {6} = (size_t *)malloc(sizeof(size_t) * {2});\n"
        "  {7} = (uint32_t *)malloc(sizeof(uint32_t) * ({1}m + 1) * "
        "(size_t)kan_threads());\n"
        "  {8} = (int32_t *)malloc(sizeof(int32_t) * ({1}m + 1) * "
        "(size_t)kan_threads());\n"
        "  {9} = (uint32_t *)malloc(sizeof(uint32_t) * {2} * {10});\n"
        "  {11} = (uint32_t *)malloc(sizeof(uint32_t) * {2} * ({1} + 1));\n"
        "  {12} = ({5} *)malloc(sizeof({5}) * {2} * ({1} + 1));\n"
        "  if (!{0} || !{3} || !{4} || !{6} || !{7} || !{8} || !{9} || !{11} "
        "|| !{12}) {{ status = KAN_ERR_OUT_OF_MEMORY; goto cleanup; }\n",
        cols, maxnz, width, orow, vals, T(), nnz, idx, sgn, rowptr, out + 1,
        ccols, cvals);
    std::string cw = name(op.getSplineWeight());
    std::string s = op.getSplineScaler() ? name(op.getSplineScaler()) : "";
    os << "  { int gerr = 0;\n"
       << kParallelFor << "  for (int64_t d = 0; d < " << width << "; ++d) {\n"
       << "    size_t th = (size_t)kan_thread(), e, q = 0;\n"
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
          "    st = kan_perturb_sparse({0}, {1}, (uint32_t)d, {2}, {3}, "
          "{4}, {5}, {6});\n"
          "    if (st != KAN_OK) {{ gerr = (int)st; continue; }\n"
          "    for (e = 0; e < {4}; ++e, ++q) {{ o[q] = {5}[e] / {7}; c[q] = "
          "{5}[e] % {7}; v[q] = ({8}){6}[e]; }\n",
          seed, step, streams[0], out * in, mb, "ix", "sg", in, T());
    if (streams[1] >= 0)
      os << llvm::formatv(
          "    st = kan_perturb_sparse({0}, {1}, (uint32_t)d, {2}, {3}, "
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
          "    st = kan_perturb_sparse({0}, {1}, (uint32_t)d, {2}, {3}, "
          "{4}, {5}, {6});\n"
          "    if (st != KAN_OK) {{ gerr = (int)st; continue; }\n"
          "    for (e = 0; e < {4}; ++e) {{\n"
          "      uint32_t oi = {5}[e], j;\n"
          "      for (j = 0; j < {7}; ++j, ++q) {{ o[q] = oi / {8}; c[q] = {8} "
          "+ (oi % {8}) * {7} + j; v[q] = ({9}){6}[e] * {10}[oi * {7} + j]; }\n"
          "    }\n",
          seed, step, streams[2], out * in, ms, "ix", "sg", gk, in, T(), cw);
    os << "    " << nnz << "[d] = q;\n"
       << llvm::formatv(
              "    kan_coo_to_csr_{0}(q, o, c, v, {1}, {2} + d * {3}, {4} "
              "+ d * {5}, {6} + d * {5});\n",
              sfx(), out, rowptr, out + 1, ccols, maxnz, cvals)
       << "  }\n"
       << "  if (gerr) { status = (kan_status)gerr; goto cleanup; }\n  }\n";
  }
  std::string wt, tb, tc, ts;
  if (dense) {
    // Dense directions are regenerated per tile into one O x K buffer; the
    // n x |W| perturbation never exists.
    wt = fresh("wt"), tb = fresh("tb"), tc = fresh("tc"), ts = fresh("ts");
    for (auto &b : {wt, tb, tc, ts})
      buffers.push_back({b, T()});
    os << llvm::formatv(
        "  {0} = ({1} *)malloc(sizeof({1}) * {2} * (size_t)kan_threads());\n"
        "  {3} = ({1} *)malloc(sizeof({1}) * {4} * (size_t)kan_threads());\n"
        "  {5} = ({1} *)malloc(sizeof({1}) * {6} * (size_t)kan_threads());\n"
        "  {7} = ({1} *)malloc(sizeof({1}) * {4} * (size_t)kan_threads());\n"
        "  if (!{0} || !{3} || !{5} || !{7}) {{ status = "
        "KAN_ERR_OUT_OF_MEMORY; goto "
        "cleanup; }\n",
        wt, T(), out * kk, tb, out * in, tc, out * in * gk, ts);
  }

  // Row tiles run on threads (OpenMP, when compiled with it), each with its
  // own panels; an error inside the loop is recorded and raised after it.
  os << "  { int terr = 0;\n"
     << kParallelFor
     << llvm::formatv("  for (int64_t r0 = 0; r0 < {0}; r0 += {1}) {{\n"
                      "    int64_t m = {0} - r0 < {1} ? {0} - r0 : {1};\n"
                      "    size_t th = (size_t)kan_thread();\n"
                      "    {2} *pt = {3} + th * {4};\n",
                      rows, tr, T(), panel, tr * kk);
  if (useJac)
    os << llvm::formatv("    {0} *jt = {1} + th * {2};\n", T(), jac,
                        tr * in * ldj);
  else if (hasXt)
    os << llvm::formatv("    {0} *tpt = {1} + th * {2};\n", T(), tpanel,
                        width * tr * kk);
  if (dense)
    os << llvm::formatv("    {0} *wtt = {1} + th * {2}, *tbt = {3} + th * {4}, "
                        "*tct = {5} + th * {6}, *tst = {7} + th * {4};\n",
                        T(), wt, out * kk, tb, out * in, tc, out * in * gk, ts);
  if (hasXt && !useJac)
    os << llvm::formatv(
        "    kan_pack_features_jvp_{0}(m, {1}, {2}, {3}, {4}, {5} + r0 * {1}, "
        "{1}, {6}, {7} + r0 * {1}, {1}, (size_t){8} * {1}, {9}, {10}, {11}, "
        "{12}, {13}, {12}, (size_t){14} * {12});\n",
        sfx(), in, g, order, act, x, width, name(op.getInputTangent()), rows,
        name(op.getGrid()), aux, "pt", kk, "tpt", tr);
  else
    os << llvm::formatv(
        "    kan_pack_features_{0}(m, {1}, {2}, {3}, {4}, {5} + "
        "r0 * {1}, {1}, {6}, {7}, {8}, {9});\n",
        sfx(), in, g, order, act, x, name(op.getGrid()), aux, "pt", kk);
  os << llvm::formatv("    kan_gemm_nt_{0}(m, {1}, {2}, 1, {3}, {2}, {4}, {2}, "
                      "0, {5} + r0 * {1}, {1});\n",
                      sfx(), out, kk, "pt", w, y);
  if (useJac)
    os << llvm::formatv(
        "    kan_layer_jacobian_span_{0}(m, {1}, {2}, {3}, {4}, {5}, {6} + r0 "
        "* {1}, {1}, {7}, {8}, {9}, {2}, jt, {10});\n",
        sfx(), in, out, g, order, act, x, name(op.getGrid()), aux, wspan, ldj);
  os << "    for (int64_t d = 0; d < " << width << "; ++d) {\n"
     << llvm::formatv("      {0} *ytd = {1} + (d * {2} + r0) * {3};\n", T(), yt,
                      rows, out);
  if (useJac)
    os << llvm::formatv("      kan_jacobian_apply_{0}(m, {1}, {2}, jt, {5}, "
                        "{3} + ((size_t)d * {4} + r0) * {1}, {1}, ytd, {2});\n",
                        sfx(), in, out, name(op.getInputTangent()), rows, ldj);
  else if (hasXt)
    os << llvm::formatv("      kan_gemm_nt_{0}(m, {1}, {2}, 1, {3} + d * {4}, "
                        "{2}, {5}, {2}, 0, ytd, {1});\n",
                        sfx(), out, kk, "tpt", tr * kk, w);
  else
    os << "      memset(ytd, 0, sizeof(" << T() << ") * m * " << out << ");\n";
  // Sparse directions after the loop, all at once: each row of the panel
  // is then read from memory once rather than once per direction.
  bool sparseAfter = sparse && !op.getWeightsTangent();
  if (sparse && !sparseAfter)
    os << llvm::formatv(
        "      kan_sparse_tangent_csr_{0}(m, {1}, {2}, {3}, {4} + d "
        "* {5}, {6} + d * {7}, {8} + d * {7}, ytd, {3});\n",
        sfx(), "pt", kk, out, rowptr, out + 1, ccols, maxnz, cvals);
  if (dense) {
    auto draw = [&](int64_t stream, const std::string &buf, int64_t size) {
      if (stream < 0)
        return;
      os << llvm::formatv(
          "      {{ kan_status st = kan_perturb_dense_{0}({1}, {2}, "
          "(uint32_t)d, "
          "{3}, {4}, {5}, {6});\n        if (st != KAN_OK) terr = (int)st; }\n",
          sfx(), seed, step, stream,
          *dist == Distribution::normal ? "KAN_DIST_NORMAL"
                                        : "KAN_DIST_RADEMACHER",
          size, buf);
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
    os << llvm::formatv("      kan_gemm_nt_{0}(m, {1}, {2}, 1, {3}, {2}, {4}, "
                        "{2}, 1, ytd, {1});\n",
                        sfx(), out, kk, "pt", "wtt");
  }
  if (Value wtv = op.getWeightsTangent())
    os << llvm::formatv(
        "      kan_gemm_nt_{0}(m, {1}, {2}, 1, {3}, {2}, {4} + d "
        "* {5}, {2}, 1, ytd, {1});\n",
        sfx(), out, kk, "pt", name(wtv), out * kk);
  os << "    }\n";
  if (sparseAfter)
    os << llvm::formatv(
        "    kan_sparse_tangent_csr_multi_{0}(m, pt, {1}, {2}, {3}, {4}, {5}, "
        "{6}, {7}, {8}, {9} + r0 * {2}, {2}, (size_t){10} * {2});\n",
        sfx(), kk, out, width, rowptr, out + 1, ccols, cvals, maxnz, yt, rows);
  os << "  }\n"
     << "  if (terr) { status = (kan_status)terr; goto cleanup; }\n  }\n";
  for (const std::string &b : {aux, panel, tpanel, cols, orow, vals, nnz, idx,
                               sgn, rowptr, ccols, cvals, wt, tb, tc, ts, wspan,
                               jac})
    if (!b.empty())
      os << "  free(" << b << "); " << b << " = NULL;\n";
  os << "  }\n";
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
  Value loss = op->getResult(0);
  Value alphas = jvp ? op->getResult(1) : Value();
  int64_t classes = cast<ShapedType>(z.getType()).getDimSize(1);
  int64_t width = jvp ? cast<ShapedType>(zt.getType()).getDimSize(0) : 0;
  std::string rows = dim(z, 0);
  std::string l = name(loss);
  os << "  " << T() << " " << l << ";\n";
  if (alphas)
    defineBuffer(alphas);
  std::string a = alphas ? name(alphas) : "";
  // Accumulate in double for both element types.
  os << "  { double acc = 0.0; int64_t i, c, d;\n";
  if (jvp)
    os << "  double *ad = (double *)calloc(" << width
       << ", sizeof(double));\n  if (!ad) { status = KAN_ERR_OUT_OF_MEMORY; "
          "goto "
          "cleanup; }\n";
  os << "  for (i = 0; i < " << rows << "; ++i) {\n"
     << "    const " << T() << " *zi = " << name(z) << " + i * " << classes
     << ";\n";
  if (mse) {
    os << "    const " << T() << " *yi = " << name(target) << " + i * "
       << classes << ";\n"
       << "    for (c = 0; c < " << classes << "; ++c) {\n"
       << "      double r = (double)zi[c] - (double)yi[c];\n"
       << "      acc += r * r;\n";
    if (jvp)
      os << "      for (d = 0; d < " << width << "; ++d) ad[d] += 2.0 * r * "
         << "(double)" << name(zt) << "[(d * " << rows << " + i) * " << classes
         << " + c];\n";
    os << "    }\n";
  } else {
    os << "    int64_t y = (int64_t)" << name(target) << "[i];\n"
       << "    double mx = zi[0], se = 0.0;\n"
       << "    if (y < 0 || y >= " << classes
       << ") { status = KAN_ERR_INVALID_ARGUMENT; " << (jvp ? "free(ad); " : "")
       << "goto cleanup; }\n"
       << "    for (c = 1; c < " << classes
       << "; ++c) if (zi[c] > mx) mx = zi[c];\n"
       << "    for (c = 0; c < " << classes
       << "; ++c) se += exp((double)zi[c] - mx);\n"
       << "    acc += mx + log(se) - (double)zi[y];\n";
    if (jvp)
      os << "    for (c = 0; c < " << classes << "; ++c) {\n"
         << "      double g = exp((double)zi[c] - mx) / se - (c == y ? 1.0 : "
            "0.0);\n"
         << "      for (d = 0; d < " << width << "; ++d) ad[d] += g * (double)"
         << name(zt) << "[(d * " << rows << " + i) * " << classes << " + c];\n"
         << "    }\n";
  }
  os << "  }\n";
  std::string denom =
      mse ? "((double)" + rows + " * " + std::to_string(classes) + ")"
          : "(double)" + rows;
  os << "  " << l << " = (" << T() << ")(acc / " << denom << ");\n";
  if (jvp)
    os << "  for (d = 0; d < " << width << "; ++d) " << a << "[d] = (" << T()
       << ")(ad[d] / " << denom << ");\n  free(ad);\n";
  os << "  }\n";
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
      .Case<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::NegFOp>(
          [&](Operation *o) { return emitElementwise(o); })
      .Case<arith::ConstantOp>([&](arith::ConstantOp c) -> LogicalResult {
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
        os << "  int64_t " << name(d.getResult()) << " = n;\n";
        return success();
      })
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
  hasUpdates = !func.getOps<UpdateOp>().empty();
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
      paramNames.push_back("layers." + std::to_string(layer) + "." +
                           keys[slot]);
      paramNumel.push_back(
          cast<ShapedType>(model.getArgumentTypes()[i + 1]).getNumElements());
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
           << "  return train_step_impl((" << T << " *)x, (" << targetT
           << " *)target, (int64_t)seed, step" << params("params")
           << ", n, loss, alphas" << params("params") << ", lr_scale);\n}\n"
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
