//===- Regression.cpp - least-squares training with exact gradients -------===//

#include "kan/Tools/Regression.h"

#include "kan/Tools/Edges.h"

#include "kanrt/kanrt.h"

#include <algorithm>
#include <cmath>
#include <deque>

using namespace kan::tools;
using llvm::Error;
using llvm::Expected;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Expected<RegressionData> kan::tools::loadRegressionCsv(llvm::StringRef path,
                                                       bool header,
                                                       int64_t targets) {
  kan_tensor t{};
  std::string p = path.str();
  if (int st = kan_csv_read(p.c_str(), header ? 1 : 0, KAN_IO_CHECK_FINITE, &t))
    return runtimeError(st);
  struct Free {
    kan_tensor *t;
    ~Free() { kan_tensor_free(t); }
  } guard{&t};
  if (t.ndim != 2 || t.shape[0] == 0)
    return makeError(path + ": CSV holds no data rows");
  int64_t cols = static_cast<int64_t>(t.shape[1]);
  if (targets < 1 || cols <= targets)
    return makeError(path + ": " + llvm::Twine(cols) + " column(s) cannot "
                     "hold " + llvm::Twine(targets) + " target column(s) "
                     "(--targets) after at least one input column");
  RegressionData d;
  d.name = p;
  d.rows = static_cast<int64_t>(t.shape[0]);
  d.targets = targets;
  d.inputs = cols - targets;
  const double *v = static_cast<const double *>(t.data);
  d.x.resize(static_cast<size_t>(d.rows * d.inputs));
  d.y.resize(static_cast<size_t>(d.rows * d.targets));
  for (int64_t r = 0; r < d.rows; ++r) {
    std::copy(v + r * cols, v + r * cols + d.inputs, d.x.begin() + r * d.inputs);
    std::copy(v + r * cols + d.inputs, v + (r + 1) * cols,
              d.y.begin() + r * d.targets);
  }
  return d;
}

Expected<ScaledModel> kan::tools::readScaledModel(mlir::MLIRContext &ctx,
                                                   llvm::StringRef path,
                                                   llvm::StringRef tool) {
  auto model = readModelFile(ctx, path);
  if (!model)
    return model.takeError();
  if (model->shape.f32)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + tool + " reads f64 models");
  auto scaling = InputScaling::load(*model, path);
  if (!scaling)
    return scaling.takeError();
  return ScaledModel{std::move(*model), std::move(*scaling)};
}

Expected<RegressionData> kan::tools::loadSamplesCsv(llvm::StringRef path,
                                                    bool header, int64_t inputs,
                                                    int64_t outputs) {
  kan_tensor t{};
  std::string p = path.str();
  if (int st = kan_csv_read(p.c_str(), header ? 1 : 0, KAN_IO_CHECK_FINITE, &t))
    return runtimeError(st);
  int64_t cols = t.ndim == 2 ? static_cast<int64_t>(t.shape[1]) : 0;
  kan_tensor_free(&t);
  if (cols != inputs && cols != inputs + outputs)
    return makeError(path + ": " + llvm::Twine(cols) + " columns; the model "
                     "needs " + llvm::Twine(inputs) + " input columns, "
                     "optionally followed by " + llvm::Twine(outputs) +
                     " target column(s)");
  if (cols == inputs + outputs)
    return loadRegressionCsv(path, header, outputs);
  // Inputs only.
  kan_tensor u{};
  if (int st = kan_csv_read(p.c_str(), header ? 1 : 0, KAN_IO_CHECK_FINITE, &u))
    return runtimeError(st);
  RegressionData r;
  r.name = p;
  r.rows = static_cast<int64_t>(u.shape[0]);
  r.inputs = inputs;
  r.targets = 0;
  const double *v = static_cast<const double *>(u.data);
  r.x.assign(v, v + r.rows * inputs);
  kan_tensor_free(&u);
  if (r.rows == 0)
    return makeError(path + ": CSV holds no data rows");
  return r;
}

InputScaling InputScaling::identity(int64_t inputs) {
  InputScaling s;
  s.shift.assign(static_cast<size_t>(inputs), 0.0);
  s.scale.assign(static_cast<size_t>(inputs), 1.0);
  return s;
}

InputScaling InputScaling::fromRange(const RegressionData &train, double lo,
                                     double hi) {
  InputScaling s = identity(train.inputs);
  for (int64_t j = 0; j < train.inputs; ++j) {
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t r = 0; r < train.rows; ++r) {
      mn = std::min(mn, train.x[r * train.inputs + j]);
      mx = std::max(mx, train.x[r * train.inputs + j]);
    }
    if (!(mx > mn)) { // constant column: centre it in the range
      s.shift[j] = mn - 0.5 * (lo + hi);
      continue;
    }
    // (x - shift) * scale maps [mn, mx] onto [lo, hi].
    s.scale[j] = (hi - lo) / (mx - mn);
    s.shift[j] = mn - lo / s.scale[j];
  }
  return s;
}

void InputScaling::apply(RegressionData &d) const {
  for (int64_t r = 0; r < d.rows; ++r)
    for (int64_t j = 0; j < d.inputs; ++j) {
      double &x = d.x[r * d.inputs + j];
      x = (x - shift[j]) * scale[j];
    }
}

static std::string joinDoubles(llvm::ArrayRef<double> v) {
  std::string s;
  char buf[40];
  for (size_t i = 0; i < v.size(); ++i) {
    snprintf(buf, sizeof(buf), "%.17g", v[i]);
    s += (i ? "," : "") + std::string(buf);
  }
  return s;
}

void InputScaling::store(Model &m) const {
  m.setMeta("input_shift", joinDoubles(shift));
  m.setMeta("input_scale", joinDoubles(scale));
}

Expected<InputScaling> InputScaling::load(const Model &m,
                                          llvm::StringRef what) {
  int64_t inputs = m.shape.widths.front();
  InputScaling s = identity(inputs);
  auto parse = [&](llvm::StringRef key, std::vector<double> &dst) -> Error {
    std::string v = m.getMeta(key);
    if (v.empty())
      return Error::success();
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(v).split(parts, ',');
    if (static_cast<int64_t>(parts.size()) != inputs)
      return makeError(what + ": metadata '" + key + "' has " +
                       llvm::Twine(parts.size()) + " entries for " +
                       llvm::Twine(inputs) + " inputs");
    for (size_t i = 0; i < parts.size(); ++i)
      if (parts[i].trim().getAsDouble(dst[i]) || !std::isfinite(dst[i]))
        return makeError(what + ": metadata '" + key + "' entry " +
                         llvm::Twine(i) + " ('" + parts[i] +
                         "') is not a finite number");
    return Error::success();
  };
  if (Error e = parse("input_shift", s.shift))
    return std::move(e);
  if (Error e = parse("input_scale", s.scale))
    return std::move(e);
  return s;
}

static bool trainable(const Model &m, size_t tensorIndex) {
  return !isGridTensor(m, tensorIndex);
}

size_t kan::tools::numTrainable(const Model &m) {
  size_t n = 0;
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      n += m.tensors[i].numel();
  return n;
}

std::vector<double> kan::tools::flattenParams(const Model &m) {
  std::vector<double> p;
  p.reserve(numTrainable(m));
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      for (size_t e = 0; e < m.tensors[i].numel(); ++e)
        p.push_back(m.tensors[i].get(e));
  return p;
}

void kan::tools::unflattenParams(Model &m, llvm::ArrayRef<double> p) {
  size_t k = 0;
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      for (size_t e = 0; e < m.tensors[i].numel(); ++e)
        m.tensors[i].set(e, p[k++]);
}

static int64_t chunkWidth(int64_t P);

Expected<std::unique_ptr<ExactGradient>>
ExactGradient::create(const ModelShape &shape, const CompileOptions &opts) {
  if (shape.f32)
    return makeError("regression trains f64 models (--dtype f64)");
  auto g = std::make_unique<ExactGradient>();
  Model probe = allocateModel(shape);
  g->shape = shape;
  g->w = chunkWidth(static_cast<int64_t>(numTrainable(probe)));
  JvpRequest req;
  req.width = g->w;
  auto jvp = createCompiledEngine(shape, nullptr, opts, &req);
  if (!jvp)
    return jvp.takeError();
  g->jvp = std::move(*jvp);
  auto fwd = createCompiledEngine(shape, nullptr, opts);
  if (!fwd)
    return fwd.takeError();
  g->fwd = std::move(*fwd);
  return g;
}

Error ExactGradient::predict(Model &m, const RegressionData &d,
                             std::vector<double> &y) {
  y.assign(static_cast<size_t>(d.rows * d.targets), 0.0);
  return fwd->forward(m, d.x.data(), d.rows, y.data());
}

Expected<double> ExactGradient::loss(Model &m, const RegressionData &d) {
  std::vector<double> y;
  if (Error e = predict(m, d, y))
    return std::move(e);
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i)
    s += (y[i] - d.y[i]) * (y[i] - d.y[i]);
  return s / static_cast<double>(y.size());
}

/// Runs `engine` (the JVP of `m`, `w` directions per call) with coordinate
/// tangents: for every chunk of parameters [p0, p0 + nd) and row block
/// [r0, r0 + nb), `use(p0, nd, r0, nb, y, dy)` gets y (nb x O) and dy
/// (w x nb x O, direction d = parameter p0 + d).
static Error coordinateJvp(
    Engine &engine, Model &m, int64_t w, const double *x, int64_t N,
    int64_t inputs, int64_t O,
    llvm::function_ref<void(int64_t, int64_t, int64_t, int64_t,
                            const double *, const double *)>
        use) {
  std::vector<std::pair<size_t, size_t>> where;
  for (size_t i = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      for (size_t e = 0; e < m.tensors[i].numel(); ++e)
        where.push_back({i, e});
  const int64_t P = static_cast<int64_t>(where.size());
  Model tangents;
  tangents.shape = m.shape;
  for (const Tensor &t : m.tensors) {
    Tensor tt;
    tt.name = t.name;
    std::vector<int64_t> s{w};
    s.insert(s.end(), t.shape.begin(), t.shape.end());
    tt.allocate(s, false);
    tangents.tensors.push_back(std::move(tt));
  }
  // Row blocks keep dy (w x rows x O) at a few MB.
  int64_t block = std::clamp<int64_t>((int64_t(1) << 19) / (w * O), 1, N);
  std::vector<double> y(static_cast<size_t>(block * O)),
      dy(static_cast<size_t>(w * block * O));
  for (int64_t p0 = 0; p0 < P; p0 += w) {
    int64_t nd = std::min(w, P - p0);
    for (int64_t d = 0; d < nd; ++d) {
      auto [ti, e] = where[p0 + d];
      tangents.tensors[ti].storage[d * m.tensors[ti].numel() + e] = 1.0;
    }
    for (int64_t r0 = 0; r0 < N; r0 += block) {
      int64_t nb = std::min(block, N - r0);
      if (Error e = engine.forwardJvp(m, x + r0 * inputs, nb, tangents,
                                      nullptr, y.data(), dy.data()))
        return e;
      use(p0, nd, r0, nb, y.data(), dy.data());
    }
    for (int64_t d = 0; d < nd; ++d) {
      auto [ti, e] = where[p0 + d];
      tangents.tensors[ti].storage[d * m.tensors[ti].numel() + e] = 0.0;
    }
  }
  return Error::success();
}

static int64_t chunkWidth(int64_t P) {
  // All parameters at once when they are few, else balanced chunks of at
  // most 256 directions (the tangent panels grow with the width).
  int64_t chunks = (P + 255) / 256;
  return std::max<int64_t>(1, (P + chunks - 1) / chunks);
}

Expected<double> ExactGradient::lossAndGradient(Model &m,
                                                const RegressionData &d,
                                                std::vector<double> &grad) {
  ++evals;
  const int64_t O = d.targets, N = d.rows;
  grad.assign(numTrainable(m), 0.0);
  double lossSum = 0;
  const double scale = 2.0 / static_cast<double>(N * O);
  Error e = coordinateJvp(
      *jvp, m, w, d.x.data(), N, d.inputs, O,
      [&](int64_t p0, int64_t nd, int64_t r0, int64_t nb, const double *y,
          const double *dy) {
        // kan_forward_jvp lays dy out as width x nb x O.
        for (int64_t dir = 0; dir < nd; ++dir) {
          const double *dyd = dy + dir * nb * O;
          double g = 0;
          for (int64_t i = 0; i < nb * O; ++i)
            g += (y[i] - d.y[r0 * O + i]) * dyd[i];
          grad[p0 + dir] += scale * g;
        }
        if (p0 == 0)
          for (int64_t i = 0; i < nb * O; ++i)
            lossSum += (y[i] - d.y[r0 * O + i]) * (y[i] - d.y[r0 * O + i]);
      });
  if (e)
    return std::move(e);
  double loss = lossSum / static_cast<double>(N * O);
  if (lambda > 0) {
    auto r = regularizer(m, d, &grad);
    if (!r)
      return r.takeError();
    loss += *r;
  }
  maskSymbolicEdges(m, grad);
  return loss;
}

void kan::tools::maskSymbolicEdges(const Model &m, std::vector<double> &grad) {
  const ModelShape &s = m.shape;
  const size_t tpl = s.tensorsPerLayer();
  std::vector<size_t> offset(m.tensors.size(), 0);
  for (size_t i = 0, off = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      offset[i] = off, off += m.tensors[i].numel();
  for (size_t l = 0; l < s.numLayers(); ++l) {
    if (!s.hasSymbolic(l))
      continue;
    const int64_t E = s.widths[l] * s.widths[l + 1], nb = s.gridSize + s.order;
    for (int64_t e = 0; e < E; ++e) {
      if (s.symbolic[l][e].empty())
        continue;
      grad[offset[l * tpl + BaseWeight] + e] = 0;
      for (int64_t k = 0; k < nb; ++k)
        grad[offset[l * tpl + SplineWeight] + e * nb + k] = 0;
      if (s.withScaler)
        grad[offset[l * tpl + SplineScaler] + e] = 0;
    }
  }
}

Error ExactGradient::setRegularizer(double lam, double l1, double entropy,
                                    const CompileOptions &opts,
                                    RegularizerMetric m) {
  lambda = lam, lambdaL1 = l1, lambdaEntropy = entropy, metric = m;
  prefixJvp.clear();
  prefixWidth.clear();
  if (lambda <= 0)
    return Error::success();
  prefixJvp.resize(shape.numLayers());
  prefixWidth.assign(shape.numLayers(), 0);
  for (size_t l = 1; l < shape.numLayers(); ++l) {
    ModelShape ps = shape;
    ps.widths.assign(shape.widths.begin(), shape.widths.begin() + l + 1);
    Model probe = allocateModel(ps);
    prefixWidth[l] = chunkWidth(static_cast<int64_t>(numTrainable(probe)));
    JvpRequest req;
    req.width = prefixWidth[l];
    auto e = createCompiledEngine(ps, nullptr, opts, &req);
    if (!e)
      return e.takeError();
    prefixJvp[l] = std::move(*e);
  }
  return Error::success();
}

Expected<double> ExactGradient::regularizer(Model &m, const RegressionData &d,
                                            std::vector<double> *grad) {
  if (lambda <= 0)
    return 0.0;
  const int64_t N = d.rows;
  const ModelShape &s = m.shape;
  const size_t tpl = s.tensorsPerLayer();
  const int64_t nb = s.gridSize + s.order;
  // Offsets of every trainable tensor in the flat vector.
  std::vector<size_t> offset(m.tensors.size(), 0);
  for (size_t i = 0, off = 0; i < m.tensors.size(); ++i)
    if (trainable(m, i))
      offset[i] = off, off += m.tensors[i].numel();
  std::vector<LayerTrace> trace = traceModel(m, d.x.data(), N);
  double total = 0;
  for (size_t l = 0; l < s.numLayers(); ++l) {
    const LayerTrace &lt = trace[l];
    std::vector<double> Gx; // dreg/dx_l (N x in)
    if (metric == RegularizerMetric::StdRatio) {
      total += stdRatioLayer(m, l, lt, N, grad ? &Gx : nullptr, grad, offset);
      if (grad && l > 0)
        if (Error e = earlierLayers(m, l, d, Gx, *grad))
          return std::move(e);
      continue;
    }
    const int64_t in = lt.in, out = lt.out, E = in * out;
    std::vector<double> A(static_cast<size_t>(E), 0.0);
    for (int64_t r = 0; r < N; ++r)
      for (int64_t e = 0; e < E; ++e)
        A[e] += std::fabs(lt.phi[r * E + e]);
    double S = 0;
    for (double &a : A)
      S += (a /= static_cast<double>(N));
    double H = 0;
    for (double a : A)
      if (a > 0 && S > 0)
        H -= a / S * std::log(a / S);
    total += lambda * (lambdaL1 * S + lambdaEntropy * H);
    if (!grad)
      continue;
    // d(reg)/dA_e = lambda * (l1 - entropy * (log p_e + H) / S).
    std::vector<double> wA(static_cast<size_t>(E), 0.0);
    for (int64_t e = 0; e < E; ++e) {
      double p = S > 0 ? std::max(A[e] / S, 1e-300) : 0;
      wA[e] = lambda * (lambdaL1 - (S > 0 ? lambdaEntropy * (std::log(p) + H) / S : 0));
    }
    // dA_e/dq = mean_r sign(phi_re) dphi_re/dq.
    const Tensor &ws = m.tensor(l, SplineWeight);
    Gx.assign(static_cast<size_t>(N * in), 0.0);
    std::vector<double> col(static_cast<size_t>(N)), B, dB, phi, dphi;
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t r = 0; r < N; ++r)
        col[r] = lt.x[r * in + i];
      edgeBasis(m, l, i, col, B, &dB);
      for (int64_t o = 0; o < out; ++o) {
        int64_t e = o * in + i;
        double scaler = s.withScaler ? m.tensor(l, SplineScaler).get(e) : 1.0;
        double gwb = 0, gsc = 0;
        std::vector<double> gc(static_cast<size_t>(nb), 0.0);
        edgeValues(m, l, o, i, col, phi, &dphi);
        for (int64_t r = 0; r < N; ++r) {
          double sg = (phi[r] > 0) - (phi[r] < 0);
          if (sg == 0)
            continue;
          double f = sg * wA[e] / static_cast<double>(N);
          double x = col[r], sig = 1 / (1 + std::exp(-x));
          gwb += f * x * sig;
          double spline = 0;
          for (int64_t k = 0; k < nb; ++k) {
            spline += ws.get(e * nb + k) * B[r * nb + k];
            gc[k] += f * scaler * B[r * nb + k];
          }
          gsc += f * spline;
          Gx[r * in + i] += f * dphi[r];
        }
        (*grad)[offset[l * tpl + BaseWeight] + e] += gwb;
        for (int64_t k = 0; k < nb; ++k)
          (*grad)[offset[l * tpl + SplineWeight] + e * nb + k] += gc[k];
        if (s.withScaler)
          (*grad)[offset[l * tpl + SplineScaler] + e] += gsc;
      }
    }
    if (l > 0)
      if (Error err = earlierLayers(m, l, d, Gx, *grad))
        return std::move(err);
  }
  return total;
}

Error ExactGradient::earlierLayers(Model &m, size_t l, const RegressionData &d,
                                   const std::vector<double> &Gx,
                                   std::vector<double> &grad) {
  // dreg/dq = sum_r,i Gx[r,i] dx_l[r,i]/dq, with dx_l/dq from the truncated
  // model's JVP.
  const ModelShape &s = m.shape;
  const int64_t in = s.widths[l];
  Model prefix;
  prefix.shape = s;
  prefix.shape.widths.assign(s.widths.begin(), s.widths.begin() + l + 1);
  prefix.tensors.assign(m.tensors.begin(),
                        m.tensors.begin() + l * s.tensorsPerLayer());
  return coordinateJvp(
      *prefixJvp[l], prefix, prefixWidth[l], d.x.data(), d.rows, d.inputs, in,
      [&](int64_t p0, int64_t nd, int64_t r0, int64_t nrows, const double *,
          const double *dy) {
        for (int64_t dir = 0; dir < nd; ++dir) {
          const double *dyd = dy + dir * nrows * in;
          double g = 0;
          for (int64_t q = 0; q < nrows * in; ++q)
            g += Gx[r0 * in + q] * dyd[q];
          grad[p0 + dir] += g;
        }
      });
}

/// Unbiased standard deviation (as torch.std) and mean of v.
static double deviation(llvm::ArrayRef<double> v, double &mean) {
  const size_t n = v.size();
  mean = 0;
  for (double x : v)
    mean += x;
  mean /= static_cast<double>(n);
  if (n < 2)
    return 0;
  double ss = 0;
  for (double x : v)
    ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(n - 1));
}

double ExactGradient::stdRatioLayer(const Model &m, size_t l,
                                    const LayerTrace &lt, int64_t N,
                                    std::vector<double> *Gx,
                                    std::vector<double> *grad,
                                    const std::vector<size_t> &offset) {
  const ModelShape &s = m.shape;
  const size_t tpl = s.tensorsPerLayer();
  const int64_t nb = s.gridSize + s.order;
  const int64_t in = lt.in, out = lt.out, E = in * out;
  const double eps = 1e-4, ln2 = std::log(2.0);
  const Tensor &ws = m.tensor(l, SplineWeight), &wb = m.tensor(l, BaseWeight);
  // The spline part of every edge (a symbolic fit is not penalised) and its
  // derivative in x, the inputs' deviations, and A = std(phi) / (std(x) + .1).
  std::vector<std::vector<double>> cols(in), B(in), dB(in);
  std::vector<double> xMean(in), xDev(in), A(E), phiMean(E), phiDev(E);
  std::vector<std::vector<double>> phi(E), dphi(E), spline(E);
  for (int64_t i = 0; i < in; ++i) {
    cols[i].resize(N);
    for (int64_t r = 0; r < N; ++r)
      cols[i][r] = lt.x[r * in + i];
    xDev[i] = deviation(cols[i], xMean[i]);
    edgeBasis(m, l, i, cols[i], B[i], &dB[i]);
    for (int64_t o = 0; o < out; ++o) {
      int64_t e = o * in + i;
      double scaler = s.withScaler ? m.tensor(l, SplineScaler).get(e) : 1.0;
      phi[e].resize(N), dphi[e].resize(N), spline[e].resize(N);
      for (int64_t r = 0; r < N; ++r) {
        double x = cols[i][r], sig = 1 / (1 + std::exp(-x));
        double sp = 0, dsp = 0;
        for (int64_t k = 0; k < nb; ++k) {
          sp += ws.get(e * nb + k) * B[i][r * nb + k];
          dsp += ws.get(e * nb + k) * dB[i][r * nb + k];
        }
        spline[e][r] = sp;
        phi[e][r] = wb.get(e) * x * sig + scaler * sp;
        dphi[e][r] = wb.get(e) * (sig + x * sig * (1 - sig)) + scaler * dsp;
      }
      phiDev[e] = deviation(phi[e], phiMean[e]);
      A[e] = phiDev[e] / (xDev[i] + 0.1);
    }
  }
  // l1 plus the mean row and mean column entropies of p = A / (sum + 1).
  auto f = [&](double p) { return p * std::log(p + eps) / ln2; };
  auto df = [&](double p) {
    return std::log(p + eps) / ln2 + p / ((p + eps) * ln2);
  };
  std::vector<double> rowSum(out, 0.0), colSum(in, 0.0);
  double l1 = 0;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      rowSum[o] += A[o * in + i];
      colSum[i] += A[o * in + i];
      l1 += A[o * in + i];
    }
  double hRow = 0, hCol = 0;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      hRow -= f(A[o * in + i] / (rowSum[o] + 1)) / static_cast<double>(out);
      hCol -= f(A[o * in + i] / (colSum[i] + 1)) / static_cast<double>(in);
    }
  double value = lambda * (lambdaL1 * l1 + lambdaEntropy * (hRow + hCol));
  if (!grad)
    return value;
  // dreg/dA_oi: d/dA_oi of -sum_j f(A_oj / (R + 1)) is
  // -(f'(p_oi) - sum_j f'(p_oj) p_oj) / (R + 1), likewise for the column.
  std::vector<double> rowDot(out, 0.0), colDot(in, 0.0), wA(E);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      double pr = A[o * in + i] / (rowSum[o] + 1);
      double pc = A[o * in + i] / (colSum[i] + 1);
      rowDot[o] += df(pr) * pr;
      colDot[i] += df(pc) * pc;
    }
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      int64_t e = o * in + i;
      double pr = A[e] / (rowSum[o] + 1), pc = A[e] / (colSum[i] + 1);
      double dh = -(df(pr) - rowDot[o]) / (rowSum[o] + 1) /
                      static_cast<double>(out) -
                  (df(pc) - colDot[i]) / (colSum[i] + 1) /
                      static_cast<double>(in);
      wA[e] = lambda * (lambdaL1 + lambdaEntropy * dh);
    }
  Gx->assign(static_cast<size_t>(N * in), 0.0);
  const double n1 = static_cast<double>(N - 1);
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) {
      int64_t e = o * in + i;
      // dA/dphi_r = (phi_r - mean) / ((N - 1) std(phi) (std(x) + .1)); at
      // std(phi) = 0 (a cleared edge) the subgradient 0.
      if (phiDev[e] > 0) {
        double scaler = s.withScaler ? m.tensor(l, SplineScaler).get(e) : 1.0;
        double gwb = 0, gsc = 0;
        std::vector<double> gc(static_cast<size_t>(nb), 0.0);
        for (int64_t r = 0; r < N; ++r) {
          double fr = wA[e] * (phi[e][r] - phiMean[e]) /
                      (n1 * phiDev[e] * (xDev[i] + 0.1));
          double x = cols[i][r], sig = 1 / (1 + std::exp(-x));
          gwb += fr * x * sig;
          for (int64_t k = 0; k < nb; ++k)
            gc[k] += fr * scaler * B[i][r * nb + k];
          gsc += fr * spline[e][r];
          (*Gx)[r * in + i] += fr * dphi[e][r];
        }
        (*grad)[offset[l * tpl + BaseWeight] + e] += gwb;
        for (int64_t k = 0; k < nb; ++k)
          (*grad)[offset[l * tpl + SplineWeight] + e * nb + k] += gc[k];
        if (s.withScaler)
          (*grad)[offset[l * tpl + SplineScaler] + e] += gsc;
      }
      // dA/dx_r through the input's deviation: -A / (std(x) + .1) *
      // (x_r - mean) / ((N - 1) std(x)).
      if (xDev[i] > 0)
        for (int64_t r = 0; r < N; ++r)
          (*Gx)[r * in + i] -= wA[e] * A[e] / (xDev[i] + 0.1) *
                               (cols[i][r] - xMean[i]) / (n1 * xDev[i]);
    }
  return value;
}

Expected<double> kan::tools::minimizeAdam(const Objective &f,
                                          std::vector<double> &p,
                                          int64_t iterations,
                                          const AdamOptions &o,
                                          const IterationCallback &cb) {
  std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0), g;
  double b1t = 1, b2t = 1, loss = NAN;
  for (int64_t it = 0; it < iterations; ++it) {
    auto l = f(p, g);
    if (!l)
      return l.takeError();
    loss = *l;
    b1t *= o.beta1;
    b2t *= o.beta2;
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      double mh = m[i] / (1 - b1t), vh = v[i] / (1 - b2t);
      p[i] -= o.lr * mh / (std::sqrt(vh) + o.eps);
    }
    if (cb && !cb(it + 1, loss))
      break;
  }
  std::vector<double> last;
  auto l = f(p, last);
  if (!l)
    return l.takeError();
  return *l;
}

static double dot(llvm::ArrayRef<double> a, llvm::ArrayRef<double> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

Expected<double> kan::tools::minimizeLbfgs(const Objective &f,
                                           std::vector<double> &p,
                                           int64_t iterations,
                                           const LbfgsOptions &o,
                                           const IterationCallback &cb) {
  const size_t n = p.size();
  std::vector<double> g, gNew, dir(n), pNew(n);
  auto l0 = f(p, g);
  if (!l0)
    return l0.takeError();
  double loss = *l0;
  std::deque<std::vector<double>> S, Y;
  std::deque<double> rho;
  for (int64_t it = 0; it < iterations; ++it) {
    double gmax = 0;
    for (double v : g)
      gmax = std::max(gmax, std::fabs(v));
    if (!(gmax > o.gradTolerance))
      break;
    // Two-loop recursion: dir = -H g.
    dir = g;
    std::vector<double> alpha(S.size());
    for (size_t k = S.size(); k-- > 0;) {
      alpha[k] = rho[k] * dot(S[k], dir);
      for (size_t i = 0; i < n; ++i)
        dir[i] -= alpha[k] * Y[k][i];
    }
    double gamma = S.empty() ? 1.0 : dot(S.back(), Y.back()) / dot(Y.back(), Y.back());
    for (double &v : dir)
      v *= gamma;
    for (size_t k = 0; k < S.size(); ++k) {
      double beta = rho[k] * dot(Y[k], dir);
      for (size_t i = 0; i < n; ++i)
        dir[i] += S[k][i] * (alpha[k] - beta);
    }
    for (double &v : dir)
      v = -v;
    double slope = dot(g, dir);
    if (!(slope < 0)) { // not a descent direction: restart from -g
      S.clear(), Y.clear(), rho.clear();
      for (size_t i = 0; i < n; ++i)
        dir[i] = -g[i];
      slope = dot(g, dir);
    }
    // The first step is scaled so it moves by about one unit of |g|_1.
    double t = 1.0;
    if (S.empty()) {
      double g1 = 0;
      for (double v : g)
        g1 += std::fabs(v);
      t = std::min(1.0, 1.0 / g1);
    }
    double newLoss = NAN;
    bool accepted = false;
    for (int ls = 0; ls < 40; ++ls) {
      for (size_t i = 0; i < n; ++i)
        pNew[i] = p[i] + t * dir[i];
      auto l = f(pNew, gNew);
      if (!l)
        return l.takeError();
      newLoss = *l;
      if (std::isfinite(newLoss) && newLoss <= loss + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted)
      break; // no decrease along the direction at machine precision
    std::vector<double> s(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = pNew[i] - p[i];
      y[i] = gNew[i] - g[i];
    }
    double sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y)) {
      S.push_back(std::move(s));
      Y.push_back(std::move(y));
      rho.push_back(1.0 / sy);
      if (static_cast<int>(S.size()) > o.history)
        S.pop_front(), Y.pop_front(), rho.pop_front();
    }
    p.swap(pNew);
    g.swap(gNew);
    loss = newLoss;
    if (cb && !cb(it + 1, loss))
      break;
  }
  return loss;
}
