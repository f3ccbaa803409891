//===- Curves.h - kan-plot curves: training curves as SVG -------*- C++ -*-===//
//
// The `curves` subcommand of kan-plot: reads metrics files (JSON lines as
// kan-train and kancompiler.Trainer.fit write them) and draws loss and test
// accuracy against steps and against seconds, one colour per run.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_KAN_PLOT_CURVES_H
#define KAN_TOOLS_KAN_PLOT_CURVES_H

namespace kan::plot {

/// True when the command line selected `kan-plot curves`.
bool curvesSelected();
/// Runs the subcommand (after cl::ParseCommandLineOptions); the exit code.
int runCurves();

} // namespace kan::plot

#endif // KAN_TOOLS_KAN_PLOT_CURVES_H
