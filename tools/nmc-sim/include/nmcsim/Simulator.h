//===- Simulator.h - Functional simulator + performance model ---*- C++ -*-===//
//
// Executes the NMC4 assembly subset of Program.h on one core: scalar
// registers, word-addressed memory (8 local banks + a DDR window), the four
// FPU cells, the stack and the C calling convention. While executing it
// feeds a timing model (PerfModel) whose assumptions are listed in
// docs/NMC4-ASM.md; nothing here is measured hardware behaviour.
//
//===----------------------------------------------------------------------===//
#ifndef KAN_NMCSIM_SIMULATOR_H
#define KAN_NMCSIM_SIMULATOR_H

#include "nmcsim/Program.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kan::nmcsim {

/// Memory map (an assumption: no public linker script gives word addresses).
/// Local banks NMMB0-7: bank b occupies words [b * kBankWords, (b+1) *
/// kBankWords). DDR: [kDdrBase, kDdrBase + ddrWords).
constexpr uint32_t kBankWords = 16384; // 64 KB of 32-bit words
constexpr unsigned kNumBanks = 8;
constexpr uint32_t kLocalWords = kBankWords * kNumBanks;
constexpr uint32_t kDdrBase = 0x10000000;
constexpr unsigned kDdrBankId = kNumBanks; // DDR is one "bank" for conflicts

inline uint32_t bankBase(unsigned bank) { return bank * kBankWords; }

/// Timing assumptions; see "Performance model" in docs/NMC4-ASM.md.
struct PerfConfig {
  double clockGHz = 1.0;
  unsigned scalarCycles = 1;       // every scalar instruction issues in 1
  unsigned takenBranchPenalty = 2; // undelayed taken branch/call/return
  unsigned loadLatency = 4;        // load end -> vreg usable
  unsigned arithLatency = 4;       // arith end -> vreg usable
  unsigned copyLatency = 4;        // cell-to-cell move end -> usable
  unsigned queueDepth = 4;         // FPU instructions waiting per cell
  double peakGflopsF64 = 8.0;      // 4 cells x 1 fma x 2 flops x 1 GHz
  double peakGflopsF32 = 32.0;     // chip figure / 16 cores
};

struct SimConfig {
  uint32_t ddrWords = 1u << 20;
  uint64_t maxSteps = 50'000'000;
  PerfConfig perf;
};

/// Counters of one call. "lanes" = total elements processed (sum of reps).
struct PerfStats {
  uint64_t instructions = 0;
  uint64_t scalar = 0, scalarMemory = 0, branches = 0, takenBranches = 0;
  uint64_t fpuLoads = 0, fpuStores = 0, fpuArith = 0, fpuCopies = 0;
  uint64_t loadLanes = 0, storeLanes = 0, arithLanes = 0, copyLanes = 0;
  uint64_t fmaLanes = 0; // lanes of multiply-add instructions
  double flops = 0;      // fp64: 2 per fma lane; fp32: 4 per fma lane
  std::map<int, uint64_t> repHistogram;            // vector length -> count
  std::array<uint64_t, kNumBanks + 1> bankLanes{}; // words moved per bank
  uint64_t bankConflicts = 0; // vector accesses delayed by a busy bank
  uint64_t bankConflictCycles = 0;
  uint64_t queueStallCycles = 0; // issue waits for a full cell queue
  std::array<uint64_t, 4> cellBusy{};
  uint64_t cycles = 0;
  bool usedF32 = false;

  double gflops(double clockGHz) const {
    return cycles ? flops / static_cast<double>(cycles) * clockGHz : 0.0;
  }
  std::string toJson(const PerfConfig &cfg) const;
};

/// One C argument of a call.
struct CallArg {
  uint64_t value = 0;
  bool is64 = false;
  static CallArg word(uint32_t v) { return {v, false}; }
  static CallArg i32(int32_t v) { return {static_cast<uint32_t>(v), false}; }
  static CallArg f64(double d);
};

class Simulator {
public:
  explicit Simulator(SimConfig config = {});

  /// Parses \p text; false on errors (see diagnostics()).
  bool loadAssembly(std::string_view text);
  const std::vector<Diagnostic> &diagnostics() const { return diags; }
  const Program &program() const { return prog; }

  // Memory access from the host side (addresses in words).
  bool validRange(uint32_t addr, uint32_t words) const;
  uint32_t readWord(uint32_t addr) const;
  void writeWord(uint32_t addr, uint32_t value);
  void writeDoubles(uint32_t addr, const double *data, size_t count);
  void readDoubles(uint32_t addr, double *data, size_t count) const;
  void writeFloats(uint32_t addr, const float *data, size_t count);
  void readFloats(uint32_t addr, float *data, size_t count) const;
  /// Bank id of \p addr (0-7 local, kDdrBankId for DDR); -1 if unmapped.
  static int bankOf(uint32_t addr, uint32_t ddrWords);

  /// Stack pointer ar7 used by call(); default: the start of bank 7.
  void setStackPointer(uint32_t sp) { stackPointer = sp; }

  /// Calls global \p symbol with C arguments pushed per the convention and
  /// runs until it returns. False on any runtime error (see error()), which
  /// includes a clobbered callee-saved register.
  bool call(const std::string &symbol, const std::vector<CallArg> &args);
  const std::string &error() const { return lastError; }

  const PerfStats &stats() const { return perf; }

  // Architectural state, readable for tests.
  uint32_t ar(int i) const { return regs.ar[i]; }
  uint32_t gr(int i) const { return regs.gr[i]; }
  void setAr(int i, uint32_t v) { regs.ar[i] = v; }
  void setGr(int i, uint32_t v) { regs.gr[i] = v; }
  uint32_t vlenRegister() const { return regs.vlen; }
  /// 64-bit word \p lane of vreg \p v in cell \p cell.
  uint64_t vregWord(int cell, int v, int lane) const {
    return cells[cell].vregs[v].words[lane];
  }
  int vregLength(int cell, int v) const { return cells[cell].vregs[v].length; }

  /// Runs from label \p label until a `return` pops \p sentinel or the
  /// program ends; used by call() and by tests of bare instruction streams.
  bool runFrom(const std::string &label);

private:
  struct VReg {
    std::array<uint64_t, 32> words{};
    int length = 0;
    int retrieve = 0; // next element .retrive reads (fp32 halves for .float)
    double readyAt = 0;
  };
  struct Cell {
    std::array<VReg, 8> vregs;
    double freeAt = 0;
    std::vector<double> starts; // start times, for the queue bound
  };
  struct Regs {
    std::array<uint32_t, 8> ar{};
    std::array<uint32_t, 8> gr{};
    uint32_t vlen = 31;
    int32_t flags = 0; // last flag-setting result
  };

  SimConfig config;
  Program prog;
  std::vector<Diagnostic> diags;
  std::vector<uint32_t> local;
  std::vector<uint32_t> ddr;
  Regs regs;
  std::array<Cell, 4> cells;
  uint32_t stackPointer = bankBase(7);
  std::string lastError;
  PerfStats perf;

  // Timing state.
  double issueAt = 0;
  std::array<double, kNumBanks + 1> bankFreeAt{};

  uint32_t *wordPtr(uint32_t addr);
  bool fail(const Instruction *inst, const std::string &msg);
  bool execute(const Instruction &inst, int &pc, bool &returned,
               int &pendingTarget, int &pendingCount, bool inDelaySlot);
  bool effectiveAddress(const Instruction &inst, const MemRef &m,
                        uint32_t elemWords, uint32_t count, uint32_t &addr,
                        uint32_t &stride);
  bool read32(const Instruction &inst, uint32_t addr, uint32_t &v);
  bool write32(const Instruction &inst, uint32_t addr, uint32_t v);
  bool read64(const Instruction &inst, uint32_t addr, uint64_t &v);
  bool write64(const Instruction &inst, uint32_t addr, uint64_t v);
  bool execFpu(const Instruction &inst);
  bool evalArith(const Instruction &inst);
  void resetTiming();
  double issueFpu(int cell);
  void finishFpu(int cell, double start, double duration);
};

} // namespace kan::nmcsim

#endif // KAN_NMCSIM_SIMULATOR_H
