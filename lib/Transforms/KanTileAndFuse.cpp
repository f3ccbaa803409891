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
// A chain of layer JVPs (layer l+1 reads layer l's output and tangents,
// nothing else does) is fused into one loop whose tile runs every layer of
// the chain on its rows: the tangents of all directions between two layers
// exist for one tile per thread, not for the batch (for noise_step's
// [784,64,10] at batch 256 and 128 directions: 16 MiB). The tile comes from
// its own budget, `fuse-bytes`, which counts what one tile holds per row.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Support/Options.h"
#include "kan/Transforms/Passes.h"

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
    return chooseRows(b, op, bytesPerRow, input, panelBytes, "panel budget");
  }
  FailureOr<OpFoldResult> chooseRows(OpBuilder &b, Operation *op,
                                     int64_t bytesPerRow, Value input,
                                     int64_t panelBytes, StringRef budget) {
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
                        << " bytes, more than the " << budget << " of "
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
        op.getStreamsAttr(), op.getDensityAttr(), op.getFirstDirectionAttr());
    op.getSeedMutable().clear();
    op.getStepMutable().clear();
    op.getCsrRowptrMutable().assign(dirs.getRowptr());
    op.getCsrColsMutable().assign(dirs.getCols());
    op.getCsrValsMutable().assign(dirs.getVals());
    op.removeDistAttr();
    op.removeStreamsAttr();
    op.removeDensityAttr();
  }

  /// A JVP whose work per tile is proportional to its rows: no dense
  /// weight tangents, which a tile reads (a given W'_d of all directions) or
  /// draws (regenerated) whole whatever its rows. The small tiles of a fused
  /// chain would multiply that work (fg's 32 regenerated directions at batch
  /// 256 in 12-row tiles: 1.6-2.7 instead of 3.6-3.7 steps/s); sparse
  /// directions touch only the columns of the tile's rows.
  static bool costsPerRow(FeatureGemmJvpOp j) {
    return !j.getWeightsTangent() &&
           (!j.getDist() || *j.getDist() == Distribution::sparse_ternary);
  }

  /// The chains to fuse: runs of layer JVPs where each reads the output
  /// and output tangent of the one before, and only it reads them.
  SmallVector<SmallVector<FeatureGemmJvpOp>> findChains() {
    SmallVector<SmallVector<FeatureGemmJvpOp>> chains;
    DenseSet<Operation *> taken;
    getOperation().walk([&](FeatureGemmJvpOp j) {
      if (taken.contains(j) || j->getParentOfType<scf::ForallOp>() ||
          !costsPerRow(j))
        return;
      SmallVector<FeatureGemmJvpOp> chain{j};
      while (true) {
        FeatureGemmJvpOp last = chain.back();
        if (!last.getOutput().hasOneUse() ||
            !last.getOutputTangent().hasOneUse())
          break;
        auto next =
            dyn_cast<FeatureGemmJvpOp>(*last.getOutput().getUsers().begin());
        if (!next || !costsPerRow(next) ||
            next.getInput() != last.getOutput() ||
            next.getInputTangent() != last.getOutputTangent() ||
            next->getBlock() != last->getBlock())
          break;
        chain.push_back(next);
      }
      if (chain.size() < 2)
        return;
      for (FeatureGemmJvpOp c : chain)
        taken.insert(c);
      chains.push_back(chain);
    });
    return chains;
  }

  /// Bytes one row of a fused tile holds: every layer's feature panel, the
  /// input-tangent work of every layer that has one (tangent panels of all
  /// directions, or the input Jacobian when it is smaller: kan-prepare-cpu's
  /// rule), and the outputs and tangents passed from one layer to the next.
  static int64_t fusedBytesPerRow(ArrayRef<FeatureGemmJvpOp> chain) {
    int64_t elems = 0, elt = 8;
    for (auto [i, jc] : llvm::enumerate(chain)) {
      FeatureGemmJvpOp j = jc;
      auto w = j.getWeights().getType();
      elt = w.getElementTypeBitWidth() / 8;
      int64_t out = w.getDimSize(0), kk = w.getDimSize(1),
              in = j.getGrid().getType().getDimSize(0), width = j.getWidth();
      elems += kk;
      if (j.getInputTangent())
        elems += std::min(width * kk, in * ((out + 7) / 8 * 8));
      if (i + 1 < chain.size())
        elems += out * (1 + width);
    }
    return elems * elt;
  }

  /// One row-tile loop for the whole chain, in place of its last op.
  LogicalResult fuse(IRRewriter &rewriter, ArrayRef<FeatureGemmJvpOp> chain) {
    FeatureGemmJvpOp first = chain.front(), last = chain.back();
    Location loc = last.getLoc();
    // Every operand of the chain dominates its last op.
    rewriter.setInsertionPoint(last);
    for (FeatureGemmJvpOp j : chain) {
      hoistGrid(rewriter, j);
      hoistSparse(rewriter, j);
    }
    FailureOr<OpFoldResult> rows =
        chooseRows(rewriter, first, fusedBytesPerRow(chain), first.getInput(),
                   fuseBytes, "fused tile budget");
    if (failed(rows))
      return failure();
    OpFoldResult n = tensor::getMixedSize(rewriter, loc, first.getInput(), 0);
    SmallVector<Value> inits;
    for (OpResult r : last->getResults()) {
      auto t = cast<RankedTensorType>(r.getType());
      SmallVector<Value> dyn;
      if (t.isDynamicDim(t.getRank() == 3 ? 1 : 0))
        dyn.push_back(cast<Value>(n));
      inits.push_back(rewriter.create<tensor::EmptyOp>(loc, t, dyn));
    }
    auto loop = rewriter.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{n}, ArrayRef<OpFoldResult>{*rows}, inits,
        std::nullopt);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value iv = loop.getInductionVar(0);
    // The last tile of the batch is shorter.
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr d0 = getAffineDimExpr(0, ctx), s0 = getAffineSymbolExpr(0, ctx),
               s1 = getAffineSymbolExpr(1, ctx);
    OpFoldResult size = affine::makeComposedFoldedAffineMin(
        rewriter, loc, AffineMap::get(1, 2, {s0, s1 - d0}, ctx),
        {iv, *rows, n});
    Operation *prev = nullptr;
    for (FeatureGemmJvpOp j : chain) {
      FailureOr<TilingResult> t =
          j.getTiledImplementation(rewriter, {iv}, {size});
      if (failed(t) || t->tiledOps.size() != 1)
        return j.emitOpError() << "could not be tiled into row tiles";
      auto tiled = cast<FeatureGemmJvpOp>(t->tiledOps.front());
      if (prev) {
        // Read the previous layer's tile, not a slice of a whole tensor.
        Operation *xs = tiled.getInput().getDefiningOp();
        Operation *ts = tiled.getInputTangent().getDefiningOp();
        tiled.getInputMutable().assign(prev->getResult(0));
        tiled.getInputTangentMutable().assign(prev->getResult(1));
        rewriter.eraseOp(xs);
        rewriter.eraseOp(ts);
      }
      prev = tiled;
    }
    rewriter.setInsertionPointToStart(loop.getTerminator().getBody());
    for (auto [r, out] :
         llvm::zip(prev->getResults(), loop.getRegionIterArgs())) {
      SmallVector<OpFoldResult> offsets, sizes;
      if (failed(cast<TilingInterface>(prev).getResultTilePosition(
              rewriter, r.getResultNumber(), {iv}, {size}, offsets, sizes)))
        return failure();
      SmallVector<OpFoldResult> strides(offsets.size(),
                                        rewriter.getIndexAttr(1));
      rewriter.create<tensor::ParallelInsertSliceOp>(loc, r, out, offsets,
                                                     sizes, strides);
    }
    rewriter.replaceOp(last, loop.getResults());
    for (FeatureGemmJvpOp j : llvm::reverse(chain.drop_back()))
      rewriter.eraseOp(j);
    return success();
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
          kan::cli::check(kan::cli::threads, (int64_t)threads, "threads"),
          kan::cli::check(kan::cli::nonNegativeCount, (int64_t)fuseBytes,
                          "fuse-bytes")})
      if (why) {
        getOperation().emitError() << "kan-tile-and-fuse: " << *why;
        return signalPassFailure();
      }
    IRRewriter rewriter(&getContext());
    if (fuseBytes > 0)
      for (const auto &chain : findChains())
        if (failed(fuse(rewriter, chain)))
          return signalPassFailure();
    // Only ops not inside a row tile yet.
    SmallVector<Operation *> gemms;
    getOperation().walk([&](Operation *op) {
      if (isa<FeatureGemmOp, FeatureGemmJvpOp>(op) &&
          !op->getParentOfType<scf::ForallOp>())
        gemms.push_back(op);
    });
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
