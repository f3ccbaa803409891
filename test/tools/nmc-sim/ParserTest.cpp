//===- ParserTest.cpp - NMC4 assembly parser: accepted forms and errors ---===//
#include "nmcsim/Program.h"

#include <gtest/gtest.h>

#include <random>

using namespace kan::nmcsim;

namespace {

Program parseOk(const std::string &text) {
  Program p;
  std::vector<Diagnostic> diags;
  bool ok = parseProgram(text, p, diags);
  EXPECT_TRUE(ok) << (diags.empty() ? "" : diags.front().str());
  return p;
}

TEST(NMCSimParser, AcceptsTheEmittedSubset) {
  Program p = parseOk(R"(
    // comment line
    .global _f
    .section .text
_f: /* block
       comment */
    push ar6, gr6;
    ar6 = ar7;
    ar0 = [ar6-5];            gr2 = [--ar6];
    gr3 = gr2 << 1; gr2--; gr2; ar0 += 2; ar4 += gr3;
    vlen = gr2; vlen = 31;
    fpu 0 rep 32 vreg0 = [ar0++gr0];
    fpu 1 rep vlen vreg1 = [ar1++];
    fpu 2 rep 1 [ar2] = vreg2;
    fpu 3 .double vreg2 = vreg0 * .retrive(vreg1) + vreg2;
    fpu 3 .float vreg2 = -vreg0 * vreg1 - vreg3;
    fpu 1 vreg6 = fpu 0 vreg6;
<LOOP>
    if <>0 delayed goto LOOP;
    nul;
    nul;
    pop ar6, gr6;
    return;
)");
  EXPECT_EQ(p.globals, std::vector<std::string>{"_f"});
  ASSERT_EQ(p.labels.count("_f"), 1u);
  ASSERT_EQ(p.labels.count("LOOP"), 1u);
  EXPECT_EQ(p.instructions.size(), 22u);
  const Instruction &fma = p.instructions[14];
  EXPECT_EQ(fma.opcode, Opcode::FpuArith);
  EXPECT_EQ(fma.cell, 3);
  EXPECT_TRUE(fma.y.retrieve);
  EXPECT_EQ(fma.y.vreg, 1);
  EXPECT_EQ(fma.z.vreg, 2);
  const Instruction &br = p.instructions[17];
  EXPECT_EQ(br.opcode, Opcode::Branch);
  EXPECT_TRUE(br.delayed);
  EXPECT_EQ(br.cond, Cond::Ne);
  EXPECT_EQ(br.targetIndex, p.labels["LOOP"]);
  EXPECT_EQ(p.instructions[2].mem.mode, MemRef::Mode::Offset);
  EXPECT_EQ(p.instructions[2].mem.imm, -5);
  EXPECT_EQ(p.instructions[3].mem.mode, MemRef::Mode::PreDec);
  EXPECT_TRUE(p.instructions[12].repVlen);
}

struct BadCase {
  const char *text;
  unsigned line, column;
  const char *message;
};

class NMCSimParserErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(NMCSimParserErrors, ReportsLineColumnAndMessage) {
  const BadCase &c = GetParam();
  Program p;
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(parseProgram(c.text, p, diags));
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags.front().loc.line, c.line) << diags.front().str();
  EXPECT_EQ(diags.front().loc.column, c.column) << diags.front().str();
  EXPECT_NE(diags.front().message.find(c.message), std::string::npos)
      << diags.front().str();
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, NMCSimParserErrors,
    ::testing::Values(
        BadCase{"frobnicate ar0;", 1, 1, "unknown instruction 'frobnicate'"},
        BadCase{"L:\n  gr0 = 1", 2, 10, "expected ';'"},
        BadCase{"ar8 = 1;", 1, 1, "unknown instruction 'ar8'"},
        BadCase{"gr0 = ar9;", 1, 7, "expected a register"},
        BadCase{"fpu 4 rep 32 vreg0 = [ar0++];", 1, 5, "cell number 0-3"},
        BadCase{"fpu 0 rep 33 vreg0 = [ar0++];", 1, 11, "rep count must be"},
        BadCase{"fpu 0 rep 32 vreg8 = [ar0++];", 1, 14, "vreg0-vreg7"},
        BadCase{"fpu 0 rep 32 vreg0 = [gr0++];", 1, 23, "address register"},
        BadCase{"fpu 0 rep 32 vreg0 = [ar0**];", 1, 26, "in address"},
        BadCase{"goto nowhere;", 1, 1, "unknown label 'nowhere'"},
        BadCase{"L:\nL:\n nul;", 2, 1, "already defined"},
        BadCase{".weird 3", 1, 1, "unknown directive '.weird'"},
        BadCase{".global _missing", 1, 9, "is not defined"},
        BadCase{"ar0 = ar1 with gr0--;", 1, 11, "'with'"},
        BadCase{"gr0 = 1 @ 2;", 1, 9, "unexpected character '@'"},
        BadCase{"gr0 = 99999999999;", 1, 7, "out of range"},
        BadCase{"fpu 0 .matrix vreg2 = vreg6;", 1, 7, "expected 'rep'"},
        BadCase{"fpu 0 .double vreg2 = vreg6 * .retrive(vreg0,vreg1);", 1, 45,
                "two-register .retrive"},
        BadCase{"fpu 0 .float vreg2 - vreg1, set mask if >;", 1, 20,
                "expected '='"},
        BadCase{"if =1 goto L;\nL: nul;", 1, 5, "compare with 0"},
        BadCase{"if goto L;\nL: nul;", 1, 4, "expected a condition"},
        BadCase{"if <>0 call L;\nL: nul;", 1, 8, "only 'goto'"},
        BadCase{"vlen = 32;", 1, 8, "vlen holds count-1"},
        BadCase{"ar0 = zero_;", 1, 7, "data labels are not supported"},
        BadCase{"gr0 = gr1 % gr2;", 1, 11, "unexpected character '%'"},
        BadCase{"gr0 = gr1 gr2;", 1, 11, "expected an operator"},
        BadCase{"nul nul;", 1, 5, "unexpected 'nul'"},
        BadCase{";", 1, 1, "expected an instruction"},
        BadCase{"fpu 0 vreg1 = vreg2;", 1, 15, "move between cells"},
        BadCase{"push gr0;", 1, 6, "address register"}));

TEST(NMCSimParser, ReportsEveryErrorAndKeepsGoing) {
  Program p;
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(parseProgram("bogus;\nnul;\nfpu 9 nul;\n", p, diags));
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].loc.line, 1u);
  EXPECT_EQ(diags[1].loc.line, 3u);
  EXPECT_EQ(diags[0].str("k.s").rfind("k.s:1:1: error: ", 0), 0u);
}

// Random token soup must produce diagnostics, never a crash or a hang.
TEST(NMCSimParser, SurvivesRandomInput) {
  const char *pieces[] = {
      "fpu",      "0",  "rep",         "32", "vreg0", "=",       "[",
      "ar0",      "++", "gr0",         "]",  ";",     ".double", "*",
      ".retrive", "(",  ")",           "+",  "if",    "<>0",     "delayed",
      "goto",     "L",  ":",           "\n", "-",     "<",       ">",
      "push",     ",",  "99999999999", "0x", "@",     "vlen"};
  std::mt19937 rng(42);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string text;
    int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      text += pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
      text += rng() % 3 ? " " : "";
    }
    Program p;
    std::vector<Diagnostic> diags;
    bool ok = parseProgram(text, p, diags);
    EXPECT_TRUE(ok || !diags.empty()) << text;
  }
}

} // namespace
