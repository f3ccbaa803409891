//===- rng_test.cpp - Philox KAT and perturbation mapping tests -----------===//
#include "kanrt/kanrt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <vector>

extern "C" int kanrt_c_abi_check(void);
extern "C" int kan_normal_blocks_at(int isa, uint64_t seed, uint32_t b0,
                                    size_t nb, uint32_t dir, uint32_t step,
                                    uint32_t stream, double *out);

namespace {

TEST(Abi, UsableFromC99) { EXPECT_EQ(kanrt_c_abi_check(), 0); }

struct Kat {
  uint32_t ctr[4];
  uint32_t key[2];
  uint32_t expected[4];
};

// Known-answer vectors of Random123 (file examples/kat_vectors, lines
// "philox4x32 10 ..."): counter words, key words, expected output.
const Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, KnownAnswerVectors) {
  for (const Kat &kat : kKats) {
    uint32_t out[4];
    kan_philox4x32_10(kat.ctr, kat.key, out);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(out[i], kat.expected[i]) << "word " << i;
  }
}

TEST(Rng, Uniform53IsOpenInterval) {
  EXPECT_GT(kan_uniform53(0, 0), 0.0);
  EXPECT_LT(kan_uniform53(0xffffffffu, 0xffffffffu), 1.0);
  EXPECT_EQ(kan_uniform53(0, 0), std::ldexp(1.0, -53));
  EXPECT_EQ(kan_uniform53(0xffffffffu, 0xffffffffu),
            1.0 - std::ldexp(1.0, -53));
  EXPECT_EQ(kan_uniform53(0x80000000u, 0), 0.5 + std::ldexp(1.0, -53));
}

// Box-Muller of kanrt/rng.h with libm's log, cos and sin: the runtime's own
// log and sin/cos kernels (fdlibm's) must agree within a few ulp, so the
// draws are N(0,1) to double precision.
TEST(Rng, NormalCloseToLibmBoxMuller) {
  const size_t n = 20001;
  std::vector<double> v(n);
  ASSERT_EQ(kan_perturb_dense_f64(42, 3, 1, 5, KAN_DIST_NORMAL, n, v.data()),
            KAN_OK);
  for (uint32_t b = 0; 2 * b < n; ++b) {
    uint32_t ctr[4] = {b, 1, 3, 5}, key[2] = {42, 0}, w[4];
    kan_philox4x32_10(ctr, key, w);
    double u1 = kan_uniform53(w[0], w[1]), u2 = kan_uniform53(w[2], w[3]);
    double r = std::sqrt(-2.0 * std::log(u1)), phi = 6.283185307179586 * u2;
    double tol = 4e-15 * std::max(r, 1.0);
    ASSERT_NEAR(v[2 * b], r * std::cos(phi), tol) << b;
    if (2 * b + 1 < n)
      ASSERT_NEAR(v[2 * b + 1], r * std::sin(phi), tol) << b;
  }
}

// The first draws of one stream, pinned: a log recorded by one build
// replays with another only if these never change.
TEST(Rng, NormalStreamPinned) {
  double v[4];
  ASSERT_EQ(kan_perturb_dense_f64(42, 3, 1, 5, KAN_DIST_NORMAL, 4, v), KAN_OK);
  const double expect[4] = {0x1.0802256aa7febp-4, -0x1.d54b102442996p-2,
                            -0x1.84c59a2136744p-1, 0x1.9bb5d4887093cp-1};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(v[i], expect[i]) << i;
}

// Replay across kernel levels needs the same normals from every level's
// copy of the generator (vectorised 2, 4 or 8 wide): compared bit for bit
// on all levels this CPU and build have, with run lengths that leave every
// possible vector remainder, and a block counter that wraps.
TEST(Rng, NormalSameBitsAtEveryLevel) {
  const uint32_t starts[] = {0, 7, 0xfffffff0u};
  for (uint32_t b0 : starts)
    for (size_t nb : {size_t(1), size_t(3), size_t(8), size_t(17),
                      size_t(100)}) {
      std::vector<double> base(2 * nb), other(2 * nb);
      ASSERT_EQ(kan_normal_blocks_at(KAN_ISA_BASELINE, 0xdeadbeef12345ULL,
                                     b0, nb, 2, 9, 4, base.data()),
                1);
      for (int isa : {KAN_ISA_AVX2, KAN_ISA_AVX512}) {
        if (isa > static_cast<int>(kan_isa_best()))
          continue;
        std::fill(other.begin(), other.end(), 0.0);
        if (!kan_normal_blocks_at(isa, 0xdeadbeef12345ULL, b0, nb, 2, 9, 4,
                                  other.data()))
          continue;
        for (size_t i = 0; i < 2 * nb; ++i)
          ASSERT_EQ(std::memcmp(&base[i], &other[i], sizeof(double)), 0)
              << "level " << isa << " block " << b0 << "+" << i / 2;
      }
    }
}

TEST(Rng, RangeEqualsSliceOfWhole) {
  for (int dist : {KAN_DIST_NORMAL, KAN_DIST_RADEMACHER}) {
    std::vector<double> all(1000), part(333);
    ASSERT_EQ(kan_perturb_dense_f64(7, 1, 2, 3, dist, all.size(), all.data()),
              KAN_OK);
    ASSERT_EQ(kan_perturb_dense_range_f64(7, 1, 2, 3, dist, 301, part.size(),
                                          part.data()),
              KAN_OK);
    for (size_t i = 0; i < part.size(); ++i)
      ASSERT_EQ(part[i], all[301 + i]);
    std::vector<float> f(1000);
    ASSERT_EQ(kan_perturb_dense_f32(7, 1, 2, 3, dist, f.size(), f.data()),
              KAN_OK);
    for (size_t i = 0; i < f.size(); ++i)
      ASSERT_EQ(f[i], static_cast<float>(all[i]));
  }
}

TEST(Rng, RademacherBitMapping) {
  std::vector<double> v(300);
  ASSERT_EQ(kan_perturb_dense_f64(0x123456789abcdefULL, 9, 4, 2,
                                  KAN_DIST_RADEMACHER, v.size(), v.data()),
            KAN_OK);
  for (size_t e = 0; e < v.size(); ++e) {
    uint32_t ctr[4] = {uint32_t(e >> 7), 4, 9, 2};
    uint32_t key[2] = {0x89abcdefu, 0x01234567u}, w[4];
    kan_philox4x32_10(ctr, key, w);
    double expect = ((w[(e >> 5) & 3] >> (e & 31)) & 1) ? -1.0 : 1.0;
    ASSERT_EQ(v[e], expect) << e;
  }
}

TEST(Rng, DenseMoments) {
  const size_t n = 200000;
  std::vector<double> v(n);
  for (int dist : {KAN_DIST_NORMAL, KAN_DIST_RADEMACHER}) {
    ASSERT_EQ(kan_perturb_dense_f64(11, 0, 0, 0, dist, n, v.data()), KAN_OK);
    double m = 0, s2 = 0;
    for (double x : v)
      m += x, s2 += x * x;
    m /= n;
    s2 /= n;
    EXPECT_NEAR(m, 0.0, 0.01);
    EXPECT_NEAR(s2, 1.0, 0.02);
  }
}

TEST(Rng, DifferentCountersDiffer) {
  std::vector<double> a(64), b(64);
  kan_perturb_dense_f64(1, 0, 0, 0, KAN_DIST_NORMAL, 64, a.data());
  for (int which = 0; which < 4; ++which) {
    kan_perturb_dense_f64(which == 0 ? 2 : 1, which == 1, which == 2,
                          which == 3, KAN_DIST_NORMAL, 64, b.data());
    EXPECT_NE(a, b) << which;
  }
}

TEST(Rng, RejectsBadArguments) {
  double v[2];
  EXPECT_EQ(kan_perturb_dense_f64(1, 0, 0, 0, 99, 2, v),
            KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(kan_perturb_dense_range_f64(1, 0, 0, 0, KAN_DIST_NORMAL,
                                        size_t(1) << 33, 2, v),
            KAN_ERR_INVALID_ARGUMENT);
  uint32_t idx[1];
  int32_t sg[1];
  EXPECT_EQ(kan_perturb_sparse(1, 0, 0, 0, 0, 1, idx, sg),
            KAN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(kan_last_error()), "");
}

TEST(Sparse, CountIsDocumentedRounding) {
  EXPECT_EQ(kan_sparse_count(1000, 0.002), 2u);
  EXPECT_EQ(kan_sparse_count(1000, 0.0025), 3u); // 2.5 + 0.5 -> 3
  EXPECT_EQ(kan_sparse_count(10, 1e-9), 1u);     // at least one draw
  EXPECT_EQ(kan_sparse_count(10, 1.0), 10u);
  EXPECT_EQ(kan_sparse_count(0, 0.5), 0u);
  EXPECT_EQ(kan_sparse_count(10, 0.0), 0u);
  EXPECT_EQ(kan_sparse_count(10, 1.5), 0u);
  EXPECT_EQ(kan_sparse_count(451584, 2e-3), 903u);
}

TEST(Sparse, DrawsMatchDocumentedMapping) {
  const size_t m = 9, size = 1000;
  std::vector<uint32_t> idx(m);
  std::vector<int32_t> sg(m);
  ASSERT_EQ(kan_perturb_sparse(77, 5, 3, 4, size, m, idx.data(), sg.data()),
            KAN_OK);
  for (size_t e = 0; e < m; ++e) {
    uint32_t ctr[4] = {uint32_t(e >> 1), 3, 5, 4}, key[2] = {77, 0}, w[4];
    kan_philox4x32_10(ctr, key, w);
    const uint32_t *ps = w + 2 * (e & 1);
    EXPECT_EQ(idx[e], uint32_t((uint64_t(ps[0]) * size) >> 32));
    EXPECT_EQ(sg[e], (ps[1] & 1) ? -1 : 1);
  }
}

TEST(Sparse, DistributionSanity) {
  // Positions uniform over 50 bins (chi-square with 49 dof, very loose
  // bound), signs balanced.
  const size_t size = 50, m = 100000;
  std::vector<uint32_t> idx(m);
  std::vector<int32_t> sg(m);
  ASSERT_EQ(kan_perturb_sparse(3, 1, 0, 0, size, m, idx.data(), sg.data()),
            KAN_OK);
  std::vector<double> hist(size);
  long sum = 0;
  for (size_t e = 0; e < m; ++e) {
    ASSERT_LT(idx[e], size);
    hist[idx[e]] += 1;
    sum += sg[e];
  }
  double chi2 = 0, expect = double(m) / size;
  for (double h : hist)
    chi2 += (h - expect) * (h - expect) / expect;
  EXPECT_LT(chi2, 120.0);
  EXPECT_LT(std::abs(double(sum)) / m, 0.02);
}

TEST(Sparse, HugeTensorCostsOnlyTheDraws) {
  // size 2^32 with 5 draws: no buffer of `size` exists anywhere, so the work
  // is O(m). Indices must cover the high range too.
  const size_t size = size_t(1) << 32;
  std::vector<uint32_t> idx(5);
  std::vector<int32_t> sg(5);
  ASSERT_EQ(kan_perturb_sparse(1, 2, 3, 4, size, 5, idx.data(), sg.data()),
            KAN_OK);
  bool high = false;
  for (uint32_t i : idx)
    high |= i > (1u << 31);
  EXPECT_TRUE(high);
}

} // namespace
