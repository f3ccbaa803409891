//===- gemm_test.cpp - GEMM, packing and sparse tangent kernels ------------===//
#include "kan_reference.h"
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace kantest;

namespace {

template <typename T>
void naiveGemm(size_t m, size_t n, size_t k, double alpha, const T *A,
               size_t lda, const T *B, size_t ldb, double beta, T *C,
               size_t ldc) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      long double s = 0;
      for (size_t p = 0; p < k; ++p)
        s += (long double)A[i * lda + p] * B[j * ldb + p];
      C[i * ldc + j] = static_cast<T>(
          beta == 0 ? alpha * s : alpha * s + beta * (long double)C[i * ldc + j]);
    }
}

template <typename T>
void checkGemm(size_t m, size_t n, size_t k, size_t padA, size_t padB,
               size_t padC, double alpha, double beta, bool portable) {
  std::mt19937 rng(m * 7 + n * 13 + k);
  const size_t lda = k + padA, ldb = k + padB, ldc = n + padC;
  auto A64 = randomVector(m * lda + 1, rng), B64 = randomVector(n * ldb + 1, rng),
       C64 = randomVector(m * ldc + 1, rng);
  std::vector<T> A(A64.begin(), A64.end()), B(B64.begin(), B64.end()),
      C(C64.begin(), C64.end());
  if (beta == 0) // beta == 0 must not read C (BLAS convention)
    for (size_t i = 0; i < m; ++i)
      C[i * ldc] = std::numeric_limits<T>::quiet_NaN();
  auto expect = C;
  naiveGemm<T>(m, n, k, alpha, A.data(), lda, B.data(), ldb, beta,
               expect.data(), ldc);
  if constexpr (sizeof(T) == 8) {
    (portable ? kan_gemm_nt_portable_f64 : kan_gemm_nt_f64)(
        m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  } else {
    (portable ? kan_gemm_nt_portable_f32 : kan_gemm_nt_f32)(
        m, n, k, (float)alpha, A.data(), lda, B.data(), ldb, (float)beta,
        C.data(), ldc);
  }
  const double tol = (sizeof(T) == 8 ? 1e-14 : 1e-5) * (k + 1);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j)
      ASSERT_NEAR(C[i * ldc + j], expect[i * ldc + j], tol)
          << m << "x" << n << "x" << k << " at " << i << "," << j;
    for (size_t j = n; j < ldc && i * ldc + j < C.size(); ++j)
      ASSERT_EQ(C[i * ldc + j], expect[i * ldc + j]) << "padding touched";
  }
}

TEST(Gemm, AllSmallSizesAndLeadingDims) {
  const size_t sizes[] = {1, 3, 17, 64, 65};
  for (bool portable : {true, false})
    for (size_t m : sizes)
      for (size_t n : sizes)
        for (size_t k : sizes) {
          checkGemm<double>(m, n, k, 0, 0, 0, 1.0, 0.0, portable);
          checkGemm<double>(m, n, k, 3, 1, 5, -0.5, 1.25, portable);
          checkGemm<float>(m, n, k, 1, 7, 2, 2.0, 0.5, portable);
        }
}

TEST(Gemm, LargeCrossesAllBlockBoundaries) {
  // > MC, > KC and not multiples of MR/NR.
  checkGemm<double>(157, 301, 611, 3, 5, 7, 1.0, 1.0, true);
  checkGemm<float>(301, 157, 530, 1, 0, 3, 1.0, 0.0, true);
}

TEST(Gemm, EdgesOfEveryLevelsTiles) {
  // The register tiles differ per kernel level (12 x 16 / 12 x 32 with
  // AVX-512, 6 x 8 / 6 x 16 with AVX2, 6 x 4 / 6 x 8 with SSE2) and so do the
  // row blocks (MC = 12 MR for f64, 24 MR for f32): sizes one past and one
  // short of those multiples, and past two KC = 256 blocks, for every beta
  // mode (0, 1, other) at whichever level runs.
  for (size_t m : {143, 145, 289, 293})
    for (size_t n : {15, 33, 65}) {
      checkGemm<double>(m, n, 513, 1, 2, 3, 1.0, 0.0, false);
      checkGemm<double>(m, n, 300, 0, 0, 0, -1.5, 1.0, false);
      checkGemm<float>(m, n, 513, 2, 1, 0, 1.0, 0.0, false);
      checkGemm<float>(m, n, 77, 0, 3, 1, 0.5, -2.0, false);
    }
  checkGemm<float>(577, 31, 520, 0, 0, 0, 1.0, 0.0, false);
  checkGemm<float>(575, 97, 260, 1, 1, 1, 1.0, 1.0, false);
}

// A packed once (kan_gemm_pack_a) and reused gives the same bits as the
// portable kernel packing it per product: the same micro-kernel runs on the
// same packed values. Sizes past MC and KC (several packed blocks), edge
// tiles, a padded lda, tiny products (no packing) and a missing buffer.
template <typename T> void checkPackedA(size_t m, size_t n, size_t k, T beta) {
  std::mt19937 rng(m * 5 + n * 3 + k);
  const size_t lda = k + 3, ldb = k + 1, ldc = n + 2;
  auto A64 = randomVector(m * lda, rng), B64 = randomVector(n * ldb, rng),
       C64 = randomVector(m * ldc, rng);
  std::vector<T> A(A64.begin(), A64.end()), B(B64.begin(), B64.end()),
      C(C64.begin(), C64.end()), expect = C, noBuffer = C;
  std::vector<T> Ap;
  if constexpr (sizeof(T) == 8) {
    Ap.resize(kan_gemm_packed_a_size_f64(m, k) + 1);
    kan_gemm_pack_a_f64(m, k, A.data(), lda, Ap.data());
    kan_gemm_nt_portable_f64(m, n, k, 1, A.data(), lda, B.data(), ldb, beta,
                             expect.data(), ldc);
    kan_gemm_nt_packed_a_f64(m, n, k, A.data(), lda, Ap.data(), B.data(), ldb,
                             beta, C.data(), ldc);
    kan_gemm_nt_packed_a_f64(m, n, k, A.data(), lda, nullptr, B.data(), ldb,
                             beta, noBuffer.data(), ldc);
  } else {
    Ap.resize(kan_gemm_packed_a_size_f32(m, k) + 1);
    kan_gemm_pack_a_f32(m, k, A.data(), lda, Ap.data());
    kan_gemm_nt_portable_f32(m, n, k, 1, A.data(), lda, B.data(), ldb, beta,
                             expect.data(), ldc);
    kan_gemm_nt_packed_a_f32(m, n, k, A.data(), lda, Ap.data(), B.data(), ldb,
                             beta, C.data(), ldc);
    kan_gemm_nt_packed_a_f32(m, n, k, A.data(), lda, nullptr, B.data(), ldb,
                             beta, noBuffer.data(), ldc);
  }
  for (size_t i = 0; i < C.size(); ++i) {
    ASSERT_EQ(C[i], expect[i]) << m << "x" << n << "x" << k << " at " << i;
    ASSERT_EQ(noBuffer[i], expect[i]) << m << "x" << n << "x" << k;
  }
}

TEST(Gemm, PackedAOnceSameBitsAsPortable) {
  for (size_t m : {1, 7, 145, 293})
    for (size_t n : {1, 15, 64})
      for (size_t k : {3, 300, 530}) {
        checkPackedA<double>(m, n, k, 1.0);
        checkPackedA<double>(m, n, k, 0.0);
        checkPackedA<float>(m, n, k, 1.0f);
        checkPackedA<float>(m, n, k, 0.0f);
      }
}

// Several directions against one A: the same bits as one kan_gemm_nt each.
TEST(Gemm, DirectionsSameBitsAsOneProductEach) {
  const size_t nd = 3, m = 150, n = 20, k = 400, lda = k + 1;
  std::mt19937 rng(11);
  auto A = randomVector(m * lda, rng), B = randomVector(nd * n * k, rng),
       C = randomVector(nd * m * n, rng);
  auto expect = C;
  for (size_t d = 0; d < nd; ++d)
    kan_gemm_nt_f64(m, n, k, 1, A.data(), lda, B.data() + d * n * k, k, 1,
                    expect.data() + d * m * n, n);
  kan_gemm_nt_directions_f64(nd, m, n, k, A.data(), lda, B.data(), k, n * k, 1,
                             C.data(), n, m * n);
  EXPECT_EQ(C, expect);
}

TEST(Gemm, DegenerateSizes) {
  std::vector<double> C = {1, 2, 3, 4};
  kan_gemm_nt_f64(2, 2, 0, 1.0, nullptr, 1, nullptr, 1, 2.0, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{2, 4, 6, 8}));
  kan_gemm_nt_f64(0, 2, 3, 1.0, nullptr, 3, nullptr, 3, 2.0, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{2, 4, 6, 8}));
  C[0] = std::nan("");
  kan_gemm_nt_f64(2, 2, 0, 1.0, nullptr, 1, nullptr, 1, 0.0, C.data(), 2);
  EXPECT_EQ(C, (std::vector<double>{0, 0, 0, 0}));
}

TEST(Pack, FeaturesMatchNaiveConstruction) {
  const int G = 5, k = 3;
  const size_t in = 7, m = 33, K = in * (G + k + 1), ldp = K + 3;
  std::mt19937 rng(11);
  auto grid = randomGrid(in, G, k, rng);
  auto x = randomVector(m * (in + 2), rng, -1.6, 1.6);
  std::vector<double> aux(kan_grid_aux_size(in, G, k));
  ASSERT_EQ(kan_grid_prepare_f64(in, G, k, grid.data(), aux.data()), KAN_OK);
  for (int act : {KAN_ACT_SILU, KAN_ACT_IDENTITY}) {
    std::vector<double> panel(m * ldp, -99.0);
    kan_pack_features_f64(m, in, G, k, act, x.data(), in + 2, grid.data(),
                          aux.data(), panel.data(), ldp);
    std::vector<double> xc(m * in), B(m * in * (G + k));
    for (size_t r = 0; r < m; ++r)
      for (size_t i = 0; i < in; ++i)
        xc[r * in + i] = x[r * (in + 2) + i];
    kanref_basis(m, in, G, k, xc.data(), grid.data(), B.data());
    for (size_t r = 0; r < m; ++r) {
      for (size_t i = 0; i < in; ++i)
        ASSERT_NEAR(panel[r * ldp + i], kanref_act(act, xc[r * in + i]), 1e-15);
      for (size_t c = 0; c < in * (G + k); ++c)
        ASSERT_NEAR(panel[r * ldp + in + c], B[r * in * (G + k) + c], 1e-14);
      for (size_t c = K; c < ldp; ++c)
        ASSERT_EQ(panel[r * ldp + c], -99.0) << "wrote past K";
    }
  }
}

class PackJvp : public ::testing::TestWithParam<int> {};

// G = 120 exceeds the kernel's on-stack row and takes the span-only path.
INSTANTIATE_TEST_SUITE_P(GridSizes, PackJvp, ::testing::Values(6, 120));

TEST_P(PackJvp, FeatureTangentsReuseOneEvaluation) {
  const int G = GetParam(), k = 3;
  const size_t in = 5, m = 20, K = in * (G + k + 1), ndir = 3;
  std::mt19937 rng(12);
  auto grid = uniformGrid(in, G, k);
  auto x = randomVector(m * in, rng, -1.4, 1.4);
  auto xt = randomVector(ndir * m * in, rng);
  std::vector<double> aux(kan_grid_aux_size(in, G, k));
  ASSERT_EQ(kan_grid_prepare_f64(in, G, k, grid.data(), aux.data()), KAN_OK);
  std::vector<double> A(m * K), A2(m * K), T(ndir * m * K);
  kan_pack_features_jvp_f64(m, in, G, k, KAN_ACT_SILU, x.data(), in, ndir,
                            xt.data(), in, m * in, grid.data(), aux.data(),
                            A.data(), K, T.data(), K, m * K);
  kan_pack_features_f64(m, in, G, k, KAN_ACT_SILU, x.data(), in, grid.data(),
                        aux.data(), A2.data(), K);
  EXPECT_EQ(A, A2);
  std::vector<double> dB(m * in * (G + k));
  kanref_basis_deriv(m, in, G, k, x.data(), grid.data(), dB.data());
  for (size_t d = 0; d < ndir; ++d)
    for (size_t r = 0; r < m; ++r)
      for (size_t i = 0; i < in; ++i) {
        const double xtv = xt[d * m * in + r * in + i];
        const double *row = T.data() + d * m * K + r * K;
        ASSERT_NEAR(row[i], kanref_act_deriv(0, x[r * in + i]) * xtv, 1e-15);
        for (int j = 0; j < G + k; ++j)
          ASSERT_NEAR(row[in + i * (G + k) + j],
                      dB[(r * in + i) * (G + k) + j] * xtv, 1e-12);
      }
  // panel == NULL skips the primal.
  std::vector<double> T2(T.size());
  kan_pack_features_jvp_f64(m, in, G, k, KAN_ACT_SILU, x.data(), in, ndir,
                            xt.data(), in, m * in, grid.data(), aux.data(),
                            nullptr, 0, T2.data(), K, m * K);
  EXPECT_EQ(T, T2);
}

TEST(Pack, WeightsAndTangents) {
  const int G = 4, k = 2;
  const size_t in = 3, out = 5, nb = G + k, K = in * (nb + 1), ldw = K + 2;
  std::mt19937 rng(13);
  auto wb = randomVector(out * in, rng), c = randomVector(out * in * nb, rng),
       s = randomVector(out * in, rng), wbt = randomVector(out * in, rng),
       ct = randomVector(out * in * nb, rng), st = randomVector(out * in, rng);
  std::vector<double> W(out * ldw), Wt(out * ldw), W1(out * ldw);
  kan_pack_weights_f64(out, in, G, k, wb.data(), c.data(), s.data(), W.data(),
                       ldw);
  kan_pack_weights_f64(out, in, G, k, wb.data(), c.data(), nullptr, W1.data(),
                       ldw);
  kan_pack_weights_jvp_f64(out, in, G, k, c.data(), s.data(), wbt.data(),
                           ct.data(), st.data(), Wt.data(), ldw);
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) {
      EXPECT_EQ(W[o * ldw + i], wb[o * in + i]);
      EXPECT_EQ(Wt[o * ldw + i], wbt[o * in + i]);
      for (size_t j = 0; j < nb; ++j) {
        const size_t oi = o * in + i;
        EXPECT_EQ(W[o * ldw + in + i * nb + j], c[oi * nb + j] * s[oi]);
        EXPECT_EQ(W1[o * ldw + in + i * nb + j], c[oi * nb + j]);
        EXPECT_NEAR(Wt[o * ldw + in + i * nb + j],
                    ct[oi * nb + j] * s[oi] + c[oi * nb + j] * st[oi], 1e-15);
      }
    }
  // All tangents NULL: W' = 0.
  kan_pack_weights_jvp_f64(out, in, G, k, c.data(), s.data(), nullptr,
                           nullptr, nullptr, Wt.data(), ldw);
  for (size_t o = 0; o < out; ++o)
    for (size_t q = 0; q < K; ++q)
      EXPECT_EQ(Wt[o * ldw + q], 0.0);
}

TEST(SparseTangent, EqualsDenseProductWithSparseWeights) {
  const size_t m = 37, K = 90, O = 11, lda = K + 1, ldy = O + 2;
  std::mt19937 rng(14);
  auto A = randomVector(m * lda, rng);
  const size_t size = O * K, nnz = kan_sparse_count(size, 0.05);
  std::vector<uint32_t> idx(nnz), rows(nnz), cols(nnz);
  std::vector<int32_t> sg(nnz);
  ASSERT_EQ(kan_perturb_sparse(9, 1, 0, 1, size, nnz, idx.data(), sg.data()),
            KAN_OK);
  std::vector<double> vals(nnz), Wt(O * K, 0.0);
  for (size_t e = 0; e < nnz; ++e) {
    rows[e] = idx[e] / K;
    cols[e] = idx[e] % K;
    vals[e] = 0.25 * sg[e];
    Wt[idx[e]] += vals[e]; // duplicates add
  }
  std::vector<double> Y(m * ldy, 1.0), Yd(m * ldy, 1.0);
  kan_sparse_tangent_f64(m, A.data(), lda, nnz, cols.data(), rows.data(),
                         vals.data(), Y.data(), ldy);
  naiveGemm<double>(m, O, K, 1.0, A.data(), lda, Wt.data(), K, 1.0, Yd.data(),
                    ldy);
  for (size_t e = 0; e < Y.size(); ++e)
    ASSERT_NEAR(Y[e], Yd[e], 1e-13) << e;
  // The CSR form (grouped by output row) computes the same product.
  std::vector<uint32_t> rowptr(O + 1), ccols(nnz);
  std::vector<double> cvals(nnz), Yc(m * ldy, 1.0);
  kan_coo_to_csr_f64(nnz, rows.data(), cols.data(), vals.data(), O,
                     rowptr.data(), ccols.data(), cvals.data());
  ASSERT_EQ(rowptr[O], nnz);
  for (size_t o = 0; o < O; ++o)
    for (uint32_t e = rowptr[o]; e < rowptr[o + 1]; ++e)
      ASSERT_LT(ccols[e], K);
  kan_sparse_tangent_csr_f64(m, A.data(), lda, O, rowptr.data(), ccols.data(),
                             cvals.data(), Yc.data(), ldy);
  for (size_t e = 0; e < Y.size(); ++e)
    ASSERT_NEAR(Yc[e], Yd[e], 1e-13) << e;
  std::vector<float> Af(A.begin(), A.end()), vf(vals.begin(), vals.end()),
      Yf(m * ldy, 1.0f);
  kan_sparse_tangent_f32(m, Af.data(), lda, nnz, cols.data(), rows.data(),
                         vf.data(), Yf.data(), ldy);
  for (size_t e = 0; e < Y.size(); ++e)
    ASSERT_NEAR(Yf[e], Yd[e], 1e-5) << e;
}

} // namespace
