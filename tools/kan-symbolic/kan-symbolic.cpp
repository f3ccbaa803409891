//===- kan-symbolic.cpp - a trained KAN to a formula ------------*- C++ -*-===//
//
// pykan's suggest_symbolic / auto_symbolic / symbolic_formula on a
// checkpoint: every edge's function, sampled at the inputs the data gives
// its layer, is fitted as c f(a x + b) + d for f in the library; the best
// candidate by R^2 and complexity is chosen (or the one given by --fix), the
// edges are composed into one formula per output, simplified by GiNaC and
// printed as SymPy text, LaTeX or an MLIR function of math/arith ops. The
// formula's error against the network and the data goes to stderr.
//
//===----------------------------------------------------------------------===//

#include "kan/Support/Options.h"
#include "kan/Tools/Edges.h"
#include "kan/Tools/Regression.h"
#include "kan/Tools/Symbolic.h"

#include "kanrt/kanrt.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>
#include <tuple>

using namespace kan::tools;
using llvm::Error;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;

static cl::OptionCategory cat("kan-symbolic options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
    cl::desc("<checkpoint.safetensors | model.mlir>"), cl::cat(cat));
static cl::opt<std::string> dataPath("data", cl::Required,
    cl::desc("CSV of samples: the model's inputs, then (optionally) its "
             "targets; the edges are fitted on the values these inputs give "
             "each layer"),
    cl::cat(cat));
static cl::opt<bool> csvHeader("csv-header", cl::desc("The CSV starts with a header line"), cl::cat(cat));
static cl::opt<bool> suggestOpt("suggest",
    cl::desc("Print the ranked candidates of every edge (stdout) before the formula"),
    cl::cat(cat));
static cli::opt<int64_t> topOpt("top", cl::init(5), cl::desc("Candidates shown per edge with --suggest (default 5)"), cl::cat(cat), cli::bounds(cli::positiveCount));
static cl::opt<std::string> formatOpt("format", cl::init("sympy"),
    cl::desc("sympy (default): one line SymPy parses; latex; mlir: "
             "func.func @formula(%x1: f64, ...) of math/arith ops, which "
             "kan-translate --target=cpu compiles"),
    cl::cat(cat));
static cl::opt<std::string> libOpt("lib",
    cl::desc("Comma-separated library functions to choose from (default: all "
             "of x, x^2, x^3, x^4, x^5, 1/x, 1/x^2, 1/x^3, 1/x^4, 1/x^5, sqrt, "
             "x^1.5, 1/sqrt(x), exp, log, abs, sin, cos, tan, tanh, sgn, "
             "arcsin, arccos, arctan, arctanh, 0, gaussian, cosh, sigmoid)"),
    cl::cat(cat));
static cl::list<std::string> fixOpt("fix",
    cl::desc("l,o,i=f: use function f for the edge from input i to output o "
             "of layer l (0-based; repeatable)"),
    cl::cat(cat));
static cl::opt<std::string> fixIntoOpt("fix-into",
    cl::desc("Write a checkpoint (safetensors) in which edges are fixed to "
             "their symbolic fit c*f(a*x+b)+d (pykan's fix_symbolic): the "
             "--fix edges if any are given, else every edge with a fit; "
             "their spline part is cleared. kan-train --resume trains it "
             "further (the a, b, c, d of the fixed edges, the remaining "
             "splines), kan-run evaluates it"),
    cl::value_desc("file"), cl::cat(cat));
static cli::opt<double> thresholdOpt("threshold", cl::init(1e-2),
    cl::desc("Edges whose importance mean|phi(x)| is below this are 0 "
             "(default 1e-2)"),
    cl::cat(cat), cli::bounds(cli::tolerance));
static cli::opt<double> weightSimple("weight-simple", cl::init(0.8),
    cl::desc("Ranking: w * complexity + (1 - w) * log2(1 + 1e-5 - R^2) "
             "(pykan's default w = 0.8)"),
    cl::cat(cat), cli::bounds(cli::fraction));
static cli::opt<int64_t> gridNumber("grid-number", cl::init(101),
    cl::desc("Points per axis of the (a, b) search grid over [-10, 10]^2 (default 101)"),
    cl::cat(cat), cli::bounds(cli::positiveCount));
static cli::opt<int64_t> samplesOpt("samples", cl::init(200),
    cl::desc("Samples per edge in the grid search (default 200; the final "
             "least-squares refinement uses all)"),
    cl::cat(cat), cli::bounds(cli::positiveCount));
static cli::opt<double> zeroOpt("zero-below", cl::init(1e-10),
    cl::desc("Constants of magnitude below this become 0 in the formula "
             "(default 1e-10; what the fine-tuning leaves of a term that "
             "does not belong)"),
    cl::cat(cat), cli::bounds(cli::tolerance));
static cli::opt<int64_t> digitsOpt("digits", cl::init(6),
    cl::desc("Significant digits of every number in the formula (default "
             "6; 0 = all), rounded after simplification, so products of the "
             "edges' constants are rounded too; every format prints the same "
             "rounded formula, and its RMSE on stderr is the rounded one's"),
    cl::cat(cat), cli::bounds(cli::nonNegativeCount));
static cli::opt<int64_t> refineOpt("refine", cl::init(100),
    cl::desc("Levenberg-Marquardt iterations on the a, b, c, d of every "
             "chosen edge against the data targets (the network's outputs "
             "when the data has none), as pykan fine-tunes a symbolic "
             "network (default 100; 0 = keep the per-edge fits)"),
    cl::cat(cat), cli::bounds(cli::nonNegativeCount));

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int fail(Error e) {
  llvm::errs().flush();
  llvm::WithColor::error(llvm::errs(), "kan-symbolic") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

static std::string fmt(double v, int p = 4) {
  char buf[40];
  snprintf(buf, sizeof(buf), "%.*g", p, v);
  return buf;
}

/// "l,o,i=f" -> the edge and the function.
static llvm::Error parseFix(const Model &m, llvm::StringRef s, size_t &l,
                            int64_t &o, int64_t &i,
                            const SymbolicFunction *&fn) {
  auto [edge, name] = s.split('=');
  llvm::SmallVector<llvm::StringRef> parts;
  edge.split(parts, ',');
  int64_t v[3];
  if (parts.size() != 3 || name.empty() || parts[0].trim().getAsInteger(10, v[0]) ||
      parts[1].trim().getAsInteger(10, v[1]) || parts[2].trim().getAsInteger(10, v[2]))
    return makeError("--fix '" + s + "': expected l,o,i=function (e.g. 0,0,1=sin)");
  if (v[0] < 0 || v[0] >= static_cast<int64_t>(m.shape.numLayers()) ||
      v[1] < 0 || v[1] >= m.shape.widths[v[0] + 1] || v[2] < 0 ||
      v[2] >= m.shape.widths[v[0]])
    return makeError("--fix '" + s + "': the model [" + m.shape.widthsString() +
                     "] has no such edge");
  fn = findSymbolic(name.trim());
  if (!fn)
    return makeError("--fix '" + s + "': '" + name + "' is not in the library");
  l = static_cast<size_t>(v[0]), o = v[1], i = v[2];
  return Error::success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-symbolic: the formula behind a trained KAN\n\n"
      "  kan-symbolic CHECKPOINT --data samples.csv [--suggest] [--format sympy|latex|mlir]\n\n"
      "Every edge with importance >= --threshold is fitted as c*f(a*x+b)+d\n"
      "(grid search over a, b; least squares for c, d; then Levenberg-Marquardt\n"
      "on all four); the best by R^2 and complexity is used unless --fix says\n"
      "otherwise. Inputs are x1, x2, ... in column order (the checkpoint's input\n"
      "scaling is part of the formula). The formula is the last stdout output;\n"
      "its error against the network and the data goes to stderr.\n");
  if (formatOpt != "sympy" && formatOpt != "latex" && formatOpt != "mlir")
    return fail(makeError("--format must be sympy, latex or mlir, not '" + formatOpt + "'"));
  if (gridNumber < 2 || gridNumber > 10000 || samplesOpt < 2)
    return fail(makeError("--grid-number must be in [2, 10000] and --samples >= 2"));
  if (digitsOpt < 0 || digitsOpt > 17)
    return fail(makeError("--digits must be in [0, 17]"));

  mlir::MLIRContext ctx;
  auto loaded = readScaledModel(ctx, modelPath, "kan-symbolic");
  if (!loaded)
    return fail(loaded.takeError());
  Model &model = loaded->model;
  InputScaling &scaling = loaded->scaling;
  const int64_t I = model.shape.widths.front(), O = model.shape.widths.back();

  // The data: inputs, optionally followed by the targets.
  kan_tensor t{};
  if (int st = kan_csv_read(dataPath.c_str(), csvHeader ? 1 : 0, KAN_IO_CHECK_FINITE, &t))
    return fail(runtimeError(st));
  int64_t rows = static_cast<int64_t>(t.shape[0]), cols = t.ndim == 2 ? static_cast<int64_t>(t.shape[1]) : 0;
  std::vector<double> raw(static_cast<const double *>(t.data),
                          static_cast<const double *>(t.data) + rows * cols);
  kan_tensor_free(&t);
  if (rows < 2)
    return fail(makeError(dataPath + ": needs at least two data rows"));
  if (cols != I && cols != I + O)
    return fail(makeError(dataPath + ": " + llvm::Twine(cols) + " columns; the model [" +
                          model.shape.widthsString() + "] needs " + llvm::Twine(I) +
                          " input columns, optionally followed by " + llvm::Twine(O) +
                          " target column(s)"));
  bool haveTargets = cols == I + O;
  std::vector<double> xRaw(static_cast<size_t>(rows * I)), xModel, target;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < I; ++j)
      xRaw[r * I + j] = raw[r * cols + j];
  if (haveTargets)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < O; ++j)
        target.push_back(raw[r * cols + I + j]);
  xModel = xRaw;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < I; ++j)
      xModel[r * I + j] = (xModel[r * I + j] - scaling.shift[j]) * scaling.scale[j];

  std::vector<LayerTrace> trace = traceModel(model, xModel.data(), rows);
  std::vector<double> net = traceOutput(trace, rows);
  auto importance = edgeImportance(trace, rows);

  // The library to choose from.
  std::vector<const SymbolicFunction *> lib;
  if (libOpt.empty()) {
    for (const SymbolicFunction &f : symbolicLibrary())
      lib.push_back(&f);
  } else {
    llvm::SmallVector<llvm::StringRef> names;
    llvm::StringRef(libOpt).split(names, ',');
    for (llvm::StringRef n : names) {
      const SymbolicFunction *f = findSymbolic(n.trim());
      if (!f)
        return fail(makeError("--lib: '" + n + "' is not in the library"));
      lib.push_back(f);
    }
  }
  // Manual choices.
  std::map<std::tuple<size_t, int64_t, int64_t>, const SymbolicFunction *> fixed;
  for (const std::string &s : fixOpt) {
    size_t l = 0;
    int64_t o = 0, i = 0;
    const SymbolicFunction *fn = nullptr;
    if (Error e = parseFix(model, s, l, o, i, fn))
      return fail(std::move(e));
    fixed[{l, o, i}] = fn;
  }

  FitOptions fo;
  fo.gridNumber = gridNumber;
  fo.samples = samplesOpt;
  fo.weightSimple = weightSimple;
  EdgeChoices choices(model.shape.numLayers());
  for (size_t l = 0; l < model.shape.numLayers(); ++l) {
    const LayerTrace &lt = trace[l];
    choices[l].resize(static_cast<size_t>(lt.out * lt.in));
    for (int64_t o = 0; o < lt.out; ++o)
      for (int64_t i = 0; i < lt.in; ++i) {
        double imp = importance[l][o * lt.in + i];
        std::string edge = llvm::formatv("edge ({0},{1},{2})", l, o, i).str();
        // An edge the model already holds as symbolic keeps its function
        // and parameters.
        if (model.shape.hasSymbolic(l) && !model.shape.symbolic[l][o * lt.in + i].empty()) {
          const std::string &name = model.shape.symbolic[l][o * lt.in + i];
          const SymbolicFunction *fn = findSymbolic(name);
          if (!fn)
            return fail(makeError(modelPath + ": edge function '" + name +
                                  "' is not in kan-symbolic's library"));
          const Tensor &p = *symbolicTensor(model, l);
          SymbolicFit f;
          f.fn = fn;
          int64_t e = (o * lt.in + i) * 4;
          f.a = p.get(e), f.b = p.get(e + 1), f.c = p.get(e + 2), f.d = p.get(e + 3);
          f.r2 = 1;
          choices[l][o * lt.in + i] = f;
          if (suggestOpt)
            llvm::outs() << edge << ": symbolic in the model: " << fn->name << "\n";
          llvm::errs() << edge << ": " << fn->name << " (symbolic in the model)\n";
          continue;
        }
        auto fx = fixed.find({l, o, i});
        if (imp < thresholdOpt && fx == fixed.end()) {
          if (suggestOpt)
            llvm::outs() << edge << ": importance " << fmt(imp)
                         << " below --threshold: 0\n";
          continue;
        }
        std::vector<double> xs(static_cast<size_t>(rows)), ys(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r) {
          xs[r] = lt.x[r * lt.in + i];
          ys[r] = lt.phi[(r * lt.out + o) * lt.in + i];
        }
        std::vector<SymbolicFit> ranked;
        if (fx != fixed.end()) {
          ranked.push_back(fitSymbolic(xs, ys, *fx->second, fo));
        } else {
          for (const SymbolicFit &f : suggestSymbolic(xs, ys, fo))
            if (llvm::is_contained(lib, f.fn))
              ranked.push_back(f);
        }
        if (ranked.empty() || !std::isfinite(ranked.front().r2))
          return fail(makeError(edge + ": no library function fits (R^2 undefined "
                                "on the data)"));
        if (suggestOpt) {
          llvm::outs() << edge << ": importance " << fmt(imp)
                       << (fx != fixed.end() ? " (fixed)" : "") << "\n";
          for (int k = 0; k < topOpt && k < static_cast<int>(ranked.size()); ++k) {
            const SymbolicFit &f = ranked[k];
            llvm::outs() << llvm::formatv("  {0,2}. {1,-10} r2={2}  complexity={3}  "
                                          "score={4}  {5}*f({6}*x{7}{8}){9}{10}\n",
                                          k + 1, f.fn->name, fmt(f.r2, 8),
                                          f.fn->complexity, fmt(f.score), fmt(f.c),
                                          fmt(f.a), f.b < 0 ? "" : "+", fmt(f.b),
                                          f.d < 0 ? "" : "+", fmt(f.d));
          }
        }
        choices[l][o * lt.in + i] = ranked.front();
        llvm::errs() << edge << ": " << ranked.front().fn->name << ", r2 "
                     << fmt(ranked.front().r2, 8) << "\n";
      }
  }

  // pykan's fix_symbolic: the per-edge fits (before the joint refinement
  // below) become symbolic edges of the model.
  if (!fixIntoOpt.empty()) {
    ModelShape ns = model.shape;
    ns.symbolic.resize(ns.numLayers());
    int64_t count = 0;
    for (size_t l = 0; l < ns.numLayers(); ++l) {
      const int64_t E = ns.widths[l] * ns.widths[l + 1];
      for (int64_t e = 0; e < E; ++e) {
        const SymbolicFit &f = choices[l][e];
        bool fix = f.fn && (fixed.empty() ||
                            fixed.count({l, e / ns.widths[l], e % ns.widths[l]}));
        bool already = model.shape.hasSymbolic(l) && !model.shape.symbolic[l][e].empty();
        if (!fix && !already)
          continue;
        if (ns.symbolic[l].empty())
          ns.symbolic[l].assign(static_cast<size_t>(E), "");
        ns.symbolic[l][e] = f.fn->name;
        count += !already;
      }
    }
    Model fixedModel = allocateModel(ns);
    fixedModel.metadata = model.metadata;
    for (Tensor &t : fixedModel.tensors)
      for (const Tensor &src : model.tensors)
        if (src.name == t.name)
          t.storage = src.storage;
    const int64_t nb = ns.gridSize + ns.order;
    for (size_t l = 0; l < ns.numLayers(); ++l) {
      if (!ns.hasSymbolic(l))
        continue;
      Tensor &p = *symbolicTensor(fixedModel, l);
      for (size_t e = 0; e < ns.symbolic[l].size(); ++e) {
        if (ns.symbolic[l][e].empty())
          continue;
        const SymbolicFit &f = choices[l][e];
        p.set(e * 4, f.a), p.set(e * 4 + 1, f.b), p.set(e * 4 + 2, f.c),
            p.set(e * 4 + 3, f.d);
        fixedModel.tensor(l, BaseWeight).set(e, 0);
        for (int64_t k = 0; k < nb; ++k)
          fixedModel.tensor(l, SplineWeight).set(e * nb + k, 0);
      }
    }
    if (Error e = writeSafetensors(fixedModel, fixIntoOpt))
      return fail(std::move(e));
    llvm::errs() << "fixed " << count << " edge(s) to their symbolic fit in "
                 << fixIntoOpt << "\n";
  }

  // pykan's fine-tuning of the symbolic network: every chosen edge's
  // affine parameters against the data (or the network's outputs).
  if (refineOpt > 0) {
    double before = 0;
    {
      std::vector<double> y = evaluateChoices(model.shape, choices, xModel, rows);
      for (size_t k = 0; k < y.size(); ++k) {
        double d = y[k] - (haveTargets ? target[k] : net[k]);
        before += d * d;
      }
      before = std::sqrt(before / static_cast<double>(y.size()));
    }
    double after = refineChoices(model.shape, choices, xModel,
                                 haveTargets ? target : net, rows, refineOpt);
    llvm::errs() << "fine-tuned the symbolic edges against the "
                 << (haveTargets ? "data" : "network") << ": RMSE "
                 << fmt(before) << " -> " << fmt(after) << "\n";
  }

  std::vector<GiNaC::symbol> inputs;
  for (auto &layer : choices)
    for (SymbolicFit &f : layer)
      for (double *v : {&f.a, &f.b, &f.c, &f.d})
        if (std::fabs(*v) < zeroOpt)
          *v = 0;
  std::vector<GiNaC::ex> formula = composeFormula(model, scaling, choices, digitsOpt, inputs);

  // Errors against the network and the data.
  double seNet = 0, seData = 0, mean = 0, var = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < O; ++o) {
      auto v = evaluateFormula(formula[o], inputs, llvm::ArrayRef<double>(xRaw).slice(r * I, I));
      if (!v)
        return fail(v.takeError());
      double d = *v - net[r * O + o];
      seNet += d * d;
      if (haveTargets) {
        double e = *v - target[r * O + o];
        seData += e * e;
        mean += target[r * O + o];
      }
    }
  double rmseNet = std::sqrt(seNet / (rows * O));
  llvm::errs() << "formula RMSE against the network: " << fmt(rmseNet);
  if (haveTargets) {
    mean /= rows * O;
    for (double v : target)
      var += (v - mean) * (v - mean);
    double sd = std::sqrt(var / (rows * O)), rmse = std::sqrt(seData / (rows * O));
    llvm::errs() << ", against the data: " << fmt(rmse) << " ("
                 << fmt(sd > 0 ? rmse / sd : NAN) << " of the targets' deviation)";
  }
  llvm::errs() << " on " << rows << " samples\n";

  if (formatOpt == "mlir") {
    auto s = printMlir(formula, inputs);
    if (!s)
      return fail(s.takeError());
    llvm::outs() << *s;
    return 0;
  }
  std::string line;
  for (size_t o = 0; o < formula.size(); ++o) {
    auto s = formatOpt == "sympy" ? printSympy(formula[o]) : printLatex(formula[o]);
    if (!s)
      return fail(s.takeError());
    if (formula.size() > 1)
      line += (o ? ", " : "") + (formatOpt == "latex" ? "y_{" + std::to_string(o + 1) + "} = " : "") + *s;
    else
      line = *s;
  }
  if (formula.size() > 1 && formatOpt == "sympy")
    line = "[" + line + "]";
  llvm::outs() << line << "\n";
  return 0;
}
