//===- nmc-sim.cpp - Run or cost NMC4 FPU kernels without hardware --------===//
//
//   nmc-sim --check FILE.s
//       parse only; diagnostics as FILE:line:col: error: ...
//   nmc-sim FILE.s --call SYM --gemm M,N,KK [--f32] [--report]
//       run SYM as a GEMM tile kernel (A, Bt, C in banks 0, 1, 2, random
//       data), compare with a reference loop, print one JSON line
//   nmc-sim FILE.s --call SYM --axpy N [--report]
//       run SYM as kan_nmc_axpy_f64 (y += a[0] x, x and y in banks 1, 2,
//       random data), compare with the C loop, print one JSON line
//   nmc-sim --emit f64|f32 --m M
//       print the emitted tile kernel
//   nmc-sim --emit axpy
//       print the dense update's multiply-add kernel
//   nmc-sim --estimate f64|f32 --m M [--kk KK]
//       print estimateGemmTile() as JSON
//
//===----------------------------------------------------------------------===//
#include "kan/Target/NMQuad/Kernels/Axpy.h"
#include "kan/Target/NMQuad/Kernels/GemmTile.h"
#include "nmcsim/Simulator.h"
#include "nmcsim/TileCost.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace kan;

namespace {

int usage() {
  std::cerr << "usage: nmc-sim --check FILE.s\n"
               "       nmc-sim FILE.s --call SYM --gemm M,N,KK [--f32] "
               "[--report]\n"
               "       nmc-sim FILE.s --call SYM --axpy N [--report]\n"
               "       nmc-sim --emit f64|f32 --m M\n"
               "       nmc-sim --emit axpy\n"
               "       nmc-sim --estimate f64|f32 --m M [--kk KK]\n";
  return 2;
}

bool parseInt(const std::string &s, int &v) {
  char *end = nullptr;
  long x = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || x < -1000000 || x > 1000000)
    return false;
  v = static_cast<int>(x);
  return true;
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

/// y (n doubles, bank 2) += a[0] (bank 3) * x (bank 1); elements past n
/// must stay as they were.
int runAxpy(nmcsim::Simulator &sim, const std::string &sym, int n,
            bool report) {
  using namespace nmcsim;
  const int pad = 4;
  if (n < 0 || 2ull * (n + pad) > kBankWords) {
    std::cerr << "nmc-sim: --axpy N must be 0.." << kBankWords / 2 - pad
              << "\n";
    return 2;
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> x(n + pad), y(n + pad), got(n + pad);
  for (auto *v : {&x, &y})
    for (double &e : *v)
      e = dist(rng);
  double a = dist(rng);
  sim.writeDoubles(bankBase(3), &a, 1);
  sim.writeDoubles(bankBase(1), x.data(), x.size());
  sim.writeDoubles(bankBase(2), y.data(), y.size());
  if (!sim.call(sym, {CallArg::word(bankBase(3)), CallArg::word(bankBase(1)),
                      CallArg::word(bankBase(2)), CallArg::i32(n)})) {
    std::cerr << "nmc-sim: " << sim.error() << "\n";
    return 1;
  }
  sim.readDoubles(bankBase(2), got.data(), got.size());
  double maxRel = 0;
  int untouched = 1;
  for (int i = 0; i < n + pad; ++i) {
    if (i >= n) {
      untouched &= got[i] == y[i];
      continue;
    }
    double ref = y[i] + a * x[i];
    double scale = std::fabs(y[i]) + std::fabs(a * x[i]);
    maxRel = std::max(maxRel, std::fabs(got[i] - ref) / (scale > 0 ? scale : 1));
  }
  std::cout << "{\"symbol\":\"" << sym << "\",\"n\":" << n
            << ",\"max_rel_err\":" << maxRel
            << ",\"past_n_untouched\":" << (untouched ? "true" : "false");
  if (report)
    std::cout << ",\"report\":" << sim.stats().toJson(PerfConfig{});
  std::cout << "}\n";
  return maxRel < 1e-15 && untouched ? 0 : 1;
}

int runGemm(nmcsim::Simulator &sim, const std::string &sym, int m, int n,
            int kk, bool f32, bool report) {
  using namespace nmcsim;
  uint64_t ew = f32 ? 1 : 2;
  if (m <= 0 || n <= 0 || kk <= 0 || ew * m * kk > kBankWords ||
      ew * kk * n > kBankWords || ew * m * n > kBankWords) {
    std::cerr << "nmc-sim: --gemm sizes must be positive and each matrix "
                 "must fit one 64 KB bank\n";
    return 2;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> a(size_t(m) * kk), b(size_t(kk) * n), c(size_t(m) * n);
  for (auto *v : {&a, &b, &c})
    for (double &x : *v)
      x = f32 ? static_cast<float>(dist(rng)) : dist(rng);
  auto put = [&](uint32_t base, const std::vector<double> &v) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (f32) {
        float f = static_cast<float>(v[i]);
        sim.writeFloats(base + i, &f, 1);
      } else {
        sim.writeDoubles(base + 2 * i, &v[i], 1);
      }
    }
  };
  put(bankBase(0), a);
  put(bankBase(1), b);
  put(bankBase(2), c);
  if (!sim.call(sym, {CallArg::word(bankBase(0)), CallArg::word(bankBase(1)),
                      CallArg::word(bankBase(2)), CallArg::i32(m),
                      CallArg::i32(n), CallArg::i32(kk)})) {
    std::cerr << "nmc-sim: " << sim.error() << "\n";
    return 1;
  }
  double maxRel = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double ref = c[size_t(i) * n + j], scale = std::fabs(ref);
      for (int k = 0; k < kk; ++k) {
        ref += a[size_t(i) * kk + k] * b[size_t(k) * n + j];
        scale += std::fabs(a[size_t(i) * kk + k] * b[size_t(k) * n + j]);
      }
      double got;
      if (f32) {
        float f;
        sim.readFloats(bankBase(2) + uint32_t(i * n + j), &f, 1);
        got = f;
      } else {
        sim.readDoubles(bankBase(2) + 2 * uint32_t(i * n + j), &got, 1);
      }
      maxRel = std::max(maxRel, std::fabs(got - ref) / (scale > 0 ? scale : 1));
    }
  std::cout << "{\"symbol\":\"" << sym << "\",\"m\":" << m << ",\"n\":" << n
            << ",\"kk\":" << kk << ",\"max_rel_err\":" << maxRel;
  if (report)
    std::cout << ",\"report\":" << sim.stats().toJson(PerfConfig{});
  std::cout << "}\n";
  double tol = f32 ? 1e-5 : 1e-13;
  return maxRel < tol ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string file, sym, emit, estimate, gemm, axpy;
  bool check = false, f32 = false, report = false;
  int m = 0, kk = 256;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    std::string tmp;
    if (a == "--check") {
      check = true;
    } else if (a == "--f32") {
      f32 = true;
    } else if (a == "--report") {
      report = true;
    } else if (a == "--call") {
      if (!value(sym))
        return usage();
    } else if (a == "--gemm") {
      if (!value(gemm))
        return usage();
    } else if (a == "--axpy") {
      if (!value(axpy))
        return usage();
    } else if (a == "--emit") {
      if (!value(emit))
        return usage();
    } else if (a == "--estimate") {
      if (!value(estimate))
        return usage();
    } else if (a == "--m") {
      if (!value(tmp) || !parseInt(tmp, m))
        return usage();
    } else if (a == "--kk") {
      if (!value(tmp) || !parseInt(tmp, kk))
        return usage();
    } else if (!a.empty() && a[0] != '-' && file.empty()) {
      file = a;
    } else {
      std::cerr << "nmc-sim: unknown option '" << a << "'\n";
      return usage();
    }
  }

  if (emit == "axpy") {
    std::cout << nmquad::emitAxpyF64();
    return 0;
  }
  if (!emit.empty() || !estimate.empty()) {
    std::string p = emit.empty() ? estimate : emit;
    if (p != "f64" && p != "f32")
      return usage();
    nmquad::TileShape s;
    s.precision =
        p == "f64" ? nmquad::TilePrecision::F64 : nmquad::TilePrecision::F32;
    s.m = m;
    s.n = p == "f64" ? 32 : 64;
    s.kk = kk;
    std::string why;
    if (!nmquad::isSupportedTile(s, &why)) {
      std::cerr << "nmc-sim: unsupported tile: " << why << "\n";
      return 1;
    }
    if (!emit.empty()) {
      std::cout << nmquad::emitGemmTile(s);
      return 0;
    }
    nmquad::KernelEstimate e = nmcsim::estimateGemmTile(s);
    std::cout << e.toJson() << "\n";
    return e.valid ? 0 : 1;
  }

  if (file.empty())
    return usage();
  std::string text;
  if (!readFile(file, text)) {
    std::cerr << "nmc-sim: cannot read '" << file << "'\n";
    return 2;
  }
  nmcsim::Simulator sim;
  if (!sim.loadAssembly(text)) {
    for (const auto &d : sim.diagnostics())
      std::cerr << d.str(file) << "\n";
    return 1;
  }
  if (check)
    return 0;
  if (!sym.empty() && !axpy.empty()) {
    int n;
    if (!parseInt(axpy, n))
      return usage();
    return runAxpy(sim, sym, n, report);
  }
  if (sym.empty() || gemm.empty())
    return usage();
  int gm, gn, gk;
  std::vector<std::string> parts;
  std::stringstream ss(gemm);
  for (std::string part; std::getline(ss, part, ',');)
    parts.push_back(part);
  if (parts.size() != 3 || !parseInt(parts[0], gm) || !parseInt(parts[1], gn) ||
      !parseInt(parts[2], gk))
    return usage();
  return runGemm(sim, sym, gm, gn, gk, f32, report);
}
