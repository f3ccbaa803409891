//===- Simulator.cpp - NMC4 functional simulator and timing model ---------===//
//
// Semantics follow docs/NMC4-ASM.md; every rule that is not read off a
// public source is in its "Assumptions" list. The timing model is evaluated
// along the executed instruction trace (see PerfConfig).
//
//===----------------------------------------------------------------------===//
#include "nmcsim/Simulator.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace kan::nmcsim {

namespace {
constexpr uint32_t kReturnSentinel = 0xFFFFFFFFu;
constexpr int kStop = -2;

std::string hex(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

double asDouble(uint64_t w) {
  double d;
  std::memcpy(&d, &w, sizeof d);
  return d;
}
uint64_t fromDouble(double d) {
  uint64_t w;
  std::memcpy(&w, &d, sizeof w);
  return w;
}
float asFloat(uint32_t w) {
  float f;
  std::memcpy(&f, &w, sizeof f);
  return f;
}
uint32_t fromFloat(float f) {
  uint32_t w;
  std::memcpy(&w, &f, sizeof w);
  return w;
}
} // namespace

CallArg CallArg::f64(double d) { return {fromDouble(d), true}; }

Simulator::Simulator(SimConfig cfg)
    : config(cfg), local(kLocalWords, 0), ddr(cfg.ddrWords, 0) {}

bool Simulator::loadAssembly(std::string_view text) {
  prog = Program();
  diags.clear();
  return parseProgram(text, prog, diags);
}

int Simulator::bankOf(uint32_t addr, uint32_t ddrWords) {
  if (addr < kLocalWords)
    return static_cast<int>(addr / kBankWords);
  if (addr >= kDdrBase && addr - kDdrBase < ddrWords)
    return static_cast<int>(kDdrBankId);
  return -1;
}

bool Simulator::validRange(uint32_t addr, uint32_t words) const {
  uint64_t end = static_cast<uint64_t>(addr) + words;
  if (end <= kLocalWords)
    return true;
  return addr >= kDdrBase &&
         end <= static_cast<uint64_t>(kDdrBase) + ddr.size();
}

uint32_t *Simulator::wordPtr(uint32_t addr) {
  if (addr < kLocalWords)
    return &local[addr];
  if (addr >= kDdrBase && addr - kDdrBase < ddr.size())
    return &ddr[addr - kDdrBase];
  return nullptr;
}

uint32_t Simulator::readWord(uint32_t addr) const {
  auto *self = const_cast<Simulator *>(this);
  uint32_t *p = self->wordPtr(addr);
  return p ? *p : 0;
}

void Simulator::writeWord(uint32_t addr, uint32_t value) {
  if (uint32_t *p = wordPtr(addr))
    *p = value;
}

void Simulator::writeDoubles(uint32_t addr, const double *data, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint64_t w = fromDouble(data[i]);
    writeWord(addr + 2 * i, static_cast<uint32_t>(w));
    writeWord(addr + 2 * i + 1, static_cast<uint32_t>(w >> 32));
  }
}

void Simulator::readDoubles(uint32_t addr, double *data, size_t count) const {
  for (size_t i = 0; i < count; ++i) {
    uint64_t w = readWord(addr + 2 * i) |
                 static_cast<uint64_t>(readWord(addr + 2 * i + 1)) << 32;
    data[i] = asDouble(w);
  }
}

void Simulator::writeFloats(uint32_t addr, const float *data, size_t count) {
  for (size_t i = 0; i < count; ++i)
    writeWord(addr + i, fromFloat(data[i]));
}

void Simulator::readFloats(uint32_t addr, float *data, size_t count) const {
  for (size_t i = 0; i < count; ++i)
    data[i] = asFloat(readWord(addr + i));
}

bool Simulator::fail(const Instruction *inst, const std::string &msg) {
  if (inst)
    lastError = std::to_string(inst->loc.line) + ":" +
                std::to_string(inst->loc.column) + ": error: " + msg +
                " (in '" + inst->text + "')";
  else
    lastError = "error: " + msg;
  return false;
}

bool Simulator::read32(const Instruction &inst, uint32_t addr, uint32_t &v) {
  uint32_t *p = wordPtr(addr);
  if (!p)
    return fail(&inst, "read from unmapped address " + hex(addr));
  v = *p;
  return true;
}

bool Simulator::write32(const Instruction &inst, uint32_t addr, uint32_t v) {
  uint32_t *p = wordPtr(addr);
  if (!p)
    return fail(&inst, "write to unmapped address " + hex(addr));
  *p = v;
  return true;
}

bool Simulator::read64(const Instruction &inst, uint32_t addr, uint64_t &v) {
  if (addr & 1)
    return fail(&inst,
                "misaligned 64-bit read at odd word address " + hex(addr));
  uint32_t lo, hi;
  if (!read32(inst, addr, lo) || !read32(inst, addr + 1, hi))
    return false;
  v = lo | static_cast<uint64_t>(hi) << 32;
  return true;
}

bool Simulator::write64(const Instruction &inst, uint32_t addr, uint64_t v) {
  if (addr & 1)
    return fail(&inst,
                "misaligned 64-bit write at odd word address " + hex(addr));
  return write32(inst, addr, static_cast<uint32_t>(v)) &&
         write32(inst, addr + 1, static_cast<uint32_t>(v >> 32));
}

bool Simulator::effectiveAddress(const Instruction &inst, const MemRef &m,
                                 uint32_t elemWords, uint32_t count,
                                 uint32_t &addr, uint32_t &stride) {
  uint32_t &base = regs.ar[m.base];
  stride = elemWords;
  switch (m.mode) {
  case MemRef::Mode::Plain:
    addr = base;
    break;
  case MemRef::Mode::PostInc:
    addr = base;
    base += count * elemWords;
    break;
  case MemRef::Mode::PostIncGr:
    addr = base;
    stride = regs.gr[m.gr];
    base += count * stride;
    break;
  case MemRef::Mode::PreDec:
    base -= count * elemWords;
    addr = base;
    break;
  case MemRef::Mode::PreAddImm:
    base += static_cast<uint32_t>(m.imm);
    addr = base;
    break;
  case MemRef::Mode::PreAddGr:
    base += regs.gr[m.gr];
    addr = base;
    break;
  case MemRef::Mode::Offset:
    addr = base + static_cast<uint32_t>(m.imm);
    break;
  }
  if (elemWords == 2 && count > 1 && (stride & 1))
    return fail(&inst, "odd stride " + std::to_string(stride) +
                           " for a 64-bit vector access");
  return true;
}

void Simulator::resetTiming() {
  issueAt = 0;
  bankFreeAt.fill(0);
  for (Cell &c : cells) {
    c.freeAt = 0;
    c.starts.clear();
    for (VReg &v : c.vregs)
      v.readyAt = 0;
  }
}

double Simulator::issueFpu(int cell) {
  double t = issueAt;
  auto &s = cells[cell].starts;
  unsigned q = std::max(1u, config.perf.queueDepth);
  if (s.size() >= q) {
    double need = s[s.size() - q];
    if (need > t) {
      perf.queueStallCycles += static_cast<uint64_t>(need - t);
      t = need;
    }
  }
  issueAt = t + config.perf.scalarCycles;
  return t + 1; // dispatch takes the issue cycle
}

void Simulator::finishFpu(int cell, double start, double duration) {
  cells[cell].freeAt = start + duration;
  cells[cell].starts.push_back(start);
  perf.cellBusy[cell] += static_cast<uint64_t>(duration);
}

bool Simulator::evalArith(const Instruction &inst) {
  Cell &cell = cells[inst.cell];
  const VecSrc *srcs[3] = {&inst.x, inst.y.vreg >= 0 ? &inst.y : nullptr,
                           inst.z.vreg >= 0 ? &inst.z : nullptr};
  int length = -1;
  for (const VecSrc *s : srcs)
    if (s && !s->retrieve) {
      length = cell.vregs[s->vreg].length;
      break;
    }
  if (length < 0)
    return fail(&inst, "no vector operand defines the length (every source "
                       "is a .retrive)");
  if (length == 0)
    return fail(&inst, "vector operand of cell " + std::to_string(inst.cell) +
                           " holds no data");
  for (const VecSrc *s : srcs) {
    if (!s)
      continue;
    const VReg &v = cell.vregs[s->vreg];
    if (s->retrieve && v.length == 0)
      return fail(&inst, ".retrive(vreg" + std::to_string(s->vreg) +
                             ") of cell " + std::to_string(inst.cell) +
                             " reads an empty register");
    if (!s->retrieve && v.length < length)
      return fail(&inst, "vreg" + std::to_string(s->vreg) + " of cell " +
                             std::to_string(inst.cell) + " holds " +
                             std::to_string(v.length) +
                             " words, the operation "
                             "needs " +
                             std::to_string(length));
  }
  const bool isFloat = inst.precision == Precision::Float;
  // One broadcast value per .retrive operand per instruction; the pointer
  // advances and wraps at the register length.
  uint64_t retrieved[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const VecSrc *s = srcs[i];
    if (!s || !s->retrieve)
      continue;
    VReg &v = cell.vregs[s->vreg];
    if (isFloat) {
      int n = 2 * v.length;
      int idx = v.retrieve % n;
      uint32_t half =
          static_cast<uint32_t>(v.words[idx / 2] >> (32 * (idx % 2)));
      retrieved[i] = half | static_cast<uint64_t>(half) << 32;
      v.retrieve = (idx + 1) % n;
    } else {
      int idx = v.retrieve % v.length;
      retrieved[i] = v.words[idx];
      v.retrieve = (idx + 1) % v.length;
    }
  }
  auto operand = [&](int i, int lane) -> uint64_t {
    const VecSrc *s = srcs[i];
    return s->retrieve ? retrieved[i] : cell.vregs[s->vreg].words[lane];
  };
  std::array<uint64_t, 32> out{};
  for (int lane = 0; lane < length; ++lane) {
    if (!isFloat) {
      double p = asDouble(operand(0, lane));
      if (srcs[1])
        p = p * asDouble(operand(1, lane));
      if (inst.negateProduct)
        p = -p;
      if (srcs[2]) {
        double z = asDouble(operand(2, lane));
        p = inst.subtractZ ? p - z : p + z;
      }
      out[lane] = fromDouble(p);
    } else {
      uint64_t r = 0;
      for (int h = 0; h < 2; ++h) {
        auto half = [&](int i) {
          return asFloat(static_cast<uint32_t>(operand(i, lane) >> (32 * h)));
        };
        float p = half(0);
        if (srcs[1])
          p = p * half(1);
        if (inst.negateProduct)
          p = -p;
        if (srcs[2]) {
          float z = half(2);
          p = inst.subtractZ ? p - z : p + z;
        }
        r |= static_cast<uint64_t>(fromFloat(p)) << (32 * h);
      }
      out[lane] = r;
    }
  }
  VReg &dst = cell.vregs[inst.vreg];
  dst.words = out;
  dst.length = length;
  dst.retrieve = 0;

  // Statistics and timing.
  int opsPerElem = (srcs[1] ? 1 : 0) + (srcs[2] ? 1 : 0);
  if (opsPerElem == 0)
    opsPerElem = inst.negateProduct ? 1 : 0;
  double elems = isFloat ? 2.0 * length : length;
  perf.flops += opsPerElem * elems;
  if (srcs[1] && srcs[2])
    perf.fmaLanes += length;
  perf.usedF32 |= isFloat;
  perf.fpuArith++;
  perf.arithLanes += length;
  perf.repHistogram[length]++;
  double start = std::max(issueFpu(inst.cell), cell.freeAt);
  for (const VecSrc *s : srcs)
    if (s)
      start = std::max(start, cell.vregs[s->vreg].readyAt);
  finishFpu(inst.cell, start, length);
  dst.readyAt = start + length + config.perf.arithLatency;
  return true;
}

bool Simulator::execFpu(const Instruction &inst) {
  Cell &cell = cells[inst.cell];
  switch (inst.opcode) {
  case Opcode::FpuLoad:
  case Opcode::FpuStore: {
    bool isLoad = inst.opcode == Opcode::FpuLoad;
    uint32_t count = inst.repVlen ? regs.vlen + 1 : inst.rep;
    VReg &v = cell.vregs[inst.vreg];
    if (!isLoad && static_cast<int>(count) > v.length)
      return fail(&inst, "store of " + std::to_string(count) +
                             " words from vreg" + std::to_string(inst.vreg) +
                             " of cell " + std::to_string(inst.cell) +
                             " which holds " + std::to_string(v.length));
    uint32_t addr, stride;
    if (!effectiveAddress(inst, inst.mem, 2, count, addr, stride))
      return false;
    std::array<bool, kNumBanks + 1> touched{};
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t a = addr + i * stride;
      if (isLoad) {
        if (!read64(inst, a, v.words[i]))
          return false;
      } else if (!write64(inst, a, v.words[i])) {
        return false;
      }
      int b = bankOf(a, static_cast<uint32_t>(ddr.size()));
      touched[b] = true;
      perf.bankLanes[b]++;
    }
    // Timing: the cell is in order; a bank serves one stream at a time.
    double start = std::max(issueFpu(inst.cell), cell.freeAt);
    if (!isLoad)
      start = std::max(start, v.readyAt);
    double bankReady = 0;
    for (unsigned b = 0; b < touched.size(); ++b)
      if (touched[b])
        bankReady = std::max(bankReady, bankFreeAt[b]);
    if (bankReady > start) {
      perf.bankConflicts++;
      perf.bankConflictCycles += static_cast<uint64_t>(bankReady - start);
      start = bankReady;
    }
    for (unsigned b = 0; b < touched.size(); ++b)
      if (touched[b])
        bankFreeAt[b] = start + count;
    finishFpu(inst.cell, start, count);
    if (isLoad) {
      v.length = static_cast<int>(count);
      v.retrieve = 0;
      v.readyAt = start + count + config.perf.loadLatency;
      perf.fpuLoads++;
      perf.loadLanes += count;
    } else {
      perf.fpuStores++;
      perf.storeLanes += count;
    }
    perf.repHistogram[static_cast<int>(count)]++;
    return true;
  }
  case Opcode::FpuArith:
    return evalArith(inst);
  case Opcode::FpuCopy: {
    const VReg &src = cells[inst.srcCell].vregs[inst.srcVreg];
    if (src.length == 0)
      return fail(&inst, "copy from empty vreg" + std::to_string(inst.srcVreg) +
                             " of cell " + std::to_string(inst.srcCell));
    double start = std::max({issueFpu(inst.cell), cell.freeAt, src.readyAt});
    VReg &dst = cell.vregs[inst.vreg];
    dst.words = src.words;
    dst.length = src.length;
    dst.retrieve = 0;
    finishFpu(inst.cell, start, src.length);
    dst.readyAt = start + src.length + config.perf.copyLatency;
    perf.fpuCopies++;
    perf.copyLanes += src.length;
    perf.repHistogram[src.length]++;
    return true;
  }
  default:
    return fail(&inst, "internal: not an FPU instruction");
  }
}

namespace {
bool condHolds(Cond c, int32_t v) {
  switch (c) {
  case Cond::Always:
    return true;
  case Cond::Eq:
    return v == 0;
  case Cond::Ne:
    return v != 0;
  case Cond::Lt:
    return v < 0;
  case Cond::Le:
    return v <= 0;
  case Cond::Gt:
    return v > 0;
  case Cond::Ge:
    return v >= 0;
  }
  return false;
}
} // namespace

bool Simulator::execute(const Instruction &inst, int &pc, bool &returned,
                        int &pendingTarget, int &pendingCount,
                        bool inDelaySlot) {
  perf.instructions++;
  auto value = [&](const Operand &o) -> uint32_t {
    switch (o.kind) {
    case Operand::Kind::AR:
      return regs.ar[o.reg];
    case Operand::Kind::GR:
      return regs.gr[o.reg];
    case Operand::Kind::Imm:
      return static_cast<uint32_t>(o.imm);
    default:
      return 0;
    }
  };
  auto reg = [&](const Operand &o) -> uint32_t & {
    return o.kind == Operand::Kind::AR ? regs.ar[o.reg] : regs.gr[o.reg];
  };
  auto scalarTick = [&] {
    perf.scalar++;
    issueAt += config.perf.scalarCycles;
  };
  bool isControl = inst.opcode == Opcode::Branch ||
                   inst.opcode == Opcode::Call || inst.opcode == Opcode::Return;
  if (inDelaySlot && isControl)
    return fail(&inst,
                "control transfer in the delay slot of a delayed branch");

  switch (inst.opcode) {
  case Opcode::Nop:
    scalarTick();
    break;
  case Opcode::ScalarAlu: {
    uint32_t a = value(inst.a), b = value(inst.b), r = 0;
    switch (inst.alu) {
    case ScalarOp::Mov:
      r = a;
      break;
    case ScalarOp::Add:
      r = a + b;
      break;
    case ScalarOp::Sub:
      r = a - b;
      break;
    case ScalarOp::Shl:
      r = (b & 31) ? a << (b & 31) : a;
      break;
    case ScalarOp::Shr:
      r = (b & 31) ? a >> (b & 31) : a;
      break;
    case ScalarOp::And:
      r = a & b;
      break;
    case ScalarOp::Or:
      r = a | b;
      break;
    case ScalarOp::Xor:
      r = a ^ b;
      break;
    case ScalarOp::Neg:
      r = 0u - a;
      break;
    }
    reg(inst.dst) = r;
    if (inst.setsFlags)
      regs.flags = static_cast<int32_t>(r);
    scalarTick();
    break;
  }
  case Opcode::Test:
    regs.flags = static_cast<int32_t>(value(inst.dst));
    scalarTick();
    break;
  case Opcode::Load:
  case Opcode::Store: {
    uint32_t addr, stride;
    if (!effectiveAddress(inst, inst.mem, 1, 1, addr, stride))
      return false;
    if (inst.opcode == Opcode::Load) {
      uint32_t v;
      if (!read32(inst, addr, v))
        return false;
      reg(inst.dst) = v;
    } else if (!write32(inst, addr, value(inst.a))) {
      return false;
    }
    perf.scalarMemory++;
    scalarTick();
    break;
  }
  case Opcode::Push:
    if (!write32(inst, regs.ar[7]++, regs.ar[inst.a.reg]))
      return false;
    if (inst.b.kind == Operand::Kind::GR &&
        !write32(inst, regs.ar[7]++, regs.gr[inst.b.reg]))
      return false;
    perf.scalarMemory++;
    scalarTick();
    break;
  case Opcode::Pop: {
    uint32_t v;
    if (inst.b.kind == Operand::Kind::GR) {
      if (!read32(inst, --regs.ar[7], v))
        return false;
      regs.gr[inst.b.reg] = v;
    }
    if (!read32(inst, --regs.ar[7], v))
      return false;
    regs.ar[inst.a.reg] = v;
    perf.scalarMemory++;
    scalarTick();
    break;
  }
  case Opcode::SetVlen: {
    uint32_t v = value(inst.a);
    if (v > 31)
      return fail(&inst, "vlen " + std::to_string(v) +
                             " out of range (holds count-1, 0..31)");
    regs.vlen = v;
    scalarTick();
    break;
  }
  case Opcode::Branch:
  case Opcode::Call:
  case Opcode::Return: {
    perf.branches++;
    scalarTick();
    bool taken = condHolds(inst.cond, regs.flags);
    if (!taken)
      break;
    perf.takenBranches++;
    int target = inst.targetIndex;
    if (inst.opcode == Opcode::Call) {
      uint32_t ret = static_cast<uint32_t>(pc + (inst.delayed ? 2 : 0));
      if (!write32(inst, regs.ar[7]++, ret) || !write32(inst, regs.ar[7]++, 0))
        return false;
    } else if (inst.opcode == Opcode::Return) {
      uint32_t status, ret;
      regs.ar[7] -= 2;
      if (!read32(inst, regs.ar[7], ret) ||
          !read32(inst, regs.ar[7] + 1, status))
        return false;
      if (ret == kReturnSentinel)
        target = kStop;
      else if (ret >= prog.instructions.size())
        return fail(&inst, "return to invalid address " + hex(ret));
      else
        target = static_cast<int>(ret);
    }
    if (inst.delayed) {
      pendingTarget = target;
      pendingCount = 2;
    } else {
      issueAt += config.perf.takenBranchPenalty;
      if (target == kStop)
        returned = true;
      else
        pc = target;
    }
    break;
  }
  case Opcode::FpuLoad:
  case Opcode::FpuStore:
  case Opcode::FpuArith:
  case Opcode::FpuCopy:
    return execFpu(inst);
  }
  return true;
}

bool Simulator::runFrom(const std::string &label) {
  auto it = prog.labels.find(label);
  if (it == prog.labels.end())
    return fail(nullptr, "no label '" + label + "'");
  int pc = it->second;
  int pendingTarget = -1, pendingCount = 0;
  uint64_t steps = 0;
  while (true) {
    if (pc < 0 || pc >= static_cast<int>(prog.instructions.size()))
      return fail(nullptr, "execution ran past the end of the program");
    if (++steps > config.maxSteps)
      return fail(&prog.instructions[pc], "step limit of " +
                                              std::to_string(config.maxSteps) +
                                              " instructions exceeded");
    const Instruction &inst = prog.instructions[pc];
    bool inSlot = pendingCount > 0;
    int next = pc + 1;
    bool returned = false;
    if (!execute(inst, next, returned, pendingTarget, pendingCount, inSlot))
      return false;
    if (returned)
      break;
    if (inSlot && --pendingCount == 0) {
      if (pendingTarget == kStop)
        break;
      pc = pendingTarget;
      continue;
    }
    pc = next;
  }
  double end = issueAt;
  for (const Cell &c : cells)
    end = std::max(end, c.freeAt);
  for (double b : bankFreeAt)
    end = std::max(end, b);
  perf.cycles = static_cast<uint64_t>(end + 0.5);
  return true;
}

bool Simulator::call(const std::string &symbol,
                     const std::vector<CallArg> &args) {
  lastError.clear();
  if (std::find(prog.globals.begin(), prog.globals.end(), symbol) ==
      prog.globals.end())
    return fail(nullptr, "symbol '" + symbol +
                             "' is not a .global of the "
                             "loaded program");
  // Arguments: the last is pushed first so the first ends at the highest
  // address; 64-bit values are even-aligned (CONVENTN.pdf).
  uint32_t sp = stackPointer;
  for (size_t i = args.size(); i-- > 0;) {
    const CallArg &a = args[i];
    if (a.is64) {
      if (sp & 1)
        ++sp;
      if (!validRange(sp, 2))
        return fail(nullptr, "stack overflows memory");
      writeWord(sp++, static_cast<uint32_t>(a.value));
      writeWord(sp++, static_cast<uint32_t>(a.value >> 32));
    } else {
      if (!validRange(sp, 1))
        return fail(nullptr, "stack overflows memory");
      writeWord(sp++, static_cast<uint32_t>(a.value));
    }
  }
  if (!validRange(sp, 2))
    return fail(nullptr, "stack overflows memory");
  writeWord(sp++, kReturnSentinel);
  writeWord(sp++, 0);
  regs.ar[7] = sp;
  Regs saved = regs;
  perf = PerfStats();
  resetTiming();
  if (!runFrom(symbol))
    return false;
  if (regs.ar[7] != sp - 2)
    return fail(nullptr, "stack pointer ar7 not restored on return (" +
                             hex(regs.ar[7]) + ", expected " + hex(sp - 2) +
                             ")");
  for (int r : {0, 1, 2, 3, 4, 6})
    if (regs.ar[r] != saved.ar[r])
      return fail(nullptr, "callee-saved register ar" + std::to_string(r) +
                               " clobbered");
  for (int r = 0; r <= 5; ++r)
    if (regs.gr[r] != saved.gr[r])
      return fail(nullptr, "callee-saved register gr" + std::to_string(r) +
                               " clobbered");
  return true;
}

std::string PerfStats::toJson(const PerfConfig &cfg) const {
  std::ostringstream os;
  double peak = usedF32 ? cfg.peakGflopsF32 : cfg.peakGflopsF64;
  double g = gflops(cfg.clockGHz);
  os << "{\"cycles\":" << cycles << ",\"flops\":" << flops
     << ",\"gflops\":" << g << ",\"peak_gflops\":" << peak
     << ",\"efficiency\":" << (peak > 0 ? g / peak : 0.0)
     << ",\"instructions\":" << instructions << ",\"scalar\":" << scalar
     << ",\"scalar_memory\":" << scalarMemory << ",\"branches\":" << branches
     << ",\"taken_branches\":" << takenBranches << ",\"fpu_loads\":" << fpuLoads
     << ",\"fpu_stores\":" << fpuStores << ",\"fpu_arith\":" << fpuArith
     << ",\"fpu_copies\":" << fpuCopies << ",\"load_lanes\":" << loadLanes
     << ",\"store_lanes\":" << storeLanes << ",\"arith_lanes\":" << arithLanes
     << ",\"fma_lanes\":" << fmaLanes << ",\"bank_conflicts\":" << bankConflicts
     << ",\"bank_conflict_cycles\":" << bankConflictCycles
     << ",\"queue_stall_cycles\":" << queueStallCycles << ",\"rep\":{";
  bool first = true;
  for (auto &[len, n] : repHistogram) {
    os << (first ? "" : ",") << "\"" << len << "\":" << n;
    first = false;
  }
  os << "},\"bank_words\":[";
  for (size_t b = 0; b < bankLanes.size(); ++b)
    os << (b ? "," : "") << 2 * bankLanes[b];
  os << "],\"cell_busy\":[";
  for (size_t c = 0; c < cellBusy.size(); ++c)
    os << (c ? "," : "") << cellBusy[c];
  os << "]}";
  return os.str();
}

} // namespace kan::nmcsim
