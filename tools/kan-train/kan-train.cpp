//===- kan-train.cpp - train a KAN without backpropagation ------*- C++ -*-===//
//
// Trains a KAN classifier with forward-mode updates (activity-perturbed
// forward gradients, noise_step or the weight-perturbation forward gradient:
// one forward sweep with n tangent directions per step, ALGORITHMS.md
// section 3) on IDX or CSV data. Without arguments: KAN [784, 64, 10] on
// Fashion-MNIST for ten minutes with the best measured rule's recipe.
// Progress goes to stderr, one JSON summary line to stdout.
//
// Determinism: the batch at step s is a pure function of (--seed, s) and the
// perturbations of (--seed, s, direction, tensor), so a run resumed from a
// checkpoint ends with the same weights as an uninterrupted one, and the
// replay log (initial weights + n JVP scalars per step) rebuilds them.
//
//===----------------------------------------------------------------------===//

#include "Distributed.h"
#include "Optimizer.h"
#include "Regression.h"

#include "kan/Support/SafeOutput.h"
#include "kan/Tools/Data.h"
#include "kan/Tools/Engine.h"
#include "kan/Tools/Metrics.h"
#include "kan/Tools/Model.h"
#include "kan/Support/Options.h"
#include "kan/Tools/Progress.h"

#include "kanrt/kanrt.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace kan::tools;
namespace cli = mlir::kan::cli;
using cli::bounds;
using kan::support::FileLock;
using llvm::Error;
namespace cl = llvm::cl;

static cl::OptionCategory modelCat("Model");
static cl::OptionCategory trainCat("Training step");
static cl::OptionCategory runCat("Run control");
static cl::OptionCategory dataCat("Data");
static cl::OptionCategory replayCat("Replay (rebuild weights from a log)");

// Model.
static cl::opt<std::string> widthsOpt("widths", cl::init("784,64,10"),
    cl::desc("Layer widths, inputs first, classes last (default 784,64,10)"),
    cl::cat(modelCat));
static cli::opt<int64_t> gridOpt("grid", cl::init(5), cl::desc("Grid size G (default 5)"), bounds(cli::gridSize), cl::cat(modelCat));
static cli::opt<int64_t> orderOpt("order", cl::init(3), cl::desc("Spline order k (default 3; the runtime supports k <= 15)"), bounds(cli::splineOrder), cl::cat(modelCat));
static cl::opt<std::string> dtypeOpt("dtype", cl::init("f64"), cl::desc("Parameter type: f64 or f32 (default f64)"), cl::cat(modelCat));
static cl::opt<std::string> initWeightsOpt("init-weights",
    cl::desc("Start a new run from the parameters of this safetensors model "
             "(efficient-kan keys: another run's checkpoint, whose "
             "parameters are its delivered weights, or kan-import's output) "
             "instead of --init-seed's; its shape must be the one --widths, "
             "--grid, --order and --dtype give. The run's settings come from "
             "the options, not from the file (--resume continues a run)"),
    cl::cat(modelCat));
static cl::opt<uint64_t> initSeed("init-seed", cl::init(0),
    cl::desc("Seed of the initial weights (efficient-kan-like: uniform grid "
             "on [-1,1], base weight and scaler U(+-1/sqrt(in)), spline "
             "weight U(+-0.05/G)); default 0"),
    cl::cat(modelCat));

// Training step. The distribution and density default to
// kan-build-train-step's options (one source, Passes.td). The rule, the
// number of directions, the optimiser and the step size come from the
// rule's recipe below unless given; the options' own initial values are
// kan-build-train-step's ternary defaults, which a checkpoint without the
// metadata (written before it was recorded) was trained with.
static const TrainConfig stepDefaults;

namespace {
/// A rule's best measured settings (tools/kan-train/README.md, "Which rule
/// wins": Fashion-MNIST, [784,64,10], ten minutes, two threads).
struct Recipe {
  const char *rule;
  int64_t directions;
  const char *optimizer;
  double lr;
  /// Validation rows held out by default: the training rows over this (0 =
  /// none). The activity rule overfits Fashion-MNIST within ten minutes on
  /// an idle machine, so its run keeps the step that validates best.
  int64_t validationDivisor;
  /// Weight-average decay (0 = off): the activity rule's steps are noisy,
  /// and the average of the recent weights validates about 0.7 points
  /// higher than the weights themselves.
  double average;
};
} // namespace
static const Recipe recipes[] = {
    {"activity", 32, "adam", 2e-3, 12, 0.999},
    {"ternary", 128, "sgd", 1e-2, 0, 0},
    {"fg", 32, "adam", 1e-3, 0, 0},
};
/// The rule of a run that names none: the best of the table.
static const Recipe &defaultRecipe = recipes[0];
static const Recipe *findRecipe(llvm::StringRef rule) {
  for (const Recipe &r : recipes)
    if (rule == r.rule)
      return &r;
  return nullptr;
}
static std::string describeRecipe(const Recipe &r) {
  char lr[32];
  snprintf(lr, sizeof(lr), "%g", r.lr);
  return llvm::formatv("--rule {0} -n {1} --optimizer {2} --lr {3}", r.rule,
                       r.directions, r.optimizer, lr)
      .str();
}
static std::string recipeList() {
  std::string s;
  for (const Recipe &r : recipes)
    s += "\n  " + describeRecipe(r) + (&r == &defaultRecipe ? "  (default)" : "");
  return s;
}
// Moment decays in [0, 1) and Adam's eps > 0.
static const cli::Bounds<double> decayBounds{0.0, 1.0, false, true};
static const cli::Bounds<double> epsBounds{0.0, std::nullopt, true, false};
static const std::string ruleDesc =
    "Update rule: ternary (noise_step: weight perturbation, theta -= lr * "
    "sum_i tau_i v_i), fg (forward gradient along weight perturbations: "
    "theta -= lr/n * sum_i a_i v_i) or activity (per-example perturbations "
    "of every hidden layer's pre-activations, exact local derivative at the "
    "output, the update as a second GEMM; its replay re-runs the steps and "
    "needs the data); default " + std::string(defaultRecipe.rule) +
    ", the best measured. A rule brings its recipe (-n, --optimizer, --lr) "
    "for the options not given: " + [] {
      std::string s;
      for (const Recipe &r : recipes)
        s += (&r == recipes ? "" : "; ") + describeRecipe(r);
      return s;
    }() + " (kan-build-train-step's own default rule, which kan-opt and "
          "kan-translate use, stays ternary)";
static cl::opt<std::string> ruleOpt("rule", cl::init(stepDefaults.rule),
    cl::desc(ruleDesc), cl::cat(trainCat));
static cl::opt<bool> localLossesOpt("local-losses",
    cl::desc("Activity rule: local losses (Ren et al. 2023). Every hidden "
             "layer gets an auxiliary head, a KAN layer from its width to the "
             "classes (same G and k), and learns from that head's "
             "cross-entropy alone: its perturbations go through the head's "
             "JVP, not through the later layers. The heads learn from the "
             "exact derivative of their loss, get the optimiser, the weight "
             "average, resume and replay like the layers, and are kept in "
             "the checkpoint as local.<l>.* (which kan-run and the other "
             "tools skip); evaluation uses the model alone. Needs a hidden "
             "layer; not with --partition or --task regression"),
    cl::cat(trainCat));
static cl::opt<std::string> distOpt("dist", cl::init(stepDefaults.dist),
    cl::desc("Direction distribution: sparse_ternary (alias sparse; "
             "ternary rule only), normal or rademacher; default "
             "sparse_ternary for ternary, normal for fg and activity"),
    cl::cat(trainCat));
static cli::opt<int64_t> directionsOpt("directions", cl::init(128),
    cl::desc("Directions (JVPs) per step, also -n (default: the rule's "
             "recipe, see --rule)"),
    bounds(cli::directions), cl::cat(trainCat));
static cl::alias directionsAlias("n", cl::aliasopt(directionsOpt), cl::desc("Alias for --directions"));
static const std::string densityDesc =
    "Fraction of non-zeros of sparse directions (default " + [] {
      char buf[32];
      snprintf(buf, sizeof(buf), "%g", stepDefaults.density);
      return std::string(buf);
    }() + "; the ternary rule's)";
static cli::opt<double> densityOpt("density", cl::init(stepDefaults.density),
    cl::desc(densityDesc), bounds(cli::density), cl::cat(trainCat));
// --optimizer (sgd, momentum or adam here) is shared with --task regression.
static cl::opt<std::string> &optimizerOpt = kan::train::optimizerOption();
static cli::opt<double> densityFinalOpt("density-final", cl::init(0),
    cl::desc("noise_step density annealing: lower the density geometrically "
             "from --density to this over the lr schedule, in "
             "--density-stages steps (default 0 = off). Each stage compiles "
             "its step and starts a replay log of its own, "
             "<log stem>.from-<step>.replay, whose initial weights are the "
             "previous stage's last"),
    bounds(cli::fraction), cl::cat(trainCat));
static cli::opt<int64_t> densityStagesOpt("density-stages", cl::init(4),
    cl::desc("Stages of the density annealing (default 4)"),
    bounds(cli::positiveCount), cl::cat(trainCat));
static cli::opt<double> beta1Opt("beta1", cl::init(0.9),
    cl::desc("Momentum / Adam first-moment decay in [0, 1) (default 0.9)"),
    bounds(decayBounds), cl::cat(trainCat));
static cli::opt<double> beta2Opt("beta2", cl::init(0.999),
    cl::desc("Adam second-moment decay in [0, 1) (default 0.999)"),
    bounds(decayBounds), cl::cat(trainCat));
static cli::opt<double> adamEpsOpt("adam-eps", cl::init(1e-8),
    cl::desc("Adam denominator offset, > 0 (default 1e-8)"),
    bounds(epsBounds), cl::cat(trainCat));
static cli::opt<double> lrOpt("lr", cl::init(1e-2),
    cl::desc("Learning rate (default: the rule's recipe, see --rule; 1e-2 "
             "for --task regression)"),
    bounds(cli::learningRate), cl::cat(trainCat));
static cl::opt<std::string> lrScheduleOpt("lr-schedule", cl::init("cosine"),
    cl::desc("Step-size schedule over the run: cosine (default), linear or "
             "constant. It decays lr to lr * --lr-final over "
             "--lr-schedule-steps steps, else over the time budget (a "
             "resumed run continues it)"),
    cl::cat(trainCat));
static cli::opt<int64_t> lrScheduleSteps("lr-schedule-steps", cl::init(0),
    cl::desc("Length of the schedule in steps (default: --steps when given; "
             "0 = the time budget). Give the full length when a run is "
             "meant to be resumed, so that the parts equal one run"),
    bounds(cli::nonNegativeCount), cl::cat(trainCat));
static cli::opt<double> lrFinalOpt("lr-final", cl::init(0.1),
    cl::desc("Final step size as a fraction of --lr (default 0.1)"),
    bounds(cli::lrFinal), cl::cat(trainCat));
static cli::opt<int64_t> batchOpt("batch", cl::init(128), cl::desc("Batch size (default 128)"), bounds(cli::batch), cl::cat(trainCat));
static cl::opt<uint64_t> seedOpt("seed", cl::init(0),
    cl::desc("Seed of the perturbations and the batch order (default 0)"), cl::cat(trainCat));
// Run control.
static cli::opt<double> timeBudget("time-budget", cl::init(600),
    cl::desc("Stop after this many seconds of training (default 600; 0 = no limit)"),
    bounds(cli::seconds), cl::cat(runCat));
static cli::opt<int64_t> stepsOpt("steps", cl::init(0),
    cl::desc("Stop when this many steps are done in total, counting resumed "
             "ones (default 0 = until the time budget)"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));
static cli::opt<int64_t> evalEvery("eval-every", cl::init(500),
    cl::desc("Evaluate test accuracy every N steps (default 500; 0 = only at the end)"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));
static cli::opt<int64_t> validationOpt("validation", cl::init(0),
    cl::desc("Hold out the last N training rows as a validation set: every "
             "evaluation (--eval-every, and the start and the end) measures "
             "it, and --select picks the weights by it. Default: the rule's "
             "recipe, 1/12 of the training rows for activity (5,000 of "
             "Fashion-MNIST's 60,000), none for ternary and fg; 0 = train on "
             "every row"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));
static cli::opt<double> averageOpt("average", cl::init(0),
    cl::desc("Polyak averaging: the run evaluates and delivers an "
             "exponential moving average of the weights with this decay per "
             "step (in [0, 1); the checkpoint's parameters are the average "
             "and the trained weights are kept as optimizer.weights.*). "
             "Default: the rule's recipe, 0.999 for activity, 0 (off) for "
             "ternary and fg"),
    bounds(decayBounds), cl::cat(trainCat));
static cl::opt<std::string> selectOpt("select", cl::init("best"),
    cl::desc("With a validation set, the weights the run ends with: best "
             "(default; the evaluated step with the best validation "
             "accuracy: the checkpoint is that step's weights and optimiser "
             "state, and the replay log is cut back to it, so both replay "
             "and resume from there) or last"),
    cl::cat(runCat));
static cli::opt<int64_t> patienceOpt("patience", cl::init(0),
    cl::desc("With a validation set: stop once N evaluations in a row "
             "(--eval-every steps apart) have not reached the best "
             "validation accuracy so far, instead of running to --steps or "
             "--time-budget (default 0: never). The summary's 'stopped' "
             "says which ended the run"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));
static cl::opt<std::string> workDirOpt("work-dir", cl::init("."),
    cl::desc("Directory for the default checkpoint and the compiled-model "
             "cache (default: current directory for the checkpoint, "
             "$XDG_CACHE_HOME/kan for the cache)"),
    cl::cat(runCat));
static cl::opt<std::string> checkpointOpt("checkpoint",
    cl::desc("Checkpoint path (safetensors, written atomically; default "
             "<work-dir>/kan-train-checkpoint.safetensors)"),
    cl::cat(runCat));
static cli::opt<int64_t> checkpointEvery("checkpoint-every", cl::init(1000),
    cl::desc("Write the checkpoint every N steps, and at the end (default 1000; 0 = only at the end)"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));
static cl::opt<std::string> resumeOpt("resume",
    cl::desc("Continue from this checkpoint at its stored step (model shape, "
             "seeds and optimiser options come from its metadata)"),
    cl::cat(runCat));
static cl::opt<std::string> replayLogOpt("replay-log",
    cl::desc("Write the replay log (seeds and JVP scalars of every step) "
             "here; the initial weights (or the --resume checkpoint's) go to "
             "<log>.init.safetensors, which the log names and hashes. "
             "Default: next to the checkpoint, <checkpoint>.replay "
             "(<checkpoint>.from-<step>.replay when resuming). The checkpoint "
             "and the log are locked (<path>.lock) while the run lasts"),
    cl::cat(runCat));
static cl::opt<std::string> metricsOpt("metrics",
    cl::desc("Write the training curve here: a JSON line {step, seconds, "
             "loss, test_accuracy, lr, steps_per_second} every "
             "--metrics-every steps, at every evaluation (the only lines "
             "with a test_accuracy) and at the end; kan-plot curves draws "
             "it. Default: next to the checkpoint, "
             "<checkpoint>.metrics.jsonl (a resumed run appends)"),
    cl::cat(runCat));
static cli::opt<int64_t> metricsEvery("metrics-every", cl::init(100),
    cl::desc("Steps between metrics lines (default 100; 0 = only at the "
             "evaluations)"),
    bounds(cli::nonNegativeCount), cl::cat(runCat));

// Data.
static cl::opt<std::string> dataDir("data-dir", cl::init("/usr/share/datasets/fashion-mnist"),
    cl::desc("Directory with the MNIST-family IDX files used when no data "
             "file is given (default /usr/share/datasets/fashion-mnist)"),
    cl::cat(dataCat));
static cl::opt<std::string> trainImages("train-images", cl::desc("Training images (IDX, gz or plain)"), cl::cat(dataCat));
static cl::opt<std::string> trainLabels("train-labels", cl::desc("Training labels (IDX, gz or plain)"), cl::cat(dataCat));
static cl::opt<std::string> testImages("test-images", cl::desc("Test images (IDX)"), cl::cat(dataCat));
static cl::opt<std::string> testLabels("test-labels", cl::desc("Test labels (IDX)"), cl::cat(dataCat));
static cl::opt<std::string> trainCsv("train-csv",
    cl::desc("Training CSV: integer label in the first column, features after (used as they are)"),
    cl::cat(dataCat));
static cl::opt<std::string> testCsv("test-csv", cl::desc("Test CSV, same layout"), cl::cat(dataCat));
static cl::opt<bool> csvHeader("csv-header", cl::desc("The CSV files start with a header line"), cl::cat(dataCat));
static cl::opt<bool> standardizeOpt("standardize",
    cl::desc("Standardise every feature with the training set's mean and "
             "deviation (IDX pixels are otherwise mapped to b/127.5-1, the "
             "grid range [-1,1])"),
    cl::cat(dataCat));

// Replay.
static cl::opt<std::string> replayOpt("replay",
    cl::desc("Rebuild the final weights from this replay log instead of training"),
    cl::cat(replayCat));
static cl::opt<std::string> checkpointIn("checkpoint-in",
    cl::desc("Initial weights for --replay (default: the path stored in the log)"),
    cl::cat(replayCat));
static cl::opt<std::string> outputOpt("output", cl::desc("Where --replay writes the rebuilt weights"), cl::cat(replayCat));
static cl::opt<std::string> compareOpt("compare",
    cl::desc("Check that the rebuilt weights equal this checkpoint bit for bit"),
    cl::cat(replayCat));

static volatile std::sig_atomic_t interrupted = 0;
static void onSignal(int) { interrupted = 1; }

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int failTogether(Error e);

static int fail(Error e) {
  if (e.isA<kan::train::AgreedError>())
    return failTogether(std::move(e));
  llvm::errs().flush();
  // Under mpirun an error one rank meets ends the whole job.
  std::string who = kan::train::worldSize() > 1
                        ? "rank " + std::to_string(kan::train::worldRank()) +
                              " of " + std::to_string(kan::train::worldSize()) +
                              ": "
                        : "";
  llvm::WithColor::error(llvm::errs(), "kan-train") << who << llvm::toString(std::move(e)) << "\n";
  kan::train::abortJob(1);
  return 1;
}

/// An error every rank meets at the same step (agreed values): rank 0
/// reports it and every rank returns.
static int failTogether(Error e) {
  if (kan::train::worldRank() != 0) {
    llvm::consumeError(std::move(e));
    return 1;
  }
  llvm::errs().flush();
  llvm::WithColor::error(llvm::errs(), "kan-train") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

/// A field of /proc/self/status in MiB (VmRSS, VmHWM); NAN where unknown.
static double procStatusMiB(llvm::StringRef field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return NAN;
  char line[256];
  double mib = NAN;
  while (fgets(line, sizeof(line), f))
    if (llvm::StringRef(line).starts_with(field) &&
        line[field.size()] == ':') {
      mib = std::strtod(line + field.size() + 1, nullptr) / 1024.0;
      break;
    }
  fclose(f);
  return mib;
}

/// Resets the peak RSS to the current RSS (Linux: clear_refs 5), so that
/// VmHWM afterwards is the peak of what follows.
static bool resetPeakRss() {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f)
    return false;
  bool ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok;
}

static std::string fmtDouble(double v) {
  char buf[40];
  snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

static std::string jsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[40];
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

static llvm::Expected<std::vector<int64_t>> parseWidths(llvm::StringRef s) {
  std::vector<int64_t> w;
  llvm::SmallVector<llvm::StringRef> parts;
  s.split(parts, ',');
  for (llvm::StringRef p : parts) {
    int64_t v;
    if (p.trim().getAsInteger(10, v) || v < 1)
      return makeError("--widths: '" + s + "' is not a list of positive integers like 784,64,10");
    w.push_back(v);
  }
  if (w.size() < 2)
    return makeError("--widths needs at least two entries (inputs and classes)");
  return w;
}

/// The training configuration: from the options, or from a checkpoint's
/// metadata when resuming (explicit options must then agree with it).
struct RunConfig {
  ModelShape shape;
  TrainConfig train;
  int64_t batch = 256;
  uint64_t seed = 0, initSeed = 0;
  int64_t startStep = 0;
  std::string schedule = "cosine";
  double lrFinal = 0.1;
  /// Schedule progress in [0, 1] at startStep (from the checkpoint).
  double progress0 = 0;
  /// Schedule length in steps; 0 = by the time budget.
  int64_t scheduleSteps = 0;
  /// kan_optimizer_method and its constants.
  std::string optimizer = "sgd";
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  /// The data was standardised (an activity replay re-reads it the same way).
  bool standardize = false;
  /// Row tile of the compiled step (an activity replay compiles the same).
  int64_t tileRows = 0;
  /// Training rows held out for validation (the last ones); -1 until the
  /// data is loaded when the rule's recipe decides.
  int64_t validationRows = -1;
  /// Decay of the weight average (0 = none).
  double average = 0;
  /// Density annealing (0 = off): stages of the schedule progress.
  double densityFinal = 0;
  int64_t densityStages = 4;

  bool annealing() const { return densityFinal > 0; }
  int64_t stageAt(double progress) const {
    return std::min<int64_t>(densityStages - 1,
                             static_cast<int64_t>(progress * densityStages));
  }
  /// Geometric from train.density (stage 0) to densityFinal (last stage).
  double densityOf(int64_t stage) const {
    if (!annealing() || densityStages < 2)
      return train.density;
    return train.density *
           std::pow(densityFinal / train.density,
                    static_cast<double>(stage) / (densityStages - 1));
  }

  int method() const { return *kan::train::parseMethod(optimizer); }
  /// The runtime's view of the optimiser (replay log, state).
  kan_optim_config optimConfig(const OptimSetup &setup) const {
    kan_optim_config oc{setup.kind, setup.dist,
                        static_cast<uint32_t>(train.directions), seed,
                        train.lr, train.density, method(), beta1, beta2, eps};
    return oc;
  }
};

/// The step-size factor at schedule progress p in [0, 1].
static double lrScaleAt(const RunConfig &rc, double p) {
  p = std::clamp(p, 0.0, 1.0);
  if (rc.schedule == "linear")
    return 1.0 - (1.0 - rc.lrFinal) * p;
  if (rc.schedule == "cosine")
    return rc.lrFinal + (1.0 - rc.lrFinal) * 0.5 * (1.0 + std::cos(M_PI * p));
  return 1.0;
}

/// The inverse of lrScaleAt for the decaying schedules (replayed checkpoints
/// of time-budget runs get their schedule position back from the log).
static double progressOfScale(llvm::StringRef schedule, double lrFinal,
                              double scale) {
  if (!(lrFinal < 1))
    return 1;
  double u = std::clamp((scale - lrFinal) / (1 - lrFinal), 0.0, 1.0);
  if (schedule == "linear")
    return 1 - u;
  return std::acos(2 * u - 1) / M_PI;
}

static void setMetadata(Model &m, const RunConfig &rc, int64_t step) {
  m.setMeta("format", "efficient-kan");
  m.setMeta("base_activation", "silu");
  m.setMeta("widths", rc.shape.widthsString());
  m.setMeta("grid_size", std::to_string(rc.shape.gridSize));
  m.setMeta("spline_order", std::to_string(rc.shape.order));
  m.setMeta("dtype", rc.shape.f32 ? "f32" : "f64");
  m.setMeta("step", std::to_string(step));
  m.setMeta("seed", std::to_string(rc.seed));
  m.setMeta("init_seed", std::to_string(rc.initSeed));
  m.setMeta("batch", std::to_string(rc.batch));
  m.setMeta("rule", rc.train.rule);
  m.setMeta("dist", rc.train.resolvedDist());
  m.setMeta("directions", std::to_string(rc.train.directions));
  m.setMeta("density", fmtDouble(rc.train.density));
  m.setMeta("lr", fmtDouble(rc.train.lr));
  m.setMeta("lr_schedule", rc.schedule);
  m.setMeta("lr_final", fmtDouble(rc.lrFinal));
  m.setMeta("lr_schedule_steps", std::to_string(rc.scheduleSteps));
  m.setMeta("optimizer", rc.optimizer);
  if (rc.optimizer != "sgd") {
    m.setMeta("beta1", fmtDouble(rc.beta1));
    m.setMeta("beta2", fmtDouble(rc.beta2));
    m.setMeta("adam_eps", fmtDouble(rc.eps));
  }
  m.setMeta("standardize", rc.standardize ? "1" : "0");
  if (rc.annealing()) {
    m.setMeta("density_final", fmtDouble(rc.densityFinal));
    m.setMeta("density_stages", std::to_string(rc.densityStages));
  }
  if (rc.tileRows > 0)
    m.setMeta("tile_rows", std::to_string(rc.tileRows));
  if (rc.validationRows >= 0)
    m.setMeta("validation_rows", std::to_string(rc.validationRows));
  if (rc.average > 0)
    m.setMeta("average", fmtDouble(rc.average));
  if (rc.train.localLosses)
    m.setMeta("local_losses", "1");
}

/// Takes a value from checkpoint metadata unless the option was given, in
/// which case both must agree.
template <typename T, typename Opt>
static Error adopt(const Model &ckpt, llvm::StringRef key, Opt &opt, T &dst,
                   llvm::StringRef path) {
  std::string v = ckpt.getMeta(key);
  if (v.empty()) {
    dst = opt;
    return Error::success();
  }
  T parsed{};
  if constexpr (std::is_same_v<T, std::string>) {
    parsed = v;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (llvm::StringRef(v).getAsDouble(parsed))
      return makeError(path + ": metadata '" + key + "' = '" + v + "' is not a number");
  } else {
    if (llvm::StringRef(v).getAsInteger(10, parsed))
      return makeError(path + ": metadata '" + key + "' = '" + v + "' is not an integer");
  }
  if (opt.getNumOccurrences() && !(opt.getValue() == parsed))
    return makeError("--" + opt.ArgStr + " differs from the value '" + v +
                     "' stored in the checkpoint " + path +
                     " (a resumed run keeps its configuration)");
  dst = parsed;
  return Error::success();
}

static llvm::Expected<RunConfig> makeConfig(Model *resumed,
                                            const std::string &resumePath) {
  RunConfig rc;
  if (resumed) {
    rc.shape = resumed->shape;
    const std::string &p = resumePath;
    if (widthsOpt.getNumOccurrences() && widthsOpt != rc.shape.widthsString())
      return makeError("--widths " + widthsOpt + " differs from the checkpoint " + p +
                       " (" + rc.shape.widthsString() + ")");
    if ((gridOpt.getNumOccurrences() && gridOpt != rc.shape.gridSize) ||
        (orderOpt.getNumOccurrences() && orderOpt != rc.shape.order) ||
        (dtypeOpt.getNumOccurrences() && (dtypeOpt == "f32") != rc.shape.f32))
      return makeError("--grid/--order/--dtype differ from the checkpoint " + p);
    std::string stepStr = resumed->getMeta("step");
    if (stepStr.empty() || llvm::StringRef(stepStr).getAsInteger(10, rc.startStep) ||
        rc.startStep < 0 || rc.startStep >= (int64_t(1) << 32))
      return makeError(p + ": checkpoint metadata has no valid 'step'");
    int64_t dirs = 0, batch = 0;
    if (Error e = adopt(*resumed, "rule", ruleOpt, rc.train.rule, p))
      return std::move(e);
    std::string dist;
    if (Error e = adopt(*resumed, "dist", distOpt, dist, p))
      return std::move(e);
    rc.train.dist = dist;
    if (Error e = adopt(*resumed, "directions", directionsOpt, dirs, p))
      return std::move(e);
    rc.train.directions = dirs;
    if (Error e = adopt(*resumed, "density", densityOpt, rc.train.density, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "lr", lrOpt, rc.train.lr, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "lr_schedule", lrScheduleOpt, rc.schedule, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "lr_final", lrFinalOpt, rc.lrFinal, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "lr_schedule_steps", lrScheduleSteps,
                        rc.scheduleSteps, p))
      return std::move(e);
    if (std::string v = resumed->getMeta("lr_progress"); !v.empty())
      if (llvm::StringRef(v).getAsDouble(rc.progress0) ||
          !(rc.progress0 >= 0 && rc.progress0 <= 1))
        return makeError(p + ": metadata 'lr_progress' = '" + v +
                         "' is not a number in [0, 1]");
    if (Error e = adopt(*resumed, "batch", batchOpt, batch, p))
      return std::move(e);
    rc.batch = batch;
    if (Error e = adopt(*resumed, "seed", seedOpt, rc.seed, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "init_seed", initSeed, rc.initSeed, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "optimizer", optimizerOpt, rc.optimizer, p))
      return std::move(e);
    if (rc.optimizer.empty())
      rc.optimizer = "sgd";
    if (Error e = adopt(*resumed, "beta1", beta1Opt, rc.beta1, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "beta2", beta2Opt, rc.beta2, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "adam_eps", adamEpsOpt, rc.eps, p))
      return std::move(e);
    int64_t stdz = 0;
    if (Error e = adopt(*resumed, "standardize", standardizeOpt, stdz, p))
      return std::move(e);
    rc.standardize = stdz != 0;
    if (Error e = adopt(*resumed, "density_final", densityFinalOpt,
                        rc.densityFinal, p))
      return std::move(e);
    if (Error e = adopt(*resumed, "density_stages", densityStagesOpt,
                        rc.densityStages, p))
      return std::move(e);
    // (Checkpoints from before the option held none out.)
    if (Error e = adopt(*resumed, "validation_rows", validationOpt,
                        rc.validationRows, p))
      return std::move(e);
    if (rc.validationRows < 0)
      return makeError(p + ": metadata 'validation_rows' is negative");
    if (Error e = adopt(*resumed, "average", averageOpt, rc.average, p))
      return std::move(e);
    // Absent: a run without local losses.
    bool local = resumed->getMeta("local_losses") == "1";
    if (std::string v = resumed->getMeta("local_losses");
        !v.empty() && v != "1")
      return makeError(p + ": metadata 'local_losses' = '" + v +
                       "' is not 1");
    if (localLossesOpt.getNumOccurrences() && localLossesOpt != local)
      return makeError("--local-losses" +
                       llvm::Twine(localLossesOpt ? "" : "=false") +
                       " differs from the checkpoint " + p +
                       (local ? ", trained with local losses"
                              : ", trained without local losses") +
                       " (a resumed run keeps its configuration)");
    rc.train.localLosses = local;
  } else {
    auto w = parseWidths(widthsOpt);
    if (!w)
      return w.takeError();
    rc.shape.widths = *w;
    rc.shape.gridSize = gridOpt;
    rc.shape.order = orderOpt;
    if (dtypeOpt != "f64" && dtypeOpt != "f32")
      return makeError("--dtype must be f64 or f32, not '" + dtypeOpt + "'");
    rc.shape.f32 = dtypeOpt == "f32";
    // The options not given come from the rule's recipe.
    rc.train.rule = ruleOpt.getNumOccurrences() ? ruleOpt.getValue()
                                                : defaultRecipe.rule;
    const Recipe *recipe = findRecipe(rc.train.rule);
    if (!recipe)
      return makeError("--rule must be ternary, fg or activity, not '" +
                       rc.train.rule + "'");
    rc.train.dist = distOpt;
    rc.train.directions = directionsOpt.getNumOccurrences()
                              ? directionsOpt.getValue()
                              : recipe->directions;
    rc.train.density = densityOpt;
    rc.train.lr = lrOpt.getNumOccurrences() ? lrOpt.getValue() : recipe->lr;
    rc.schedule = lrScheduleOpt;
    rc.lrFinal = lrFinalOpt;
    rc.scheduleSteps = lrScheduleSteps.getNumOccurrences()
                           ? lrScheduleSteps.getValue()
                           : std::max<int64_t>(0, stepsOpt);
    rc.batch = batchOpt;
    rc.seed = seedOpt;
    rc.initSeed = initSeed;
    rc.optimizer = optimizerOpt.getNumOccurrences() ? optimizerOpt.getValue()
                                                    : recipe->optimizer;
    rc.beta1 = beta1Opt;
    rc.beta2 = beta2Opt;
    rc.eps = adamEpsOpt;
    rc.standardize = standardizeOpt;
    rc.densityFinal = densityFinalOpt;
    rc.densityStages = densityStagesOpt;
    rc.validationRows =
        validationOpt.getNumOccurrences() ? validationOpt.getValue() : -1;
    rc.average = averageOpt.getNumOccurrences() ? averageOpt.getValue()
                                                : recipe->average;
    rc.train.localLosses = localLossesOpt;
  }
  if (rc.train.localLosses && rc.train.rule != "activity")
    return makeError(
        (resumed ? resumePath + ": metadata 'local_losses'"
                 : std::string("--local-losses")) +
        " trains hidden layers from perturbations of their activities: "
        "it needs --rule activity, not " + rc.train.rule);
  if (rc.train.localLosses && rc.shape.numLayers() < 2)
    return makeError("--local-losses gives every hidden layer a head of "
                     "its own; the model [" + rc.shape.widthsString() +
                     "] has no hidden layer");
  if (!kan::train::parseMethod(rc.optimizer))
    return makeError((resumed ? resumePath + ": metadata 'optimizer'"
                              : std::string("--optimizer")) +
                     " must be sgd, momentum or adam, not '" + rc.optimizer +
                     "'");
  // Values from a checkpoint get the options' checks.
  std::string src = resumed ? resumePath + ": metadata '" : "--";
  llvm::StringRef end = resumed ? "'" : "";
  if (Error e = validateShape(
          rc.shape, resumed ? resumePath
                    : widthsOpt.size() <= 80 ? "--widths " + widthsOpt
                                             : std::string("--widths")))
    return std::move(e);
  for (auto why :
       {cli::check(cli::directions, rc.train.directions,
                        llvm::Twine(src) + "directions" + end),
        cli::check(cli::density, rc.train.density,
                        llvm::Twine(src) + "density" + end),
        cli::check(cli::learningRate, rc.train.lr, llvm::Twine(src) + "lr" + end),
        cli::check(cli::lrFinal, rc.lrFinal, llvm::Twine(src) + "lr_final" + end),
        cli::check(cli::nonNegativeCount, rc.scheduleSteps,
                        llvm::Twine(src) + "lr_schedule_steps" + end),
        cli::check(cli::batch, rc.batch, llvm::Twine(src) + "batch" + end),
        cli::check(decayBounds, rc.beta1, llvm::Twine(src) + "beta1" + end),
        cli::check(cli::fraction, rc.densityFinal,
                   llvm::Twine(src) + (resumed ? "density_final" : "density-final") + end),
        cli::check(cli::positiveCount, rc.densityStages,
                   llvm::Twine(src) + (resumed ? "density_stages" : "density-stages") + end),
        cli::check(decayBounds, rc.beta2, llvm::Twine(src) + "beta2" + end),
        cli::check(decayBounds, rc.average, llvm::Twine(src) + "average" + end),
        cli::check(epsBounds, rc.eps,
                   llvm::Twine(src) + (resumed ? "adam_eps" : "adam-eps") +
                       end)})
    if (why)
      return makeError(*why);
  // The step holds a batch of every layer's outputs: bounded like the
  // parameters, before anything is allocated.
  int64_t widest = *std::max_element(rc.shape.widths.begin(), rc.shape.widths.end());
  if (static_cast<uint64_t>(rc.batch) * static_cast<uint64_t>(widest) >
      modelLimits().maxParams)
    return makeError("--batch " + llvm::Twine(rc.batch) + " x width " +
                     llvm::Twine(widest) + " = " +
                     llvm::Twine(static_cast<uint64_t>(rc.batch) * widest) +
                     " activations per layer, more than the limit of " +
                     llvm::Twine(modelLimits().maxParams) + " (--max-params)");
  if (rc.schedule != "cosine" && rc.schedule != "linear" &&
      rc.schedule != "constant")
    return makeError("--lr-schedule must be cosine, linear or constant, not '" +
                     rc.schedule + "'");
  return rc;
}

/// Training, validation and test data per the options; validation and test
/// may come back empty. validationRows < 0 takes the training rows over
/// `divisor` (none when it is 0) and comes back resolved.
static Error loadData(Dataset &train, Dataset &test, bool &haveTest,
                      bool standardizeData, int64_t &validationRows,
                      int64_t divisor, Dataset &valid) {
  haveTest = false;
  if (!trainCsv.empty()) {
    if (!trainImages.empty() || !trainLabels.empty())
      return makeError("give either --train-csv or --train-images/--train-labels");
    auto d = loadCsv(trainCsv, csvHeader);
    if (!d)
      return d.takeError();
    train = std::move(*d);
    if (!testCsv.empty()) {
      auto t = loadCsv(testCsv, csvHeader);
      if (!t)
        return t.takeError();
      test = std::move(*t);
      haveTest = true;
    }
  } else {
    auto path = [](const std::string &given, const char *name) {
      if (!given.empty())
        return given;
      llvm::SmallString<256> p(dataDir.getValue());
      llvm::sys::path::append(p, name);
      return std::string(p);
    };
    bool explicitTrain = !trainImages.empty() || !trainLabels.empty();
    if (explicitTrain && (trainImages.empty() || trainLabels.empty()))
      return makeError("--train-images and --train-labels go together");
    auto d = loadIdx(path(trainImages, "train-images-idx3-ubyte.gz"),
                     path(trainLabels, "train-labels-idx1-ubyte.gz"),
                     PixelScaling::Unit);
    if (!d)
      return d.takeError();
    train = std::move(*d);
    bool explicitTest = !testImages.empty() || !testLabels.empty();
    if (explicitTest && (testImages.empty() || testLabels.empty()))
      return makeError("--test-images and --test-labels go together");
    if (explicitTest || !explicitTrain) {
      auto t = loadIdx(path(testImages, "t10k-images-idx3-ubyte.gz"),
                       path(testLabels, "t10k-labels-idx1-ubyte.gz"),
                       PixelScaling::Unit);
      if (!t)
        return t.takeError();
      test = std::move(*t);
      haveTest = true;
    }
  }
  if (validationRows < 0)
    validationRows = divisor > 0 ? train.rows / divisor : 0;
  if (validationRows >= train.rows)
    return makeError("--validation " + llvm::Twine(validationRows) +
                     " holds out every row of the " +
                     llvm::Twine(train.rows) + " in " + train.name +
                     "; give fewer, or 0");
  valid = splitTail(train, validationRows, " (validation rows)");
  if (standardizeData) {
    // The training rows' statistics alone, applied to the held-out ones.
    llvm::SmallVector<Dataset *, 2> others;
    if (haveTest)
      others.push_back(&test);
    if (valid.rows)
      others.push_back(&valid);
    standardize(train, others);
  }
  return Error::success();
}

/// Copies rows of the data set into a batch buffer of the model's type.
static void gather(const Dataset &d, const int64_t *rows, int64_t n, bool f32,
                   std::vector<double> &storage) {
  size_t f = static_cast<size_t>(d.features);
  storage.resize((static_cast<size_t>(n) * f * (f32 ? 4 : 8) + 7) / 8);
  for (int64_t r = 0; r < n; ++r) {
    const double *src = d.x.data() + static_cast<size_t>(rows[r]) * f;
    if (f32) {
      float *dst = reinterpret_cast<float *>(storage.data()) + r * f;
      for (size_t j = 0; j < f; ++j)
        dst[j] = static_cast<float>(src[j]);
    } else {
      std::memcpy(storage.data() + r * f, src, f * sizeof(double));
    }
  }
}

static llvm::Expected<double> evaluate(Engine &engine, Model &model,
                                       const Dataset &d) {
  const int64_t chunk = 1000;
  int64_t classes = model.shape.widths.back(), correct = 0;
  std::vector<double> xb;
  std::vector<int64_t> rows;
  Tensor y;
  for (int64_t start = 0; start < d.rows; start += chunk) {
    int64_t n = std::min(chunk, d.rows - start);
    rows.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      rows[i] = start + i;
    gather(d, rows.data(), n, model.shape.f32, xb);
    y.allocate({n, classes}, model.shape.f32);
    if (Error e = engine.forward(model, xb.data(), n, y.data()))
      return std::move(e);
    for (int64_t i = 0; i < n; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (y.get(i * classes + c) > y.get(i * classes + best))
          best = c;
      correct += best == d.labels[start + i];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(d.rows);
}

/// One step of a single-process run: the compiled step alone (sgd), or the
/// step's scalars / estimated update followed by the runtime's momentum or
/// Adam (the same calls replay makes).
static Error runStep(Engine &engine, Model &model, const OptimSetup &setup,
                     const kan_optim_config &oc,
                     kan::train::OptimizerState &optState, Model &grads,
                     const void *x, const int64_t *labels, int64_t n,
                     int64_t step, double lrScale, double &loss,
                     std::vector<double> &alphas) {
  if (oc.method == KAN_METHOD_SGD)
    return engine.trainStep(model, x, labels, n, oc.seed, step, lrScale, loss,
                            alphas);
  std::vector<kan_param> params = runtimeParams(model, setup);
  if (oc.kind != KAN_OPT_ACTIVITY) {
    if (Error e = engine.trainStep(model, x, labels, n, oc.seed, step, lrScale,
                                   loss, alphas))
      return e;
    if (int st = kan_optimizer_step_state(&oc, static_cast<uint32_t>(step),
                                          alphas.data(), lrScale,
                                          params.size(), params.data(),
                                          &optState.state))
      return runtimeError(st, "kan_optimizer_step_state");
    return Error::success();
  }
  if (Error e = engine.trainStepGradient(model, x, labels, n, oc.seed, step,
                                         grads, loss, alphas))
    return e;
  // The runtime takes the update in double.
  std::vector<std::vector<double>> wide(setup.tensorIndex.size());
  std::vector<const double *> g;
  for (size_t i = 0; i < setup.tensorIndex.size(); ++i) {
    Tensor &t = grads.tensors[setup.tensorIndex[i]];
    if (!t.f32) {
      g.push_back(static_cast<const double *>(t.data()));
      continue;
    }
    wide[i].resize(t.numel());
    for (size_t j = 0; j < t.numel(); ++j)
      wide[i][j] = t.get(j);
    g.push_back(wide[i].data());
  }
  // Element-wise: the threads take one range each, same bits as one call.
  const double lrEff = oc.lr * lrScale;
  if (int st = kan_optim_begin(&oc, &optState.state, lrEff, params.size(),
                               params.data(), g.data()))
    return runtimeError(st, "kan_optim_begin");
  size_t total = 0;
  for (const kan_param &p : params)
    total += p.size;
#pragma omp parallel
  {
    size_t parts = 1, part = 0;
#ifdef _OPENMP
    parts = static_cast<size_t>(omp_get_num_threads());
    part = static_cast<size_t>(omp_get_thread_num());
#endif
    kan_optim_apply_range(&oc, &optState.state, lrEff, params.size(),
                          params.data(), g.data(), total * part / parts,
                          total * (part + 1) / parts);
  }
  return Error::success();
}

/// Re-runs the steps of an activity-rule log on the training data: the log
/// holds seeds, step sizes and per-direction check sums, the update itself
/// is a function of the batch. Every step's scalars must equal the logged
/// ones bit for bit.
static Error replayActivity(const kan_replay_log &log, Model &model,
                            const std::string &init, int64_t numThreads,
                            kan::train::OptimizerState &optState,
                            kan::train::Averager &averager) {
  auto rcOr = makeConfig(&model, init);
  if (!rcOr)
    return rcOr.takeError();
  RunConfig rc = *rcOr;
  auto setupOr = makeOptimSetup(model, rc.train);
  if (!setupOr)
    return setupOr.takeError();
  OptimSetup setup = *setupOr;
  kan_optim_config oc = rc.optimConfig(setup);
  if (oc.kind != log.config.kind || oc.ndir != log.config.ndir ||
      oc.seed != log.config.seed || oc.lr != log.config.lr ||
      oc.method != log.config.method || oc.dist != log.config.dist)
    return makeError(init + ": the checkpoint's training options differ "
                            "from the replay log " + replayOpt);
  Dataset train, test, valid;
  bool haveTest = false;
  // The run's validation rows (in its metadata) were not trained on.
  if (rc.validationRows < 0)
    rc.validationRows = 0;
  if (Error e = loadData(train, test, haveTest, rc.standardize,
                         rc.validationRows, 0, valid))
    return makeError("replaying the activity-rule log " + replayOpt +
                     " re-runs the forward sweeps of every step and needs "
                     "the run's training data (--data-dir, --train-images/"
                     "--train-labels or --train-csv, as the run had them): " +
                     llvm::toString(std::move(e)));
  if (Error e = checkDataset(train, rc.shape.widths[0], rc.shape.widths.back()))
    return e;
  CompileOptions co;
  if (workDirOpt.getNumOccurrences())
    co.workDir = workDirOpt;
  co.threads = numThreads;
  if (std::string t = model.getMeta("tile_rows"); !t.empty()) {
    if (llvm::StringRef(t).getAsInteger(10, co.tileRows) ||
        cli::check(cli::tileRows, co.tileRows, "tile_rows"))
      return makeError(init + ": metadata 'tile_rows' = '" + t +
                       "' is not a valid row tile");
  } else {
    // As the run chose it for this --threads.
    int64_t perThread = (rc.batch + numThreads - 1) / numThreads;
    co.tileRows = std::clamp<int64_t>((perThread + 7) / 8 * 8, 8, co.tileRows);
  }
  TrainConfig stepConfig = rc.train;
  if (oc.method != KAN_METHOD_SGD)
    stepConfig.gradient = true;
  auto eng = createCompiledEngine(rc.shape, &stepConfig, co);
  if (!eng)
    return eng.takeError();
  Model grads;
  if (oc.method != KAN_METHOD_SGD) {
    grads = allocateModel(rc.shape);
    if (rc.train.localLosses)
      appendLocalHeads(grads);
  }
  BatchSampler sampler(train.rows, rc.batch, rc.seed);
  std::vector<int64_t> rows, labels(static_cast<size_t>(rc.batch));
  std::vector<double> xb, alphas;
  for (size_t i = 0; i < log.nsteps; ++i) {
    int64_t step = log.steps[i];
    sampler.indices(step, rows);
    for (int64_t r = 0; r < rc.batch; ++r)
      labels[r] = train.labels[rows[r]];
    gather(train, rows.data(), rc.batch, rc.shape.f32, xb);
    double loss = 0;
    if (Error e = runStep(**eng, model, setup, oc, optState, grads, xb.data(),
                          labels.data(), rc.batch, step, log.lr_scale[i], loss,
                          alphas))
      return e;
    averager.update(model, setup.tensorIndex);
    const double *want = log.jvp + i * log.config.ndir;
    for (uint32_t d = 0; d < log.config.ndir; ++d)
      if (std::memcmp(&alphas[d], &want[d], sizeof(double)) != 0)
        return makeError(
            replayOpt + ": step " + llvm::Twine(step) +
            " re-run gives the scalar " + fmtDouble(alphas[d]) +
            " for direction " + llvm::Twine(d) + ", the log has " +
            fmtDouble(want[d]) +
            ": not the run's data, build or kernel level (KAN_ISA)");
  }
  return Error::success();
}

static int runReplay(int64_t numThreads) {
  if (outputOpt.empty() && compareOpt.empty())
    return fail(makeError("--replay needs --output and/or --compare"));
  kan_replay_log log{};
  std::string lp = replayOpt;
  if (int st = kan_replay_read(lp.c_str(), &log))
    return fail(runtimeError(st));
  auto freeLog = llvm::make_scope_exit([&] { kan_replay_log_free(&log); });
  std::string init = checkpointIn;
  if (init.empty())
    init = log.init_checkpoint ? log.init_checkpoint : "";
  if (init.empty())
    return fail(makeError(replayOpt + ": the log names no initial checkpoint; give --checkpoint-in"));
  if (log.dropped_records)
    llvm::errs() << "replay: " << replayOpt << ": ignored a torn tail of "
                 << log.dropped_bytes << " bytes (" << log.dropped_records
                 << (log.dropped_records == 1 ? " record" : " records")
                 << " incomplete or damaged, as a crash or a full disk leaves "
                    "them); replaying the "
                 << log.nsteps << " whole records\n";
  auto model = readSafetensors(init);
  if (!model)
    return fail(model.takeError());
  // A run with local losses logs its heads' tensors too.
  bool local = model->getMeta("local_losses") == "1";
  if (local)
    if (Error e = readLocalHeads(init, *model))
      return fail(std::move(e));
  // The parameters in the log's order; a run that averaged its weights
  // keeps the trained ones next to the average, and replay continues both.
  std::vector<size_t> paramIndex;
  for (size_t i = 0; i < log.nparams; ++i)
    for (size_t t = 0; t < model->tensors.size(); ++t)
      if (model->tensors[t].name == log.params[i].name)
        paramIndex.push_back(t);
  double decay = 0;
  if (std::string d = model->getMeta("average");
      !d.empty() && (llvm::StringRef(d).getAsDouble(decay) ||
                     cli::check(decayBounds, decay, "average")))
    return fail(makeError(init + ": metadata 'average' = '" + d +
                          "' is not a decay in [0, 1)"));
  kan::train::Averager averager;
  if (Error e = averager.load(init, decay, *model, paramIndex))
    return fail(std::move(e));
  // The log starts where its initial weights stand; with the content hash
  // (checked by kan_replay_apply) this catches a replaced checkpoint.
  int64_t initStep = 0;
  if (std::string st = model->getMeta("step");
      !st.empty() && (llvm::StringRef(st).getAsInteger(10, initStep) ||
                      initStep != static_cast<int64_t>(log.start_step)))
    return fail(makeError(init + " is at step " + st + " but the replay log " +
                          replayOpt + " starts at step " +
                          llvm::Twine(log.start_step) +
                          ": not the log's initial weights"));
  std::vector<kan_param> params;
  for (size_t i = 0; i < log.nparams; ++i) {
    const kan_replay_param &rp = log.params[i];
    auto it = llvm::find_if(model->tensors, [&](const Tensor &t) { return t.name == rp.name; });
    if (it == model->tensors.end())
      return fail(makeError(init + ": no tensor '" + rp.name + "' named in the replay log " + replayOpt));
    params.push_back({it->name.c_str(), rp.stream,
                      it->f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64, it->numel(), it->data()});
  }
  // Momentum and Adam continue from the state of the initial checkpoint
  // (zero for a run's first log).
  kan::train::OptimizerState optState;
  if (Error e = optState.load(init, log.config, params))
    return fail(std::move(e));
  if (log.config.kind == KAN_OPT_ACTIVITY) {
    // The starting point by content, as kan_replay_apply checks it.
    unsigned char h[32];
    kan_weights_sha256(params.size(), params.data(), h);
    if (log.has_weights_sha256 && std::memcmp(h, log.weights_sha256, 32))
      return fail(makeError(init + " is not the initial weights of the "
                                   "replay log " + replayOpt +
                            " (SHA-256 differs)"));
    if (Error e = replayActivity(log, *model, init, numThreads, optState,
                                 averager))
      return fail(std::move(e));
  } else if (!averager.on()) {
    if (int st = kan_replay_apply_state(&log, params.size(), params.data(),
                                        &optState.state))
      return fail(runtimeError(st, init + " with " + replayOpt));
  } else {
    // Step by step, averaging between the steps as the run did.
    for (size_t i = 0; i < log.nsteps; ++i) {
      if (int st = kan_replay_apply_steps(&log, i, 1, params.size(),
                                          params.data(), &optState.state))
        return fail(runtimeError(st, init + " with " + replayOpt));
      averager.update(*model, paramIndex);
    }
  }
  int64_t start = 0;
  llvm::StringRef(model->getMeta("step")).getAsInteger(10, start);
  int64_t finalStep = log.nsteps ? static_cast<int64_t>(log.steps[log.nsteps - 1]) + 1 : start;
  model->setMeta("step", std::to_string(finalStep));
  std::string sched = model->getMeta("lr_schedule");
  double lrFinal = 0;
  if (log.nsteps && (sched == "cosine" || sched == "linear") &&
      model->getMeta("lr_schedule_steps") == "0" &&
      !llvm::StringRef(model->getMeta("lr_final")).getAsDouble(lrFinal))
    model->setMeta("lr_progress",
                   fmtDouble(progressOfScale(sched, lrFinal,
                                             log.lr_scale[log.nsteps - 1])));
  if (!outputOpt.empty())
    if (Error e = writeSafetensors(
            averager.checkpoint(optState.withState(*model), paramIndex),
            outputOpt))
      return fail(std::move(e));
  std::string verdict = "null";
  if (!compareOpt.empty()) {
    auto ref = readSafetensors(compareOpt);
    if (!ref)
      return fail(ref.takeError());
    if (local)
      if (Error e = readLocalHeads(compareOpt, *ref))
        return fail(std::move(e));
    // Trained weights with trained weights, average with average.
    kan::train::Averager refAverager;
    if (Error e = refAverager.load(compareOpt, decay, *ref, paramIndex))
      return fail(std::move(e));
    bool same = ref->tensors.size() == model->tensors.size();
    std::string firstDiff;
    for (size_t i = 0; same && i < model->tensors.size(); ++i) {
      const Tensor &a = model->tensors[i], &b = ref->tensors[i];
      if (a.name != b.name || a.shape != b.shape || a.f32 != b.f32 ||
          std::memcmp(a.data(), b.data(), a.bytes()) != 0) {
        same = false;
        firstDiff = a.name;
      }
    }
    if (same && !averager.equals(refAverager, paramIndex)) {
      same = false;
      firstDiff = "weight average";
    }
    // The optimiser state too, where the run kept one.
    if (same && log.config.method != KAN_METHOD_SGD) {
      kan::train::OptimizerState refState;
      std::vector<kan_param> refParams;
      for (size_t i = 0; i < params.size(); ++i)
        refParams.push_back({params[i].name, params[i].stream, params[i].dtype,
                             params[i].size, nullptr});
      if (Error e = refState.load(compareOpt, log.config, refParams))
        return fail(std::move(e));
      if (!optState.equals(refState)) {
        same = false;
        firstDiff = "optimizer state";
      }
    }
    verdict = same ? "true" : "false";
    llvm::errs() << "replay: " << log.nsteps << " steps applied to " << init
                 << "; the weights " << (same ? "equal " : "differ from ")
                 << compareOpt << (same ? " bit for bit" : " (first: " + firstDiff + ")")
                 << "\n";
  }
  llvm::outs() << "{\"replayed_steps\":" << log.nsteps << ",\"final_step\":" << finalStep
               << ",\"identical\":" << verdict << "}\n";
  return verdict == "false" ? 1 : 0;
}

/// --task regression: the shared options handed to its own path.
static int runRegressionTask(int64_t threads) {
  kan::train::SharedOptions o;
  o.widths = widthsOpt;
  o.widthsGiven = widthsOpt.getNumOccurrences() > 0;
  o.grid = gridOpt;
  o.order = orderOpt;
  o.dtype = dtypeOpt;
  o.initSeed = initSeed;
  o.trainCsv = trainCsv;
  o.testCsv = testCsv;
  o.csvHeader = csvHeader;
  o.checkpoint = checkpointOpt;
  o.workDir = workDirOpt;
  o.workDirGiven = workDirOpt.getNumOccurrences() > 0;
  o.resume = resumeOpt;
  o.steps = stepsOpt;
  o.timeBudget = timeBudget;
  o.lr = lrOpt;
  o.lrGiven = lrOpt.getNumOccurrences() > 0;
  o.threads = threads;
  for (cl::Option *opt : std::initializer_list<cl::Option *>{
           &ruleOpt, &distOpt, &directionsOpt, &beta1Opt,
           &beta2Opt, &adamEpsOpt,
        &densityOpt, &lrScheduleOpt, &lrScheduleSteps, &lrFinalOpt, &batchOpt,
        &seedOpt, &replayLogOpt, &replayOpt, &trainImages, &trainLabels,
        &testImages, &testLabels, &standardizeOpt, &checkpointEvery,
        &evalEvery, &validationOpt, &selectOpt, &averageOpt, &initWeightsOpt,
        &localLossesOpt, &patienceOpt})
    if (opt->getNumOccurrences())
      o.classificationOnly = "--" + opt->ArgStr.str();
  // The MPI partitions split noise_step directions or batches; regression
  // runs in one process.
  auto &registered = cl::getRegisteredOptions();
  if (auto it = registered.find("partition");
      it != registered.end() && it->second->getNumOccurrences())
    o.classificationOnly = "--partition";
  return kan::train::runRegression(o);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // mpirun -np P kan-train ...: join the job first (see Distributed.h).
  if (auto why = kan::train::initializeProcesses(argc, argv))
    return fail(makeError(*why));
  // The compiled step allocates its buffers per call: keep them mapped.
  kan_keep_freed_memory();
  // Row tiles of the compiled code run on every core by default.
  std::optional<int64_t> threadsOr = cli::takeThreadsOption(
      argc, argv,
      std::clamp<int64_t>(std::thread::hardware_concurrency(), 1,
                          *cli::threads.hi),
      "kan-train");
  if (!threadsOr)
    return 1;
  int64_t numThreads = *threadsOr;
  cl::HideUnrelatedOptions({&modelCat, &trainCat, &runCat, &dataCat, &replayCat,
                            &kan::train::distributedCategory(),
                            &cli::limitsCategory(),
                            &kan::train::regressionCategory()});
  // (Static: the parser keeps the overview.)
  static const std::string overview =
      llvm::formatv("kan-train: train a KAN without backpropagation\n\n"
                    "With no arguments trains KAN [784,64,10] (G=5, k=3, "
                    "f64) on Fashion-MNIST\nfor 600 s with the best "
                    "measured rule's recipe,\n{0} (batch 128, lr decaying "
                    "to a tenth by a cosine); it holds out 1/12 of the training\n"
                    "rows and ends with the weights of the step that "
                    "validates best (--validation, --select).\nThe options "
                    "not given come from the rule's recipe:",
                    describeRecipe(defaultRecipe))
          .str() +
      recipeList() +
      "\nProgress goes to stderr; the last line on stdout is a JSON summary\n"
      "{\"steps\",\"seconds\",\"loss\",\"test_accuracy\",\"rule\","
      "\"directions\",\"optimizer\",...}.\n\n"
      "--task regression fits the last --targets CSV columns by least squares\n"
      "(exact forward-mode gradient, L-BFGS and/or Adam); its summary has\n"
      "train_rmse and test_rmse instead of test_accuracy.\n\n"
      "  --threads=N  threads of the compiled train step over batch row tiles\n"
      "               (default: the number of cores; at most 1024)\n";
  cl::ParseCommandLineOptions(argc, argv, overview);
  if (std::string e = kan::train::checkTaskOption(); !e.empty())
    return fail(makeError(e));
  if (kan::train::regressionRequested())
    return runRegressionTask(numThreads);
  if (!replayOpt.empty())
    return runReplay(numThreads);

  // Configuration and model.
  Model model;
  bool resuming = !resumeOpt.empty();
  if (resuming) {
    auto m = readSafetensors(resumeOpt);
    if (!m)
      return fail(m.takeError());
    model = std::move(*m);
  }
  auto rcOr = makeConfig(resuming ? &model : nullptr, resumeOpt);
  if (!rcOr)
    return fail(rcOr.takeError());
  RunConfig rc = *rcOr;
  if (!resuming && initWeightsOpt.getNumOccurrences()) {
    auto m = readSafetensors(initWeightsOpt);
    if (!m)
      return fail(m.takeError());
    const ModelShape &got = m->shape;
    if (got.widths != rc.shape.widths || got.gridSize != rc.shape.gridSize ||
        got.order != rc.shape.order || got.f32 != rc.shape.f32)
      return fail(makeError(
          initWeightsOpt + ": the model is [" + got.widthsString() + "] G=" +
          llvm::Twine(got.gridSize) + " k=" + llvm::Twine(got.order) + " " +
          (got.f32 ? "f32" : "f64") + ", the options ask for [" +
          rc.shape.widthsString() + "] G=" + llvm::Twine(rc.shape.gridSize) +
          " k=" + llvm::Twine(rc.shape.order) + " " +
          (rc.shape.f32 ? "f32" : "f64") +
          " (give --widths, --grid, --order and --dtype to match)"));
    bool symbolic = false;
    for (size_t l = 0; l < got.numLayers(); ++l)
      symbolic = symbolic || got.hasSymbolic(l);
    if (!got.withScaler || got.identityActivation || symbolic)
      return fail(makeError(
          initWeightsOpt + ": kan-train trains efficient-kan layers (SiLU "
          "base, spline scalers, splines on every edge); this model has " +
          (!got.withScaler ? "no spline_scaler tensors"
           : got.identityActivation ? "an identity base activation"
                                    : "symbolic edges")));
    model = std::move(*m);
    // A new run: none of the file's training metadata carries over.
    model.metadata.clear();
  } else if (!resuming) {
    model = allocateModel(rc.shape);
    initializeModel(model, rc.initSeed);
  } else if (initWeightsOpt.getNumOccurrences()) {
    return fail(makeError("--resume continues a run from its checkpoint's "
                          "weights; --init-weights starts a new one: give "
                          "one of them"));
  }
  // The local-loss heads follow the model's tensors: a new run's from
  // --init-seed, a resumed run's from its checkpoint.
  if (rc.train.localLosses) {
    if (resuming) {
      if (Error e = readLocalHeads(resumeOpt, model))
        return fail(std::move(e));
    } else {
      appendLocalHeads(model);
      initializeLocalHeads(model, rc.initSeed);
    }
  }
  auto setupOr = makeOptimSetup(model, rc.train);
  if (!setupOr)
    return fail(setupOr.takeError());
  OptimSetup setup = *setupOr;
  // Across MPI ranks (--partition): rank 0 keeps the files.
  auto distOr = kan::train::Distributed::create(rc.train, rc.batch, setup, rc.seed);
  if (!distOr)
    return fail(distOr.takeError());
  std::unique_ptr<kan::train::Distributed> dist = std::move(*distOr);
  bool root = !dist || dist->isRoot();
  bool activity = setup.kind == KAN_OPT_ACTIVITY;
  if (dist && rc.train.localLosses)
    return fail(makeError("--local-losses trains in one process (the heads' "
                          "and the layers' updates are functions of the "
                          "batch); drop --partition"));
  // The ranks of --partition apply the rule's plain update from the
  // exchanged scalars; the activity update and the optimiser state are
  // per process.
  // When no --rule chose the rule, say that the default did.
  bool ruleByDefault = !resuming && !ruleOpt.getNumOccurrences();
  if (dist && activity)
    return fail(makeError(
        std::string(ruleByDefault ? "the default rule, activity,"
                                  : "--rule activity") +
        " runs in one process (its update is a function of the batch, not "
        "of the scalars the ranks exchange); drop --partition" +
        (ruleByDefault ? " or give --rule ternary or --rule fg" : "")));
  if (dist && rc.method() != KAN_METHOD_SGD)
    return fail(makeError("--optimizer " + rc.optimizer +
                          (optimizerOpt.getNumOccurrences()
                               ? ""
                               : " (the --rule " + rc.train.rule +
                                     " recipe's)") +
                          " runs in one process; drop --partition" +
                          (optimizerOpt.getNumOccurrences()
                               ? ""
                               : " or give --optimizer sgd")));
  if (rc.annealing() && (setup.dist != KAN_DIST_SPARSE || dist))
    return fail(makeError("--density-final anneals the sparse ternary "
                          "directions of one process (--rule ternary): not "
                          "with --rule " + rc.train.rule + " --dist " +
                          rc.train.resolvedDist() +
                          (dist ? " or --partition" : "")));
  // The annealing stage where the run starts (a resumed run continues).
  int64_t stage = rc.annealing() ? rc.stageAt(rc.progress0) : 0;
  // momentum/adam: the step returns the scalars (weight perturbation) or
  // the estimated update (activity) and the runtime applies the method.
  bool external = rc.method() != KAN_METHOD_SGD;
  kan_optim_config oc = rc.optimConfig(setup);
  oc.density = rc.densityOf(stage);
  kan::train::OptimizerState optState;
  {
    std::vector<kan_param> params = runtimeParams(model, setup);
    if (Error e = resuming ? optState.load(resumeOpt, oc, params)
                           : optState.init(oc, params))
      return fail(std::move(e));
  }
  // The weights the steps train; the average is what the run delivers.
  kan::train::Averager averager;
  if (dist && rc.average > 0)
    return fail(makeError("--average keeps the weight average of one "
                          "process; drop --partition or give --average 0"));
  if (resuming) {
    if (Error e = averager.load(resumeOpt, rc.average, model, setup.tensorIndex))
      return fail(std::move(e));
  } else {
    averager.start(rc.average, model);
  }

  std::string ckptPath = checkpointOpt;
  if (ckptPath.empty()) {
    llvm::SmallString<256> p(workDirOpt.getValue());
    llvm::sys::path::append(p, "kan-train-checkpoint.safetensors");
    ckptPath = std::string(p);
  }
  if (workDirOpt.getNumOccurrences())
    if (std::error_code ec = llvm::sys::fs::create_directories(workDirOpt))
      return fail(makeError(workDirOpt + ": cannot create: " + ec.message()));

  // A resumed run logs to a file of its own, so the first part's log stays.
  std::string replayLogPath = replayLogOpt;
  if (replayLogPath.empty()) {
    llvm::StringRef stem = ckptPath;
    stem.consume_back(".safetensors");
    replayLogPath = resuming ? (stem + ".from-" + llvm::Twine(rc.startStep) +
                                ".replay")
                                   .str()
                             : (stem + ".replay").str();
  }
  // One run per checkpoint and log: a second one fails here, before it
  // writes anything.
  std::unique_ptr<FileLock> ckptLock, logLock;
  if (root) {
    auto c = FileLock::acquire(ckptPath, "kan-train");
    if (!c)
      return fail(c.takeError());
    auto l = FileLock::acquire(replayLogPath, "kan-train");
    if (!l)
      return fail(l.takeError());
    ckptLock = std::move(*c), logLock = std::move(*l);
  }

  // Data.
  Dataset train, test, valid;
  bool haveTest = false;
  if (dist && rc.validationRows > 0)
    return fail(makeError("--validation holds rows out in one process; "
                          "drop --partition or give --validation 0"));
  const Recipe *recipe = dist ? nullptr : findRecipe(rc.train.rule);
  if (Error e = loadData(train, test, haveTest, rc.standardize,
                         rc.validationRows,
                         recipe ? recipe->validationDivisor : 0, valid))
    return fail(std::move(e));
  int64_t classes = rc.shape.widths.back();
  if (Error e = checkDataset(train, rc.shape.widths[0], classes))
    return fail(std::move(e));
  if (haveTest)
    if (Error e = checkDataset(test, rc.shape.widths[0], classes))
      return fail(std::move(e));
  if (valid.rows)
    if (Error e = checkDataset(valid, rc.shape.widths[0], classes))
      return fail(std::move(e));
  haveTest = haveTest && root;
  if (selectOpt != "best" && selectOpt != "last")
    return fail(makeError("--select must be best or last, not '" + selectOpt +
                          "'"));
  if (patienceOpt > 0 && valid.rows == 0)
    return fail(makeError(
        "--patience stops on the validation accuracy, and this run holds no "
        "training rows out: give --validation N (the recipes of ternary and "
        "fg hold none out)"));
  if (patienceOpt > 0 && evalEvery == 0)
    return fail(makeError("--patience counts the evaluations of "
                          "--eval-every, which is 0: give --eval-every N"));
  // Keep the best validated step: its weights and optimiser state, the
  // replay log cut back to it.
  bool selecting = valid.rows > 0 && selectOpt == "best";
  if (selecting && rc.annealing())
    return fail(makeError(
        "--select best cuts the replay log back to the best step, and "
        "--density-final writes a log per stage: give --select last or "
        "--validation 0"));

  // Engine.
  Progress progress;
  if (!root)
    progress.silence();
  if (dist)
    progress.message(dist->describe());
  CompileOptions co;
  if (workDirOpt.getNumOccurrences())
    co.workDir = workDirOpt;
  co.threads = numThreads;
  // Threads take whole row tiles of a batch: give each thread one at least
  // (rows a multiple of 8, the sparse-tangent kernel's block; at most the
  // default 128).
  {
    int64_t rows = dist ? dist->localRows() : rc.batch;
    int64_t perThread = (rows + numThreads - 1) / numThreads;
    co.tileRows = std::clamp<int64_t>((perThread + 7) / 8 * 8, 8, co.tileRows);
    // The activity rule's replay re-runs the compiled step: same tiles.
    if (activity)
      rc.tileRows = co.tileRows;
  }
  // Which settings the run has and where they came from.
  const char *ruleFrom = resuming                    ? "checkpoint"
                         : ruleOpt.getNumOccurrences() ? "option"
                                                       : "default";
  progress.message(llvm::formatv("rule {0} ({1}){8}, {2} directions, dist "
                                 "{3}{4}, optimizer {5}, lr {6}, batch {7}",
                                 rc.train.rule, ruleFrom, rc.train.directions,
                                 rc.train.resolvedDist(),
                                 setup.dist == KAN_DIST_SPARSE
                                     ? " density " + fmtDouble(oc.density)
                                     : std::string(),
                                 rc.optimizer, fmtDouble(rc.train.lr), rc.batch,
                                 rc.train.localLosses ? " with local losses"
                                                      : "")
                       .str());
  double t0 = nowSeconds();
  TrainConfig stepConfig = dist ? dist->engineConfig() : rc.train;
  stepConfig.density = oc.density;
  if (external) {
    if (activity)
      stepConfig.gradient = true;
    else
      stepConfig.update = false;
  }
  auto eng = createCompiledEngine(rc.shape, &stepConfig, co);
  if (!eng)
    return fail(eng.takeError());
  std::unique_ptr<Engine> engine = std::move(*eng);
  progress.message("compiled the model in " +
                   llvm::formatv("{0:f1}", nowSeconds() - t0).str() + " s");

  kan_replay_writer *writer = nullptr;
  auto closeWriter = llvm::make_scope_exit([&] { kan_replay_writer_close(writer); });
  // Replay log: the initial weights first, in a file of the log's own that
  // nothing else writes (a run resumed in place replaces the checkpoint it
  // started from; the copy keeps that starting point).
  auto openLog = [&](const std::string &lp, int64_t from) -> Error {
    std::string initPath = lp + ".init.safetensors";
    setMetadata(model, rc, from);
    if (Error e = writeSafetensors(
            averager.checkpoint(optState.withState(model), setup.tensorIndex),
            initPath))
      return e;
    // Absolute, so the log can be replayed from any directory.
    llvm::SmallString<256> absInit(initPath);
    llvm::sys::fs::make_absolute(absInit);
    llvm::sys::path::remove_dots(absInit, /*remove_dot_dot=*/true);
    initPath = std::string(absInit);
    std::vector<kan_param> params = runtimeParams(model, setup);
    if (int st = kan_replay_writer_open(
            lp.c_str(), &oc, initPath.c_str(), static_cast<uint32_t>(from),
            params.size(), params.data(), &writer))
      return runtimeError(st);
    return Error::success();
  };
  if (root)
    if (Error e = openLog(replayLogPath, rc.startStep))
      return fail(std::move(e));
  // Density annealing: every stage's log, in order.
  std::vector<std::string> stageLogs{replayLogPath};

  std::string metricsPath = metricsOpt;
  if (metricsPath.empty()) {
    llvm::StringRef stem = ckptPath;
    stem.consume_back(".safetensors");
    metricsPath = (stem + ".metrics.jsonl").str();
  }
  // Rank 0 alone writes the metrics, like the log and the checkpoints.
  std::optional<MetricsLog> metrics;
  if (root) {
    auto metricsOr = MetricsLog::open(metricsPath, resuming);
    if (!metricsOr)
      return fail(metricsOr.takeError());
    metrics = std::move(*metricsOr);
  }

  // (Under mpirun, Distributed handles the signals.)
  if (!dist || dist->ranks() == 1) {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
  }
  // The ranks start from the same weights, or stop here.
  if (dist)
    if (auto h = dist->checkWeights(model, rc.startStep); !h)
      return failTogether(h.takeError());

  // The activity rule's estimated update under momentum/adam.
  Model grads;
  if (external && activity) {
    grads = allocateModel(rc.shape);
    if (rc.train.localLosses)
      appendLocalHeads(grads);
  }
  BatchSampler sampler(train.rows, rc.batch, rc.seed);
  std::vector<int64_t> rows, labels(static_cast<size_t>(rc.batch));
  std::vector<double> xb, alphas;
  // The best validated step so far (allocated before the steps).
  kan::train::Snapshot best;
  int64_t bestStep = -1;
  uint64_t bestRecords = 0;
  double bestValid = -1, bestSchedP = 0, validAccuracy = NAN;
  double patienceBest = -1;
  int64_t patienceMisses = 0;
  bool stoppedByPatience = false;
  if (selecting)
    best.allocate(model, optState, averager);
  // Memory: the process holds the data, the model, the optimiser state and
  // the compiled step before the first step; the steps' peak (evaluations
  // every --eval-every included) is what training adds on top.
  double rssBefore = procStatusMiB("VmRSS");
  bool peakReset = resetPeakRss();
  double emaLoss = 0, emaWeight = 0, lastLoss = NAN;
  double start = nowSeconds();
  int64_t step = rc.startStep;
  double accuracy = NAN;
  // Set when the replay log cannot be written: the run stops there.
  std::optional<std::string> logError;
  // Schedule progress: by steps when the schedule has a length in steps (so
  // a resumed run repeats the uninterrupted one exactly), else by this run's
  // time budget, continuing from where the checkpoint left off.
  double schedP = rc.progress0, lrScale = lrScaleAt(rc, schedP);
  auto progressAt = [&](int64_t s, double elapsed) {
    if (rc.scheduleSteps > 0)
      return std::min(1.0, static_cast<double>(s) / rc.scheduleSteps);
    if (timeBudget > 0)
      return std::min(1.0, rc.progress0 + (1.0 - rc.progress0) *
                                              elapsed / timeBudget);
    return rc.progress0;
  };
  auto writeCheckpoint = [&](int64_t s) -> Error {
    if (!root)
      return Error::success();
    setMetadata(model, rc, s);
    // Where a time-budget schedule stands (a step schedule needs no record).
    if (rc.scheduleSteps == 0 && rc.schedule != "constant")
      model.setMeta("lr_progress", fmtDouble(schedP));
    if (Error e = writeSafetensors(
            averager.checkpoint(optState.withState(model), setup.tensorIndex),
            ckptPath))
      return e;
    if (dist)
      dist->noteCheckpoint(ckptPath, s);
    return Error::success();
  };
  // One metrics record per evaluation (with or without test data).
  bool metricsDue = false;
  auto recordMetrics = [&](double acc, double validAcc) -> Error {
    double now = nowSeconds() - start;
    if (!metrics)
      return Error::success();
    return metrics->record(step, now, emaWeight > 0 ? emaLoss : NAN, acc,
                          rc.train.lr * lrScale,
                          static_cast<double>(step - rc.startStep) /
                              std::max(now, 1e-9),
                          validAcc);
  };
  // Validation first: a new best is kept before anything else happens.
  auto validateNow = [&]() -> Error {
    validAccuracy = NAN;
    if (!valid.rows || !root)
      return Error::success();
    auto acc = evaluate(*engine, averager.delivered(model), valid);
    if (!acc)
      return acc.takeError();
    validAccuracy = *acc;
    // --patience: evaluations in a row below the best so far (a tie counts
    // as reaching it, as --select best keeps the later of equal steps).
    if (validAccuracy >= patienceBest)
      patienceBest = validAccuracy, patienceMisses = 0;
    else
      ++patienceMisses;
    if (selecting && validAccuracy >= bestValid) {
      best.save(model, optState, averager);
      bestValid = validAccuracy, bestStep = step, bestSchedP = schedP;
      bestRecords = writer ? kan_replay_writer_records(writer) : 0;
    }
    return Error::success();
  };
  auto evalNow = [&]() -> Error {
    if (Error e = validateNow())
      return e;
    auto recorded = llvm::make_scope_exit([&] {
      if (Error e = recordMetrics(accuracy, validAccuracy))
        progress.message("warning: " + llvm::toString(std::move(e)));
    });
    std::string validText =
        std::isfinite(validAccuracy)
            ? llvm::formatv(", validation {0:f2}%{1}", 100 * validAccuracy,
                            selecting && bestStep == step ? " (best)" : "")
                  .str()
            : std::string();
    if (!haveTest) {
      if (!validText.empty())
        progress.message(llvm::formatv("step {0}: validation accuracy {1:f2}% ({2} samples){3}, loss {4:f4}",
                                       step, 100 * validAccuracy, valid.rows,
                                       selecting && bestStep == step ? " (best)" : "",
                                       emaLoss).str());
      return Error::success();
    }
    auto acc = evaluate(*engine, averager.delivered(model), test);
    if (!acc)
      return acc.takeError();
    accuracy = *acc;
    progress.message(llvm::formatv("step {0}: test accuracy {1:f2}% ({2} samples){3}, loss {4:f4}, lr {5}",
                                   step, 100 * accuracy, test.rows, validText,
                                   emaLoss,
                                   fmtDouble(rc.train.lr * lrScale)).str());
    return Error::success();
  };
  // The starting point competes too (a resumed run may not improve on it).
  if (selecting) {
    if (Error e = validateNow())
      return fail(std::move(e));
    progress.message(llvm::formatv("step {0}: validation accuracy {1:f2}% "
                                   "({2} training rows held out)",
                                   step, 100 * validAccuracy, valid.rows)
                         .str());
  }
  // Across ranks every stop goes through a step's exchange (any rank's
  // signal, rank 0's clock and replay log), so all stop at the same step.
  unsigned agreedStop = kan::train::StopNone;
  while (dist || !interrupted) {
    double elapsed = nowSeconds() - start;
    if (stepsOpt > 0 && step >= stepsOpt)
      break;
    if (!dist && timeBudget > 0 && elapsed >= timeBudget)
      break;
    if (patienceOpt > 0 && patienceMisses >= patienceOpt) {
      stoppedByPatience = true;
      progress.message(llvm::formatv(
          "step {0}: stopping, {1} evaluations in a row below the best "
          "validation accuracy ({2:f2}%) (--patience {1})",
          step, patienceMisses, 100 * patienceBest).str());
      break;
    }
    if (step >= (int64_t(1) << 32) - 1)
      break; // step counters of the perturbations are 32-bit
    // Written once the run goes on: the last step's line is the final
    // evaluation's.
    if (metricsDue) {
      metricsDue = false;
      if (Error e = recordMetrics(NAN, NAN))
        progress.message("warning: " + llvm::toString(std::move(e)));
    }
    sampler.indices(step, rows);
    for (int64_t i = 0; i < rc.batch; ++i)
      labels[i] = train.labels[rows[i]];
    gather(train, rows.data(), rc.batch, rc.shape.f32, xb);
    double loss = 0;
    if (dist) {
      unsigned want =
          (interrupted ? kan::train::StopSignal : 0) |
          (logError ? kan::train::StopLog : 0) |
          (root && timeBudget > 0 && elapsed >= timeBudget ? kan::train::StopBudget
                                                           : 0);
      auto r = dist->step(*engine, model, xb.data(), labels.data(), step,
                          elapsed, want, [&](double rootElapsed) {
                            schedP = progressAt(step, rootElapsed);
                            return lrScale = lrScaleAt(rc, schedP);
                          }, alphas);
      if (!r)
        return fail(r.takeError());
      if ((agreedStop = r->stop))
        break;
      loss = r->loss;
    } else {
      schedP = progressAt(step, elapsed);
      lrScale = lrScaleAt(rc, schedP);
      if (rc.annealing() && rc.stageAt(schedP) != stage) {
        // The next density: its own compiled step and its own log, which
        // starts from the weights (and optimiser state) reached here.
        stage = rc.stageAt(schedP);
        oc.density = stepConfig.density = rc.densityOf(stage);
        auto next = createCompiledEngine(rc.shape, &stepConfig, co);
        if (!next)
          return fail(next.takeError());
        engine = std::move(*next);
        kan_status st = kan_replay_writer_close(writer);
        writer = nullptr;
        if (st)
          return fail(runtimeError(st));
        llvm::StringRef stem = replayLogPath;
        stem.consume_back(".replay");
        std::string lp =
            (stem + ".from-" + llvm::Twine(step) + ".replay").str();
        auto l = FileLock::acquire(lp, "kan-train");
        if (!l)
          return fail(l.takeError());
        logLock = std::move(*l);
        if (Error e = openLog(lp, step))
          return fail(std::move(e));
        stageLogs.push_back(lp);
        progress.message("step " + std::to_string(step) + ": density " +
                         fmtDouble(oc.density) + " (stage " +
                         std::to_string(stage + 1) + " of " +
                         std::to_string(rc.densityStages) + "), log " + lp);
      }
      if (Error e = runStep(*engine, model, setup, oc, optState, grads,
                            xb.data(), labels.data(), rc.batch, step, lrScale,
                            loss, alphas))
        return fail(std::move(e));
    }
    if (!std::isfinite(loss)) {
      progress.finish();
      return failTogether(makeError("the loss became " + fmtDouble(loss) +
                                    " at step " + llvm::Twine(step) +
                                    "; try a smaller --lr"));
    }
    if (writer && !logError)
      if (int st = kan_replay_writer_append_scaled(
              writer, static_cast<uint32_t>(step), lrScale, alphas.data())) {
        // A full disk: the log keeps its whole records (the writer cuts off
        // the partial one); stop and keep the weights if a checkpoint fits.
        // Other ranks learn it in the next step's exchange.
        logError = llvm::toString(runtimeError(st));
        ++step;
        if (!dist)
          break;
        continue;
      }
    ++step;
    averager.update(model, setup.tensorIndex);
    lastLoss = loss;
    // Bias-corrected exponential moving average over ~100 steps.
    emaWeight = 0.99 * emaWeight + 0.01;
    emaLoss = emaLoss + (loss - emaLoss) * (0.01 / emaWeight);
    double now = nowSeconds() - start;
    double rate = static_cast<double>(step - rc.startStep) / std::max(now, 1e-9);
    double eta = INFINITY;
    if (stepsOpt > 0)
      eta = static_cast<double>(stepsOpt - step) / rate;
    if (timeBudget > 0)
      eta = std::min(eta, timeBudget - now);
    progress.update(step, stepsOpt > 0 ? stepsOpt : -1, emaLoss, rate, eta);
    if (evalEvery > 0 && step % evalEvery == 0) {
      if (Error e = evalNow())
        return fail(std::move(e));
    } else if (metricsEvery > 0 && step % metricsEvery == 0) {
      metricsDue = true;
    }
    if (checkpointEvery > 0 && step % checkpointEvery == 0)
      if (Error e = writeCheckpoint(step))
        return fail(std::move(e));
  }
  double seconds = nowSeconds() - start;
  // (Before the final evaluation and checkpoint.)
  double peakSteps = peakReset ? procStatusMiB("VmHWM") : NAN;
  progress.finish();
  if (logError) {
    const std::string &msg = *logError;
    Error saved = writeCheckpoint(step);
    std::string outcome =
        saved ? "no checkpoint could be written either (" +
                    llvm::toString(std::move(saved)) +
                    "; the one written last, if any, is intact)"
              : "checkpoint at step " + std::to_string(step) + " written to " +
                    ckptPath;
    int64_t failed = step - 1;
    std::string held =
        failed > rc.startStep
            ? "steps " + std::to_string(rc.startStep) + " to " +
                  std::to_string(failed - 1)
            : std::string("no steps");
    return failTogether(makeError(msg + "\nstopped: the replay log " + replayLogPath +
                          " holds " + held + " and replays; " + outcome));
  }
  if (agreedStop & kan::train::StopLog)
    return 1; // rank 0 reported it above
  bool stoppedBySignal = interrupted || (agreedStop & kan::train::StopSignal);
  if (stoppedBySignal)
    progress.message("interrupted: writing the checkpoint at step " + std::to_string(step));
  const char *stopReason = stoppedBySignal     ? "signal"
                           : stoppedByPatience ? "patience"
                           : stepsOpt > 0 && step >= stepsOpt ? "steps"
                                                              : "time";
  // The final weights, the same on every rank.
  std::string weightsHash;
  if (dist) {
    auto h = dist->checkWeights(model, step);
    if (!h)
      return fail(h.takeError());
    weightsHash = *h;
  } else {
    weightsHash = kan::train::weightsSha256(averager.delivered(model), setup);
  }
  if ((haveTest || valid.rows) &&
      !(evalEvery > 0 && step % evalEvery == 0 && step > rc.startStep))
    if (Error e = evalNow())
      return fail(std::move(e));
  // The steps run; with --select best the run then goes back to the best
  // validated one.
  const int64_t lastStep = step;
  if (selecting && bestStep >= 0 && bestStep != step) {
    best.restore(model, optState, averager);
    if (writer)
      if (int st = kan_replay_writer_truncate(writer, bestRecords))
        return fail(runtimeError(st));
    progress.message(llvm::formatv(
        "kept the weights of step {0} (validation accuracy {1:f2}%, the "
        "best; {2:f2}% at step {3}): steps {0} to {4} are dropped from the "
        "checkpoint and the replay log (--select last keeps them)",
        bestStep, 100 * bestValid, 100 * validAccuracy, step, step - 1).str());
    step = bestStep;
    schedP = bestSchedP;
    lrScale = lrScaleAt(rc, schedP);
    weightsHash = kan::train::weightsSha256(averager.delivered(model), setup);
    validAccuracy = bestValid;
    if (haveTest) {
      auto acc = evaluate(*engine, averager.delivered(model), test);
      if (!acc)
        return fail(acc.takeError());
      accuracy = *acc;
      progress.message(llvm::formatv("step {0}: test accuracy {1:f2}% ({2} "
                                     "samples) with the kept weights",
                                     step, 100 * accuracy, test.rows).str());
    }
  }
  if (Error e = writeCheckpoint(step))
    return fail(std::move(e));
  if (writer) {
    kan_status st = kan_replay_writer_close(writer);
    writer = nullptr;
    if (st)
      return fail(runtimeError(st));
  }
  double rate = static_cast<double>(lastStep - rc.startStep) / std::max(seconds, 1e-9);
  if (!root) {
    // One write: mpirun interleaves the ranks' output.
    llvm::errs() << ("kan-train: rank " + llvm::Twine(dist->rankIndex()) +
                     " of " + llvm::Twine(dist->ranks()) + ": step " +
                     llvm::Twine(step) + ", weights sha256 " + weightsHash +
                     "\n")
                        .str();
    return stoppedBySignal ? 130 : 0;
  }
  llvm::outs() << "{\"steps\":" << step << ",\"seconds\":" << jsonNumber(seconds)
               << ",\"loss\":" << jsonNumber(emaWeight > 0 ? emaLoss : NAN)
               << ",\"test_accuracy\":" << jsonNumber(accuracy)
               << ",\"steps_run\":" << lastStep
               << ",\"validation_rows\":" << valid.rows
               << ",\"validation_accuracy\":" << jsonNumber(validAccuracy)
               << ",\"average\":" << jsonNumber(rc.average)
               << ",\"select\":\""
               << (valid.rows ? selectOpt.getValue() : std::string("last"))
               << "\",\"stopped\":\"" << stopReason
               << "\",\"last_loss\":" << jsonNumber(lastLoss)
               << ",\"steps_per_second\":" << jsonNumber(rate)
               << ",\"lr\":" << jsonNumber(rc.train.lr * lrScale)
               << ",\"start_step\":" << rc.startStep << ",\"rule\":\""
               << rc.train.rule << "\",\"rule_from\":\"" << ruleFrom
               << "\",\"dist\":\"" << rc.train.resolvedDist()
               << "\",\"directions\":" << rc.train.directions
               << ",\"density\":"
               << (setup.dist == KAN_DIST_SPARSE ? jsonNumber(oc.density)
                                                 : std::string("null"))
               << ",\"optimizer\":\"" << rc.optimizer
               << "\",\"base_lr\":" << jsonNumber(rc.train.lr)
               << ",\"batch\":" << rc.batch << ",\"local_losses\":"
               << (rc.train.localLosses ? "true" : "false")
               << ",\"rss_before_steps_mb\":"
               << jsonNumber(rssBefore) << ",\"peak_rss_steps_mb\":"
               << jsonNumber(peakSteps)
               << ",\"engine\":\""
               << engine->name() << "\",\"kernels\":\""
               << kan_isa_name(kan_isa_active()) << "\",\"ranks\":"
               << (dist ? dist->ranks() : 1) << ",\"partition\":\""
               << (dist ? dist->partitionName() : "none")
               << "\",\"exchange_bytes_per_step\":"
               << (dist ? dist->bytesSentPerStep() + dist->bytesReceivedPerStep() : 0)
               << ",\"weights_sha256\":\"" << weightsHash << "\",\"metrics\":\"";
  llvm::printEscapedString(metricsPath, llvm::outs());
  llvm::outs() << "\",\"checkpoint\":\"";
  llvm::printEscapedString(ckptPath, llvm::outs());
  llvm::outs() << "\",\"replay_log\":\"";
  llvm::printEscapedString(replayLogPath, llvm::outs());
  if (stageLogs.size() > 1) {
    llvm::outs() << "\",\"stage_logs\":[";
    for (size_t i = 0; i < stageLogs.size(); ++i) {
      llvm::outs() << (i ? ",\"" : "\"");
      llvm::printEscapedString(stageLogs[i], llvm::outs());
      llvm::outs() << "\"";
    }
    llvm::outs() << "]}\n";
  } else {
    llvm::outs() << "\"}\n";
  }
  return stoppedBySignal ? 130 : 0;
}
