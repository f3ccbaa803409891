//===- isa_test.cpp - kernel level selection (KAN_ISA) --------------------===//
//
// The lit suite runs this binary once per level (KAN_ISA unset and
// KAN_ISA=baseline, see test/Unit/lit.cfg.py), so these checks see both a
// forced and a chosen level.
//
//===----------------------------------------------------------------------===//

#include "kanrt/kanrt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

TEST(Isa, NamesAndFlags) {
  EXPECT_STREQ(kan_isa_name(KAN_ISA_BASELINE), "baseline");
  EXPECT_STREQ(kan_isa_name(KAN_ISA_AVX2), "avx2");
  EXPECT_STREQ(kan_isa_name(KAN_ISA_AVX512), "avx512");
  EXPECT_STREQ(kan_isa_name(KAN_ISA_NATIVE), "native");
  EXPECT_STREQ(kan_isa_name(static_cast<kan_isa>(17)), "unknown");
#if defined(__x86_64__)
  EXPECT_STREQ(kan_isa_cflags(KAN_ISA_BASELINE), "-march=x86-64");
  EXPECT_STREQ(kan_isa_cflags(KAN_ISA_AVX2), "-march=x86-64-v3");
  EXPECT_STREQ(kan_isa_cflags(KAN_ISA_AVX512), "-march=x86-64-v4");
#endif
}

TEST(Isa, ActiveLevelFollowsTheEnvironment) {
  const kan_isa best = kan_isa_best(), active = kan_isa_active();
  EXPECT_LE(active, best);
  const char *env = std::getenv("KAN_ISA");
  std::string want = env ? env : "";
  if (want.empty() || want == "auto") {
    EXPECT_EQ(active, best);
    return;
  }
  // A forced level the build and CPU have is taken as is.
  for (int i = KAN_ISA_BASELINE; i <= KAN_ISA_AVX512; ++i)
    if (want == kan_isa_name(static_cast<kan_isa>(i)) && i <= best)
      EXPECT_EQ(active, static_cast<kan_isa>(i));
  // The choice is fixed for the process: changing the variable later has no
  // effect on a run already under way.
  setenv("KAN_ISA", "avx512", 1);
  EXPECT_EQ(kan_isa_active(), active);
  setenv("KAN_ISA", want.c_str(), 1);
}

#if defined(__x86_64__) && defined(__GNUC__)
TEST(Isa, BestLevelMatchesTheCpu) {
  const kan_isa best = kan_isa_best();
  if (best == KAN_ISA_NATIVE)
    GTEST_SKIP() << "built with KANRT_NATIVE";
  __builtin_cpu_init();
  // Every x86-64 build of kanrt carries the three levels (GCC >= 11).
  if (__builtin_cpu_supports("x86-64-v4"))
    EXPECT_EQ(best, KAN_ISA_AVX512);
  else if (__builtin_cpu_supports("x86-64-v3"))
    EXPECT_EQ(best, KAN_ISA_AVX2);
  else
    EXPECT_EQ(best, KAN_ISA_BASELINE);
}
#endif
