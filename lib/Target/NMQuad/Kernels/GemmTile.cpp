//===- GemmTile.cpp - NMC4 FPU GEMM tile micro-kernel emitter -------------===//
//
// Schedule (f64, n = 32): the m rows of C are split over `cells` FPU cells,
// `r` rows each, held in vreg2..vreg(1+r) for the whole call (C is loaded
// once and stored once). For every k each cell loads
//   vreg1 <- A[rows of the cell, k]  (rep r, stride 2*kk words: a column)
//   vreg0 <- Bt[k, 0..31]            (rep 32)
// and issues r multiply-adds `vreg(2+j) = vreg0 * .retrive(vreg1) + vreg(2+j)`:
// .retrive hands out A[row j, k] one per instruction, as nmpp's fpu_dgemv
// does with x. Per k and cell: r*32 multiply-add cycles against 32 + r load
// cycles, hence r = 6 (m = 24) for the main tile. The three streams stay in
// three banks (A, Bt, C) as the contract requires.
//
// f32 (n = 64, two floats per 64-bit lane): A columns are not 64-bit
// addressable, so each cell keeps one A row block of 64 floats per C row in
// vreg5..vreg(4+r) and retrieves its 64 values one k at a time; r <= 3.
//
//===----------------------------------------------------------------------===//
#include "kan/Target/NMQuad/Kernels/GemmTile.h"

#include <algorithm>
#include <sstream>

namespace kan::nmquad {

namespace {

constexpr int kF64Ms[] = {1, 2, 3, 4, 8, 12, 16, 20, 24};
constexpr int kF32Ms[] = {1, 2, 3, 4, 8, 12};

/// Collects assembly lines; instructions are indented, labels are not.
class AsmWriter {
public:
  void label(const std::string &l) { os << l << ":\n"; }
  void directive(const std::string &d) { os << "    " << d << "\n"; }
  void comment(const std::string &c) { os << "// " << c << "\n"; }
  void inst(const std::string &i, const std::string &why = "") {
    std::string line = "    " + i + ";";
    if (!why.empty()) {
      line.resize(std::max<size_t>(line.size() + 1, 48), ' ');
      line += "// " + why;
    }
    os << line << "\n";
  }
  std::string str() const { return os.str(); }

private:
  std::ostringstream os;
};

std::string vreg(int i) { return "vreg" + std::to_string(i); }
std::string fpu(int cell) { return "fpu " + std::to_string(cell) + " "; }

/// Prologue of CONVENTN.pdf functions as nmpp writes them: frame pointer in
/// ar6, first argument at ar6-5, then every register the body uses saved.
void emitPrologue(AsmWriter &w, const std::string &sym,
                  const std::string &layoutNote) {
  w.comment(sym + ": C += A * Bt (see runtime/nmc/kan_nmc_tile.h).");
  w.comment(layoutNote);
  w.comment("Arguments (words): A, Bt, C, m, n, kk at ar6-5 .. ar6-10.");
  w.directive(".global " + sym);
  w.directive(".section .text");
  w.label(sym);
  w.inst("push ar6, gr6", "frame: ar6 = entry stack top");
  w.inst("ar6 = ar7");
  for (int r = 0; r <= 5; ++r)
    w.inst("push ar" + std::to_string(r) + ", gr" + std::to_string(r),
           r == 0 ? "callee-saved ar0-ar4, gr0-gr5 (ar5 too)" : "");
  w.inst("ar0 = [ar6-5]", "A");
  w.inst("ar1 = [ar6-6]", "Bt");
  w.inst("ar2 = [ar6-7]", "C");
  w.inst("gr2 = [ar6-10]", "kk");
}

void emitEpilogue(AsmWriter &w, const std::string &retLabel) {
  w.label(retLabel);
  for (int r = 5; r >= 0; --r)
    w.inst("pop ar" + std::to_string(r) + ", gr" + std::to_string(r));
  w.inst("pop ar6, gr6");
  w.inst("return");
}

/// Loads (or stores) the C rows: cell c holds rows c*r .. c*r+r-1 in
/// vreg2.., walking C with one post-incremented pointer.
void emitCTransfer(AsmWriter &w, const TileLayout &l, bool load) {
  w.inst("ar3 = ar2", load ? "C rows -> accumulators" : "accumulators -> C");
  for (int c = 0; c < l.cells; ++c)
    for (int j = 0; j < l.rowsPerCell; ++j) {
      std::string v = vreg(2 + j);
      w.inst(fpu(c) + "rep " + std::to_string(l.lanes) + " " +
             (load ? v + " = [ar3++]" : "[ar3++] = " + v));
    }
}

/// Emits the loop-closing branch with its two delay slots filled by the last
/// instructions of \p body (nmpp's `if <>0 delayed goto` idiom).
void emitLoopTail(AsmWriter &w, std::vector<std::string> body,
                  const std::string &loopLabel) {
  size_t slots = std::min<size_t>(2, body.size());
  for (size_t i = 0; i + slots < body.size(); ++i)
    w.inst(body[i]);
  w.inst("if <>0 delayed goto " + loopLabel, "2 delay slots follow");
  for (size_t i = body.size() - slots; i < body.size(); ++i)
    w.inst(body[i]);
  for (size_t i = slots; i < 2; ++i)
    w.inst("nul");
}

std::string symbolSuffix(const TileShape &s) {
  return std::string(s.precision == TilePrecision::F64 ? "f64_" : "f32_") +
         std::to_string(s.m) + "x" + std::to_string(s.n);
}

} // namespace

bool isSupportedTile(const TileShape &s, std::string *why) {
  auto no = [&](const std::string &msg) {
    if (why)
      *why = msg;
    return false;
  };
  bool f64 = s.precision == TilePrecision::F64;
  int wantN = f64 ? 32 : 64;
  if (s.n != wantN)
    return no("n must be " + std::to_string(wantN) + " (one vreg per C row)");
  bool mOk = f64 ? std::count(std::begin(kF64Ms), std::end(kF64Ms), s.m)
                 : std::count(std::begin(kF32Ms), std::end(kF32Ms), s.m);
  if (!mOk)
    return no(std::string("m must be one of ") +
              (f64 ? "1,2,3,4,8,12,16,20,24" : "1,2,3,4,8,12"));
  if (s.kk > 0 && !f64 && s.kk % kF32KBlock != 0)
    return no("kk must be a multiple of 64 for f32");
  return true;
}

TileLayout tileLayout(const TileShape &s) {
  TileLayout l;
  if (!isSupportedTile(s))
    return l;
  l.cells = std::min(s.m, 4);
  l.rowsPerCell = s.m / l.cells;
  l.lanes = 32;
  return l;
}

std::string tileSymbol(const TileShape &s) {
  return "_kan_nmc_gemm_tile_" + symbolSuffix(s);
}

std::vector<TileShape> supportedTileShapes(TilePrecision p, int kk) {
  std::vector<TileShape> out;
  if (p == TilePrecision::F64)
    for (int m : kF64Ms)
      out.push_back({m, 32, kk, p});
  else
    for (int m : kF32Ms)
      out.push_back({m, 64, kk, p});
  return out;
}

std::string emitGemmTileF64(const TileShape &shape) {
  TileShape s = shape;
  s.precision = TilePrecision::F64;
  if (!isSupportedTile(s))
    return "";
  TileLayout l = tileLayout(s);
  const int r = l.rowsPerCell;
  std::string sym = tileSymbol(s);
  std::string tag = symbolSuffix(s);
  AsmWriter w;
  emitPrologue(w, sym,
               "f64: " + std::to_string(l.cells) + " FPU cells x " +
                   std::to_string(r) + " C rows (vreg2..vreg" +
                   std::to_string(1 + r) +
                   "); per k: vreg1 = A column, vreg0 = Bt row.");
  w.inst("gr2", "kk <= 0: nothing to do");
  w.inst("if <= goto ret_" + tag);
  w.inst("gr3 = gr2 << 1", "A row stride: 2*kk words");
  emitCTransfer(w, l, /*load=*/true);

  w.label("k_" + tag);
  w.inst("ar4 = ar0", "A[0, k]");
  for (int c = 0; c < l.cells; ++c)
    w.inst(fpu(c) + "rep " + std::to_string(r) + " vreg1 = [ar4++gr3]",
           c == 0 ? "A[c*r .. c*r+r-1, k], bank A" : "");
  for (int c = 0; c < l.cells; ++c) {
    w.inst("ar5 = ar1", c == 0 ? "Bt[k, :], bank Bt" : "");
    w.inst(fpu(c) + "rep 32 vreg0 = [ar5++]");
  }
  w.inst("ar1 = ar5", "next Bt row");
  w.inst("ar0 += 2", "next A column");
  w.inst("gr2--");
  std::vector<std::string> fmas;
  for (int j = 0; j < r; ++j)
    for (int c = 0; c < l.cells; ++c)
      fmas.push_back(fpu(c) + ".double " + vreg(2 + j) +
                     " = vreg0 * .retrive(vreg1) + " + vreg(2 + j));
  emitLoopTail(w, fmas, "k_" + tag);

  emitCTransfer(w, l, /*load=*/false);
  emitEpilogue(w, "ret_" + tag);
  return w.str();
}

std::string emitGemmTileF32(const TileShape &shape) {
  TileShape s = shape;
  s.precision = TilePrecision::F32;
  if (!isSupportedTile(s))
    return "";
  TileLayout l = tileLayout(s);
  const int r = l.rowsPerCell;
  std::string sym = tileSymbol(s);
  std::string tag = symbolSuffix(s);
  AsmWriter w;
  emitPrologue(w, sym,
               "f32: " + std::to_string(l.cells) + " FPU cells x " +
                   std::to_string(r) + " C rows (vreg2..vreg" +
                   std::to_string(1 + r) + "), A row blocks in vreg5..vreg" +
                   std::to_string(4 + r) + ", Bt row in vreg0.");
  w.inst("gr3 = gr2", "A row stride: kk words");
  w.inst("gr2 = gr2 >> 6", "number of 64-wide k blocks");
  w.inst("if <= goto ret_" + tag);
  emitCTransfer(w, l, /*load=*/true);

  w.label("kb_" + tag);
  w.inst("ar4 = ar0", "A[0, kb*64]");
  for (int c = 0; c < l.cells; ++c)
    for (int j = 0; j < r; ++j) {
      w.inst("ar5 = ar4");
      w.inst(fpu(c) + "rep 32 " + vreg(5 + j) + " = [ar5++]",
             "A[c*r+j, kb*64 .. +63], bank A");
      w.inst("ar4 += gr3");
    }
  w.inst("ar0 += 64", "next A block");
  w.inst("gr4 = 64");

  w.label("k_" + tag);
  for (int c = 0; c < l.cells; ++c) {
    w.inst("ar5 = ar1", c == 0 ? "Bt[k, :], bank Bt" : "");
    w.inst(fpu(c) + "rep 32 vreg0 = [ar5++]");
  }
  w.inst("ar1 = ar5", "next Bt row");
  w.inst("gr4--");
  std::vector<std::string> fmas;
  for (int j = 0; j < r; ++j)
    for (int c = 0; c < l.cells; ++c)
      fmas.push_back(fpu(c) + ".float " + vreg(2 + j) + " = vreg0 * .retrive(" +
                     vreg(5 + j) + ") + " + vreg(2 + j));
  emitLoopTail(w, fmas, "k_" + tag);
  w.inst("gr2--");
  w.inst("if <>0 goto kb_" + tag);

  emitCTransfer(w, l, /*load=*/false);
  emitEpilogue(w, "ret_" + tag);
  return w.str();
}

std::string emitGemmTile(const TileShape &s) {
  return s.precision == TilePrecision::F64 ? emitGemmTileF64(s)
                                           : emitGemmTileF32(s);
}

} // namespace kan::nmquad
