//===- TargetBackend.h - the registry of compilation targets ----*- C++ -*-===//
//
// A target is one object: a name, its options, the pass pipeline that lowers
// a kan module for it and the emitter that writes its sources (IREE's target
// backends). Every driver reads the same registry: kan-translate
// --target=NAME, kan-opt's `kan-compile-NAME` pipelines and --kan-target=NAME,
// and the tools' JIT. Adding a target is one folder under lib/Target with a
// TargetBackend and one line in registerAllTargets() (docs/TARGETS.md).
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TARGET_TARGETBACKEND_H
#define KAN_TARGET_TARGETBACKEND_H

#include "kan/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "kan/Support/Options.h"
#include "mlir/Pass/PassOptions.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mlir::kan {

/// A parameter tensor a target deploys with its sources: an f64 (or, for
/// an f32 program, f32) tensor under its efficient-kan name
/// (layers.<l>.grid, ...).
struct DeployedParam {
  std::string name;
  SmallVector<int64_t> shape;
  bool f32 = false;
};
/// Writes the model's values of `params` to `path` (safetensors). The
/// driver supplies it: the compiler has no weights of its own.
using WeightsWriter = std::function<LogicalResult(
    ArrayRef<DeployedParam> params, StringRef path)>;

/// Options of a target: a pass-pipeline option set, parsed from
/// `kan-compile-NAME{...}` in kan-opt and from kan-translate's flags, so both
/// drivers take the same names, values and defaults.
class TargetOptions : public ::mlir::detail::PassOptions {
public:
  /// Targets hand their options out as TargetOptions (PassOptions has no
  /// virtual destructor).
  virtual ~TargetOptions() = default;

  struct OptionInfo {
    std::string name;
    std::string help;
    /// The default, as `name=value` in a pipeline string would spell it.
    std::string defaultValue;
    /// False for flags (booleans) that may be given without a value.
    bool takesValue = true;
  };
  /// Every option of the target with its default, sorted by name. Call on a
  /// fresh instance for the defaults.
  SmallVector<OptionInfo> describe();
  /// Whether the target has an option `name`, and if so whether it needs a
  /// value.
  std::optional<bool> takesValue(StringRef name) const;
  /// Sets option `name` from its textual value (as in `name=value`); on a
  /// bad value, writes the reason to `err`.
  LogicalResult setOption(StringRef name, StringRef value, raw_ostream &err);

  /// Set by the driver, not from the command line: how a target that
  /// deploys weights (TargetBackend::deploysWeights) writes them, and
  /// where build files look for the runtime (empty: the install prefix of
  /// the running tool).
  WeightsWriter writeWeights;
  std::string runtimePrefix;
};

/// Options of the target-neutral front of every pipeline: the noise_step
/// training step. The defaults are kan-build-train-step's (Passes.td).
class FrontendOptions : public TargetOptions {
public:
  Option<bool> trainStep{*this, "train-step",
                         llvm::cl::desc("Also build the noise_step training "
                                        "step (kan-build-train-step)"),
                         llvm::cl::init(false)};
  Option<std::string> rule{*this, "rule",
                           llvm::cl::desc("Update rule: ternary (noise_step), "
                                          "fg (forward gradient) or activity "
                                          "(activity perturbation)"),
                           llvm::cl::init(defaults().rule)};
  Option<std::string> dist{
      *this, "dist",
      llvm::cl::desc("Directions: sparse_ternary, normal or rademacher "
                     "(empty: sparse_ternary for ternary, else normal)"),
      llvm::cl::init(defaults().dist)};
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("Loss: cross_entropy (integer "
                                          "labels) or mse"),
                           llvm::cl::init(defaults().loss)};
  // Range-checked when parsed (kan/Support/Options.h), so a pipeline string,
  // kan-translate and kan-opt refuse the same values with the same message.
  template <typename T>
  using Checked = Option<T, cli::CheckedParser<T>>;
  Checked<int64_t> directions{*this, "n",
                              llvm::cl::desc("Directions (JVPs) per step"),
                              llvm::cl::init(defaults().directions),
                              cli::bounds(cli::directions)};
  Checked<double> density{*this, "density",
                          llvm::cl::desc("Non-zero fraction of sparse ternary "
                                         "directions"),
                          llvm::cl::init(defaults().density),
                          cli::bounds(cli::density)};
  Checked<double> lr{*this, "lr", llvm::cl::desc("Learning rate"),
                     llvm::cl::init(defaults().lr),
                     cli::bounds(cli::learningRate)};
  Checked<int64_t> firstDirection{
      *this, "first-direction",
      llvm::cl::desc("First direction of the step's slice: directions "
                     "first-direction .. first-direction + n - 1 (one rank's "
                     "share in a distributed run)"),
      llvm::cl::init(defaults().firstDirection),
      cli::bounds(cli::nonNegativeCount)};
  Option<bool> update{*this, "update",
                      llvm::cl::desc("The step applies its update (false: it "
                                     "returns the loss and the scalars only)"),
                      llvm::cl::init(defaults().update)};
  Option<bool> gradient{*this, "gradient",
                        llvm::cl::desc("rule=activity: the step returns the "
                                       "update dtheta instead of applying it "
                                       "(train_step_grad)"),
                        llvm::cl::init(defaults().gradient)};
  Option<bool> localLosses{*this, "local-losses",
                           llvm::cl::desc("rule=activity: every hidden layer "
                                          "learns from the loss of an "
                                          "auxiliary head (extra step "
                                          "parameters)"),
                           llvm::cl::init(defaults().localLosses)};

  /// The kan-build-train-step options these stand for.
  KanBuildTrainStepOptions getTrainStepOptions() const;
  /// Sets every training-step option (and train-step) from `o`.
  void setTrainStepOptions(const KanBuildTrainStepOptions &o);

private:
  static KanBuildTrainStepOptions defaults() { return {}; }
};

/// Adds the target-neutral front of a pipeline: kan-build-train-step (with
/// train-step), kan-lower-to-gemm, canonicalisation and CSE.
void buildFrontendPipeline(OpPassManager &pm, const FrontendOptions &options);

/// Where an emitter writes its files.
class TargetOutput {
public:
  virtual ~TargetOutput();
  /// Creates or replaces file `name`.
  virtual LogicalResult write(StringRef name, StringRef contents) = 0;
  /// The path file `name` will have, for files another writer produces
  /// (the deployed weights); none for outputs that are not files.
  virtual std::optional<std::string> pathOf(StringRef name) const {
    return std::nullopt;
  }
};

/// Files written into a directory (created if missing).
class DirectoryOutput final : public TargetOutput {
public:
  explicit DirectoryOutput(StringRef dir) : dir(dir.str()) {}
  LogicalResult write(StringRef name, StringRef contents) override;
  std::optional<std::string> pathOf(StringRef name) const override;

private:
  std::string dir;
};

/// Files kept in memory, for drivers that compile the output themselves.
class MemoryOutput final : public TargetOutput {
public:
  LogicalResult write(StringRef name, StringRef contents) override;
  /// The contents of `name`, or null if it was not written.
  const std::string *lookup(StringRef name) const;

private:
  llvm::StringMap<std::string> files;
};

/// A compilation target.
class TargetBackend {
public:
  virtual ~TargetBackend();
  /// The name drivers select it by (`--target=NAME`, `kan-compile-NAME`).
  virtual StringRef getName() const = 0;
  /// One line for --help and --list-targets.
  virtual StringRef getDescription() const = 0;
  /// A fresh option set at its defaults.
  virtual std::unique_ptr<TargetOptions> createOptions() const = 0;
  /// Adds the target's pipeline: its output is what emit() reads.
  /// `options` must come from createOptions().
  virtual void buildPipeline(OpPassManager &pm,
                             const TargetOptions &options) const = 0;
  /// Whether `module` already is (a stage of) the pipeline's output; the
  /// drivers then run only buildFinishingPipeline before emitting.
  virtual bool isLowered(ModuleOp module) const = 0;
  /// Adds what finishes a lowered module cut after any stage (passes that
  /// leave IR they already handled as it is); none by default.
  virtual void buildFinishingPipeline(OpPassManager &pm,
                                      const TargetOptions &options) const {}
  /// Whether the output carries the model's weights (the driver then reads
  /// them from the module before lowering and sets
  /// TargetOptions::writeWeights).
  virtual bool deploysWeights() const { return false; }
  /// Writes the target's sources for a lowered module to `output`, and any
  /// report the options ask for to `os`. The module is not modified.
  virtual LogicalResult emit(ModuleOp module, const TargetOptions &options,
                             TargetOutput &output,
                             raw_ostream &os) const = 0;
};

/// A backend whose options are `OptionsT` (derived from TargetOptions).
template <typename OptionsT>
class TargetBackendBase : public TargetBackend {
public:
  std::unique_ptr<TargetOptions> createOptions() const final {
    return std::make_unique<OptionsT>();
  }
  void buildPipeline(OpPassManager &pm,
                     const TargetOptions &options) const final {
    buildPipeline(pm, static_cast<const OptionsT &>(options));
  }
  LogicalResult emit(ModuleOp module, const TargetOptions &options,
                     TargetOutput &output, raw_ostream &os) const final {
    return emit(module, static_cast<const OptionsT &>(options), output, os);
  }
  void buildFinishingPipeline(OpPassManager &pm,
                              const TargetOptions &options) const final {
    buildFinishingPipeline(pm, static_cast<const OptionsT &>(options));
  }
  virtual void buildPipeline(OpPassManager &pm,
                             const OptionsT &options) const = 0;
  virtual void buildFinishingPipeline(OpPassManager &pm,
                                      const OptionsT &options) const {}
  virtual LogicalResult emit(ModuleOp module, const OptionsT &options,
                             TargetOutput &output, raw_ostream &os) const = 0;
};

/// Adds `backend` (which lives as long as the program, e.g. a function-local
/// static) to the registry; a second target of the same name is a
/// programming error.
void registerTargetBackend(const TargetBackend &backend);

/// The target called `name`, or null.
const TargetBackend *lookupTargetBackend(StringRef name);

/// The target called `name`; if there is none, writes "unknown target 'NAME'
/// (known: cpu, nmquad)" to `err` and returns null.
const TargetBackend *findTargetBackend(StringRef name, raw_ostream &err);

/// Every registered target, sorted by name.
SmallVector<const TargetBackend *> getTargetBackends();

/// The registered names, comma separated ("cpu, nmquad").
std::string getTargetNames();

/// Registers `kan-compile-NAME` (with the target's options) for every
/// registered target, for kan-opt's pass pipelines.
void registerTargetPipelines();

} // namespace mlir::kan

#endif // KAN_TARGET_TARGETBACKEND_H
