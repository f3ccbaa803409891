//===- kan-plot.cpp - plots of KAN training runs ----------------*- C++ -*-===//
//
// kan-plot SUBCOMMAND ...; each subcommand lives in its own file:
//   curves  metrics files -> SVG of loss and accuracy vs steps and time
//           (Curves.cpp)
//   network a trained KAN as SVG: edge functions, importance, symbolic fits
//           (Network.cpp; built when GiNaC is available)
//
//===----------------------------------------------------------------------===//

#include "Curves.h"
#ifdef KAN_PLOT_NETWORK
#include "Network.h"
#endif

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
      "      per run (kan-plot curves --help for its options)\n"
      "  kan-plot network CHECKPOINT --data samples.csv -o net.svg [--symbolic]\n"
      "      the network with each edge's function drawn on it, opacity by\n"
      "      importance (kan-plot network --help)\n");
  if (kan::plot::curvesSelected())
    return kan::plot::runCurves();
#ifdef KAN_PLOT_NETWORK
  if (kan::plot::networkSelected())
    return kan::plot::runNetwork();
#endif
  llvm::WithColor::error(llvm::errs(), "kan-plot")
      << "give a subcommand: curves or network (see kan-plot --help)\n";
  return 1;
}
