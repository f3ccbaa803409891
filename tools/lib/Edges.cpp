//===- Edges.cpp - a KAN's edge functions evaluated one by one ------------===//

#include "kan/Tools/Edges.h"

#include "kanrt/kanrt.h"

#include <cmath>

using namespace kan::tools;

void kan::tools::edgeBasis(const Model &m, size_t l, int64_t i,
                           llvm::ArrayRef<double> xs, std::vector<double> &B,
                           std::vector<double> *dB) {
  const ModelShape &s = m.shape;
  int G = static_cast<int>(s.gridSize), k = static_cast<int>(s.order);
  int64_t nb = G + k, cols = G + 2 * k + 1;
  const Tensor &grid = m.tensor(l, Grid);
  std::vector<double> row(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j)
    row[j] = grid.get(i * cols + j);
  std::vector<double> aux(kan_grid_aux_size(1, G, k));
  kan_grid_prepare_f64(1, G, k, row.data(), aux.data());
  B.assign(xs.size() * nb, 0.0);
  if (dB)
    dB->assign(xs.size() * nb, 0.0);
  kan_basis_f64(xs.size(), 1, G, k, xs.data(), 1, row.data(), aux.data(),
                B.data(), nb, dB ? dB->data() : nullptr, nb);
}

void kan::tools::edgeValues(const Model &m, size_t l, int64_t o, int64_t i,
                            llvm::ArrayRef<double> xs, std::vector<double> &phi,
                            std::vector<double> *dphi) {
  const ModelShape &s = m.shape;
  int64_t in = s.widths[l], nb = s.gridSize + s.order;
  const Tensor &wb = m.tensor(l, BaseWeight), &ws = m.tensor(l, SplineWeight);
  size_t n = xs.size();
  std::vector<double> B, dB;
  edgeBasis(m, l, i, xs, B, dphi ? &dB : nullptr);
  double base = wb.get(o * in + i);
  double scale = s.withScaler ? m.tensor(l, SplineScaler).get(o * in + i) : 1.0;
  phi.assign(n, 0.0);
  if (dphi)
    dphi->assign(n, 0.0);
  for (size_t r = 0; r < n; ++r) {
    double x = xs[r], sig = 1.0 / (1.0 + std::exp(-x));
    double v = base * x * sig, d = base * (sig + x * sig * (1 - sig));
    for (int64_t j = 0; j < nb; ++j) {
      double c = scale * ws.get((o * in + i) * nb + j);
      v += c * B[r * nb + j];
      if (dphi)
        d += c * dB[r * nb + j];
    }
    phi[r] = v;
    if (dphi)
      (*dphi)[r] = d;
  }
  // A symbolic edge adds c f(a x + b) + d.
  if (!s.hasSymbolic(l) || s.symbolic[l][o * in + i].empty())
    return;
  int fn = kan_symbolic_find(s.symbolic[l][o * in + i].c_str());
  const Tensor &p = *symbolicTensor(m, l);
  double a = p.get((o * in + i) * 4), b = p.get((o * in + i) * 4 + 1),
         c = p.get((o * in + i) * 4 + 2), d = p.get((o * in + i) * 4 + 3);
  for (size_t r = 0; r < n; ++r) {
    double df;
    phi[r] += c * kan_symbolic_eval(fn, a * xs[r] + b, &df) + d;
    if (dphi)
      (*dphi)[r] += c * df * a;
  }
}

std::vector<LayerTrace> kan::tools::traceModel(const Model &m, const double *x,
                                               int64_t n) {
  std::vector<LayerTrace> t;
  std::vector<double> cur(x, x + n * m.shape.widths[0]);
  for (size_t l = 0; l < m.shape.numLayers(); ++l) {
    LayerTrace lt;
    lt.in = m.shape.widths[l];
    lt.out = m.shape.widths[l + 1];
    lt.x = cur;
    lt.phi.assign(static_cast<size_t>(n * lt.out * lt.in), 0.0);
    std::vector<double> col(static_cast<size_t>(n)), phi;
    for (int64_t i = 0; i < lt.in; ++i) {
      for (int64_t r = 0; r < n; ++r)
        col[r] = cur[r * lt.in + i];
      for (int64_t o = 0; o < lt.out; ++o) {
        edgeValues(m, l, o, i, col, phi);
        for (int64_t r = 0; r < n; ++r)
          lt.phi[(r * lt.out + o) * lt.in + i] = phi[r];
      }
    }
    cur.assign(static_cast<size_t>(n * lt.out), 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t o = 0; o < lt.out; ++o)
        for (int64_t i = 0; i < lt.in; ++i)
          cur[r * lt.out + o] += lt.phi[(r * lt.out + o) * lt.in + i];
    t.push_back(std::move(lt));
  }
  return t;
}

std::vector<double> kan::tools::traceOutput(const std::vector<LayerTrace> &t,
                                            int64_t n) {
  const LayerTrace &last = t.back();
  std::vector<double> y(static_cast<size_t>(n * last.out), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < last.out; ++o)
      for (int64_t i = 0; i < last.in; ++i)
        y[r * last.out + o] += last.phi[(r * last.out + o) * last.in + i];
  return y;
}

std::vector<std::vector<double>>
kan::tools::edgeImportance(const std::vector<LayerTrace> &t, int64_t n) {
  std::vector<std::vector<double>> imp;
  for (const LayerTrace &lt : t) {
    std::vector<double> a(static_cast<size_t>(lt.out * lt.in), 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t e = 0; e < lt.out * lt.in; ++e)
        a[e] += std::fabs(lt.phi[r * lt.out * lt.in + e]);
    for (double &v : a)
      v /= static_cast<double>(n);
    imp.push_back(std::move(a));
  }
  return imp;
}

/// Unbiased standard deviation of v[r * stride] over n rows (torch.std).
static double stdDev(const double *v, int64_t n, int64_t stride) {
  if (n < 2)
    return 0;
  double mean = 0, ss = 0;
  for (int64_t r = 0; r < n; ++r)
    mean += v[r * stride];
  mean /= static_cast<double>(n);
  for (int64_t r = 0; r < n; ++r)
    ss += (v[r * stride] - mean) * (v[r * stride] - mean);
  return std::sqrt(ss / static_cast<double>(n - 1));
}

Attribution kan::tools::attributionScores(const std::vector<LayerTrace> &t,
                                          int64_t n) {
  const size_t L = t.size();
  const int64_t K = t.back().out;
  Attribution a;
  a.node.resize(L + 1);
  a.edge.resize(L);
  // S: K x width of the current level, relevance of each node per output.
  int64_t width = K;
  std::vector<double> S(static_cast<size_t>(K * K), 0.0);
  for (int64_t k = 0; k < K; ++k)
    S[k * K + k] = 1;
  a.node[L].assign(static_cast<size_t>(K), 1.0);
  for (size_t l = L; l-- > 0;) {
    const LayerTrace &lt = t[l];
    const int64_t in = lt.in, out = lt.out, E = in * out;
    std::vector<double> actscale(static_cast<size_t>(E)), nodescale(static_cast<size_t>(out));
    for (int64_t e = 0; e < E; ++e)
      actscale[e] = stdDev(lt.phi.data() + e, n, E);
    std::vector<double> sum(static_cast<size_t>(n * out), 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t e = 0; e < E; ++e)
        sum[r * out + e / in] += lt.phi[r * E + e];
    for (int64_t o = 0; o < out; ++o)
      nodescale[o] = stdDev(sum.data() + o, n, out);
    std::vector<double> next(static_cast<size_t>(K * in), 0.0);
    a.edge[l].assign(static_cast<size_t>(E), 0.0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) {
          double v = actscale[o * in + i] * S[k * width + o] / (nodescale[o] + 1e-4);
          a.edge[l][o * in + i] += v;
          next[k * in + i] += v;
        }
    S = std::move(next);
    width = in;
    a.node[l].assign(static_cast<size_t>(in), 0.0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < in; ++i)
        a.node[l][i] += S[k * in + i];
  }
  return a;
}

double kan::tools::leastSquares(int64_t m, int64_t n, std::vector<double> a,
                                std::vector<double> b, std::vector<double> &c) {
  // Column scaling keeps the QR well conditioned for basis columns that are
  // nearly empty (knots outside the data).
  std::vector<double> colScale(static_cast<size_t>(n), 1.0);
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int64_t r = 0; r < m; ++r)
      s += a[r * n + j] * a[r * n + j];
    s = std::sqrt(s);
    colScale[j] = s > 0 ? 1.0 / s : 0.0;
    for (int64_t r = 0; r < m; ++r)
      a[r * n + j] *= colScale[j];
  }
  std::vector<double> diag(static_cast<size_t>(n), 0.0);
  for (int64_t j = 0; j < n && j < m; ++j) {
    double norm = 0;
    for (int64_t r = j; r < m; ++r)
      norm += a[r * n + j] * a[r * n + j];
    norm = std::sqrt(norm);
    if (norm < 1e-13) {
      diag[j] = 0;
      continue;
    }
    double alpha = a[j * n + j] > 0 ? -norm : norm;
    // v = x - alpha e1, stored in column j from row j.
    a[j * n + j] -= alpha;
    double vnorm2 = 0;
    for (int64_t r = j; r < m; ++r)
      vnorm2 += a[r * n + j] * a[r * n + j];
    diag[j] = alpha;
    if (vnorm2 == 0)
      continue;
    for (int64_t q = j + 1; q < n; ++q) {
      double d = 0;
      for (int64_t r = j; r < m; ++r)
        d += a[r * n + j] * a[r * n + q];
      d = 2 * d / vnorm2;
      for (int64_t r = j; r < m; ++r)
        a[r * n + q] -= d * a[r * n + j];
    }
    double d = 0;
    for (int64_t r = j; r < m; ++r)
      d += a[r * n + j] * b[r];
    d = 2 * d / vnorm2;
    for (int64_t r = j; r < m; ++r)
      b[r] -= d * a[r * n + j];
  }
  c.assign(static_cast<size_t>(n), 0.0);
  for (int64_t j = std::min(n, m) - 1; j >= 0; --j) {
    if (diag[j] == 0)
      continue;
    double s = b[j];
    for (int64_t q = j + 1; q < n; ++q)
      s -= a[j * n + q] * c[q];
    c[j] = s / diag[j];
  }
  double res = 0;
  for (int64_t r = std::min(n, m); r < m; ++r)
    res += b[r] * b[r];
  for (int64_t j = 0; j < n; ++j)
    c[j] *= colScale[j];
  return std::sqrt(res);
}
