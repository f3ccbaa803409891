//===- basis_test.cpp - span-local B-spline basis against the reference ---===//
#include "kan_reference.h"
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace kantest;

namespace {

struct Basis {
  std::vector<double> B, dB;
};

Basis runKernel(size_t n, size_t in, int G, int k, const std::vector<double> &x,
                const std::vector<double> &grid) {
  std::vector<double> aux(kan_grid_aux_size(in, G, k));
  EXPECT_EQ(kan_grid_prepare_f64(in, G, k, grid.data(), aux.data()), KAN_OK)
      << kan_last_error();
  Basis r{std::vector<double>(n * in * (G + k), -7.0),
          std::vector<double>(n * in * (G + k), -7.0)};
  kan_basis_f64(n, in, G, k, x.data(), in, grid.data(), aux.data(),
                r.B.data(), in * (G + k), r.dB.data(), in * (G + k));
  return r;
}

Basis runReference(size_t n, size_t in, int G, int k,
                   const std::vector<double> &x,
                   const std::vector<double> &grid) {
  Basis r{std::vector<double>(n * in * (G + k)),
          std::vector<double>(n * in * (G + k))};
  kanref_basis(n, in, G, k, x.data(), grid.data(), r.B.data());
  kanref_basis_deriv(n, in, G, k, x.data(), grid.data(), r.dB.data());
  return r;
}

struct Config {
  int G, k;
  bool uniform;
};

class BasisTest : public ::testing::TestWithParam<Config> {};

TEST_P(BasisTest, MatchesReferenceValuesAndDerivatives) {
  const Config c = GetParam();
  std::mt19937 rng(c.G * 100 + c.k);
  const size_t in = 3, n = 400;
  auto grid = c.uniform ? uniformGrid(in, c.G, c.k) : randomGrid(in, c.G, c.k, rng);
  // Points across the whole grid, beyond both ends, and exactly on knots.
  auto x = randomVector(n * in, rng, -2.2, 2.2);
  for (size_t r = 0; r < 40; ++r)
    for (size_t i = 0; i < in; ++i)
      x[r * in + i] = grid[i * (c.G + 2 * c.k + 1) + r % (c.G + 2 * c.k + 1)];
  auto got = runKernel(n, in, c.G, c.k, x, grid);
  auto ref = runReference(n, in, c.G, c.k, x, grid);
  for (size_t e = 0; e < got.B.size(); ++e) {
    ASSERT_NEAR(got.B[e], ref.B[e], 1e-13) << "value " << e;
    ASSERT_NEAR(got.dB[e], ref.dB[e], 1e-11 * (1 + std::abs(ref.dB[e])))
        << "derivative " << e;
  }
}

TEST_P(BasisTest, DerivativeMatchesCentralDifferences) {
  const Config c = GetParam();
  std::mt19937 rng(7 + c.G);
  const size_t in = 2, n = 200;
  auto grid = c.uniform ? uniformGrid(in, c.G, c.k) : randomGrid(in, c.G, c.k, rng);
  auto x = randomVector(n * in, rng, -1.3, 1.3);
  const double h = 1e-6;
  auto xp = x, xm = x;
  for (size_t e = 0; e < x.size(); ++e)
    xp[e] += h, xm[e] -= h;
  auto b = runKernel(n, in, c.G, c.k, x, grid);
  auto bp = runKernel(n, in, c.G, c.k, xp, grid);
  auto bm = runKernel(n, in, c.G, c.k, xm, grid);
  const int nk = c.G + 2 * c.k + 1, nb = c.G + c.k;
  size_t checked = 0;
  for (size_t e = 0; e < b.dB.size(); ++e) {
    // Orders 0 and 1 are not differentiable at knots: skip points within h.
    const size_t r = e / (in * nb), i = e / nb % in;
    bool nearKnot = false;
    for (int j = 0; j < nk; ++j)
      nearKnot |= std::abs(x[r * in + i] - grid[i * nk + j]) < 2 * h;
    if (c.k < 2 && nearKnot)
      continue;
    ++checked;
    double fd = (bp.B[e] - bm.B[e]) / (2 * h);
    ASSERT_NEAR(b.dB[e], fd, 1e-6 * (1 + std::abs(fd))) << e;
  }
  EXPECT_GT(checked, b.dB.size() / 2);
}

TEST_P(BasisTest, PartitionOfUnityInsideAndZeroOutside) {
  const Config c = GetParam();
  std::mt19937 rng(99);
  const size_t in = 2, n = 300;
  const int nk = c.G + 2 * c.k + 1;
  auto grid = c.uniform ? uniformGrid(in, c.G, c.k) : randomGrid(in, c.G, c.k, rng);
  std::vector<double> x(n * in);
  for (size_t r = 0; r < n; ++r)
    for (size_t i = 0; i < in; ++i) {
      const double lo = grid[i * nk + c.k], hi = grid[i * nk + c.G + c.k];
      x[r * in + i] = lo + (hi - lo) * (r + 0.5) / n;
    }
  auto b = runKernel(n, in, c.G, c.k, x, grid);
  for (size_t r = 0; r < n * in; ++r) {
    double s = 0, ds = 0;
    int nonzero = 0;
    for (int j = 0; j < c.G + c.k; ++j) {
      s += b.B[r * (c.G + c.k) + j];
      ds += b.dB[r * (c.G + c.k) + j];
      nonzero += b.B[r * (c.G + c.k) + j] != 0;
    }
    ASSERT_NEAR(s, 1.0, 1e-14) << r;
    ASSERT_NEAR(ds, 0.0, 1e-10) << r;
    ASSERT_LE(nonzero, c.k + 1);
  }
  // Outside [t0, t_last) and NaN: every value and derivative is 0.
  const double outside[] = {grid[0] - 1e-9, grid[0] - 5, grid[nk - 1],
                            grid[nk - 1] + 3,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity()};
  for (double v : outside) {
    std::vector<double> xo(in, v);
    auto bo = runKernel(1, in, c.G, c.k, xo, grid);
    for (size_t j = 0; j < (size_t)(c.G + c.k); ++j) {
      EXPECT_EQ(bo.B[j], 0.0) << v;
      EXPECT_EQ(bo.dB[j], 0.0) << v;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, BasisTest,
    ::testing::Values(Config{5, 3, true}, Config{5, 3, false},
                      Config{1, 3, true}, Config{10, 2, true},
                      Config{4, 1, false}, Config{3, 0, true},
                      Config{7, 5, false}, Config{20, 3, true},
                      Config{64, 3, false}),
    [](const ::testing::TestParamInfo<Config> &info) {
      return "G" + std::to_string(info.param.G) + "k" +
             std::to_string(info.param.k) +
             (info.param.uniform ? "Uniform" : "NonUniform");
    });

TEST(Basis, RepeatedKnotsUseZeroForZeroDenominators) {
  // Clamped-style knots with repeats: the reference drops 0/0 terms.
  const int G = 4, k = 3;
  std::vector<double> grid = {-1, -1, -1, -1, -0.5, 0, 0, 0.5, 1, 1, 1};
  ASSERT_EQ(grid.size(), size_t(G + 2 * k + 1));
  std::mt19937 rng(5);
  auto x = randomVector(500, rng, -1.1, 1.1);
  x[0] = 0.0;
  x[1] = -1.0;
  auto got = runKernel(500, 1, G, k, x, grid);
  auto ref = runReference(500, 1, G, k, x, grid);
  for (size_t e = 0; e < got.B.size(); ++e) {
    ASSERT_NEAR(got.B[e], ref.B[e], 1e-13) << e;
    ASSERT_NEAR(got.dB[e], ref.dB[e], 1e-10 * (1 + std::abs(ref.dB[e]))) << e;
    ASSERT_TRUE(std::isfinite(got.B[e]));
  }
}

TEST(Basis, FloatMatchesReference) {
  const int G = 5, k = 3;
  const size_t in = 4, n = 100;
  std::mt19937 rng(3);
  auto grid = uniformGrid(in, G, k);
  auto x = randomVector(n * in, rng, -1.2, 1.2);
  std::vector<float> gf(grid.begin(), grid.end()), xf(x.begin(), x.end());
  std::vector<double> xd(xf.begin(), xf.end());
  std::vector<float> aux(kan_grid_aux_size(in, G, k));
  ASSERT_EQ(kan_grid_prepare_f32(in, G, k, gf.data(), aux.data()), KAN_OK);
  std::vector<float> B(n * in * (G + k)), dB(B.size());
  kan_basis_f32(n, in, G, k, xf.data(), in, gf.data(), aux.data(), B.data(),
                in * (G + k), dB.data(), in * (G + k));
  auto ref = runReference(n, in, G, k, xd, grid);
  for (size_t e = 0; e < B.size(); ++e) {
    ASSERT_NEAR(B[e], ref.B[e], 2e-6) << e;
    ASSERT_NEAR(dB[e], ref.dB[e], 2e-5 * (1 + std::abs(ref.dB[e]))) << e;
  }
}

TEST(Basis, GridPrepareRejectsBadGrids) {
  const int G = 2, k = 1;
  std::vector<double> aux(kan_grid_aux_size(1, G, k));
  std::vector<double> dec = {0, 1, 0.5, 2, 3};
  EXPECT_EQ(kan_grid_prepare_f64(1, G, k, dec.data(), aux.data()),
            KAN_ERR_INVALID_ARGUMENT);
  std::vector<double> nan = {0, 1, std::nan(""), 2, 3};
  EXPECT_EQ(kan_grid_prepare_f64(1, G, k, nan.data(), aux.data()),
            KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(kan_grid_aux_size(1, 0, 3), 0u);
  EXPECT_EQ(kan_grid_aux_size(1, 5, KAN_MAX_SPLINE_ORDER + 1), 0u);
  EXPECT_EQ(kan_grid_aux_size(1, 5, 3), size_t(4 + 3 * 11));
}

} // namespace
