//===- RegressionTest.cpp - exact forward-mode gradient and optimisers ----===//

#include "kan/Tools/Regression.h"

#include "kan/Tools/Edges.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kan::tools;

namespace {

std::string cacheDir() {
  llvm::SmallString<128> p;
  llvm::sys::fs::createUniqueDirectory("kan-regression-test", p);
  return std::string(p);
}

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

// The forward-mode gradient against central differences of the loss, over
// every parameter of a two-layer model with two outputs: 360 parameters, so
// two JVP calls of 180 coordinate directions each.
TEST(ExactGradient, MatchesCentralDifferences) {
  ModelShape shape;
  shape.widths = {3, 8, 2};
  shape.gridSize = 4;
  Model m = allocateModel(shape);
  initializeModel(m, 7);
  // Larger spline weights than the initialisation, so every path matters.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> nd(0, 0.5);
  for (Tensor &t : m.tensors)
    if (t.name.find("grid") == std::string::npos)
      for (size_t i = 0; i < t.numel(); ++i)
        t.set(i, t.get(i) + nd(rng));
  RegressionData d = makeData(37, 3, 2, 1);
  CompileOptions co;
  co.workDir = cacheDir();
  auto g = ExactGradient::create(shape, co);
  ASSERT_TRUE(static_cast<bool>(g)) << llvm::toString(g.takeError());
  EXPECT_EQ((*g)->width(), 180);
  std::vector<double> grad;
  auto loss = (*g)->lossAndGradient(m, d, grad);
  ASSERT_TRUE(static_cast<bool>(loss)) << llvm::toString(loss.takeError());
  auto plain = (*g)->loss(m, d);
  ASSERT_TRUE(static_cast<bool>(plain));
  EXPECT_NEAR(*loss, *plain, 1e-14 * std::max(1.0, *plain));
  std::vector<double> p = flattenParams(m);
  ASSERT_EQ(grad.size(), p.size());
  double worst = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double h = 1e-6;
    std::vector<double> q = p;
    q[i] = p[i] + h;
    unflattenParams(m, q);
    double lp = *(*g)->loss(m, d);
    q[i] = p[i] - h;
    unflattenParams(m, q);
    double lm = *(*g)->loss(m, d);
    double fd = (lp - lm) / (2 * h);
    worst = std::max(worst, std::fabs(fd - grad[i]) / std::max(1e-3, std::fabs(fd)));
  }
  unflattenParams(m, p);
  EXPECT_LT(worst, 1e-6);
}

// Symbolic edges (kan.symbolic_edges in the compiled model and its JVP):
// the gradient of their (a, b, c, d) and of every spline weight upstream
// against central differences of the loss, the spline part of the fixed
// edges masked to 0, and the compiled forward against the tools' own
// evaluation (traceModel, which adds c f(a x + b) + d in C++).
TEST(ExactGradient, SymbolicEdgesMatchCentralDifferences) {
  ModelShape shape;
  shape.widths = {2, 3, 2};
  shape.gridSize = 4;
  shape.symbolic = {{"sin", "", "", "x^2", "", "exp"},
                    {"", "tanh", "gaussian", "", "", "x"}};
  Model m = allocateModel(shape);
  initializeModel(m, 13);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> nd(0, 0.5);
  for (Tensor &t : m.tensors)
    if (t.name.find("grid") == std::string::npos)
      for (size_t i = 0; i < t.numel(); ++i)
        t.set(i, t.get(i) + nd(rng));
  RegressionData d = makeData(29, 2, 2, 4);
  CompileOptions co;
  co.workDir = cacheDir();
  auto g = ExactGradient::create(shape, co);
  ASSERT_TRUE(static_cast<bool>(g)) << llvm::toString(g.takeError());
  std::vector<double> y;
  ASSERT_FALSE(static_cast<bool>((*g)->predict(m, d, y)));
  std::vector<double> ref = traceOutput(traceModel(m, d.x.data(), d.rows), d.rows);
  ASSERT_EQ(y.size(), ref.size());
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(y[i], ref[i], 1e-12 * std::max(1.0, std::fabs(ref[i])));
  std::vector<double> grad;
  auto loss = (*g)->lossAndGradient(m, d, grad);
  ASSERT_TRUE(static_cast<bool>(loss)) << llvm::toString(loss.takeError());
  std::vector<double> p = flattenParams(m), masked(p.size(), 1.0);
  maskSymbolicEdges(m, masked);
  ASSERT_EQ(grad.size(), p.size());
  double worst = 0;
  size_t zeroed = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (masked[i] == 0) {
      EXPECT_EQ(grad[i], 0.0);
      ++zeroed;
      continue;
    }
    const double h = 1e-6;
    std::vector<double> q = p;
    q[i] = p[i] + h;
    unflattenParams(m, q);
    double lp = *(*g)->loss(m, d);
    q[i] = p[i] - h;
    unflattenParams(m, q);
    double lm = *(*g)->loss(m, d);
    double fd = (lp - lm) / (2 * h);
    worst = std::max(worst, std::fabs(fd - grad[i]) / std::max(1e-3, std::fabs(fd)));
  }
  unflattenParams(m, p);
  EXPECT_LT(worst, 1e-6);
  // 6 fixed edges, each with a base weight, 7 spline weights and a scaler.
  EXPECT_EQ(zeroed, 6u * 9u);
}

// The sparsity regulariser's gradient (own-layer terms analytic, earlier
// layers through the truncated model's JVP) against central differences.
TEST(ExactGradient, RegularizerMatchesCentralDifferences) {
  ModelShape shape;
  shape.widths = {2, 3, 2};
  shape.gridSize = 4;
  Model m = allocateModel(shape);
  initializeModel(m, 11);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd(0, 0.5);
  for (Tensor &t : m.tensors)
    if (t.name.find("grid") == std::string::npos)
      for (size_t i = 0; i < t.numel(); ++i)
        t.set(i, t.get(i) + nd(rng));
  RegressionData d = makeData(25, 2, 2, 2);
  CompileOptions co;
  co.workDir = cacheDir();
  auto g = ExactGradient::create(shape, co);
  ASSERT_TRUE(static_cast<bool>(g)) << llvm::toString(g.takeError());
  ASSERT_FALSE(static_cast<bool>((*g)->setRegularizer(0.3, 1.0, 2.0, co)));
  std::vector<double> grad(numTrainable(m), 0.0);
  auto r = (*g)->regularizer(m, d, &grad);
  ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
  EXPECT_GT(*r, 0);
  std::vector<double> p = flattenParams(m);
  double worst = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double h = 1e-7;
    std::vector<double> q = p;
    q[i] = p[i] + h;
    unflattenParams(m, q);
    double rp = *(*g)->regularizer(m, d, nullptr);
    q[i] = p[i] - h;
    unflattenParams(m, q);
    double rm = *(*g)->regularizer(m, d, nullptr);
    double fd = (rp - rm) / (2 * h);
    worst = std::max(worst, std::fabs(fd - grad[i]) / std::max(1e-2, std::fabs(fd)));
  }
  EXPECT_LT(worst, 1e-5);
}

// Current pykan's regulariser (std(phi) / (std(x) + 0.1), row and column
// entropies): the own-layer terms and the input deviation's dependence on
// the earlier layers against central differences, on three layers so the
// deviation of a hidden layer's input moves with two layers before it.
TEST(ExactGradient, StdRatioRegularizerMatchesCentralDifferences) {
  ModelShape shape;
  shape.widths = {2, 3, 2, 1};
  shape.gridSize = 4;
  Model m = allocateModel(shape);
  initializeModel(m, 13);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> nd(0, 0.5);
  for (Tensor &t : m.tensors)
    if (t.name.find("grid") == std::string::npos)
      for (size_t i = 0; i < t.numel(); ++i)
        t.set(i, t.get(i) + nd(rng));
  RegressionData d = makeData(25, 2, 1, 3);
  CompileOptions co;
  co.workDir = cacheDir();
  auto g = ExactGradient::create(shape, co);
  ASSERT_TRUE(static_cast<bool>(g)) << llvm::toString(g.takeError());
  ASSERT_FALSE(static_cast<bool>((*g)->setRegularizer(
      0.3, 1.0, 2.0, co, RegularizerMetric::StdRatio)));
  std::vector<double> grad(numTrainable(m), 0.0);
  auto r = (*g)->regularizer(m, d, &grad);
  ASSERT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
  EXPECT_GT(*r, 0);
  // A different value from the mean-|phi| regulariser on the same model.
  ASSERT_FALSE(static_cast<bool>((*g)->setRegularizer(0.3, 1.0, 2.0, co)));
  EXPECT_GT(std::fabs(*(*g)->regularizer(m, d, nullptr) - *r), 1e-3);
  ASSERT_FALSE(static_cast<bool>((*g)->setRegularizer(
      0.3, 1.0, 2.0, co, RegularizerMetric::StdRatio)));
  std::vector<double> p = flattenParams(m);
  double worst = 0, largest = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double h = 1e-6;
    std::vector<double> q = p;
    q[i] = p[i] + h;
    unflattenParams(m, q);
    double rp = *(*g)->regularizer(m, d, nullptr);
    q[i] = p[i] - h;
    unflattenParams(m, q);
    double rm = *(*g)->regularizer(m, d, nullptr);
    double fd = (rp - rm) / (2 * h);
    largest = std::max(largest, std::fabs(fd));
    worst = std::max(worst, std::fabs(fd - grad[i]) / std::max(1e-2, std::fabs(fd)));
  }
  unflattenParams(m, p);
  EXPECT_GT(largest, 1e-2);
  EXPECT_LT(worst, 1e-5);
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
