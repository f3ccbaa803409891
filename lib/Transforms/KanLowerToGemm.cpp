//===- KanLowerToGemm.cpp - layers to concatenated-feature GEMMs -*- C++ -*-===//
//
// Layers and their JVPs become GEMMs over A = [act(x) | B(x)]; the activity
// update, the second GEMM dW = g^T A, gets the column tiles it runs in, so
// that A and dW are only ever held a tile at a time (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

#include <algorithm>
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANLOWERTOGEMM
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

static Value packWeights(PatternRewriter &rewriter, Location loc, Value base,
                         Value spline, Value scaler) {
  auto b = cast<RankedTensorType>(base.getType());
  auto c = cast<RankedTensorType>(spline.getType());
  auto wType = RankedTensorType::get(
      {b.getDimSize(0), b.getDimSize(1) * (c.getDimSize(2) + 1)},
      b.getElementType());
  return rewriter.create<PackWeightsOp>(loc, wType, base, spline, scaler,
                                        WeightLayoutAttr());
}

namespace {
struct LowerLayer : public OpRewritePattern<LayerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    Value w = packWeights(rewriter, op.getLoc(), op.getBaseWeight(),
                          op.getSplineWeight(), op.getSplineScaler());
    rewriter.replaceOpWithNewOp<FeatureGemmOp>(
        op, op.getType(), op.getInput(), op.getGrid(), w, /*aux=*/Value(),
        op.getOrderAttr(), op.getActAttr(), ForwardKernelAttr());
    return success();
  }
};

/// The perturbations of a layer's weights can be fused when each present
/// tangent is a `kan.perturb` of the same seed, step, distribution, density
/// and first direction.
struct FusablePerturbation {
  Value seed, step;
  DistributionAttr dist;
  FloatAttr density;
  int64_t firstDirection = 0;
  SmallVector<int64_t, 3> streams{-1, -1, -1};
};

std::optional<FusablePerturbation> matchPerturbations(LayerJvpOp op) {
  FusablePerturbation f;
  Value tangents[3] = {op.getBaseWeightTangent(), op.getSplineWeightTangent(),
                       op.getSplineScalerTangent()};
  bool any = false;
  for (int i = 0; i < 3; ++i) {
    if (!tangents[i])
      continue;
    auto p = tangents[i].getDefiningOp<PerturbOp>();
    if (!p)
      return std::nullopt;
    if (!any) {
      f.seed = p.getSeed(), f.step = p.getStep();
      f.dist = p.getDistAttr(), f.density = p.getDensityAttr();
      f.firstDirection = p.getFirstDirection();
      any = true;
    } else if (p.getSeed() != f.seed || p.getStep() != f.step ||
               p.getDistAttr() != f.dist || p.getDensityAttr() != f.density ||
               p.getFirstDirection() != f.firstDirection) {
      return std::nullopt;
    }
    f.streams[i] = p.getStream();
  }
  if (!any)
    return std::nullopt;
  return f;
}

struct LowerLayerJvp : public OpRewritePattern<LayerJvpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerJvpOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value w = packWeights(rewriter, loc, op.getBaseWeight(),
                          op.getSplineWeight(), op.getSplineScaler());
    Value wt, seed, step;
    DistributionAttr dist;
    FloatAttr density;
    DenseI64ArrayAttr streams;
    int64_t firstDirection = 0;
    if (auto f = matchPerturbations(op)) {
      seed = f->seed, step = f->step, dist = f->dist, density = f->density;
      streams = rewriter.getDenseI64ArrayAttr(f->streams);
      firstDirection = f->firstDirection;
    } else if (op.getBaseWeightTangent() || op.getSplineWeightTangent() ||
               op.getSplineScalerTangent()) {
      auto wType = cast<RankedTensorType>(w.getType());
      auto wtType = RankedTensorType::get(
          {op.getWidth(), wType.getDimSize(0), wType.getDimSize(1)},
          wType.getElementType());
      wt = rewriter.create<PackWeightsTangentOp>(
          loc, wtType, op.getSplineWeight(), op.getSplineScaler(),
          op.getBaseWeightTangent(), op.getSplineWeightTangent(),
          op.getSplineScalerTangent());
    }
    rewriter.replaceOpWithNewOp<FeatureGemmJvpOp>(
        op, op->getResultTypes(), op.getInput(), op.getGrid(), w,
        op.getSplineWeight(), op.getSplineScaler(), op.getInputTangent(), wt,
        seed, step, /*aux=*/Value(), /*csr=*/Value(), Value(), Value(),
        /*span_weights=*/Value(), op.getOrderAttr(), op.getActAttr(), dist,
        density, streams, InputTangentKernelAttr(), WeightTangentKernelAttr(),
        rewriter.getI64IntegerAttr(firstDirection),
        /*weight_tangent_cols=*/IntegerAttr());
    return success();
  }
};

/// The tiles of an activity update's GEMM (see the pass description).
struct TileActivityUpdate : public OpRewritePattern<ActivityUpdateOp> {
  TileActivityUpdate(MLIRContext *ctx, int64_t rows, int64_t panelBytes)
      : OpRewritePattern(ctx), rows(rows), panelBytes(panelBytes) {}
  LogicalResult matchAndRewrite(ActivityUpdateOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInputTile())
      return failure();
    auto x = op.getInput().getType();
    auto grid = op.getGrid().getType();
    int64_t order = op.getOrder(), in = grid.getDimSize(0);
    int64_t g = grid.getDimSize(1) - 2 * order - 1;
    int64_t r = rows;
    if (!x.isDynamicDim(0))
      r = std::max<int64_t>(1, std::min(r, x.getDimSize(0)));
    // One input's feature columns of a chunk: G+k+1 values per row.
    int64_t perInput = r * (g + order + 1) * (x.getElementTypeBitWidth() / 8);
    int64_t tile = std::clamp<int64_t>(panelBytes / perInput, 1, in);
    Value aux = rewriter.create<GridPrepareOp>(
        op.getLoc(),
        RankedTensorType::get({GridPrepareOp::getAuxSize(in, g, order)},
                              grid.getElementType()),
        op.getGrid(), rewriter.getI64IntegerAttr(order));
    rewriter.modifyOpInPlace(op, [&] {
      op.getAuxMutable().assign(aux);
      op.setInputTileAttr(rewriter.getI64IntegerAttr(tile));
      op.setRowTileAttr(rewriter.getI64IntegerAttr(r));
    });
    return success();
  }
  int64_t rows, panelBytes;
};

struct KanLowerToGemmPass
    : public kan::impl::KanLowerToGemmBase<KanLowerToGemmPass> {
  using KanLowerToGemmBase::KanLowerToGemmBase;
  void runOnOperation() override {
    if (updateRows < 1 || updatePanelBytes < 1) {
      getOperation().emitError()
          << "kan-lower-to-gemm: update-rows and update-panel-bytes must be "
             "positive";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerLayer, LowerLayerJvp>(&getContext());
    patterns.add<TileActivityUpdate>(&getContext(), updateRows,
                                     updatePanelBytes);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
