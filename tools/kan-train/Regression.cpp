//===- Regression.cpp - kan-train --task regression -----------------------===//
//
// Full-batch least squares on CSV targets with the exact gradient from
// forward mode (kan/Tools/Regression.h): Adam and/or L-BFGS, as pykan trains
// its regressors, without a backward pass. Deterministic from --init-seed.
//
//===----------------------------------------------------------------------===//

#include "Regression.h"

#include "kan/Support/Options.h"
#include "kan/Tools/Edges.h"
#include "kan/Tools/Progress.h"
#include "kan/Tools/Regression.h"

#include "kanrt/kanrt.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <csignal>

using namespace kan::tools;
using llvm::Error;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;

static cl::OptionCategory regressionCat("Regression (--task regression)");

static cl::opt<std::string> taskOpt("task", cl::init("classification"),
    cl::desc("classification (default: labels, noise_step) or regression "
             "(least squares on --targets columns, exact forward-mode "
             "gradient, Adam / L-BFGS)"),
    cl::cat(regressionCat));
static cli::opt<int64_t> targetsOpt("targets", cl::init(1),
    cl::desc("Regression: the last K CSV columns are the targets, the columns "
             "before them the inputs (default 1); --widths must start with "
             "the number of inputs and end with K"),
    cl::cat(regressionCat), cli::bounds(cli::positiveCount));
// Shared with classification (kan-train.cpp), which has other methods.
static cl::opt<std::string> optimizerOpt("optimizer", cl::init(""),
    cl::desc("Classification: how the estimated update g moves the weights: "
             "sgd (theta -= lr g), momentum (m = beta1 m + g; "
             "theta -= lr m) or adam (bias-corrected moments, --beta1, "
             "--beta2, --adam-eps); the state goes into the checkpoint "
             "(optimizer.* tensors) and replay rebuilds it; one process only "
             "(no --partition); default: the rule's recipe (see --rule). "
             "Regression: lbfgs (default), adam, or "
             "adam+lbfgs (--adam-steps of Adam at --lr, then L-BFGS)"),
    cl::cat(regressionCat));
cl::opt<std::string> &kan::train::optimizerOption() { return optimizerOpt; }
/// The regression method (lbfgs unless given).
static std::string regressionMethod() {
  return optimizerOpt.empty() ? std::string("lbfgs") : optimizerOpt.getValue();
}
static cli::opt<int64_t> adamStepsOpt("adam-steps", cl::init(200),
    cl::desc("Regression, adam+lbfgs: Adam steps before L-BFGS (default 200)"),
    cl::cat(regressionCat), cli::bounds(cli::nonNegativeCount));
static cli::opt<int64_t> historyOpt("lbfgs-history", cl::init(20),
    cl::desc("Regression: L-BFGS memory (pairs kept, default 20)"),
    cl::cat(regressionCat), cli::bounds(cli::positiveCount));
static cl::opt<bool> scaleInputsOpt("scale-inputs",
    cl::desc("Regression: map every input's training [min, max] onto the grid "
             "range [-1, 1] (stored in the checkpoint as input_shift / "
             "input_scale: the model sees (x - shift) * scale)"),
    cl::cat(regressionCat));
static cli::opt<double> tolOpt("rmse-target", cl::init(0),
    cl::desc("Regression: stop once the training RMSE is at or below this "
             "(default 0: run the steps / time budget / until L-BFGS stalls)"),
    cl::cat(regressionCat), cli::bounds(cli::tolerance));

static cli::opt<double> lambOpt("lamb", cl::init(0),
    cl::desc("Regression: weight of pykan's sparsity regulariser (default 0 = "
             "off): lamb * sum over layers of (lamb-l1 * sum_ij A_ij + "
             "lamb-entropy * entropy(A / sum A)), A_ij = mean |phi_ij(x)| "
             "(--reg-metric chooses A and the entropy)"),
    cl::cat(regressionCat), cli::bounds(cli::tolerance));
static cl::opt<RegularizerMetric> regMetricOpt("reg-metric",
    cl::init(RegularizerMetric::MeanAbs),
    cl::desc("Regression: the edge scale A_ij the regulariser penalises"),
    cl::values(
        clEnumValN(RegularizerMetric::MeanAbs, "mean-abs",
                   "mean |phi_ij(x)| over the rows, the entropy over the "
                   "whole layer (the KAN paper's; default)"),
        clEnumValN(RegularizerMetric::StdRatio, "std-ratio",
                   "std(phi_ij) / (std(x_j) + 0.1) of the spline part, the "
                   "entropy per node over its inputs and over its outputs "
                   "(current pykan's edge_forward_spline_n)")),
    cl::cat(regressionCat));
static cli::opt<double> lambL1Opt("lamb-l1", cl::init(1),
    cl::desc("Regression: L1 weight inside the regulariser (default 1)"),
    cl::cat(regressionCat), cli::bounds(cli::tolerance));
static cli::opt<double> lambEntropyOpt("lamb-entropy", cl::init(2),
    cl::desc("Regression: entropy weight inside the regulariser (default 2)"),
    cl::cat(regressionCat), cli::bounds(cli::tolerance));

static cl::opt<std::string> gridScheduleOpt("grid-schedule",
    cl::desc("Regression: grid sizes in turn, e.g. 5,10,20 (starting at "
             "--grid); --steps is shared equally and between stages the grid "
             "is extended (pykan's refine: new grids from the training "
             "inputs, coefficients refitted by least squares)"),
    cl::cat(regressionCat));
static cli::opt<int64_t> updateGridEveryOpt("update-grid-every", cl::init(0),
    cl::desc("Regression: every N steps during the first half of each grid "
             "stage, move the knots to the inputs' quantiles (efficient-kan's "
             "update_grid, blended by --grid-eps) and refit the coefficients "
             "by least squares (default 0 = never)"),
    cl::cat(regressionCat), cli::bounds(cli::nonNegativeCount));
static cli::opt<double> gridEpsOpt("grid-eps", cl::init(0.02),
    cl::desc("Regression: blend of a uniform grid into the quantile grid on "
             "updates and extensions (0 = quantiles, 1 = uniform; default 0.02)"),
    cl::cat(regressionCat), cli::bounds(cli::fraction));

static volatile std::sig_atomic_t stopRequested = 0;
static void onStop(int) { stopRequested = 1; }

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int fail(Error e) {
  llvm::errs().flush();
  llvm::WithColor::error(llvm::errs(), "kan-train")
      << llvm::toString(std::move(e)) << "\n";
  return 1;
}

static std::string jsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[40];
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

llvm::cl::OptionCategory &kan::train::regressionCategory() {
  return regressionCat;
}

bool kan::train::regressionRequested() { return taskOpt == "regression"; }

std::string kan::train::checkTaskOption() {
  if (taskOpt != "classification" && taskOpt != "regression")
    return "--task must be classification or regression, not '" + taskOpt + "'";
  if (taskOpt == "classification")
    for (cl::Option *o : std::initializer_list<cl::Option *>{
             &targetsOpt, &adamStepsOpt, &historyOpt,
             &scaleInputsOpt, &tolOpt, &lambOpt, &regMetricOpt, &lambL1Opt,
             &lambEntropyOpt, &gridScheduleOpt, &updateGridEveryOpt,
             &gridEpsOpt})
      if (o->getNumOccurrences())
        return "--" + o->ArgStr.str() + " applies to --task regression only";
  return "";
}

/// Standard deviation of all target values (for the relative RMSE).
static double targetStd(const RegressionData &d) {
  double m = 0, s = 0;
  for (double v : d.y)
    m += v;
  m /= static_cast<double>(d.y.size());
  for (double v : d.y)
    s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(d.y.size()));
}

int kan::train::runRegression(const SharedOptions &o) {
  if (!o.classificationOnly.empty())
    return fail(makeError(o.classificationOnly +
                          " applies to classification, not --task regression"));
  if (o.trainCsv.empty())
    return fail(makeError("--task regression needs --train-csv (inputs, then "
                          "--targets target columns)"));
  if (regressionMethod() != "lbfgs" && regressionMethod() != "adam" &&
      regressionMethod() != "adam+lbfgs")
    return fail(makeError("--optimizer must be lbfgs, adam or adam+lbfgs, not '" +
                          regressionMethod() + "'"));
  if (historyOpt < 1 || historyOpt > 1000)
    return fail(makeError("--lbfgs-history must be in [1, 1000]"));
  if (!(o.lr > 0) || !std::isfinite(o.lr))
    return fail(makeError("--lr must be positive and finite"));
  if (!o.dtype.empty() && o.dtype != "f64")
    return fail(makeError("--task regression trains f64 models (--dtype f64)"));

  auto trainOr = loadRegressionCsv(o.trainCsv, o.csvHeader, targetsOpt);
  if (!trainOr)
    return fail(trainOr.takeError());
  RegressionData train = std::move(*trainOr);
  RegressionData test;
  bool haveTest = !o.testCsv.empty();
  if (haveTest) {
    auto t = loadRegressionCsv(o.testCsv, o.csvHeader, targetsOpt);
    if (!t)
      return fail(t.takeError());
    test = std::move(*t);
    if (test.inputs != train.inputs)
      return fail(makeError(o.testCsv + ": " + llvm::Twine(test.inputs) +
                            " input columns, the training CSV has " +
                            llvm::Twine(train.inputs)));
  }

  // The model: fresh from the options, or a regression checkpoint resumed.
  Model model;
  InputScaling scaling = InputScaling::identity(train.inputs);
  int64_t startStep = 0;
  if (!o.resume.empty()) {
    auto m = readSafetensors(o.resume);
    if (!m)
      return fail(m.takeError());
    model = std::move(*m);
    if (model.getMeta("task") != "regression")
      return fail(makeError(o.resume + ": not a regression checkpoint "
                            "(metadata task = '" + model.getMeta("task") + "')"));
    if (o.widthsGiven && o.widths != model.shape.widthsString())
      return fail(makeError("--widths " + o.widths + " differs from the checkpoint " +
                            o.resume + " (" + model.shape.widthsString() + ")"));
    if (model.shape.f32)
      return fail(makeError(o.resume + ": regression trains f64 models"));
    auto s = InputScaling::load(model, o.resume);
    if (!s)
      return fail(s.takeError());
    scaling = *s;
    if (scaleInputsOpt)
      return fail(makeError("--scale-inputs: the checkpoint " + o.resume +
                            " keeps the scaling it was trained with"));
    llvm::StringRef(model.getMeta("step")).getAsInteger(10, startStep);
  } else {
    ModelShape shape;
    shape.widths.clear();
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(o.widths).split(parts, ',');
    for (llvm::StringRef p : parts) {
      int64_t v;
      if (p.trim().getAsInteger(10, v) || v < 1)
        return fail(makeError("--widths: '" + o.widths +
                              "' is not a list of positive integers like 2,5,1"));
      shape.widths.push_back(v);
    }
    shape.gridSize = o.grid;
    shape.order = o.order;
    if (Error e = validateShape(shape, "model"))
      return fail(std::move(e));
    model = allocateModel(shape);
    initializeModel(model, o.initSeed);
    if (scaleInputsOpt)
      scaling = InputScaling::fromRange(train, -1.0, 1.0);
  }
  const ModelShape shape = model.shape;
  if (shape.widths.front() != train.inputs)
    return fail(makeError(train.name + ": " + llvm::Twine(train.inputs) +
                          " input columns (with --targets " +
                          llvm::Twine(targetsOpt.getValue()) +
                          ") but the model's first width is " +
                          llvm::Twine(shape.widths.front()) + " (see --widths)"));
  if (shape.widths.back() != train.targets)
    return fail(makeError(train.name + ": " + llvm::Twine(train.targets) +
                          " target column(s) (--targets) but the model's last "
                          "width is " + llvm::Twine(shape.widths.back())));
  scaling.apply(train);
  if (haveTest)
    scaling.apply(test);

  Progress progress;
  CompileOptions co;
  if (o.workDirGiven)
    co.workDir = o.workDir;
  co.threads = o.threads;
  double t0 = nowSeconds();
  std::unique_ptr<ExactGradient> gradPtr;
  int64_t evaluations = 0;
  // (Re)compiles the model's JVP for the current shape (a grid extension
  // changes G).
  auto compile = [&]() -> Error {
    if (gradPtr)
      evaluations += gradPtr->evaluations();
    auto g = ExactGradient::create(model.shape, co);
    if (!g)
      return g.takeError();
    gradPtr = std::move(*g);
    if (Error e = gradPtr->setRegularizer(lambOpt, lambL1Opt, lambEntropyOpt, co,
                                            regMetricOpt))
      return e;
    size_t P = numTrainable(model);
    progress.message(llvm::formatv("compiled the model (G = {0}) and its "
                                   "{1}-direction JVP in {2:f1} s; {3} "
                                   "parameters, exact gradient from {4} JVP "
                                   "call(s) per row block",
                                   model.shape.gridSize, gradPtr->width(),
                                   nowSeconds() - t0, P,
                                   (static_cast<int64_t>(P) + gradPtr->width() - 1) /
                                       gradPtr->width())
                         .str());
    return Error::success();
  };
  if (Error e = compile())
    return fail(std::move(e));

  std::string ckptPath = o.checkpoint;
  if (ckptPath.empty()) {
    llvm::SmallString<256> p(o.workDir);
    llvm::sys::path::append(p, "kan-train-checkpoint.safetensors");
    ckptPath = std::string(p);
  }
  if (o.workDirGiven)
    if (std::error_code ec = llvm::sys::fs::create_directories(o.workDir))
      return fail(makeError(o.workDir + ": cannot create: " + ec.message()));

  std::signal(SIGINT, onStop);
  std::signal(SIGTERM, onStop);
  double start = nowSeconds();
  int64_t step = startStep;
  double lastLoss = NAN;
  Objective f = [&](llvm::ArrayRef<double> p,
                    std::vector<double> &g) -> llvm::Expected<double> {
    unflattenParams(model, p);
    return gradPtr->lossAndGradient(model, train, g);
  };
  auto onIteration = [&](int64_t, double loss) {
    ++step;
    lastLoss = loss;
    double now = nowSeconds() - start;
    double rate = static_cast<double>(step - startStep) / std::max(now, 1e-9);
    double eta = INFINITY;
    if (o.steps > 0)
      eta = static_cast<double>(o.steps - step) / rate;
    if (o.timeBudget > 0)
      eta = std::min(eta, o.timeBudget - now);
    progress.update(step, o.steps > 0 ? o.steps : -1, loss, rate, eta);
    if (stopRequested)
      return false;
    if (o.timeBudget > 0 && now >= o.timeBudget)
      return false;
    if (o.steps > 0 && step >= o.steps)
      return false;
    if (tolOpt > 0 && std::sqrt(loss) <= tolOpt)
      return false;
    return true;
  };
  auto stopped = [&] {
    return stopRequested || (o.steps > 0 && step >= o.steps) ||
           (o.timeBudget > 0 && nowSeconds() - start >= o.timeBudget) ||
           (tolOpt > 0 && std::isfinite(lastLoss) && std::sqrt(lastLoss) <= tolOpt);
  };
  // Runs the optimiser for up to n more steps (Adam first while the
  // adam+lbfgs warm-up lasts).
  auto optimize = [&](int64_t n) -> Error {
    std::vector<double> p = flattenParams(model);
    int64_t end = step + n;
    if (regressionMethod() == "adam" ||
        (regressionMethod() == "adam+lbfgs" && step - startStep < adamStepsOpt)) {
      AdamOptions ao;
      ao.lr = o.lr;
      int64_t m = regressionMethod() == "adam"
                      ? n
                      : std::min(n, adamStepsOpt - (step - startStep));
      auto res = minimizeAdam(f, p, m, ao, onIteration);
      if (!res)
        return res.takeError();
    }
    if (regressionMethod() != "adam" && !stopped() && end > step) {
      LbfgsOptions lo;
      lo.history = historyOpt;
      auto res = minimizeLbfgs(f, p, end - step, lo, onIteration);
      if (!res)
        return res.takeError();
    }
    unflattenParams(model, p);
    return Error::success();
  };
  // New grids from the training inputs, coefficients refitted by least
  // squares (update: same G; extension: the next G of the schedule).
  auto regrid = [&](int64_t newG) -> Error {
    std::vector<LayerTrace> trace = traceModel(model, train.x.data(), train.rows);
    std::vector<double> before = traceOutput(trace, train.rows);
    RegridReport rep;
    int64_t oldG = model.shape.gridSize;
    model = regridModel(model, trace, train.rows, newG, gridEpsOpt, &rep);
    std::vector<double> after =
        traceOutput(traceModel(model, train.x.data(), train.rows), train.rows);
    double change = 0, se = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      change = std::max(change, std::fabs(after[i] - before[i]));
      se += (after[i] - before[i]) * (after[i] - before[i]);
    }
    double rmsChange = std::sqrt(se / static_cast<double>(before.size()));
    double res = 0;
    for (double r : rep.residual)
      res = std::max(res, r);
    progress.message(llvm::formatv("step {0}: grid {1} -> {2} from the "
                                   "training inputs; least-squares residual "
                                   "(RMS, worst edge) {3}, outputs change by "
                                   "RMS {4}, at most {5}",
                                   step, oldG, newG, jsonNumber(res),
                                   jsonNumber(rmsChange), jsonNumber(change))
                         .str());
    if (newG != oldG)
      return compile();
    return Error::success();
  };

  // The grid schedule: equal shares of the steps per grid size.
  std::vector<int64_t> schedule{model.shape.gridSize};
  if (!gridScheduleOpt.empty()) {
    schedule.clear();
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(gridScheduleOpt).split(parts, ',');
    for (llvm::StringRef p : parts) {
      int64_t g;
      if (p.trim().getAsInteger(10, g) || g < 1 || g > 4096)
        return fail(makeError("--grid-schedule: '" + gridScheduleOpt +
                              "' is not a list of grid sizes like 5,10,20"));
      schedule.push_back(g);
    }
    if (schedule.front() != model.shape.gridSize)
      return fail(makeError("--grid-schedule starts at G = " +
                            llvm::Twine(schedule.front()) + " but the model has G = " +
                            llvm::Twine(model.shape.gridSize) + " (see --grid)"));
  }
  if (schedule.size() > 1 && o.steps <= 0)
    return fail(makeError("--grid-schedule needs --steps (the steps are shared "
                          "equally between the grid sizes)"));
  int64_t remaining = o.steps > 0 ? o.steps - startStep : INT64_MAX / 2;
  for (size_t ph = 0; ph < schedule.size() && remaining > 0 && !stopped(); ++ph) {
    if (ph > 0)
      if (Error e = regrid(schedule[ph]))
        return fail(std::move(e));
    int64_t phaseEnd = ph + 1 == schedule.size()
                           ? (o.steps > 0 ? o.steps : INT64_MAX / 2)
                           : startStep + remaining * static_cast<int64_t>(ph + 1) /
                                             static_cast<int64_t>(schedule.size());
    // Grid updates every N steps within the first half of the phase (pykan
    // stops updating after its first steps too).
    int64_t stopUpdates = step + (std::min(phaseEnd, step + (INT64_MAX / 4)) - step) / 2;
    while (step < phaseEnd && !stopped()) {
      int64_t chunk = phaseEnd - step;
      bool update = updateGridEveryOpt > 0 && step + updateGridEveryOpt <= stopUpdates;
      if (update)
        chunk = updateGridEveryOpt;
      int64_t before = step;
      if (Error e = optimize(chunk))
        return fail(std::move(e));
      if (update && !stopped())
        if (Error e = regrid(model.shape.gridSize))
          return fail(std::move(e));
      if (step == before)
        break; // the optimiser made no progress (L-BFGS converged)
    }
  }
  double seconds = nowSeconds() - start;
  progress.finish();
  if (stopRequested)
    progress.message("interrupted: writing the checkpoint at step " +
                     std::to_string(step));

  ExactGradient &grad = *gradPtr;
  evaluations += grad.evaluations();
  auto trainMse = grad.loss(model, train);
  if (!trainMse)
    return fail(trainMse.takeError());
  auto regOr = grad.regularizer(model, train, nullptr);
  if (!regOr)
    return fail(regOr.takeError());
  double reg = *regOr;
  double testRmse = NAN, testRel = NAN;
  if (haveTest) {
    auto mse = grad.loss(model, test);
    if (!mse)
      return fail(mse.takeError());
    testRmse = std::sqrt(*mse);
    testRel = testRmse / targetStd(test);
  }
  if (!std::isfinite(*trainMse))
    return fail(makeError("the training loss became " + jsonNumber(*trainMse) +
                          "; try --optimizer lbfgs or a smaller --lr"));

  model.setMeta("format", "efficient-kan");
  model.setMeta("base_activation", "silu");
  model.setMeta("task", "regression");
  model.setMeta("widths", shape.widthsString());
  model.setMeta("grid_size", std::to_string(shape.gridSize));
  model.setMeta("spline_order", std::to_string(shape.order));
  model.setMeta("dtype", "f64");
  model.setMeta("targets", std::to_string(train.targets));
  model.setMeta("step", std::to_string(step));
  if (o.resume.empty())
    model.setMeta("init_seed", std::to_string(o.initSeed));
  if (lambOpt > 0) {
    model.setMeta("lamb", std::to_string(lambOpt));
    model.setMeta("lamb_l1", std::to_string(lambL1Opt));
    model.setMeta("lamb_entropy", std::to_string(lambEntropyOpt));
    model.setMeta("reg_metric", regMetricOpt == RegularizerMetric::StdRatio
                                    ? "std-ratio"
                                    : "mean-abs");
  }
  model.setMeta("optimizer", regressionMethod());
  scaling.store(model);
  if (Error e = writeSafetensors(model, ckptPath))
    return fail(std::move(e));
  progress.message(llvm::formatv("step {0}: train RMSE {1}, test RMSE {2} "
                                 "({3} of the targets' deviation)",
                                 step, jsonNumber(std::sqrt(*trainMse)),
                                 jsonNumber(testRmse), jsonNumber(testRel))
                       .str());
  double rate = static_cast<double>(step - startStep) / std::max(seconds, 1e-9);
  llvm::outs() << "{\"task\":\"regression\",\"steps\":" << step
               << ",\"seconds\":" << jsonNumber(seconds)
               << ",\"loss\":" << jsonNumber(*trainMse)
               << ",\"train_rmse\":" << jsonNumber(std::sqrt(*trainMse))
               << ",\"test_rmse\":" << jsonNumber(testRmse)
               << ",\"test_relative_rmse\":" << jsonNumber(testRel)
               << ",\"regularizer\":" << jsonNumber(reg)
               << ",\"parameters\":" << numTrainable(model)
               << ",\"gradient_evaluations\":" << evaluations
               << ",\"steps_per_second\":" << jsonNumber(rate)
               << ",\"start_step\":" << startStep
               << ",\"optimizer\":\"" << regressionMethod()
               << "\",\"engine\":\"compiled\",\"kernels\":\""
               << kan_isa_name(kan_isa_active()) << "\",\"checkpoint\":\"";
  llvm::printEscapedString(ckptPath, llvm::outs());
  llvm::outs() << "\"}\n";
  return stopRequested ? 130 : 0;
}
