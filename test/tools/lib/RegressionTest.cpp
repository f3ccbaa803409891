//===- RegressionTest.cpp - exact forward-mode gradient and optimisers ----===//

#include "kan/Tools/Regression.h"

#include "kan/Tools/Edges.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kan::tools;

namespace {

RegressionData makeData(int64_t rows, int64_t inputs, int64_t targets,
                        unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  RegressionData d;
  d.rows = rows, d.inputs = inputs, d.targets = targets;
  for (int64_t i = 0; i < rows * inputs; ++i)
    d.x.push_back(u(rng));
  for (int64_t i = 0; i < rows * targets; ++i)
    d.y.push_back(u(rng));
  return d;
}

/// A model of `widths` (G = 4, plus `symbolic` edges) initialised with
/// `initSeed`, every tensor but the grids moved by N(0, 0.5) draws of
/// `moveSeed`: larger spline weights than the initialisation, so every path
/// of the gradient matters.
Model movedModel(std::vector<int64_t> widths, unsigned initSeed,
                 unsigned moveSeed,
                 std::vector<std::vector<std::string>> symbolic = {}) {
  ModelShape shape;
  shape.widths = std::move(widths);
  shape.gridSize = 4;
  shape.symbolic = std::move(symbolic);
  Model m = allocateModel(shape);
  initializeModel(m, initSeed);
  std::mt19937_64 rng(moveSeed);
  std::normal_distribution<double> nd(0, 0.5);
  for (Tensor &t : m.tensors)
    if (t.name.find("grid") == std::string::npos)
      for (size_t i = 0; i < t.numel(); ++i)
        t.set(i, t.get(i) + nd(rng));
  return m;
}

/// How far an analytic gradient is from central differences.
struct Deviation {
  double worst = 0;   ///< largest |fd - grad| / max(floor, |fd|)
  double largest = 0; ///< largest |fd|
};

/// Central differences of `f` (step h) in every flattened parameter of `m`
/// not skipped, against `grad`; the parameters are restored after.
Deviation centralDifferences(Model &m, llvm::function_ref<double()> f,
                             llvm::ArrayRef<double> grad, double h,
                             double floor,
                             llvm::function_ref<bool(size_t)> skip = nullptr) {
  Deviation dev;
  std::vector<double> p = flattenParams(m);
  EXPECT_EQ(grad.size(), p.size());
  for (size_t i = 0; i < p.size() && i < grad.size(); ++i) {
    if (skip && skip(i))
      continue;
    std::vector<double> q = p;
    q[i] = p[i] + h;
    unflattenParams(m, q);
    double up = f();
    q[i] = p[i] - h;
    unflattenParams(m, q);
    double down = f();
    double fd = (up - down) / (2 * h);
    dev.largest = std::max(dev.largest, std::fabs(fd));
    dev.worst = std::max(dev.worst, std::fabs(fd - grad[i]) /
                                        std::max(floor, std::fabs(fd)));
  }
  unflattenParams(m, p);
  return dev;
}

/// The compiled exact gradient of a model, in a work directory of its own
/// that is removed after the test.
class ExactGradientTest : public ::testing::Test {
protected:
  void SetUp() override {
    llvm::SmallString<128> dir;
    ASSERT_FALSE(
        llvm::sys::fs::createUniqueDirectory("kan-regression-test", dir));
    co.workDir = std::string(dir);
  }
  void TearDown() override {
    if (!co.workDir.empty())
      llvm::sys::fs::remove_directories(co.workDir);
  }

  /// Compiles the gradient of `m`'s shape into `g` (a test failure if not).
  void compile(const Model &m) {
    auto made = ExactGradient::create(m.shape, co);
    ASSERT_TRUE(static_cast<bool>(made)) << llvm::toString(made.takeError());
    g = std::move(*made);
  }

  /// The value of an Expected a central difference needs (a test failure
  /// and NaN if it is an error).
  static double value(llvm::Expected<double> v) {
    if (v)
      return *v;
    ADD_FAILURE() << llvm::toString(v.takeError());
    return NAN;
  }

  double loss(Model &m, const RegressionData &d) {
    return value(g->loss(m, d));
  }
  double regularizer(Model &m, const RegressionData &d) {
    return value(g->regularizer(m, d, nullptr));
  }

  CompileOptions co;
  std::unique_ptr<ExactGradient> g;
};

// The forward-mode gradient against central differences of the loss, over
// every parameter of a two-layer model with two outputs: 360 parameters, so
// two JVP calls of 180 coordinate directions each.
TEST_F(ExactGradientTest, MatchesCentralDifferences) {
  Model m = movedModel({3, 8, 2}, 7, 3);
  RegressionData d = makeData(37, 3, 2, 1);
  ASSERT_NO_FATAL_FAILURE(compile(m));
  EXPECT_EQ(g->width(), 180);
  std::vector<double> grad;
  auto l = g->lossAndGradient(m, d, grad);
  ASSERT_TRUE(static_cast<bool>(l)) << llvm::toString(l.takeError());
  double plain = loss(m, d);
  EXPECT_NEAR(*l, plain, 1e-14 * std::max(1.0, plain));
  Deviation dev = centralDifferences(
      m, [&] { return loss(m, d); }, grad, 1e-6, 1e-3);
  EXPECT_LT(dev.worst, 1e-6);
}

// Symbolic edges (kan.symbolic_edges in the compiled model and its JVP):
// the gradient of their (a, b, c, d) and of every spline weight upstream
// against central differences of the loss, the spline part of the fixed
// edges masked to 0, and the compiled forward against the tools' own
// evaluation (traceModel, which adds c f(a x + b) + d in C++).
TEST_F(ExactGradientTest, SymbolicEdgesMatchCentralDifferences) {
  Model m = movedModel({2, 3, 2}, 13, 9,
                       {{"sin", "", "", "x^2", "", "exp"},
                        {"", "tanh", "gaussian", "", "", "x"}});
  RegressionData d = makeData(29, 2, 2, 4);
  ASSERT_NO_FATAL_FAILURE(compile(m));
  std::vector<double> y;
  ASSERT_FALSE(static_cast<bool>(g->predict(m, d, y)));
  std::vector<double> ref = traceOutput(traceModel(m, d.x.data(), d.rows), d.rows);
  ASSERT_EQ(y.size(), ref.size());
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(y[i], ref[i], 1e-12 * std::max(1.0, std::fabs(ref[i])));
  std::vector<double> grad;
  auto l = g->lossAndGradient(m, d, grad);
  ASSERT_TRUE(static_cast<bool>(l)) << llvm::toString(l.takeError());
  std::vector<double> masked(flattenParams(m).size(), 1.0);
  ASSERT_EQ(grad.size(), masked.size());
  maskSymbolicEdges(m, masked);
  size_t zeroed = 0;
  for (size_t i = 0; i < grad.size(); ++i)
    if (masked[i] == 0) {
      EXPECT_EQ(grad[i], 0.0);
      ++zeroed;
    }
  Deviation dev = centralDifferences(
      m, [&] { return loss(m, d); }, grad, 1e-6, 1e-3,
      [&](size_t i) { return masked[i] == 0; });
  EXPECT_LT(dev.worst, 1e-6);
  // 6 fixed edges, each with a base weight, 7 spline weights and a scaler.
  EXPECT_EQ(zeroed, 6u * 9u);
}

// The sparsity regulariser's gradient (own-layer terms analytic, earlier
// layers through the truncated model's JVP) against central differences.
TEST_F(ExactGradientTest, RegularizerMatchesCentralDifferences) {
  Model m = movedModel({2, 3, 2}, 11, 5);
  RegressionData d = makeData(25, 2, 2, 2);
  ASSERT_NO_FATAL_FAILURE(compile(m));
  ASSERT_FALSE(static_cast<bool>(g->setRegularizer(0.3, 1.0, 2.0, co)));
  std::vector<double> grad(numTrainable(m), 0.0);
  auto r = g->regularizer(m, d, &grad);
  ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
  EXPECT_GT(*r, 0);
  Deviation dev = centralDifferences(
      m, [&] { return regularizer(m, d); }, grad, 1e-7, 1e-2);
  EXPECT_LT(dev.worst, 1e-5);
}

// Current pykan's regulariser (std(phi) / (std(x) + 0.1), row and column
// entropies): the own-layer terms and the input deviation's dependence on
// the earlier layers against central differences, on three layers so the
// deviation of a hidden layer's input moves with two layers before it.
TEST_F(ExactGradientTest, StdRatioRegularizerMatchesCentralDifferences) {
  Model m = movedModel({2, 3, 2, 1}, 13, 7);
  RegressionData d = makeData(25, 2, 1, 3);
  ASSERT_NO_FATAL_FAILURE(compile(m));
  ASSERT_FALSE(static_cast<bool>(g->setRegularizer(
      0.3, 1.0, 2.0, co, RegularizerMetric::StdRatio)));
  std::vector<double> grad(numTrainable(m), 0.0);
  auto r = g->regularizer(m, d, &grad);
  ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
  EXPECT_GT(*r, 0);
  // A different value from the mean-|phi| regulariser on the same model.
  ASSERT_FALSE(static_cast<bool>(g->setRegularizer(0.3, 1.0, 2.0, co)));
  EXPECT_GT(std::fabs(regularizer(m, d) - *r), 1e-3);
  ASSERT_FALSE(static_cast<bool>(g->setRegularizer(
      0.3, 1.0, 2.0, co, RegularizerMetric::StdRatio)));
  Deviation dev = centralDifferences(
      m, [&] { return regularizer(m, d); }, grad, 1e-6, 1e-2);
  EXPECT_GT(dev.largest, 1e-2);
  EXPECT_LT(dev.worst, 1e-5);
}

// L-BFGS and Adam on the Rosenbrock function (minimum 0 at (1, 1)).
Objective rosenbrock() {
  return [](llvm::ArrayRef<double> p, std::vector<double> &g) -> llvm::Expected<double> {
    double a = 1 - p[0], b = p[1] - p[0] * p[0];
    g = {-2 * a - 400 * p[0] * b, 200 * b};
    return a * a + 100 * b * b;
  };
}

TEST(Optimisers, LbfgsSolvesRosenbrock) {
  std::vector<double> p{-1.2, 1.0};
  auto l = minimizeLbfgs(rosenbrock(), p, 500, LbfgsOptions{}, nullptr);
  ASSERT_TRUE(static_cast<bool>(l));
  EXPECT_LT(*l, 1e-16);
  EXPECT_NEAR(p[0], 1.0, 1e-7);
  EXPECT_NEAR(p[1], 1.0, 1e-7);
}

TEST(Optimisers, AdamDescends) {
  std::vector<double> p{-1.2, 1.0};
  AdamOptions o;
  o.lr = 2e-2;
  auto l = minimizeAdam(rosenbrock(), p, 3000, o, nullptr);
  ASSERT_TRUE(static_cast<bool>(l));
  EXPECT_LT(*l, 1e-2); // from 24.2
}

TEST(InputScaling, MapsTheRangeAndRoundTripsThroughMetadata) {
  RegressionData d;
  d.rows = 3, d.inputs = 2, d.targets = 1;
  d.x = {0, 5, 2, 5, 4, 5};
  d.y = {0, 0, 0};
  InputScaling s = InputScaling::fromRange(d, -1, 1);
  RegressionData c = d;
  s.apply(c);
  EXPECT_DOUBLE_EQ(c.x[0], -1);
  EXPECT_DOUBLE_EQ(c.x[2], 0);
  EXPECT_DOUBLE_EQ(c.x[4], 1);
  EXPECT_DOUBLE_EQ(c.x[1], 0); // constant column: centred
  ModelShape shape;
  shape.widths = {2, 1};
  Model m = allocateModel(shape);
  s.store(m);
  auto back = InputScaling::load(m, "test");
  ASSERT_TRUE(static_cast<bool>(back));
  EXPECT_EQ(back->shift, s.shift);
  EXPECT_EQ(back->scale, s.scale);
  m.setMeta("input_scale", "1,x");
  auto bad = InputScaling::load(m, "ckpt");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "ckpt: metadata 'input_scale' entry 1 ('x') is not a finite number");
}

} // namespace
