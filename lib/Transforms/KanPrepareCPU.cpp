//===- KanPrepareCPU.cpp - record the CPU kernel choices --------*- C++ -*-===//
//
// The CPU target's PrepareForEmission (as in CIRCT): every choice the C
// printer would otherwise make is taken here and written into the IR, where
// it can be tested and overridden, and the printer only reads it:
//  - the layout of packed weights (span when only primal GEMMs read them),
//  - the kernel of each primal GEMM (span-local or feature panel),
//  - how a layer JVP computes A'_d W^T (Jacobian or tangent panels; the
//    Jacobian's span-layout copy of W becomes a `kan.span_weights` op in
//    front of the row tiles) and A W'_d^T (given, regenerated, CSR rows;
//    regenerated ones in blocks of columns sized by `draw-bytes`).
// Tile sizes are the steps of the row-tile loops (kan-tile-and-fuse).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANPREPARECPU
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {
/// Packed weights only primal GEMMs read take the span layout: the forward
/// then skips the zero basis values instead of multiplying them.
bool wantsSpanLayout(PackWeightsOp p) {
  return llvm::all_of(p->getUsers(),
                      [](Operation *u) { return isa<FeatureGemmOp>(u); });
}

struct KanPrepareCPUPass
    : public kan::impl::KanPrepareCPUBase<KanPrepareCPUPass> {
  using KanPrepareCPUBase::KanPrepareCPUBase;

  /// Dense draws fused into a JVP are regenerated per row tile and
  /// direction. When the step's W'_d of all directions (and their draws)
  /// fit in `pregenerate-bytes`, they are drawn and packed once instead, in
  /// front of the row tiles (kan.perturb and kan.pack_weights_tangent, the
  /// same draws and packing the fused kernel does per tile), and the JVP
  /// reads them as a given W'_d.
  void pregenerateDirections(FeatureGemmJvpOp j) {
    auto wT = j.getWeights().getType();
    auto cT = j.getSplineWeight().getType();
    int64_t width = j.getWidth(), out = wT.getDimSize(0),
            kk = wT.getDimSize(1), in = cT.getDimSize(1),
            gk = cT.getDimSize(2);
    ArrayRef<int64_t> streams = *j.getStreams();
    int64_t sizes[3] = {out * in, out * in * gk, out * in};
    int64_t elems = out * kk;
    for (int i = 0; i < 3; ++i)
      if (streams[i] >= 0)
        elems += sizes[i];
    int64_t eltBytes = wT.getElementType().getIntOrFloatBitWidth() / 8;
    if (pregenerateBytes <= 0 ||
        width * elems > pregenerateBytes / eltBytes)
      return;
    Operation *anchor = j;
    if (auto loop = j->getParentOfType<scf::ForallOp>())
      anchor = loop;
    // The draws' operands must be available in front of the loop.
    Value used[] = {j.getSeed(), j.getStep(), j.getSplineWeight(),
                    j.getSplineScaler()};
    for (Value v : used)
      if (v && anchor != j.getOperation() &&
          anchor->isAncestor(v.getParentRegion()->getParentOp()))
        return;
    OpBuilder b(anchor);
    Location loc = j.getLoc();
    Type elt = wT.getElementType();
    SmallVector<int64_t> shapes[3] = {
        {width, out, in}, {width, out, in, gk}, {width, out, in}};
    Value draws[3];
    for (int i = 0; i < 3; ++i)
      if (streams[i] >= 0)
        draws[i] = b.create<PerturbOp>(
            loc, RankedTensorType::get(shapes[i], elt), j.getSeed(),
            j.getStep(), *j.getDist(), streams[i], j.getFirstDirection(),
            FloatAttr());
    Value wt = b.create<PackWeightsTangentOp>(
        loc, RankedTensorType::get({width, out, kk}, elt),
        j.getSplineWeight(), j.getSplineScaler(), draws[0], draws[1],
        draws[2]);
    j.getWeightsTangentMutable().assign(wt);
    j.getSeedMutable().clear();
    j.getStepMutable().clear();
    j.removeDistAttr();
    j.removeStreamsAttr();
    j.removeDensityAttr();
  }

  /// The largest row tile of the loop around `op`: its constant step, or
  /// the constant bound of kan-tile-and-fuse's `affine.min` tile.
  static std::optional<int64_t> tileRows(Operation *op) {
    auto loop = op->getParentOfType<scf::ForallOp>();
    if (!loop || loop.getRank() != 1)
      return std::nullopt;
    OpFoldResult s = loop.getMixedStep()[0];
    if (std::optional<int64_t> c = getConstantIntValue(s))
      return c;
    std::optional<int64_t> rows;
    if (auto v = dyn_cast<Value>(s))
      if (auto min = v.getDefiningOp<affine::AffineMinOp>())
        for (AffineExpr e : min.getAffineMap().getResults())
          if (auto c = dyn_cast<AffineConstantExpr>(e);
              c && c.getValue() > 0 && (!rows || c.getValue() < *rows))
            rows = c.getValue();
    return rows;
  }

  /// Directions regenerated per row tile are drawn in blocks of columns:
  /// a block's features serve the primal GEMM and every direction while in
  /// cache, and only one block of the features and of one W'_d exists per
  /// thread (fg's 784 x 64 layer, 128 rows: 21 MiB of panel, packed
  /// panel and W'_d scratch per thread, 0.8 MiB in blocks of 512).
  void chooseDrawColumns(FeatureGemmJvpOp j) {
    if (drawBytes <= 0 || j.getWeightTangentCols() ||
        j.getWeightTangentKernel() != WeightTangentKernel::regenerate ||
        j.getInputTangentKernel() == InputTangentKernel::panel)
      return;
    std::optional<int64_t> rows = tileRows(j);
    if (!rows)
      return;
    auto wT = j.getWeights().getType();
    int64_t out = wT.getDimSize(0), kk = wT.getDimSize(1);
    int64_t gk = j.getSplineWeight().getType().getDimSize(2);
    int64_t elt = wT.getElementType().getIntOrFloatBitWidth() / 8;
    // Per column: the tile's features, the W'_d block, the spline draws
    // and the packed row of their inputs (kan_layer_jvp_cols_work_size).
    int64_t perCol =
        (*rows + out + 2) * elt + 2 * elt / std::max<int64_t>(gk, 1);
    int64_t fit = drawBytes / perCol;
    int64_t cols = fit >= 256 ? fit / 256 * 256 : fit / 8 * 8;
    if (cols < 8)
      cols = 8;
    if (cols >= kk)
      return;
    j.setWeightTangentColsAttr(
        IntegerAttr::get(IntegerType::get(&getContext(), 64), cols));
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (forwardKernel != "auto" && forwardKernel != "span" &&
        forwardKernel != "panel") {
      getOperation().emitError() << "kan-prepare-cpu: forward-kernel must "
                                    "be auto, span or panel, not '"
                                 << forwardKernel << "'";
      return signalPassFailure();
    }
    if (inputTangentKernel != "auto" && inputTangentKernel != "jacobian" &&
        inputTangentKernel != "jacobian-multi" &&
        inputTangentKernel != "panel") {
      getOperation().emitError()
          << "kan-prepare-cpu: input-tangent-kernel must be auto, jacobian, "
             "jacobian-multi or panel, not '"
          << inputTangentKernel << "'";
      return signalPassFailure();
    }
    bool spanAllowed = forwardKernel != "panel";
    getOperation().walk([&](PackWeightsOp p) {
      if (!p.getLayout())
        p.setLayoutAttr(WeightLayoutAttr::get(
            ctx, spanAllowed && wantsSpanLayout(p) ? WeightLayout::span
                                                   : WeightLayout::dense));
    });
    WalkResult r = getOperation().walk([&](FeatureGemmOp g) -> WalkResult {
      auto p = g.getWeights().getDefiningOp<PackWeightsOp>();
      bool spanWeights = p && p.getLayout() == WeightLayout::span;
      if (!g.getKernel())
        g.setKernelAttr(ForwardKernelAttr::get(
            ctx, spanWeights ? ForwardKernel::span : ForwardKernel::panel));
      // The two kernels read different layouts of the same weights.
      if ((*g.getKernel() == ForwardKernel::span) != spanWeights)
        return g.emitOpError()
               << "has the " << stringifyForwardKernel(*g.getKernel())
               << " kernel but its weights are not in the layout it reads";
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return signalPassFailure();
    r = getOperation().walk([&](FeatureGemmJvpOp j) -> WalkResult {
      if (auto p = j.getWeights().getDefiningOp<PackWeightsOp>();
          p && p.getLayout() == WeightLayout::span)
        return j.emitOpError() << "reads weights in the span layout; its "
                                  "kernels read the dense layout";
      int64_t out = j.getWeights().getType().getDimSize(0);
      int64_t gk = j.getSplineWeight().getType().getDimSize(2);
      if (!j.getInputTangentKernel()) {
        // A KAN layer is a sum of one-input functions, so y'_d = J x'_d
        // with the layer's input Jacobian J (O x I per row): one J per row
        // tile serves all directions. It replaces the tangent feature
        // panels (I(G+k+1) per row and direction) and their GEMMs whenever
        // it is the smaller of the two.
        // With several directions J is applied row by row to all of them
        // (a row's J stays in cache; a tile's J, O*I per row, does not).
        bool jac = inputTangentKernel == "auto"
                       ? out < j.getWidth() * (gk + 1)
                       : inputTangentKernel != "panel";
        bool multi = inputTangentKernel == "auto"
                         ? j.getWidth() > 1
                         : inputTangentKernel == "jacobian-multi";
        InputTangentKernel itk =
            !j.getInputTangent() ? InputTangentKernel::none
            : !jac               ? InputTangentKernel::panel
            : multi              ? InputTangentKernel::jacobian_multi
                                 : InputTangentKernel::jacobian;
        j.setInputTangentKernelAttr(InputTangentKernelAttr::get(ctx, itk));
      }
      if ((j.getInputTangentKernel() == InputTangentKernel::jacobian ||
           j.getInputTangentKernel() == InputTangentKernel::jacobian_multi) &&
          !j.getSpanWeights()) {
        // Once per layer, in front of the row tiles.
        Operation *anchor = j;
        if (auto loop = j->getParentOfType<scf::ForallOp>())
          anchor = loop;
        OpBuilder b(anchor);
        Value span = b.create<SpanWeightsOp>(
            j.getLoc(), j.getWeights(),
            b.getI64IntegerAttr(j.getGrid().getType().getDimSize(0)));
        j.getSpanWeightsMutable().assign(span);
      }
      if (!j.getWeightTangentKernel() && j.getSeed() &&
          j.getDist() != Distribution::sparse_ternary)
        pregenerateDirections(j);
      if (!j.getWeightTangentKernel()) {
        WeightTangentKernel wtk =
            j.getCsrRowptr()        ? WeightTangentKernel::sparse_rows
            : j.getSeed()           ? WeightTangentKernel::regenerate
            : j.getWeightsTangent() ? WeightTangentKernel::dense
                                    : WeightTangentKernel::none;
        j.setWeightTangentKernelAttr(WeightTangentKernelAttr::get(ctx, wtk));
      }
      chooseDrawColumns(j);
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
