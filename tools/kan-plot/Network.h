//===- Network.h - kan-plot network: a KAN drawn as SVG ---------*- C++ -*-===//
//
// The `network` subcommand of kan-plot: the network as pykan's KAN.plot
// draws it, from a checkpoint and samples (see Network.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_KAN_PLOT_NETWORK_H
#define KAN_TOOLS_KAN_PLOT_NETWORK_H

namespace kan::plot {

/// True when the command line selected `kan-plot network`.
bool networkSelected();
/// Runs the subcommand (after cl::ParseCommandLineOptions); the exit code.
int runNetwork();

} // namespace kan::plot

#endif // KAN_TOOLS_KAN_PLOT_NETWORK_H
