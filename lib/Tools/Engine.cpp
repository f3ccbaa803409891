//===- Engine.cpp - training options shared by the tools --------*- C++ -*-===//
//
// The optimiser configuration of a run, as the replay log and the runtime's
// kan_optimizer_step see it; the compiled train step applies the same
// update (kan-build-train-step) bit for bit.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Engine.h"

#include "kanrt/kanrt.h"

#include <cmath>

using namespace kan::tools;
using llvm::Error;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Engine::~Engine() = default;

std::string TrainConfig::resolvedDist() const {
  if (dist == "sparse")
    return "sparse_ternary";
  if (!dist.empty())
    return dist;
  return rule == "fg" ? "normal" : "sparse_ternary";
}

llvm::Expected<OptimSetup> kan::tools::makeOptimSetup(const Model &model,
                                                      const TrainConfig &cfg) {
  OptimSetup s;
  if (cfg.rule == "fg")
    s.kind = KAN_OPT_FG;
  else if (cfg.rule == "ternary")
    s.kind = KAN_OPT_TERNARY;
  else
    return makeError("unknown update rule '" + cfg.rule +
                     "' (expected fg or ternary)");
  std::string d = cfg.resolvedDist();
  if (d == "normal")
    s.dist = KAN_DIST_NORMAL;
  else if (d == "rademacher")
    s.dist = KAN_DIST_RADEMACHER;
  else if (d == "sparse_ternary")
    s.dist = KAN_DIST_SPARSE;
  else
    return makeError("unknown perturbation distribution '" + d +
                     "' (expected sparse_ternary, normal or rademacher)");
  // As kan-build-train-step: fg's estimate needs unit-variance directions.
  if (s.kind == KAN_OPT_FG && s.dist == KAN_DIST_SPARSE)
    return makeError("rule 'fg' needs unit-variance directions (--dist "
                     "normal or rademacher), not sparse_ternary");
  if (cfg.directions < 1 || cfg.directions > (1 << 20))
    return makeError("--directions must be in [1, 2^20]");
  if (s.dist == KAN_DIST_SPARSE && !(cfg.density > 0 && cfg.density <= 1))
    return makeError("--density must be in (0, 1] for sparse perturbations");
  if (!(cfg.lr > 0) || !std::isfinite(cfg.lr))
    return makeError("--lr must be positive and finite");
  const ModelShape &sh = model.shape;
  for (size_t l = 0; l < sh.numLayers(); ++l)
    for (size_t which = BaseWeight; which < sh.tensorsPerLayer(); ++which) {
      size_t idx = l * sh.tensorsPerLayer() + which;
      s.names.push_back(model.tensors[idx].name);
      s.streams.push_back(KAN_STREAM_ID(l, which - 1));
      s.tensorIndex.push_back(idx);
    }
  return s;
}
