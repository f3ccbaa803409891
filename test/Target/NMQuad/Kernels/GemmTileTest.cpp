//===- GemmTileTest.cpp - Emitted tile kernels vs the C path --------------===//
#include "kan/Target/NMQuad/Kernels/GemmTile.h"
#include "nmcsim/TileCost.h"
#include "kan_nmc_tile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kan;
using namespace kan::nmquad;
using kan::nmcsim::bankBase;
using kan::nmcsim::CallArg;
using kan::nmcsim::estimateGemmTile;
using kan::nmcsim::PerfStats;
using kan::nmcsim::Simulator;

namespace {

std::string shapeName(const TileShape &s) {
  return (s.precision == TilePrecision::F64 ? "f64_" : "f32_") +
         std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
         std::to_string(s.kk);
}

/// Emits, simulates and compares one shape against kan_nmc_gemm_tile_*_c.
void checkShape(const TileShape &s, unsigned seed) {
  SCOPED_TRACE(shapeName(s));
  bool f64 = s.precision == TilePrecision::F64;
  std::string text = emitGemmTile(s);
  ASSERT_FALSE(text.empty());
  Simulator sim;
  ASSERT_TRUE(sim.loadAssembly(text)) << sim.diagnostics().front().str();

  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  size_t na = size_t(s.m) * s.kk, nb = size_t(s.kk) * s.n,
         nc = size_t(s.m) * s.n;
  std::vector<double> a(na), b(nb), c(nc);
  std::vector<float> af(na), bf(nb), cf(nc);
  for (size_t i = 0; i < na; ++i)
    af[i] = static_cast<float>(a[i] = dist(rng));
  for (size_t i = 0; i < nb; ++i)
    bf[i] = static_cast<float>(b[i] = dist(rng));
  for (size_t i = 0; i < nc; ++i)
    cf[i] = static_cast<float>(c[i] = dist(rng));
  // Three different banks, as the contract requires.
  const uint32_t aAddr = bankBase(3), bAddr = bankBase(5), cAddr = bankBase(6);
  if (f64) {
    sim.writeDoubles(aAddr, a.data(), na);
    sim.writeDoubles(bAddr, b.data(), nb);
    sim.writeDoubles(cAddr, c.data(), nc);
  } else {
    sim.writeFloats(aAddr, af.data(), na);
    sim.writeFloats(bAddr, bf.data(), nb);
    sim.writeFloats(cAddr, cf.data(), nc);
  }
  ASSERT_TRUE(
      sim.call(tileSymbol(s), {CallArg::word(aAddr), CallArg::word(bAddr),
                               CallArg::word(cAddr), CallArg::i32(s.m),
                               CallArg::i32(s.n), CallArg::i32(s.kk)}))
      << sim.error();

  if (f64) {
    std::vector<double> ref = c, got(nc);
    kan_nmc_gemm_tile_f64_c(a.data(), b.data(), ref.data(), s.m, s.n, s.kk);
    sim.readDoubles(cAddr, got.data(), nc);
    for (size_t i = 0; i < nc; ++i) {
      double scale = std::max(std::fabs(ref[i]), 1e-300);
      ASSERT_LT(std::fabs(got[i] - ref[i]) / scale, 1e-13) << "element " << i;
    }
  } else {
    std::vector<float> ref = cf, got(nc);
    kan_nmc_gemm_tile_f32_c(af.data(), bf.data(), ref.data(), s.m, s.n, s.kk);
    sim.readFloats(cAddr, got.data(), nc);
    for (size_t i = 0; i < nc; ++i) {
      // Relative to the magnitude of the summed terms: cancellation.
      int row = static_cast<int>(i) / s.n, col = static_cast<int>(i) % s.n;
      double mag = std::fabs(cf[i]);
      for (int k = 0; k < s.kk; ++k)
        mag += std::fabs(double(af[size_t(row) * s.kk + k]) *
                         bf[size_t(k) * s.n + col]);
      ASSERT_LE(std::fabs(double(got[i]) - ref[i]), 1e-5 * mag)
          << "element " << i;
    }
  }
}

TEST(NMQuadGemmTile, EveryF64ShapeMatchesCPath) {
  unsigned seed = 1;
  for (int kk : {1, 2, 7, 64})
    for (TileShape s : supportedTileShapes(TilePrecision::F64, kk))
      checkShape(s, seed++);
}

TEST(NMQuadGemmTile, MainF64TileAtFullDepth) {
  checkShape({24, 32, 256, TilePrecision::F64}, 99);
}

TEST(NMQuadGemmTile, EveryF32ShapeMatchesCPath) {
  unsigned seed = 100;
  for (int kk : {64, 128})
    for (TileShape s : supportedTileShapes(TilePrecision::F32, kk))
      checkShape(s, seed++);
}

TEST(NMQuadGemmTile, SupportAgreesWithRuntimeHeader) {
  for (int m = 0; m <= 30; ++m)
    for (int n : {16, 32, 64})
      for (int kk : {1, 63, 64, 128}) {
        TileShape d{m, n, kk, TilePrecision::F64};
        TileShape f{m, n, kk, TilePrecision::F32};
        EXPECT_EQ(isSupportedTile(d),
                  kan_nmc_gemm_tile_f64_has_asm(m, n, kk) != 0)
            << shapeName(d);
        EXPECT_EQ(isSupportedTile(f),
                  kan_nmc_gemm_tile_f32_has_asm(m, n, kk) != 0)
            << shapeName(f);
      }
}

TEST(NMQuadGemmTile, EmitterOutput) {
  TileShape s{24, 32, 64, TilePrecision::F64};
  std::string text = emitGemmTileF64(s);
  EXPECT_EQ(text, emitGemmTileF64(s)); // deterministic
  EXPECT_NE(text.find(".global _kan_nmc_gemm_tile_f64_24x32"),
            std::string::npos);
  EXPECT_NE(text.find("fpu 3 .double vreg7 = vreg0 * .retrive(vreg1) + vreg7;"),
            std::string::npos);
  EXPECT_NE(text.find("if <>0 delayed goto"), std::string::npos);
  EXPECT_EQ(tileSymbol(s), "_kan_nmc_gemm_tile_f64_24x32");
  EXPECT_EQ(emitGemmTileF64({5, 32, 8, TilePrecision::F64}), "");
  EXPECT_EQ(emitGemmTileF32({12, 32, 64, TilePrecision::F32}), "");
  std::string why;
  EXPECT_FALSE(isSupportedTile({12, 64, 96, TilePrecision::F32}, &why));
  EXPECT_NE(why.find("multiple of 64"), std::string::npos);
  TileLayout l = tileLayout(s);
  EXPECT_EQ(l.cells, 4);
  EXPECT_EQ(l.rowsPerCell, 6);
  TileLayout l3 = tileLayout({3, 32, 8, TilePrecision::F64});
  EXPECT_EQ(l3.cells, 3);
  EXPECT_EQ(l3.rowsPerCell, 1);
}

// The estimate's counters follow from the emitted code, shape by shape.
TEST(NMQuadGemmTile, EstimateCountsMatchTheSchedule) {
  for (TileShape s : supportedTileShapes(TilePrecision::F64, 16)) {
    SCOPED_TRACE(shapeName(s));
    PerfStats st;
    KernelEstimate e = estimateGemmTile(s, {}, &st);
    ASSERT_TRUE(e.valid) << e.error;
    TileLayout l = tileLayout(s);
    uint64_t m = s.m, kk = s.kk, cells = l.cells, r = l.rowsPerCell;
    EXPECT_EQ(st.fpuArith, m * kk);
    EXPECT_EQ(st.fmaLanes, m * kk * 32);
    EXPECT_EQ(e.flops, 2.0 * m * 32 * kk);
    EXPECT_EQ(st.flops, e.flops);
    EXPECT_EQ(st.fpuLoads, m + kk * 2 * cells); // C, A columns, Bt rows
    EXPECT_EQ(st.loadLanes, m * 32 + kk * cells * (r + 32));
    EXPECT_EQ(st.fpuStores, m);
    EXPECT_EQ(st.storeLanes, m * 32);
    EXPECT_EQ(st.bankLanes[0], m * kk);          // A in bank 0
    EXPECT_EQ(st.bankLanes[1], kk * 32 * cells); // Bt in bank 1
    EXPECT_EQ(st.bankLanes[2], 2 * m * 32);      // C in bank 2
    EXPECT_EQ(st.branches, kk + 2);              // guard, loop, return
    EXPECT_EQ(st.takenBranches, kk - 1 + 1);
    if (r != 32) {
      EXPECT_EQ(st.repHistogram.at(static_cast<int>(r)), kk * cells);
    }
    EXPECT_EQ(st.fpuCopies, 0u);
    EXPECT_GT(e.cycles, 0u);
    EXPECT_NEAR(e.efficiency, e.gflops / e.peakGflops, 1e-12);
  }
  for (TileShape s : supportedTileShapes(TilePrecision::F32, 128)) {
    SCOPED_TRACE(shapeName(s));
    PerfStats st;
    KernelEstimate e = estimateGemmTile(s, {}, &st);
    ASSERT_TRUE(e.valid) << e.error;
    uint64_t m = s.m, kk = s.kk, cells = tileLayout(s).cells;
    EXPECT_EQ(st.fpuArith, m * kk);
    EXPECT_EQ(st.flops, 2.0 * m * 64 * kk);
    EXPECT_EQ(st.fpuLoads, m + m * (kk / 64) + kk * cells);
    EXPECT_EQ(e.peakGflops, 32.0);
  }
}

// The model's verdict on the main tile (a regression guard on the schedule
// under the default PerfConfig, not a timing).
TEST(NMQuadGemmTile, MainTileModelledAtEightyPercent) {
  KernelEstimate e = estimateGemmTile({24, 32, 256, TilePrecision::F64});
  ASSERT_TRUE(e.valid) << e.error;
  EXPECT_GE(e.steadyEfficiency, 0.80);
  EXPECT_LE(e.steadyEfficiency, 1.0);
  EXPECT_GE(e.efficiency, 0.78);
  EXPECT_NE(e.toJson().find("\"steady_efficiency\""), std::string::npos);
}

TEST(NMQuadGemmTile, EstimateRejectsBadInput) {
  EXPECT_FALSE(estimateGemmTile({24, 32, 0, TilePrecision::F64}).valid);
  EXPECT_FALSE(estimateGemmTile({7, 32, 16, TilePrecision::F64}).valid);
  KernelEstimate big = estimateGemmTile({24, 32, 512, TilePrecision::F64});
  EXPECT_FALSE(big.valid);
  EXPECT_NE(big.error.find("bank"), std::string::npos);
}

// The target has no cost model of its own: --report prices kernels through
// the one a tool registers, here the simulator's.
TEST(NMQuadCostModel, TimingModelIsRegisteredNotBuiltIn) {
  EXPECT_EQ(getKernelCostModel(), nullptr);
  kan::nmcsim::registerTimingCostModel();
  const KernelCostModel *model = getKernelCostModel();
  ASSERT_NE(model, nullptr);
  EXPECT_NE(model->describe().find("tools/nmc-sim"), std::string::npos);
  KernelEstimate e = model->estimate({24, 32, 256, TilePrecision::F64});
  ASSERT_TRUE(e.valid) << e.error;
  EXPECT_GE(e.steadyEfficiency, 0.80);
  EXPECT_NE(e.toJson().find("\"stats\":{\"cycles\""), std::string::npos)
      << e.toJson();
  EXPECT_FALSE(model->estimate({7, 32, 16, TilePrecision::F64}).valid);
}

} // namespace
