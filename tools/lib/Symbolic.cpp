//===- Symbolic.cpp - edge functions to formulas --------------------------===//
//
// The fit follows pykan's utils.fit_params (KindXiaoming/pykan): sweep a and
// b over a grid, take the pair whose f(a x + b) correlates best with y
// (R^2 of the linear fit y ~ c f(a x + b) + d), zoom in around it, then c
// and d by least squares. Here a few Levenberg-Marquardt steps on all four
// parameters over every sample follow, so the formula inherits the
// network's accuracy instead of the grid's resolution.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Symbolic.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace kan::tools;
using llvm::Error;
using llvm::Expected;
namespace G = GiNaC;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// The library (pykan's SYMBOLIC_LIB names and complexities, plus cosh and
// sigmoid)
//===----------------------------------------------------------------------===//

static double sgn(double x) { return (x > 0) - (x < 0); }

static const SymbolicFunction kLibrary[] = {
    {"x", 1, [](double x) { return x; }, [](const G::ex &u) -> G::ex { return u; }},
    {"x^2", 2, [](double x) { return x * x; },
     [](const G::ex &u) -> G::ex { return G::pow(u, 2); }},
    {"x^3", 3, [](double x) { return x * x * x; },
     [](const G::ex &u) -> G::ex { return G::pow(u, 3); }},
    {"x^4", 3, [](double x) { return x * x * x * x; },
     [](const G::ex &u) -> G::ex { return G::pow(u, 4); }},
    {"x^5", 3, [](double x) { return x * x * x * x * x; },
     [](const G::ex &u) -> G::ex { return G::pow(u, 5); }},
    {"1/x", 2, [](double x) { return 1 / x; },
     [](const G::ex &u) -> G::ex { return G::pow(u, -1); }},
    {"1/x^2", 2, [](double x) { return 1 / (x * x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, -2); }},
    {"1/x^3", 3, [](double x) { return 1 / (x * x * x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, -3); }},
    {"1/x^4", 4, [](double x) { return 1 / (x * x * x * x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, -4); }},
    {"1/x^5", 5, [](double x) { return 1 / (x * x * x * x * x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, -5); }},
    {"sqrt", 2, [](double x) { return std::sqrt(x); },
     [](const G::ex &u) -> G::ex { return G::sqrt(u); }},
    {"x^1.5", 4, [](double x) { return x * std::sqrt(x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, G::numeric(3, 2)); }},
    {"1/sqrt(x)", 4, [](double x) { return 1 / std::sqrt(x); },
     [](const G::ex &u) -> G::ex { return G::pow(u, G::numeric(-1, 2)); }},
    {"exp", 2, [](double x) { return std::exp(x); },
     [](const G::ex &u) -> G::ex { return G::exp(u); }},
    {"log", 2, [](double x) { return std::log(x); },
     [](const G::ex &u) -> G::ex { return G::log(u); }},
    {"abs", 3, [](double x) { return std::fabs(x); },
     [](const G::ex &u) -> G::ex { return G::abs(u); }},
    {"sin", 2, [](double x) { return std::sin(x); },
     [](const G::ex &u) -> G::ex { return G::sin(u); }},
    {"cos", 2, [](double x) { return std::cos(x); },
     [](const G::ex &u) -> G::ex { return G::cos(u); }},
    {"tan", 3, [](double x) { return std::tan(x); },
     [](const G::ex &u) -> G::ex { return G::tan(u); }},
    {"tanh", 3, [](double x) { return std::tanh(x); },
     [](const G::ex &u) -> G::ex { return G::tanh(u); }},
    {"sgn", 3, sgn, [](const G::ex &u) -> G::ex { return G::csgn(u); }},
    {"arcsin", 4, [](double x) { return std::asin(x); },
     [](const G::ex &u) -> G::ex { return G::asin(u); }},
    {"arccos", 4, [](double x) { return std::acos(x); },
     [](const G::ex &u) -> G::ex { return G::acos(u); }},
    {"arctan", 4, [](double x) { return std::atan(x); },
     [](const G::ex &u) -> G::ex { return G::atan(u); }},
    {"arctanh", 4, [](double x) { return std::atanh(x); },
     [](const G::ex &u) -> G::ex { return G::atanh(u); }},
    {"0", 0, [](double) { return 0.0; },
     [](const G::ex &) -> G::ex { return G::ex(0); }},
    {"gaussian", 3, [](double x) { return std::exp(-x * x); },
     [](const G::ex &u) -> G::ex { return G::exp(-G::pow(u, 2)); }},
    {"cosh", 3, [](double x) { return std::cosh(x); },
     [](const G::ex &u) -> G::ex { return G::cosh(u); }},
    {"sigmoid", 4, [](double x) { return 1 / (1 + std::exp(-x)); },
     [](const G::ex &u) -> G::ex { return G::pow(1 + G::exp(-u), -1); }},
};

llvm::ArrayRef<SymbolicFunction> kan::tools::symbolicLibrary() {
  return kLibrary;
}

const SymbolicFunction *kan::tools::findSymbolic(llvm::StringRef name) {
  for (const SymbolicFunction &f : kLibrary)
    if (name == f.name)
      return &f;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Fitting
//===----------------------------------------------------------------------===//

/// R^2 of the best line y ~ c u + d, and c, d; -1 when u is not finite or
/// (numerically) constant.
static double linearR2(llvm::ArrayRef<double> u, llvm::ArrayRef<double> y,
                       double *c = nullptr, double *d = nullptr) {
  size_t n = u.size();
  double mu = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(u[i]) || std::fabs(u[i]) > 1e12)
      return -1;
    mu += u[i], my += y[i];
  }
  mu /= n, my /= n;
  double suu = 0, suy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    double a = u[i] - mu, b = y[i] - my;
    suu += a * a, suy += a * b, syy += b * b;
  }
  if (!(suu > 1e-300 * n) || !(syy > 0))
    return -1;
  if (c)
    *c = suy / suu, *d = my - suy / suu * mu;
  return suy * suy / (suu * syy);
}

static double sse(const SymbolicFunction &fn, const double p[4],
                  llvm::ArrayRef<double> xs, llvm::ArrayRef<double> ys) {
  double s = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    double r = p[2] * fn.eval(p[0] * xs[i] + p[1]) + p[3] - ys[i];
    s += r * r;
  }
  return std::isfinite(s) ? s : INFINITY;
}

/// Levenberg-Marquardt on (a, b, c, d) with f' by central differences.
static void refine(const SymbolicFunction &fn, double p[4],
                   llvm::ArrayRef<double> xs, llvm::ArrayRef<double> ys) {
  double cur = sse(fn, p, xs, ys), lambda = 1e-3;
  if (!std::isfinite(cur))
    return;
  for (int it = 0; it < 50; ++it) {
    double JtJ[4][4] = {}, Jtr[4] = {};
    for (size_t i = 0; i < xs.size(); ++i) {
      double u = p[0] * xs[i] + p[1], h = 1e-6 * (1 + std::fabs(u));
      double f = fn.eval(u), fp = (fn.eval(u + h) - fn.eval(u - h)) / (2 * h);
      double r = p[2] * f + p[3] - ys[i];
      double J[4] = {p[2] * fp * xs[i], p[2] * fp, f, 1};
      for (int a = 0; a < 4; ++a) {
        Jtr[a] += J[a] * r;
        for (int b = 0; b < 4; ++b)
          JtJ[a][b] += J[a] * J[b];
      }
    }
    bool improved = false;
    for (int tries = 0; tries < 8 && !improved; ++tries) {
      // Solve (JtJ + lambda diag(JtJ)) delta = -Jtr by Gaussian elimination.
      double A[4][5];
      for (int a = 0; a < 4; ++a) {
        for (int b = 0; b < 4; ++b)
          A[a][b] = JtJ[a][b] + (a == b ? lambda * (JtJ[a][a] + 1e-12) : 0);
        A[a][4] = -Jtr[a];
      }
      bool singular = false;
      for (int c = 0; c < 4 && !singular; ++c) {
        int piv = c;
        for (int r = c + 1; r < 4; ++r)
          if (std::fabs(A[r][c]) > std::fabs(A[piv][c]))
            piv = r;
        if (std::fabs(A[piv][c]) < 1e-300) {
          singular = true;
          break;
        }
        std::swap(A[c], A[piv]);
        for (int r = 0; r < 4; ++r)
          if (r != c) {
            double f = A[r][c] / A[c][c];
            for (int k = c; k < 5; ++k)
              A[r][k] -= f * A[c][k];
          }
      }
      if (singular) {
        lambda *= 10;
        continue;
      }
      double q[4];
      for (int a = 0; a < 4; ++a)
        q[a] = p[a] + A[a][4] / A[a][a];
      double s = sse(fn, q, xs, ys);
      if (s < cur) {
        std::copy(q, q + 4, p);
        improved = cur - s > 1e-15 * cur;
        cur = s;
        lambda = std::max(lambda / 10, 1e-12);
        if (!improved)
          return;
      } else {
        lambda *= 10;
      }
    }
    if (!improved)
      return;
  }
}

SymbolicFit kan::tools::fitSymbolic(llvm::ArrayRef<double> xs,
                                    llvm::ArrayRef<double> ys,
                                    const SymbolicFunction &fn,
                                    const FitOptions &o) {
  SymbolicFit fit;
  fit.fn = &fn;
  size_t n = xs.size();
  double my = 0, syy = 0;
  for (double v : ys)
    my += v;
  my /= std::max<size_t>(n, 1);
  for (double v : ys)
    syy += (v - my) * (v - my);
  if (fn.complexity == 0) { // the zero function: a constant d
    fit.c = 0, fit.d = my, fit.r2 = 0;
    return fit;
  }
  // Evenly spaced samples (in the data's order) for the grid search.
  std::vector<double> sx, sy;
  size_t step = std::max<size_t>(1, n / std::max(1, o.samples));
  for (size_t i = 0; i < n; i += step)
    sx.push_back(xs[i]), sy.push_back(ys[i]);
  double a0 = o.aMin, a1 = o.aMax, b0 = o.bMin, b1 = o.bMax;
  double bestA = 1, bestB = 0, bestR2 = -1;
  std::vector<double> u(sx.size());
  int gn = std::max(2, o.gridNumber);
  for (int z = 0; z < o.zoom; ++z) {
    double da = (a1 - a0) / (gn - 1), db = (b1 - b0) / (gn - 1);
    for (int i = 0; i < gn; ++i) {
      double a = a0 + i * da;
      for (int j = 0; j < gn; ++j) {
        double b = b0 + j * db;
        for (size_t r = 0; r < sx.size(); ++r)
          u[r] = fn.eval(a * sx[r] + b);
        double r2 = linearR2(u, sy);
        if (r2 > bestR2 + 1e-15)
          bestR2 = r2, bestA = a, bestB = b;
      }
    }
    a0 = bestA - da, a1 = bestA + da, b0 = bestB - db, b1 = bestB + db;
  }
  if (bestR2 < 0) { // nowhere defined on the data: no fit
    fit.r2 = -INFINITY;
    return fit;
  }
  std::vector<double> uf(n);
  for (size_t r = 0; r < n; ++r)
    uf[r] = fn.eval(bestA * xs[r] + bestB);
  double c = 0, d = 0;
  if (linearR2(uf, ys, &c, &d) < 0) {
    fit.r2 = -INFINITY;
    return fit;
  }
  double p[4] = {bestA, bestB, c, d};
  refine(fn, p, xs, ys);
  fit.a = p[0], fit.b = p[1], fit.c = p[2], fit.d = p[3];
  double s = sse(fn, p, xs, ys);
  fit.r2 = syy > 0 ? 1 - s / syy : (s == 0 ? 1 : 0);
  if (!std::isfinite(fit.r2))
    fit.r2 = -INFINITY;
  return fit;
}

/// How much c f(a x + b) + d cancels: the largest |c f| over the largest
/// |y|. A fit like 1.28e6 (1 - cos(0.00125 x)) for x^2/2 matches as well as
/// x^2 but loses ten digits to cancellation wherever it is evaluated.
static double cancellation(const SymbolicFit &f, llvm::ArrayRef<double> xs,
                           llvm::ArrayRef<double> ys) {
  double term = 0, y = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    term = std::max(term, std::fabs(f.c * f.fn->eval(f.a * xs[i] + f.b)));
    y = std::max(y, std::fabs(ys[i]));
  }
  return term / std::max(y, 1e-300);
}

std::vector<SymbolicFit> kan::tools::suggestSymbolic(llvm::ArrayRef<double> xs,
                                                     llvm::ArrayRef<double> ys,
                                                     const FitOptions &o) {
  std::vector<SymbolicFit> out;
  for (const SymbolicFunction &fn : kLibrary) {
    SymbolicFit f = fitSymbolic(xs, ys, fn, o);
    if (!std::isfinite(f.r2))
      continue;
    // Candidates that cancel by more than four digits are not offered.
    if (fn.complexity > 0 && cancellation(f, xs, ys) > 1e4)
      continue;
    double r2 = std::min(1.0, std::max(f.r2, 0.0));
    f.score = o.weightSimple * fn.complexity +
              (1 - o.weightSimple) * std::log2(1 + 1e-5 - r2);
    out.push_back(f);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SymbolicFit &a, const SymbolicFit &b) {
                     return a.score < b.score;
                   });
  return out;
}

//===----------------------------------------------------------------------===//
// The symbolic network, numerically
//===----------------------------------------------------------------------===//

std::vector<double> kan::tools::evaluateChoices(const ModelShape &shape,
                                                const EdgeChoices &edges,
                                                llvm::ArrayRef<double> x,
                                                int64_t rows) {
  std::vector<double> cur(x.begin(), x.end());
  for (size_t l = 0; l < shape.numLayers(); ++l) {
    int64_t in = shape.widths[l], out = shape.widths[l + 1];
    std::vector<double> next(static_cast<size_t>(rows * out), 0.0);
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        const SymbolicFit &f = edges[l][o * in + i];
        if (!f.fn)
          continue;
        for (int64_t r = 0; r < rows; ++r)
          next[r * out + o] += f.fn->complexity == 0
                                   ? f.d
                                   : f.c * f.fn->eval(f.a * cur[r * in + i] + f.b) + f.d;
      }
    cur = std::move(next);
  }
  return cur;
}

double kan::tools::refineChoices(const ModelShape &shape, EdgeChoices &edges,
                                 llvm::ArrayRef<double> x,
                                 llvm::ArrayRef<double> targets, int64_t rows,
                                 int iterations) {
  // The free parameters: pointers into the choices.
  std::vector<double *> params;
  for (auto &layer : edges)
    for (SymbolicFit &f : layer) {
      if (!f.fn)
        continue;
      if (f.fn->complexity > 0) {
        params.push_back(&f.a);
        params.push_back(&f.b);
        params.push_back(&f.c);
      }
      params.push_back(&f.d);
    }
  const size_t P = params.size(), M = targets.size();
  auto residuals = [&](std::vector<double> &res) {
    std::vector<double> y = evaluateChoices(shape, edges, x, rows);
    res.resize(M);
    double s = 0;
    for (size_t i = 0; i < M; ++i) {
      res[i] = y[i] - targets[i];
      s += res[i] * res[i];
    }
    return std::isfinite(s) ? s : INFINITY;
  };
  std::vector<double> r0, r1;
  double cur = residuals(r0), lambda = 1e-3;
  if (P == 0 || M == 0)
    return std::sqrt(cur / static_cast<double>(std::max<size_t>(M, 1)));
  std::vector<double> J(M * P), saved(P);
  for (int it = 0; it < iterations && std::isfinite(cur); ++it) {
    // Jacobian by central differences.
    for (size_t p = 0; p < P; ++p) {
      double v = *params[p], h = 1e-7 * (1 + std::fabs(v));
      *params[p] = v + h;
      std::vector<double> rp, rm;
      double sp = residuals(rp);
      *params[p] = v - h;
      double sm = residuals(rm);
      *params[p] = v;
      for (size_t i = 0; i < M; ++i)
        J[i * P + p] = std::isfinite(sp) && std::isfinite(sm)
                           ? (rp[i] - rm[i]) / (2 * h)
                           : 0;
    }
    std::vector<double> JtJ(P * P, 0.0), Jtr(P, 0.0);
    for (size_t i = 0; i < M; ++i)
      for (size_t a = 0; a < P; ++a) {
        double ja = J[i * P + a];
        if (ja == 0)
          continue;
        Jtr[a] += ja * r0[i];
        for (size_t b = 0; b < P; ++b)
          JtJ[a * P + b] += ja * J[i * P + b];
      }
    bool improved = false;
    for (size_t p = 0; p < P; ++p)
      saved[p] = *params[p];
    for (int tries = 0; tries < 10 && !improved; ++tries) {
      // (JtJ + lambda diag) delta = -Jtr by Cholesky-free Gaussian elimination.
      std::vector<double> A(P * (P + 1));
      for (size_t a = 0; a < P; ++a) {
        for (size_t b = 0; b < P; ++b)
          A[a * (P + 1) + b] =
              JtJ[a * P + b] + (a == b ? lambda * (JtJ[a * P + a] + 1e-12) : 0);
        A[a * (P + 1) + P] = -Jtr[a];
      }
      bool ok = true;
      for (size_t c = 0; c < P && ok; ++c) {
        size_t piv = c;
        for (size_t r = c + 1; r < P; ++r)
          if (std::fabs(A[r * (P + 1) + c]) > std::fabs(A[piv * (P + 1) + c]))
            piv = r;
        if (std::fabs(A[piv * (P + 1) + c]) < 1e-300) {
          ok = false;
          break;
        }
        for (size_t k = 0; k <= P; ++k)
          std::swap(A[c * (P + 1) + k], A[piv * (P + 1) + k]);
        for (size_t r = 0; r < P; ++r)
          if (r != c) {
            double f = A[r * (P + 1) + c] / A[c * (P + 1) + c];
            if (f != 0)
              for (size_t k = c; k <= P; ++k)
                A[r * (P + 1) + k] -= f * A[c * (P + 1) + k];
          }
      }
      if (!ok) {
        lambda *= 10;
        continue;
      }
      for (size_t p = 0; p < P; ++p)
        *params[p] = saved[p] + A[p * (P + 1) + P] / A[p * (P + 1) + p];
      double s = residuals(r1);
      if (s < cur) {
        improved = cur - s > 1e-14 * cur;
        cur = s;
        r0.swap(r1);
        lambda = std::max(lambda / 10, 1e-12);
        if (!improved)
          return std::sqrt(cur / static_cast<double>(M));
      } else {
        for (size_t p = 0; p < P; ++p)
          *params[p] = saved[p];
        lambda *= 10;
      }
    }
    if (!improved)
      break;
  }
  return std::sqrt(cur / static_cast<double>(M));
}

//===----------------------------------------------------------------------===//
// The formula
//===----------------------------------------------------------------------===//

static double roundDigits(double v, int digits) {
  if (digits <= 0 || v == 0 || !std::isfinite(v))
    return v;
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*e", digits - 1, v);
  return std::strtod(buf, nullptr);
}

namespace {
/// Every floating-point number of an expression rounded to `digits`
/// significant digits; exact rationals (integers, the exponents 1/2, 3/2 of
/// the library) stay as they are.
struct RoundNumbers : G::map_function {
  int digits;
  explicit RoundNumbers(int digits) : digits(digits) {}
  G::ex operator()(const G::ex &e) override {
    if (G::is_a<G::numeric>(e)) {
      const G::numeric &q = G::ex_to<G::numeric>(e);
      if (q.is_rational() || !q.is_real())
        return e;
      return G::numeric(roundDigits(q.to_double(), digits));
    }
    return e.map(*this);
  }
};
} // namespace

/// Rounds the numbers of a simplified formula. GiNaC evaluates the rebuilt
/// expression again, which can multiply rounded numbers (a number times a
/// sum is distributed over its terms), so this repeats until nothing
/// changes; the products are rounded once more each time, and rounding a
/// rounded number changes nothing, so it ends after a pass or two.
static G::ex roundFormula(const G::ex &e, int digits) {
  if (digits <= 0)
    return e;
  RoundNumbers round(digits);
  G::ex cur = e;
  for (int pass = 0; pass < 16; ++pass) {
    G::ex next = round(cur);
    if (next.is_equal(cur))
      break;
    cur = next;
  }
  return cur;
}

std::vector<G::ex> kan::tools::composeFormula(const Model &m,
                                              const InputScaling &s,
                                              const EdgeChoices &edges,
                                              int digits,
                                              std::vector<G::symbol> &inputs) {
  // Composed and simplified from the constants as they are; the numbers of
  // the result are rounded at the end, so a product of two constants (the
  // factor of an edge times the one of the edge before it) is rounded too.
  auto num = [](double v) { return G::ex(G::numeric(v)); };
  inputs.clear();
  std::vector<G::ex> cur;
  for (int64_t i = 0; i < m.shape.widths[0]; ++i) {
    std::string nm = "x" + std::to_string(i + 1);
    inputs.emplace_back(nm, "x_{" + std::to_string(i + 1) + "}");
    // What the model sees: (x - shift) * scale.
    G::ex x = inputs.back();
    if (s.shift[i] != 0)
      x = x - num(s.shift[i]);
    if (s.scale[i] != 1)
      x = num(s.scale[i]) * x;
    cur.push_back(x);
  }
  for (size_t l = 0; l < m.shape.numLayers(); ++l) {
    int64_t in = m.shape.widths[l], out = m.shape.widths[l + 1];
    std::vector<G::ex> next(static_cast<size_t>(out), G::ex(0));
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        const SymbolicFit &f = edges[l][o * in + i];
        if (!f.fn)
          continue;
        if (f.fn->complexity == 0) {
          next[o] += num(f.d);
          continue;
        }
        G::ex arg = (num(f.a) * cur[i] + num(f.b)).expand();
        if (llvm::StringRef(f.fn->name) == "exp" && G::is_a<G::add>(arg)) {
          // c exp(u + k) = (c e^k) exp(u): the constant of the argument
          // joins the factor instead of being printed beside a compensating
          // one (24.5742*exp(u - 3.2017) is 0.99999*exp(u)).
          G::ex rest = 0;
          double k = 0;
          for (size_t j = 0; j < arg.nops(); ++j) {
            if (G::is_a<G::numeric>(arg.op(j)))
              k += G::ex_to<G::numeric>(arg.op(j)).to_double();
            else
              rest += arg.op(j);
          }
          double c = f.c * std::exp(k);
          if (k != 0 && std::isfinite(c) && c != 0) {
            next[o] += num(c) * G::exp(rest) + num(f.d);
            continue;
          }
        }
        next[o] += num(f.c) * f.fn->build(arg) + num(f.d);
      }
    cur = std::move(next);
  }
  for (G::ex &e : cur)
    e = roundFormula(e, digits);
  return cur;
}

namespace {
/// Walks a GiNaC expression; one recursive evaluator / printer per format.
struct Walker {
  const std::vector<G::symbol> *inputs = nullptr;
  llvm::ArrayRef<double> x;

  Expected<double> eval(const G::ex &e) {
    if (G::is_a<G::numeric>(e))
      return G::ex_to<G::numeric>(e).to_double();
    if (G::is_a<G::symbol>(e)) {
      for (size_t i = 0; i < inputs->size(); ++i)
        if (e.is_equal((*inputs)[i]))
          return x[i];
      return makeError("unknown symbol in the formula");
    }
    if (G::is_a<G::add>(e) || G::is_a<G::mul>(e)) {
      bool add = G::is_a<G::add>(e);
      double acc = add ? 0 : 1;
      for (size_t i = 0; i < e.nops(); ++i) {
        auto v = eval(e.op(i));
        if (!v)
          return v.takeError();
        acc = add ? acc + *v : acc * *v;
      }
      return acc;
    }
    if (G::is_a<G::power>(e)) {
      auto b = eval(e.op(0));
      if (!b)
        return b.takeError();
      return powValue(*b, e.op(1));
    }
    if (G::is_a<G::function>(e)) {
      auto a = eval(e.op(0));
      if (!a)
        return a.takeError();
      std::string n = G::ex_to<G::function>(e).get_name();
      double v = *a;
      if (n == "exp") return std::exp(v);
      if (n == "log") return std::log(v);
      if (n == "sin") return std::sin(v);
      if (n == "cos") return std::cos(v);
      if (n == "tan") return std::tan(v);
      if (n == "tanh") return std::tanh(v);
      if (n == "cosh") return std::cosh(v);
      if (n == "asin") return std::asin(v);
      if (n == "acos") return std::acos(v);
      if (n == "atan") return std::atan(v);
      if (n == "atanh") return std::atanh(v);
      if (n == "abs") return std::fabs(v);
      if (n == "csgn") return sgn(v);
      return makeError("function '" + n + "' has no numeric form here");
    }
    return makeError("unsupported expression node in the formula");
  }

  /// Square-and-multiply, in the order the MLIR form multiplies.
  static double ipow(double b, long n) {
    if (n == 1)
      return b;
    double h = ipow(b, n / 2), sq = h * h;
    return n % 2 ? sq * b : sq;
  }

  static double powValue(double b, const G::ex &p) {
    const G::numeric &q = G::ex_to<G::numeric>(p);
    if (q.is_integer()) {
      long n = q.to_long();
      if (n == 0)
        return 1;
      double r = ipow(b, std::labs(n));
      return n < 0 ? 1 / r : r;
    }
    if (q.is_equal(G::numeric(1, 2)))
      return std::sqrt(b);
    if (q.is_equal(G::numeric(-1, 2)))
      return 1 / std::sqrt(b);
    if (q.is_equal(G::numeric(3, 2)))
      return b * std::sqrt(b);
    return std::pow(b, q.to_double());
  }
};

/// The shortest decimal that reads back as the same double.
std::string shortest(double v) {
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    snprintf(buf, sizeof(buf), "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s;
}

enum class Fmt { Sympy, Latex };

struct Printer {
  Fmt fmt;
  std::string err;

  static bool isNegative(const G::ex &e) {
    if (G::is_a<G::numeric>(e))
      return G::ex_to<G::numeric>(e).is_negative();
    if (G::is_a<G::mul>(e)) {
      G::ex c = e.op(e.nops() - 1);
      return G::is_a<G::numeric>(c) && G::ex_to<G::numeric>(c).is_negative();
    }
    return false;
  }

  std::string number(const G::numeric &q) {
    if (q.is_integer())
      return std::to_string(q.to_long());
    if (q.is_rational()) {
      std::string a = std::to_string(q.numer().to_long()),
                  b = std::to_string(q.denom().to_long());
      return fmt == Fmt::Sympy ? "(" + a + "/" + b + ")"
                               : "\\frac{" + a + "}{" + b + "}";
    }
    std::string s = shortest(q.to_double());
    if (fmt == Fmt::Latex) {
      size_t e = s.find('e');
      if (e != std::string::npos)
        s = s.substr(0, e) + " \\cdot 10^{" +
            std::to_string(std::atoi(s.c_str() + e + 1)) + "}";
    }
    return s;
  }

  std::string paren(const std::string &s) {
    return fmt == Fmt::Sympy ? "(" + s + ")" : "\\left(" + s + "\\right)";
  }

  /// prec: 0 = sum level, 1 = product factor, 2 = power base.
  std::string print(const G::ex &e, int prec) {
    if (G::is_a<G::numeric>(e)) {
      const G::numeric &q = G::ex_to<G::numeric>(e);
      std::string s = number(q);
      bool needs = (q.is_negative() && prec >= 1) ||
                   (prec >= 2 && !q.is_integer());
      return needs ? paren(s) : s;
    }
    if (G::is_a<G::symbol>(e))
      return fmt == Fmt::Sympy ? G::ex_to<G::symbol>(e).get_name()
                               : G::ex_to<G::symbol>(e).get_TeX_name();
    if (G::is_a<G::add>(e)) {
      // Variable terms first, the constant last (GiNaC stores it first).
      std::vector<G::ex> terms;
      G::ex constant = 0;
      for (size_t i = 0; i < e.nops(); ++i)
        if (G::is_a<G::numeric>(e.op(i)))
          constant = e.op(i);
        else
          terms.push_back(e.op(i));
      if (!constant.is_zero())
        terms.push_back(constant);
      std::string s;
      for (size_t i = 0; i < terms.size(); ++i) {
        if (i > 0 && isNegative(terms[i]))
          s += " - " + print(-terms[i], 0);
        else
          s += (i ? " + " : "") + print(terms[i], 0);
      }
      return prec >= 1 ? paren(s) : s;
    }
    if (G::is_a<G::mul>(e)) {
      std::vector<std::string> num, den;
      G::ex coeff = 1;
      for (size_t i = 0; i < e.nops(); ++i) {
        G::ex f = e.op(i);
        if (G::is_a<G::numeric>(f)) {
          coeff = f;
          continue;
        }
        if (G::is_a<G::power>(f) && G::is_a<G::numeric>(f.op(1)) &&
            G::ex_to<G::numeric>(f.op(1)).is_negative()) {
          G::ex inv = G::pow(f.op(0), -f.op(1));
          den.push_back(print(inv, fmt == Fmt::Sympy ? 2 : 0));
          continue;
        }
        num.push_back(print(f, 1));
      }
      std::string mulSep = fmt == Fmt::Sympy ? "*" : " ";
      std::string s;
      bool neg = G::ex_to<G::numeric>(coeff).is_negative();
      G::numeric c = G::abs(G::ex_to<G::numeric>(coeff));
      if (!c.is_equal(1) || num.empty())
        num.insert(num.begin(), number(c));
      for (size_t i = 0; i < num.size(); ++i)
        s += (i ? mulSep : "") + num[i];
      if (!den.empty()) {
        std::string d;
        for (size_t i = 0; i < den.size(); ++i)
          d += (i ? mulSep : "") + den[i];
        if (fmt == Fmt::Sympy)
          s = s + "/" + (den.size() > 1 ? paren(d) : d);
        else
          s = "\\frac{" + s + "}{" + d + "}";
      }
      if (neg)
        s = "-" + s;
      return prec >= 1 || neg ? (prec >= 1 ? paren(s) : s) : s;
    }
    if (G::is_a<G::power>(e)) {
      G::ex b = e.op(0), p = e.op(1);
      if (p.is_equal(G::numeric(1, 2)))
        return fmt == Fmt::Sympy ? "sqrt(" + print(b, 0) + ")"
                                 : "\\sqrt{" + print(b, 0) + "}";
      if (G::ex_to<G::numeric>(p).is_negative()) {
        std::string d = print(G::pow(b, -p), fmt == Fmt::Sympy ? 2 : 0);
        return fmt == Fmt::Sympy ? paren("1/" + d) : "\\frac{1}{" + d + "}";
      }
      std::string s = print(b, 2);
      std::string q = number(G::ex_to<G::numeric>(p));
      s = fmt == Fmt::Sympy ? s + "**" + q : s + "^{" + q + "}";
      return prec >= 2 ? paren(s) : s;
    }
    if (G::is_a<G::function>(e)) {
      std::string n = G::ex_to<G::function>(e).get_name();
      std::string a = print(e.op(0), 0);
      static const std::map<std::string, std::pair<const char *, const char *>>
          names = {{"exp", {"exp", "\\exp"}},     {"log", {"log", "\\log"}},
                   {"sin", {"sin", "\\sin"}},     {"cos", {"cos", "\\cos"}},
                   {"tan", {"tan", "\\tan"}},     {"tanh", {"tanh", "\\tanh"}},
                   {"cosh", {"cosh", "\\cosh"}},  {"asin", {"asin", "\\arcsin"}},
                   {"acos", {"acos", "\\arccos"}}, {"atan", {"atan", "\\arctan"}},
                   {"atanh", {"atanh", "\\operatorname{artanh}"}},
                   {"csgn", {"sign", "\\operatorname{sgn}"}}};
      if (n == "abs")
        return fmt == Fmt::Sympy ? "Abs(" + a + ")"
                                 : "\\left|" + a + "\\right|";
      auto it = names.find(n);
      if (it == names.end()) {
        err = "function '" + n + "' cannot be printed";
        return "";
      }
      return fmt == Fmt::Sympy ? std::string(it->second.first) + "(" + a + ")"
                               : std::string(it->second.second) + "\\left(" +
                                     a + "\\right)";
    }
    err = "unsupported expression node";
    return "";
  }
};

/// SSA form for MLIR: one value per distinct subexpression.
struct MlirPrinter {
  std::string body;
  std::map<std::string, std::string> cache; // printed key -> SSA name
  int next = 0;
  std::string err;

  std::string emit(const std::string &key, const std::string &rhs) {
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
    std::string v = "%" + std::to_string(next++);
    body += "  " + v + " = " + rhs + "\n";
    cache[key] = v;
    return v;
  }
  std::string constant(double c) {
    std::string s = shortest(c);
    if (s.find_first_of(".e") == std::string::npos)
      s += ".0";
    return emit("c:" + s, "arith.constant " + s + " : f64");
  }
  std::string bin(const char *op, const std::string &a, const std::string &b) {
    return emit(std::string(op) + ":" + a + "," + b,
                std::string(op) + " " + a + ", " + b + " : f64");
  }
  std::string un(const char *op, const std::string &a) {
    return emit(std::string(op) + ":" + a, std::string(op) + " " + a + " : f64");
  }
  std::string ipow(const std::string &b, long n) {
    if (n == 1)
      return b;
    std::string h = ipow(b, n / 2);
    std::string sq = bin("arith.mulf", h, h);
    return n % 2 ? bin("arith.mulf", sq, b) : sq;
  }
  std::string value(const G::ex &e, const std::vector<G::symbol> &in) {
    if (G::is_a<G::numeric>(e))
      return constant(G::ex_to<G::numeric>(e).to_double());
    if (G::is_a<G::symbol>(e)) {
      for (size_t i = 0; i < in.size(); ++i)
        if (e.is_equal(in[i]))
          return "%x" + std::to_string(i + 1);
      err = "unknown symbol";
      return "";
    }
    if (G::is_a<G::add>(e) || G::is_a<G::mul>(e)) {
      const char *op = G::is_a<G::add>(e) ? "arith.addf" : "arith.mulf";
      std::string acc = value(e.op(0), in);
      for (size_t i = 1; i < e.nops(); ++i)
        acc = bin(op, acc, value(e.op(i), in));
      return acc;
    }
    if (G::is_a<G::power>(e)) {
      std::string b = value(e.op(0), in);
      const G::numeric &q = G::ex_to<G::numeric>(e.op(1));
      if (q.is_integer()) {
        long n = q.to_long();
        if (n == 0)
          return constant(1.0);
        std::string p = ipow(b, std::labs(n));
        return n < 0 ? bin("arith.divf", constant(1.0), p) : p;
      }
      if (q.is_equal(G::numeric(1, 2)))
        return un("math.sqrt", b);
      if (q.is_equal(G::numeric(-1, 2)))
        return bin("arith.divf", constant(1.0), un("math.sqrt", b));
      if (q.is_equal(G::numeric(3, 2)))
        return bin("arith.mulf", b, un("math.sqrt", b));
      return bin("math.powf", b, constant(q.to_double()));
    }
    if (G::is_a<G::function>(e)) {
      std::string a = value(e.op(0), in);
      std::string n = G::ex_to<G::function>(e).get_name();
      static const std::map<std::string, const char *> ops = {
          {"exp", "math.exp"},   {"log", "math.log"},   {"sin", "math.sin"},
          {"cos", "math.cos"},   {"tan", "math.tan"},   {"tanh", "math.tanh"},
          {"cosh", "math.cosh"}, {"asin", "math.asin"}, {"acos", "math.acos"},
          {"atan", "math.atan"}, {"atanh", "math.atanh"}, {"abs", "math.absf"}};
      if (n == "csgn") {
        // sgn(u) = (u > 0) - (u < 0), in arith ops.
        std::string zero = constant(0.0), one = constant(1.0);
        std::string gt = emit("gt:" + a, "arith.cmpf ogt, " + a + ", " + zero + " : f64");
        std::string lt = emit("lt:" + a, "arith.cmpf olt, " + a + ", " + zero + " : f64");
        std::string p = emit("selp:" + a, "arith.select " + gt + ", " + one + ", " + zero + " : f64");
        std::string m = emit("selm:" + a, "arith.select " + lt + ", " + one + ", " + zero + " : f64");
        return bin("arith.subf", p, m);
      }
      auto it = ops.find(n);
      if (it == ops.end()) {
        err = "function '" + n + "' has no math op";
        return "";
      }
      return un(it->second, a);
    }
    err = "unsupported expression node";
    return "";
  }
};
} // namespace

Expected<double> kan::tools::evaluateFormula(const G::ex &e,
                                             const std::vector<G::symbol> &in,
                                             llvm::ArrayRef<double> x) {
  Walker w;
  w.inputs = &in;
  w.x = x;
  return w.eval(e);
}

Expected<std::string> kan::tools::printSympy(const G::ex &e) {
  Printer p{Fmt::Sympy, ""};
  std::string s = p.print(e, 0);
  if (!p.err.empty())
    return makeError(p.err);
  return s;
}

Expected<std::string> kan::tools::printLatex(const G::ex &e) {
  Printer p{Fmt::Latex, ""};
  std::string s = p.print(e, 0);
  if (!p.err.empty())
    return makeError(p.err);
  return s;
}

Expected<std::string>
kan::tools::printMlir(llvm::ArrayRef<G::ex> outputs,
                      const std::vector<G::symbol> &in) {
  // One function per output (@formula, or @formula_1 ... @formula_O), each
  // a straight line of scalar ops.
  std::string all;
  for (size_t o = 0; o < outputs.size(); ++o) {
    MlirPrinter p;
    std::string result = p.value(outputs[o], in);
    if (!p.err.empty())
      return makeError(p.err);
    std::string name = outputs.size() == 1 ? "formula" : "formula_" + std::to_string(o + 1);
    std::string s = "func.func @" + name + "(";
    for (size_t i = 0; i < in.size(); ++i)
      s += (i ? ", " : "") + std::string("%x") + std::to_string(i + 1) + ": f64";
    s += ") -> f64 attributes {kan.formula} {\n" + p.body + "  return " + result +
         " : f64\n}\n";
    all += s;
  }
  return all;
}
