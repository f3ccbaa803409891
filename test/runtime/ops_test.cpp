//===- ops_test.cpp - whole-op entry points of generated code ------------===//
#include "kanrt/kanrt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

// The CSR of one sparse direction holds exactly the packed tangent
// [Wb' | flat(C' S + C S')] of the same sparse draws (duplicates summed).
TEST(SparseDirection, EqualsPackedDenseDraws) {
  const size_t out = 3, in = 4, gk = 5, kk = in * (gk + 1);
  const double density = 0.2;
  const uint64_t seed = 17;
  const uint32_t step = 3, dir = 2;
  std::vector<double> C(out * in * gk), S(out * in);
  for (size_t i = 0; i < C.size(); ++i)
    C[i] = 0.1 * (double)(i % 7) - 0.3;
  for (size_t i = 0; i < S.size(); ++i)
    S[i] = 1.0 + 0.05 * (double)i;
  size_t cap = kan_sparse_directions_capacity(out, in, gk, density, 0, 1, 2);
  ASSERT_GT(cap, 0u);
  std::vector<unsigned char> work(
      kan_sparse_directions_work_size_f64(out, in, gk, density, 0, 1, 2));
  std::vector<uint32_t> rowptr(out + 1), cols(cap + 1);
  std::vector<double> vals(cap + 1);
  ASSERT_EQ(kan_sparse_direction_f64(seed, step, dir, out, in, gk, density, 0,
                                     1, 2, C.data(), S.data(), work.data(),
                                     rowptr.data(), cols.data(), vals.data()),
            KAN_OK);
  std::vector<double> fromCsr(out * kk, 0.0);
  ASSERT_EQ(rowptr[0], 0u);
  for (size_t o = 0; o < out; ++o)
    for (uint32_t e = rowptr[o]; e < rowptr[o + 1]; ++e)
      fromCsr[o * kk + cols[e]] += vals[e];

  std::vector<double> tb(out * in), tc(out * in * gk), ts(out * in);
  ASSERT_EQ(kan_perturb_sparse_directions_f64(seed, step, dir, 1, 0, out * in,
                                              density, tb.data()),
            KAN_OK);
  ASSERT_EQ(kan_perturb_sparse_directions_f64(seed, step, dir, 1, 1,
                                              out * in * gk, density,
                                              tc.data()),
            KAN_OK);
  ASSERT_EQ(kan_perturb_sparse_directions_f64(seed, step, dir, 1, 2, out * in,
                                              density, ts.data()),
            KAN_OK);
  std::vector<double> dense(out * kk);
  kan_pack_weights_jvp_directions_f64(1, out, in, gk, C.data(), S.data(),
                                      tb.data(), tc.data(), ts.data(),
                                      dense.data(), kk);
  for (size_t i = 0; i < dense.size(); ++i)
    EXPECT_NEAR(fromCsr[i], dense[i], 1e-12) << "element " << i;
}

TEST(PerturbDirections, SameAsOneCallPerDirection) {
  std::vector<float> all(3 * 10), one(10);
  ASSERT_EQ(kan_perturb_dense_directions_f32(5, 1, 4, 3, 7, KAN_DIST_NORMAL,
                                             10, all.data()),
            KAN_OK);
  for (uint32_t d = 0; d < 3; ++d) {
    ASSERT_EQ(kan_perturb_dense_f32(5, 1, 4 + d, 7, KAN_DIST_NORMAL, 10,
                                    one.data()),
              KAN_OK);
    for (size_t e = 0; e < 10; ++e)
      EXPECT_EQ(all[d * 10 + e], one[e]);
  }
}

// All directions of a row tile in one call (the panel packed once) give
// the same bits as one kan_regenerated_tangent_gemm call per direction.
template <typename T> void checkRegeneratedDirections(int dist) {
  const size_t nd = 4, m = 37, out = 9, in = 6, gk = 8, kk = in * (gk + 1);
  const uint32_t first = 2;
  std::vector<T> C(out * in * gk), S(out * in), A(m * kk);
  for (size_t i = 0; i < C.size(); ++i)
    C[i] = (T)(0.1 * (double)(i % 7) - 0.3);
  for (size_t i = 0; i < S.size(); ++i)
    S[i] = (T)(1.0 + 0.05 * (double)i);
  for (size_t i = 0; i < A.size(); ++i)
    A[i] = (T)std::sin(0.37 * (double)i);
  std::vector<T> wt(out * kk), tb(out * in), tc(out * in * gk), ts(out * in);
  std::vector<T> Y(nd * m * out), expect;
  for (size_t i = 0; i < Y.size(); ++i)
    Y[i] = (T)(0.01 * (double)(i % 13));
  expect = Y;
  for (size_t d = 0; d < nd; ++d) {
    kan_status st;
    if constexpr (sizeof(T) == 8)
      st = kan_regenerated_tangent_gemm_f64(
          m, out, in, gk, 7, 3, first + (uint32_t)d, 0, 1, 2, dist, C.data(),
          S.data(), A.data(), wt.data(), tb.data(), tc.data(), ts.data(),
          expect.data() + d * m * out, out);
    else
      st = kan_regenerated_tangent_gemm_f32(
          m, out, in, gk, 7, 3, first + (uint32_t)d, 0, 1, 2, dist, C.data(),
          S.data(), A.data(), wt.data(), tb.data(), tc.data(), ts.data(),
          expect.data() + d * m * out, out);
    ASSERT_EQ(st, KAN_OK);
  }
  kan_status st;
  if constexpr (sizeof(T) == 8)
    st = kan_regenerated_tangent_gemm_directions_f64(
        nd, first, m, out, in, gk, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        A.data(), wt.data(), tb.data(), tc.data(), ts.data(), Y.data(), out,
        m * out);
  else
    st = kan_regenerated_tangent_gemm_directions_f32(
        nd, first, m, out, in, gk, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        A.data(), wt.data(), tb.data(), tc.data(), ts.data(), Y.data(), out,
        m * out);
  ASSERT_EQ(st, KAN_OK);
  for (size_t i = 0; i < Y.size(); ++i)
    ASSERT_EQ(Y[i], expect[i]) << "element " << i;
}

TEST(RegeneratedTangent, DirectionsSameBitsAsOneCallEach) {
  checkRegeneratedDirections<double>(KAN_DIST_NORMAL);
  checkRegeneratedDirections<double>(KAN_DIST_RADEMACHER);
  checkRegeneratedDirections<float>(KAN_DIST_NORMAL);
}

// A row tile's layer JVP in column blocks computes what the whole feature
// panel and whole W'_d do (kan_pack_features, kan_gemm_nt for y,
// kan_regenerated_tangent_gemm_directions), to rounding: blocks that split
// inputs' basis columns, one block, x outside the grid (the recursion) and
// inside it, one row and 37.
template <typename T>
void checkLayerJvpCols(int dist, size_t m, size_t cols, double tol) {
  const size_t nd = 3, out = 9, in = 6;
  const int G = 5, k = 3;
  const size_t gk = G + k, kk = in * (gk + 1), nk = G + 2 * k + 1;
  const uint32_t first = 1;
  std::vector<T> grid(in * nk), aux(kan_grid_aux_size(in, G, k));
  for (size_t i = 0; i < in; ++i)
    for (size_t j = 0; j < nk; ++j)
      grid[i * nk + j] = (T)(-1.0 + 0.4 * ((double)j - 3.0));
  std::vector<T> x(m * in), C(out * in * gk), S(out * in), W(out * kk);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = (T)(1.3 * std::sin(0.71 * (double)i));
  for (size_t i = 0; i < C.size(); ++i)
    C[i] = (T)(0.1 * (double)(i % 7) - 0.3);
  for (size_t i = 0; i < S.size(); ++i)
    S[i] = (T)(1.0 + 0.05 * (double)i);
  for (size_t i = 0; i < W.size(); ++i)
    W[i] = (T)std::cos(0.3 * (double)i);
  std::vector<T> A(m * kk), wt(out * kk), tb(out * in), tc(out * in * gk),
      ts(out * in), y0(m * out), y1(m * out), t0(nd * m * out);
  for (size_t i = 0; i < t0.size(); ++i)
    t0[i] = (T)(0.01 * (double)(i % 13));
  std::vector<T> t1 = t0;
  std::vector<T> work(kan_layer_jvp_cols_work_size(m, out, gk, cols));
  kan_status st, st2;
  if constexpr (sizeof(T) == 8) {
    ASSERT_EQ(kan_grid_prepare_f64(in, G, k, grid.data(), aux.data()), KAN_OK);
    kan_pack_features_f64(m, in, G, k, KAN_ACT_SILU, x.data(), in, grid.data(),
                          aux.data(), A.data(), kk);
    kan_gemm_nt_f64(m, out, kk, 1, A.data(), kk, W.data(), kk, 0, y0.data(),
                    out);
    st = kan_regenerated_tangent_gemm_directions_f64(
        nd, first, m, out, in, gk, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        A.data(), wt.data(), tb.data(), tc.data(), ts.data(), t0.data(), out,
        m * out);
    st2 = kan_regenerated_layer_jvp_cols_f64(
        m, in, G, k, KAN_ACT_SILU, x.data(), in, grid.data(), aux.data(),
        W.data(), kk, out, nd, first, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        cols, work.data(), y1.data(), out, t1.data(), out, m * out);
  } else {
    ASSERT_EQ(kan_grid_prepare_f32(in, G, k, grid.data(), aux.data()), KAN_OK);
    kan_pack_features_f32(m, in, G, k, KAN_ACT_SILU, x.data(), in, grid.data(),
                          aux.data(), A.data(), kk);
    kan_gemm_nt_f32(m, out, kk, 1, A.data(), kk, W.data(), kk, 0, y0.data(),
                    out);
    st = kan_regenerated_tangent_gemm_directions_f32(
        nd, first, m, out, in, gk, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        A.data(), wt.data(), tb.data(), tc.data(), ts.data(), t0.data(), out,
        m * out);
    st2 = kan_regenerated_layer_jvp_cols_f32(
        m, in, G, k, KAN_ACT_SILU, x.data(), in, grid.data(), aux.data(),
        W.data(), kk, out, nd, first, 7, 3, 0, 1, 2, dist, C.data(), S.data(),
        cols, work.data(), y1.data(), out, t1.data(), out, m * out);
  }
  ASSERT_EQ(st, KAN_OK);
  ASSERT_EQ(st2, KAN_OK);
  auto near = [&](T a, T b) {
    return std::fabs((double)a - (double)b) <=
           tol * std::max(1.0, std::fabs((double)a));
  };
  for (size_t i = 0; i < y0.size(); ++i)
    ASSERT_TRUE(near(y0[i], y1[i]))
        << "y element " << i << ": " << y0[i] << " against " << y1[i]
        << " (blocks of " << cols << ")";
  for (size_t i = 0; i < t0.size(); ++i)
    ASSERT_TRUE(near(t0[i], t1[i]))
        << "tangent element " << i << ": " << t0[i] << " against " << t1[i]
        << " (blocks of " << cols << ")";
}

TEST(RegeneratedLayerJvpCols, MatchesWholePanel) {
  for (size_t cols : {1, 5, 8, 13, 27, 54, 200})
    for (size_t m : {1, 37}) {
      checkLayerJvpCols<double>(KAN_DIST_NORMAL, m, cols, 1e-12);
      checkLayerJvpCols<double>(KAN_DIST_RADEMACHER, m, cols, 1e-12);
      checkLayerJvpCols<float>(KAN_DIST_NORMAL, m, cols, 2e-5);
    }
}

TEST(RegeneratedLayerJvpCols, ZeroColumnsRejected) {
  std::vector<double> dummy(16);
  EXPECT_EQ(kan_regenerated_layer_jvp_cols_f64(
                1, 1, 1, 1, KAN_ACT_SILU, dummy.data(), 1, dummy.data(),
                dummy.data(), dummy.data(), 3, 1, 1, 0, 7, 3, 0, 1, 2,
                KAN_DIST_NORMAL, dummy.data(), NULL, 0, dummy.data(),
                dummy.data(), 1, dummy.data(), 1, 1),
            KAN_ERR_INVALID_ARGUMENT);
}

TEST(UpdateCoefficients, Rules) {
  std::vector<float> a = {0.5f, -2.0f, 0.1f, -0.3f}, c(4);
  ASSERT_EQ(kan_update_coefficients_f32(KAN_RULE_TERNARY, 4, a.data(),
                                        c.data()),
            KAN_OK);
  EXPECT_EQ(c, (std::vector<float>{1, -1, 0, -1}));
  ASSERT_EQ(kan_update_coefficients_f32(KAN_RULE_FG, 4, a.data(), c.data()),
            KAN_OK);
  EXPECT_EQ(c, a);
  EXPECT_EQ(kan_update_coefficients_f32(7, 4, a.data(), c.data()),
            KAN_ERR_INVALID_ARGUMENT);
}

TEST(Update, FloatCoefficientsMatchDouble) {
  std::vector<float> theta(50, 1.0f), ref(50, 1.0f);
  std::vector<float> cf = {1, -1, 0.5f};
  std::vector<double> cd = {1, -1, 0.5};
  ASSERT_EQ(kan_apply_update_dense_f32(9, 2, 3, 1, KAN_DIST_RADEMACHER, 50,
                                       cf.data(), 0.01, theta.data()),
            KAN_OK);
  ASSERT_EQ(kan_update_dense_f32(9, 2, 3, 1, KAN_DIST_RADEMACHER, 50,
                                 cd.data(), 0.01, ref.data()),
            KAN_OK);
  EXPECT_EQ(theta, ref);
}

TEST(Buffers, AllocAndStatus) {
  void *p = kan_buffer_alloc(0, 8);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(kan_buffer_status(p), KAN_OK);
  free(p);
  EXPECT_EQ(kan_buffer_alloc(SIZE_MAX / 2, 8), nullptr);
  EXPECT_EQ(kan_buffer_status(nullptr), KAN_ERR_OUT_OF_MEMORY);
}

TEST(Elementwise, CopyFillArithmetic) {
  std::vector<double> a = {1, 2, 3}, b = {4, 5, 6}, y(3);
  kan_add_f64(3, a.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<double>{5, 7, 9}));
  kan_sub_f64(3, a.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<double>{-3, -3, -3}));
  kan_mul_f64(3, a.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<double>{4, 10, 18}));
  kan_neg_f64(3, a.data(), y.data());
  EXPECT_EQ(y, (std::vector<double>{-1, -2, -3}));
  kan_fill_f64(3, 2.5, y.data());
  EXPECT_EQ(y, (std::vector<double>{2.5, 2.5, 2.5}));
  kan_copy_f64(3, a.data(), y.data());
  EXPECT_EQ(y, a);
  kan_copy_f64(3, a.data(), a.data());
  EXPECT_EQ(a, (std::vector<double>{1, 2, 3}));
}

} // namespace
