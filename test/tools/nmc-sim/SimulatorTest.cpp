//===- SimulatorTest.cpp - NMC4 simulator against hand-computed results ---===//
#include "nmcsim/Simulator.h"
#include "kan_nmc_tile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace kan::nmcsim;

namespace {

constexpr uint32_t kSentinel = 0xFFFFFFFFu;

/// A bare instruction stream as a program: from label `_t` to its `return`.
std::string bareProgram(const std::string &body) {
  return ".global _t\n_t:\n" + body + "\nreturn;\n";
}

/// Loads `text` into `sim`, failing with the first diagnostic.
::testing::AssertionResult loaded(Simulator &sim, const std::string &text) {
  if (sim.loadAssembly(text))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << (sim.diagnostics().empty() ? std::string("no diagnostic")
                                       : sim.diagnostics().front().str());
}

/// A fresh simulator per test and the ways the tests drive it.
class NMCSimTest : public ::testing::Test {
protected:
  ::testing::AssertionResult load(const std::string &text) {
    return loaded(sim, text);
  }

  /// Runs `body` as a bare program, with a stack whose return address is
  /// the sentinel, failing with the simulator's error.
  ::testing::AssertionResult runBare(const std::string &body) {
    if (::testing::AssertionResult r = load(bareProgram(body)); !r)
      return r;
    uint32_t sp = bankBase(7) + 100;
    sim.writeWord(sp, kSentinel);
    sim.writeWord(sp + 1, 0);
    sim.setAr(7, sp + 2);
    if (sim.runFrom("_t"))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << sim.error();
  }

  /// Calls global `symbol`, failing with the simulator's error.
  ::testing::AssertionResult call(const std::string &symbol,
                                  std::vector<CallArg> args = {}) {
    if (sim.call(symbol, args))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << sim.error();
  }

  /// Element i of vreg v of FPU cell `cell` as a double.
  double lane(int cell, int v, int i) const {
    uint64_t w = sim.vregWord(cell, v, i);
    double d;
    std::memcpy(&d, &w, sizeof d);
    return d;
  }

  /// Half h (0: the lower address) of that element as a float.
  float halfLane(int cell, int v, int i, int h) const {
    uint32_t w = static_cast<uint32_t>(sim.vregWord(cell, v, i) >> (32 * h));
    float f;
    std::memcpy(&f, &w, sizeof f);
    return f;
  }

  Simulator sim;
};

// The suites share the fixture.
using NMCSimScalar = NMCSimTest;
using NMCSimControl = NMCSimTest;
using NMCSimFpu = NMCSimTest;
using NMCSimCall = NMCSimTest;
using NMCSimPerf = NMCSimTest;

TEST_F(NMCSimScalar, Arithmetic) {
  ASSERT_TRUE(runBare(R"(
    gr0 = 5; gr1 = gr0 + 3; gr2 = gr1 << 2; gr3 = gr2 >> 1;
    gr4 = gr3 - 20; ar0 = 100; ar0 += 6; ar1 = ar0 - gr0; gr5 = -gr0;
    gr6 = gr1 and 6; gr7 = true; gr7 >>= 28; ar2 = 0x10; ar2 -= 1;
    ar3 = ar2; ar3++; gr1--; ar4 = gr1; gr6 <<= 1; ar5 = ar0 + 2;)"));
  EXPECT_EQ(sim.gr(0), 5u);
  EXPECT_EQ(sim.gr(1), 7u);
  EXPECT_EQ(sim.gr(2), 32u);
  EXPECT_EQ(sim.gr(3), 16u);
  EXPECT_EQ(static_cast<int32_t>(sim.gr(4)), -4);
  EXPECT_EQ(sim.ar(0), 106u);
  EXPECT_EQ(sim.ar(1), 101u);
  EXPECT_EQ(static_cast<int32_t>(sim.gr(5)), -5);
  EXPECT_EQ(sim.gr(6), 0u); // (8 and 6) << 1
  EXPECT_EQ(sim.gr(7), 15u);
  EXPECT_EQ(sim.ar(2), 15u);
  EXPECT_EQ(sim.ar(3), 16u);
  EXPECT_EQ(sim.ar(4), 7u);
  EXPECT_EQ(sim.ar(5), 108u);
}

TEST_F(NMCSimScalar, MemoryAddressingModes) {
  for (uint32_t i = 0; i < 16; ++i)
    sim.writeWord(0x100 + i, 1000 + i);
  ASSERT_TRUE(runBare(R"(
    ar0 = 0x100; gr0 = [ar0++]; gr1 = [ar0++];
    ar1 = 0x108; gr2 = [--ar1];
    ar2 = 0x100; gr3 = 4; gr4 = [ar2++gr3]; gr5 = [ar2];
    ar3 = 0x100; gr6 = [ar3+=3]; gr7 = [ar3-2];
    ar4 = 0x200; [ar4++] = gr0; [ar4] = gr1; ar5 = 0x10A; gr3 = [ar5-=1];)"));
  EXPECT_EQ(sim.gr(0), 1000u);
  EXPECT_EQ(sim.gr(1), 1001u);
  EXPECT_EQ(sim.ar(0), 0x102u);
  EXPECT_EQ(sim.gr(2), 1007u);
  EXPECT_EQ(sim.ar(1), 0x107u);
  EXPECT_EQ(sim.gr(4), 1000u);
  EXPECT_EQ(sim.gr(5), 1004u);
  EXPECT_EQ(sim.ar(2), 0x104u);
  EXPECT_EQ(sim.gr(6), 1003u);
  EXPECT_EQ(sim.gr(7), 1001u);
  EXPECT_EQ(sim.ar(3), 0x103u);
  EXPECT_EQ(sim.readWord(0x200), 1000u);
  EXPECT_EQ(sim.readWord(0x201), 1001u);
  EXPECT_EQ(sim.gr(3), 1009u);
}

TEST_F(NMCSimScalar, PushPopOrder) {
  ASSERT_TRUE(runBare(R"(
    ar7 = 0x300; ar1 = 11; gr1 = 22; push ar1, gr1; ar1 = 0; gr1 = 0;
    gr2 = [ar7-1]; gr3 = [ar7-2]; pop ar1, gr1; gr4 = ar7;
    ar7 = 0x1C066;)"));
  EXPECT_EQ(sim.gr(2), 22u); // gr pushed last, at the higher address
  EXPECT_EQ(sim.gr(3), 11u);
  EXPECT_EQ(sim.ar(1), 11u);
  EXPECT_EQ(sim.gr(1), 22u);
  EXPECT_EQ(sim.gr(4), 0x300u);
}

TEST_F(NMCSimControl, ConditionsAndUndelayedLoop) {
  ASSERT_TRUE(runBare(R"(
    gr0 = 0; gr1 = 5;
LOOP:
    gr0 = gr0 + 2;
    gr1--;
    if <>0 goto LOOP;
    gr2 = 0; gr3 = -3; gr3 = gr3 + 0;
    if < goto NEG;
    gr2 = 99;
NEG:
    if >= goto SKIP;
    gr2 = gr2 + 1;
SKIP:
    gr4 = 1; gr4;
    if <= goto SKIP2;
    gr5 = 7;
SKIP2:
    gr6 = 0; gr6 = gr6 + 0;
    if > goto SKIP3;
    gr7 = 8;
SKIP3:
    nul;)"));
  EXPECT_EQ(sim.gr(0), 10u);
  EXPECT_EQ(sim.gr(2), 1u);
  EXPECT_EQ(sim.gr(5), 7u);
  EXPECT_EQ(sim.gr(7), 8u);
}

TEST_F(NMCSimControl, DelayedBranchRunsTwoDelaySlots) {
  ASSERT_TRUE(runBare(R"(
    gr0 = 3; gr1 = 0; gr2 = 0;
LOOP:
    gr0--;
    if <>0 delayed goto LOOP;
    gr1 = gr1 + 1;
    gr2 = gr2 + 10;
    delayed goto OUT;
    gr3 = 1;
    gr4 = 2;
    gr5 = 77;
OUT:
    nul;)"));
  EXPECT_EQ(sim.gr(1), 3u); // delay slots run on every pass, taken or not
  EXPECT_EQ(sim.gr(2), 30u);
  EXPECT_EQ(sim.gr(3), 1u);
  EXPECT_EQ(sim.gr(4), 2u);
  EXPECT_EQ(sim.gr(5), 0u);
}

TEST_F(NMCSimControl, CallAndDelayedReturn) {
  ASSERT_TRUE(runBare(R"(
    gr0 = 1;
    call SUB;
    gr0 = gr0 + 100;
    delayed goto END;
    nul;
    nul;
SUB:
    gr0 = gr0 << 3;
    delayed return;
    gr1 = 5;
    gr2 = 6;
    gr3 = 7;
END:
    nul;)"));
  EXPECT_EQ(sim.gr(0), 108u);
  EXPECT_EQ(sim.gr(1), 5u);
  EXPECT_EQ(sim.gr(2), 6u);
  EXPECT_EQ(sim.gr(3), 0u);
}

TEST_F(NMCSimFpu, LoadsStoresStridesAndVlen) {
  double src[8];
  for (int i = 0; i < 8; ++i)
    src[i] = 1.5 * i;
  sim.writeDoubles(bankBase(1), src, 8);
  ASSERT_TRUE(runBare(R"(
    ar0 = 0x4000; gr0 = 4;
    fpu 0 rep 4 vreg0 = [ar0++];
    ar1 = 0x4000; fpu 1 rep 2 vreg3 = [ar1++gr0];
    gr1 = 2; vlen = gr1; ar2 = 0x4000; fpu 2 rep vlen vreg7 = [ar2];
    ar3 = 0x8000; fpu 0 rep 4 [ar3++gr0] = vreg0;
    ar4 = 0x8100; fpu 1 rep 2 [ar4++] = vreg3;)"));
  EXPECT_EQ(sim.vregLength(0, 0), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(lane(0, 0, i), 1.5 * i);
  EXPECT_EQ(sim.ar(0), 0x4008u);
  EXPECT_EQ(lane(1, 3, 0), 0.0);
  EXPECT_EQ(lane(1, 3, 1), 3.0);
  EXPECT_EQ(sim.ar(1), 0x4008u);
  EXPECT_EQ(sim.vregLength(2, 7), 3);
  EXPECT_EQ(lane(2, 7, 2), 3.0);
  EXPECT_EQ(sim.ar(2), 0x4000u); // plain [ar2]: no write-back
  double out[8];
  sim.readDoubles(0x8000, out, 8);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_EQ(out[2], 1.5);
  EXPECT_EQ(out[4], 3.0);
  EXPECT_EQ(out[6], 4.5);
  sim.readDoubles(0x8100, out, 2);
  EXPECT_EQ(out[1], 3.0);
  EXPECT_EQ(sim.ar(4), 0x8104u);
}

TEST_F(NMCSimFpu, DoubleArithmeticAndRetrieve) {
  double x[4] = {1, 2, 3, 4}, y[4] = {10, 20, 30, 40}, s[3] = {2, -1, 0.5},
         one = 3;
  sim.writeDoubles(0x100, x, 4);
  sim.writeDoubles(0x200, y, 4);
  sim.writeDoubles(0x300, s, 3);
  sim.writeDoubles(0x400, &one, 1);
  ASSERT_TRUE(runBare(R"(
    ar0 = 0x100; ar1 = 0x200; ar2 = 0x300; ar3 = 0x400;
    fpu 0 rep 4 vreg0 = [ar0++];
    fpu 0 rep 4 vreg1 = [ar1++];
    fpu 0 rep 3 vreg7 = [ar2++];
    fpu 0 rep 1 vreg6 = [ar3];
    fpu 0 .double vreg2 = vreg0 * vreg1 + vreg1;
    fpu 0 .double vreg3 = vreg0 + vreg1;
    fpu 0 .double vreg4 = vreg1 - vreg0;
    fpu 0 .double vreg5 = -vreg0 * vreg1 + vreg1;
    fpu 1 vreg0 = fpu 0 vreg0;
    fpu 1 vreg2 = fpu 0 vreg1;
    fpu 1 vreg7 = fpu 0 vreg7;
    fpu 1 vreg6 = fpu 0 vreg6;
    fpu 1 .double vreg3 = vreg0 * .retrive(vreg7) + vreg2;
    fpu 1 .double vreg4 = vreg0 * .retrive(vreg7);
    fpu 1 .double vreg5 = vreg0 * .retrive(vreg7);
    fpu 1 .double vreg1 = vreg0 * .retrive(vreg7);
    fpu 1 .double vreg2 = vreg0 * .retrive(vreg6) + vreg0;
    fpu 1 .double vreg2 = vreg2 + .retrive(vreg6);)"));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(lane(0, 2, i), x[i] * y[i] + y[i]);
    EXPECT_EQ(lane(0, 3, i), x[i] + y[i]);
    EXPECT_EQ(lane(0, 4, i), y[i] - x[i]);
    EXPECT_EQ(lane(0, 5, i), -x[i] * y[i] + y[i]);
    // .retrive walks vreg7 one element per instruction and wraps.
    EXPECT_EQ(lane(1, 3, i), x[i] * 2 + y[i]);
    EXPECT_EQ(lane(1, 4, i), x[i] * -1);
    EXPECT_EQ(lane(1, 5, i), x[i] * 0.5);
    EXPECT_EQ(lane(1, 1, i), x[i] * 2);
    // A one-element register hands out the same value every time.
    EXPECT_EQ(lane(1, 2, i), x[i] * 3 + x[i] + 3);
  }
  EXPECT_EQ(sim.vregLength(1, 2), 4);
}

TEST_F(NMCSimFpu, FloatArithmeticRetrievesHalves) {
  float b[4] = {1, 2, 3, 4}, a[2] = {10, 100}, c[4] = {0.5f, 0.25f, 0, 1};
  sim.writeFloats(0x100, b, 4);
  sim.writeFloats(0x200, a, 2);
  sim.writeFloats(0x300, c, 4);
  ASSERT_TRUE(runBare(R"(
    ar0 = 0x100; ar1 = 0x200; ar2 = 0x300;
    fpu 2 rep 2 vreg0 = [ar0++];
    fpu 2 rep 1 vreg5 = [ar1++];
    fpu 2 rep 2 vreg2 = [ar2++];
    fpu 2 .float vreg2 = vreg0 * .retrive(vreg5) + vreg2;
    fpu 2 .float vreg3 = vreg0 * .retrive(vreg5);
    fpu 2 .float vreg4 = vreg0 * vreg0 - vreg0;)"));
  // Low half (lower address) first, each value broadcast to both halves.
  EXPECT_EQ(halfLane(2, 2, 0, 0), 10.5f);
  EXPECT_EQ(halfLane(2, 2, 0, 1), 20.25f);
  EXPECT_EQ(halfLane(2, 2, 1, 0), 30.0f);
  EXPECT_EQ(halfLane(2, 2, 1, 1), 41.0f);
  EXPECT_EQ(halfLane(2, 3, 0, 0), 100.0f);
  EXPECT_EQ(halfLane(2, 3, 1, 1), 400.0f);
  EXPECT_EQ(halfLane(2, 4, 1, 0), 6.0f);
}

struct RuntimeErrorCase {
  const char *body;
  const char *message;
};

class NMCSimRuntimeErrors : public ::testing::TestWithParam<RuntimeErrorCase> {
};

TEST_P(NMCSimRuntimeErrors, FailWithMessage) {
  SimConfig cfg;
  cfg.maxSteps = 10000;
  Simulator sim(cfg);
  ASSERT_TRUE(loaded(sim, bareProgram(GetParam().body)));
  EXPECT_FALSE(sim.call("_t", {}));
  EXPECT_NE(sim.error().find(GetParam().message), std::string::npos)
      << sim.error();
}

INSTANTIATE_TEST_SUITE_P(
    Programs, NMCSimRuntimeErrors,
    ::testing::Values(
        RuntimeErrorCase{"ar5 = 1; fpu 0 rep 2 vreg0 = [ar5++];",
                         "misaligned 64-bit read"},
        RuntimeErrorCase{"ar5 = 0x8000000; gr5 = [ar5];", "unmapped address"},
        RuntimeErrorCase{"ar5 = 0; fpu 0 rep 2 vreg0 = [ar5++]; "
                         "fpu 0 rep 4 [ar5++] = vreg0;",
                         "which holds 2"},
        RuntimeErrorCase{"ar5 = 0; fpu 0 rep 2 vreg0 = [ar5++]; "
                         "fpu 0 .double vreg1 = vreg0 * .retrive(vreg3);",
                         "reads an empty register"},
        RuntimeErrorCase{"fpu 0 .double vreg1 = vreg2 * vreg3;",
                         "holds no data"},
        RuntimeErrorCase{"ar5 = 0; fpu 0 rep 2 vreg0 = [ar5++]; "
                         "fpu 0 rep 4 vreg1 = [ar5++]; "
                         "fpu 0 .double vreg2 = vreg0 * vreg1 + vreg1; "
                         "fpu 0 .double vreg2 = vreg1 * vreg0;",
                         "holds 2 words"},
        RuntimeErrorCase{"ar5 = 0; fpu 0 rep 1 vreg0 = [ar5++]; "
                         "fpu 0 .double vreg1 = .retrive(vreg0) + "
                         ".retrive(vreg0);",
                         "no vector operand"},
        RuntimeErrorCase{"ar5 = 0; gr5 = 3; fpu 0 rep 2 vreg0 = [ar5++gr5];",
                         "odd stride"},
        RuntimeErrorCase{"delayed goto L; goto L; nul;\nL: nul;", "delay slot"},
        RuntimeErrorCase{"L: goto L;", "step limit"},
        RuntimeErrorCase{"gr0 = 1;", "callee-saved register gr0"},
        RuntimeErrorCase{"ar4 = 1;", "callee-saved register ar4"},
        RuntimeErrorCase{"ar5 = ar7; gr5 = 500; [ar5] = gr5; ar7 = ar7 + 2;",
                         "return to invalid address"},
        RuntimeErrorCase{"ar0 = 777; push ar0, gr0;",
                         "return to invalid address"}));

TEST_F(NMCSimCall, UnknownSymbolAndArguments) {
  ASSERT_TRUE(load(R"(
    .global _sum
_sum:
    push ar6, gr6;
    ar6 = ar7;
    push ar0, gr0;
    gr0 = [ar6-5];       // first argument, highest address
    gr7 = [ar6-6];
    gr7 = gr7 - gr0;     // second - first
    ar5 = ar6 - 8;       // 64-bit third argument, even-aligned
    gr6 = [ar5];
    pop ar0, gr0;
    pop ar6, gr6;
    return;
notglobal:
    return;
)"));
  EXPECT_FALSE(sim.call("notglobal", {}));
  EXPECT_NE(sim.error().find("not a .global"), std::string::npos);
  sim.setStackPointer(bankBase(7)); // even: the 64-bit value lands first
  ASSERT_TRUE(
      call("_sum", {CallArg::i32(3), CallArg::i32(10), CallArg::f64(2.0)}));
  EXPECT_EQ(sim.gr(7), 7u);
  uint64_t two;
  double d = 2.0;
  std::memcpy(&two, &d, sizeof two);
  EXPECT_EQ(sim.gr(6), static_cast<uint32_t>(two));
}

TEST_F(NMCSimPerf, CountsAndBankConflicts) {
  // Two cells stream from bank 1 at once (conflict), a third from bank 2.
  ASSERT_TRUE(load(R"(
    .global _p
_p:
    push ar0, gr0;
    ar0 = 0x4000;
    fpu 0 rep 32 vreg0 = [ar0++];
    ar0 = 0x4000;
    fpu 1 rep 32 vreg0 = [ar0++];
    ar0 = 0x8000;
    fpu 2 rep 16 vreg0 = [ar0++];
    fpu 0 .double vreg1 = vreg0 * .retrive(vreg0) + vreg0;
    fpu 2 .double vreg1 = vreg0 + vreg0;
    fpu 0 rep 32 [ar0++] = vreg1;
    pop ar0, gr0;
    return;
)"));
  ASSERT_TRUE(call("_p"));
  const PerfStats &s = sim.stats();
  EXPECT_EQ(s.fpuLoads, 3u);
  EXPECT_EQ(s.fpuStores, 1u);
  EXPECT_EQ(s.fpuArith, 2u);
  EXPECT_EQ(s.loadLanes, 80u);
  EXPECT_EQ(s.fmaLanes, 32u);
  EXPECT_EQ(s.flops, 2.0 * 32 + 16);
  EXPECT_EQ(s.repHistogram.at(32), 4u);
  EXPECT_EQ(s.repHistogram.at(16), 2u);
  EXPECT_EQ(s.bankConflicts, 1u);
  EXPECT_EQ(s.bankLanes[1], 64u);
  EXPECT_EQ(s.bankLanes[2], 16u + 32u);
  EXPECT_EQ(s.branches, 1u);
  EXPECT_GT(s.cycles, 64u); // the two bank-1 streams serialise
}

// The C path against a naive dot-product triple loop.
TEST(NMCTileC, MatchesNaiveTripleLoop) {
  const int m = 5, n = 7, kk = 9;
  double a[m * kk], b[kk * n], c[m * n], ref[m * n];
  float af[m * kk], bf[kk * n], cf[m * n];
  for (int i = 0; i < m * kk; ++i)
    af[i] = static_cast<float>(a[i] = std::sin(i + 1.0));
  for (int i = 0; i < kk * n; ++i)
    bf[i] = static_cast<float>(b[i] = std::cos(i * 0.7));
  for (int i = 0; i < m * n; ++i)
    cf[i] = static_cast<float>(c[i] = ref[i] = 0.1 * i);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < kk; ++k)
        s += a[i * kk + k] * b[k * n + j];
      ref[i * n + j] += s;
    }
  kan_nmc_gemm_tile_f64(a, b, c, m, n, kk);
  kan_nmc_gemm_tile_f32(af, bf, cf, m, n, kk);
  for (int i = 0; i < m * n; ++i) {
    EXPECT_NEAR(c[i], ref[i], 1e-13 * (1 + std::fabs(ref[i])));
    EXPECT_NEAR(cf[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])));
  }
  // Empty shapes leave C alone.
  kan_nmc_gemm_tile_f64(a, b, c, m, n, 0);
  kan_nmc_gemm_tile_f64(a, b, c, 0, n, kk);
  EXPECT_NEAR(c[0], ref[0], 1e-13);
}

TEST(NMCTileC, AsmShapePredicates) {
  EXPECT_TRUE(kan_nmc_gemm_tile_f64_has_asm(24, 32, 1));
  EXPECT_TRUE(kan_nmc_gemm_tile_f64_has_asm(3, 32, 100));
  EXPECT_FALSE(kan_nmc_gemm_tile_f64_has_asm(5, 32, 8));
  EXPECT_FALSE(kan_nmc_gemm_tile_f64_has_asm(28, 32, 8));
  EXPECT_FALSE(kan_nmc_gemm_tile_f64_has_asm(24, 16, 8));
  EXPECT_FALSE(kan_nmc_gemm_tile_f64_has_asm(24, 32, 0));
  EXPECT_TRUE(kan_nmc_gemm_tile_f32_has_asm(12, 64, 128));
  EXPECT_FALSE(kan_nmc_gemm_tile_f32_has_asm(12, 64, 96));
  EXPECT_FALSE(kan_nmc_gemm_tile_f32_has_asm(16, 64, 64));
  EXPECT_EQ(KAN_NMC_HAVE_ASM_TILES, 0); // host build: C loops
}

} // namespace
