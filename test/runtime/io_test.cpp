//===- io_test.cpp - NPY, safetensors, IDX and CSV readers and writers ----===//
#include "kanrt/kanrt.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

class IoTest : public ::testing::Test {
protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("kanrt_io_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string write(const std::string &name, const std::string &bytes) {
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

/// The last error names the file and contains `what`.
::testing::AssertionResult errorNames(const std::string &path,
                                      const std::string &what) {
  std::string msg = kan_last_error();
  if (msg.find(path) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << msg << "' lacks " << path;
  if (msg.find(what) == std::string::npos)
    return ::testing::AssertionFailure() << "'" << msg << "' lacks " << what;
  return ::testing::AssertionSuccess();
}

std::string npyBytes(const std::string &dict, size_t dataBytes, int major = 1) {
  std::string h = dict;
  size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.size() + 1) % 64)
    h += ' ';
  h += '\n';
  std::string s = "\x93NUMPY";
  s += char(major);
  s += char(0);
  if (major == 1) {
    s += char(h.size() & 0xff);
    s += char(h.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i)
      s += char((h.size() >> (8 * i)) & 0xff);
  }
  s += h;
  s += std::string(dataBytes, '\0');
  return s;
}

kan_tensor makeTensor(kan_dtype dt, std::vector<size_t> shape) {
  kan_tensor t;
  EXPECT_EQ(kan_tensor_alloc(&t, dt, shape.size(), shape.data()), KAN_OK);
  return t;
}

TEST_F(IoTest, NpyRoundTrip) {
  for (kan_dtype dt : {KAN_DTYPE_F64, KAN_DTYPE_F32, KAN_DTYPE_U8,
                       KAN_DTYPE_I32, KAN_DTYPE_I64}) {
    kan_tensor t = makeTensor(dt, {3, 4, 5});
    auto *bytes = static_cast<unsigned char *>(t.data);
    for (size_t i = 0; i < 60 * kan_dtype_size(dt); ++i)
      bytes[i] = static_cast<unsigned char>(i * 7 % 61); // finite floats
    std::string p = (dir / "rt.npy").string();
    ASSERT_EQ(kan_npy_write(p.c_str(), &t), KAN_OK) << kan_last_error();
    EXPECT_FALSE(fs::exists(p + ".tmp." + std::to_string(::getpid())));
    kan_tensor r;
    ASSERT_EQ(kan_npy_read(p.c_str(), KAN_IO_CHECK_FINITE, &r), KAN_OK)
        << kan_last_error();
    EXPECT_EQ(r.dtype, dt);
    ASSERT_EQ(r.ndim, 3u);
    EXPECT_EQ(r.shape[0], 3u);
    EXPECT_EQ(r.shape[2], 5u);
    EXPECT_EQ(0, std::memcmp(r.data, t.data, 60 * kan_dtype_size(dt)));
    kan_tensor_free(&r);
    kan_tensor_free(&t);
  }
  // 1-d and scalar shapes, and versions 2.0 / 3.0.
  for (int major : {1, 2, 3}) {
    auto p = write("v.npy", npyBytes("{'descr': '<f8', 'fortran_order': "
                                     "False, 'shape': (2,), }",
                                     16, major));
    kan_tensor r;
    ASSERT_EQ(kan_npy_read(p.c_str(), 0, &r), KAN_OK) << kan_last_error();
    EXPECT_EQ(r.ndim, 1u);
    kan_tensor_free(&r);
  }
  auto p = write("s.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (), }",
                                   4));
  kan_tensor r;
  ASSERT_EQ(kan_npy_read(p.c_str(), 0, &r), KAN_OK) << kan_last_error();
  EXPECT_EQ(r.ndim, 0u);
  kan_tensor_free(&r);
}

// A kill during an atomic write leaves path.tmp.<pid>; the next write of the
// same path removes those of processes that are gone, and only those.
TEST_F(IoTest, AtomicWriteRemovesStaleTemporaries) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0)
    _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string p = (dir / "w.npy").string();
  const std::string dead = p + ".tmp." + std::to_string(child);
  const std::string live = p + ".tmp." + std::to_string(::getppid());
  const std::string other = (dir / "v.npy").string() + ".tmp." +
                            std::to_string(child);
  for (const std::string *f : {&dead, &live, &other})
    write(fs::path(*f).filename().string(), "partial");
  kan_tensor t = makeTensor(KAN_DTYPE_F64, {2});
  ASSERT_EQ(kan_npy_write(p.c_str(), &t), KAN_OK) << kan_last_error();
  kan_tensor_free(&t);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));  // its writer may still be running
  EXPECT_TRUE(fs::exists(other)); // a temporary of another file
  EXPECT_TRUE(fs::exists(p));
}

TEST_F(IoTest, NpyRejectsMalformed) {
  const std::string good =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (10, 10), }";
  struct Case {
    std::string name, bytes, what;
    kan_status st;
  } cases[] = {
      {"short.npy", npyBytes(good, 320), "header says 100 elements but file "
                                          "holds 320 data bytes (40 elements)",
       KAN_ERR_FORMAT},
      {"long.npy", npyBytes(good, 808), "header says 100 elements",
       KAN_ERR_FORMAT},
      {"magic.npy", "\x93NUMPZ\x01\x00\x00\x00", "bad magic", KAN_ERR_FORMAT},
      {"empty.npy", "", "bad magic", KAN_ERR_FORMAT},
      {"version.npy", npyBytes(good, 800).replace(6, 1, "\x04"),
       "version 4.0", KAN_ERR_UNSUPPORTED},
      {"fortran.npy",
       npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                32),
       "fortran_order True", KAN_ERR_UNSUPPORTED},
      {"bigendian.npy",
       npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                16),
       "unsupported dtype '>f8'", KAN_ERR_UNSUPPORTED},
      {"complex.npy",
       npyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }",
                32),
       "unsupported dtype", KAN_ERR_UNSUPPORTED},
      {"overflow.npy",
       npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                "(4294967296, 4294967296, 4294967296), }",
                0),
       "overflows", KAN_ERR_OVERFLOW},
      {"rank.npy",
       npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                "(1,1,1,1,1,1,1,1,1), }",
                8),
       "dimensions", KAN_ERR_UNSUPPORTED},
      {"noshape.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, }", 8),
       "lacks", KAN_ERR_FORMAT},
      {"garbage.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, "
                               "'shape': (1,), 'x': 1}",
                               8),
       "unexpected header key", KAN_ERR_FORMAT},
      {"negative.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, "
                                "'shape': (-1,), }",
                                8),
       "malformed 'shape'", KAN_ERR_FORMAT},
  };
  for (const Case &c : cases) {
    auto p = write(c.name, c.bytes);
    kan_tensor r;
    EXPECT_EQ(kan_npy_read(p.c_str(), 0, &r), c.st) << c.name;
    EXPECT_TRUE(errorNames(p, c.what)) << c.name;
    EXPECT_EQ(r.data, nullptr);
  }
  // Header length pointing past the end of the file.
  std::string s = npyBytes(good, 800).substr(0, 40);
  auto p = write("hlen.npy", s);
  kan_tensor r;
  EXPECT_EQ(kan_npy_read(p.c_str(), 0, &r), KAN_ERR_FORMAT);
  EXPECT_TRUE(errorNames(p, "header length"));
  // Missing file.
  std::string missing = (dir / "missing.npy").string();
  EXPECT_EQ(kan_npy_read(missing.c_str(), 0, &r), KAN_ERR_IO);
  EXPECT_TRUE(errorNames(missing, "cannot open"));
}

TEST_F(IoTest, NpyFiniteCheckIsAFlag) {
  kan_tensor t = makeTensor(KAN_DTYPE_F32, {4});
  static_cast<float *>(t.data)[2] = NAN;
  std::string p = (dir / "nan.npy").string();
  ASSERT_EQ(kan_npy_write(p.c_str(), &t), KAN_OK);
  kan_tensor r;
  EXPECT_EQ(kan_npy_read(p.c_str(), KAN_IO_CHECK_FINITE, &r),
            KAN_ERR_NONFINITE);
  EXPECT_TRUE(errorNames(p, "element 2 is NaN"));
  ASSERT_EQ(kan_npy_read(p.c_str(), 0, &r), KAN_OK);
  kan_tensor_free(&r);
  kan_tensor_free(&t);
}

TEST_F(IoTest, SafetensorsRoundTripWithMetadata) {
  kan_tensor_map m;
  kan_tensor_map_init(&m);
  kan_tensor g = makeTensor(KAN_DTYPE_F64, {2, 12});
  for (int i = 0; i < 24; ++i)
    static_cast<double *>(g.data)[i] = i * 0.25;
  ASSERT_EQ(kan_tensor_map_add_move(&m, "layers.0.grid", &g), KAN_OK);
  kan_tensor w = makeTensor(KAN_DTYPE_F32, {3, 2, 8});
  static_cast<float *>(w.data)[5] = 1.5f;
  ASSERT_EQ(kan_tensor_map_add_copy(&m, "layers.0.spline_weight", &w), KAN_OK);
  kan_tensor_free(&w);
  kan_tensor e = makeTensor(KAN_DTYPE_I64, {0});
  ASSERT_EQ(kan_tensor_map_add_move(&m, "empty \"quoted\"", &e), KAN_OK);
  ASSERT_EQ(kan_tensor_map_set_meta(&m, "grid_size", "5"), KAN_OK);
  ASSERT_EQ(kan_tensor_map_set_meta(&m, "spline_order", "3"), KAN_OK);
  EXPECT_EQ(kan_tensor_map_add_move(&m, "layers.0.grid", &g),
            KAN_ERR_INVALID_ARGUMENT);
  std::string p = (dir / "m.safetensors").string();
  ASSERT_EQ(kan_safetensors_write(p.c_str(), &m), KAN_OK) << kan_last_error();
  kan_tensor_map r;
  ASSERT_EQ(kan_safetensors_read(p.c_str(), KAN_IO_CHECK_FINITE, &r), KAN_OK)
      << kan_last_error();
  ASSERT_EQ(r.count, 3u);
  const kan_tensor *rg = kan_tensor_map_find(&r, "layers.0.grid");
  ASSERT_NE(rg, nullptr);
  EXPECT_EQ(rg->dtype, KAN_DTYPE_F64);
  EXPECT_EQ(rg->shape[1], 12u);
  EXPECT_EQ(0, std::memcmp(rg->data, m.tensors[0].data, 24 * 8));
  const kan_tensor *rw = kan_tensor_map_find(&r, "layers.0.spline_weight");
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(static_cast<float *>(rw->data)[5], 1.5f);
  EXPECT_NE(kan_tensor_map_find(&r, "empty \"quoted\""), nullptr);
  EXPECT_STREQ(kan_tensor_map_get_meta(&r, "grid_size"), "5");
  EXPECT_STREQ(kan_tensor_map_get_meta(&r, "spline_order"), "3");
  // Header length is a multiple of 8 as the format requires.
  std::ifstream f(p, std::ios::binary);
  unsigned char len[8];
  f.read(reinterpret_cast<char *>(len), 8);
  EXPECT_EQ(len[0] % 8, 0);
  kan_tensor_map_free(&r);
  kan_tensor_map_free(&m);
}

std::string stBytes(const std::string &json, size_t dataBytes) {
  std::string s(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    s[i] = char((n >> (8 * i)) & 0xff);
  return s + json + std::string(dataBytes, '\0');
}

TEST_F(IoTest, SafetensorsRejectsMalformed) {
  struct Case {
    std::string name, bytes, what;
    kan_status st;
  } cases[] = {
      {"tiny.st", "abc", "too short", KAN_ERR_FORMAT},
      {"hlen.st", stBytes("{}", 0).replace(0, 1, "\x40"), "header length",
       KAN_ERR_FORMAT},
      {"json.st", stBytes("{\"a\":{\"dtype\":\"F64\",}}", 0), "invalid header",
       KAN_ERR_FORMAT},
      {"notobj.st", stBytes("[1,2]", 0), "not a JSON object", KAN_ERR_FORMAT},
      {"dtype.st",
       stBytes("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
               2),
       "unsupported dtype 'F16'", KAN_ERR_UNSUPPORTED},
      {"size.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}",
               8),
       "the shape needs 16", KAN_ERR_FORMAT},
      {"past.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
               8),
       "data section holds 8 bytes", KAN_ERR_FORMAT},
      {"overlap.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
               "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}",
               16),
       "overlaps", KAN_ERR_FORMAT},
      {"hole.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}",
               16),
       "not covered", KAN_ERR_FORMAT},
      {"dup.st",
       stBytes("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
               "\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
               0),
       "duplicate object key", KAN_ERR_FORMAT},
      {"overflow.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,"
               "4294967296],\"data_offsets\":[0,8]}}",
               8),
       "overflows", KAN_ERR_OVERFLOW},
      {"negshape.st",
       stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[-1],\"data_offsets\":[0,8]}}",
               8),
       "shape[0]", KAN_ERR_FORMAT},
      {"meta.st", stBytes("{\"__metadata__\":{\"k\":3}}", 0), "not a string",
       KAN_ERR_FORMAT},
      {"deep.st", stBytes(std::string(100, '[') + std::string(100, ']'), 0),
       "nesting too deep", KAN_ERR_FORMAT},
      {"extra.st",
       stBytes("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0],"
               "\"x\":1}}",
               0),
       "unknown field", KAN_ERR_FORMAT},
  };
  for (const Case &c : cases) {
    auto p = write(c.name, c.bytes);
    kan_tensor_map r;
    EXPECT_EQ(kan_safetensors_read(p.c_str(), 0, &r), c.st) << c.name;
    EXPECT_TRUE(errorNames(p, c.what)) << c.name;
    EXPECT_EQ(r.count, 0u);
  }
  // Non-finite data with the flag.
  std::string bytes =
      stBytes("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
              0);
  double inf = INFINITY;
  bytes.append(reinterpret_cast<const char *>(&inf), 8);
  auto p = write("inf.st", bytes);
  kan_tensor_map r;
  EXPECT_EQ(kan_safetensors_read(p.c_str(), KAN_IO_CHECK_FINITE, &r),
            KAN_ERR_NONFINITE);
  EXPECT_TRUE(errorNames(p, "'a' element 0"));
  ASSERT_EQ(kan_safetensors_read(p.c_str(), 0, &r), KAN_OK);
  kan_tensor_map_free(&r);
}

std::string idxBytes(std::vector<uint32_t> dims, size_t dataBytes,
                     unsigned char type = 8) {
  std::string s = {0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int i = 3; i >= 0; --i)
      s += char((d >> (8 * i)) & 0xff);
  for (size_t i = 0; i < dataBytes; ++i)
    s += char(i & 0xff);
  return s;
}

TEST_F(IoTest, IdxPlainAndGzip) {
  std::string raw = idxBytes({3, 4, 5}, 60);
  auto p = write("a-idx3-ubyte", raw);
  kan_tensor t;
  ASSERT_EQ(kan_idx_read(p.c_str(), &t), KAN_OK) << kan_last_error();
  EXPECT_EQ(t.dtype, KAN_DTYPE_U8);
  ASSERT_EQ(t.ndim, 3u);
  EXPECT_EQ(t.shape[0], 3u);
  EXPECT_EQ(t.shape[2], 5u);
  EXPECT_EQ(static_cast<unsigned char *>(t.data)[59], 59);
  kan_tensor_free(&t);
  std::string gz = (dir / "a-idx3-ubyte.gz").string();
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, raw.data(), raw.size());
  gzclose(f);
  ASSERT_EQ(kan_idx_read(gz.c_str(), &t), KAN_OK) << kan_last_error();
  EXPECT_EQ(t.shape[1], 4u);
  EXPECT_EQ(static_cast<unsigned char *>(t.data)[7], 7);
  kan_tensor_free(&t);
  // Truncated gzip stream.
  auto whole = fs::file_size(gz);
  fs::resize_file(gz, whole - 10);
  EXPECT_NE(kan_idx_read(gz.c_str(), &t), KAN_OK);
  EXPECT_TRUE(errorNames(gz, ""));
}

TEST_F(IoTest, IdxRejectsMalformed) {
  struct Case {
    std::string name, bytes, what;
    kan_status st;
  } cases[] = {
      {"short", idxBytes({10, 10}, 40), "header says 100 elements but file "
                                        "holds 40",
       KAN_ERR_FORMAT},
      {"magic", "\x01\x00\x08\x01", "bad magic", KAN_ERR_FORMAT},
      {"type", idxBytes({2}, 8, 0x0D), "element type 0x0d", KAN_ERR_UNSUPPORTED},
      {"rank0", idxBytes({}, 0), "rank 0", KAN_ERR_UNSUPPORTED},
      {"header", idxBytes({10, 10}, 0).substr(0, 9), "truncated IDX header",
       KAN_ERR_FORMAT},
      {"huge", idxBytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, 4),
       "overflow", KAN_ERR_OVERFLOW},
  };
  for (const Case &c : cases) {
    auto p = write(c.name, c.bytes);
    kan_tensor t;
    EXPECT_EQ(kan_idx_read(p.c_str(), &t), c.st) << c.name;
    EXPECT_TRUE(errorNames(p, c.what)) << c.name;
  }
}

TEST_F(IoTest, CsvReadsNumbers) {
  auto p = write("d.csv", "a,b,c\n1, 2.5 ,-3e2\r\n\n4,5,6\n");
  kan_tensor t;
  ASSERT_EQ(kan_csv_read(p.c_str(), 1, KAN_IO_CHECK_FINITE, &t), KAN_OK)
      << kan_last_error();
  ASSERT_EQ(t.ndim, 2u);
  EXPECT_EQ(t.shape[0], 2u);
  EXPECT_EQ(t.shape[1], 3u);
  auto *d = static_cast<double *>(t.data);
  EXPECT_EQ(d[1], 2.5);
  EXPECT_EQ(d[2], -300.0);
  EXPECT_EQ(d[5], 6.0);
  kan_tensor_free(&t);
}

TEST_F(IoTest, CsvRejectsMalformedWithLineAndColumn) {
  auto p = write("bad.csv", "1,2,3\n4,x5,6\n");
  kan_tensor t;
  EXPECT_EQ(kan_csv_read(p.c_str(), 0, 0, &t), KAN_ERR_FORMAT);
  EXPECT_TRUE(errorNames(p, p + ":2:3: 'x5' is not a number"));
  p = write("ragged.csv", "h\n1,2,3\n4,5\n");
  EXPECT_EQ(kan_csv_read(p.c_str(), 1, 0, &t), KAN_ERR_FORMAT);
  EXPECT_TRUE(errorNames(p, ":3:"));
  EXPECT_TRUE(errorNames(p, "has 2 columns but the first row has 3"));
  p = write("long.csv", "1,2\n3,4,5\n");
  EXPECT_EQ(kan_csv_read(p.c_str(), 0, 0, &t), KAN_ERR_FORMAT);
  EXPECT_TRUE(errorNames(p, ":2:5:"));
  p = write("nan.csv", "1,nan\n");
  EXPECT_EQ(kan_csv_read(p.c_str(), 0, KAN_IO_CHECK_FINITE, &t),
            KAN_ERR_NONFINITE);
  EXPECT_TRUE(errorNames(p, ":1:3: value is NaN"));
  p = write("empty.csv", "1,,3\n");
  EXPECT_EQ(kan_csv_read(p.c_str(), 0, 0, &t), KAN_ERR_FORMAT);
  EXPECT_TRUE(errorNames(p, ":1:3:"));
  p = write("hex.csv", "0x10\n");
  EXPECT_EQ(kan_csv_read(p.c_str(), 0, 0, &t), KAN_ERR_FORMAT);
}

TEST(Status, StringsAndVersion) {
  EXPECT_STREQ(kan_status_string(KAN_OK), "ok");
  EXPECT_STREQ(kan_status_string(KAN_ERR_FORMAT), "format error");
  EXPECT_EQ(std::string(kan_version_string()),
            std::to_string(KANRT_VERSION_MAJOR) + "." +
                std::to_string(KANRT_VERSION_MINOR) + "." +
                std::to_string(KANRT_VERSION_PATCH));
  kan_clear_error();
  EXPECT_STREQ(kan_last_error(), "");
}

} // namespace
