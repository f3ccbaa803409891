//===- EmuTiles.cpp - FPU tile kernels run from their assembly -----------===//
//
// libkanrt_nmc_sim: definitions of kan_nmc_gemm_tile_f64_<m>x32,
// kan_nmc_gemm_tile_f32_<m>x64 (and of
// kan_nmc_axpy_f64, the dense update's kernel) for host
// emulation (`make host-emu-sim`) that run the folder's own assembly,
// <symbol>.s in $KAN_NMC_SIM_DIR (default: the working directory), in the
// simulator instead of the C loop. Each emulated core is a thread and owns
// its simulators (one per kernel, the text parsed once). A, Bt and C are
// copied into banks 1, 2 and 3 of the simulated core, the kernel is called
// with the C calling convention, and C is copied back. Any parse or run
// error stops the program with the kernel's name. At exit the number of
// calls per kernel goes to stderr, so a test can see that the simulator ran
// every tile.
//
//===----------------------------------------------------------------------===//

#include "nmcsim/Simulator.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

using namespace kan::nmcsim;

namespace {

// The f64 x 32 kernels, then the f32 x 64 ones.
constexpr int kRows[] = {1, 2, 3, 4, 8, 12, 16, 20, 24, 1, 2, 3, 4, 8, 12};
constexpr int kF32First = 9;
constexpr int kKinds = sizeof(kRows) / sizeof(kRows[0]);
int widthOf(int kind) { return kind < kF32First ? 32 : 64; }
std::atomic<unsigned long long> calls[kKinds], axpyCalls;
std::once_flag reportOnce;

void report() {
  unsigned long long total = 0;
  std::string detail;
  for (int i = 0; i < kKinds; ++i) {
    unsigned long long c = calls[i].load();
    total += c;
    if (c)
      detail += " " + std::to_string(kRows[i]) + "x" +
                std::to_string(widthOf(i)) + ":" + std::to_string(c);
  }
  if (unsigned long long a = axpyCalls.load())
    detail += "; " + std::to_string(a) + " axpy_f64 calls";
  std::fprintf(stderr,
               "kan-nmc-sim: %llu FPU tile calls run on the emitted assembly%s\n",
               total, detail.c_str());
}

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "kan-nmc-sim: %s\n", msg.c_str());
  std::exit(1);
}

Simulator &simulatorFor(const std::string &symbol) {
  thread_local std::map<std::string, std::unique_ptr<Simulator>> sims;
  auto &slot = sims[symbol];
  if (slot)
    return *slot;
  const char *dir = std::getenv("KAN_NMC_SIM_DIR");
  std::string path = std::string(dir && *dir ? dir : ".") + "/" + symbol + ".s";
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail("cannot read " + path + " (set KAN_NMC_SIM_DIR to the folder)");
  std::ostringstream text;
  text << in.rdbuf();
  auto sim = std::make_unique<Simulator>();
  if (!sim->loadAssembly(text.str())) {
    std::string msg = path + ": the simulator rejects the kernel:";
    for (const Diagnostic &d : sim->diagnostics())
      msg += "\n  " + d.str(path);
    fail(msg);
  }
  slot = std::move(sim);
  return *slot;
}

void runTile(int kind, const double *a, const double *bt, double *c, int kk) {
  static_assert(sizeof(calls) / sizeof(calls[0]) == kKinds);
  std::call_once(reportOnce, [] { std::atexit(report); });
  int m = kRows[kind], n = 32;
  std::string symbol = "kan_nmc_gemm_tile_f64_" + std::to_string(m) + "x32";
  Simulator &sim = simulatorFor(symbol);
  uint64_t aw = 2ull * m * kk, bw = 2ull * kk * n, cw = 2ull * m * n;
  if (kk < 1 || aw > kBankWords || bw > kBankWords || cw > kBankWords)
    fail(symbol + ": a tile of kk = " + std::to_string(kk) +
         " does not fit the simulated banks");
  sim.writeDoubles(bankBase(1), a, size_t(m) * kk);
  sim.writeDoubles(bankBase(2), bt, size_t(kk) * n);
  sim.writeDoubles(bankBase(3), c, size_t(m) * n);
  if (!sim.call("_" + symbol,
                {CallArg::word(bankBase(1)), CallArg::word(bankBase(2)),
                 CallArg::word(bankBase(3)), CallArg::i32(m), CallArg::i32(n),
                 CallArg::i32(kk)}))
    fail(symbol + ": " + sim.error());
  sim.readDoubles(bankBase(3), c, size_t(m) * n);
  ++calls[kind];
}

void runTileF32(int kind, const float *a, const float *bt, float *c, int kk) {
  std::call_once(reportOnce, [] { std::atexit(report); });
  int m = kRows[kind], n = 64;
  std::string symbol = "kan_nmc_gemm_tile_f32_" + std::to_string(m) + "x64";
  Simulator &sim = simulatorFor(symbol);
  uint64_t aw = 1ull * m * kk, bw = 1ull * kk * n, cw = 1ull * m * n;
  if (kk < 64 || kk % 64 != 0 || aw > kBankWords || bw > kBankWords ||
      cw > kBankWords)
    fail(symbol + ": a tile of kk = " + std::to_string(kk) +
         " is not a multiple of 64 that fits the simulated banks");
  sim.writeFloats(bankBase(1), a, size_t(m) * kk);
  sim.writeFloats(bankBase(2), bt, size_t(kk) * n);
  sim.writeFloats(bankBase(3), c, size_t(m) * n);
  if (!sim.call("_" + symbol,
                {CallArg::word(bankBase(1)), CallArg::word(bankBase(2)),
                 CallArg::word(bankBase(3)), CallArg::i32(m), CallArg::i32(n),
                 CallArg::i32(kk)}))
    fail(symbol + ": " + sim.error());
  sim.readFloats(bankBase(3), c, size_t(m) * n);
  ++calls[kind];
}

} // namespace

#define KAN_SIM_TILE_F32(I, M)                                                 \
  extern "C" void kan_nmc_gemm_tile_f32_##M##x64(                              \
      const float *A, const float *Bt, float *C, int, int, int kk) {           \
    runTileF32(I, A, Bt, C, kk);                                               \
  }
KAN_SIM_TILE_F32(9, 1)
KAN_SIM_TILE_F32(10, 2)
KAN_SIM_TILE_F32(11, 3)
KAN_SIM_TILE_F32(12, 4)
KAN_SIM_TILE_F32(13, 8)
KAN_SIM_TILE_F32(14, 12)

#define KAN_SIM_TILE(I, M)                                                     \
  extern "C" void kan_nmc_gemm_tile_f64_##M##x32(                              \
      const double *A, const double *Bt, double *C, int, int, int kk) {        \
    runTile(I, A, Bt, C, kk);                                                  \
  }
KAN_SIM_TILE(0, 1)
KAN_SIM_TILE(1, 2)
KAN_SIM_TILE(2, 3)
KAN_SIM_TILE(3, 4)
KAN_SIM_TILE(4, 8)
KAN_SIM_TILE(5, 12)
KAN_SIM_TILE(6, 16)
KAN_SIM_TILE(7, 20)
KAN_SIM_TILE(8, 24)

// y += a[0] * x in slices that fit a bank: x in bank 1, y in bank 2, a in
// bank 3.
extern "C" void kan_nmc_axpy_f64(const double *a, const double *x, double *y,
                                 int n) {
  std::call_once(reportOnce, [] { std::atexit(report); });
  const std::string symbol = "kan_nmc_axpy_f64";
  Simulator &sim = simulatorFor(symbol);
  const int slice = static_cast<int>(kBankWords / 2);
  sim.writeDoubles(bankBase(3), a, 1);
  for (int i0 = 0; i0 < n; i0 += slice) {
    int cnt = n - i0 < slice ? n - i0 : slice;
    sim.writeDoubles(bankBase(1), x + i0, size_t(cnt));
    sim.writeDoubles(bankBase(2), y + i0, size_t(cnt));
    if (!sim.call("_" + symbol,
                  {CallArg::word(bankBase(3)), CallArg::word(bankBase(1)),
                   CallArg::word(bankBase(2)), CallArg::i32(cnt)}))
      fail(symbol + ": " + sim.error());
    sim.readDoubles(bankBase(2), y + i0, size_t(cnt));
  }
  ++axpyCalls;
}
