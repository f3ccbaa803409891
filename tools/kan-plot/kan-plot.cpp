//===- kan-plot.cpp - plots of KAN training runs ----------------*- C++ -*-===//
//
// kan-plot SUBCOMMAND ...; each subcommand lives in its own file:
//   curves  metrics files -> SVG of loss and accuracy vs steps and time
//           (Curves.cpp)
//
//===----------------------------------------------------------------------===//

#include "Curves.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "kan-plot: plots of KAN training runs\n\n"
      "  kan-plot curves RUN.metrics.jsonl [MORE.jsonl...] -o curves.svg\n"
      "      loss and test accuracy against steps and seconds, one colour\n"
      "      per run (kan-plot curves --help for its options)\n");
  if (kan::plot::curvesSelected())
    return kan::plot::runCurves();
  llvm::WithColor::error(llvm::errs(), "kan-plot")
      << "give a subcommand: curves (see kan-plot --help)\n";
  return 1;
}
