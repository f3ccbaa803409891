//===- KanTileAndFuse.cpp - row tiles of the layer GEMMs --------*- C++ -*-===//
//
// The schedule half of a layer (Halide-style): each `kan.feature_gemm(_jvp)`
// becomes an `scf.forall` over row tiles whose body is the op on a slice of
// rows (the ops' TilingInterface, tiled by the upstream scf::tileUsingSCF).
// The basis, the input-tangent features and the dense perturbation draws of
// a tile are computed inside the tiled op; what every tile shares is hoisted
// in front of the loop as IR: the grid's knot data (`kan.grid_prepare`) and
// the CSR form of fused sparse perturbations (`kan.sparse_directions`).
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Transforms/Passes.h"
#include "kan/Support/Options.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANTILEANDFUSE
#include "kan/Transforms/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {
struct KanTileAndFusePass
    : public kan::impl::KanTileAndFuseBase<KanTileAndFusePass> {
  using KanTileAndFuseBase::KanTileAndFuseBase;

  /// Rows per tile given the bytes one row of all panels takes: the most
  /// the panel budget allows (at most `max-rows`, a multiple of
  /// `row-multiple`) and, with a `threads` hint T above one, tiles in whole
  /// rounds of T: a batch of one budget-sized tile still gives every
  /// thread rows, and a batch of 1.5 tiles is not 2 tiles on one thread and
  /// 1 on the other. A dynamic batch makes the tile `affine.max` /
  /// `affine.min` ops of the batch size in front of the loop. Rows are
  /// independent in every tiled kernel, so the tile only decides which
  /// thread computes a row.
  FailureOr<OpFoldResult> chooseRows(OpBuilder &b, Operation *op,
                                     int64_t bytesPerRow, Value input) {
    // The verifier refuses zero-sized operands; a pass run on unverified IR
    // must still not divide by zero.
    if (bytesPerRow < 1) {
      op->emitOpError() << "has panels of " << bytesPerRow
                        << " bytes per row (a zero-sized dimension)";
      return failure();
    }
    int64_t rows = std::min<int64_t>(maxRows, panelBytes / bytesPerRow);
    rows -= rows % rowMultiple;
    if (rows < 1)
      rows = std::min<int64_t>(1, maxRows);
    if (panelBytes < bytesPerRow) {
      op->emitOpError() << "one row of its panels takes " << bytesPerRow
                        << " bytes, more than the panel budget of "
                        << (int64_t)panelBytes << " bytes";
      return failure();
    }
    int64_t batch = cast<ShapedType>(input.getType()).getDimSize(0);
    if (threads == 1 || rows <= rowMultiple) {
      if (!ShapedType::isDynamic(batch))
        rows = std::min(rows, batch);
      return OpFoldResult(b.getIndexAttr(rows));
    }
    // k rounds of T tiles of at most `rows` cover the batch: tiles of
    // ceil(N / (T k)) rows, rounded up to the row multiple, i.e.
    // ceil(N / (T k m)) m, so that the tiles come in whole rounds.
    int64_t t = threads, m = rowMultiple;
    if (!ShapedType::isDynamic(batch)) {
      auto ceilDiv = [](int64_t x, int64_t y) { return (x + y - 1) / y; };
      int64_t k = std::max<int64_t>(1, ceilDiv(batch, t * rows));
      int64_t share = std::max(m, ceilDiv(batch, t * k * m) * m);
      return OpFoldResult(
          b.getIndexAttr(std::min({rows, share, std::max<int64_t>(batch, 1)})));
    }
    Location loc = op->getLoc();
    MLIRContext *ctx = b.getContext();
    Value n = b.create<tensor::DimOp>(loc, input, 0);
    AffineExpr s0 = getAffineSymbolExpr(0, ctx),
               s1 = getAffineSymbolExpr(1, ctx);
    auto c = [&](int64_t v) { return getAffineConstantExpr(v, ctx); };
    // At least one round, and at least one row multiple (an empty batch
    // gives no tiles, not a zero step).
    Value k = b.create<affine::AffineMaxOp>(
        loc, AffineMap::get(0, 1, {c(1), s0.ceilDiv(t * rows)}, ctx),
        ValueRange{n});
    Value share = b.create<affine::AffineMaxOp>(
        loc, AffineMap::get(0, 2, {c(m), s0.ceilDiv(s1 * (t * m)) * m}, ctx),
        ValueRange{n, k});
    Value tile = b.create<affine::AffineMinOp>(
        loc, AffineMap::get(0, 1, {c(rows), s0}, ctx), ValueRange{share});
    return OpFoldResult(tile);
  }

  /// Hoists the grid's knot data in front of `op` (its `aux` operand).
  template <typename OpTy> void hoistGrid(OpBuilder &b, OpTy op) {
    if (op.getAux())
      return;
    auto grid = op.getGrid().getType();
    int64_t order = op.getOrder();
    int64_t size = GridPrepareOp::getAuxSize(
        grid.getDimSize(0), grid.getDimSize(1) - 2 * order - 1, order);
    Value aux = b.create<GridPrepareOp>(
        op.getLoc(), RankedTensorType::get({size}, grid.getElementType()),
        op.getGrid(), b.getI64IntegerAttr(order));
    op.getAuxMutable().assign(aux);
  }

  /// Fused sparse ternary perturbations: their CSR form is built once, in
  /// front of the row tiles, instead of the seed inside the op.
  void hoistSparse(OpBuilder &b, FeatureGemmJvpOp op) {
    if (!op.getDist() || *op.getDist() != Distribution::sparse_ternary)
      return;
    auto c = op.getSplineWeight().getType();
    int64_t width = op.getWidth(), out = c.getDimSize(0);
    Type i32 = b.getI32Type();
    auto dirs = b.create<SparseDirectionsOp>(
        op.getLoc(), RankedTensorType::get({width, out + 1}, i32),
        RankedTensorType::get({width, ShapedType::kDynamic}, i32),
        RankedTensorType::get({width, ShapedType::kDynamic},
                              c.getElementType()),
        op.getSplineWeight(), op.getSplineScaler(), op.getSeed(), op.getStep(),
        op.getStreamsAttr(), op.getDensityAttr(),
        op.getFirstDirectionAttr());
    op.getSeedMutable().clear();
    op.getStepMutable().clear();
    op.getCsrRowptrMutable().assign(dirs.getRowptr());
    op.getCsrColsMutable().assign(dirs.getCols());
    op.getCsrValsMutable().assign(dirs.getVals());
    op.removeDistAttr();
    op.removeStreamsAttr();
    op.removeDensityAttr();
  }

  LogicalResult tile(IRRewriter &rewriter, Operation *op, OpFoldResult rows) {
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    options.setTileSizes({rows});
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
    if (failed(tiled))
      return op->emitOpError() << "could not be tiled into row tiles";
    rewriter.replaceOp(op, tiled->replacements);
    return success();
  }

  void runOnOperation() override {
    for (auto why :
         {kan::cli::check(kan::cli::tileRows, (int64_t)maxRows, "max-rows"),
          kan::cli::check(kan::cli::tileRows, (int64_t)rowMultiple,
                          "row-multiple"),
          kan::cli::check(kan::cli::positiveCount, (int64_t)panelBytes,
                          "panel-bytes"),
          kan::cli::check(kan::cli::threads, (int64_t)threads, "threads")})
      if (why) {
        getOperation().emitError() << "kan-tile-and-fuse: " << *why;
        return signalPassFailure();
      }
    // Only ops not inside a row tile yet.
    SmallVector<Operation *> gemms;
    getOperation().walk([&](Operation *op) {
      if (isa<FeatureGemmOp, FeatureGemmJvpOp>(op) &&
          !op->getParentOfType<scf::ForallOp>())
        gemms.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : gemms) {
      auto rowsFor = [&](Value weights, Value input, int64_t panels) {
        auto w = cast<ShapedType>(weights.getType());
        int64_t elt = w.getElementTypeBitWidth() / 8;
        return chooseRows(rewriter, op, panels * w.getDimSize(1) * elt, input);
      };
      FailureOr<OpFoldResult> rows = failure();
      rewriter.setInsertionPoint(op);
      if (auto g = dyn_cast<FeatureGemmOp>(op)) {
        rows = rowsFor(g.getWeights(), g.getInput(), 1);
        hoistGrid(rewriter, g);
      } else {
        auto j = cast<FeatureGemmJvpOp>(op);
        rows = rowsFor(j.getWeights(), j.getInput(),
                       1 + (j.getInputTangent() ? j.getWidth() : 0));
        hoistGrid(rewriter, j);
        hoistSparse(rewriter, j);
      }
      if (failed(rows) || failed(tile(rewriter, op, *rows)))
        return signalPassFailure();
    }
  }
};
} // namespace
