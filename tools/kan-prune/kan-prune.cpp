//===- kan-prune.cpp - remove a KAN's weak edges and nodes ------*- C++ -*-===//
//
// pykan's prune: edge importance is the mean |phi_ij(x)| over the data (a
// hidden node goes when its strongest incoming or outgoing edge is below
// the threshold) or pykan's attribution scores (a hidden node goes when its
// score is below the threshold); an edge below the edge threshold becomes
// 0, and the layer widths shrink.
// The network's function before and after is compared on the data, and
// --tolerance turns a larger change into an error (nothing written).
//
//===----------------------------------------------------------------------===//

#include "kan/Support/Options.h"
#include "kan/Tools/Edges.h"
#include "kan/Tools/Regression.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace kan::tools;
using llvm::Error;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;

static cl::OptionCategory cat("kan-prune options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
    cl::desc("<checkpoint.safetensors | model.mlir>"), cl::cat(cat));
static cl::opt<std::string> dataPath("data", cl::Required,
    cl::desc("CSV of samples (the model's inputs, optionally followed by its "
             "targets) on which importance is measured"),
    cl::cat(cat));
static cl::opt<bool> csvHeader("csv-header", cl::desc("The CSV starts with a header line"), cl::cat(cat));
static cl::opt<std::string> outPath("o", cl::Required,
    cl::desc("Where to write the pruned checkpoint (safetensors)"), cl::cat(cat));
enum class Importance { Scale, Attribution };
static cl::opt<Importance> importanceOpt("importance", cl::init(Importance::Scale),
    cl::desc("Scores that decide what goes:"),
    cl::values(clEnumValN(Importance::Scale, "scale",
                          "mean |phi(x)| per edge; a hidden node goes when its "
                          "strongest incoming or outgoing edge is below "
                          "--threshold (default)"),
               clEnumValN(Importance::Attribution, "attribution",
                          "pykan's attribution scores, propagated back from "
                          "the outputs; a hidden node goes when its score is "
                          "below --threshold")),
    cl::cat(cat));
static cli::opt<double> thresholdOpt("threshold", cl::init(1e-2),
    cl::desc("Score below which hidden nodes go, and edges unless "
             "--edge-threshold is given (default 1e-2, pykan's)"),
    cl::cat(cat), cli::bounds(cli::tolerance));
static cli::opt<double> edgeThresholdOpt("edge-threshold", cl::init(1e-2),
    cl::desc("Score below which an edge becomes 0 (default: --threshold; "
             "pykan's prune() uses 3e-2 with attribution)"),
    cl::cat(cat), cli::bounds(cli::tolerance));
static cl::opt<double> toleranceOpt("tolerance", cl::init(-1),
    cl::desc("Fail, writing nothing, when the largest change of any output on "
             "the data exceeds this (default: report only)"),
    cl::cat(cat));
static cl::opt<bool> showOpt("show-importance",
    cl::desc("Print every edge's score (with --importance attribution also "
             "every node's: 'node (l,j)', l = 0 for the inputs) to stderr"),
    cl::cat(cat));

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int fail(Error e) {
  llvm::errs().flush();
  llvm::WithColor::error(llvm::errs(), "kan-prune") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

static std::string num(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[40];
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-prune: remove a KAN's weak edges and hidden nodes\n\n"
      "  kan-prune CHECKPOINT --data samples.csv -o pruned.safetensors\n\n"
      "Prints one JSON line: the widths before and after, nodes removed, edges\n"
      "zeroed, and the largest and RMS change of the outputs on the data.\n");
  mlir::MLIRContext ctx;
  auto loaded = readScaledModel(ctx, modelPath, "kan-prune");
  if (!loaded)
    return fail(loaded.takeError());
  Model &model = loaded->model;
  for (size_t l = 0; l < model.shape.numLayers(); ++l)
    if (model.shape.hasSymbolic(l))
      return fail(makeError(modelPath + ": layer " + llvm::Twine(l) +
                            " has symbolic edges; prune before fixing edges "
                            "(kan-symbolic --fix-into)"));
  const int64_t I = model.shape.widths.front(), O = model.shape.widths.back();
  auto data = loadSamplesCsv(dataPath, csvHeader, I, O);
  if (!data)
    return fail(data.takeError());
  loaded->scaling.apply(*data);
  const int64_t n = data->rows;

  auto before = traceModel(model, data->x.data(), n);
  PruneOptions po;
  po.attribution = importanceOpt == Importance::Attribution;
  po.nodeThreshold = thresholdOpt;
  po.edgeThreshold = edgeThresholdOpt.getNumOccurrences() ? edgeThresholdOpt
                                                          : thresholdOpt;
  if (showOpt) {
    Attribution attr;
    if (po.attribution)
      attr = attributionScores(before, n);
    auto importance = po.attribution ? attr.edge : edgeImportance(before, n);
    for (size_t l = 0; l < importance.size(); ++l)
      for (int64_t o = 0; o < model.shape.widths[l + 1]; ++o)
        for (int64_t i = 0; i < model.shape.widths[l]; ++i)
          llvm::errs() << "edge (" << l << "," << o << "," << i << "): "
                       << num(importance[l][o * model.shape.widths[l] + i]) << "\n";
    for (size_t l = 0; l < attr.node.size(); ++l)
      for (size_t j = 0; j < attr.node[l].size(); ++j)
        llvm::errs() << "node (" << l << "," << j << "): " << num(attr.node[l][j])
                     << "\n";
  }
  PruneResult res = pruneModel(model, before, n, po);
  auto after = traceModel(res.model, data->x.data(), n);
  std::vector<double> y0 = traceOutput(before, n), y1 = traceOutput(after, n);
  double maxChange = 0, se = 0;
  for (size_t i = 0; i < y0.size(); ++i) {
    double d = std::fabs(y1[i] - y0[i]);
    maxChange = std::max(maxChange, d);
    se += d * d;
  }
  double rms = std::sqrt(se / static_cast<double>(y0.size()));
  llvm::errs() << "pruned [" << model.shape.widthsString() << "] to ["
               << res.model.shape.widthsString() << "]: " << res.removedNodes
               << " node(s) removed, " << res.zeroedEdges
               << " edge(s) zeroed; outputs change by at most " << num(maxChange)
               << " (RMS " << num(rms) << ") on " << n << " samples\n";
  if (toleranceOpt >= 0 && maxChange > toleranceOpt)
    return fail(makeError("pruning changes the outputs by up to " + num(maxChange) +
                          ", more than --tolerance " + num(toleranceOpt) +
                          "; nothing written"));
  if (Error e = writeSafetensors(res.model, outPath))
    return fail(std::move(e));
  llvm::outs() << "{\"widths_before\":\"" << model.shape.widthsString()
               << "\",\"widths\":\"" << res.model.shape.widthsString()
               << "\",\"removed_nodes\":" << res.removedNodes
               << ",\"zeroed_edges\":" << res.zeroedEdges
               << ",\"max_change\":" << num(maxChange) << ",\"rms_change\":"
               << num(rms) << ",\"checkpoint\":\"";
  llvm::printEscapedString(outPath, llvm::outs());
  llvm::outs() << "\"}\n";
  return 0;
}
