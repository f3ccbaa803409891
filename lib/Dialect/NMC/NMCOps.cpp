//===- NMCOps.cpp - verifiers of the nmc dialect ----------------*- C++ -*-===//
//
// The verifiers encode the hard limits of the NMC4 core and the NM Quad
// board (docs/NMQUAD-RUNTIME.md): 64 KB banks, bank 0 shared with code and
// stack, one stream per bank per kernel, 1..4 chips of 1..16 cores, at most
// 8 cores of a chip on DDR at once.
//
//===----------------------------------------------------------------------===//

#include "kan/Dialect/NMC/NMCOps.h"

#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace mlir::nmc;

#define GET_OP_CLASSES
#include "kan/Dialect/NMC/NMCOps.cpp.inc"

LogicalResult ScheduleOp::verify() {
  if (getChips() < 1 || getChips() > 4)
    return emitOpError() << "chips must be 1..4 (an NM Quad has 4 NM6408), got "
                         << getChips();
  if (getCores() < 1 || getCores() > 16)
    return emitOpError() << "cores must be 1..16 (NMC4 cores of one chip), got "
                         << getCores();
  if (getDdrStreams() < 1 || getDdrStreams() > 8)
    return emitOpError()
           << "ddr_streams must be 1..8 (more than 8 cores of a chip on DDR "
              "hang), got "
           << getDdrStreams();
  if (getBatch() < 1)
    return emitOpError() << "batch must be positive";
  return success();
}

LogicalResult ProgramOp::verify() {
  int64_t used[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (auto buf : getBody().front().getOps<BankBufferOp>()) {
    int64_t b = buf.getBank();
    if (b < ProgramOp::kCodeBanks || b > 7)
      continue; // reported by the buffer
    // The runtime packs buffers with 2-word (fp64) alignment.
    used[b] += (buf.getWords() + 1) & ~int64_t(1);
    if (used[b] > bankCapacity(b))
      return buf.emitOpError()
             << "overflows bank " << b << ": " << used[b] << " words of "
             << bankCapacity(b) << " available for buffers";
  }
  return success();
}

LogicalResult BankBufferOp::verify() {
  if ((int64_t)getBank() < 0 || (int64_t)getBank() > 7)
    return emitOpError() << "bank must be 0..7 (NMMB0-7), got " << getBank();
  if (getWords() < 1)
    return emitOpError() << "needs a positive size in words";
  int64_t cap = ProgramOp::bankCapacity(getBank());
  if (cap == 0)
    return emitOpError() << "cannot use bank " << getBank()
                         << ": banks 0-1 hold the code, data and stack";
  if ((int64_t)getWords() > cap)
    return emitOpError() << "of " << getWords() << " words does not fit bank "
                         << getBank() << " (" << cap
                         << " words available for buffers)";
  if (getDoubleBuffered() && getWords() % 4 != 0)
    return emitOpError()
           << "double-buffered size must be two fp64-aligned halves (a "
              "multiple of 4 words)";
  return success();
}

LogicalResult DdrBufferOp::verify() {
  if ((int64_t)getAddr() < 0 || (int64_t)getWords() < 1)
    return emitOpError() << "needs a non-negative address and a positive size";
  if (getAddr() % 2)
    return emitOpError() << "address must be fp64-aligned (even)";
  if (getKind() == DdrKind::param && (!getName() || !getShape()))
    return emitOpError() << "of kind param needs a name and a shape";
  return success();
}

LogicalResult LayerOp::verify() {
  if (getInputs() < 1 || getOutputs() < 1 || getGridSize() < 1 ||
      (int64_t)getOrder() < 0)
    return emitOpError() << "needs positive inputs, outputs, grid_size";
  if (getChunk() < 1 || getChunk() > getInputs())
    return emitOpError() << "chunk must be 1..inputs";
  if (getTileRows() < 1 || getTileRows() > 24)
    return emitOpError() << "tile_rows must be 1..24 (largest tile kernel)";
  return success();
}

/// The buffer a symbol names in the enclosing program, or null.
template <typename OpT> static OpT lookup(Operation *from, StringRef name) {
  auto prog = from->getParentOfType<ProgramOp>();
  if (!prog)
    return nullptr;
  return dyn_cast_or_null<OpT>(SymbolTable::lookupSymbolIn(prog, name));
}

/// Row counts of the f64 x 32 tile kernels (lib/Target/NMQuad/Kernels).
bool mlir::nmc::isF64TileRows(int64_t m) {
  return (m >= 1 && m <= 4) || (m > 4 && m <= 24 && m % 4 == 0);
}

bool mlir::nmc::isF32TileRows(int64_t m) {
  return (m >= 1 && m <= 4) || m == 8 || m == 12;
}

bool mlir::nmc::isTileRows(Precision p, int64_t m) {
  return p == Precision::f64 ? isF64TileRows(m) : isF32TileRows(m);
}

LogicalResult KernelOp::verify() {
  if (getPrecision() == Precision::f32) {
    if (getN() != 64 || !isF32TileRows(getM()))
      return emitOpError() << "has no f32 kernel for m = " << getM()
                           << ", n = " << getN()
                           << " (n = 64; m = 1..4, 8, 12)";
    return success();
  }
  if (getN() != 32 || !isF64TileRows(getM()))
    return emitOpError() << "has no f64 kernel for m = " << getM()
                         << ", n = " << getN()
                         << " (n = 32; m = 1..4, 8, 12, 16, 20, 24)";
  return success();
}

LogicalResult PackTangentOp::verify() {
  if (getStreams().size() != 3)
    return emitOpError() << "needs the three streams (base, spline, scaler)";
  if (getDist() == Dist::sparse_ternary)
    return emitOpError() << "packs dense perturbations; sparse ones are "
                            "applied by nmc.sparse_tangent";
  auto packed = lookup<DdrBufferOp>(*this, getPacked());
  auto stage = lookup<BankBufferOp>(*this, getStage());
  auto draws = lookup<BankBufferOp>(*this, getDraws());
  if (!packed || !stage || !draws)
    return emitOpError() << "packs into a DDR buffer through two bank "
                            "buffers of the program";
  return success();
}

LogicalResult FillOp::verify() {
  auto b = lookup<BankBufferOp>(*this, getBuffer());
  if (!b)
    return emitOpError() << "fills a bank buffer of the program";
  if (getWords() < 1 || getWords() > b.getWords())
    return emitOpError() << "of " << getWords() << " words overruns @"
                         << getBuffer();
  return success();
}

LogicalResult CopyOp::verify() {
  auto sb = lookup<BankBufferOp>(*this, getSrc());
  auto db = lookup<BankBufferOp>(*this, getDst());
  auto sd = lookup<DdrBufferOp>(*this, getSrc());
  auto dd = lookup<DdrBufferOp>(*this, getDst());
  if (!((sb && dd) || (sd && db)))
    return emitOpError()
           << "copies between a DDR buffer and a bank buffer of the program";
  BankBufferOp bank = sb ? sb : db;
  DdrBufferOp ddr = sd ? sd : dd;
  int64_t room = bank.getWords() / (getDoubleBuffered() ? 2 : 1);
  if (getDoubleBuffered() && !bank.getDoubleBuffered())
    return emitOpError() << "is double-buffered but bank buffer @"
                         << bank.getSymName() << " is not";
  if ((int64_t)getWords() < 1 || (int64_t)getWords() > room)
    return emitOpError() << "of " << getWords() << " words overruns bank buffer @"
                         << bank.getSymName() << " (" << room
                         << " words per copy)";
  if (getWords() > ddr.getWords())
    return emitOpError() << "of " << getWords() << " words overruns DDR buffer @"
                         << ddr.getSymName();
  return success();
}

LogicalResult GemmTileOp::verify() {
  if (getM() < 1 || getN() < 1 || getK() < 1)
    return emitOpError() << "needs positive m, n, k";
  StringRef names[3] = {getA(), getBt(), getC()};
  const char *roles[3] = {"A panel", "Bt panel", "C tile"};
  int64_t m = getM(), n = getN(), k = getK();
  auto prog = (*this)->getParentOfType<ProgramOp>();
  Precision prec = prog ? prog.getPrecision() : Precision::f64;
  int64_t w = wordsPerElement(prec);
  if (prec == Precision::f32 && k % 64 != 0)
    return emitOpError() << "f32 tiles take K in blocks of 64, got k = " << k;
  int64_t need[3] = {w * m * k, w * k * n, w * m * n};
  BankBufferOp bufs[3];
  for (int i = 0; i < 3; ++i) {
    bufs[i] = lookup<BankBufferOp>(*this, names[i]);
    if (!bufs[i])
      return emitOpError() << "the " << roles[i] << " @" << names[i]
                           << " must be a bank buffer of the program";
    int64_t room = bufs[i].getWords() / (bufs[i].getDoubleBuffered() ? 2 : 1);
    if (i == 2)
      room = bufs[i].getWords(); // C holds every 32-wide block of the tile
    if (need[i] > room)
      return emitOpError() << "the " << roles[i] << " needs " << need[i]
                           << " words but @" << names[i] << " has " << room;
  }
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      if (bufs[i].getBank() == bufs[j].getBank())
        return emitOpError() << "the " << roles[i] << " and the " << roles[j]
                             << " are both in bank " << bufs[i].getBank()
                             << ": two streams in one bank serialise";
  // Greedy cover of 1..m rows: largest first, starting at m, ending at 1.
  int64_t prev = m + 1, first = -1, last = -1;
  for (Attribute a : getKernels()) {
    auto ref = cast<SymbolRefAttr>(a);
    auto kernel = lookup<KernelOp>(*this, ref.getRootReference().getValue());
    if (!kernel)
      return emitOpError() << "calls " << ref << ", which is not an nmc.kernel "
                           << "of the program";
    if (kernel.getPrecision() != prec)
      return emitOpError() << "calls " << ref << " of precision "
                           << stringifyPrecision(kernel.getPrecision())
                           << " in a program of " << stringifyPrecision(prec);
    if ((int64_t)kernel.getN() != n)
      return emitOpError() << "calls " << ref << " of n = " << kernel.getN()
                           << " for a tile of n = " << n;
    if ((int64_t)kernel.getM() >= prev)
      return emitOpError() << "kernels must be listed largest first";
    prev = kernel.getM();
    if (first < 0)
      first = kernel.getM();
    last = kernel.getM();
  }
  if (first != m || last != 1)
    return emitOpError() << "kernels must start with one of m = " << m
                         << " rows and end with one of 1 row";
  return success();
}
