//===- KanOps.cpp - verifiers and folds of the kan dialect ------*- C++ -*-===//

#include "kan/Dialect/Kan/KanOps.h"

#include "kanrt/symbolic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kan;

//===----------------------------------------------------------------------===//
// Enum keywords: ops print `act silu`, the attributes keep their generic form.
//===----------------------------------------------------------------------===//

#define KAN_ENUM_KEYWORD(Enum, Kinds)                                          \
  static ParseResult parse##Enum(OpAsmParser &parser, Enum##Attr &attr) {      \
    SMLoc loc = parser.getCurrentLocation();                                   \
    StringRef keyword;                                                         \
    if (parser.parseKeyword(&keyword))                                         \
      return failure();                                                        \
    std::optional<Enum> value = symbolize##Enum(keyword);                      \
    if (!value)                                                                \
      return parser.emitError(loc)                                             \
             << "expected " #Enum " to be one of: " Kinds ", but got '"        \
             << keyword << "'";                                                \
    attr = Enum##Attr::get(parser.getContext(), *value);                       \
    return success();                                                          \
  }                                                                            \
  static void print##Enum(OpAsmPrinter &printer, Operation *,                  \
                          Enum##Attr attr) {                                   \
    printer << stringify##Enum(attr.getValue());                               \
  }

KAN_ENUM_KEYWORD(Activation, "silu, identity")
KAN_ENUM_KEYWORD(Distribution, "normal, rademacher, sparse_ternary")
KAN_ENUM_KEYWORD(UpdateRule, "fg, ternary")

namespace {

/// Prints a shape the way users write it in a tensor type ("?x5x8").
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << '?';
        else
          os << d;
      },
      "x");
  return s;
}

/// Checks `type` against `expected`, where kDynamic in `expected` accepts
/// any size and a dynamic actual size is accepted only where `allowDynamic`.
LogicalResult checkShape(Operation *op, StringRef name, ShapedType type,
                         ArrayRef<int64_t> expected, Type elementType,
                         ArrayRef<bool> allowDynamic = {}) {
  if (type.getElementType() != elementType)
    return op->emitOpError()
           << "operand '" << name << "' has element type "
           << type.getElementType() << " but expected " << elementType;
  bool ok = type.getRank() == (int64_t)expected.size();
  for (unsigned i = 0; ok && i < expected.size(); ++i) {
    int64_t actual = type.getDimSize(i);
    bool dynOk = i < allowDynamic.size() && allowDynamic[i];
    if (ShapedType::isDynamic(actual)) {
      ok = dynOk || ShapedType::isDynamic(expected[i]);
      continue;
    }
    if (!ShapedType::isDynamic(expected[i]) && actual != expected[i])
      ok = false;
  }
  if (!ok)
    return op->emitOpError()
           << "operand '" << name << "' expected shape " << shapeStr(expected)
           << " but got " << shapeStr(type.getShape());
  return success();
}

/// Largest static dimension of a kan op's tensors (the tools' width limit),
/// and largest element count: sizes in bytes, and the packed weights'
/// O x I(G+k+1), then stay far from int64 overflow in every later product.
constexpr int64_t kMaxDim = int64_t(1) << 24;
constexpr int64_t kMaxElements = int64_t(1) << 56;

/// Zero or huge static dimensions would reach divisions (row tiles) and
/// size computations (the emitted numel) of the passes and targets.
LogicalResult checkSizes(Operation *op, StringRef name, Type type) {
  auto t = dyn_cast<ShapedType>(type);
  if (!t || !t.hasRank())
    return success();
  int64_t elements = 1;
  for (int64_t d : t.getShape()) {
    if (ShapedType::isDynamic(d))
      continue;
    if (d == 0)
      return op->emitOpError() << name << " has a dimension of size 0 ("
                               << shapeStr(t.getShape()) << ")";
    if (d > kMaxDim)
      return op->emitOpError() << name << " has a dimension of " << d
                               << ", more than " << kMaxDim;
    elements *= d; // <= 2^56 * 2^24: no overflow
    if (elements > kMaxElements)
      return op->emitOpError() << name << " has more than " << kMaxElements
                               << " elements (" << shapeStr(t.getShape())
                               << ")";
  }
  return success();
}

/// checkSizes on every operand and result of `op`.
LogicalResult checkAllSizes(Operation *op) {
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (failed(checkSizes(op, ("operand #" + Twine(i)).str(), v.getType())))
      return failure();
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    if (failed(checkSizes(op, ("result #" + Twine(i)).str(), v.getType())))
      return failure();
  return success();
}

/// The shared part of `kan.layer` and `kan.layer_jvp`: derives I, O, G from
/// the static parameter shapes and checks every operand against them.
struct LayerShape {
  int64_t batch, in, out, gridSize, order;
  Type elementType;
};

FailureOr<LayerShape> verifyLayerOperands(Operation *op, Value input,
                                          Value grid, Value base, Value spline,
                                          Value scaler, int64_t order) {
  auto xT = cast<RankedTensorType>(input.getType());
  auto gT = cast<RankedTensorType>(grid.getType());
  auto bT = cast<RankedTensorType>(base.getType());
  auto sT = cast<RankedTensorType>(spline.getType());
  Type elt = xT.getElementType();
  if (failed(checkSizes(op, "operand 'input'", xT)) ||
      failed(checkSizes(op, "operand 'grid'", gT)) ||
      failed(checkSizes(op, "operand 'base_weight'", bT)) ||
      failed(checkSizes(op, "operand 'spline_weight'", sT)) ||
      (scaler &&
       failed(checkSizes(op, "operand 'spline_scaler'", scaler.getType()))) ||
      failed(checkAllSizes(op)))
    return failure();
  if (!bT.hasStaticShape())
    return op->emitOpError() << "operand 'base_weight' must have a static "
                                "shape (O x I) but got "
                             << shapeStr(bT.getShape()),
           failure();
  int64_t out = bT.getDimSize(0), in = bT.getDimSize(1);
  if (!gT.hasStaticShape())
    return op->emitOpError() << "operand 'grid' must have a static shape "
                                "but got "
                             << shapeStr(gT.getShape()),
           failure();
  int64_t gridCols = gT.getDimSize(1);
  int64_t gridSize = gridCols - 2 * order - 1;
  if (gridSize < 1)
    return op->emitOpError()
               << "operand 'grid' has " << gridCols
               << " knots per input, too few for spline order " << order
               << " (need G + 2k + 1 with G >= 1, i.e. at least "
               << 2 * order + 2 << ")",
           failure();
  int64_t dyn = ShapedType::kDynamic;
  if (failed(checkShape(op, "input", xT, {dyn, in}, elt, {true, false})) ||
      failed(checkShape(op, "grid", gT, {in, gridCols}, elt)) ||
      failed(checkShape(op, "base_weight", bT, {out, in}, elt)) ||
      failed(checkShape(op, "spline_weight", sT, {out, in, gridSize + order},
                        elt)))
    return failure();
  if (scaler &&
      failed(checkShape(op, "spline_scaler", cast<ShapedType>(scaler.getType()),
                        {out, in}, elt)))
    return failure();
  return LayerShape{xT.getDimSize(0), in, out, gridSize, order, elt};
}

} // namespace

LogicalResult LayerOp::verify() {
  auto shape =
      verifyLayerOperands(*this, getInput(), getGrid(), getBaseWeight(),
                          getSplineWeight(), getSplineScaler(), getOrder());
  if (failed(shape))
    return failure();
  auto yT = getOutput().getType();
  if (yT.getElementType() != shape->elementType ||
      yT.getDimSize(1) != shape->out ||
      (!ShapedType::isDynamic(yT.getDimSize(0)) &&
       !ShapedType::isDynamic(shape->batch) &&
       yT.getDimSize(0) != shape->batch))
    return emitOpError() << "result expected shape "
                         << shapeStr({shape->batch, shape->out}) << "x"
                         << shape->elementType << " but got " << yT;
  return success();
}

LogicalResult LayerJvpOp::verify() {
  auto shape =
      verifyLayerOperands(*this, getInput(), getGrid(), getBaseWeight(),
                          getSplineWeight(), getSplineScaler(), getOrder());
  if (failed(shape))
    return failure();
  const LayerShape &s = *shape;
  int64_t width = getWidth();
  if (ShapedType::isDynamic(width) || width < 1)
    return emitOpError() << "result 'output_tangent' needs a static leading "
                            "width dimension >= 1 but got "
                         << getOutputTangent().getType();
  if (getSplineScalerTangent() && !getSplineScaler())
    return emitOpError() << "operand 'spline_scaler_tangent' given without "
                            "a 'spline_scaler'";
  Type elt = s.elementType;
  auto check = [&](Value v, StringRef name, ArrayRef<int64_t> shape,
                   ArrayRef<bool> dyn = {}) {
    if (!v)
      return success();
    return checkShape(*this, name, cast<ShapedType>(v.getType()), shape, elt,
                      dyn);
  };
  int64_t n = s.batch;
  if (failed(check(getInputTangent(), "input_tangent", {width, n, s.in},
                   {false, true, false})) ||
      failed(check(getBaseWeightTangent(), "base_weight_tangent",
                   {width, s.out, s.in})) ||
      failed(check(getSplineWeightTangent(), "spline_weight_tangent",
                   {width, s.out, s.in, s.gridSize + s.order})) ||
      failed(check(getSplineScalerTangent(), "spline_scaler_tangent",
                   {width, s.out, s.in})))
    return failure();
  auto yT = getOutput().getType();
  if (yT.getElementType() != elt || yT.getDimSize(1) != s.out)
    return emitOpError() << "result 'output' expected shape "
                         << shapeStr({n, s.out}) << " but got "
                         << shapeStr(yT.getShape());
  return checkShape(*this, "output_tangent", getOutputTangent().getType(),
                    {width, yT.getDimSize(0), s.out}, elt,
                    {false, true, false});
}

namespace {
LogicalResult verifyLossShapes(Operation *op, ShapedType pred, Type loss) {
  if (loss != pred.getElementType())
    return op->emitOpError()
           << "result 'loss' has type " << loss
           << " but the prediction's element type is " << pred.getElementType();
  return success();
}

LogicalResult verifyLossTangent(Operation *op, ShapedType pred,
                                ShapedType predTangent,
                                ShapedType lossTangent) {
  int64_t width = predTangent.getDimSize(0);
  if (ShapedType::isDynamic(width))
    return op->emitOpError() << "operand 'tangent' needs a static leading "
                                "width dimension but got "
                             << shapeStr(predTangent.getShape());
  if (failed(checkShape(op, "tangent", predTangent,
                        {width, pred.getDimSize(0), pred.getDimSize(1)},
                        pred.getElementType(), {false, true, false})))
    return failure();
  return checkShape(op, "loss_tangent", lossTangent, {width},
                    pred.getElementType());
}

LogicalResult verifyLabels(Operation *op, ShapedType logits,
                           ShapedType labels) {
  int64_t n = logits.getDimSize(0), m = labels.getDimSize(0);
  if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(m) && n != m)
    return op->emitOpError()
           << "operand 'labels' expected shape " << n << " but got " << m;
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Symbolic edges
//===----------------------------------------------------------------------===//

/// The shared part of kan.symbolic_edges(_jvp): N x I input, N x O layer
/// output, O x I x 4 params, O x I function names from kanrt's library.
static LogicalResult verifySymbolicEdges(Operation *op, Value input,
                                         Value layerOutput, Value params,
                                         ArrayAttr functions, Value output) {
  if (failed(checkAllSizes(op)))
    return failure();
  auto x = cast<ShapedType>(input.getType());
  Type f64 = Float64Type::get(op->getContext());
  if (x.getElementType() != f64)
    return op->emitOpError()
           << "supports f64 only, not " << x.getElementType()
           << " (kanrt's symbolic-function library evaluates in f64 on the "
              "CPU target)";
  int64_t n = x.getDimSize(0), in = x.getDimSize(1);
  auto y = cast<ShapedType>(layerOutput.getType());
  int64_t out = y.getDimSize(1);
  if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out))
    return op->emitOpError() << "needs static input and output widths";
  if (failed(checkShape(op, "layer_output", y, {n, out}, f64, {true, false})) ||
      failed(checkShape(op, "params", cast<ShapedType>(params.getType()),
                        {out, in, 4}, f64)) ||
      failed(checkShape(op, "output", cast<ShapedType>(output.getType()),
                        {n, out}, f64, {true, false})))
    return failure();
  if (static_cast<int64_t>(functions.size()) != in * out)
    return op->emitOpError() << "'functions' has " << functions.size()
                             << " entries for " << out << " x " << in
                             << " edges";
  for (auto [e, a] : llvm::enumerate(functions)) {
    StringRef name = cast<StringAttr>(a).getValue();
    if (!name.empty() && kan_symbolic_find(name.str().c_str()) < 0)
      return op->emitOpError() << "edge " << e << ": '" << name
                               << "' is not a function of the symbolic "
                                  "library (kanrt/symbolic.h)";
  }
  return success();
}

LogicalResult SymbolicEdgesOp::verify() {
  return verifySymbolicEdges(*this, getInput(), getLayerOutput(), getParams(),
                             getFunctions(), getOutput());
}

LogicalResult SymbolicEdgesJvpOp::verify() {
  if (failed(verifySymbolicEdges(*this, getInput(), getLayerOutput(),
                                 getParams(), getFunctions(), getOutput())))
    return failure();
  int64_t width = getWidth();
  if (ShapedType::isDynamic(width) || width < 1)
    return emitOpError() << "result 'output_tangent' needs a static leading "
                            "width dimension >= 1 but got "
                         << getOutputTangent().getType();
  auto x = cast<ShapedType>(getInput().getType());
  auto p = cast<ShapedType>(getParams().getType());
  int64_t n = x.getDimSize(0), in = x.getDimSize(1), out = p.getDimSize(0);
  Type f64 = x.getElementType();
  auto check = [&](Value v, StringRef name, ArrayRef<int64_t> shape,
                   ArrayRef<bool> dyn = {}) {
    if (!v)
      return success();
    return checkShape(*this, name, cast<ShapedType>(v.getType()), shape, f64,
                      dyn);
  };
  return success(
      succeeded(check(getInputTangent(), "input_tangent", {width, n, in},
                      {false, true, false})) &&
      succeeded(check(getLayerOutputTangent(), "layer_output_tangent",
                      {width, n, out}, {false, true, false})) &&
      succeeded(check(getParamsTangent(), "params_tangent",
                      {width, out, in, 4})) &&
      succeeded(check(getOutputTangent(), "output_tangent", {width, n, out},
                      {false, true, false})));
}

LogicalResult MseOp::verify() {
  auto p = getPrediction().getType();
  if (failed(checkShape(*this, "target", getTarget().getType(), p.getShape(),
                        p.getElementType(), {true, false})))
    return failure();
  return verifyLossShapes(*this, p, getLoss().getType());
}

LogicalResult SoftmaxCrossEntropyOp::verify() {
  auto l = getLogits().getType();
  if (failed(verifyLabels(*this, l, getLabels().getType())))
    return failure();
  return verifyLossShapes(*this, l, getLoss().getType());
}

LogicalResult MseJvpOp::verify() {
  auto p = getPrediction().getType();
  if (failed(checkShape(*this, "target", getTarget().getType(), p.getShape(),
                        p.getElementType(), {true, false})) ||
      failed(verifyLossShapes(*this, p, getLoss().getType())))
    return failure();
  return verifyLossTangent(*this, p, getPredictionTangent().getType(),
                           getLossTangent().getType());
}

LogicalResult SoftmaxCrossEntropyJvpOp::verify() {
  auto l = getLogits().getType();
  if (failed(verifyLabels(*this, l, getLabels().getType())) ||
      failed(verifyLossShapes(*this, l, getLoss().getType())))
    return failure();
  return verifyLossTangent(*this, l, getLogitsTangent().getType(),
                           getLossTangent().getType());
}

namespace {
LogicalResult verifyDistribution(Operation *op, Distribution dist,
                                 FloatAttr densityAttr) {
  std::optional<double> density;
  if (densityAttr)
    density = densityAttr.getValueAsDouble();
  if (dist == Distribution::sparse_ternary) {
    if (!density)
      return op->emitOpError()
             << "sparse_ternary perturbations need a 'density'";
    if (!(*density > 0.0 && *density <= 1.0))
      return op->emitOpError()
             << "'density' must be in (0, 1] but is " << *density;
  } else if (density) {
    return op->emitOpError() << "'density' is only meaningful for "
                                "sparse_ternary perturbations";
  }
  return success();
}
} // namespace

LogicalResult PerturbOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto t = getResult().getType();
  if (t.getRank() < 2 || !t.hasStaticShape())
    return emitOpError() << "result must have a static shape of rank >= 2 "
                            "(directions x parameter shape) but got "
                         << t;
  return verifyDistribution(*this, getDist(), getDensityAttr());
}

LogicalResult UpdateCoefficientsOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  if (getAlphas().getType() != getCoefficients().getType())
    return emitOpError() << "result type " << getCoefficients().getType()
                         << " must equal the alphas' type "
                         << getAlphas().getType();
  if (getAlphas().getType().isDynamicDim(0))
    return emitOpError() << "operand 'alphas' needs a static width";
  return success();
}

LogicalResult UpdateOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto p = getParam().getType();
  if (p != getResult().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the parameter's type " << p;
  if (!p.hasStaticShape())
    return emitOpError() << "operand 'param' must have a static shape";
  if (getCoefficients().getType().getElementType() != p.getElementType())
    return emitOpError() << "operand 'coefficients' has element type "
                         << getCoefficients().getType().getElementType()
                         << " but expected " << p.getElementType();
  return verifyDistribution(*this, getDist(), getDensityAttr());
}

LogicalResult PerturbActivityOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  if (getDist() == Distribution::sparse_ternary)
    return emitOpError() << "activity perturbations are dense (normal or "
                            "rademacher), not sparse_ternary";
  auto z = getActivation().getType();
  auto t = getResult().getType();
  if (t.isDynamicDim(0))
    return emitOpError() << "result needs a static leading width dimension "
                            "but got "
                         << shapeStr(t.getShape());
  return checkShape(*this, "result", t,
                    {t.getDimSize(0), z.getDimSize(0), z.getDimSize(1)},
                    z.getElementType(), {false, true, false});
}

LogicalResult SoftmaxCrossEntropyExamplesJvpOp::verify() {
  auto l = getLogits().getType();
  if (failed(verifyLabels(*this, l, getLabels().getType())) ||
      failed(verifyLossShapes(*this, l, getLoss().getType())) ||
      failed(verifyLossTangent(*this, l, getLogitsTangent().getType(),
                               getLossTangent().getType())))
    return failure();
  int64_t width = getLogitsTangent().getType().getDimSize(0);
  return checkShape(*this, "example_tangents", getExampleTangents().getType(),
                    {width, l.getDimSize(0)}, l.getElementType(),
                    {false, true});
}

LogicalResult SoftmaxCrossEntropyGradOp::verify() {
  auto l = getLogits().getType();
  if (failed(verifyLabels(*this, l, getLabels().getType())))
    return failure();
  return checkShape(*this, "grad", getGrad().getType(), l.getShape(),
                    l.getElementType(), {true, false});
}

LogicalResult ActivityEstimateOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto u = getPerturbations().getType();
  auto a = getExampleTangents().getType();
  if (u.isDynamicDim(0))
    return emitOpError() << "operand 'perturbations' needs a static width";
  if (failed(checkShape(*this, "example_tangents", a,
                        {u.getDimSize(0), u.getDimSize(1)},
                        u.getElementType(), {false, true})))
    return failure();
  return checkShape(*this, "estimate", getEstimate().getType(),
                    {u.getDimSize(1), u.getDimSize(2)}, u.getElementType(),
                    {true, false});
}

static LogicalResult verifyAux(Operation *op, Value aux, ShapedType grid,
                               int64_t order);

LogicalResult ActivityUpdateOp::verify() {
  auto shape =
      verifyLayerOperands(*this, getInput(), getGrid(), getBaseWeight(),
                          getSplineWeight(), getSplineScaler(), getOrder());
  if (failed(shape))
    return failure();
  if (failed(checkShape(*this, "local_grad", getLocalGrad().getType(),
                        {getInput().getType().getDimSize(0), shape->out},
                        shape->elementType, {true, false})))
    return failure();
  if (getNewBaseWeight().getType() != getBaseWeight().getType() ||
      getNewSplineWeight().getType() != getSplineWeight().getType() ||
      static_cast<bool>(getNewSplineScaler()) !=
          static_cast<bool>(getSplineScaler()) ||
      (getSplineScaler() &&
       getNewSplineScaler().getType() != getSplineScaler().getType()))
    return emitOpError() << "results must have the types of base_weight, "
                            "spline_weight and (if given) spline_scaler";
  double scale = getScale().convertToDouble();
  if (!std::isfinite(scale))
    return emitOpError() << "'scale' must be finite";
  // The tiled form: its tiles and the knot data they read come together.
  bool tiled = getInputTile().has_value();
  if (tiled != getRowTile().has_value() || tiled != bool(getAux()))
    return emitOpError() << "needs 'aux', 'input_tile' and 'row_tile' "
                            "together (the tiled form) or none of them";
  return verifyAux(*this, getAux(), getGrid().getType(), getOrder());
}

LogicalResult PackWeightsOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto b = getBaseWeight().getType();
  auto c = getSplineWeight().getType();
  int64_t out = b.getDimSize(0), in = b.getDimSize(1);
  Type elt = b.getElementType();
  if (failed(checkShape(*this, "spline_weight", c, {out, in, c.getDimSize(2)},
                        elt)))
    return failure();
  if (getSplineScaler() &&
      failed(checkShape(*this, "spline_scaler", getSplineScaler().getType(),
                        {out, in}, elt)))
    return failure();
  return checkShape(*this, "weights", getWeights().getType(),
                    {out, in * (c.getDimSize(2) + 1)}, elt);
}

namespace {
/// K of the concatenated GEMM: I * (G + k + 1) = I + I * (G + k).
LogicalResult verifyFeatureGemm(Operation *op, ShapedType x, ShapedType grid,
                                ShapedType w, int64_t order) {
  if (failed(checkAllSizes(op)))
    return failure();
  int64_t in = x.getDimSize(1);
  int64_t gridSize = grid.getDimSize(1) - 2 * order - 1;
  if (gridSize < 1)
    return op->emitOpError()
           << "operand 'grid' has too few knots for order " << order;
  Type elt = x.getElementType();
  if (failed(checkShape(op, "grid", grid, {in, grid.getDimSize(1)}, elt)))
    return failure();
  return checkShape(op, "weights", w,
                    {w.getDimSize(0), in * (gridSize + order + 1)}, elt);
}
} // namespace

/// The knot data of a grid, when present, has the size kan_grid_aux_size
/// gives.
static LogicalResult verifyAux(Operation *op, Value aux, ShapedType grid,
                               int64_t order) {
  if (!aux)
    return success();
  int64_t in = grid.getDimSize(0), g = grid.getDimSize(1) - 2 * order - 1;
  return checkShape(op, "aux", cast<ShapedType>(aux.getType()),
                    {GridPrepareOp::getAuxSize(in, g, order)},
                    grid.getElementType());
}

LogicalResult GridPrepareOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto grid = getGrid().getType();
  if (grid.getDimSize(1) - 2 * (int64_t)getOrder() - 1 < 1)
    return emitOpError() << "operand 'grid' has too few knots for order "
                         << getOrder();
  return verifyAux(*this, getAux(), grid, getOrder());
}

LogicalResult SparseDirectionsOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  auto c = getSplineWeight().getType();
  int64_t width = getWidth(), out = c.getDimSize(0);
  if (getStreams().size() != 3 ||
      llvm::all_of(getStreams(), [](int64_t s) { return s < 0; }))
    return emitOpError() << "'streams' lists base, spline and scaler streams "
                            "(-1 = not perturbed), at least one perturbed";
  if (getStreams()[2] >= 0 && !getSplineScaler())
    return emitOpError() << "perturbs the spline scaler but has none";
  if (failed(verifyDistribution(*this, Distribution::sparse_ternary,
                                getDensityAttr())))
    return failure();
  if (failed(checkShape(*this, "rowptr", getRowptr().getType(),
                        {width, out + 1}, getRowptr().getType().getElementType())))
    return failure();
  int64_t nnz = getCols().getType().getDimSize(1);
  if (failed(checkShape(*this, "cols", getCols().getType(), {width, nnz},
                        getCols().getType().getElementType())))
    return failure();
  return checkShape(*this, "vals", getVals().getType(), {width, nnz},
                    c.getElementType());
}

LogicalResult FeatureGemmOp::verify() {
  if (failed(verifyFeatureGemm(*this, getInput().getType(), getGrid().getType(),
                               getWeights().getType(), getOrder())))
    return failure();
  return verifyAux(*this, getAux(), getGrid().getType(), getOrder());
}

LogicalResult FeatureGemmJvpOp::verify() {
  if (failed(verifyFeatureGemm(*this, getInput().getType(), getGrid().getType(),
                               getWeights().getType(), getOrder())) ||
      failed(verifyAux(*this, getAux(), getGrid().getType(), getOrder())))
    return failure();
  bool perturb = static_cast<bool>(getSeed());
  bool csr = static_cast<bool>(getCsrRowptr());
  if (perturb != static_cast<bool>(getDistAttr()) ||
      perturb != static_cast<bool>(getStreamsAttr()))
    return emitOpError() << "a fused perturbation needs 'seed', 'step', "
                            "'dist' and 'streams' together";
  if ((perturb ? 1 : 0) + (csr ? 1 : 0) + (getWeightsTangent() ? 1 : 0) > 1)
    return emitOpError() << "takes one of 'weights_tangent', a fused "
                            "perturbation or 'csr' directions";
  if (perturb) {
    if (getStreams()->size() != 3)
      return emitOpError() << "'streams' lists base, spline and scaler "
                              "streams (-1 = not perturbed); got "
                           << getStreams()->size() << " entries";
    if (failed(verifyDistribution(*this, *getDist(), getDensityAttr())))
      return failure();
  }
  if (csr && getCsrRowptr().getType().getDimSize(0) != getWidth())
    return emitOpError() << "'csr' holds "
                         << getCsrRowptr().getType().getDimSize(0)
                         << " directions, the op computes " << getWidth();
  // Kernel choices (kan-prepare-cpu) must match the operands they read.
  std::optional<InputTangentKernel> itk = getInputTangentKernel();
  if (itk && (*itk == InputTangentKernel::none) ==
                 static_cast<bool>(getInputTangent()))
    return emitOpError() << "'input_tangent_kernel' is none exactly when "
                            "there is no input tangent";
  if ((itk && (*itk == InputTangentKernel::jacobian ||
               *itk == InputTangentKernel::jacobian_multi)) !=
      static_cast<bool>(getSpanWeights()))
    return emitOpError() << "takes 'span_weights' exactly when its input "
                            "tangent goes through the Jacobian";
  if (getSpanWeights() &&
      getSpanWeights().getType() != getWeights().getType())
    return emitOpError() << "'span_weights' must have the type of 'weights'";
  if (std::optional<WeightTangentKernel> wtk = getWeightTangentKernel()) {
    WeightTangentKernel expected =
        csr ? WeightTangentKernel::sparse_rows
        : perturb ? WeightTangentKernel::regenerate
        : getWeightsTangent() ? WeightTangentKernel::dense
                              : WeightTangentKernel::none;
    if (*wtk != expected)
      return emitOpError() << "'weight_tangent_kernel' must be "
                           << stringifyWeightTangentKernel(expected)
                           << " for its weight tangent operands";
  }
  return success();
}

LogicalResult SpanWeightsOp::verify() {
  if (failed(checkAllSizes(*this)))
    return failure();
  int64_t k = getWeights().getType().getDimSize(1);
  if (k % getInputs() != 0 || k / getInputs() < 2)
    return emitOpError() << "'weights' has " << k
                         << " columns, not I(G+k+1) for " << getInputs()
                         << " inputs";
  return success();
}

//===----------------------------------------------------------------------===//
// Row tiles (TilingInterface): rows of a layer GEMM are independent, so the
// tile of rows [off, off + size) is the same op on those rows of the input
// (and of every direction of the input tangent).
//===----------------------------------------------------------------------===//

namespace {
/// Rows [off, off + size) of a matrix, or of every direction of a
/// direction x rows x columns tensor.
Value rowSlice(OpBuilder &b, Location loc, Value v, OpFoldResult off,
               OpFoldResult size) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<OpFoldResult> offsets, sizes,
      strides(t.getRank(), b.getIndexAttr(1));
  if (t.getRank() == 3) {
    offsets = {b.getIndexAttr(0), off, b.getIndexAttr(0)};
    sizes = {b.getIndexAttr(t.getDimSize(0)), size,
             b.getIndexAttr(t.getDimSize(2))};
  } else {
    offsets = {off, b.getIndexAttr(0)};
    sizes = {size, b.getIndexAttr(t.getDimSize(1))};
  }
  return b.create<tensor::ExtractSliceOp>(loc, v, offsets, sizes, strides);
}

/// The type of rows `size` of a result of type `t`.
Type rowTileType(Type t, OpFoldResult size) {
  auto r = cast<RankedTensorType>(t);
  SmallVector<int64_t> shape(r.getShape());
  std::optional<int64_t> s = getConstantIntValue(size);
  shape[r.getRank() == 3 ? 1 : 0] = s ? *s : ShapedType::kDynamic;
  return RankedTensorType::get(shape, r.getElementType());
}

/// Clones `op` with its row operands sliced and result types narrowed.
TilingResult tileRows(OpBuilder &b, Operation *op, ArrayRef<Value> rowOperands,
                      OpFoldResult off, OpFoldResult size) {
  Operation *tiled = b.clone(*op);
  SmallVector<Operation *> sliceOps;
  for (OpOperand &use : tiled->getOpOperands())
    if (llvm::is_contained(rowOperands, use.get())) {
      Value s = rowSlice(b, op->getLoc(), use.get(), off, size);
      sliceOps.push_back(s.getDefiningOp());
      use.set(s);
    }
  // The slices must precede the clone.
  for (Operation *s : sliceOps)
    s->moveBefore(tiled);
  for (OpResult r : tiled->getResults())
    r.setType(rowTileType(r.getType(), size));
  return TilingResult{{tiled}, SmallVector<Value>(tiled->getResults())};
}

void rowTilePosition(OpBuilder &b, Type resultType, OpFoldResult off,
                     OpFoldResult size, SmallVector<OpFoldResult> &offsets,
                     SmallVector<OpFoldResult> &sizes) {
  auto t = cast<RankedTensorType>(resultType);
  if (t.getRank() == 3) {
    offsets = {b.getIndexAttr(0), off, b.getIndexAttr(0)};
    sizes = {b.getIndexAttr(t.getDimSize(0)), size,
             b.getIndexAttr(t.getDimSize(2))};
  } else {
    offsets = {off, b.getIndexAttr(0)};
    sizes = {size, b.getIndexAttr(t.getDimSize(1))};
  }
}

SmallVector<Range> rowDomain(OpBuilder &b, Location loc, Value input) {
  return {Range{b.getIndexAttr(0), tensor::getMixedSize(b, loc, input, 0),
                b.getIndexAttr(1)}};
}

/// Result shapes: the batch rows of `input`, everything else static.
LogicalResult reifyRows(OpBuilder &b, Location loc, Value input,
                        TypeRange results, ReifiedRankedShapedTypeDims &dims) {
  OpFoldResult rows = tensor::getMixedSize(b, loc, input, 0);
  for (Type t : results) {
    auto r = cast<RankedTensorType>(t);
    SmallVector<OpFoldResult> d;
    for (int64_t i = 0; i < r.getRank(); ++i) {
      bool rowDim = i == (r.getRank() == 3 ? 1 : 0);
      d.push_back(rowDim ? rows : b.getIndexAttr(r.getDimSize(i)));
    }
    dims.push_back(d);
  }
  return success();
}
} // namespace

SmallVector<utils::IteratorType> FeatureGemmOp::getLoopIteratorTypes() {
  return {utils::IteratorType::parallel};
}
SmallVector<Range> FeatureGemmOp::getIterationDomain(OpBuilder &b) {
  return rowDomain(b, getLoc(), getInput());
}
FailureOr<TilingResult>
FeatureGemmOp::getTiledImplementation(OpBuilder &b,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes) {
  return tileRows(b, *this, {getInput()}, offsets[0], sizes[0]);
}
LogicalResult FeatureGemmOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  rowTilePosition(b, getResult().getType(), offsets[0], sizes[0],
                  resultOffsets, resultSizes);
  return success();
}
LogicalResult
FeatureGemmOp::reifyResultShapes(OpBuilder &b,
                                 ReifiedRankedShapedTypeDims &dims) {
  return reifyRows(b, getLoc(), getInput(), getOperation()->getResultTypes(),
                   dims);
}

SmallVector<utils::IteratorType> FeatureGemmJvpOp::getLoopIteratorTypes() {
  return {utils::IteratorType::parallel};
}
SmallVector<Range> FeatureGemmJvpOp::getIterationDomain(OpBuilder &b) {
  return rowDomain(b, getLoc(), getInput());
}
FailureOr<TilingResult>
FeatureGemmJvpOp::getTiledImplementation(OpBuilder &b,
                                         ArrayRef<OpFoldResult> offsets,
                                         ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> rows{getInput()};
  if (getInputTangent())
    rows.push_back(getInputTangent());
  return tileRows(b, *this, rows, offsets[0], sizes[0]);
}
LogicalResult FeatureGemmJvpOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  rowTilePosition(b, getOperation()->getResult(resultNumber).getType(),
                  offsets[0], sizes[0], resultOffsets, resultSizes);
  return success();
}
LogicalResult
FeatureGemmJvpOp::reifyResultShapes(OpBuilder &b,
                                    ReifiedRankedShapedTypeDims &dims) {
  return reifyRows(b, getLoc(), getInput(), getOperation()->getResultTypes(),
                   dims);
}

std::pair<int64_t, int64_t> mlir::kan::getBatchAffineNumElements(ShapedType t) {
  int64_t stat = 1;
  bool dyn = false;
  for (int64_t d : t.getShape()) {
    if (ShapedType::isDynamic(d))
      dyn = true;
    else
      stat *= d;
  }
  return dyn ? std::make_pair(stat, int64_t(0))
             : std::make_pair(int64_t(0), stat);
}

//===----------------------------------------------------------------------===//
// Folds and canonicalisations
//===----------------------------------------------------------------------===//

namespace {
/// A layer whose tangent nobody reads is a plain layer.
struct DropUnusedLayerTangent : public OpRewritePattern<LayerJvpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerJvpOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getOutputTangent().use_empty())
      return failure();
    Value y = rewriter.create<LayerOp>(
        op.getLoc(), op.getOutput().getType(), op.getInput(), op.getGrid(),
        op.getBaseWeight(), op.getSplineWeight(), op.getSplineScaler(),
        op.getOrderAttr(), op.getActAttr());
    rewriter.replaceOp(op, {y, Value()});
    return success();
  }
};
} // namespace

void LayerJvpOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<DropUnusedLayerTangent>(context);
}

/// theta - 0 * sum_i c_i v_i is theta.
OpFoldResult UpdateOp::fold(FoldAdaptor) {
  if (getScale().isZero())
    return getParam();
  return {};
}

#define GET_OP_CLASSES
#include "kan/Dialect/Kan/KanOps.cpp.inc"
