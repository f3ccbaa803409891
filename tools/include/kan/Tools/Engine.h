//===- Engine.h - evaluating and training a model ---------------*- C++ -*-===//
//
// An Engine runs the generated C ABI of a model (see CPUTarget.h): forward,
// its JVP and one noise_step train step, JIT-compiled from the CPU target's
// C output with the system C compiler.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_ENGINE_H
#define KAN_TOOLS_ENGINE_H

#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Tools/Model.h"
#include "kan/Transforms/Passes.h"
#include "kanrt/optim.h"

#include <memory>
#include <optional>

namespace kan::tools {

/// Options of the training step: kan-build-train-step's, with its defaults
/// (rule ternary | fg | activity; dist "" = the rule's default,
/// sparse_ternary (alias sparse) for ternary, else normal; rademacher).
struct TrainConfig : mlir::kan::KanBuildTrainStepOptions {
  /// The distribution's canonical name ("" and aliases resolved).
  std::string resolvedDist() const;
};

/// The runtime optimiser configuration and the trainable tensors of a model
/// (base_weight, spline_weight, spline_scaler of every layer, in this order
/// per layer), as the replay log and kan_optimizer_step see them.
struct OptimSetup {
  int kind = 0, dist = 0;
  std::vector<std::string> names;
  std::vector<uint32_t> streams;
  std::vector<size_t> tensorIndex; ///< into Model::tensors
};
llvm::Expected<OptimSetup> makeOptimSetup(const Model &model,
                                          const TrainConfig &cfg);
/// The trainable tensors of `m` as the runtime optimiser sees them (views:
/// valid while `m` lives and is not reshaped).
std::vector<kan_param> runtimeParams(Model &m, const OptimSetup &s);

class Engine {
public:
  virtual ~Engine();
  virtual llvm::StringRef name() const = 0;
  /// y (n x O) = model(x (n x I)); x and y in the model's float type.
  virtual llvm::Error forward(Model &model, const void *x, int64_t n,
                              void *y) = 0;
  /// y and its tangent dy (n x O) along `tangents` (one per parameter,
  /// grids ignored) and `xTangent` (n x I; only if the engine was built
  /// with an input tangent).
  virtual llvm::Error forwardJvp(Model &model, const void *x, int64_t n,
                                 Model &tangents, const void *xTangent,
                                 void *y, void *dy) = 0;
  /// One step on (x, labels) with the compiled step size times lrScale
  /// (kan_train_step_scaled); updates the model in place (unless the step
  /// was built with TrainConfig::update false), returns the batch loss and
  /// the JVP scalars of the step's directions.
  virtual llvm::Error trainStep(Model &model, const void *x,
                                const int64_t *labels, int64_t n,
                                uint64_t seed, int64_t step, double lrScale,
                                double &loss,
                                std::vector<double> &alphas) = 0;
  /// A step built with rule activity and gradient=true
  /// (kan_train_step_grad): the model is not changed, `grads` (the model's
  /// shape) receives the estimated update dtheta of every tensor.
  virtual llvm::Error trainStepGradient(Model &model, const void *x,
                                        const int64_t *labels, int64_t n,
                                        uint64_t seed, int64_t step,
                                        Model &grads, double &loss,
                                        std::vector<double> &alphas);
};

struct CompileOptions {
  std::string workDir;   ///< cache root ("" = $XDG_CACHE_HOME/kan)
  /// Threads over row tiles (the C is compiled with OpenMP).
  int64_t threads = 1;
  int64_t tileRows = mlir::kan::CPUSchedule().tileRows;
  bool verbose = false;
  /// Where the runtime the generated C links with lives: DIR/include and
  /// DIR/lib/libkanrt.a ("" = the build tree's, else <prefix> of the
  /// executable). The Python package ships its own copy.
  std::string runtimeDir;
};

/// What the compiled JVP differentiates: every weight, and the input too
/// when `inputTangent`.
struct JvpRequest {
  bool inputTangent = false;
  /// Directions per call: every tangent tensor then has a leading dimension
  /// of this size, and dy is width x n x O.
  int64_t width = 1;
};

/// Builds the model (and, if `train`, its train step; if `jvp`, its JVP
/// through kan-jvp), runs the CPU pipeline, emits C, compiles and loads it
/// (cached by source hash).
llvm::Expected<std::unique_ptr<Engine>>
createCompiledEngine(const ModelShape &shape, const TrainConfig *train,
                     const CompileOptions &opts,
                     const JvpRequest *jvp = nullptr);

/// A formula module (kan-symbolic --format mlir: func.func @formula or
/// @formula_1..@formula_O of math/arith ops on f64) compiled through the
/// CPU pipeline like a model; forward() ignores the Model argument.
struct FormulaEngine {
  std::unique_ptr<Engine> engine;
  int64_t inputs = 0, outputs = 0;
};
/// std::nullopt when the .mlir file holds no formula function.
llvm::Expected<std::optional<FormulaEngine>>
loadFormulaEngine(llvm::StringRef path, const CompileOptions &opts);

/// Compiles a C source into a shared library in a cache directory keyed by
/// the hash of source, header and command; returns the .so path.
llvm::Expected<std::string> compileCached(llvm::StringRef source,
                                          llvm::StringRef header,
                                          const CompileOptions &opts);

} // namespace kan::tools

#endif // KAN_TOOLS_ENGINE_H
