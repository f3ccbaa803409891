//===- Program.h - Parsed NMC4 assembly for the simulator -------*- C++ -*-===//
//
// The instruction subset the NMC4 FPU tile kernels use (see docs/NMC4-ASM.md
// for the syntax, the semantics and where each comes from). The parser accepts
// exactly this subset and reports anything else as "line:col: message".
//
//===----------------------------------------------------------------------===//
#ifndef KAN_NMCSIM_PROGRAM_H
#define KAN_NMCSIM_PROGRAM_H

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kan::nmcsim {

struct SourceLoc {
  unsigned line = 0;
  unsigned column = 0;
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  /// "<buffer>:line:col: error: message".
  std::string str(std::string_view buffer = "<input>") const;
};

/// A scalar register or an immediate/label value.
struct Operand {
  enum class Kind { None, AR, GR, Imm, Label };
  Kind kind = Kind::None;
  int reg = 0;
  int64_t imm = 0;
  std::string label;
  bool isReg() const { return kind == Kind::AR || kind == Kind::GR; }
};

/// A memory reference `[...]`; addresses are in 32-bit words.
struct MemRef {
  enum class Mode {
    Plain,     // [arN]
    PostInc,   // [arN++]       (+1 word scalar, +2 words per 64-bit element)
    PostIncGr, // [arN++grM]    (+grM words per element)
    PreDec,    // [--arN]       (-1 word scalar, -2 words 64-bit)
    PreAddImm, // [arN+=imm] / [arN-=imm]: modify, then access
    PreAddGr,  // [arN+=grM]
    Offset,    // [arN+imm] / [arN-imm]: no modification
  };
  Mode mode = Mode::Plain;
  int base = 0; // arN
  int gr = 0;   // grM for PostIncGr / PreAddGr
  int64_t imm = 0;
};

enum class Cond { Always, Eq, Ne, Lt, Le, Gt, Ge };

enum class ScalarOp { Mov, Add, Sub, Shl, Shr, And, Or, Xor, Neg };

enum class Precision { Double, Float };

/// One source of an FPU arithmetic instruction.
struct VecSrc {
  int vreg = -1;
  bool retrieve = false; // `.retrive(vregN)`: broadcast the next element
};

enum class Opcode {
  Nop,       // nul
  ScalarAlu, // dst = a [op b]
  Test,      // grN;  (sets flags)
  Load,      // reg = [mem]
  Store,     // [mem] = reg
  Push,      // push arN, grN
  Pop,       // pop arN, grN
  SetVlen,   // vlen = grN | imm
  Branch,    // [if cond] [delayed] goto L
  Call,      // [delayed] call L
  Return,    // [delayed] return
  FpuLoad,   // fpu C rep N vregX = [mem]
  FpuStore,  // fpu C rep N [mem] = vregX
  FpuArith,  // fpu C .double|.float vregD = [-]x [* y] [+|- z]
  FpuCopy,   // fpu C vregX = fpu D vregY
};

struct Instruction {
  Opcode opcode = Opcode::Nop;
  SourceLoc loc;
  std::string text; // the statement as written, for reports

  // Scalar.
  ScalarOp alu = ScalarOp::Mov;
  Operand dst, a, b;
  MemRef mem;
  bool setsFlags = false;

  // Control flow.
  Cond cond = Cond::Always;
  bool delayed = false;
  std::string target;
  int targetIndex = -1;

  // FPU.
  int cell = 0;
  int rep = 0;          // element count; 0 with repVlen means `rep vlen`
  bool repVlen = false; // count = vlen + 1
  int vreg = 0;         // load/store register, arith destination, copy dest
  Precision precision = Precision::Double;
  VecSrc x, y, z; // x [* y] [+|- z]
  bool negateProduct = false;
  bool subtractZ = false;
  int srcCell = 0, srcVreg = 0; // copy source
};

struct Program {
  std::vector<Instruction> instructions;
  std::map<std::string, int> labels; // label -> instruction index
  std::vector<std::string> globals;
};

/// Parses \p text. On failure returns false and fills \p diags (every error
/// found, each with line:column); never throws.
bool parseProgram(std::string_view text, Program &program,
                  std::vector<Diagnostic> &diags);

} // namespace kan::nmcsim

#endif // KAN_NMCSIM_PROGRAM_H
