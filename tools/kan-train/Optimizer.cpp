//===- Optimizer.cpp - momentum and Adam state of a kan-train run -*- C++ -*-=//

#include "Optimizer.h"

#include "kanrt/kanrt.h"

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
  kan_tensor_map map;
  kan_tensor_map_init(&map);
  std::string p = path.str();
  if (int st = kan_safetensors_read(p.c_str(), 0, &map)) {
    kan_tensor_map_free(&map);
    return kan::tools::runtimeError(st);
  }
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
  kan_tensor_map_free(&map);
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
