//===- KanTileAndFuse.cpp - row tiles of the layer GEMMs --------*- C++ -*-===//
//
// The schedule half of a layer (Halide-style): how many batch rows one tile
// holds. The feature panel of a tile (and the tangent panels of every
// direction when the input has a tangent) must fit the target's budget; the
// basis and perturbation producers run inside each tile.
//
//===----------------------------------------------------------------------===//

#include "kan/KanOps.h"
#include "kan/Transforms/Passes.h"
#include "kan/Tools/Options.h"

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

  /// Rows per tile given the bytes one row of all panels takes.
  FailureOr<int64_t> chooseRows(Operation *op, int64_t bytesPerRow,
                                int64_t batch) {
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
    if (!ShapedType::isDynamic(batch))
      rows = std::min(rows, batch);
    return rows;
  }

  void runOnOperation() override {
    for (auto why :
         {kan::cli::check(kan::cli::tileRows, (int64_t)maxRows, "max-rows"),
          kan::cli::check(kan::cli::tileRows, (int64_t)rowMultiple,
                            "row-multiple"),
          kan::cli::check(kan::cli::positiveCount, (int64_t)panelBytes,
                            "panel-bytes")})
      if (why) {
        getOperation().emitError() << "kan-tile-and-fuse: " << *why;
        return signalPassFailure();
      }
    Builder b(&getContext());
    auto walkResult = getOperation().walk([&](Operation *op) -> WalkResult {
      auto setRows = [&](Value weights, Value input, int64_t panels) {
        auto w = cast<ShapedType>(weights.getType());
        auto x = cast<ShapedType>(input.getType());
        int64_t elt = w.getElementTypeBitWidth() / 8;
        FailureOr<int64_t> rows =
            chooseRows(op, panels * w.getDimSize(1) * elt, x.getDimSize(0));
        if (failed(rows))
          return failure();
        op->setAttr("tile_rows", b.getI64IntegerAttr(*rows));
        return success();
      };
      if (auto g = dyn_cast<FeatureGemmOp>(op))
        return failed(setRows(g.getWeights(), g.getInput(), 1))
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      if (auto g = dyn_cast<FeatureGemmJvpOp>(op)) {
        int64_t panels = 1 + (g.getInputTangent() ? g.getWidth() : 0);
        return failed(setRows(g.getWeights(), g.getInput(), panels))
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      }
      return WalkResult::advance();
    });
    if (walkResult.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
