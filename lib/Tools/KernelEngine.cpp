//===- KernelEngine.cpp - forward, JVP and train step on kanrt kernels ----===//
//
// Evaluates a model layer by layer with the runtime's kernels: features
// A = [silu(x) | B(x)], weights W = [Wb | C*S], y = A W^T. The train step
// follows ALGORITHMS.md section 3: the primal and n tangent directions in one
// pass, sparse ternary weight tangents applied as column updates
// (kan_sparse_tangent, O(n * nnz)), dense ones through a tangent GEMM, then
// kan_optimizer_step - so the replay log rebuilds its weights bit-exactly.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Engine.h"

#include "kanrt/kanrt.h"

#include <cmath>
#include <cstring>

using namespace kan::tools;
using llvm::Error;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

Engine::~Engine() = default;

std::string TrainConfig::resolvedDist() const {
  if (dist == "sparse")
    return "sparse_ternary";
  if (!dist.empty())
    return dist;
  return rule == "fg" ? "normal" : "sparse_ternary";
}

llvm::Expected<OptimSetup> kan::tools::makeOptimSetup(const Model &model,
                                                      const TrainConfig &cfg) {
  OptimSetup s;
  if (cfg.rule == "fg")
    s.kind = KAN_OPT_FG;
  else if (cfg.rule == "ternary")
    s.kind = KAN_OPT_TERNARY;
  else
    return makeError("unknown update rule '" + cfg.rule +
                     "' (expected fg or ternary)");
  std::string d = cfg.resolvedDist();
  if (d == "normal")
    s.dist = KAN_DIST_NORMAL;
  else if (d == "rademacher")
    s.dist = KAN_DIST_RADEMACHER;
  else if (d == "sparse_ternary")
    s.dist = KAN_DIST_SPARSE;
  else
    return makeError("unknown perturbation distribution '" + d +
                     "' (expected sparse_ternary, normal or rademacher)");
  // As kan-build-train-step: fg's estimate needs unit-variance directions.
  if (s.kind == KAN_OPT_FG && s.dist == KAN_DIST_SPARSE)
    return makeError("rule 'fg' needs unit-variance directions (--dist "
                     "normal or rademacher), not sparse_ternary");
  if (cfg.directions < 1 || cfg.directions > (1 << 20))
    return makeError("--directions must be in [1, 2^20]");
  if (s.dist == KAN_DIST_SPARSE && !(cfg.density > 0 && cfg.density <= 1))
    return makeError("--density must be in (0, 1] for sparse perturbations");
  if (!(cfg.lr > 0) || !std::isfinite(cfg.lr))
    return makeError("--lr must be positive and finite");
  const ModelShape &sh = model.shape;
  for (size_t l = 0; l < sh.numLayers(); ++l)
    for (size_t which = BaseWeight; which < sh.tensorsPerLayer(); ++which) {
      size_t idx = l * sh.tensorsPerLayer() + which;
      s.names.push_back(model.tensors[idx].name);
      s.streams.push_back(KAN_STREAM_ID(l, which - 1));
      s.tensorIndex.push_back(idx);
    }
  return s;
}

namespace {

// Overloads so one template serves f64 and f32.
kan_status gridPrepare(size_t in, int G, int k, const double *g, double *a) {
  return kan_grid_prepare_f64(in, G, k, g, a);
}
kan_status gridPrepare(size_t in, int G, int k, const float *g, float *a) {
  return kan_grid_prepare_f32(in, G, k, g, a);
}
void packFeatures(size_t m, size_t in, int G, int k, const double *x,
                  const double *g, const double *aux, double *p) {
  kan_pack_features_f64(m, in, G, k, KAN_ACT_SILU, x, in, g, aux, p,
                        in * (G + k + 1));
}
void packFeatures(size_t m, size_t in, int G, int k, const float *x,
                  const float *g, const float *aux, float *p) {
  kan_pack_features_f32(m, in, G, k, KAN_ACT_SILU, x, in, g, aux, p,
                        in * (G + k + 1));
}
void packFeaturesJvp(size_t m, size_t in, int G, int k, const double *x,
                     size_t ndir, const double *xt, const double *g,
                     const double *aux, double *p, double *tp) {
  size_t K = in * (G + k + 1);
  kan_pack_features_jvp_f64(m, in, G, k, KAN_ACT_SILU, x, in, ndir, xt, in,
                            m * in, g, aux, p, K, tp, K, m * K);
}
void packFeaturesJvp(size_t m, size_t in, int G, int k, const float *x,
                     size_t ndir, const float *xt, const float *g,
                     const float *aux, float *p, float *tp) {
  size_t K = in * (G + k + 1);
  kan_pack_features_jvp_f32(m, in, G, k, KAN_ACT_SILU, x, in, ndir, xt, in,
                            m * in, g, aux, p, K, tp, K, m * K);
}
void packWeights(size_t o, size_t in, int G, int k, const double *bw,
                 const double *sw, const double *sc, double *W) {
  kan_pack_weights_f64(o, in, G, k, bw, sw, sc, W, in * (G + k + 1));
}
void packWeights(size_t o, size_t in, int G, int k, const float *bw,
                 const float *sw, const float *sc, float *W) {
  kan_pack_weights_f32(o, in, G, k, bw, sw, sc, W, in * (G + k + 1));
}
void packWeightsJvp(size_t o, size_t in, int G, int k, const double *sw,
                    const double *sc, const double *bwt, const double *swt,
                    const double *sct, double *Wt) {
  kan_pack_weights_jvp_f64(o, in, G, k, sw, sc, bwt, swt, sct, Wt,
                           in * (G + k + 1));
}
void packWeightsJvp(size_t o, size_t in, int G, int k, const float *sw,
                    const float *sc, const float *bwt, const float *swt,
                    const float *sct, float *Wt) {
  kan_pack_weights_jvp_f32(o, in, G, k, sw, sc, bwt, swt, sct, Wt,
                           in * (G + k + 1));
}
void gemmNT(size_t m, size_t n, size_t k, const double *A, const double *B,
            double beta, double *C) {
  kan_gemm_nt_f64(m, n, k, 1.0, A, k, B, k, beta, C, n);
}
void gemmNT(size_t m, size_t n, size_t k, const float *A, const float *B,
            float beta, float *C) {
  kan_gemm_nt_f32(m, n, k, 1.0f, A, k, B, k, beta, C, n);
}
void sparseTangent(size_t m, const double *A, size_t lda, size_t nnz,
                   const uint32_t *cols, const uint32_t *rows,
                   const double *vals, double *Y, size_t ldy) {
  kan_sparse_tangent_f64(m, A, lda, nnz, cols, rows, vals, Y, ldy);
}
void sparseTangent(size_t m, const float *A, size_t lda, size_t nnz,
                   const uint32_t *cols, const uint32_t *rows,
                   const float *vals, float *Y, size_t ldy) {
  kan_sparse_tangent_f32(m, A, lda, nnz, cols, rows, vals, Y, ldy);
}
kan_status perturbDense(uint64_t seed, uint32_t step, uint32_t dir,
                        uint32_t stream, int dist, size_t size, double *out) {
  return kan_perturb_dense_f64(seed, step, dir, stream, dist, size, out);
}
kan_status perturbDense(uint64_t seed, uint32_t step, uint32_t dir,
                        uint32_t stream, int dist, size_t size, float *out) {
  return kan_perturb_dense_f32(seed, step, dir, stream, dist, size, out);
}

template <typename T>
const T *ptr(const Tensor &t) {
  return static_cast<const T *>(t.data());
}

/// Shape facts of layer l.
struct LayerDims {
  size_t in, out, G, k, K;
};
LayerDims dims(const ModelShape &s, size_t l) {
  LayerDims d;
  d.in = static_cast<size_t>(s.widths[l]);
  d.out = static_cast<size_t>(s.widths[l + 1]);
  d.G = static_cast<size_t>(s.gridSize);
  d.k = static_cast<size_t>(s.order);
  d.K = d.in * (d.G + d.k + 1);
  return d;
}

template <typename T>
Error prepareLayer(const Model &m, size_t l, std::vector<T> &aux,
                   std::vector<T> &W) {
  LayerDims d = dims(m.shape, l);
  aux.resize(kan_grid_aux_size(d.in, static_cast<int>(d.G), static_cast<int>(d.k)));
  const Tensor &grid = m.tensor(l, Grid);
  if (gridPrepare(d.in, static_cast<int>(d.G), static_cast<int>(d.k),
                  ptr<T>(grid), aux.data()))
    return makeError("tensor '" + grid.name +
                     "' is not a valid grid (each row must be finite and "
                     "non-decreasing)");
  W.resize(d.out * d.K);
  packWeights(d.out, d.in, static_cast<int>(d.G), static_cast<int>(d.k),
              ptr<T>(m.tensor(l, BaseWeight)), ptr<T>(m.tensor(l, SplineWeight)),
              m.shape.withScaler ? ptr<T>(m.tensor(l, SplineScaler)) : nullptr,
              W.data());
  return Error::success();
}

template <typename T>
Error forwardT(const Model &m, const T *x, int64_t n, T *y) {
  std::vector<T> aux, W, A, cur(x, x + n * m.shape.widths[0]), next;
  size_t rows = static_cast<size_t>(n);
  for (size_t l = 0; l < m.shape.numLayers(); ++l) {
    LayerDims d = dims(m.shape, l);
    if (Error e = prepareLayer(m, l, aux, W))
      return e;
    A.resize(rows * d.K);
    packFeatures(rows, d.in, static_cast<int>(d.G), static_cast<int>(d.k),
                 cur.data(), ptr<T>(m.tensor(l, Grid)), aux.data(), A.data());
    next.assign(rows * d.out, T(0));
    gemmNT(rows, d.out, d.K, A.data(), W.data(), T(0), next.data());
    cur.swap(next);
  }
  std::memcpy(y, cur.data(), cur.size() * sizeof(T));
  return Error::success();
}

template <typename T>
Error forwardJvpT(const Model &m, const T *x, int64_t n, const Model &tan,
                  const T *xt, T *y, T *dy) {
  size_t rows = static_cast<size_t>(n);
  std::vector<T> aux, W, Wt, A, At;
  std::vector<T> cur(x, x + rows * m.shape.widths[0]), next;
  std::vector<T> curT, nextT;
  if (xt)
    curT.assign(xt, xt + rows * m.shape.widths[0]);
  for (size_t l = 0; l < m.shape.numLayers(); ++l) {
    LayerDims d = dims(m.shape, l);
    int G = static_cast<int>(d.G), k = static_cast<int>(d.k);
    if (Error e = prepareLayer(m, l, aux, W))
      return e;
    A.resize(rows * d.K);
    bool inputTangent = !curT.empty();
    if (inputTangent) {
      At.resize(rows * d.K);
      packFeaturesJvp(rows, d.in, G, k, cur.data(), 1, curT.data(),
                      ptr<T>(m.tensor(l, Grid)), aux.data(), A.data(),
                      At.data());
    } else {
      packFeatures(rows, d.in, G, k, cur.data(), ptr<T>(m.tensor(l, Grid)),
                   aux.data(), A.data());
    }
    next.assign(rows * d.out, T(0));
    gemmNT(rows, d.out, d.K, A.data(), W.data(), T(0), next.data());
    Wt.resize(d.out * d.K);
    packWeightsJvp(d.out, d.in, G, k, ptr<T>(m.tensor(l, SplineWeight)),
                   m.shape.withScaler ? ptr<T>(m.tensor(l, SplineScaler)) : nullptr,
                   ptr<T>(tan.tensor(l, BaseWeight)),
                   ptr<T>(tan.tensor(l, SplineWeight)),
                   m.shape.withScaler ? ptr<T>(tan.tensor(l, SplineScaler)) : nullptr,
                   Wt.data());
    nextT.assign(rows * d.out, T(0));
    // y' = [A' | A] [W ; W']^T as two GEMMs into one accumulator.
    gemmNT(rows, d.out, d.K, A.data(), Wt.data(), T(0), nextT.data());
    if (inputTangent)
      gemmNT(rows, d.out, d.K, At.data(), W.data(), T(1), nextT.data());
    cur.swap(next);
    curT.swap(nextT);
  }
  std::memcpy(y, cur.data(), cur.size() * sizeof(T));
  std::memcpy(dy, curT.data(), curT.size() * sizeof(T));
  return Error::success();
}

class KernelEngine final : public Engine {
public:
  explicit KernelEngine(const TrainConfig *train) {
    if (train)
      cfg = *train;
  }
  llvm::StringRef name() const override { return "kernels"; }
  Error forward(Model &m, const void *x, int64_t n, void *y) override {
    if (m.shape.f32)
      return forwardT(m, static_cast<const float *>(x), n, static_cast<float *>(y));
    return forwardT(m, static_cast<const double *>(x), n, static_cast<double *>(y));
  }
  Error trainStep(Model &m, const void *x, const int64_t *labels, int64_t n,
                  uint64_t seed, int64_t step, double &loss,
                  std::vector<double> &alphas) override {
    if (m.shape.f32)
      return trainT(m, static_cast<const float *>(x), labels, n, seed, step,
                    loss, alphas);
    return trainT(m, static_cast<const double *>(x), labels, n, seed, step,
                  loss, alphas);
  }

private:
  template <typename T>
  Error trainT(Model &m, const T *x, const int64_t *labels, int64_t n,
               uint64_t seed, int64_t step, double &loss,
               std::vector<double> &alphas);
  /// Adds A W'_d^T for every direction d of layer l into yt (ndir x n x O).
  template <typename T>
  Error weightTangents(const Model &m, size_t l, const OptimSetup &setup,
                       uint64_t seed, uint32_t step, size_t rows,
                       const T *A, T *yt);

  TrainConfig cfg;
  // Scratch buffers reused across steps.
  std::vector<uint32_t> idx, cols, rowsO;
  std::vector<int32_t> sign;
};

template <typename T>
Error KernelEngine::weightTangents(const Model &m, size_t l,
                                   const OptimSetup &setup, uint64_t seed,
                                   uint32_t step, size_t rows, const T *A,
                                   T *yt) {
  LayerDims d = dims(m.shape, l);
  size_t ndir = static_cast<size_t>(cfg.directions);
  size_t per = m.shape.tensorsPerLayer();
  size_t GK = d.G + d.k;
  const T *S = m.shape.withScaler ? ptr<T>(m.tensor(l, SplineScaler)) : nullptr;
  const T *C = ptr<T>(m.tensor(l, SplineWeight));
  if (setup.dist == KAN_DIST_SPARSE) {
    std::vector<T> vals;
    for (size_t dir = 0; dir < ndir; ++dir) {
      cols.clear();
      rowsO.clear();
      vals.clear();
      for (size_t which = BaseWeight; which < per; ++which) {
        const Tensor &t = m.tensor(l, which);
        size_t size = t.numel();
        size_t cnt = kan_sparse_count(size, cfg.density);
        idx.resize(cnt);
        sign.resize(cnt);
        if (int st = kan_perturb_sparse(seed, step, static_cast<uint32_t>(dir),
                                        KAN_STREAM_ID(l, which - 1), size, cnt,
                                        idx.data(), sign.data()))
          return runtimeError(st, t.name);
        for (size_t e = 0; e < cnt; ++e) {
          size_t p = idx[e];
          T sg = static_cast<T>(sign[e]);
          if (which == BaseWeight) {
            rowsO.push_back(static_cast<uint32_t>(p / d.in));
            cols.push_back(static_cast<uint32_t>(p % d.in));
            vals.push_back(sg);
          } else if (which == SplineWeight) {
            size_t o = p / (d.in * GK), rem = p % (d.in * GK);
            rowsO.push_back(static_cast<uint32_t>(o));
            cols.push_back(static_cast<uint32_t>(d.in + rem));
            vals.push_back(S ? sg * S[o * d.in + rem / GK] : sg);
          } else {
            // A scaler perturbation moves the whole spline row C[o,i,:].
            size_t o = p / d.in, i = p % d.in;
            for (size_t j = 0; j < GK; ++j) {
              rowsO.push_back(static_cast<uint32_t>(o));
              cols.push_back(static_cast<uint32_t>(d.in + i * GK + j));
              vals.push_back(sg * C[p * GK + j]);
            }
          }
        }
      }
      sparseTangent(rows, A, d.K, cols.size(), cols.data(), rowsO.data(),
                    vals.data(), yt + dir * rows * d.out, d.out);
    }
    return Error::success();
  }
  std::vector<T> pb(m.tensor(l, BaseWeight).numel()),
      ps(m.tensor(l, SplineWeight).numel()),
      pc(S ? m.tensor(l, SplineScaler).numel() : 0), Wt(d.out * d.K);
  for (size_t dir = 0; dir < ndir; ++dir) {
    uint32_t dr = static_cast<uint32_t>(dir);
    if (int st = perturbDense(seed, step, dr, KAN_STREAM_ID(l, 0), setup.dist,
                              pb.size(), pb.data()))
      return runtimeError(st);
    if (int st = perturbDense(seed, step, dr, KAN_STREAM_ID(l, 1), setup.dist,
                              ps.size(), ps.data()))
      return runtimeError(st);
    if (S)
      if (int st = perturbDense(seed, step, dr, KAN_STREAM_ID(l, 2), setup.dist,
                                pc.size(), pc.data()))
        return runtimeError(st);
    packWeightsJvp(d.out, d.in, static_cast<int>(d.G), static_cast<int>(d.k),
                   C, S, pb.data(), ps.data(), S ? pc.data() : nullptr,
                   Wt.data());
    gemmNT(rows, d.out, d.K, A, Wt.data(), T(1), yt + dir * rows * d.out);
  }
  return Error::success();
}

template <typename T>
Error KernelEngine::trainT(Model &m, const T *x, const int64_t *labels,
                           int64_t n, uint64_t seed, int64_t step,
                           double &loss, std::vector<double> &alphas) {
  auto setupOr = makeOptimSetup(m, cfg);
  if (!setupOr)
    return setupOr.takeError();
  OptimSetup &setup = *setupOr;
  size_t rows = static_cast<size_t>(n);
  size_t ndir = static_cast<size_t>(cfg.directions);
  uint32_t st32 = static_cast<uint32_t>(step);
  std::vector<T> aux, W, A, At;
  std::vector<T> cur(x, x + rows * m.shape.widths[0]), next, curT, nextT;
  for (size_t l = 0; l < m.shape.numLayers(); ++l) {
    LayerDims d = dims(m.shape, l);
    int G = static_cast<int>(d.G), k = static_cast<int>(d.k);
    if (Error e = prepareLayer(m, l, aux, W))
      return e;
    A.resize(rows * d.K);
    nextT.assign(ndir * rows * d.out, T(0));
    next.assign(rows * d.out, T(0));
    if (l == 0) {
      // x' = 0 in the first layer: only the weight tangents contribute.
      packFeatures(rows, d.in, G, k, cur.data(), ptr<T>(m.tensor(l, Grid)),
                   aux.data(), A.data());
    } else {
      At.resize(ndir * rows * d.K);
      packFeaturesJvp(rows, d.in, G, k, cur.data(), ndir, curT.data(),
                      ptr<T>(m.tensor(l, Grid)), aux.data(), A.data(),
                      At.data());
      // All directions' A'_d W^T in one GEMM (directions stacked as rows).
      gemmNT(ndir * rows, d.out, d.K, At.data(), W.data(), T(0), nextT.data());
    }
    gemmNT(rows, d.out, d.K, A.data(), W.data(), T(0), next.data());
    if (Error e = weightTangents(m, l, setup, seed, st32, rows, A.data(),
                                 nextT.data()))
      return e;
    cur.swap(next);
    curT.swap(nextT);
  }
  // Softmax cross-entropy (batch mean) and its JVP per direction.
  size_t C = static_cast<size_t>(m.shape.widths.back());
  std::vector<double> p(rows * C);
  double total = 0;
  for (size_t r = 0; r < rows; ++r) {
    const T *z = cur.data() + r * C;
    double mx = z[0];
    for (size_t c = 1; c < C; ++c)
      mx = std::max(mx, static_cast<double>(z[c]));
    double sum = 0;
    for (size_t c = 0; c < C; ++c)
      sum += std::exp(static_cast<double>(z[c]) - mx);
    for (size_t c = 0; c < C; ++c)
      p[r * C + c] = std::exp(static_cast<double>(z[c]) - mx) / sum;
    total += std::log(sum) + mx - static_cast<double>(z[labels[r]]);
    p[r * C + static_cast<size_t>(labels[r])] -= 1.0;
  }
  loss = total / static_cast<double>(rows);
  alphas.assign(ndir, 0.0);
  for (size_t dir = 0; dir < ndir; ++dir) {
    const T *zt = curT.data() + dir * rows * C;
    double a = 0;
    for (size_t e = 0; e < rows * C; ++e)
      a += p[e] * static_cast<double>(zt[e]);
    alphas[dir] = a / static_cast<double>(rows);
  }
  kan_optim_config oc{setup.kind, setup.dist, static_cast<uint32_t>(ndir),
                      seed, cfg.lr, cfg.density};
  std::vector<kan_param> params;
  for (size_t i = 0; i < setup.names.size(); ++i) {
    Tensor &t = m.tensors[setup.tensorIndex[i]];
    params.push_back({t.name.c_str(), setup.streams[i],
                      t.f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64, t.numel(),
                      t.data()});
  }
  if (int st = kan_optimizer_step(&oc, st32, alphas.data(), params.size(),
                                  params.data()))
    return runtimeError(st, "optimiser step");
  return Error::success();
}

} // namespace

std::unique_ptr<Engine> kan::tools::createKernelEngine(const TrainConfig *train) {
  return std::make_unique<KernelEngine>(train);
}

Error kan::tools::kernelForwardJvp(const Model &model, const void *x,
                                   int64_t n, const Model &tangents,
                                   const void *xTangent, void *y, void *dy) {
  if (model.shape.f32)
    return forwardJvpT(model, static_cast<const float *>(x), n, tangents,
                       static_cast<const float *>(xTangent),
                       static_cast<float *>(y), static_cast<float *>(dy));
  return forwardJvpT(model, static_cast<const double *>(x), n, tangents,
                     static_cast<const double *>(xTangent),
                     static_cast<double *>(y), static_cast<double *>(dy));
}
