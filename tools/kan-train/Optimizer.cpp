//===- Optimizer.cpp - momentum and Adam state of a kan-train run -*- C++ -*-=//

#include "Optimizer.h"

#include "kanrt/kanrt.h"

#include <algorithm>
#include <cassert>
#include <cstring>

using namespace kan::train;
using kan::tools::Model;
using kan::tools::Tensor;
using llvm::Error;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::optional<int> kan::train::parseMethod(llvm::StringRef name) {
  if (name == "sgd")
    return KAN_METHOD_SGD;
  if (name == "momentum")
    return KAN_METHOD_MOMENTUM;
  if (name == "adam")
    return KAN_METHOD_ADAM;
  return std::nullopt;
}

const char *kan::train::methodName(int method) {
  return method == KAN_METHOD_MOMENTUM ? "momentum"
         : method == KAN_METHOD_ADAM   ? "adam"
                                       : "sgd";
}

Error OptimizerState::init(const kan_optim_config &cfg,
                           const std::vector<kan_param> &params) {
  kan_optim_state_free(&state);
  names.clear();
  for (const kan_param &p : params)
    names.push_back(p.name);
  if (int st = kan_optim_state_init(&state, &cfg, params.size(), params.data()))
    return kan::tools::runtimeError(st);
  return Error::success();
}

Error OptimizerState::load(llvm::StringRef path, const kan_optim_config &cfg,
                           const std::vector<kan_param> &params) {
  if (Error e = init(cfg, params))
    return e;
  if (cfg.method == KAN_METHOD_SGD)
    return Error::success();
  kan::tools::TensorMap tm;
  if (Error e = kan::tools::readTensorMap(path, tm))
    return e;
  const kan_tensor_map &map = tm.map;
  Error err = Error::success();
  uint64_t t = 0;
  bool any = false;
  for (size_t i = 0; i < map.meta_count; ++i)
    if (std::strcmp(map.meta_keys[i], "optimizer_steps") == 0 &&
        llvm::StringRef(map.meta_values[i]).getAsInteger(10, t))
      err = makeError(path + ": metadata 'optimizer_steps' = '" +
                      map.meta_values[i] + "' is not an integer");
  for (size_t q = 0; q < params.size() && !err; ++q)
    for (int which = 0; which < 2 && !err; ++which) {
      double *dst = which == 0 ? state.m[q] : state.v[q];
      if (!dst)
        continue;
      std::string n = std::string(which == 0 ? "optimizer.m." : "optimizer.v.") +
                      params[q].name;
      kan_tensor *src = kan_tensor_map_find(&map, n.c_str());
      if (!src)
        continue;
      any = true;
      if (src->dtype != KAN_DTYPE_F64 || kan_tensor_numel(src) != params[q].size)
        err = makeError(path + ": optimiser state '" + n + "' is not " +
                        llvm::Twine(params[q].size) + " f64 values");
      else
        std::memcpy(dst, src->data, params[q].size * sizeof(double));
    }
  if (err)
    return err;
  if (t > 0 && !any)
    return makeError(path + ": metadata says " + llvm::Twine(t) +
                     " optimiser steps were taken but the checkpoint holds "
                     "no optimizer.m.* state tensors");
  kan_optim_state_set_steps(&state, &cfg, t);
  return Error::success();
}

Model OptimizerState::withState(const Model &model) const {
  Model out = model;
  if (state.method == KAN_METHOD_SGD)
    return out;
  out.setMeta("optimizer_steps", std::to_string(state.t));
  for (size_t q = 0; q < state.nparams; ++q)
    for (int which = 0; which < 2; ++which) {
      const double *src = which == 0 ? state.m[q] : state.v[q];
      if (!src)
        continue;
      Tensor t;
      t.name = std::string(which == 0 ? "optimizer.m." : "optimizer.v.") +
               names[q];
      // The parameter's shape, so the file reads like the weights.
      for (const Tensor &w : model.tensors)
        if (w.name == names[q])
          t.shape = w.shape;
      t.allocate(t.shape, /*isF32=*/false);
      std::memcpy(t.data(), src, state.size[q] * sizeof(double));
      out.tensors.push_back(std::move(t));
    }
  return out;
}

bool OptimizerState::equals(const OptimizerState &o) const {
  if (state.method != o.state.method || state.t != o.state.t ||
      state.nparams != o.state.nparams)
    return false;
  for (size_t q = 0; q < state.nparams; ++q) {
    if (state.size[q] != o.state.size[q])
      return false;
    size_t bytes = state.size[q] * sizeof(double);
    if (std::memcmp(state.m[q], o.state.m[q], bytes) != 0 ||
        (state.v[q] && std::memcmp(state.v[q], o.state.v[q], bytes) != 0))
      return false;
  }
  return true;
}

void Averager::start(double d, const Model &model) {
  decay = d;
  steps = 0;
  avg = on() ? model : Model();
}

void Averager::update(const Model &model, llvm::ArrayRef<size_t> params) {
  if (!on())
    return;
  ++steps;
  const double d = std::min(decay, (1.0 + steps) / (10.0 + steps));
  for (size_t i : params) {
    const Tensor &w = model.tensors[i];
    Tensor &a = avg.tensors[i];
    const size_t n = w.numel();
    if (w.f32) {
      // Averaged in double, rounded once per step.
      const float *pw = static_cast<const float *>(w.data());
      float *pa = static_cast<float *>(a.data());
      // (Element-wise: the same bits on any number of threads.)
#pragma omp parallel for schedule(static)
      for (size_t j = 0; j < n; ++j)
        pa[j] = static_cast<float>(pa[j] + (1 - d) * (double(pw[j]) - pa[j]));
    } else {
      const double *pw = static_cast<const double *>(w.data());
      double *pa = static_cast<double *>(a.data());
#pragma omp parallel for schedule(static)
      for (size_t j = 0; j < n; ++j)
        pa[j] += (1 - d) * (pw[j] - pa[j]);
    }
  }
}

static const char *const trainedPrefix = "optimizer.weights.";

Model Averager::checkpoint(const Model &withState,
                           llvm::ArrayRef<size_t> params) const {
  Model out = withState;
  if (!on())
    return out;
  for (size_t i : params) {
    Tensor trained = withState.tensors[i];
    trained.name = trainedPrefix + trained.name;
    out.tensors[i].storage = avg.tensors[i].storage;
    out.tensors.push_back(std::move(trained));
  }
  out.setMeta("average_steps", std::to_string(steps));
  return out;
}

Error Averager::load(llvm::StringRef path, double d, Model &model,
                     llvm::ArrayRef<size_t> params) {
  start(d, model);
  if (!on())
    return Error::success();
  std::string stepsText = model.getMeta("average_steps");
  if (stepsText.empty())
    return Error::success();
  if (llvm::StringRef(stepsText).getAsInteger(10, steps))
    return makeError(path + ": metadata 'average_steps' = '" + stepsText +
                     "' is not an integer");
  kan::tools::TensorMap tm;
  if (Error e = kan::tools::readTensorMap(path, tm))
    return e;
  const kan_tensor_map &map = tm.map;
  Error err = Error::success();
  for (size_t i : params) {
    Tensor &w = model.tensors[i];
    std::string n = trainedPrefix + w.name;
    kan_tensor *src = kan_tensor_map_find(&map, n.c_str());
    if (!src) {
      err = makeError(path + ": metadata says the weights were averaged "
                             "but the checkpoint holds no '" + n +
                      "' (the trained weights)");
      break;
    }
    if (src->dtype != (w.f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64) ||
        kan_tensor_numel(src) != w.numel()) {
      err = makeError(path + ": '" + n + "' is not " + llvm::Twine(w.numel()) +
                      (w.f32 ? " f32" : " f64") + " values");
      break;
    }
    std::memcpy(w.data(), src->data, w.bytes());
  }
  return err;
}

bool Averager::equals(const Averager &o, llvm::ArrayRef<size_t> params) const {
  if (on() != o.on() || steps != o.steps)
    return false;
  if (!on())
    return true;
  for (size_t i : params)
    if (std::memcmp(avg.tensors[i].data(), o.avg.tensors[i].data(),
                    avg.tensors[i].bytes()) != 0)
      return false;
  return true;
}

void Snapshot::allocate(const Model &model, const OptimizerState &opt,
                        const Averager &average) {
  tensors.resize(model.tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i)
    tensors[i].assign(model.tensors[i].bytes(), 0);
  averaged.resize(average.avg.tensors.size());
  for (size_t i = 0; i < averaged.size(); ++i)
    averaged[i].assign(average.avg.tensors[i].bytes(), 0);
  const kan_optim_state &s = opt.state;
  m.resize(s.nparams);
  v.resize(s.nparams);
  for (size_t q = 0; q < s.nparams; ++q) {
    m[q].assign(s.m[q] ? s.size[q] : 0, 0.0);
    v[q].assign(s.v[q] ? s.size[q] : 0, 0.0);
  }
}

void Snapshot::save(const Model &model, const OptimizerState &opt,
                    const Averager &average) {
  assert(tensors.size() == model.tensors.size() && "allocate() first");
  for (size_t i = 0; i < tensors.size(); ++i)
    std::memcpy(tensors[i].data(), model.tensors[i].data(), tensors[i].size());
  for (size_t i = 0; i < averaged.size(); ++i)
    std::memcpy(averaged[i].data(), average.avg.tensors[i].data(),
                averaged[i].size());
  averagedSteps = average.steps;
  const kan_optim_state &s = opt.state;
  for (size_t q = 0; q < s.nparams; ++q) {
    if (s.m[q])
      std::memcpy(m[q].data(), s.m[q], m[q].size() * sizeof(double));
    if (s.v[q])
      std::memcpy(v[q].data(), s.v[q], v[q].size() * sizeof(double));
  }
  t = s.t, beta1t = s.beta1_t, beta2t = s.beta2_t;
}

void Snapshot::restore(Model &model, OptimizerState &opt,
                       Averager &average) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    std::memcpy(model.tensors[i].data(), tensors[i].data(), tensors[i].size());
  for (size_t i = 0; i < averaged.size(); ++i)
    std::memcpy(average.avg.tensors[i].data(), averaged[i].data(),
                averaged[i].size());
  average.steps = averagedSteps;
  kan_optim_state &s = opt.state;
  for (size_t q = 0; q < s.nparams; ++q) {
    if (s.m[q])
      std::memcpy(s.m[q], m[q].data(), m[q].size() * sizeof(double));
    if (s.v[q])
      std::memcpy(s.v[q], v[q].data(), v[q].size() * sizeof(double));
  }
  s.t = t, s.beta1_t = beta1t, s.beta2_t = beta2t;
}
