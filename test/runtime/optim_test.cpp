//===- optim_test.cpp - optimisers, documented arithmetic, replay log -----===//
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kantest;
namespace fs = std::filesystem;

namespace {

fs::path tempDir() {
  fs::path d = fs::temp_directory_path() /
               ("kanrt_optim_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

TEST(Ternary, LowerMedianThreshold) {
  std::vector<double> a = {0.5, -2.0, 0.1, -0.3}, tau(4);
  // |a| sorted: 0.1 0.3 0.5 2.0 -> lower median (index 1) = 0.3.
  ASSERT_EQ(kan_ternary_coefficients(4, a.data(), tau.data()), KAN_OK);
  EXPECT_EQ(tau, (std::vector<double>{1, -1, 0, -1}));
  std::vector<double> b = {3, -1, 2}, tb(3); // median 2
  ASSERT_EQ(kan_ternary_coefficients(3, b.data(), tb.data()), KAN_OK);
  EXPECT_EQ(tb, (std::vector<double>{1, 0, 1}));
  std::vector<double> c = {0, 0, 0, 5, std::nan("")}, tc(5); // median 0
  ASSERT_EQ(kan_ternary_coefficients(5, c.data(), tc.data()), KAN_OK);
  EXPECT_EQ(tc, (std::vector<double>{0, 0, 0, 1, 0}));
  std::vector<double> one = {-4}, t1(1);
  ASSERT_EQ(kan_ternary_coefficients(1, one.data(), t1.data()), KAN_OK);
  EXPECT_EQ(t1[0], -1.0);
}

TEST(Update, DenseFollowsDocumentedOrder) {
  const uint32_t n = 5;
  const size_t size = 1001;
  std::mt19937 rng(31);
  auto theta = randomVector(size, rng), coef = randomVector(n, rng);
  for (int dist : {KAN_DIST_NORMAL, KAN_DIST_RADEMACHER}) {
    auto got = theta;
    ASSERT_EQ(kan_update_dense_f64(17, 4, n, 7, dist, size, coef.data(), 0.01,
                                   got.data()),
              KAN_OK);
    std::vector<std::vector<double>> v(n, std::vector<double>(size));
    for (uint32_t i = 0; i < n; ++i)
      kan_perturb_dense_f64(17, 4, i, 7, dist, size, v[i].data());
    // The documented order: acc over directions, then one scaled step.
    std::vector<double> steps(size);
    for (size_t j = 0; j < size; ++j) {
      volatile double acc = 0.0;
      for (uint32_t i = 0; i < n; ++i) {
        volatile double prod = coef[i] * v[i][j];
        acc = acc + prod;
      }
      volatile double step = 0.01 * acc;
      steps[j] = step;
    }
    for (size_t j = 0; j < size; ++j)
      ASSERT_EQ(got[j], theta[j] - steps[j]) << j;
    std::vector<float> tf(theta.begin(), theta.end()), gf = tf;
    ASSERT_EQ(kan_update_dense_f32(17, 4, n, 7, dist, size, coef.data(), 0.01,
                                   gf.data()),
              KAN_OK);
    for (size_t j = 0; j < size; ++j)
      ASSERT_EQ(gf[j], static_cast<float>(double(tf[j]) - steps[j])) << j;
  }
}

TEST(Update, SparseFollowsDocumentedOrder) {
  const uint32_t n = 4;
  const size_t size = 5000;
  const double density = 0.01;
  std::vector<double> coef = {1, 0, -1, 1};
  std::mt19937 rng(32);
  auto theta = randomVector(size, rng), got = theta, want = theta;
  ASSERT_EQ(kan_update_sparse_f64(3, 2, n, 1, size, density, coef.data(),
                                  0.5, got.data()),
            KAN_OK);
  const size_t m = kan_sparse_count(size, density);
  ASSERT_EQ(m, 50u);
  size_t touched = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (coef[i] == 0)
      continue;
    std::vector<uint32_t> idx(m);
    std::vector<int32_t> sg(m);
    kan_perturb_sparse(3, 2, i, 1, size, m, idx.data(), sg.data());
    for (size_t e = 0; e < m; ++e)
      want[idx[e]] = want[idx[e]] - 0.5 * (coef[i] * sg[e]);
  }
  for (size_t j = 0; j < size; ++j) {
    ASSERT_EQ(got[j], want[j]) << j;
    touched += got[j] != theta[j];
  }
  EXPECT_GT(touched, 100u);
  EXPECT_LE(touched, 150u); // O(m) non-zeros per direction, not dense
}

/// A small model made of an f64 and an f32 tensor.
struct Model {
  std::vector<double> a;
  std::vector<float> b;
  std::vector<kan_param> params() {
    return {{"layers.0.base_weight", KAN_STREAM_ID(0, 0), KAN_DTYPE_F64,
             a.size(), a.data()},
            {"layers.0.spline_weight", KAN_STREAM_ID(0, 1), KAN_DTYPE_F32,
             b.size(), b.data()}};
  }
};

void runReplay(const kan_optim_config &cfg, const char *tag) {
  std::mt19937 rng(33);
  Model m{randomVector(300, rng), {}};
  auto bv = randomVector(1200, rng);
  m.b.assign(bv.begin(), bv.end());
  const Model init = m;
  const fs::path log = tempDir() / (std::string(tag) + ".kanlog");
  auto params = m.params();
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, "init.safetensors",
                                   params.size(), params.data(), &w),
            KAN_OK)
      << kan_last_error();
  std::vector<double> jvp(cfg.ndir);
  for (uint32_t step = 0; step < 25; ++step) {
    for (auto &a : jvp)
      a = std::normal_distribution<double>()(rng);
    if (step % 2) {
      ASSERT_EQ(kan_optimizer_step(&cfg, step, jvp.data(), params.size(),
                                   params.data()),
                KAN_OK);
      ASSERT_EQ(kan_replay_writer_append(w, step, jvp.data()), KAN_OK);
    } else {
      // A decaying step size, as a learning-rate schedule logs it.
      const double scale = 1.0 - step / 40.0;
      ASSERT_EQ(kan_optimizer_step_scaled(&cfg, step, jvp.data(), scale,
                                          params.size(), params.data()),
                KAN_OK);
      ASSERT_EQ(kan_replay_writer_append_scaled(w, step, scale, jvp.data()),
                KAN_OK);
    }
  }
  EXPECT_EQ(kan_replay_writer_append_scaled(w, 99, NAN, jvp.data()),
            KAN_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);

  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.nsteps, 25u);
  EXPECT_STREQ(rl.init_checkpoint, "init.safetensors");
  EXPECT_EQ(rl.config.seed, cfg.seed);
  EXPECT_EQ(rl.lr_scale[1], 1.0);
  EXPECT_EQ(rl.lr_scale[24], 1.0 - 24 / 40.0);
  Model r = init;
  auto rp = r.params();
  std::swap(rp[0], rp[1]); // matched by name, not position
  ASSERT_EQ(kan_replay_apply(&rl, rp.size(), rp.data()), KAN_OK)
      << kan_last_error();
  kan_replay_log_free(&rl);
  ASSERT_NE(0, std::memcmp(r.a.data(), init.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.a.data(), m.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.b.data(), m.b.data(), r.b.size() * 4));

  // A truncated log (half a record) is rejected and the file is named.
  auto full = fs::file_size(log);
  fs::resize_file(log, full - 5);
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
  EXPECT_NE(std::string(kan_last_error()).find(log.string()),
            std::string::npos);
  EXPECT_NE(std::string(kan_last_error()).find("truncated"), std::string::npos);
}

// Logs written before lr_scale existed (version 1: records without it) are
// read with a scale of 1.
TEST(Replay, ReadsVersionOneLogs) {
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 4, 9, 1e-2, 0.05};
  std::vector<double> a(50, 0.5);
  kan_param p{"w", KAN_STREAM_ID(0, 0), KAN_DTYPE_F64, a.size(), a.data()};
  const fs::path log = tempDir() / "v2.kanlog", old = tempDir() / "v1.kanlog";
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, nullptr, 1, &p, &w),
            KAN_OK);
  const double jvp[2][4] = {{1, -2, 3, 0.5}, {-1, 4, 0.25, 2}};
  for (uint32_t s = 0; s < 2; ++s)
    ASSERT_EQ(kan_replay_writer_append(w, s, jvp[s]), KAN_OK);
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);
  // Rewrite as version 1: version field 1, the 8-byte scale dropped.
  std::ifstream in(log, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const size_t rec2 = 16 + 8 * 4, hdr = bytes.size() - 2 * rec2;
  ASSERT_EQ(bytes[8], 2);
  std::string v1 = bytes.substr(0, hdr);
  v1[8] = 1;
  for (size_t s = 0; s < 2; ++s)
    v1 += bytes.substr(hdr + s * rec2, 8) +
          bytes.substr(hdr + s * rec2 + 16, 8 * 4);
  std::ofstream(old, std::ios::binary) << v1;
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(old.c_str(), &rl), KAN_OK) << kan_last_error();
  ASSERT_EQ(rl.nsteps, 2u);
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(rl.lr_scale[s], 1.0);
    for (size_t d = 0; d < 4; ++d)
      EXPECT_EQ(rl.jvp[s * 4 + d], jvp[s][d]);
  }
  kan_replay_log_free(&rl);
  // Version 3 does not exist.
  v1[8] = 3;
  std::ofstream(old, std::ios::binary | std::ios::trunc) << v1;
  EXPECT_EQ(kan_replay_read(old.c_str(), &rl), KAN_ERR_UNSUPPORTED);
}

TEST(Replay, FgNormalBitExact) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 8, 0xdeadbeefcafeULL,
                       1e-2, 0};
  runReplay(cfg, "fg_normal");
}

TEST(Replay, FgRademacherBitExact) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_RADEMACHER, 3, 5, 3e-3, 0};
  runReplay(cfg, "fg_rademacher");
}

TEST(Replay, TernarySparseBitExact) {
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 16, 77, 3e-3, 0.02};
  runReplay(cfg, "ternary");
}

TEST(Replay, RejectsMismatchedParametersAndBadFiles) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 2, 1, 0.1, 0};
  std::vector<double> a(10);
  kan_param p{"w", 0, KAN_DTYPE_F64, a.size(), a.data()};
  const fs::path log = tempDir() / "mismatch.kanlog";
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, nullptr, 1, &p, &w),
            KAN_OK);
  double jvp[2] = {1, 2};
  ASSERT_EQ(kan_replay_writer_append(w, 0, jvp), KAN_OK);
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK);
  kan_param q = p;
  q.size = 9;
  EXPECT_EQ(kan_replay_apply(&rl, 1, &q), KAN_ERR_MISMATCH);
  q = p;
  q.name = "other";
  EXPECT_EQ(kan_replay_apply(&rl, 1, &q), KAN_ERR_NOT_FOUND);
  kan_replay_log_free(&rl);
  { std::ofstream(log, std::ios::binary) << "NOTALOG!xxxxxxxxxxxxxxxxxxxxxx"; }
  EXPECT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
  EXPECT_NE(std::string(kan_last_error()).find("bad magic"), std::string::npos);
}

TEST(Optimizer, FgDescendsAQuadratic) {
  // L = 0.5 |theta - target|^2, a_i = grad . v_i computed by regenerating
  // v_i: forward-gradient steps must reduce the loss.
  const size_t size = 64;
  std::mt19937 rng(34);
  auto theta = randomVector(size, rng), target = randomVector(size, rng);
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 16, 9, 0.05, 0};
  kan_param p{"t", 0, KAN_DTYPE_F64, size, theta.data()};
  auto loss = [&] {
    double s = 0;
    for (size_t j = 0; j < size; ++j)
      s += 0.5 * (theta[j] - target[j]) * (theta[j] - target[j]);
    return s;
  };
  const double l0 = loss();
  std::vector<double> v(size), jvp(cfg.ndir);
  for (uint32_t step = 0; step < 200; ++step) {
    for (uint32_t i = 0; i < cfg.ndir; ++i) {
      kan_perturb_dense_f64(cfg.seed, step, i, 0, cfg.dist, size, v.data());
      jvp[i] = 0;
      for (size_t j = 0; j < size; ++j)
        jvp[i] += (theta[j] - target[j]) * v[j];
    }
    ASSERT_EQ(kan_optimizer_step(&cfg, step, jvp.data(), 1, &p), KAN_OK);
  }
  EXPECT_LT(loss(), 0.2 * l0);
}

TEST(Optimizer, RejectsBadConfig) {
  double t[2] = {0, 0}, jvp[1] = {1};
  kan_param p{"t", 0, KAN_DTYPE_F64, 2, t};
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 1, 1, 0.1, 0.0};
  EXPECT_EQ(kan_optimizer_step(&cfg, 0, jvp, 1, &p), KAN_ERR_INVALID_ARGUMENT);
  cfg.density = 0.5;
  cfg.ndir = 0;
  EXPECT_EQ(kan_optimizer_step(&cfg, 0, jvp, 1, &p), KAN_ERR_INVALID_ARGUMENT);
  cfg.ndir = 1;
  p.dtype = KAN_DTYPE_I32;
  EXPECT_EQ(kan_optimizer_step(&cfg, 0, jvp, 1, &p), KAN_ERR_INVALID_ARGUMENT);
}

} // namespace
