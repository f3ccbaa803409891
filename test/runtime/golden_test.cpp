//===- golden_test.cpp - kernels and reference vs PyTorch golden vectors --===//
//
// test/golden (written by make_golden.py) holds an efficient-kan model, its
// input, output and forward-mode JVPs computed by PyTorch. Skipped when the
// files are absent.
//
//===----------------------------------------------------------------------===//
#include "kan_reference.h"
#include "kanrt/kanrt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#ifndef KAN_GOLDEN_DIR
#define KAN_GOLDEN_DIR "test/golden"
#endif

namespace {

std::string golden(const std::string &name) {
  return std::string(KAN_GOLDEN_DIR) + "/" + name;
}

bool haveGolden() {
  for (const char *f : {"kan_small.safetensors", "kan_small_x.npy",
                        "kan_small_y.npy", "kan_small_tangents.safetensors",
                        "kan_small_dy.npy"})
    if (!std::filesystem::exists(golden(f)))
      return false;
  return true;
}

template <typename T> std::vector<T> vec(const kan_tensor &t) {
  const T *d = static_cast<const T *>(t.data);
  return std::vector<T>(d, d + kan_tensor_numel(&t));
}

::testing::AssertionResult close(const std::vector<double> &got,
                                 const std::vector<double> &want, double rtol,
                                 double atol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " vs "
                                         << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i])))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << " vs " << want[i];
  return ::testing::AssertionSuccess();
}

/// One layer's parameters (T = double or float) read from a tensor map.
template <typename T> struct Layer {
  size_t I = 0, O = 0;
  std::vector<T> grid, wb, c, s;
};

template <typename T>
std::vector<Layer<T>> loadLayers(const kan_tensor_map &m, int G, int k) {
  std::vector<Layer<T>> layers;
  for (int l = 0;; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const kan_tensor *g = kan_tensor_map_find(&m, (p + "grid").c_str());
    if (!g)
      break;
    const kan_tensor *wb = kan_tensor_map_find(&m, (p + "base_weight").c_str());
    const kan_tensor *c = kan_tensor_map_find(&m, (p + "spline_weight").c_str());
    const kan_tensor *s = kan_tensor_map_find(&m, (p + "spline_scaler").c_str());
    EXPECT_TRUE(wb && c && s) << p;
    if (!(wb && c && s))
      break;
    EXPECT_EQ(g->shape[1], size_t(G + 2 * k + 1));
    Layer<T> L;
    L.I = g->shape[0];
    L.O = wb->shape[0];
    L.grid = vec<T>(*g);
    L.wb = vec<T>(*wb);
    L.c = vec<T>(*c);
    L.s = vec<T>(*s);
    layers.push_back(std::move(L));
  }
  return layers;
}

/// Forward (and JVP when the tangent layers are given) through the kernels:
/// pack features (+ tangents), pack weights (+ tangents), GEMMs.
std::vector<double> kernelModel(const std::vector<Layer<double>> &layers,
                                const std::vector<Layer<double>> *tangents,
                                std::vector<double> x, std::vector<double> xt,
                                size_t N, int G, int k, bool wantTangent) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto &L = layers[l];
    const size_t K = L.I * (G + k + 1);
    std::vector<double> aux(kan_grid_aux_size(L.I, G, k)), A(N * K),
        At(N * K), W(L.O * K), Wt(L.O * K), y(N * L.O), yt(N * L.O);
    EXPECT_EQ(kan_grid_prepare_f64(L.I, G, k, L.grid.data(), aux.data()),
              KAN_OK);
    kan_pack_features_jvp_f64(N, L.I, G, k, KAN_ACT_SILU, x.data(), L.I, 1,
                              xt.data(), L.I, 0, L.grid.data(), aux.data(),
                              A.data(), K, At.data(), K, 0);
    kan_pack_weights_f64(L.O, L.I, G, k, L.wb.data(), L.c.data(), L.s.data(),
                         W.data(), K);
    const auto &T = (*tangents)[l];
    kan_pack_weights_jvp_f64(L.O, L.I, G, k, L.c.data(), L.s.data(),
                             T.wb.data(), T.c.data(), T.s.data(), Wt.data(),
                             K);
    kan_gemm_nt_f64(N, L.O, K, 1.0, A.data(), K, W.data(), K, 0.0, y.data(),
                    L.O);
    kan_gemm_nt_f64(N, L.O, K, 1.0, At.data(), K, W.data(), K, 0.0, yt.data(),
                    L.O);
    kan_gemm_nt_f64(N, L.O, K, 1.0, A.data(), K, Wt.data(), K, 1.0, yt.data(),
                    L.O);
    x.swap(y);
    xt.swap(yt);
  }
  return wantTangent ? xt : x;
}

std::vector<double> referenceModel(const std::vector<Layer<double>> &layers,
                                   const std::vector<Layer<double>> &tangents,
                                   std::vector<double> x,
                                   std::vector<double> xt, size_t N, int G,
                                   int k, bool wantTangent) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto &L = layers[l];
    const auto &T = tangents[l];
    std::vector<double> y(N * L.O), yt(N * L.O);
    kanref_layer_forward(N, L.I, L.O, G, k, 0, x.data(), L.grid.data(),
                         L.wb.data(), L.c.data(), L.s.data(), y.data());
    kanref_layer_jvp(N, L.I, L.O, G, k, 0, x.data(), xt.data(), L.grid.data(),
                     L.wb.data(), L.c.data(), L.s.data(), T.wb.data(),
                     T.c.data(), T.s.data(), yt.data());
    x.swap(y);
    xt.swap(yt);
  }
  return wantTangent ? xt : x;
}

class Golden : public ::testing::Test {
protected:
  kan_tensor_map model{}, tang{};
  kan_tensor x{}, y{}, dy{};
  int G = 0, k = 0;
  size_t N = 0;
  std::vector<Layer<double>> layers, tlayers;

  void SetUp() override {
    if (!haveGolden())
      GTEST_SKIP() << "golden vectors not found in " KAN_GOLDEN_DIR;
    ASSERT_EQ(kan_safetensors_read(golden("kan_small.safetensors").c_str(),
                                   KAN_IO_CHECK_FINITE, &model),
              KAN_OK)
        << kan_last_error();
    ASSERT_EQ(kan_safetensors_read(
                  golden("kan_small_tangents.safetensors").c_str(),
                  KAN_IO_CHECK_FINITE, &tang),
              KAN_OK)
        << kan_last_error();
    ASSERT_EQ(kan_npy_read(golden("kan_small_x.npy").c_str(),
                           KAN_IO_CHECK_FINITE, &x),
              KAN_OK);
    ASSERT_EQ(kan_npy_read(golden("kan_small_y.npy").c_str(), 0, &y), KAN_OK);
    ASSERT_EQ(kan_npy_read(golden("kan_small_dy.npy").c_str(), 0, &dy),
              KAN_OK);
    const char *ko = kan_tensor_map_get_meta(&model, "spline_order");
    const char *go = kan_tensor_map_get_meta(&model, "grid_size");
    ASSERT_TRUE(ko && go) << "metadata lacks spline_order / grid_size";
    k = std::atoi(ko);
    G = std::atoi(go);
    N = x.shape[0];
    layers = loadLayers<double>(model, G, k);
    ASSERT_FALSE(layers.empty());
    // Tangents carry the model's keys except the grid.
    for (size_t l = 0; l < layers.size(); ++l) {
      const std::string p = "layers." + std::to_string(l) + ".";
      Layer<double> T;
      for (auto [name, dst] :
           {std::pair{"base_weight", &T.wb}, std::pair{"spline_weight", &T.c},
            std::pair{"spline_scaler", &T.s}}) {
        const kan_tensor *t = kan_tensor_map_find(&tang, (p + name).c_str());
        ASSERT_NE(t, nullptr) << p << name;
        *dst = vec<double>(*t);
      }
      tlayers.push_back(std::move(T));
    }
  }
  void TearDown() override {
    kan_tensor_map_free(&model);
    kan_tensor_map_free(&tang);
    kan_tensor_free(&x);
    kan_tensor_free(&y);
    kan_tensor_free(&dy);
  }
  std::vector<double> inputTangent() {
    const kan_tensor *t = kan_tensor_map_find(&tang, "input");
    EXPECT_NE(t, nullptr);
    return t ? vec<double>(*t) : std::vector<double>();
  }
};

TEST_F(Golden, ForwardMatchesPyTorch) {
  auto xin = vec<double>(x), want = vec<double>(y);
  std::vector<double> zero(xin.size(), 0.0);
  EXPECT_TRUE(close(kernelModel(layers, &tlayers, xin, zero, N, G, k, false),
                    want, 1e-12, 1e-13));
  EXPECT_TRUE(close(referenceModel(layers, tlayers, xin, zero, N, G, k, false),
                    want, 1e-12, 1e-13));
}

TEST_F(Golden, JvpMatchesPyTorchForwardAD) {
  auto xin = vec<double>(x), want = vec<double>(dy);
  auto xt = inputTangent();
  EXPECT_TRUE(close(kernelModel(layers, &tlayers, xin, xt, N, G, k, true),
                    want, 1e-12, 1e-13));
  EXPECT_TRUE(close(referenceModel(layers, tlayers, xin, xt, N, G, k, true),
                    want, 1e-12, 1e-13));
}

TEST_F(Golden, ParameterOnlyJvpMatchesPyTorch) {
  if (!std::filesystem::exists(golden("kan_small_dy_params.npy")))
    GTEST_SKIP() << "kan_small_dy_params.npy absent";
  kan_tensor d;
  ASSERT_EQ(kan_npy_read(golden("kan_small_dy_params.npy").c_str(), 0, &d),
            KAN_OK);
  auto xin = vec<double>(x), want = vec<double>(d);
  kan_tensor_free(&d);
  std::vector<double> zero(xin.size(), 0.0);
  EXPECT_TRUE(close(kernelModel(layers, &tlayers, xin, zero, N, G, k, true),
                    want, 1e-12, 1e-13));
}

TEST_F(Golden, Float32ForwardMatchesPyTorch) {
  if (!std::filesystem::exists(golden("kan_small_f32.safetensors")) ||
      !std::filesystem::exists(golden("kan_small_f32_x.npy")) ||
      !std::filesystem::exists(golden("kan_small_f32_y.npy")))
    GTEST_SKIP() << "float32 golden files absent";
  kan_tensor_map m32;
  kan_tensor x32, y32;
  ASSERT_EQ(kan_safetensors_read(golden("kan_small_f32.safetensors").c_str(),
                                 0, &m32),
            KAN_OK);
  ASSERT_EQ(kan_npy_read(golden("kan_small_f32_x.npy").c_str(), 0, &x32),
            KAN_OK);
  ASSERT_EQ(kan_npy_read(golden("kan_small_f32_y.npy").c_str(), 0, &y32),
            KAN_OK);
  ASSERT_EQ(x32.dtype, KAN_DTYPE_F32);
  auto L32 = loadLayers<float>(m32, G, k);
  std::vector<float> a = vec<float>(x32);
  for (const auto &L : L32) {
    const size_t K = L.I * (G + k + 1);
    std::vector<float> aux(kan_grid_aux_size(L.I, G, k)), A(N * K),
        W(L.O * K), out(N * L.O);
    ASSERT_EQ(kan_grid_prepare_f32(L.I, G, k, L.grid.data(), aux.data()),
              KAN_OK);
    kan_pack_features_f32(N, L.I, G, k, KAN_ACT_SILU, a.data(), L.I,
                          L.grid.data(), aux.data(), A.data(), K);
    kan_pack_weights_f32(L.O, L.I, G, k, L.wb.data(), L.c.data(), L.s.data(),
                         W.data(), K);
    kan_gemm_nt_f32(N, L.O, K, 1.0f, A.data(), K, W.data(), K, 0.0f,
                    out.data(), L.O);
    a.swap(out);
  }
  auto want = vec<float>(y32);
  EXPECT_TRUE(close(std::vector<double>(a.begin(), a.end()),
                    std::vector<double>(want.begin(), want.end()), 1e-5,
                    1e-6));
  kan_tensor_map_free(&m32);
  kan_tensor_free(&x32);
  kan_tensor_free(&y32);
}

} // namespace
