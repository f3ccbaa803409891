//===- Curves.cpp - kan-plot curves: training curves as SVG ---------------===//
//
// Four panels: loss vs steps, loss vs seconds (top), test accuracy vs steps,
// test accuracy vs seconds (bottom). Each run is one colour (a polyline
// through its records plus a dot per record); records with a null value are
// left out of that panel. Axes use "nice" ticks (1, 2, 5 x 10^k).
//
//===----------------------------------------------------------------------===//

#include "Curves.h"

#include "kan/Support/Options.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;
using llvm::Error;

static cl::SubCommand curvesCmd(
    "curves",
    "Training curves: loss and test accuracy against steps and seconds, "
    "one colour per run, from metrics files (JSON lines {step, seconds, "
    "loss, test_accuracy, ...} as kan-train and kancompiler write them)");
static cl::list<std::string> inputs(cl::Positional, cl::OneOrMore,
                                    cl::desc("<run.metrics.jsonl>..."),
                                    cl::sub(curvesCmd));
static cl::opt<std::string> output("o", cl::Required,
                                   cl::desc("Output SVG file ('-' for stdout)"),
                                   cl::value_desc("curves.svg"),
                                   cl::sub(curvesCmd));
static cl::opt<std::string> labelsOpt(
    "labels",
    cl::desc("Comma-separated names of the runs, in the order of the files "
             "(default: the file names without .metrics.jsonl/.jsonl)"),
    cl::sub(curvesCmd));
static cl::opt<std::string> titleOpt("title", cl::desc("Title above the panels"),
                                     cl::sub(curvesCmd));
static cl::opt<bool> logLoss("log-loss",
                             cl::desc("Logarithmic loss axis (positive losses)"),
                             cl::sub(curvesCmd));
static cli::opt<int64_t> widthOpt("width", cl::init(1000),
                                  cl::desc("Image width in pixels (default 1000, at least 400)"),
                                  cl::sub(curvesCmd), cli::bounds(cli::positiveCount));
static cli::opt<int64_t> heightOpt("height", cl::init(700),
                                   cl::desc("Image height in pixels (default 700, at least 300)"),
                                   cl::sub(curvesCmd), cli::bounds(cli::positiveCount));

bool kan::plot::curvesSelected() { return static_cast<bool>(curvesCmd); }

namespace {

Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

struct Record {
  double step = NAN, seconds = NAN, loss = NAN, accuracy = NAN;
};

struct Run {
  std::string label;
  std::vector<Record> records;
};

/// Colour-blind-friendly palette (the matplotlib "tab10" colours).
const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                               "#bcbd22", "#17becf"};

/// A number or null from a record; anything else is an error.
Error field(const llvm::json::Object &o, llvm::StringRef key, double &out,
            bool required, const llvm::Twine &where) {
  const llvm::json::Value *v = o.get(key);
  if (!v || v->kind() == llvm::json::Value::Null) {
    if (required)
      return makeError(where + ": no \"" + key + "\"");
    return Error::success();
  }
  std::optional<double> d = v->getAsNumber();
  if (!d || !std::isfinite(*d))
    return makeError(where + ": \"" + key + "\" is not a number");
  out = *d;
  return Error::success();
}

llvm::Expected<Run> readRun(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFileOrSTDIN(path);
  if (!buf)
    return makeError(path + ": cannot read: " + buf.getError().message());
  Run run;
  llvm::SmallVector<llvm::StringRef> lines;
  (*buf)->getBuffer().split(lines, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef line = lines[i].trim();
    if (line.empty())
      continue;
    std::string where = (path + ":" + llvm::Twine(i + 1)).str();
    auto v = llvm::json::parse(line);
    if (!v)
      return makeError(where + ": not JSON: " + llvm::toString(v.takeError()));
    const llvm::json::Object *o = v->getAsObject();
    if (!o)
      return makeError(where + ": expected a JSON object per line");
    Record r;
    if (Error e = field(*o, "step", r.step, true, where))
      return std::move(e);
    if (Error e = field(*o, "seconds", r.seconds, false, where))
      return std::move(e);
    if (Error e = field(*o, "loss", r.loss, false, where))
      return std::move(e);
    if (Error e = field(*o, "test_accuracy", r.accuracy, false, where))
      return std::move(e);
    run.records.push_back(r);
  }
  if (run.records.empty())
    return makeError(path + ": no records (expected JSON lines with \"step\")");
  return run;
}

/// An axis range and its ticks.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;

  double map(double v) const {
    if (log)
      return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

/// Ticks at 1, 2 or 5 x 10^k covering [lo, hi] with about `count` steps.
Axis niceAxis(double lo, double hi, bool fromZero, int count = 5) {
  Axis a;
  if (fromZero)
    lo = std::min(lo, 0.0);
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.05;
    lo -= pad;
    hi += pad;
    if (fromZero)
      lo = std::max(lo, 0.0);
  }
  double raw = (hi - lo) / count;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step)
    a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return a;
}

/// Decades (and 2x, 5x) covering [lo, hi], lo > 0.
Axis logAxis(double lo, double hi) {
  Axis a;
  a.log = true;
  a.lo = std::pow(10, std::floor(std::log10(lo)));
  a.hi = std::pow(10, std::ceil(std::log10(hi)));
  if (a.hi <= a.lo)
    a.hi = a.lo * 10;
  int decades = static_cast<int>(std::lround(std::log10(a.hi / a.lo)));
  for (double d = a.lo; d <= a.hi * 1.0001; d *= 10)
    for (double m : {1.0, 2.0, 5.0})
      if (d * m <= a.hi * 1.0001 && (m == 1 || decades <= 2))
        a.ticks.push_back(d * m);
  return a;
}

std::string tickLabel(double v, const Axis &a, bool percent) {
  if (percent)
    v *= 100;
  double span = (a.hi - a.lo) * (percent ? 100 : 1);
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e6 || (a.log && std::fabs(v) < 1e-3)))
    snprintf(buf, sizeof(buf), "%.0e", v);
  else if (a.log || span >= 5)
    snprintf(buf, sizeof(buf), "%.*f", a.log && v < 1 ? static_cast<int>(std::ceil(-std::log10(v))) : 0, v);
  else
    snprintf(buf, sizeof(buf), "%.*f",
             std::max(0, static_cast<int>(std::ceil(-std::log10(span / 5)))), v);
  std::string s = buf;
  return percent ? s + "%" : s;
}

std::string esc(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

enum class Quantity { Loss, Accuracy };
enum class Along { Steps, Seconds };

double xOf(const Record &r, Along a) {
  return a == Along::Steps ? r.step : r.seconds;
}
double yOf(const Record &r, Quantity q) {
  return q == Quantity::Loss ? r.loss : r.accuracy;
}

/// Draws one panel into `os` at (x0, y0) of size w x h (the plot area is
/// inset for the tick labels).
void drawPanel(llvm::raw_ostream &os, const std::vector<Run> &runs, Quantity q,
               Along along, double x0, double y0, double w, double h) {
  const double left = 64, right = 12, top = 28, bottom = 44;
  double px = x0 + left, py = y0 + top, pw = w - left - right,
         ph = h - top - bottom;
  // Ranges over every run's defined points.
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  size_t points = 0;
  for (const Run &r : runs)
    for (const Record &rec : r.records) {
      double x = xOf(rec, along), y = yOf(rec, q);
      if (!std::isfinite(x) || !std::isfinite(y) ||
          (q == Quantity::Loss && logLoss && !(y > 0)))
        continue;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
      ++points;
    }
  const char *yName = q == Quantity::Loss ? "loss" : "test accuracy";
  const char *xName = along == Along::Steps ? "steps" : "seconds";
  os << "<g class=\"panel\" id=\"" << (q == Quantity::Loss ? "loss" : "accuracy")
     << "-" << xName << "\">\n";
  os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" "
                     "text-anchor=\"middle\" font-family=\"sans-serif\">",
                     px + pw / 2, y0 + 18)
     << yName << " vs " << xName << "</text>\n";
  os << llvm::format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                     "fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n",
                     px, py, pw, ph);
  if (points == 0) {
    os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" "
                       "text-anchor=\"middle\" fill=\"#666666\" "
                       "font-family=\"sans-serif\">no %s values</text>\n",
                       px + pw / 2, py + ph / 2, yName);
    os << "</g>\n";
    return;
  }
  Axis xa = niceAxis(xmin, xmax, /*fromZero=*/true);
  Axis ya = q == Quantity::Loss && logLoss
                ? logAxis(ymin, ymax)
                : niceAxis(ymin, ymax, /*fromZero=*/false);
  if (q == Quantity::Accuracy) {
    ya.lo = std::max(ya.lo, 0.0);
    ya.hi = std::min(ya.hi, 1.0);
    if (!(ya.hi > ya.lo))
      ya = niceAxis(std::max(0.0, ymin - 0.05), std::min(1.0, ymax + 0.05), false);
    llvm::erase_if(ya.ticks, [&](double t) { return t < ya.lo - 1e-12 || t > ya.hi + 1e-12; });
  }
  auto X = [&](double v) { return px + xa.map(v) * pw; };
  auto Y = [&](double v) { return py + ph - ya.map(v) * ph; };
  // Grid and tick labels.
  for (double t : xa.ticks) {
    os << llvm::format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#dddddd\" stroke-width=\"1\"/>\n",
                       X(t), py, X(t), py + ph);
    os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                       "text-anchor=\"middle\" font-family=\"sans-serif\">",
                       X(t), py + ph + 15)
       << esc(tickLabel(t, xa, false)) << "</text>\n";
  }
  for (double t : ya.ticks) {
    os << llvm::format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#dddddd\" stroke-width=\"1\"/>\n",
                       px, Y(t), px + pw, Y(t));
    os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                       "text-anchor=\"end\" font-family=\"sans-serif\">",
                       px - 5, Y(t) + 4)
       << esc(tickLabel(t, ya, q == Quantity::Accuracy)) << "</text>\n";
  }
  os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                     "text-anchor=\"middle\" font-family=\"sans-serif\">",
                     px + pw / 2, py + ph + 34)
     << xName << "</text>\n";
  // One polyline and dots per run.
  for (size_t i = 0; i < runs.size(); ++i) {
    const char *colour = palette[i % std::size(palette)];
    std::string pts;
    std::vector<std::pair<double, double>> dots;
    for (const Record &rec : runs[i].records) {
      double x = xOf(rec, along), y = yOf(rec, q);
      if (!std::isfinite(x) || !std::isfinite(y) ||
          (q == Quantity::Loss && logLoss && !(y > 0)))
        continue;
      dots.emplace_back(X(x), Y(y));
      pts += llvm::formatv("{0:f1},{1:f1} ", X(x), Y(y)).str();
    }
    if (dots.empty())
      continue;
    os << "<g class=\"run\" data-run=\"" << i << "\">\n";
    if (dots.size() > 1)
      os << "<polyline fill=\"none\" stroke=\"" << colour
         << "\" stroke-width=\"2\" points=\"" << llvm::StringRef(pts).rtrim()
         << "\"/>\n";
    for (auto [x, y] : dots)
      os << llvm::format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                         x, y, colour);
    os << "</g>\n";
  }
  os << "</g>\n";
}

std::string defaultLabel(llvm::StringRef path) {
  llvm::StringRef name = llvm::sys::path::filename(path);
  for (llvm::StringRef suffix : {".metrics.jsonl", ".jsonl"})
    if (name.consume_back(suffix))
      break;
  return name.str();
}

} // namespace

int kan::plot::runCurves() {
  auto fail = [](Error e) {
    llvm::WithColor::error(llvm::errs(), "kan-plot curves")
        << llvm::toString(std::move(e)) << "\n";
    return 1;
  };
  if (widthOpt < 400 || heightOpt < 300 || widthOpt > 20000 || heightOpt > 20000)
    return fail(makeError("--width must be in [400, 20000] and --height in [300, 20000]"));
  std::vector<Run> runs;
  for (const std::string &path : inputs) {
    auto run = readRun(path);
    if (!run)
      return fail(run.takeError());
    run->label = defaultLabel(path);
    runs.push_back(std::move(*run));
  }
  if (!labelsOpt.empty()) {
    llvm::SmallVector<llvm::StringRef> labels;
    llvm::StringRef(labelsOpt).split(labels, ',');
    if (labels.size() != runs.size())
      return fail(makeError("--labels names " + llvm::Twine(labels.size()) +
                            " runs but " + llvm::Twine(runs.size()) +
                            " files are given"));
    for (size_t i = 0; i < runs.size(); ++i)
      runs[i].label = labels[i].trim().str();
  }

  std::string svg;
  llvm::raw_string_ostream os(svg);
  double W = widthOpt, H = heightOpt;
  double head = 30 + (titleOpt.empty() ? 0 : 24);
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << llvm::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
                     W, H, W, H)
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!titleOpt.empty())
    os << llvm::format("<text x=\"%.1f\" y=\"20\" font-size=\"16\" "
                       "text-anchor=\"middle\" font-family=\"sans-serif\">",
                       W / 2)
       << esc(titleOpt) << "</text>\n";
  // Legend: one swatch and label per run, in a row.
  double lx = 16, ly = head - 12;
  os << "<g class=\"legend\">\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const char *colour = palette[i % std::size(palette)];
    os << llvm::format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"%s\" stroke-width=\"3\"/>\n",
                       lx, ly, lx + 22, ly, colour);
    os << llvm::format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                       "font-family=\"sans-serif\">",
                       lx + 27, ly + 4)
       << esc(runs[i].label) << "</text>\n";
    lx += 40 + 7.0 * runs[i].label.size();
  }
  os << "</g>\n";
  double pw = W / 2, ph = (H - head) / 2;
  drawPanel(os, runs, Quantity::Loss, Along::Steps, 0, head, pw, ph);
  drawPanel(os, runs, Quantity::Loss, Along::Seconds, pw, head, pw, ph);
  drawPanel(os, runs, Quantity::Accuracy, Along::Steps, 0, head + ph, pw, ph);
  drawPanel(os, runs, Quantity::Accuracy, Along::Seconds, pw, head + ph, pw, ph);
  os << "</svg>\n";

  if (output == "-") {
    llvm::outs() << svg;
    return 0;
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(output, ec);
  if (ec)
    return fail(makeError(output + ": cannot write: " + ec.message()));
  out << svg;
  out.close();
  if (out.has_error()) {
    out.clear_error();
    return fail(makeError(output + ": write failed"));
  }
  return 0;
}
