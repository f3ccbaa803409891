//===- Symbolic.h - edge functions to formulas ------------------*- C++ -*-===//
//
// pykan's symbolic workflow on a trained model: each edge phi(x) is fitted
// as c f(a x + b) + d for f in a library (grid search over a and b, least
// squares for c and d, R^2, then a few Gauss-Newton steps on all four),
// candidates ranked by R^2 and complexity, and the chosen edges composed
// into one expression per output with GiNaC, printed for SymPy, LaTeX or as
// MLIR (math/arith ops).
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_SYMBOLIC_H
#define KAN_TOOLS_SYMBOLIC_H

#include "kan/Tools/Model.h"
#include "kan/Tools/Regression.h"

#include <ginac/ginac.h>

namespace kan::tools {

/// A library function: name as pykan spells it, complexity (pykan's
/// SYMBOLIC_LIB values), its numeric form and its GiNaC form.
struct SymbolicFunction {
  const char *name;
  int complexity;
  double (*eval)(double);
  GiNaC::ex (*build)(const GiNaC::ex &);
};
/// Every function of the library (x, x^2, ..., sin, exp, ..., gaussian, 0).
llvm::ArrayRef<SymbolicFunction> symbolicLibrary();
const SymbolicFunction *findSymbolic(llvm::StringRef name);

struct SymbolicFit {
  const SymbolicFunction *fn = nullptr;
  double a = 1, b = 0, c = 0, d = 0;
  double r2 = 0;
  /// pykan's ranking: w * complexity + (1 - w) * log2(1 + 1e-5 - R^2).
  double score = 0;
};

struct FitOptions {
  double aMin = -10, aMax = 10, bMin = -10, bMax = 10;
  int gridNumber = 101; ///< points per axis of the (a, b) grid
  int zoom = 3;         ///< grid refinements around the best point
  int samples = 200;    ///< evenly spaced points of the data used in the search
  double weightSimple = 0.8;
};

/// Fits c f(a x + b) + d to (xs, ys).
SymbolicFit fitSymbolic(llvm::ArrayRef<double> xs, llvm::ArrayRef<double> ys,
                        const SymbolicFunction &fn, const FitOptions &o);
/// Every library function fitted and ranked, best (lowest score) first.
/// Fits whose term c f(a x + b) exceeds the data's magnitude 1e4-fold
/// (an offset cancelling a huge term) are left out.
std::vector<SymbolicFit> suggestSymbolic(llvm::ArrayRef<double> xs,
                                         llvm::ArrayRef<double> ys,
                                         const FitOptions &o);

/// The chosen fit per edge, per layer out x in (a null fn: the edge is 0).
using EdgeChoices = std::vector<std::vector<SymbolicFit>>;

/// Outputs (rows x O) of the network with every edge replaced by its
/// choice, on model-space inputs (rows x I).
std::vector<double> evaluateChoices(const ModelShape &shape,
                                    const EdgeChoices &edges,
                                    llvm::ArrayRef<double> x, int64_t rows);

/// pykan's fine-tuning of a symbolic network: Levenberg-Marquardt on the
/// a, b, c, d of every chosen edge (d alone for a 0 edge) against targets
/// (rows x O); a step is taken only when the squared error drops. Returns
/// the final RMSE.
double refineChoices(const ModelShape &shape, EdgeChoices &edges,
                     llvm::ArrayRef<double> x, llvm::ArrayRef<double> targets,
                     int64_t rows, int iterations);

/// The formula of every output in the original inputs x1, x2, ... (the
/// checkpoint's input scaling composed in), simplified by GiNaC from the
/// unrounded constants; then every floating-point number of the result is
/// rounded to `digits` significant digits (0: kept as they are).
std::vector<GiNaC::ex> composeFormula(const Model &m, const InputScaling &s,
                                      const EdgeChoices &edges, int digits,
                                      std::vector<GiNaC::symbol> &inputs);

/// Numeric value of a formula at the given inputs (the same operations the
/// MLIR form performs).
llvm::Expected<double> evaluateFormula(const GiNaC::ex &e,
                                       const std::vector<GiNaC::symbol> &in,
                                       llvm::ArrayRef<double> x);

/// Printers: SymPy syntax, LaTeX, and MLIR funcs of math/arith ops on f64
/// scalars, `func.func @formula(%x1: f64, ...) -> f64` (@formula_1 ...
/// @formula_O for several outputs).
llvm::Expected<std::string> printSympy(const GiNaC::ex &e);
llvm::Expected<std::string> printLatex(const GiNaC::ex &e);
llvm::Expected<std::string> printMlir(llvm::ArrayRef<GiNaC::ex> outputs,
                                      const std::vector<GiNaC::symbol> &in);

} // namespace kan::tools

#endif // KAN_TOOLS_SYMBOLIC_H
