//===- TileCost.cpp - the tile kernels under the timing model ---*- C++ -*-===//
#include "nmcsim/TileCost.h"

#include "kan/Target/NMQuad/Kernels/Axpy.h"

#include <random>

namespace kan::nmcsim {

using namespace kan::nmquad;

namespace {

/// Runs one call of the kernel for \p s under the performance model.
bool simulateTile(const TileShape &s, const std::string &text,
                  const PerfConfig &perf, PerfStats &stats,
                  std::string &error) {
  bool f64 = s.precision == TilePrecision::F64;
  uint64_t elemWords = f64 ? 2 : 1;
  uint64_t aWords = elemWords * s.m * s.kk, bWords = elemWords * s.kk * s.n,
           cWords = elemWords * s.m * s.n;
  if (aWords > kBankWords || bWords > kBankWords || cWords > kBankWords) {
    error = "A, Bt or C does not fit one 64 KB bank for this kk";
    return false;
  }
  SimConfig cfg;
  cfg.perf = perf;
  Simulator sim(cfg);
  if (!sim.loadAssembly(text)) {
    error = sim.diagnostics().front().str("<emitted>");
    return false;
  }
  // Small deterministic values: the timing does not depend on them.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  auto fill = [&](uint32_t base, uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      if (f64) {
        double v = dist(rng);
        sim.writeDoubles(base + 2 * i, &v, 1);
      } else {
        float v = static_cast<float>(dist(rng));
        sim.writeFloats(base + i, &v, 1);
      }
    }
  };
  fill(bankBase(0), aWords / elemWords);
  fill(bankBase(1), bWords / elemWords);
  fill(bankBase(2), cWords / elemWords);
  if (!sim.call(tileSymbol(s),
                {CallArg::word(bankBase(0)), CallArg::word(bankBase(1)),
                 CallArg::word(bankBase(2)), CallArg::i32(s.m),
                 CallArg::i32(s.n), CallArg::i32(s.kk)})) {
    error = sim.error();
    return false;
  }
  stats = sim.stats();
  return true;
}

} // namespace

KernelEstimate estimateGemmTile(const TileShape &s, const PerfConfig &perf,
                                PerfStats *statsOut) {
  KernelEstimate e;
  std::string why;
  if (!isSupportedTile(s, &why) || s.kk <= 0) {
    e.error = s.kk <= 0 ? "kk must be positive" : why;
    return e;
  }
  e.symbol = tileSymbol(s);
  std::string text = emitGemmTile(s);
  PerfStats stats;
  if (!simulateTile(s, text, perf, stats, e.error))
    return e;
  bool f64 = s.precision == TilePrecision::F64;
  e.cycles = stats.cycles;
  e.flops = 2.0 * s.m * s.n * s.kk;
  e.peakGflops = f64 ? perf.peakGflopsF64 : perf.peakGflopsF32;
  e.gflops = e.cycles ? e.flops / e.cycles * perf.clockGHz : 0;
  e.efficiency = e.gflops / e.peakGflops;
  e.bankConflicts = stats.bankConflicts;

  // Marginal cost of `step` more k: the steady state of the k loop.
  int step = f64 ? 8 : kF32KBlock;
  TileShape other = s;
  other.kk = s.kk > step ? s.kk - step : s.kk + step;
  PerfStats otherStats;
  std::string otherError;
  if (simulateTile(other, text, perf, otherStats, otherError)) {
    double dc = static_cast<double>(stats.cycles) -
                static_cast<double>(otherStats.cycles);
    double df = e.flops - 2.0 * other.m * other.n * other.kk;
    if (dc != 0)
      e.steadyEfficiency = df / dc * perf.clockGHz / e.peakGflops;
  }
  e.detailJson = stats.toJson(PerfConfig{});
  if (statsOut)
    *statsOut = stats;
  e.valid = true;
  return e;
}

double estimateAxpyCycles(int n) {
  if (n < 0 || 2 * (uint32_t)n > kBankWords)
    return -1;
  Simulator sim;
  if (!sim.loadAssembly(emitAxpyF64()))
    return -1;
  std::vector<double> x(n, 0.5), y(n, 0.25);
  double a = 2;
  sim.writeDoubles(bankBase(3), &a, 1);
  sim.writeDoubles(bankBase(1), x.data(), x.size());
  sim.writeDoubles(bankBase(2), y.data(), y.size());
  if (!sim.call(axpySymbol(), {CallArg::word(bankBase(3)),
                               CallArg::word(bankBase(1)),
                               CallArg::word(bankBase(2)), CallArg::i32(n)}))
    return -1;
  return (double)sim.stats().cycles;
}


namespace {
class TimingCostModel final : public KernelCostModel {
public:
  std::string describe() const override {
    return "the timing model (tools/nmc-sim, estimateGemmTile)";
  }
  KernelEstimate estimate(const TileShape &shape) const override {
    return estimateGemmTile(shape);
  }
  double axpyCycles(int n) const override { return estimateAxpyCycles(n); }
};
} // namespace

const KernelCostModel &getTimingCostModel() {
  static TimingCostModel model;
  return model;
}

void registerTimingCostModel() { registerKernelCostModel(getTimingCostModel()); }

} // namespace kan::nmcsim
