//===- optim_test.cpp - optimisers, documented arithmetic, replay log -----===//
#include "kanrt/kanrt.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
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
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, "init.safetensors", 0,
                                   params.size(), params.data(), &w),
            KAN_OK)
      << kan_last_error();
  std::vector<double> jvp(cfg.ndir);
  Model after24;
  for (uint32_t step = 0; step < 25; ++step) {
    if (step == 24)
      after24 = m;
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

  EXPECT_EQ(rl.dropped_records, 0u);

  // A torn tail (a crash or a full disk mid-append: part of the last record)
  // is dropped and counted; the whole records before it replay.
  const size_t rec = 16 + 8 * cfg.ndir + 4;
  auto full = fs::file_size(log);
  fs::resize_file(log, full - 5);
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.nsteps, 24u);
  EXPECT_EQ(rl.dropped_records, 1u);
  EXPECT_EQ(rl.dropped_bytes, rec - 5);
  r = init;
  rp = r.params();
  ASSERT_EQ(kan_replay_apply(&rl, rp.size(), rp.data()), KAN_OK);
  kan_replay_log_free(&rl);
  EXPECT_EQ(0, std::memcmp(r.a.data(), after24.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.b.data(), after24.b.data(), r.b.size() * 4));
}

std::string readBytes(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void writeBytes(const fs::path &p, const std::string &bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// A log of three steps of one parameter; returns the header size.
size_t writeSmallLog(const fs::path &log, std::vector<double> &a,
                     uint32_t start = 0) {
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 4, 9, 1e-2, 0.05};
  kan_param p{"w", KAN_STREAM_ID(0, 0), KAN_DTYPE_F64, a.size(), a.data()};
  kan_replay_writer *w = nullptr;
  EXPECT_EQ(kan_replay_writer_open(log.c_str(), &cfg, "i.safetensors", start,
                                   1, &p, &w),
            KAN_OK);
  const double jvp[4] = {1, -2, 3, 0.5};
  for (uint32_t s = start; s < start + 3; ++s)
    EXPECT_EQ(kan_replay_writer_append(w, s, jvp), KAN_OK);
  EXPECT_EQ(kan_replay_writer_close(w), KAN_OK);
  return fs::file_size(log) - 3 * (16 + 8 * 4 + 4);
}

// Every record carries a CRC-32: a damaged last record is a torn tail, a
// damaged record with an intact one after it is corruption.
TEST(Replay, ChecksumsSeparateTornTailsFromCorruption) {
  std::vector<double> a(50, 0.5);
  const fs::path log = tempDir() / "crc.kanlog";
  const size_t hdr = writeSmallLog(log, a), rec = 16 + 8 * 4 + 4;
  const std::string good = readBytes(log);
  kan_replay_log rl;
  std::string bad = good;
  bad[hdr + 2 * rec + 20] ^= 1; // a payload bit of the last record
  writeBytes(log, bad);
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.nsteps, 2u);
  EXPECT_EQ(rl.dropped_records, 1u);
  EXPECT_EQ(rl.dropped_bytes, rec);
  kan_replay_log_free(&rl);
  // Zeros after the records (blocks allocated but never written): dropped.
  writeBytes(log, good + std::string(2 * rec + 7, '\0'));
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.nsteps, 3u);
  EXPECT_EQ(rl.dropped_records, 3u);
  kan_replay_log_free(&rl);
  bad = good;
  bad[hdr + rec + 20] ^= 1; // the middle record
  writeBytes(log, bad);
  EXPECT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
  EXPECT_NE(std::string(kan_last_error()).find("step record 1 is damaged"),
            std::string::npos)
      << kan_last_error();
  bad = good;
  bad[20] ^= 1; // the header (ndir)
  writeBytes(log, bad);
  EXPECT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
  bad = good;
  bad[hdr - 10] ^= 1; // the weights hash
  writeBytes(log, bad);
  EXPECT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
  EXPECT_NE(std::string(kan_last_error()).find("header checksum"),
            std::string::npos);
  // A partial header is not a log.
  writeBytes(log, good.substr(0, hdr - 3));
  EXPECT_EQ(kan_replay_read(log.c_str(), &rl), KAN_ERR_FORMAT);
}

// The log names its initial weights by content: other weights of the same
// shape are refused, and the start step is recorded.
TEST(Replay, ChecksTheInitialWeightsHash) {
  std::vector<double> a(50, 0.5);
  const std::vector<double> init = a;
  const fs::path log = tempDir() / "hash.kanlog";
  writeSmallLog(log, a, 40);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK);
  EXPECT_EQ(rl.version, 3u);
  EXPECT_EQ(rl.start_step, 40u);
  EXPECT_EQ(rl.steps[0], 40u);
  ASSERT_TRUE(rl.has_weights_sha256);
  std::vector<double> other = init;
  other[17] = std::nextafter(other[17], 1.0);
  kan_param p{"w", KAN_STREAM_ID(0, 0), KAN_DTYPE_F64, other.size(),
              other.data()};
  EXPECT_EQ(kan_replay_apply(&rl, 1, &p), KAN_ERR_MISMATCH);
  EXPECT_NE(std::string(kan_last_error()).find("not the ones the log starts"),
            std::string::npos);
  EXPECT_EQ(other[17], std::nextafter(init[17], 1.0)); // left untouched
  std::vector<double> same = init;
  p.data = same.data();
  EXPECT_EQ(kan_replay_apply(&rl, 1, &p), KAN_OK) << kan_last_error();
  kan_replay_log_free(&rl);
}

TEST(Replay, WeightsSha256) {
  // FIPS 180-4 SHA-256 of the parameters' bytes (checked with Python's
  // hashlib): empty, one block, and several blocks across two tensors.
  auto hex = [](const unsigned char *h) {
    std::string s;
    char b[3];
    for (int i = 0; i < 32; ++i)
      snprintf(b, sizeof b, "%02x", h[i]), s += b;
    return s;
  };
  unsigned char h[32];
  kan_weights_sha256(0, nullptr, h);
  EXPECT_EQ(hex(h),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  double abc;
  std::memcpy(&abc, "abcdefgh", 8);
  kan_param one{"x", 0, KAN_DTYPE_F64, 1, &abc};
  kan_weights_sha256(1, &one, h);
  EXPECT_EQ(hex(h),
            "9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab");
  std::vector<double> d(1000);
  std::vector<float> f(7);
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = i * 0.5;
  for (size_t i = 0; i < f.size(); ++i)
    f[i] = i * 0.25f;
  kan_param two[2] = {{"d", 0, KAN_DTYPE_F64, d.size(), d.data()},
                      {"f", 1, KAN_DTYPE_F32, f.size(), f.data()}};
  kan_weights_sha256(2, two, h);
  EXPECT_EQ(hex(h),
            "379de7134832e03e240e3159270ddc3097f00048f4fd8cb42e6b1e22997a1755");
}

// A full disk mid-append (here the file size limit, EFBIG): the append
// fails, the partial record is cut off, later appends fail, and the log
// reads back with every record written before.
TEST(Replay, WriteFailureLeavesAWholeLog) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 100, 3, 1e-2, 0};
  std::vector<double> a(20, 1.0);
  kan_param p{"w", 0, KAN_DTYPE_F64, a.size(), a.data()};
  const fs::path log = tempDir() / "efbig.kanlog";
  const size_t rec = 16 + 8 * 100 + 4;
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  void (*oldHandler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, nullptr, 0, 1, &p, &w),
            KAN_OK);
  const size_t hdr = fs::file_size(log);
  // Room for the header, two records and half of a third.
  struct rlimit lim = old;
  lim.rlim_cur = hdr + 2 * rec + rec / 2;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  std::vector<double> jvp(100, 0.25);
  kan_status st[4];
  for (uint32_t s = 0; s < 4; ++s)
    st[s] = kan_replay_writer_append(w, s, jvp.data());
  std::string err = kan_last_error();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, oldHandler);
  EXPECT_EQ(st[0], KAN_OK);
  EXPECT_EQ(st[1], KAN_OK);
  EXPECT_EQ(st[2], KAN_ERR_IO);
  EXPECT_EQ(st[3], KAN_ERR_IO);
  EXPECT_NE(err.find("an earlier append failed"), std::string::npos) << err;
  EXPECT_EQ(kan_replay_writer_close(w), KAN_OK);
  EXPECT_EQ(fs::file_size(log), hdr + 2 * rec);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.nsteps, 2u);
  EXPECT_EQ(rl.dropped_records, 0u);
  kan_replay_log_free(&rl);
}

// A run that keeps an earlier step's weights cuts its log back to that
// step; the records appended after the cut follow the kept ones.
TEST(Replay, TruncateKeepsTheFirstRecords) {
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 3, 5, 1e-2, 0.05};
  std::vector<double> a(20, 1.0);
  kan_param p{"w", 0, KAN_DTYPE_F64, a.size(), a.data()};
  const fs::path log = tempDir() / "truncate.kanlog";
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, nullptr, 0, 1, &p, &w),
            KAN_OK);
  const size_t hdr = fs::file_size(log);
  const size_t rec = 16 + 8 * 3 + 4;
  std::vector<double> jvp(3);
  for (uint32_t s = 0; s < 10; ++s) {
    jvp.assign(3, s + 0.5);
    ASSERT_EQ(kan_replay_writer_append(w, s, jvp.data()), KAN_OK);
  }
  EXPECT_EQ(kan_replay_writer_records(w), 10u);
  EXPECT_EQ(kan_replay_writer_truncate(w, 11), KAN_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(kan_replay_writer_truncate(w, 6), KAN_OK) << kan_last_error();
  EXPECT_EQ(kan_replay_writer_records(w), 6u);
  EXPECT_EQ(fs::file_size(log), hdr + 6 * rec);
  jvp.assign(3, -7.0);
  ASSERT_EQ(kan_replay_writer_append(w, 6, jvp.data()), KAN_OK);
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  ASSERT_EQ(rl.nsteps, 7u);
  EXPECT_EQ(rl.dropped_records, 0u);
  for (uint32_t s = 0; s < 7; ++s)
    EXPECT_EQ(rl.steps[s], s);
  EXPECT_EQ(rl.jvp[5 * 3], 5.5);
  EXPECT_EQ(rl.jvp[6 * 3], -7.0);
  kan_replay_log_free(&rl);
}

// Logs of earlier versions still read: version 2 (no start step, hash or
// checksums) and version 1 (records without lr_scale, read as 1), both with
// a partial last record dropped as a torn tail.
TEST(Replay, ReadsVersionOneAndTwoLogs) {
  std::vector<double> a(50, 0.5);
  const fs::path log = tempDir() / "v3.kanlog", old = tempDir() / "old.kanlog";
  const size_t hdr3 = writeSmallLog(log, a), rec3 = 16 + 8 * 4 + 4;
  const double jvp[4] = {1, -2, 3, 0.5};
  const std::string bytes = readBytes(log);
  ASSERT_EQ(bytes[8], 3);
  // Version 2: the header without start step, hash and CRC; records without
  // their CRC.
  std::string v2 = bytes.substr(0, hdr3 - 4 - 4 - 36) +
                   bytes.substr(hdr3 - 8, 4);
  v2[8] = 2;
  const size_t hdr2 = v2.size();
  for (size_t s = 0; s < 3; ++s)
    v2 += bytes.substr(hdr3 + s * rec3, rec3 - 4);
  // Version 1: no lr_scale either.
  std::string v1 = v2.substr(0, hdr2);
  v1[8] = 1;
  for (size_t s = 0; s < 3; ++s)
    v1 += v2.substr(hdr2 + s * (rec3 - 4), 8) +
          v2.substr(hdr2 + s * (rec3 - 4) + 16, 8 * 4);
  for (const std::string *v : {&v1, &v2}) {
    writeBytes(old, v->substr(0, v->size() - 3));
    kan_replay_log rl;
    ASSERT_EQ(kan_replay_read(old.c_str(), &rl), KAN_OK) << kan_last_error();
    EXPECT_EQ(rl.version, v == &v1 ? 1u : 2u);
    ASSERT_EQ(rl.nsteps, 2u);
    EXPECT_EQ(rl.dropped_records, 1u);
    EXPECT_FALSE(rl.has_weights_sha256);
    EXPECT_EQ(rl.start_step, 0u);
    for (size_t s = 0; s < 2; ++s) {
      EXPECT_EQ(rl.lr_scale[s], 1.0);
      for (size_t d = 0; d < 4; ++d)
        EXPECT_EQ(rl.jvp[s * 4 + d], jvp[d]);
    }
    kan_replay_log_free(&rl);
  }
  kan_replay_log rl;
  // Normal directions of a log older than version 5 were drawn with the C
  // library's log/sin/cos: refused, not replayed to other weights.
  std::string normal = v2;
  normal[16] = KAN_DIST_NORMAL;
  writeBytes(old, normal);
  EXPECT_EQ(kan_replay_read(old.c_str(), &rl), KAN_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(kan_last_error()).find("log/sin/cos"),
            std::string::npos)
      << kan_last_error();
  // Version 6 does not exist.
  v1[8] = 6;
  writeBytes(old, v1);
  EXPECT_EQ(kan_replay_read(old.c_str(), &rl), KAN_ERR_UNSUPPORTED);
}

TEST(Replay, NormalDirectionsWriteVersionFive) {
  std::vector<double> a(50, 0.5);
  const fs::path log = tempDir() / "normal.kanlog";
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 4, 9, 1e-2, 0.05};
  kan_param p{"w", KAN_STREAM_ID(0, 0), KAN_DTYPE_F64, a.size(), a.data()};
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, "", 0, 1, &p, &w),
            KAN_OK);
  const double jvp[4] = {1, -2, 3, 0.5};
  ASSERT_EQ(kan_replay_writer_append(w, 0, jvp), KAN_OK);
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);
  EXPECT_EQ(readBytes(log)[8], 5);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  EXPECT_EQ(rl.version, 5u);
  EXPECT_EQ(rl.nsteps, 1u);
  kan_replay_log_free(&rl);
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

// Momentum and Adam over the estimated update: the log (version 4) records
// the method, replay rebuilds weights and state bit for bit, from a fresh
// state or from the state a resumed run started with.
void runStateReplay(kan_optim_config cfg, const char *tag) {
  std::mt19937 rng(5);
  Model m{randomVector(200, rng), {}};
  auto bv = randomVector(900, rng);
  m.b.assign(bv.begin(), bv.end());
  auto params = m.params();
  kan_optim_state st;
  ASSERT_EQ(kan_optim_state_init(&st, &cfg, params.size(), params.data()),
            KAN_OK);
  const fs::path log = tempDir() / (std::string(tag) + ".kanlog");
  Model mid;
  kan_optim_state midState;
  std::vector<std::vector<double>> midM, midV;
  const Model init = m;
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, "", 0, params.size(),
                                   params.data(), &w),
            KAN_OK);
  std::vector<double> jvp(cfg.ndir);
  for (uint32_t step = 0; step < 12; ++step) {
    if (step == 6) {
      mid = m;
      for (size_t p = 0; p < st.nparams; ++p) {
        midM.emplace_back(st.m[p], st.m[p] + st.size[p]);
        midV.emplace_back(st.v[p] ? st.v[p] : st.m[p],
                          (st.v[p] ? st.v[p] : st.m[p]) + st.size[p]);
      }
    }
    for (auto &a : jvp)
      a = std::normal_distribution<double>()(rng);
    const double scale = 1.0 - step / 30.0;
    ASSERT_EQ(kan_optimizer_step_state(&cfg, step, jvp.data(), scale,
                                       params.size(), params.data(), &st),
              KAN_OK)
        << kan_last_error();
    ASSERT_EQ(kan_replay_writer_append_scaled(w, step, scale, jvp.data()),
              KAN_OK);
  }
  ASSERT_EQ(kan_replay_writer_close(w), KAN_OK);
  EXPECT_EQ(st.t, 12u);
  kan_replay_log rl;
  ASSERT_EQ(kan_replay_read(log.c_str(), &rl), KAN_OK) << kan_last_error();
  // Version 4 records the method; normal directions need version 5.
  EXPECT_EQ(rl.version, cfg.dist == KAN_DIST_NORMAL ? 5u : 4u);
  EXPECT_EQ(rl.config.method, cfg.method);
  EXPECT_EQ(rl.config.beta1, cfg.beta1);
  EXPECT_EQ(rl.config.beta2, cfg.beta2);
  EXPECT_EQ(rl.config.eps, cfg.eps);
  // From the start: a fresh state, the same weights.
  Model r = init;
  auto rp = r.params();
  ASSERT_EQ(kan_replay_apply(&rl, rp.size(), rp.data()), KAN_OK)
      << kan_last_error();
  EXPECT_EQ(0, std::memcmp(r.a.data(), m.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.b.data(), m.b.data(), r.b.size() * 4));
  // The second half from the mid-run state: the same weights and state.
  kan_replay_log half = rl;
  half.nsteps = 6;
  half.steps = rl.steps + 6;
  half.jvp = rl.jvp + 6 * cfg.ndir;
  half.lr_scale = rl.lr_scale + 6;
  half.has_weights_sha256 = 0;
  r = mid;
  rp = r.params();
  ASSERT_EQ(kan_optim_state_init(&midState, &cfg, rp.size(), rp.data()),
            KAN_OK);
  for (size_t p = 0; p < midState.nparams; ++p) {
    std::memcpy(midState.m[p], midM[p].data(), midM[p].size() * 8);
    if (midState.v[p])
      std::memcpy(midState.v[p], midV[p].data(), midV[p].size() * 8);
  }
  ASSERT_EQ(kan_optim_state_set_steps(&midState, &cfg, 6), KAN_OK);
  ASSERT_EQ(kan_replay_apply_state(&half, rp.size(), rp.data(), &midState),
            KAN_OK)
      << kan_last_error();
  EXPECT_EQ(0, std::memcmp(r.a.data(), m.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.b.data(), m.b.data(), r.b.size() * 4));
  for (size_t p = 0; p < st.nparams; ++p) {
    EXPECT_EQ(0, std::memcmp(midState.m[p], st.m[p], st.size[p] * 8));
    if (st.v[p])
      EXPECT_EQ(0, std::memcmp(midState.v[p], st.v[p], st.size[p] * 8));
  }
  EXPECT_EQ(midState.beta1_t, st.beta1_t);
  // Step by step (kan_replay_apply_steps, one record a call): the same
  // weights and state as one call over the whole log.
  r = init;
  rp = r.params();
  kan_optim_state piece;
  ASSERT_EQ(kan_optim_state_init(&piece, &cfg, rp.size(), rp.data()), KAN_OK);
  for (size_t i = 0; i < rl.nsteps; ++i)
    ASSERT_EQ(kan_replay_apply_steps(&rl, i, 1, rp.size(), rp.data(), &piece),
              KAN_OK)
        << kan_last_error();
  EXPECT_EQ(kan_replay_apply_steps(&rl, 11, 2, rp.size(), rp.data(), &piece),
            KAN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(0, std::memcmp(r.a.data(), m.a.data(), r.a.size() * 8));
  EXPECT_EQ(0, std::memcmp(r.b.data(), m.b.data(), r.b.size() * 4));
  for (size_t p = 0; p < st.nparams; ++p)
    EXPECT_EQ(0, std::memcmp(piece.m[p], st.m[p], st.size[p] * 8));
  EXPECT_EQ(piece.t, st.t);
  kan_optim_state_free(&piece);
  kan_replay_log_free(&rl);
  kan_optim_state_free(&midState);
  kan_optim_state_free(&st);
}

TEST(Replay, MomentumTernaryBitExact) {
  kan_optim_config cfg{KAN_OPT_TERNARY, KAN_DIST_SPARSE, 8, 41, 3e-3, 0.05,
                       KAN_METHOD_MOMENTUM, 0.9, 0, 0};
  runStateReplay(cfg, "momentum");
}

TEST(Replay, AdamFgBitExact) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 4, 42, 1e-3, 0,
                       KAN_METHOD_ADAM, 0.9, 0.999, 1e-8};
  runStateReplay(cfg, "adam");
}

// Adam's documented arithmetic on one element, against a direct evaluation.
// A caller that splits the elements across threads (kan_optim_begin once,
// then kan_optim_apply_range per part) gets kan_optim_apply's bits, parts
// that cross a parameter's end and empty parts included.
TEST(Optimizer, ApplyInRangesIsApply) {
  for (int method : {KAN_METHOD_SGD, KAN_METHOD_MOMENTUM, KAN_METHOD_ADAM}) {
    kan_optim_config cfg{KAN_OPT_ACTIVITY, KAN_DIST_NORMAL, 1, 0, 0.1, 0,
                         method, 0.9, 0.999, 1e-8};
    std::mt19937 rng(7);
    Model whole{randomVector(300, rng), {}};
    auto bv = randomVector(1200, rng);
    whole.b.assign(bv.begin(), bv.end());
    Model parts = whole;
    auto pw = whole.params(), pp = parts.params();
    kan_optim_state sw{}, sp{};
    ASSERT_EQ(kan_optim_state_init(&sw, &cfg, pw.size(), pw.data()), KAN_OK);
    ASSERT_EQ(kan_optim_state_init(&sp, &cfg, pp.size(), pp.data()), KAN_OK);
    for (int step = 0; step < 3; ++step) {
      auto ga = randomVector(300, rng), gb = randomVector(1200, rng);
      const double *g[2] = {ga.data(), gb.data()};
      ASSERT_EQ(kan_optim_apply(&cfg, &sw, 1e-2, pw.size(), pw.data(), g),
                KAN_OK);
      ASSERT_EQ(kan_optim_begin(&cfg, &sp, 1e-2, pp.size(), pp.data(), g),
                KAN_OK);
      const size_t cuts[] = {0, 0, 17, 299, 300, 301, 900, 1500};
      for (size_t c = 0; c + 1 < sizeof cuts / sizeof *cuts; ++c)
        kan_optim_apply_range(&cfg, &sp, 1e-2, pp.size(), pp.data(), g,
                              cuts[c], cuts[c + 1]);
    }
    EXPECT_EQ(0, std::memcmp(whole.a.data(), parts.a.data(), 300 * 8));
    EXPECT_EQ(0, std::memcmp(whole.b.data(), parts.b.data(), 1200 * 4));
    EXPECT_EQ(sw.t, sp.t);
    for (size_t p = 0; p < sw.nparams; ++p) {
      EXPECT_EQ(0, std::memcmp(sw.m[p], sp.m[p], sw.size[p] * 8));
      if (sw.v[p])
        EXPECT_EQ(0, std::memcmp(sw.v[p], sp.v[p], sw.size[p] * 8));
    }
    kan_optim_state_free(&sw);
    kan_optim_state_free(&sp);
  }
}

TEST(Optimizer, AdamFollowsTheDocumentedFormula) {
  kan_optim_config cfg{KAN_OPT_ACTIVITY, KAN_DIST_NORMAL, 1, 0, 0.1, 0,
                       KAN_METHOD_ADAM, 0.8, 0.9, 1e-3};
  double theta = 1.0, want = 1.0, m = 0, v = 0;
  kan_param p{"w", 0, KAN_DTYPE_F64, 1, &theta};
  kan_optim_state st;
  ASSERT_EQ(kan_optim_state_init(&st, &cfg, 1, &p), KAN_OK);
  const double gs[3] = {0.5, -2.0, 0.25};
  for (int t = 1; t <= 3; ++t) {
    const double *g = &gs[t - 1];
    ASSERT_EQ(kan_optim_apply(&cfg, &st, 0.1, 1, &p, &g), KAN_OK);
    m = 0.8 * m + 0.2 * gs[t - 1];
    v = 0.9 * v + 0.1 * gs[t - 1] * gs[t - 1];
    want -= 0.1 * (m / (1 - std::pow(0.8, t))) /
            (std::sqrt(v / (1 - std::pow(0.9, t))) + 1e-3);
    EXPECT_NEAR(theta, want, 1e-14);
  }
  kan_optim_state_free(&st);
  // An activity log cannot be applied from its scalars.
  kan_optim_config bad = cfg;
  bad.dist = KAN_DIST_SPARSE;
  EXPECT_EQ(kan_optim_config_check(&bad), KAN_ERR_INVALID_ARGUMENT);
  double coef, scale;
  const double a = 1;
  EXPECT_EQ(kan_optimizer_coefficients(&cfg, &a, &coef, &scale),
            KAN_ERR_INVALID_ARGUMENT);
  bad = cfg;
  bad.beta2 = 1.0;
  EXPECT_EQ(kan_optim_config_check(&bad), KAN_ERR_INVALID_ARGUMENT);
}

TEST(Replay, RejectsMismatchedParametersAndBadFiles) {
  kan_optim_config cfg{KAN_OPT_FG, KAN_DIST_NORMAL, 2, 1, 0.1, 0};
  std::vector<double> a(10);
  kan_param p{"w", 0, KAN_DTYPE_F64, a.size(), a.data()};
  const fs::path log = tempDir() / "mismatch.kanlog";
  kan_replay_writer *w = nullptr;
  ASSERT_EQ(kan_replay_writer_open(log.c_str(), &cfg, nullptr, 0, 1, &p, &w),
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
