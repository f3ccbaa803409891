//===- layer_test.cpp - a KAN layer and its JVP built from the kernels ----===//
#include "kan_reference.h"
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace kantest;

namespace {

struct Layer {
  size_t I, O;
  int G, k;
  std::vector<double> grid, wb, c, s;
};

Layer makeLayer(size_t I, size_t O, int G, int k, bool uniform,
                std::mt19937 &rng) {
  Layer l{I, O, G, k, uniform ? uniformGrid(I, G, k) : randomGrid(I, G, k, rng),
          randomVector(O * I, rng), randomVector(O * I * (G + k), rng, -0.3, 0.3),
          randomVector(O * I, rng, 0.5, 1.5)};
  return l;
}

/// y = A W^T, exactly what generated code does (pack + one GEMM).
std::vector<double> forward(const Layer &l, const std::vector<double> &x,
                            size_t N) {
  const size_t K = l.I * (l.G + l.k + 1);
  std::vector<double> aux(kan_grid_aux_size(l.I, l.G, l.k)), A(N * K),
      W(l.O * K), y(N * l.O);
  EXPECT_EQ(kan_grid_prepare_f64(l.I, l.G, l.k, l.grid.data(), aux.data()),
            KAN_OK);
  kan_pack_features_f64(N, l.I, l.G, l.k, KAN_ACT_SILU, x.data(), l.I,
                        l.grid.data(), aux.data(), A.data(), K);
  kan_pack_weights_f64(l.O, l.I, l.G, l.k, l.wb.data(), l.c.data(),
                       l.s.data(), W.data(), K);
  kan_gemm_nt_f64(N, l.O, K, 1.0, A.data(), K, W.data(), K, 0.0, y.data(),
                  l.O);
  return y;
}

/// y' = [A' | A] [W ; W']^T as one GEMM with K doubled.
std::vector<double> jvp(const Layer &l, const std::vector<double> &x,
                        const std::vector<double> &xt, const Layer &t,
                        size_t N) {
  const size_t K = l.I * (l.G + l.k + 1);
  std::vector<double> aux(kan_grid_aux_size(l.I, l.G, l.k)), AA(N * 2 * K),
      WW(l.O * 2 * K), yt(N * l.O);
  EXPECT_EQ(kan_grid_prepare_f64(l.I, l.G, l.k, l.grid.data(), aux.data()),
            KAN_OK);
  // Row r of AA: [A'_r | A_r]; row o of WW: [W_o | W'_o].
  kan_pack_features_jvp_f64(N, l.I, l.G, l.k, KAN_ACT_SILU, x.data(), l.I, 1,
                            xt.data(), l.I, 0, l.grid.data(), aux.data(),
                            AA.data() + K, 2 * K, AA.data(), 2 * K, 0);
  kan_pack_weights_f64(l.O, l.I, l.G, l.k, l.wb.data(), l.c.data(),
                       l.s.data(), WW.data(), 2 * K);
  kan_pack_weights_jvp_f64(l.O, l.I, l.G, l.k, l.c.data(), l.s.data(),
                           t.wb.data(), t.c.data(), t.s.data(),
                           WW.data() + K, 2 * K);
  kan_gemm_nt_f64(N, l.O, 2 * K, 1.0, AA.data(), 2 * K, WW.data(), 2 * K, 0.0,
                  yt.data(), l.O);
  return yt;
}

class LayerTest : public ::testing::TestWithParam<bool> {};

TEST_P(LayerTest, ForwardMatchesReference) {
  std::mt19937 rng(21);
  const size_t N = 67, I = 9, O = 13;
  Layer l = makeLayer(I, O, 5, 3, GetParam(), rng);
  auto x = randomVector(N * I, rng, -1.5, 1.5);
  auto y = forward(l, x, N);
  std::vector<double> ref(N * O);
  kanref_layer_forward(N, I, O, l.G, l.k, KAN_ACT_SILU, x.data(),
                       l.grid.data(), l.wb.data(), l.c.data(), l.s.data(),
                       ref.data());
  EXPECT_LT(relErr(y, ref), 1e-12);
}

TEST_P(LayerTest, JvpMatchesReferenceAndFiniteDifferences) {
  std::mt19937 rng(22);
  const size_t N = 41, I = 6, O = 10;
  Layer l = makeLayer(I, O, 5, 3, GetParam(), rng);
  Layer t = makeLayer(I, O, 5, 3, true, rng); // tangent weights
  t.s = randomVector(O * I, rng);
  auto x = randomVector(N * I, rng, -1.5, 1.5);
  auto xt = randomVector(N * I, rng);
  auto yt = jvp(l, x, xt, t, N);

  std::vector<double> ref(N * O);
  kanref_layer_jvp(N, I, O, l.G, l.k, KAN_ACT_SILU, x.data(), xt.data(),
                   l.grid.data(), l.wb.data(), l.c.data(), l.s.data(),
                   t.wb.data(), t.c.data(), t.s.data(), ref.data());
  EXPECT_LT(relErr(yt, ref), 1e-12);

  // Central differences of the kernel forward along all tangents at once.
  const double h = 1e-5;
  auto shifted = [&](double sgn) {
    Layer p = l;
    std::vector<double> xp = x;
    for (size_t e = 0; e < xp.size(); ++e)
      xp[e] += sgn * h * xt[e];
    for (size_t e = 0; e < p.wb.size(); ++e)
      p.wb[e] += sgn * h * t.wb[e], p.s[e] += sgn * h * t.s[e];
    for (size_t e = 0; e < p.c.size(); ++e)
      p.c[e] += sgn * h * t.c[e];
    return forward(p, xp, N);
  };
  auto yp = shifted(1), ym = shifted(-1);
  std::vector<double> fd(yp.size());
  for (size_t e = 0; e < fd.size(); ++e)
    fd[e] = (yp[e] - ym[e]) / (2 * h);
  EXPECT_LT(relErr(yt, fd), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Grids, LayerTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "Uniform" : "NonUniform";
                         });

TEST(Layer, FirstLayerSparseTangentEqualsDenseJvp) {
  // x' = 0 and a sparse ternary perturbation of the spline weights only:
  // y' = A W'^T computed column-wise must equal the reference JVP.
  std::mt19937 rng(23);
  const size_t N = 30, I = 8, O = 7;
  const int G = 5, k = 3, nb = G + k;
  const size_t K = I * (nb + 1);
  Layer l = makeLayer(I, O, G, k, true, rng);
  auto x = randomVector(N * I, rng, -1, 1);
  const size_t size = O * I * nb, m = kan_sparse_count(size, 0.02);
  std::vector<uint32_t> idx(m), rows(m), cols(m);
  std::vector<int32_t> sg(m);
  ASSERT_EQ(kan_perturb_sparse(5, 0, 0, KAN_STREAM_ID(0, 1), size, m,
                               idx.data(), sg.data()),
            KAN_OK);
  std::vector<double> ct(size, 0.0), vals(m);
  for (size_t e = 0; e < m; ++e) {
    ct[idx[e]] += sg[e];
    const size_t o = idx[e] / (I * nb), i = idx[e] / nb % I, j = idx[e] % nb;
    rows[e] = o;
    cols[e] = I + i * nb + j;
    vals[e] = sg[e] * l.s[o * I + i]; // W' = C' * S
  }
  std::vector<double> aux(kan_grid_aux_size(I, G, k)), A(N * K), yt(N * O, 0);
  ASSERT_EQ(kan_grid_prepare_f64(I, G, k, l.grid.data(), aux.data()), KAN_OK);
  kan_pack_features_f64(N, I, G, k, KAN_ACT_SILU, x.data(), I, l.grid.data(),
                        aux.data(), A.data(), K);
  kan_sparse_tangent_f64(N, A.data(), K, m, cols.data(), rows.data(),
                         vals.data(), yt.data(), O);
  std::vector<double> ref(N * O);
  kanref_layer_jvp(N, I, O, G, k, KAN_ACT_SILU, x.data(), nullptr,
                   l.grid.data(), l.wb.data(), l.c.data(), l.s.data(),
                   nullptr, ct.data(), nullptr, ref.data());
  EXPECT_LT(relErr(yt, ref), 1e-12);
}

struct SpanCase {
  size_t N, I, O;
  int G, k;
  bool uniform;
};

class SpanForwardTest : public ::testing::TestWithParam<SpanCase> {};

// The span-local forward against the naive reference, with x partly outside
// the grid (all basis values 0) and on the end spans (clamped windows),
// strided x and y, several input blocks and a partial output block.
TEST_P(SpanForwardTest, MatchesReferenceInF64AndF32) {
  const SpanCase c = GetParam();
  std::mt19937 rng(25 + c.I + c.O + c.G);
  Layer l = makeLayer(c.I, c.O, c.G, c.k, c.uniform, rng);
  const size_t ldx = c.I + 3, ldy = c.O + 2, K = c.I * (c.G + c.k + 1);
  auto x = randomVector(c.N * ldx, rng, -3, 3);
  // Exact knots and grid ends hit the half-open interval boundaries.
  x[0] = l.grid[0];
  x[1 % c.I] = l.grid[c.G + 2 * c.k];
  std::vector<double> aux(kan_grid_aux_size(c.I, c.G, c.k)), W(K * c.O),
      y(c.N * ldy, -7.0),
      work(kan_layer_forward_work_size_f64(c.N, c.G, c.k) / sizeof(double) + 1);
  ASSERT_EQ(kan_grid_prepare_f64(c.I, c.G, c.k, l.grid.data(), aux.data()),
            KAN_OK);
  kan_pack_weights_span_f64(c.O, c.I, c.G, c.k, l.wb.data(), l.c.data(),
                            l.s.data(), W.data(), c.O);
  kan_layer_forward_span_f64(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, x.data(),
                             ldx, l.grid.data(), aux.data(), W.data(), c.O,
                             work.data(), y.data(), ldy);
  std::vector<double> xd(c.N * c.I), ref(c.N * c.O), got(c.N * c.O);
  for (size_t r = 0; r < c.N; ++r)
    for (size_t i = 0; i < c.I; ++i)
      xd[r * c.I + i] = x[r * ldx + i];
  kanref_layer_forward(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, xd.data(),
                       l.grid.data(), l.wb.data(), l.c.data(), l.s.data(),
                       ref.data());
  for (size_t r = 0; r < c.N; ++r) {
    for (size_t o = 0; o < c.O; ++o)
      got[r * c.O + o] = y[r * ldy + o];
    for (size_t o = c.O; o < ldy; ++o)
      EXPECT_EQ(y[r * ldy + o], -7.0) << "wrote past the row at " << r;
  }
  EXPECT_LT(relErr(got, ref), 1e-12);

  // f32: the same layer in float, within float rounding of the reference.
  auto f = [](const std::vector<double> &v) {
    return std::vector<float>(v.begin(), v.end());
  };
  std::vector<float> xf = f(x), gf = f(l.grid), wbf = f(l.wb), cf = f(l.c),
                     sf = f(l.s), auxf(aux.size()), Wf(K * c.O),
                     yf(c.N * ldy),
                     workf(kan_layer_forward_work_size_f32(c.N, c.G, c.k) /
                               sizeof(float) + 1);
  ASSERT_EQ(kan_grid_prepare_f32(c.I, c.G, c.k, gf.data(), auxf.data()),
            KAN_OK);
  kan_pack_weights_span_f32(c.O, c.I, c.G, c.k, wbf.data(), cf.data(),
                            sf.data(), Wf.data(), c.O);
  kan_layer_forward_span_f32(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, xf.data(),
                             ldx, gf.data(), auxf.data(), Wf.data(), c.O,
                             workf.data(), yf.data(), ldy);
  for (size_t r = 0; r < c.N; ++r)
    for (size_t o = 0; o < c.O; ++o)
      got[r * c.O + o] = yf[r * ldy + o];
  EXPECT_LT(relErr(got, ref), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SpanForwardTest,
    ::testing::Values(SpanCase{67, 9, 13, 5, 3, true},   // tail block only
                      SpanCase{33, 25, 70, 5, 3, true},  // full + tail blocks
                      SpanCase{33, 25, 70, 5, 3, false}, // binary span search
                      // Blocks of 64 outputs (AVX-512 f64 / f32): exactly
                      // one, and two plus a tail; many input blocks.
                      SpanCase{19, 70, 64, 5, 3, true},
                      SpanCase{21, 17, 130, 5, 3, true},
                      SpanCase{20, 11, 64, 3, 2, true},  // quadratic
                      SpanCase{20, 11, 40, 4, 1, false}, // linear
                      SpanCase{12, 5, 33, 20, 3, true},  // large G: 1 input/block
                      SpanCase{9, 3, 8, 1, 0, true},     // k = 0, G = 1
                      // Cubic, whole 64-output blocks: rows grouped by
                      // window start (AVX-512), by compares for G <= 16
                      // (a partial last step of 16 rows), by a counting
                      // sort above; a masked tail.
                      SpanCase{45, 11, 128, 16, 3, true},
                      SpanCase{150, 7, 64, 20, 3, true},
                      SpanCase{37, 6, 67, 5, 3, false}));

// y' = J x' with the span-local input Jacobian equals the reference JVP
// along an input tangent (weights fixed), on interior, end and outside
// spans; regrouping the dense packed weights gives the span layout exactly.
TEST_P(SpanForwardTest, JacobianTimesInputTangentIsTheJvp) {
  const SpanCase c = GetParam();
  std::mt19937 rng(26 + c.I + c.O + c.G);
  Layer l = makeLayer(c.I, c.O, c.G, c.k, c.uniform, rng);
  const size_t K = c.I * (c.G + c.k + 1), ldj = c.O + 1;
  auto x = randomVector(c.N * c.I, rng, -3, 3);
  auto xt = randomVector(c.N * c.I, rng);
  std::vector<double> aux(kan_grid_aux_size(c.I, c.G, c.k)), W(c.O * K),
      Ws(K * c.O), Wd(K * c.O), J(c.N * c.I * ldj), yt(c.N * c.O),
      ref(c.N * c.O);
  ASSERT_EQ(kan_grid_prepare_f64(c.I, c.G, c.k, l.grid.data(), aux.data()),
            KAN_OK);
  kan_pack_weights_f64(c.O, c.I, c.G, c.k, l.wb.data(), l.c.data(),
                       l.s.data(), W.data(), K);
  kan_pack_weights_span_f64(c.O, c.I, c.G, c.k, l.wb.data(), l.c.data(),
                            l.s.data(), Ws.data(), c.O);
  kan_weights_dense_to_span_f64(c.O, c.I, c.G, c.k, W.data(), K, Wd.data(),
                                c.O);
  EXPECT_EQ(Ws, Wd);
  kan_layer_jacobian_span_f64(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, x.data(),
                              c.I, l.grid.data(), aux.data(), Wd.data(), c.O,
                              J.data(), ldj);
  kan_jacobian_apply_f64(c.N, c.I, c.O, J.data(), ldj, xt.data(), c.I,
                         yt.data(), c.O);
  kanref_layer_jvp(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, x.data(), xt.data(),
                   l.grid.data(), l.wb.data(), l.c.data(), l.s.data(), nullptr,
                   nullptr, nullptr, ref.data());
  EXPECT_LT(relErr(yt, ref), 1e-12);

  // Rows padded to a multiple of 8 (zeros): full vector blocks only. The
  // same sums mathematically; the tail loop of the unpadded rows may be
  // vectorised and contracted differently, so only to rounding.
  const size_t ld8 = (c.O + 7) / 8 * 8;
  std::vector<double> J8(c.N * c.I * ld8, 7.0), yt8(c.N * c.O);
  kan_layer_jacobian_span_f64(c.N, c.I, c.O, c.G, c.k, KAN_ACT_SILU, x.data(),
                              c.I, l.grid.data(), aux.data(), Wd.data(), c.O,
                              J8.data(), ld8);
  for (size_t e = 0; e < J8.size(); ++e)
    if (e % ld8 >= c.O)
      ASSERT_EQ(J8[e], 0.0);
  kan_jacobian_apply_f64(c.N, c.I, c.O, J8.data(), ld8, xt.data(), c.I,
                         yt8.data(), c.O);
  EXPECT_LT(relErr(yt8, yt), 1e-14);
}

// All directions row by row in one call (strided directions, a row stride
// wider than the row) against one call per direction on the same Jacobian.
TEST(Layer, JacobianApplyMultiMatchesOneCallPerDirection) {
  const size_t N = 21, I = 7, O = 19, D = 5, ldj = 24, ldxt = 9, ldy = 20;
  const int G = 5, k = 3;
  std::mt19937 rng(77);
  Layer l = makeLayer(I, O, G, k, false, rng);
  auto x = randomVector(N * I, rng, -3, 3);
  auto xt = randomVector(D * N * ldxt, rng, -1, 1);
  std::vector<double> aux(kan_grid_aux_size(I, G, k)), W(I * (G + k + 1) * O),
      J(N * I * ldj), y1(D * N * ldy, -1.0), ym(D * N * ldy, -1.0);
  ASSERT_EQ(kan_grid_prepare_f64(I, G, k, l.grid.data(), aux.data()), KAN_OK);
  kan_pack_weights_span_f64(O, I, G, k, l.wb.data(), l.c.data(), l.s.data(),
                            W.data(), O);
  kan_layer_jacobian_span_f64(N, I, O, G, k, KAN_ACT_SILU, x.data(), I,
                              l.grid.data(), aux.data(), W.data(), O, J.data(),
                              ldj);
  for (size_t d = 0; d < D; ++d)
    kan_jacobian_apply_f64(N, I, O, J.data(), ldj, xt.data() + d * N * ldxt,
                           ldxt, y1.data() + d * N * ldy, ldy);
  kan_jacobian_apply_multi_f64(N, I, O, D, J.data(), ldj, xt.data(), ldxt,
                               N * ldxt, ym.data(), ldy, N * ldy);
  EXPECT_LT(relErr(ym, y1), 1e-14);
  // Outside each row's O outputs nothing is written.
  for (size_t e = 0; e < ym.size(); ++e)
    if (e % ldy >= O)
      ASSERT_EQ(ym[e], -1.0);
  // Float version, same shapes.
  std::vector<float> Jf(J.begin(), J.end()), xtf(xt.begin(), xt.end()),
      y1f(D * N * ldy), ymf(D * N * ldy);
  for (size_t d = 0; d < D; ++d)
    kan_jacobian_apply_f32(N, I, O, Jf.data(), ldj, xtf.data() + d * N * ldxt,
                           ldxt, y1f.data() + d * N * ldy, ldy);
  kan_jacobian_apply_multi_f32(N, I, O, D, Jf.data(), ldj, xtf.data(), ldxt,
                               N * ldxt, ymf.data(), ldy, N * ldy);
  for (size_t e = 0; e < ymf.size(); ++e)
    ASSERT_NEAR(ymf[e], y1f[e], 1e-5f * (1 + std::fabs(y1f[e])));
}

// Rows go through the vector closed form a vector at a time (the last group
// padded) or through the recursion, by their x alone: splitting the rows into
// calls (as row tiles and threads do) gives the same bits. kan-train's
// thread-count invariance rests on this.
TEST(Layer, SpanKernelsDoNotDependOnTheRowSplit) {
  const size_t N = 37, I = 6, O = 19;
  const int G = 5, k = 3;
  for (bool uniform : {true, false}) {
    std::mt19937 rng(31 + uniform);
    Layer l = makeLayer(I, O, G, k, uniform, rng);
    const size_t K = I * (G + k + 1), ldj = 24;
    auto x = randomVector(N * I, rng, -3, 3);
    x[5] = std::nan("");
    std::vector<double> aux(kan_grid_aux_size(I, G, k)), W(K * O),
        work(kan_layer_forward_work_size_f64(N, G, k) / sizeof(double) + 1),
        y(N * O), ys(N * O), J(N * I * ldj), Js(N * I * ldj), P(N * K),
        Ps(N * K);
    ASSERT_EQ(kan_grid_prepare_f64(I, G, k, l.grid.data(), aux.data()), KAN_OK);
    kan_pack_weights_span_f64(O, I, G, k, l.wb.data(), l.c.data(), l.s.data(),
                              W.data(), O);
    kan_layer_forward_span_f64(N, I, O, G, k, KAN_ACT_SILU, x.data(), I,
                               l.grid.data(), aux.data(), W.data(), O,
                               work.data(), y.data(), O);
    kan_layer_jacobian_span_f64(N, I, O, G, k, KAN_ACT_SILU, x.data(), I,
                                l.grid.data(), aux.data(), W.data(), O,
                                J.data(), ldj);
    kan_pack_features_f64(N, I, G, k, KAN_ACT_SILU, x.data(), I,
                          l.grid.data(), aux.data(), P.data(), K);
    for (size_t r0 = 0, step = 1; r0 < N; r0 += step, step = step % 7 + 2) {
      const size_t m = std::min(step, N - r0);
      kan_layer_forward_span_f64(m, I, O, G, k, KAN_ACT_SILU,
                                 x.data() + r0 * I, I, l.grid.data(),
                                 aux.data(), W.data(), O, work.data(),
                                 ys.data() + r0 * O, O);
      kan_layer_jacobian_span_f64(m, I, O, G, k, KAN_ACT_SILU,
                                  x.data() + r0 * I, I, l.grid.data(),
                                  aux.data(), W.data(), O,
                                  Js.data() + r0 * I * ldj, ldj);
      kan_pack_features_f64(m, I, G, k, KAN_ACT_SILU, x.data() + r0 * I, I,
                            l.grid.data(), aux.data(), Ps.data() + r0 * K, K);
    }
    auto same = [](const std::vector<double> &a, const std::vector<double> &b) {
      return std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
    };
    EXPECT_TRUE(same(y, ys)) << "uniform=" << uniform;
    EXPECT_TRUE(same(J, Js)) << "uniform=" << uniform;
    EXPECT_TRUE(same(P, Ps)) << "uniform=" << uniform;
  }
}

// The same for whole output blocks and a tail (with AVX-512 the rows of an
// input are grouped by window start, and the grouping depends on which rows
// a call has): each row's outputs must not depend on the split, in f64 and
// f32.
template <typename T, typename Fwd, typename Size, typename Prep,
          typename Pack>
static void expectSpanRowSplitSameBits(Fwd fwd, Size size, Prep prep,
                                       Pack pack) {
  const size_t N = 53, I = 9, O = 69;
  const int G = 5, k = 3;
  std::mt19937 rng(77);
  Layer l = makeLayer(I, O, G, k, true, rng);
  auto xd = randomVector(N * I, rng, -3, 3);
  xd[7] = std::nan("");
  auto cv = [](const std::vector<double> &v) {
    return std::vector<T>(v.begin(), v.end());
  };
  std::vector<T> x = cv(xd), grid = cv(l.grid), wb = cv(l.wb), c = cv(l.c),
                 s = cv(l.s), aux(kan_grid_aux_size(I, G, k)),
                 W(I * (G + k + 1) * O), y(N * O), ys(N * O),
                 work(size(N, G, k) / sizeof(T) + 1);
  ASSERT_EQ(prep(I, G, k, grid.data(), aux.data()), KAN_OK);
  pack(O, I, G, k, wb.data(), c.data(), s.data(), W.data(), O);
  fwd(N, I, O, G, k, KAN_ACT_SILU, x.data(), I, grid.data(), aux.data(),
      W.data(), O, work.data(), y.data(), O);
  for (size_t r0 = 0, step = 1; r0 < N; r0 += step, step = step * 2 % 37 + 1) {
    const size_t m = std::min(step, N - r0);
    fwd(m, I, O, G, k, KAN_ACT_SILU, x.data() + r0 * I, I, grid.data(),
        aux.data(), W.data(), O, work.data(), ys.data() + r0 * O, O);
  }
  EXPECT_EQ(std::memcmp(y.data(), ys.data(), y.size() * sizeof(T)), 0);
}

TEST(Layer, SpanForwardBlocksDoNotDependOnTheRowSplit) {
  expectSpanRowSplitSameBits<double>(
      kan_layer_forward_span_f64, kan_layer_forward_work_size_f64,
      kan_grid_prepare_f64, kan_pack_weights_span_f64);
  expectSpanRowSplitSameBits<float>(
      kan_layer_forward_span_f32, kan_layer_forward_work_size_f32,
      kan_grid_prepare_f32, kan_pack_weights_span_f32);
}

TEST(Layer, SpanForwardEmptyInputsGiveZero) {
  std::vector<double> y(6, 3.0);
  kan_layer_forward_span_f64(2, 0, 3, 5, 3, KAN_ACT_SILU, nullptr, 0, nullptr,
                             nullptr, nullptr, 3, nullptr, y.data(), 3);
  for (double v : y)
    EXPECT_EQ(v, 0.0);
}

TEST(Losses, ReferenceLossJvpsMatchFiniteDifferences) {
  std::mt19937 rng(24);
  const size_t N = 5, C = 4;
  auto z = randomVector(N * C, rng, -2, 2), y = randomVector(N * C, rng),
       zt = randomVector(N * C, rng);
  std::vector<int64_t> labels = {0, 3, 1, 2, 3};
  const double h = 1e-6;
  auto zp = z, zm = z;
  for (size_t e = 0; e < z.size(); ++e)
    zp[e] += h * zt[e], zm[e] -= h * zt[e];
  double fd = (kanref_mse(N * C, zp.data(), y.data()) -
               kanref_mse(N * C, zm.data(), y.data())) / (2 * h);
  EXPECT_NEAR(kanref_mse_jvp(N * C, z.data(), y.data(), zt.data()), fd, 1e-8);
  fd = (kanref_softmax_xent(N, C, zp.data(), labels.data()) -
        kanref_softmax_xent(N, C, zm.data(), labels.data())) / (2 * h);
  EXPECT_NEAR(kanref_softmax_xent_jvp(N, C, z.data(), labels.data(), zt.data()),
              fd, 1e-8);
}

} // namespace

namespace {
// The allocator setting the tools apply before calling generated code.
// (AddressSanitizer replaces malloc, and its mallopt applies nothing.)
TEST(Runtime, KeepFreedMemoryAppliesOnGlibc) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(kan_keep_freed_memory(), 1);
#elif defined(__GLIBC__)
  const int applied = kan_keep_freed_memory();
  EXPECT_TRUE(applied == 0 || applied == 1);
#else
  EXPECT_EQ(kan_keep_freed_memory(), 0);
#endif
}
} // namespace

namespace {
// All directions in one call give the per-direction kernel's sums bit for
// bit, through blocks of eight, four and single rows (m = 21).
TEST(Layer, SparseTangentMultiEqualsPerDirection) {
  std::mt19937 rng(27);
  const size_t m = 21, K = 50, O = 6, D = 3, nz = 40;
  auto A = randomVector(m * K, rng);
  std::vector<uint32_t> rowptr(D * (O + 1)), cols(D * nz);
  std::vector<double> vals(D * nz);
  for (size_t d = 0; d < D; ++d) {
    std::vector<uint32_t> o(nz), c(nz);
    auto v = randomVector(nz, rng);
    for (size_t e = 0; e < nz; ++e)
      o[e] = rng() % O, c[e] = rng() % K;
    kan_coo_to_csr_f64(nz, o.data(), c.data(), v.data(), O,
                       rowptr.data() + d * (O + 1), cols.data() + d * nz,
                       vals.data() + d * nz);
  }
  auto init = randomVector(D * m * O, rng);
  std::vector<double> one = init, all = init;
  for (size_t d = 0; d < D; ++d)
    kan_sparse_tangent_csr_f64(m, A.data(), K, O, rowptr.data() + d * (O + 1),
                               cols.data() + d * nz, vals.data() + d * nz,
                               one.data() + d * m * O, O);
  kan_sparse_tangent_csr_multi_f64(m, A.data(), K, O, D, rowptr.data(), O + 1,
                                   cols.data(), vals.data(), nz, all.data(), O,
                                   m * O);
  EXPECT_EQ(one, all);
  EXPECT_NE(one, init);
}
} // namespace

namespace {
// The span-local forward's activation (a branch-free exp): y = silu(x) with
// one input, base weight 1 and zero splines, across the range and beyond.
TEST(Layer, SpanForwardSiluAcrossTheRange) {
  const int G = 5, k = 3;
  const std::vector<double> xs = {-1000, -745, -20, -1, -0.25, 0,    1e-300,
                                  0.5,   3,    40,  700, 1000,  NAN};
  std::vector<double> grid = uniformGrid(1, G, k), wb = {1.0},
                      c(G + k, 0.0), aux(kan_grid_aux_size(1, G, k)),
                      W(G + k + 1), y(xs.size()),
                      work(kan_layer_forward_work_size_f64(xs.size(), G, k) /
                               sizeof(double) + 1);
  ASSERT_EQ(kan_grid_prepare_f64(1, G, k, grid.data(), aux.data()), KAN_OK);
  kan_pack_weights_span_f64(1, 1, G, k, wb.data(), c.data(), nullptr,
                            W.data(), 1);
  kan_layer_forward_span_f64(xs.size(), 1, 1, G, k, KAN_ACT_SILU, xs.data(), 1,
                             grid.data(), aux.data(), W.data(), 1, work.data(),
                             y.data(), 1);
  for (size_t e = 0; e + 1 < xs.size(); ++e) {
    const double ref = xs[e] / (1 + std::exp(-xs[e]));
    if (xs[e] < -700)
      EXPECT_LT(std::fabs(y[e]), 1e-300) << xs[e];
    else
      EXPECT_NEAR(y[e], ref, 4e-16 * std::fabs(ref)) << xs[e];
  }
  EXPECT_TRUE(std::isnan(y.back()));
}
} // namespace

namespace {
// kan_pack_weights_span's layout, value for value, against its definition:
// row i (G+k+1) + 0 of W holds base_w[o][i], row i (G+k+1) + 1 + j holds
// spline_w[o][i][j] scaler[o][i] (one multiply, so exact). Output and input
// counts one short of, at and past whole vector blocks (4 doubles, 8
// floats, 64-byte lines), window sizes below, at and past one block, a
// padded stride (must stay untouched) and no scaler.
template <typename T, typename Pack>
void checkSpanPacking(Pack pack, size_t O, size_t I, int G, int k,
                      bool withScaler) {
  std::mt19937 rng(O * 31 + I * 7 + G);
  const size_t nb = G + k, ldw = O + 3, rows = I * (nb + 1);
  auto toT = [](const std::vector<double> &v) {
    return std::vector<T>(v.begin(), v.end());
  };
  const std::vector<T> wb = toT(randomVector(O * I, rng)),
                       c = toT(randomVector(O * I * nb, rng)),
                       s = toT(randomVector(O * I, rng, 0.5, 1.5));
  std::vector<T> W(rows * ldw, T(-7));
  pack(O, I, G, k, wb.data(), c.data(), withScaler ? s.data() : nullptr,
       W.data(), ldw);
  for (size_t i = 0; i < I; ++i)
    for (size_t o = 0; o < ldw; ++o) {
      const size_t r0 = i * (nb + 1);
      if (o >= O) {
        for (size_t r = 0; r <= nb; ++r)
          ASSERT_EQ(W[(r0 + r) * ldw + o], T(-7)) << "padding touched";
        continue;
      }
      ASSERT_EQ(W[r0 * ldw + o], wb[o * I + i]) << O << "x" << I << " " << o;
      for (size_t j = 0; j < nb; ++j) {
        const T sc = withScaler ? s[o * I + i] : T(1);
        ASSERT_EQ(W[(r0 + 1 + j) * ldw + o], c[(o * I + i) * nb + j] * sc)
            << O << "x" << I << " nb " << nb << " at o " << o << " i " << i
            << " j " << j;
      }
    }
}

TEST(Layer, SpanWeightPackingIsTheLayout) {
  for (size_t O : {1, 3, 7, 8, 9, 16, 17, 64, 70})
    for (size_t I : {1, 5, 8, 11, 16, 19})
      for (auto [G, k] : {std::pair{5, 3}, {3, 2}, {1, 0}, {10, 3}})
        for (bool sc : {true, false}) {
          checkSpanPacking<double>(kan_pack_weights_span_f64, O, I, G, k, sc);
          checkSpanPacking<float>(kan_pack_weights_span_f32, O, I, G, k, sc);
        }
}
} // namespace
