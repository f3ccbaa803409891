//===- AxpyTest.cpp - The emitted axpy kernel vs the C loop ---------------===//
#include "nmcsim/Simulator.h"
#include "nmcsim/TileCost.h"
#include "kan/Target/NMQuad/Kernels/Axpy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace kan::nmquad;
using kan::nmcsim::bankBase;
using kan::nmcsim::CallArg;
using kan::nmcsim::Simulator;

namespace {

// Every path of the kernel: groups of four 32-blocks, 1-3 blocks left, a
// tail of n % 32 (rep vlen), and n = 0. Elements past n stay untouched.
TEST(NMQuadAxpy, MatchesCLoop) {
  std::string text = emitAxpyF64();
  for (int n : {0, 1, 5, 31, 32, 33, 64, 96, 127, 128, 129, 200, 256, 1000}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Simulator sim;
    ASSERT_TRUE(sim.loadAssembly(text)) << sim.diagnostics().front().str();
    std::mt19937 rng(n + 1);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    const int pad = 8;
    std::vector<double> x(n + pad), y(n + pad);
    for (double &v : x)
      v = dist(rng);
    for (double &v : y)
      v = dist(rng);
    double a = dist(rng);
    sim.writeDoubles(bankBase(3), &a, 1);
    sim.writeDoubles(bankBase(1), x.data(), x.size());
    sim.writeDoubles(bankBase(2), y.data(), y.size());
    ASSERT_TRUE(sim.call(axpySymbol(), {CallArg::word(bankBase(3)),
                                        CallArg::word(bankBase(1)),
                                        CallArg::word(bankBase(2)),
                                        CallArg::i32(n)}))
        << sim.error();
    std::vector<double> got(n + pad);
    sim.readDoubles(bankBase(2), got.data(), got.size());
    for (int i = 0; i < n + pad; ++i) {
      double want = i < n ? y[i] + a * x[i] : y[i];
      double scale = std::fabs(y[i]) + std::fabs(a * x[i]);
      ASSERT_LE(std::fabs(got[i] - want), 1e-15 * scale) << "element " << i;
    }
  }
}

// The four cells share the groups: a group costs about what one block does
// on one cell, so 128 elements take well under 4x the cycles of 32.
TEST(NMQuadAxpy, CellsRunSideBySide) {
  double c32 = kan::nmcsim::estimateAxpyCycles(32), c128 = kan::nmcsim::estimateAxpyCycles(128);
  ASSERT_GT(c32, 0);
  ASSERT_GT(c128, 0);
  EXPECT_LT(c128, 2.5 * c32);
  EXPECT_LT(kan::nmcsim::estimateAxpyCycles(-1), 0);
}

TEST(NMQuadAxpy, EmitterOutput) {
  std::string text = emitAxpyF64();
  EXPECT_NE(text.find(".global _kan_nmc_axpy_f64"), std::string::npos);
  EXPECT_NE(text.find("fpu 3 .double vreg2 = vreg0 * .retrive(vreg1) + vreg2;"),
            std::string::npos);
  EXPECT_NE(text.find("fpu 0 rep vlen [ar2++] = vreg2;"), std::string::npos);
}

} // namespace
