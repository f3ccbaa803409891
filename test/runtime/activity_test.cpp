//===- activity_test.cpp - the activity rule's update GEMM in tiles -------===//
#include "kan_reference.h"
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace kantest;

namespace {

/// A layer of I inputs, O outputs; x is N x I, g (dL/dz) N x O.
struct Case {
  size_t N, I, O;
  int G, k;
  std::vector<double> grid, wb, c, s, x, g;
};

Case makeCase(size_t N, size_t I, size_t O, int G, int k, unsigned seed) {
  std::mt19937 rng(seed);
  // Random knots; x partly outside the grid (only the base branch there).
  return {N,
          I,
          O,
          G,
          k,
          randomGrid(I, G, k, rng),
          randomVector(O * I, rng),
          randomVector(O * I * (G + k), rng, -0.3, 0.3),
          randomVector(O * I, rng, 0.5, 1.5),
          randomVector(N * I, rng, -1.8, 1.8),
          randomVector(N * O, rng)};
}

/// dWb, dC, dS from the naive reference basis: dW[o][col] = sum_r g[r][o]
/// A[r][col], dC = dW_C * S, dS = sum_j dW_C * C.
void reference(const Case &t, std::vector<double> &db, std::vector<double> &dc,
               std::vector<double> &ds) {
  const size_t gk = t.G + t.k;
  std::vector<double> B(t.N * t.I * gk);
  kanref_basis(t.N, t.I, t.G, t.k, t.x.data(), t.grid.data(), B.data());
  db.assign(t.O * t.I, 0);
  dc.assign(t.O * t.I * gk, 0);
  ds.assign(t.O * t.I, 0);
  for (size_t o = 0; o < t.O; ++o)
    for (size_t i = 0; i < t.I; ++i) {
      double base = 0;
      std::vector<double> w(gk, 0.0);
      for (size_t r = 0; r < t.N; ++r) {
        double gr = t.g[r * t.O + o];
        base += gr * kanref_act(KAN_ACT_SILU, t.x[r * t.I + i]);
        for (size_t j = 0; j < gk; ++j)
          w[j] += gr * B[(r * t.I + i) * gk + j];
      }
      size_t oi = o * t.I + i;
      db[oi] = base;
      for (size_t j = 0; j < gk; ++j) {
        dc[oi * gk + j] = w[j] * t.s[oi];
        ds[oi] += w[j] * t.c[oi * gk + j];
      }
    }
}

TEST(Activity, UpdateTilesMatchTheReference) {
  // 7 inputs in tiles of 3 (the last one clipped), 13 rows in chunks of 5.
  Case t = makeCase(13, 7, 4, 5, 3, 11);
  std::vector<double> rb, rc, rs;
  reference(t, rb, rc, rs);
  std::vector<double> aux(kan_grid_aux_size(t.I, t.G, t.k));
  ASSERT_EQ(kan_grid_prepare_f64(t.I, t.G, t.k, t.grid.data(), aux.data()),
            KAN_OK);
  size_t ws = kan_activity_update_work_size(t.O, t.G, t.k, 3, 5);
  // 2 chunks of 5 x 27 features, g^T of a chunk (4 x 5) and dW (4 x 27).
  ASSERT_EQ(ws, 2u * 5 * 27 + 4u * (5 + 27));
  std::vector<double> work(ws);
  std::vector<double> gb(t.O * t.I, -7), gc(t.c.size(), -7), gs(t.s.size(), -7);
  std::vector<double> wb = t.wb, c = t.c, s = t.s;
  // Tiles in any order give the same values: each owns its weights.
  for (int64_t first : {6, 0, 3})
    ASSERT_EQ(kan_activity_update_tile_f64(
                  t.N, t.I, t.O, t.G, t.k, KAN_ACT_SILU, t.x.data(), t.I,
                  t.grid.data(), aux.data(), t.g.data(), t.O, first, 3, 5, 0.0,
                  wb.data(), c.data(), s.data(), gb.data(), gc.data(),
                  gs.data(), work.data()),
              KAN_OK);
  EXPECT_LT(relErr(gb, rb), 1e-13);
  EXPECT_LT(relErr(gc, rc), 1e-13);
  EXPECT_LT(relErr(gs, rs), 1e-13);
  // Gradient mode leaves the parameters alone.
  EXPECT_EQ(wb, t.wb);
  EXPECT_EQ(c, t.c);
  EXPECT_EQ(s, t.s);
}

TEST(Activity, UpdateInPlaceMatchesTheReference) {
  Case t = makeCase(300, 33, 6, 4, 2, 12);
  std::vector<double> rb, rc, rs;
  reference(t, rb, rc, rs);
  const double lr = 0.25;
  std::vector<double> wb = t.wb, c = t.c, s = t.s;
  // The untiled entry point (its own tiles and work).
  ASSERT_EQ(kan_activity_update_f64(t.N, t.I, t.O, t.G, t.k, KAN_ACT_SILU,
                                    t.x.data(), t.grid.data(), t.g.data(), lr,
                                    wb.data(), c.data(), s.data(), nullptr,
                                    nullptr, nullptr),
            KAN_OK);
  std::vector<double> eb(wb.size()), ec(c.size()), es(s.size());
  for (size_t e = 0; e < wb.size(); ++e) {
    eb[e] = t.wb[e] - lr * rb[e];
    es[e] = t.s[e] - lr * rs[e];
  }
  for (size_t e = 0; e < c.size(); ++e)
    ec[e] = t.c[e] - lr * rc[e];
  EXPECT_LT(relErr(wb, eb), 1e-13);
  EXPECT_LT(relErr(c, ec), 1e-13);
  EXPECT_LT(relErr(s, es), 1e-13);
}

TEST(Activity, UpdateTileF32MatchesTheReference) {
  Case t = makeCase(40, 9, 3, 5, 3, 13);
  std::vector<double> rb, rc, rs;
  reference(t, rb, rc, rs);
  auto f = [](const std::vector<double> &v) {
    return std::vector<float>(v.begin(), v.end());
  };
  std::vector<float> grid = f(t.grid), x = f(t.x), g = f(t.g), wb = f(t.wb),
                     c = f(t.c), s = f(t.s);
  std::vector<float> aux(kan_grid_aux_size(t.I, t.G, t.k));
  ASSERT_EQ(kan_grid_prepare_f32(t.I, t.G, t.k, grid.data(), aux.data()),
            KAN_OK);
  std::vector<float> work(kan_activity_update_work_size(t.O, t.G, t.k, 4, 16));
  std::vector<float> gb(wb.size()), gc(c.size()), gs(s.size());
  for (int64_t first = 0; first < (int64_t)t.I; first += 4)
    ASSERT_EQ(kan_activity_update_tile_f32(
                  t.N, t.I, t.O, t.G, t.k, KAN_ACT_SILU, x.data(), t.I,
                  grid.data(), aux.data(), g.data(), t.O, first, 4, 16, 0.0,
                  wb.data(), c.data(), s.data(), gb.data(), gc.data(),
                  gs.data(), work.data()),
              KAN_OK);
  auto d = [](const std::vector<float> &v) {
    return std::vector<double>(v.begin(), v.end());
  };
  EXPECT_LT(relErr(d(gb), rb), 1e-5);
  EXPECT_LT(relErr(d(gc), rc), 1e-5);
  EXPECT_LT(relErr(d(gs), rs), 1e-5);
}

TEST(Activity, UpdateTileRejectsBadArguments) {
  Case t = makeCase(4, 3, 2, 5, 3, 14);
  std::vector<double> aux(kan_grid_aux_size(t.I, t.G, t.k));
  std::vector<double> work(kan_activity_update_work_size(t.O, t.G, t.k, 2, 4));
  auto tile = [&](int64_t first, int64_t ldx, double *w) {
    return kan_activity_update_tile_f64(
        t.N, t.I, t.O, t.G, t.k, KAN_ACT_SILU, t.x.data(), ldx, t.grid.data(),
        aux.data(), t.g.data(), t.O, first, 2, 4, 0.1, t.wb.data(),
        t.c.data(), t.s.data(), nullptr, nullptr, nullptr, w);
  };
  EXPECT_EQ(tile(3, t.I, work.data()), KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tile(-1, t.I, work.data()), KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tile(0, t.I - 1, work.data()), KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tile(0, t.I, nullptr), KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(kan_activity_update_work_size(2, 5, 3, 0, 4), 0u);
  EXPECT_EQ(kan_activity_update_work_size(2, 5, 3, 2, 0), 0u);
  EXPECT_EQ(kan_activity_update_work_size(2, 5, 3, INT64_MAX, INT64_MAX), 0u);
}

} // namespace
