//===- Optimizer.h - momentum and Adam state of a kan-train run -*- C++ -*-===//
//
// The state of kan_optimizer_step_state / kan_optim_apply (kanrt/optim.h)
// as kan-train keeps it: in the checkpoint as optimizer.m.<tensor> and
// optimizer.v.<tensor> (f64) plus the step count in the metadata, so a
// resumed run and a replay continue from it.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TRAIN_OPTIMIZER_H
#define KAN_TRAIN_OPTIMIZER_H

#include "kan/Tools/Model.h"
#include "kanrt/optim.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace kan::train {

/// The method's name ("sgd", "momentum", "adam") as a kan_optimizer_method,
/// or std::nullopt.
std::optional<int> parseMethod(llvm::StringRef name);
const char *methodName(int method);

class OptimizerState {
public:
  OptimizerState() = default;
  OptimizerState(const OptimizerState &) = delete;
  OptimizerState &operator=(const OptimizerState &) = delete;
  ~OptimizerState() { kan_optim_state_free(&state); }

  /// A zero state for cfg.method over params.
  llvm::Error init(const kan_optim_config &cfg,
                   const std::vector<kan_param> &params);
  /// The state stored in the checkpoint `path` (its metadata 'optimizer_steps'
  /// and tensors optimizer.m/v.<name>); a checkpoint without them (written
  /// before any step) gives the zero state.
  llvm::Error load(llvm::StringRef path, const kan_optim_config &cfg,
                   const std::vector<kan_param> &params);
  /// The model plus the state tensors and metadata, for writing.
  kan::tools::Model withState(const kan::tools::Model &model) const;
  /// Whether the state of `other` equals this one bit for bit.
  bool equals(const OptimizerState &other) const;

  kan_optim_state state{};
  std::vector<std::string> names;
};

} // namespace kan::train

#endif // KAN_TRAIN_OPTIMIZER_H
