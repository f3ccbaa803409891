//===- Engine.cpp - training options shared by the tools --------*- C++ -*-===//
//
// The optimiser configuration of a run, as the replay log and the runtime's
// kan_optimizer_step see it; the compiled train step applies the same
// update (kan-build-train-step) bit for bit.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Engine.h"
#include "kan/Support/Options.h"

#include "kanrt/kanrt.h"

#include <cmath>

using namespace kan::tools;
namespace cli = mlir::kan::cli;
using llvm::Error;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Engine::~Engine() = default;

Error Engine::trainStepGradient(Model &, const void *, const int64_t *,
                                int64_t, uint64_t, int64_t, Model &, double &,
                                std::vector<double> &) {
  return makeError("the " + name() + " engine has no gradient step");
}

std::string TrainConfig::resolvedDist() const {
  if (dist == "sparse")
    return "sparse_ternary";
  if (!dist.empty())
    return dist;
  return rule == "ternary" ? "sparse_ternary" : "normal";
}

std::vector<kan_param> kan::tools::runtimeParams(Model &m,
                                                 const OptimSetup &s) {
  std::vector<kan_param> p;
  for (size_t i = 0; i < s.names.size(); ++i) {
    Tensor &t = m.tensors[s.tensorIndex[i]];
    p.push_back({t.name.c_str(), s.streams[i],
                 t.f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64, t.numel(), t.data()});
  }
  return p;
}

llvm::Expected<OptimSetup> kan::tools::makeOptimSetup(const Model &model,
                                                      const TrainConfig &cfg) {
  OptimSetup s;
  if (cfg.rule == "fg")
    s.kind = KAN_OPT_FG;
  else if (cfg.rule == "ternary")
    s.kind = KAN_OPT_TERNARY;
  else if (cfg.rule == "activity")
    s.kind = KAN_OPT_ACTIVITY;
  else
    return makeError("unknown update rule '" + cfg.rule +
                     "' (expected ternary, fg or activity)");
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
  // As kan-build-train-step: fg's and activity's estimates need
  // unit-variance directions.
  if (s.kind != KAN_OPT_TERNARY && s.dist == KAN_DIST_SPARSE)
    return makeError("rule '" + cfg.rule +
                     "' needs unit-variance directions (--dist normal or "
                     "rademacher), not sparse_ternary");
  if (auto why = cli::check(cli::directions, cfg.directions,
                                 "--directions"))
    return makeError(*why);
  if (s.dist == KAN_DIST_SPARSE)
    if (auto why = cli::check(cli::density, cfg.density, "--density"))
      return makeError(*why);
  if (auto why = cli::check(cli::learningRate, cfg.lr, "--lr"))
    return makeError(*why);
  const ModelShape &sh = model.shape;
  for (size_t l = 0; l < sh.numLayers(); ++l)
    for (size_t which = BaseWeight; which < sh.tensorsPerLayer(); ++which) {
      size_t idx = l * sh.tensorsPerLayer() + which;
      s.names.push_back(model.tensors[idx].name);
      s.streams.push_back(KAN_STREAM_ID(l, which - 1));
      s.tensorIndex.push_back(idx);
    }
  if (cfg.localLosses) {
    if (s.kind != KAN_OPT_ACTIVITY)
      return makeError("local losses need the activity rule, not '" + cfg.rule +
                       "'");
    // The heads' tensors after the model's, streams after its layers'.
    size_t first = modelTensorCount(model), perHead = sh.tensorsPerLayer();
    auto want = localHeadShapes(sh);
    if (model.tensors.size() != first + want.size())
      return makeError(
          "the model has " + llvm::Twine(model.tensors.size() - first) +
          " local-loss head tensors, expected " + llvm::Twine(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      if (model.tensors[first + i].name != want[i].first)
        return makeError("local-loss head tensor '" +
                         model.tensors[first + i].name + "' where '" +
                         want[i].first + "' was expected");
      size_t head = i / perHead, which = i % perHead;
      if (which == Grid)
        continue;
      s.names.push_back(want[i].first);
      s.streams.push_back(KAN_STREAM_ID(sh.numLayers() + head, which - 1));
      s.tensorIndex.push_back(first + i);
    }
  }
  return s;
}
