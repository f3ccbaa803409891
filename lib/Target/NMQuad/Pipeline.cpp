//===- Pipeline.cpp - the NM Quad target's pass pipeline --------*- C++ -*-===//

#include "kan/Target/NMQuad/NMQuadTarget.h"
#include "kan/Conversion/NMQuadBoards.h"

using namespace mlir;
using namespace mlir::kan;

KanToNMCOptions NMQuadTargetOptions::getScheduleOptions() const {
  KanToNMCOptions o;
  o.chips = chips;
  // A profile brings its chip count unless --chips says otherwise.
  if (!chips.getNumOccurrences())
    if (std::optional<NMQuadBoard> b = getNMQuadBoard(board))
      o.chips = b->chips;
  o.board = board;
  o.cores = cores;
  o.split = split;
  o.ddrStreams = ddrStreams;
  o.batch = batch;
  return o;
}

void mlir::kan::buildNMQuadPipeline(OpPassManager &pm,
                                    const NMQuadTargetOptions &options) {
  buildFrontendPipeline(pm, options);
  pm.addPass(createKanToNMC(options.getScheduleOptions()));
}
