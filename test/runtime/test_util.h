//===- test_util.h - shared helpers of the kanrt unit tests -----*- C++ -*-===//
#ifndef KANRT_TEST_UTIL_H
#define KANRT_TEST_UTIL_H

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace kantest {

/// efficient-kan's default grid: t[i][j] = lo + (j-k) h, h = (hi-lo)/G.
inline std::vector<double> uniformGrid(size_t in, int G, int k,
                                       double lo = -1, double hi = 1) {
  std::vector<double> g(in * (G + 2 * k + 1));
  double h = (hi - lo) / G;
  for (size_t i = 0; i < in; ++i)
    for (int j = 0; j <= G + 2 * k; ++j)
      g[i * (G + 2 * k + 1) + j] = lo + (j - k) * h;
  return g;
}

/// Strictly increasing random knots (what a grid update produces).
inline std::vector<double> randomGrid(size_t in, int G, int k,
                                      std::mt19937 &rng) {
  std::uniform_real_distribution<double> d(0.05, 1.0);
  std::vector<double> g(in * (G + 2 * k + 1));
  for (size_t i = 0; i < in; ++i) {
    double t = -1.5;
    for (int j = 0; j <= G + 2 * k; ++j) {
      t += d(rng) * 3.0 / (G + 2 * k);
      g[i * (G + 2 * k + 1) + j] = t;
    }
  }
  return g;
}

inline std::vector<double> randomVector(size_t n, std::mt19937 &rng,
                                        double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto &x : v)
    x = d(rng);
  return v;
}

/// max |a-b| / max(max |b|, tiny).
inline double relErr(const std::vector<double> &a,
                     const std::vector<double> &b) {
  double num = 0, den = 1e-300;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return num / den;
}

} // namespace kantest

#endif // KANRT_TEST_UTIL_H
