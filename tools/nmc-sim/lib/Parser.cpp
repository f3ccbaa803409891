//===- Parser.cpp - Parser for the NMC4 assembly subset -------------------===//
//
// A line-oriented recursive-descent parser. Statements end with ';'; labels
// are `name:` (GNU form) or `<name>` (nmpp's legacy form). Every error keeps
// its line:column and parsing resumes at the next statement, so one run
// reports all problems and malformed input never aborts the process.
//
//===----------------------------------------------------------------------===//
#include "nmcsim/Program.h"

#include <cctype>
#include <cstdlib>
#include <set>

namespace kan::nmcsim {

std::string Diagnostic::str(std::string_view buffer) const {
  return std::string(buffer) + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.column) + ": error: " + message;
}

namespace {

struct Token {
  enum class Kind { Ident, Number, Punct, End };
  Kind kind = Kind::End;
  std::string text;
  unsigned col = 0;
  int64_t value = 0;
};

struct ParseError {
  unsigned col;
  std::string message;
};

/// Replaces comments by spaces, keeping newlines so positions stay valid.
std::string stripComments(std::string_view text) {
  std::string out(text);
  size_t i = 0;
  while (i < out.size()) {
    if (out[i] == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      while (i < out.size() && out[i] != '\n')
        out[i++] = ' ';
    } else if (out[i] == '/' && i + 1 < out.size() && out[i + 1] == '*') {
      while (i < out.size() &&
             !(out[i] == '*' && i + 1 < out.size() && out[i + 1] == '/')) {
        if (out[i] != '\n')
          out[i] = ' ';
        ++i;
      }
      if (i < out.size()) {
        out[i] = out[i + 1] = ' ';
        i += 2;
      }
    } else {
      ++i;
    }
  }
  return out;
}

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

/// Tokenises one line. Throws ParseError on a character outside the syntax.
std::vector<Token> lexLine(std::string_view line) {
  static const char *puncts[] = {"<<=", ">>=", "++", "--", "+=", "-=", "<<",
                                 ">>",  "<>",  "<=", ">=", "=",  "+",  "-",
                                 "*",   "[",   "]",  "(",  ")",  ",",  ";",
                                 ":",   "<",   ">",  "?"};
  std::vector<Token> toks;
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.col = static_cast<unsigned>(i + 1);
    if (isIdentStart(c)) {
      size_t j = i;
      while (j < line.size() && isIdentChar(line[j]))
        ++j;
      t.kind = Token::Kind::Ident;
      t.text = std::string(line.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      int base = 10;
      if (c == '0' && j + 1 < line.size() &&
          (line[j + 1] == 'x' || line[j + 1] == 'X')) {
        base = 16;
        j += 2;
      }
      size_t digitsStart = j;
      while (j < line.size() &&
             (base == 16 ? std::isxdigit(static_cast<unsigned char>(line[j]))
                         : std::isdigit(static_cast<unsigned char>(line[j]))))
        ++j;
      if (j == digitsStart || (j < line.size() && isIdentChar(line[j])))
        throw ParseError{t.col, "malformed number"};
      t.kind = Token::Kind::Number;
      t.text = std::string(line.substr(i, j - i));
      std::string digits(line.substr(digitsStart, j - digitsStart));
      if (digits.size() > 10)
        throw ParseError{t.col, "number '" + t.text + "' is out of range"};
      t.value = std::strtoll(digits.c_str(), nullptr, base);
      if (t.value > 0xFFFFFFFFLL)
        throw ParseError{t.col, "number '" + t.text + "' is out of range"};
      i = j;
    } else {
      bool found = false;
      for (const char *p : puncts) {
        std::string_view pv(p);
        if (line.substr(i, pv.size()) == pv) {
          t.kind = Token::Kind::Punct;
          t.text = std::string(pv);
          i += pv.size();
          found = true;
          break;
        }
      }
      if (!found)
        throw ParseError{t.col,
                         std::string("unexpected character '") + c + "'"};
    }
    toks.push_back(std::move(t));
  }
  return toks;
}

/// Parses "arN"/"grN"/"vregN"; returns -1 when \p s is not of that form.
int regNumber(const std::string &s, std::string_view prefix, int count) {
  if (s.size() != prefix.size() + 1 || s.compare(0, prefix.size(), prefix) != 0)
    return -1;
  char d = s.back();
  if (d < '0' || d >= '0' + count)
    return -1;
  return d - '0';
}

class StatementParser {
public:
  StatementParser(std::vector<Token> toks, unsigned endCol)
      : toks(std::move(toks)), endCol(endCol) {}

  Instruction parse();

private:
  std::vector<Token> toks;
  size_t pos = 0;
  unsigned endCol;

  const Token &peek(size_t ahead = 0) const {
    static Token end;
    if (pos + ahead < toks.size())
      return toks[pos + ahead];
    end.col = endCol;
    return end;
  }
  bool atEnd() const { return pos >= toks.size(); }
  Token next() {
    Token t = peek();
    if (!atEnd())
      ++pos;
    return t;
  }
  [[noreturn]] void fail(const Token &t, const std::string &msg) const {
    throw ParseError{t.kind == Token::Kind::End ? endCol : t.col, msg};
  }
  static std::string describe(const Token &t) {
    return t.kind == Token::Kind::End ? "end of statement" : "'" + t.text + "'";
  }
  bool isPunct(const char *p, size_t ahead = 0) const {
    const Token &t = peek(ahead);
    return t.kind == Token::Kind::Punct && t.text == p;
  }
  bool isIdent(const char *p, size_t ahead = 0) const {
    const Token &t = peek(ahead);
    return t.kind == Token::Kind::Ident && t.text == p;
  }
  void expectPunct(const char *p) {
    if (!isPunct(p))
      fail(peek(),
           std::string("expected '") + p + "', found " + describe(peek()));
    next();
  }
  void expectEnd() {
    if (!atEnd())
      fail(peek(), "unexpected " + describe(peek()) + " at end of statement");
  }

  int parseAr() {
    Token t = next();
    int r = t.kind == Token::Kind::Ident ? regNumber(t.text, "ar", 8) : -1;
    if (r < 0)
      fail(t, "expected an address register ar0-ar7, found " + describe(t));
    return r;
  }
  int parseGr() {
    Token t = next();
    int r = t.kind == Token::Kind::Ident ? regNumber(t.text, "gr", 8) : -1;
    if (r < 0)
      fail(t, "expected a general register gr0-gr7, found " + describe(t));
    return r;
  }
  int parseVreg() {
    Token t = next();
    int r = t.kind == Token::Kind::Ident ? regNumber(t.text, "vreg", 8) : -1;
    if (r < 0)
      fail(t, "expected a vector register vreg0-vreg7, found " + describe(t));
    return r;
  }
  int64_t parseNumber(bool allowNegative) {
    bool neg = false;
    if (allowNegative && isPunct("-")) {
      next();
      neg = true;
    }
    Token t = next();
    if (t.kind != Token::Kind::Number)
      fail(t, "expected a number, found " + describe(t));
    return neg ? -t.value : t.value;
  }
  bool peekScalarReg() const {
    const Token &t = peek();
    return t.kind == Token::Kind::Ident &&
           (regNumber(t.text, "ar", 8) >= 0 || regNumber(t.text, "gr", 8) >= 0);
  }
  Operand parseScalarReg() {
    Token t = next();
    Operand o;
    if (t.kind == Token::Kind::Ident) {
      if ((o.reg = regNumber(t.text, "ar", 8)) >= 0) {
        o.kind = Operand::Kind::AR;
        return o;
      }
      if ((o.reg = regNumber(t.text, "gr", 8)) >= 0) {
        o.kind = Operand::Kind::GR;
        return o;
      }
    }
    fail(t, "expected ar0-ar7 or gr0-gr7, found " + describe(t));
  }
  Operand parseOperand() {
    Operand o;
    if (peekScalarReg())
      return parseScalarReg();
    const Token &t = peek();
    if (isIdent("true") || isIdent("false")) {
      o.kind = Operand::Kind::Imm;
      o.imm = t.text == "true" ? -1 : 0;
      next();
      return o;
    }
    if (t.kind == Token::Kind::Number || isPunct("-")) {
      o.kind = Operand::Kind::Imm;
      o.imm = parseNumber(true);
      return o;
    }
    if (t.kind == Token::Kind::Ident && t.text.size() > 2 &&
        (t.text.compare(0, 2, "ar") == 0 || t.text.compare(0, 2, "gr") == 0) &&
        t.text.find_first_not_of("0123456789", 2) == std::string::npos)
      fail(t, "expected a register ar0-ar7 or gr0-gr7, found " + describe(t));
    if (t.kind == Token::Kind::Ident && t.text[0] != '.')
      fail(t, "data labels are not supported ('" + t.text + "')");
    fail(t, "expected a register, a number or a label, found " + describe(t));
  }

  MemRef parseMem();
  void parseControl(Instruction &inst);
  void parseFpu(Instruction &inst);
  VecSrc parseVecSrc();
  void parseScalar(Instruction &inst);
};

MemRef StatementParser::parseMem() {
  MemRef m;
  expectPunct("[");
  if (isPunct("--")) {
    next();
    m.mode = MemRef::Mode::PreDec;
    m.base = parseAr();
    expectPunct("]");
    return m;
  }
  m.base = parseAr();
  if (isPunct("]")) {
    m.mode = MemRef::Mode::Plain;
  } else if (isPunct("++")) {
    next();
    if (isPunct("]")) {
      m.mode = MemRef::Mode::PostInc;
    } else {
      m.mode = MemRef::Mode::PostIncGr;
      m.gr = parseGr();
    }
  } else if (isPunct("+=") || isPunct("-=")) {
    bool minus = next().text == "-=";
    if (!minus && peek().kind == Token::Kind::Ident) {
      m.mode = MemRef::Mode::PreAddGr;
      m.gr = parseGr();
    } else {
      m.mode = MemRef::Mode::PreAddImm;
      m.imm = parseNumber(false);
      if (minus)
        m.imm = -m.imm;
    }
  } else if (isPunct("+") || isPunct("-")) {
    bool minus = next().text == "-";
    m.mode = MemRef::Mode::Offset;
    m.imm = parseNumber(false);
    if (minus)
      m.imm = -m.imm;
  } else {
    fail(peek(), "expected ']', '++', '+=', '-=', '+' or '-' in address, "
                 "found " +
                     describe(peek()));
  }
  expectPunct("]");
  return m;
}

void StatementParser::parseControl(Instruction &inst) {
  if (isIdent("if")) {
    next();
    Token c = next();
    if (c.kind != Token::Kind::Punct)
      fail(c, "expected a condition (=0, <>0, <, <=, >, >=), found " +
                  describe(c));
    if (c.text == "=")
      inst.cond = Cond::Eq;
    else if (c.text == "<>")
      inst.cond = Cond::Ne;
    else if (c.text == "<")
      inst.cond = Cond::Lt;
    else if (c.text == "<=")
      inst.cond = Cond::Le;
    else if (c.text == ">")
      inst.cond = Cond::Gt;
    else if (c.text == ">=")
      inst.cond = Cond::Ge;
    else
      fail(c, "expected a condition (=0, <>0, <, <=, >, >=), found " +
                  describe(c));
    bool needsZero = inst.cond == Cond::Eq || inst.cond == Cond::Ne;
    if (peek().kind == Token::Kind::Number) {
      if (next().value != 0)
        fail(toks[pos - 1], "conditions compare with 0 only");
    } else if (needsZero) {
      fail(peek(), "expected '0' after '" + c.text + "'");
    }
  }
  if (isIdent("delayed")) {
    next();
    inst.delayed = true;
  }
  Token kw = next();
  if (kw.kind == Token::Kind::Ident && kw.text == "goto") {
    inst.opcode = Opcode::Branch;
  } else if (kw.kind == Token::Kind::Ident && kw.text == "call") {
    inst.opcode = Opcode::Call;
  } else if (kw.kind == Token::Kind::Ident && kw.text == "return") {
    inst.opcode = Opcode::Return;
  } else {
    fail(kw, "expected 'goto', 'call' or 'return', found " + describe(kw));
  }
  if (inst.cond != Cond::Always && inst.opcode != Opcode::Branch)
    fail(kw, "only 'goto' may be conditional");
  if (inst.opcode != Opcode::Return) {
    Token t = next();
    if (t.kind != Token::Kind::Ident || t.text[0] == '.')
      fail(t, "expected a label, found " + describe(t));
    inst.target = t.text;
  }
  if (isIdent("with"))
    fail(peek(), "'with' compound instructions are not supported");
  expectEnd();
}

VecSrc StatementParser::parseVecSrc() {
  VecSrc s;
  if (isIdent(".retrive") || isIdent(".retrieve")) {
    next();
    expectPunct("(");
    s.vreg = parseVreg();
    s.retrieve = true;
    if (isPunct(","))
      fail(peek(), "two-register .retrive (the .matrix form) is not supported");
    expectPunct(")");
    return s;
  }
  s.vreg = parseVreg();
  return s;
}

void StatementParser::parseFpu(Instruction &inst) {
  next(); // fpu
  Token cell = next();
  if (cell.kind != Token::Kind::Number || cell.value > 3)
    fail(cell, "expected an FPU cell number 0-3, found " + describe(cell));
  inst.cell = static_cast<int>(cell.value);

  if (isIdent("rep")) {
    next();
    if (isIdent("vlen")) {
      next();
      inst.repVlen = true;
    } else {
      Token n = peek();
      int64_t v = parseNumber(false);
      if (v < 1 || v > 32)
        fail(n, "rep count must be 1..32 (a vreg holds 32 words), found " +
                    n.text);
      inst.rep = static_cast<int>(v);
    }
    if (isPunct("[")) {
      inst.opcode = Opcode::FpuStore;
      inst.mem = parseMem();
      expectPunct("=");
      inst.vreg = parseVreg();
    } else {
      inst.opcode = Opcode::FpuLoad;
      inst.vreg = parseVreg();
      expectPunct("=");
      inst.mem = parseMem();
    }
    expectEnd();
    return;
  }

  if (isIdent(".double") || isIdent(".float")) {
    inst.opcode = Opcode::FpuArith;
    inst.precision =
        next().text == ".double" ? Precision::Double : Precision::Float;
    inst.vreg = parseVreg();
    expectPunct("=");
    if (isPunct("-")) {
      next();
      inst.negateProduct = true;
    }
    inst.x = parseVecSrc();
    if (isPunct("*")) {
      next();
      inst.y = parseVecSrc();
    }
    if (isPunct("+") || isPunct("-")) {
      inst.subtractZ = next().text == "-";
      inst.z = parseVecSrc();
    }
    if (isPunct(","))
      fail(peek(), "masked forms (', set mask') are not supported");
    expectEnd();
    return;
  }

  if (peek().kind == Token::Kind::Ident &&
      regNumber(peek().text, "vreg", 8) >= 0) {
    inst.opcode = Opcode::FpuCopy;
    inst.vreg = parseVreg();
    expectPunct("=");
    if (!isIdent("fpu"))
      fail(peek(),
           "expected 'fpu <cell> vregN' (a move between cells), found " +
               describe(peek()));
    next();
    Token src = next();
    if (src.kind != Token::Kind::Number || src.value > 3)
      fail(src, "expected an FPU cell number 0-3, found " + describe(src));
    inst.srcCell = static_cast<int>(src.value);
    inst.srcVreg = parseVreg();
    expectEnd();
    return;
  }
  fail(peek(), "expected 'rep', '.double', '.float' or 'vregN' after 'fpu " +
                   cell.text + "', found " + describe(peek()));
}

void StatementParser::parseScalar(Instruction &inst) {
  Operand dst = parseScalarReg();
  inst.dst = dst;
  if (atEnd()) {
    if (dst.kind != Operand::Kind::GR)
      fail(toks[0], "only a gr register can be tested");
    inst.opcode = Opcode::Test;
    inst.setsFlags = true;
    return;
  }
  inst.opcode = Opcode::ScalarAlu;
  Token op = next();
  if (op.kind != Token::Kind::Punct)
    fail(op, "expected an assignment, found " + describe(op));
  if (op.text == "++" || op.text == "--") {
    inst.alu = op.text == "++" ? ScalarOp::Add : ScalarOp::Sub;
    inst.a = dst;
    inst.b.kind = Operand::Kind::Imm;
    inst.b.imm = 1;
  } else if (op.text == "+=" || op.text == "-=" || op.text == "<<=" ||
             op.text == ">>=") {
    inst.alu = op.text == "+="    ? ScalarOp::Add
               : op.text == "-="  ? ScalarOp::Sub
               : op.text == "<<=" ? ScalarOp::Shl
                                  : ScalarOp::Shr;
    inst.a = dst;
    inst.b = parseOperand();
  } else if (op.text == "=") {
    if (isPunct("[")) {
      inst.opcode = Opcode::Load;
      inst.mem = parseMem();
    } else if (isPunct("-") && peek(1).kind == Token::Kind::Ident) {
      next();
      inst.alu = ScalarOp::Neg;
      inst.a = parseScalarReg();
    } else {
      inst.a = parseOperand();
      if (!atEnd() && !isIdent("with")) {
        Token bop = next();
        if (bop.text == "+")
          inst.alu = ScalarOp::Add;
        else if (bop.text == "-")
          inst.alu = ScalarOp::Sub;
        else if (bop.text == "<<")
          inst.alu = ScalarOp::Shl;
        else if (bop.text == ">>")
          inst.alu = ScalarOp::Shr;
        else if (bop.text == "and")
          inst.alu = ScalarOp::And;
        else if (bop.text == "or")
          inst.alu = ScalarOp::Or;
        else if (bop.text == "xor")
          inst.alu = ScalarOp::Xor;
        else
          fail(bop, "expected an operator (+ - << >> and or xor), found " +
                        describe(bop));
        inst.b = parseOperand();
      }
    }
  } else {
    fail(op, "expected '=', '+=', '-=', '<<=', '>>=', '++' or '--', found " +
                 describe(op));
  }
  if (inst.opcode == Opcode::ScalarAlu) {
    // Plain moves leave the flags alone, gr arithmetic sets them (nmpp code
    // re-tests a moved register with `with grN` before branching).
    inst.setsFlags = dst.kind == Operand::Kind::GR && inst.alu != ScalarOp::Mov;
  }
  if (isIdent("with"))
    fail(peek(), "'with' compound instructions are not supported");
  expectEnd();
}

Instruction StatementParser::parse() {
  Instruction inst;
  const Token &t = peek();
  if (t.kind == Token::Kind::Ident) {
    if (t.text == "nul") {
      next();
      inst.opcode = Opcode::Nop;
      expectEnd();
      return inst;
    }
    if (t.text == "push" || t.text == "pop") {
      inst.opcode = t.text == "push" ? Opcode::Push : Opcode::Pop;
      next();
      inst.a.kind = Operand::Kind::AR;
      inst.a.reg = parseAr();
      if (isPunct(",")) {
        next();
        inst.b.kind = Operand::Kind::GR;
        inst.b.reg = parseGr();
      }
      expectEnd();
      return inst;
    }
    if (t.text == "vlen") {
      next();
      expectPunct("=");
      inst.opcode = Opcode::SetVlen;
      if (peekScalarReg()) {
        inst.a = parseScalarReg();
        if (inst.a.kind != Operand::Kind::GR)
          fail(toks[pos - 1], "vlen is set from a gr register or a number");
      } else {
        Token n = peek();
        inst.a.kind = Operand::Kind::Imm;
        inst.a.imm = parseNumber(false);
        if (inst.a.imm > 31)
          fail(n, "vlen holds count-1 and must be 0..31");
      }
      expectEnd();
      return inst;
    }
    if (t.text == "if" || t.text == "delayed" || t.text == "goto" ||
        t.text == "call" || t.text == "return") {
      parseControl(inst);
      return inst;
    }
    if (t.text == "fpu") {
      parseFpu(inst);
      return inst;
    }
    if (peekScalarReg()) {
      parseScalar(inst);
      return inst;
    }
    fail(t, "unknown instruction '" + t.text + "'");
  }
  if (isPunct("[")) {
    inst.opcode = Opcode::Store;
    inst.mem = parseMem();
    expectPunct("=");
    inst.a = parseScalarReg();
    expectEnd();
    return inst;
  }
  fail(t, "expected an instruction, found " + describe(t));
}

bool isDirective(const std::string &s) {
  static const std::set<std::string> names = {".global", ".globl", ".section",
                                              ".text",   ".align", ".p2align",
                                              ".type",   ".size"};
  return names.count(s) != 0;
}

} // namespace

bool parseProgram(std::string_view text, Program &program,
                  std::vector<Diagnostic> &diags) {
  size_t firstDiag = diags.size();
  std::string clean = stripComments(text);
  std::vector<std::pair<std::string, SourceLoc>> globals;
  std::map<std::string, SourceLoc> labelLocs;
  std::string_view rest(clean);
  std::string_view original(text);
  unsigned lineNo = 0;
  size_t lineStart = 0;
  while (lineStart <= clean.size()) {
    ++lineNo;
    size_t eol = clean.find('\n', lineStart);
    if (eol == std::string::npos)
      eol = clean.size();
    std::string_view line = rest.substr(lineStart, eol - lineStart);
    std::string_view origLine = original.substr(lineStart, eol - lineStart);
    auto error = [&](unsigned col, std::string msg) {
      diags.push_back({{lineNo, col}, std::move(msg)});
    };
    std::vector<Token> toks;
    try {
      toks = lexLine(line);
    } catch (const ParseError &e) {
      error(e.col, e.message);
      toks.clear();
    }
    size_t i = 0;
    while (i < toks.size()) {
      // Labels: `name:` or `<name>`.
      if (toks[i].kind == Token::Kind::Ident && i + 1 < toks.size() &&
          toks[i + 1].kind == Token::Kind::Punct && toks[i + 1].text == ":") {
        const Token &l = toks[i];
        if (program.labels.count(l.text))
          error(l.col, "label '" + l.text + "' is already defined");
        program.labels[l.text] = static_cast<int>(program.instructions.size());
        labelLocs[l.text] = {lineNo, l.col};
        i += 2;
        continue;
      }
      if (toks[i].kind == Token::Kind::Punct && toks[i].text == "<" &&
          i + 2 < toks.size() && toks[i + 1].kind == Token::Kind::Ident &&
          toks[i + 2].kind == Token::Kind::Punct && toks[i + 2].text == ">") {
        const Token &l = toks[i + 1];
        if (program.labels.count(l.text))
          error(l.col, "label '" + l.text + "' is already defined");
        program.labels[l.text] = static_cast<int>(program.instructions.size());
        labelLocs[l.text] = {lineNo, l.col};
        i += 3;
        continue;
      }
      // Directives run to ';' or the end of the line.
      if (toks[i].kind == Token::Kind::Ident && toks[i].text[0] == '.' &&
          toks[i].text != ".double" && toks[i].text != ".float") {
        const Token &d = toks[i];
        size_t j = i + 1;
        while (j < toks.size() && toks[j].text != ";")
          ++j;
        if (!isDirective(d.text)) {
          error(d.col, "unknown directive '" + d.text + "'");
        } else if (d.text == ".global" || d.text == ".globl") {
          if (j != i + 2 || toks[i + 1].kind != Token::Kind::Ident)
            error(d.col, d.text + " expects one symbol name");
          else
            globals.push_back({toks[i + 1].text, {lineNo, toks[i + 1].col}});
        }
        i = j + (j < toks.size() ? 1 : 0);
        continue;
      }
      // An instruction: tokens up to ';'.
      size_t j = i;
      while (j < toks.size() &&
             !(toks[j].kind == Token::Kind::Punct && toks[j].text == ";"))
        ++j;
      unsigned startCol = toks[i].col;
      unsigned endCol = j < toks.size()
                            ? toks[j].col
                            : static_cast<unsigned>(line.size() + 1);
      if (j == toks.size()) {
        error(endCol, "expected ';' at end of instruction");
      } else {
        std::vector<Token> stmt(toks.begin() + i, toks.begin() + j);
        try {
          Instruction inst = StatementParser(std::move(stmt), endCol).parse();
          inst.loc = {lineNo, startCol};
          inst.text =
              std::string(origLine.substr(startCol - 1, endCol - startCol));
          while (!inst.text.empty() && inst.text.back() == ' ')
            inst.text.pop_back();
          program.instructions.push_back(std::move(inst));
        } catch (const ParseError &e) {
          error(e.col, e.message);
        }
      }
      i = j + 1;
    }
    if (eol == clean.size())
      break;
    lineStart = eol + 1;
  }

  // Resolve branch targets and globals.
  for (Instruction &inst : program.instructions) {
    if (inst.opcode != Opcode::Branch && inst.opcode != Opcode::Call)
      continue;
    auto it = program.labels.find(inst.target);
    if (it == program.labels.end()) {
      diags.push_back({inst.loc, "unknown label '" + inst.target + "'"});
      continue;
    }
    inst.targetIndex = it->second;
  }
  for (auto &[name, loc] : globals) {
    if (!program.labels.count(name))
      diags.push_back({loc, "global symbol '" + name + "' is not defined"});
    else
      program.globals.push_back(name);
  }
  return diags.size() == firstDiag;
}

} // namespace kan::nmcsim
