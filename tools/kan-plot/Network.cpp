//===- Network.cpp - kan-plot network: a KAN drawn as SVG -------*- C++ -*-===//
//
// The network as pykan's KAN.plot draws it: nodes layer by layer (inputs at
// the bottom), every edge a line whose opacity follows its importance
// (tanh(3 A / max A of its layer), A = mean |phi(x)| over the data), and at
// the middle of each edge a small plot of phi over the inputs the data gives
// that edge. --symbolic overlays each edge's best library fit (dashed, with
// its name). --edges-dir writes one larger plot per edge with the histogram
// of the edge's inputs. stdout: one JSON line with the layout (the box of
// every edge plot and its opacity), for viewers and tests.
//
//===----------------------------------------------------------------------===//

#include "Network.h"

#include "kan/Support/Options.h"
#include "kan/Tools/Edges.h"
#include "kan/Tools/Regression.h"
#include "kan/Tools/Symbolic.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace kan::tools;
using llvm::Error;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;

static cl::SubCommand networkCmd(
    "network", "A trained KAN as pykan draws it: edge functions on the edges, "
               "opacity by importance, symbolic fits overlaid");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
    cl::desc("<checkpoint.safetensors | model.mlir>"), cl::sub(networkCmd));
static cl::opt<std::string> dataPath("data", cl::Required,
    cl::desc("CSV of samples (inputs, optionally followed by targets): the "
             "range each edge is drawn over and its importance"),
    cl::sub(networkCmd));
static cl::opt<bool> csvHeader("csv-header", cl::desc("The CSV starts with a header line"), cl::sub(networkCmd));
static cl::opt<std::string> outPath("o", cl::Required, cl::desc("The network's SVG"), cl::sub(networkCmd));
static cl::opt<std::string> edgesDir("edges-dir",
    cl::desc("Also write one SVG per edge (edge_<l>_<o>_<i>.svg: the function "
             "and the histogram of its inputs) into this directory"),
    cl::sub(networkCmd));
static cl::opt<bool> symbolicOpt("symbolic",
    cl::desc("Overlay every edge's best symbolic fit (kan-symbolic's ranking) "
             "with its name"),
    cl::sub(networkCmd));
static cli::opt<double> thresholdOpt("threshold", cl::init(1e-2),
    cl::desc("Edges below this importance are not fitted with --symbolic (default 1e-2)"),
    cl::sub(networkCmd), cli::bounds(cli::tolerance));

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int fail(Error e) {
  llvm::errs().flush();
  llvm::WithColor::error(llvm::errs(), "kan-plot network") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

static std::string f2(double v) { return llvm::formatv("{0:f2}", v).str(); }

/// A polyline of (xs, ys) mapped into the box [x0, x0+w] x [y0, y0+h].
static std::string polyline(llvm::ArrayRef<double> xs, llvm::ArrayRef<double> ys,
                            double xmin, double xmax, double ymin, double ymax,
                            double x0, double y0, double w, double h) {
  std::string pts;
  for (size_t i = 0; i < xs.size(); ++i) {
    double px = x0 + (xs[i] - xmin) / (xmax - xmin) * w;
    double py = y0 + h - (ys[i] - ymin) / (ymax - ymin) * h;
    if (!std::isfinite(py))
      continue;
    pts += f2(px) + "," + f2(py) + " ";
  }
  return pts;
}

static Error writeFile(llvm::StringRef path, llvm::StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError(path + ": cannot write: " + ec.message());
  os << text;
  os.close();
  if (os.has_error())
    return makeError(path + ": write failed");
  return Error::success();
}

namespace {
struct EdgeCurve {
  std::vector<double> xs, phi, fit; // fit empty without --symbolic
  std::string name;
  double xmin = -1, xmax = 1, ymin = -1, ymax = 1;
};
} // namespace

bool kan::plot::networkSelected() { return static_cast<bool>(networkCmd); }

int kan::plot::runNetwork() {
  mlir::MLIRContext ctx;
  auto loaded = readScaledModel(ctx, modelPath, "kan-plot");
  if (!loaded)
    return fail(loaded.takeError());
  Model &model = loaded->model;
  const ModelShape &s = model.shape;
  auto data = loadSamplesCsv(dataPath, csvHeader, s.widths.front(), s.widths.back());
  if (!data)
    return fail(data.takeError());
  loaded->scaling.apply(*data);
  const int64_t n = data->rows;
  auto trace = traceModel(model, data->x.data(), n);
  auto importance = edgeImportance(trace, n);

  // Every edge's curve over the range of its inputs.
  const int samples = 64;
  std::vector<std::vector<EdgeCurve>> curves(s.numLayers());
  FitOptions fo;
  fo.gridNumber = 41;
  for (size_t l = 0; l < s.numLayers(); ++l) {
    int64_t in = s.widths[l], out = s.widths[l + 1];
    curves[l].resize(static_cast<size_t>(in * out));
    for (int64_t i = 0; i < in; ++i) {
      std::vector<double> col(static_cast<size_t>(n));
      for (int64_t r = 0; r < n; ++r)
        col[r] = trace[l].x[r * in + i];
      double lo = *std::min_element(col.begin(), col.end());
      double hi = *std::max_element(col.begin(), col.end());
      if (!(hi > lo))
        lo -= 0.5, hi += 0.5;
      std::vector<double> xs(samples);
      for (int k = 0; k < samples; ++k)
        xs[k] = lo + (hi - lo) * k / (samples - 1);
      for (int64_t o = 0; o < out; ++o) {
        EdgeCurve &c = curves[l][o * in + i];
        c.xs = xs;
        c.xmin = lo, c.xmax = hi;
        edgeValues(model, l, o, i, xs, c.phi);
        if (symbolicOpt && importance[l][o * in + i] >= thresholdOpt) {
          std::vector<double> phiData;
          edgeValues(model, l, o, i, col, phiData);
          auto ranked = suggestSymbolic(col, phiData, fo);
          if (!ranked.empty()) {
            const SymbolicFit &f = ranked.front();
            c.name = f.fn->name;
            for (double x : xs)
              c.fit.push_back(f.fn->complexity == 0 ? f.d
                                                    : f.c * f.fn->eval(f.a * x + f.b) + f.d);
          }
        }
        auto [mn, mx] = std::minmax_element(c.phi.begin(), c.phi.end());
        c.ymin = *mn, c.ymax = *mx;
        if (!(c.ymax - c.ymin > 1e-12 * (1 + std::fabs(c.ymax))))
          c.ymin -= 0.5, c.ymax += 0.5;
      }
    }
  }

  // Layout: inputs at the bottom, 220 px between layers, 120 px per node.
  const double layerGap = 220, nodeGap = 120, margin = 60, box = 40;
  int64_t widest = *std::max_element(s.widths.begin(), s.widths.end());
  double W = widest * nodeGap + 2 * margin;
  double H = static_cast<double>(s.numLayers()) * layerGap + 2 * margin;
  auto nodeX = [&](size_t l, int64_t j) {
    double span = (s.widths[l] - 1) * nodeGap;
    return W / 2 - span / 2 + j * nodeGap;
  };
  auto nodeY = [&](size_t l) { return H - margin - l * layerGap; };

  std::string svg, layout;
  llvm::raw_string_ostream os(svg), js(layout);
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f2(W)
     << "\" height=\"" << f2(H) << "\" viewBox=\"0 0 " << f2(W) << " " << f2(H)
     << "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<title>KAN [" << s.widthsString() << "], G = " << s.gridSize
     << ", k = " << s.order << "</title>\n";
  js << "{\"width\":" << f2(W) << ",\"height\":" << f2(H) << ",\"edges\":[";
  bool first = true;
  for (size_t l = 0; l < s.numLayers(); ++l) {
    int64_t in = s.widths[l], out = s.widths[l + 1];
    double maxImp = 0;
    for (double a : importance[l])
      maxImp = std::max(maxImp, a);
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        const EdgeCurve &c = curves[l][o * in + i];
        double imp = importance[l][o * in + i];
        double alpha = maxImp > 0 ? std::tanh(3 * imp / maxImp) : 0;
        double x1 = nodeX(l, i), y1 = nodeY(l), x2 = nodeX(l + 1, o), y2 = nodeY(l + 1);
        // 30 % of the way up, so crossing edges keep their plots apart.
        double mx = x1 + 0.3 * (x2 - x1) - box / 2, my = y1 + 0.3 * (y2 - y1) - box / 2;
        os << "<g opacity=\"" << llvm::formatv("{0:f4}", alpha).str() << "\">\n"
           << "  <line x1=\"" << f2(x1) << "\" y1=\"" << f2(y1) << "\" x2=\""
           << f2(x2) << "\" y2=\"" << f2(y2) << "\" stroke=\"black\" stroke-width=\"2\"/>\n"
           << "  <rect x=\"" << f2(mx) << "\" y=\"" << f2(my) << "\" width=\"" << box
           << "\" height=\"" << box << "\" fill=\"white\" stroke=\"#888\"/>\n"
           << "  <polyline fill=\"none\" stroke=\"black\" stroke-width=\"2\" points=\""
           << polyline(c.xs, c.phi, c.xmin, c.xmax, c.ymin, c.ymax, mx + 3, my + 3,
                       box - 6, box - 6)
           << "\"/>\n";
        if (!c.fit.empty())
          os << "  <polyline fill=\"none\" stroke=\"red\" stroke-width=\"2\" "
                "stroke-dasharray=\"4 3\" points=\""
             << polyline(c.xs, c.fit, c.xmin, c.xmax, c.ymin, c.ymax, mx + 3,
                         my + 3, box - 6, box - 6)
             << "\"/>\n  <text x=\"" << f2(mx + box + 4) << "\" y=\""
             << f2(my + box / 2 + 5) << "\" font-family=\"sans-serif\" "
                "font-size=\"14\" fill=\"red\">"
             << c.name << "</text>\n";
        os << "</g>\n";
        js << (first ? "" : ",") << "{\"edge\":[" << l << "," << o << "," << i
           << "],\"box\":[" << f2(mx) << "," << f2(my) << "," << f2(box) << ","
           << f2(box) << "],\"importance\":" << llvm::formatv("{0:e4}", imp).str()
           << ",\"opacity\":" << llvm::formatv("{0:f4}", alpha).str()
           << (c.name.empty() ? "" : ",\"symbolic\":\"" + c.name + "\"") << "}";
        first = false;
      }
  }
  for (size_t l = 0; l <= s.numLayers(); ++l)
    for (int64_t j = 0; j < s.widths[l]; ++j)
      os << "<circle cx=\"" << f2(nodeX(l, j)) << "\" cy=\"" << f2(nodeY(l))
         << "\" r=\"8\" fill=\"black\"/>\n";
  for (int64_t j = 0; j < s.widths[0]; ++j)
    os << "<text x=\"" << f2(nodeX(0, j) - 8) << "\" y=\"" << f2(nodeY(0) + 30)
       << "\" font-family=\"sans-serif\" font-size=\"16\">x" << j + 1 << "</text>\n";
  os << "</svg>\n";
  js << "]}";
  if (Error e = writeFile(outPath, svg))
    return fail(std::move(e));

  if (!edgesDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(edgesDir))
      return fail(makeError(edgesDir + ": cannot create: " + ec.message()));
    for (size_t l = 0; l < s.numLayers(); ++l) {
      int64_t in = s.widths[l], out = s.widths[l + 1];
      for (int64_t i = 0; i < in; ++i) {
        // The histogram of the edge's inputs (20 bins over the curve's range).
        const int bins = 20;
        std::vector<int64_t> hist(bins, 0);
        const EdgeCurve &c0 = curves[l][i];
        for (int64_t r = 0; r < n; ++r) {
          double x = trace[l].x[r * in + i];
          int b = static_cast<int>((x - c0.xmin) / (c0.xmax - c0.xmin) * bins);
          hist[std::clamp(b, 0, bins - 1)] += 1;
        }
        int64_t hmax = *std::max_element(hist.begin(), hist.end());
        for (int64_t o = 0; o < out; ++o) {
          const EdgeCurve &c = curves[l][o * in + i];
          const double pw = 400, ph = 300, px = 50, py = 20, plotH = 200, histH = 60;
          std::string e;
          llvm::raw_string_ostream es(e);
          es << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << pw + 2 * px
             << "\" height=\"" << ph + 2 * py << "\">\n"
             << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
             << "<title>edge (" << l << "," << o << "," << i << ")</title>\n";
          for (int b = 0; b < bins; ++b) {
            double h = hmax ? histH * hist[b] / hmax : 0;
            es << "<rect x=\"" << f2(px + pw * b / bins) << "\" y=\""
               << f2(py + ph - h) << "\" width=\"" << f2(pw / bins - 1)
               << "\" height=\"" << f2(h) << "\" fill=\"#9ab\"/>\n";
          }
          es << "<rect x=\"" << px << "\" y=\"" << py << "\" width=\"" << pw
             << "\" height=\"" << plotH << "\" fill=\"none\" stroke=\"#444\"/>\n"
             << "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"2\" points=\""
             << polyline(c.xs, c.phi, c.xmin, c.xmax, c.ymin, c.ymax, px, py, pw, plotH)
             << "\"/>\n";
          if (!c.fit.empty())
            es << "<polyline fill=\"none\" stroke=\"red\" stroke-width=\"2\" "
                  "stroke-dasharray=\"6 4\" points=\""
               << polyline(c.xs, c.fit, c.xmin, c.xmax, c.ymin, c.ymax, px, py, pw, plotH)
               << "\"/>\n";
          es << "<text x=\"" << px << "\" y=\"" << py + plotH + 16
             << "\" font-family=\"sans-serif\" font-size=\"12\">x from "
             << llvm::formatv("{0:g4}", c.xmin).str() << " to "
             << llvm::formatv("{0:g4}", c.xmax).str() << "; phi from "
             << llvm::formatv("{0:g4}", c.ymin).str() << " to "
             << llvm::formatv("{0:g4}", c.ymax).str()
             << (c.name.empty() ? "" : "; fit: " + c.name) << "</text>\n</svg>\n";
          llvm::SmallString<256> p(edgesDir.getValue());
          llvm::sys::path::append(p, llvm::formatv("edge_{0}_{1}_{2}.svg", l, o, i).str());
          if (Error err = writeFile(p, e))
            return fail(std::move(err));
        }
      }
    }
  }
  llvm::outs() << layout << "\n";
  return 0;
}
