//===- Axpy.cpp - NMC4 FPU vector multiply-add kernel emitter -------------===//
//
// kan_nmc_axpy_f64(a, x, y, n): y[i] = y[i] + a[0] * x[i], n >= 0 doubles.
// Every cell loads a[0] into vreg1 (rep 1) and hands it out with
// .retrive, which repeats a one-element register (nmpp's dgemv alpha).
// Blocks of 32: each step gives one block to each of the four cells
// (x block in vreg0, y block in vreg2, one multiply-add, y stored back), so
// the cells' lanes run side by side; the 0-3 blocks left run on cell 0, and
// the last n % 32 elements with `rep vlen`. The multiply-add is the C
// path's `y + a * x` (docs/NMC4-ASM.md: rounded twice under the
// simulator, as in C). x and y should sit in different banks.
//
//===----------------------------------------------------------------------===//
#include "kan/Target/NMQuad/Kernels/Axpy.h"

#include <sstream>
#include <vector>

namespace kan::nmquad {

namespace {
void inst(std::ostringstream &os, const std::string &i,
          const std::string &why = "") {
  std::string line = "    " + i + ";";
  if (!why.empty()) {
    line.resize(std::max<size_t>(line.size() + 1, 48), ' ');
    line += "// " + why;
  }
  os << line << "\n";
}
std::string cell(int c) { return "fpu " + std::to_string(c) + " "; }
} // namespace

std::string axpySymbol() { return "_kan_nmc_axpy_f64"; }

std::string emitAxpyF64() {
  std::ostringstream os;
  std::string sym = axpySymbol();
  os << "// " << sym << ": y = y + a[0] * x (see runtime/nmc/kan_nmc_axpy.h).\n"
     << "// Arguments (words): a, x, y, n at ar6-5 .. ar6-8.\n"
     << "    .global " << sym << "\n    .section .text\n"
     << sym << ":\n";
  inst(os, "push ar6, gr6", "frame: ar6 = entry stack top");
  inst(os, "ar6 = ar7");
  for (int r = 0; r <= 5; ++r)
    inst(os, "push ar" + std::to_string(r) + ", gr" + std::to_string(r),
         r == 0 ? "callee-saved ar0-ar4, gr0-gr5 (ar5 too)" : "");
  inst(os, "ar0 = [ar6-5]", "a");
  inst(os, "ar1 = [ar6-6]", "x");
  inst(os, "ar2 = [ar6-7]", "y");
  inst(os, "gr2 = [ar6-8]", "n");
  for (int c = 0; c < 4; ++c)
    inst(os, cell(c) + "rep 1 vreg1 = [ar0]", c == 0 ? "a[0] in every cell" : "");
  // Groups of four blocks, one per cell.
  inst(os, "gr3 = gr2 >> 7", "groups of 4 x 32 elements");
  inst(os, "if <= goto rest_axpy");
  os << "group_axpy:\n";
  inst(os, "ar3 = ar2", "y blocks in");
  for (int c = 0; c < 4; ++c)
    inst(os, cell(c) + "rep 32 vreg2 = [ar3++]");
  for (int c = 0; c < 4; ++c)
    inst(os, cell(c) + "rep 32 vreg0 = [ar1++]", c == 0 ? "x blocks" : "");
  for (int c = 0; c < 4; ++c)
    inst(os, cell(c) + ".double vreg2 = vreg0 * .retrive(vreg1) + vreg2");
  for (int c = 0; c < 4; ++c)
    inst(os, cell(c) + "rep 32 [ar2++] = vreg2", c == 0 ? "y blocks out" : "");
  inst(os, "gr3--");
  inst(os, "if <>0 goto group_axpy");
  // Whole blocks left (0-3), on cell 0.
  os << "rest_axpy:\n";
  inst(os, "gr3 = gr2 >> 5");
  inst(os, "gr4 = 3");
  inst(os, "gr3 = gr3 and gr4", "blocks left after the groups");
  inst(os, "if =0 goto tail_axpy");
  os << "block_axpy:\n";
  inst(os, "ar3 = ar2");
  inst(os, cell(0) + "rep 32 vreg2 = [ar3++]");
  inst(os, cell(0) + "rep 32 vreg0 = [ar1++]");
  inst(os, cell(0) + ".double vreg2 = vreg0 * .retrive(vreg1) + vreg2");
  inst(os, cell(0) + "rep 32 [ar2++] = vreg2");
  inst(os, "gr3--");
  inst(os, "if <>0 goto block_axpy");
  // The last n % 32 elements: rep vlen (vlen holds count - 1).
  os << "tail_axpy:\n";
  inst(os, "gr4 = 31");
  inst(os, "gr3 = gr2 and gr4");
  inst(os, "if =0 goto ret_axpy");
  inst(os, "gr3--");
  inst(os, "vlen = gr3");
  inst(os, "ar3 = ar2");
  inst(os, cell(0) + "rep vlen vreg2 = [ar3++]");
  inst(os, cell(0) + "rep vlen vreg0 = [ar1++]");
  inst(os, cell(0) + ".double vreg2 = vreg0 * .retrive(vreg1) + vreg2");
  inst(os, cell(0) + "rep vlen [ar2++] = vreg2");
  os << "ret_axpy:\n";
  for (int r = 5; r >= 0; --r)
    inst(os, "pop ar" + std::to_string(r) + ", gr" + std::to_string(r));
  inst(os, "pop ar6, gr6");
  inst(os, "return");
  return os.str();
}

} // namespace kan::nmquad
