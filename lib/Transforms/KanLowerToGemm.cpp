//===- KanLowerToGemm.cpp - layers to concatenated-feature GEMMs -*- C++
//-*-===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
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
        rewriter.getI64IntegerAttr(firstDirection));
    return success();
  }
};

struct KanLowerToGemmPass
    : public kan::impl::KanLowerToGemmBase<KanLowerToGemmPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerLayer, LowerLayerJvp>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
