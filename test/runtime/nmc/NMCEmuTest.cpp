//===- NMCEmuTest.cpp - tests of the NM Quad host emulation ---------------===//
//
// The sample GEMM pair on 1/4 chips x 1/4/16 cores, and every rule the
// emulation must turn into an error instead of a hang or silent corruption.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gemm_params.h"
#include "kan_nmc.h"
#include "kan_nmc_emu.h"
#include "kan_nmc_host.h"
#include "nm_quad_load.h"

extern "C" int kan_sample_gemm_host(unsigned nchips, unsigned ncores,
                                    const char *abs);

namespace {

/// Waits until the core leaves PROGRAM_PROGRESS; returns its status.
PL_Word waitStopped(PL_Access *a, int ms = 20000) {
  PL_Word status = PROGRAM_PROGRESS;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    EXPECT_EQ(PL_GetStatus(a, &status), PL_OK);
    if (status != PROGRAM_PROGRESS)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return status;
}

PL_Word resultOf(PL_Access *a) {
  PL_Word r = 0;
  EXPECT_EQ(PL_GetResult(a, &r), PL_OK);
  return r;
}

/// Accesses to the first `n` cores of a board, closed on destruction.
struct Cores {
  PL_Board *board = nullptr;
  PL_Access *acc[KAN_NMC_CHIP_CORES] = {};
  int n = 0;
  Cores(unsigned chip, int count) : n(count) {
    EXPECT_EQ(PL_GetBoardDesc(chip, &board), PL_OK);
    for (int i = 0; i < n; ++i) {
      PL_CoreNo no = kan_nmc_host_core_no(i);
      EXPECT_EQ(PL_GetAccess(board, &no, &acc[i]), PL_OK);
    }
  }
  ~Cores() {
    for (int i = 0; i < n; ++i)
      PL_CloseAccess(acc[i]);
    PL_CloseBoardDesc(board);
  }
};

/// Every test leaves no core behind; a hung core would poison the next one.
class NMCEmu : public ::testing::Test {
protected:
  void SetUp() override {
    kan_nmc_emu_set_core_timeout(0);
    ASSERT_EQ(PL_SetTimeout(0), PL_OK);
    kan_nmc_emu_reset_stats();
  }
  void TearDown() override {
    kan_nmc_emu_set_core_timeout(0);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (kan_nmc_emu_running_cores() &&
           std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(kan_nmc_emu_running_cores(), 0u);
  }
};

} // namespace

TEST_F(NMCEmu, BoardTopology) {
  unsigned count = 0;
  ASSERT_EQ(PL_GetBoardCount(&count), PL_OK);
  const char *env = std::getenv("KAN_NMC_CHIPS");
  EXPECT_EQ(count, env ? unsigned(std::atoi(env)) : 4u);
  PL_Board *b = nullptr;
  EXPECT_EQ(PL_GetBoardDesc(count, &b), PL_ERROR);
  ASSERT_EQ(PL_GetBoardDesc(0, &b), PL_OK);
  PL_Access *a = nullptr;
  PL_CoreNo arm = {-1, 0}, bad = {4, 0}, last = {3, 3};
  EXPECT_EQ(PL_GetAccess(b, &arm, &a), PL_ERROR);
  EXPECT_EQ(PL_GetAccess(b, &bad, &a), PL_ERROR);
  ASSERT_EQ(PL_GetAccess(b, &last, &a), PL_OK);
  PL_Word st = 99;
  EXPECT_EQ(PL_GetStatus(a, &st), PL_OK);
  EXPECT_EQ(PL_CloseAccess(a), PL_OK);
  unsigned major = 0, minor = 0;
  EXPECT_EQ(PL_GetVersion(&major, &minor), PL_OK);
  EXPECT_EQ(major, 7u);
}

struct GemmShape {
  unsigned chips, cores;
};

class NMCEmuGemm : public NMCEmu,
                   public ::testing::WithParamInterface<GemmShape> {};

TEST_P(NMCEmuGemm, MatchesNaiveProduct) {
  GemmShape s = GetParam();
  unsigned count = 0;
  ASSERT_EQ(PL_GetBoardCount(&count), PL_OK);
  if (s.chips > count)
    GTEST_SKIP() << "KAN_NMC_CHIPS=" << count;
  ASSERT_EQ(kan_sample_gemm_host(s.chips, s.cores, "gemm_core.abs"), 0);
  for (unsigned chip = 0; chip < s.chips; ++chip) {
    kan_nmc_emu_stats st;
    ASSERT_EQ(kan_nmc_emu_get_stats(chip, &st), 0);
    EXPECT_GE(st.ddr_streams_max, 1u);
    EXPECT_LE(st.ddr_streams_max, unsigned(KAN_NMC_DDR_STREAMS_DEFAULT));
    EXPECT_EQ(st.dma_unguarded, 0u) << "chip " << chip;
    EXPECT_GT(st.dma_copies, 0u);
    EXPECT_EQ(st.barriers, s.cores > 1 ? 2u : 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    ChipsByCores, NMCEmuGemm,
    ::testing::Values(GemmShape{1, 1}, GemmShape{1, 4}, GemmShape{1, 16},
                      GemmShape{4, 1}, GemmShape{4, 4}, GemmShape{4, 16}),
    [](const ::testing::TestParamInfo<GemmShape> &i) {
      return std::to_string(i.param.chips) + "chips_" +
             std::to_string(i.param.cores) + "cores";
    });

TEST_F(NMCEmu, BankOverflowStopsTheLoad) {
  Cores c(0, 1);
  testing::internal::CaptureStderr();
  EXPECT_EQ(PL_LoadProgramFile(c.acc[0], "overflow_core.abs"), PL_ERROR);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("bank overflow"), std::string::npos) << err;
  EXPECT_NE(err.find("'second'"), std::string::npos) << err;
  EXPECT_NE(err.find("NMMB5"), std::string::npos) << err;
  EXPECT_NE(err.find("10000 of 16384"), std::string::npos) << err;
  PL_Word st = 0;
  ASSERT_EQ(PL_GetStatus(c.acc[0], &st), PL_OK);
  EXPECT_EQ(st, PROGRAM_EXCEPTION);
  EXPECT_EQ(resultOf(c.acc[0]), KAN_NMC_EXIT_BANK_OVERFLOW);
  // The host's next sync fails at once instead of waiting for a dead core.
  testing::internal::CaptureStderr();
  EXPECT_EQ(PL_Sync(c.acc[0], 0, nullptr), PL_ERROR);
  testing::internal::GetCapturedStderr();
}

TEST_F(NMCEmu, BankZeroBudgetIsEnforced) {
  Cores c(0, 1);
  testing::internal::CaptureStderr();
  EXPECT_EQ(PL_LoadProgramFile(c.acc[0], "dir/bank0_core.abs"), PL_ERROR);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("'too_big'"), std::string::npos) << err;
  EXPECT_NE(err.find("NMMB0"), std::string::npos) << err;
  EXPECT_EQ(resultOf(c.acc[0]), KAN_NMC_EXIT_BANK_OVERFLOW);
}

TEST_F(NMCEmu, MemBlockRangesAreChecked) {
  Cores c(0, 1);
  const unsigned words = kan_nmc_emu_ddr_words();
  PL_Word in[4] = {1, 2, 3, 4}, out[4] = {};
  const PL_Addr last = KAN_NMC_DDR_BASE + words - 4;
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, last, 4), PL_OK);
  EXPECT_EQ(PL_ReadMemBlock(c.acc[0], out, last, 4), PL_OK);
  EXPECT_EQ(std::memcmp(in, out, sizeof in), 0);
  testing::internal::CaptureStderr();
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, last + 1, 4), PL_BADADDRESS);
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, KAN_NMC_DDR_BASE - 2, 4),
            PL_BADADDRESS);
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, 0xFFFFFFFEu, 4), PL_BADADDRESS);
  EXPECT_EQ(PL_ReadMemBlock(c.acc[0], out, KAN_NMC_LOCAL_WORDS - 2, 4),
            PL_BADADDRESS);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("PL_WriteMemBlock(board 0, address 0x"),
            std::string::npos)
      << err;
  // Local memory of the accessed core is reachable at bank addresses.
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, KAN_NMC_BANK_ADDR(7), 4), PL_OK);
  EXPECT_EQ(PL_ReadMemBlock(c.acc[0], out, KAN_NMC_BANK_ADDR(7), 4), PL_OK);
  EXPECT_EQ(std::memcmp(in, out, sizeof in), 0);
  EXPECT_EQ(PL_WriteMemBlock(c.acc[0], in, KAN_NMC_DDR_BASE, 0), PL_OK);
}

TEST_F(NMCEmu, HostSyncDeadlockBecomesTimeout) {
  Cores c(0, 2);
  kan_nmc_emu_set_core_timeout(30000);
  ASSERT_EQ(PL_SetTimeout(200), PL_OK);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(PL_LoadProgramFile(c.acc[i], "deadlock_core.abs"), PL_OK);
  // Core 1 waits in the barrier for core 0, which waits for the host.
  int rv = -1;
  testing::internal::CaptureStderr();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(PL_Sync(c.acc[1], 5, &rv), PL_TIMEOUT);
  auto waited = std::chrono::steady_clock::now() - t0;
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("timed out after 200 ms"), std::string::npos) << err;
  EXPECT_NE(err.find("kan_nmc_barrier"), std::string::npos) << err;
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::seconds(5));
  // The timed-out value was withdrawn: the right order still works.
  ASSERT_EQ(PL_SetTimeout(10000), PL_OK);
  EXPECT_EQ(PL_Sync(c.acc[0], 1, &rv), PL_OK);
  EXPECT_EQ(rv, 100);
  EXPECT_EQ(PL_Sync(c.acc[1], 2, &rv), PL_OK);
  EXPECT_EQ(rv, 101);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(waitStopped(c.acc[i]), PROGRAM_FINISHED);
    EXPECT_EQ(resultOf(c.acc[i]), 7u);
  }
}

TEST_F(NMCEmu, SetTimeoutDuringSyncIsAgain) {
  Cores c(0, 2);
  kan_nmc_emu_set_core_timeout(30000);
  ASSERT_EQ(PL_SetTimeout(500), PL_OK);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(PL_LoadProgramFile(c.acc[i], "deadlock_core.abs"), PL_OK);
  testing::internal::CaptureStderr();
  std::thread waiter([&] { EXPECT_EQ(PL_Sync(c.acc[1], 0, nullptr), PL_TIMEOUT); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(PL_SetTimeout(1000), PL_AGAIN);
  waiter.join();
  testing::internal::GetCapturedStderr();
  ASSERT_EQ(PL_SetTimeout(10000), PL_OK);
  int rv = 0;
  EXPECT_EQ(PL_Sync(c.acc[0], 1, &rv), PL_OK);
  EXPECT_EQ(PL_Sync(c.acc[1], 2, &rv), PL_OK);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(waitStopped(c.acc[i]), PROGRAM_FINISHED);
}

/// Runs fault_core case `which` on core 0 of chip 0 and returns its stderr.
static std::string runFault(int which, PL_Word expectStatus,
                            PL_Word expectResult) {
  Cores c(0, 1);
  std::string err;
  EXPECT_EQ(PL_LoadProgramFile(c.acc[0], "fault_core.abs"), PL_OK);
  testing::internal::CaptureStderr();
  int rc = PL_Sync(c.acc[0], which, nullptr);
  if (rc != PL_OK) {
    std::string e = testing::internal::GetCapturedStderr();
    ADD_FAILURE() << "PL_Sync: " << rc << "\n" << e;
    return e;
  }
  if (which == 1)
    EXPECT_EQ(PL_Sync(c.acc[0], int(kan_nmc_emu_ddr_words()), nullptr), PL_OK);
  EXPECT_EQ(waitStopped(c.acc[0]), expectStatus);
  err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(resultOf(c.acc[0]), expectResult) << err;
  return err;
}

TEST_F(NMCEmu, CoreDdrRangeIsChecked) {
  std::string err =
      runFault(1, PROGRAM_EXCEPTION, KAN_NMC_EXIT_BAD_ADDRESS);
  EXPECT_NE(err.find("chip 0 core 0 (cluster 0, nm 0)"), std::string::npos)
      << err;
  EXPECT_NE(err.find("outside the emulated DDR"), std::string::npos) << err;
}

TEST_F(NMCEmu, CopyOverrunningBankBufferIsCaught) {
  std::string err =
      runFault(2, PROGRAM_EXCEPTION, KAN_NMC_EXIT_BAD_ADDRESS);
  EXPECT_NE(err.find("overruns bank buffer 'buf' (NMMB2, 16 words)"),
            std::string::npos)
      << err;
}

TEST_F(NMCEmu, CopyNeverWaitedIsCaught) {
  std::string err = runFault(3, PROGRAM_EXCEPTION, KAN_NMC_EXIT_USAGE);
  EXPECT_NE(err.find("never completed"), std::string::npos) << err;
}

TEST_F(NMCEmu, CopyIntoPrivateObjectIsCaught) {
  std::string err =
      runFault(4, PROGRAM_EXCEPTION, KAN_NMC_EXIT_BAD_ADDRESS);
  EXPECT_NE(err.find("destination"), std::string::npos) << err;
}

TEST_F(NMCEmu, CoreBarrierDeadlockTimesOut) {
  kan_nmc_emu_set_core_timeout(200);
  std::string err = runFault(5, PROGRAM_EXCEPTION, KAN_NMC_EXIT_TIMEOUT);
  EXPECT_NE(err.find("cores that never arrived: 1"), std::string::npos)
      << err;
}

TEST_F(NMCEmu, DdrPermitLeakIsCaught) {
  std::string err = runFault(6, PROGRAM_EXCEPTION, KAN_NMC_EXIT_USAGE);
  EXPECT_NE(err.find("holding a DDR permit"), std::string::npos) << err;
}

TEST_F(NMCEmu, SyncArrayExchangesLocalAddresses) {
  Cores c(0, 1);
  ASSERT_EQ(PL_LoadProgramFile(c.acc[0], "fault_core.abs"), PL_OK);
  ASSERT_EQ(PL_Sync(c.acc[0], 7, nullptr), PL_OK);
  int rv = 0;
  PL_Addr addr = 0;
  PL_Word len = 0;
  ASSERT_EQ(PL_SyncArray(c.acc[0], 0, 0, 0, &rv, &addr, &len), PL_OK);
  EXPECT_EQ(rv, 1);
  EXPECT_EQ(len, 16u);
  EXPECT_GE(addr, KAN_NMC_BANK_ADDR(2));
  EXPECT_LT(addr, KAN_NMC_BANK_ADDR(3));
  double v = 0;
  ASSERT_EQ(PL_ReadMemBlock(c.acc[0], reinterpret_cast<PL_Word *>(&v), addr, 2),
            PL_OK);
  EXPECT_EQ(v, 42.0);
  ASSERT_EQ(PL_Sync(c.acc[0], 0, &rv), PL_OK);
  EXPECT_EQ(rv, 2);
  EXPECT_EQ(waitStopped(c.acc[0]), PROGRAM_FINISHED);
}

TEST_F(NMCEmu, UnknownProgramFallsBackToDefaultCoreMain) {
  // Any file name not registered runs the linked KAN_NMC_CORE_MAIN (the
  // sample GEMM); here it fails its parameter check and reports so.
  Cores c(0, 1);
  PL_Word zero[GEMM_PARAM_WORDS] = {};
  ASSERT_EQ(PL_WriteMemBlock(c.acc[0], zero, KAN_NMC_DDR_USER_BASE,
                             GEMM_PARAM_WORDS),
            PL_OK);
  ASSERT_EQ(PL_LoadProgramFile(c.acc[0], "model_core.abs"), PL_OK);
  int rv = 0;
  ASSERT_EQ(PL_SyncArray(c.acc[0], 0, KAN_NMC_DDR_USER_BASE,
                         GEMM_PARAM_WORDS, nullptr, nullptr, nullptr),
            PL_OK);
  ASSERT_EQ(PL_Sync(c.acc[0], 0, &rv), PL_OK);
  EXPECT_EQ(rv, -1);
  EXPECT_EQ(waitStopped(c.acc[0]), PROGRAM_FINISHED);
  EXPECT_EQ(resultOf(c.acc[0]), 2u);
}

TEST_F(NMCEmu, NmcControlBlockAlgorithmsOnThreads) {
  const int n = KAN_NMC_CHIP_CORES;
  Cores c(0, n);
  ASSERT_EQ(kan_nmc_host_init_chip(c.acc[0], 3), PL_OK);
  PL_Word zero[64] = {};
  ASSERT_EQ(PL_WriteMemBlock(c.acc[0], zero, KAN_NMC_DDR_CTRL_BASE + 0x100, 64),
            PL_OK);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(PL_LoadProgramFile(c.acc[i], "ctrl_core.abs"), PL_OK);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(PL_Sync(c.acc[i], n, nullptr), PL_OK);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(waitStopped(c.acc[i], 120000), PROGRAM_FINISHED);
    EXPECT_EQ(resultOf(c.acc[i]), 0u) << "core " << i;
  }
  PL_Word w[3] = {};
  ASSERT_EQ(PL_ReadMemBlock(c.acc[0], w, KAN_NMC_DDR_CTRL_BASE + 0x120, 3),
            PL_OK);
  EXPECT_EQ(w[0], PL_Word(n * 20)); // no lost update under the bakery lock
  EXPECT_EQ(w[1], 0u);
  EXPECT_GE(w[2], 1u);
  EXPECT_LE(w[2], 3u); // the limit the host wrote into the control block
}

/// 16 cores each holding one of 16 permits across a barrier: 16 DDR streams
/// at once. Returns the cores' results; stderr in `err`.
static std::vector<PL_Word> runDdrCap(unsigned cap, std::string &err,
                                      kan_nmc_emu_stats &st) {
  const int n = KAN_NMC_CHIP_CORES;
  std::vector<PL_Word> results;
  Cores c(0, n);
  kan_nmc_emu_set_ddr_cap(cap);
  kan_nmc_emu_reset_stats();
  EXPECT_EQ(kan_nmc_host_init_chip(c.acc[0], 16), PL_OK);
  testing::internal::CaptureStderr();
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(PL_LoadProgramFile(c.acc[i], "ddrcap_core.abs"), PL_OK);
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(PL_Sync(c.acc[i], n, nullptr), PL_OK);
  for (int i = 0; i < n; ++i) {
    waitStopped(c.acc[i]);
    results.push_back(resultOf(c.acc[i]));
  }
  err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(kan_nmc_emu_get_stats(0, &st), 0);
  kan_nmc_emu_set_ddr_cap(0);
  return results;
}

TEST_F(NMCEmu, DdrStreamsAboveTheCapFailTheRun) {
  std::string err;
  kan_nmc_emu_stats st{};
  std::vector<PL_Word> r = runDdrCap(8, err, st);
  int capped = 0, peers = 0;
  for (PL_Word w : r) {
    capped += w == KAN_NMC_EXIT_DDR_CAP;
    peers += w == KAN_NMC_EXIT_PEER_FAILED;
  }
  EXPECT_EQ(capped, 1) << err;
  EXPECT_EQ(capped + peers, KAN_NMC_CHIP_CORES) << err;
  EXPECT_NE(err.find("kan_nmc_ddr_acquire: 9 cores of this chip stream DDR at "
                     "once, more than the cap of 8"),
            std::string::npos)
      << err;
  EXPECT_EQ(st.ddr_streams_max, 9u);
  EXPECT_EQ(st.ddr_cap_exceeded, 1u);
}

TEST_F(NMCEmu, DdrStreamsAreCountedUpToTheCap) {
  std::string err;
  kan_nmc_emu_stats st{};
  std::vector<PL_Word> r = runDdrCap(16, err, st);
  for (PL_Word w : r)
    EXPECT_EQ(w, 0u) << err;
  EXPECT_EQ(st.ddr_streams_max, 16u);
  EXPECT_EQ(st.ddr_cap_exceeded, 0u);
  EXPECT_EQ(kan_nmc_emu_ddr_cap(), unsigned(KAN_NMC_DDR_STREAMS_DEFAULT));
}

//===--- the emitted folder builds outside CMake -------------------------===//

static int sh(const std::string &cmd) {
  int rc = std::system(cmd.c_str());
  return rc;
}

static const std::string kStrict =
    std::string(KAN_NMC_TEST_CC) +
    " -std=gnu99 -pedantic -Wall -Wextra -Werror -I" KAN_NMC_TEST_INCLUDE
    " -I" KAN_NMC_TEST_SAMPLE;

TEST(NMCEmuBuild, CoreSideCompilesStrictForHostEmu) {
  EXPECT_EQ(sh(kStrict + " -DKAN_NMC_HOST_EMU -c " KAN_NMC_TEST_SAMPLE
                         "/gemm_core.c -o " KAN_NMC_TEST_OUT "/gemm_core.o"),
            0);
  EXPECT_EQ(sh(kStrict + " -DKAN_NMC_HOST_EMU -DKAN_NMC_PROGRAM_ID=x -c " KAN_NMC_TEST_SAMPLE
                         "/gemm_core.c -o " KAN_NMC_TEST_OUT "/gemm_core_x.o"),
            0);
  EXPECT_EQ(sh(kStrict + " -DKAN_NMC_HOST_EMU -x c -fsyntax-only " KAN_NMC_TEST_INCLUDE
                         "/kan_nmc.h"),
            0);
}

TEST(NMCEmuBuild, CoreSideParsesStrictForNmc) {
  // The NMC branch (sections, inline fallbacks) at least parses as gnu99.
  EXPECT_EQ(sh(kStrict + " -fsyntax-only " KAN_NMC_TEST_SAMPLE "/gemm_core.c"),
            0);
  EXPECT_EQ(sh(kStrict + " -x c -fsyntax-only " KAN_NMC_TEST_INCLUDE
                         "/kan_nmc.h"),
            0);
}

TEST(NMCEmuBuild, EmittedFolderBuildsAndRunsWithMake) {
  const std::string out = KAN_NMC_TEST_OUT "/emitted";
  ASSERT_EQ(sh("make -s -C " KAN_NMC_TEST_SAMPLE " host-emu CC=" KAN_NMC_TEST_CC
               " BUILD=" + out + " KANRT_NMC_INCLUDE=" KAN_NMC_TEST_INCLUDE
               " KANRT_NMC_LIB=" KAN_NMC_TEST_LIB " -B"),
            0);
  EXPECT_EQ(sh("KAN_NMC_CHIPS=2 " + out + "/gemm_emu 2 16 > " + out +
               "/run.log 2>&1"),
            0);
}
