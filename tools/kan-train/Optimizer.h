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

#include "llvm/ADT/ArrayRef.h"
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

/// Polyak averaging: an exponential moving average of the weights, which a
/// run evaluates and delivers. A checkpoint holds the average as the model's
/// parameters (what kan-run and the other tools read) and the weights the
/// steps train as optimizer.weights.<name>, next to the optimiser state, so
/// resume and replay continue both.
class Averager {
public:
  /// decay in [0, 1); 0 = off (the model itself is delivered).
  void start(double decay, const kan::tools::Model &model);
  bool on() const { return decay > 0; }
  /// After a step: avg += (1 - d) (w - avg), d = min(decay, (1+t)/(10+t)) at
  /// the t-th step averaged (the short memory early on forgets the initial
  /// weights quickly).
  void update(const kan::tools::Model &model, llvm::ArrayRef<size_t> params);
  /// What to evaluate and deliver.
  const kan::tools::Model &delivered(const kan::tools::Model &model) const {
    return on() ? avg : model;
  }
  kan::tools::Model &delivered(kan::tools::Model &model) {
    return on() ? avg : model;
  }
  /// `withState` (the trained weights and the optimiser state, as
  /// OptimizerState::withState gives them) with the average as parameters
  /// and the trained weights as optimizer.weights.<name>.
  kan::tools::Model checkpoint(const kan::tools::Model &withState,
                               llvm::ArrayRef<size_t> params) const;
  /// From a checkpoint: `model` was read from `path` (its parameters are the
  /// average when the run averaged); afterwards `model` holds the trained
  /// weights and the average is rebuilt. A checkpoint without
  /// optimizer.weights.* starts the average at `model`.
  llvm::Error load(llvm::StringRef path, double decay, kan::tools::Model &model,
                   llvm::ArrayRef<size_t> params);
  bool equals(const Averager &other, llvm::ArrayRef<size_t> params) const;

  double decay = 0;
  uint64_t steps = 0;
  kan::tools::Model avg;
};

/// The weights and optimiser state of one step, in buffers sized once
/// (allocate before the steps, so keeping a step costs copies, not memory
/// that grows while training).
class Snapshot {
public:
  void allocate(const kan::tools::Model &model, const OptimizerState &opt,
                const Averager &avg);
  void save(const kan::tools::Model &model, const OptimizerState &opt,
            const Averager &avg);
  /// Copies the saved values back (the same model and state layout).
  void restore(kan::tools::Model &model, OptimizerState &opt,
               Averager &avg) const;

private:
  std::vector<std::vector<unsigned char>> tensors, averaged;
  uint64_t averagedSteps = 0;
  std::vector<std::vector<double>> m, v;
  uint64_t t = 0;
  double beta1t = 1, beta2t = 1;
};

} // namespace kan::train

#endif // KAN_TRAIN_OPTIMIZER_H
