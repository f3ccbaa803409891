//===- loss_test.cpp - losses and their directional derivatives -----------===//
#include "kanrt/kanrt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

// Two rows of three logits, labels 2 and 0.
const std::vector<double> kZ = {0.5, -1.0, 2.0, 1.5, 0.25, -0.75};
const std::vector<int64_t> kLabels = {2, 0};

double xentReference(const std::vector<double> &z) {
  double acc = 0;
  for (int i = 0; i < 2; ++i) {
    double se = 0;
    for (int c = 0; c < 3; ++c)
      se += std::exp(z[i * 3 + c]);
    acc += std::log(se) - z[i * 3 + kLabels[i]];
  }
  return acc / 2;
}

TEST(Loss, SoftmaxCrossEntropyValue) {
  double loss = 0;
  ASSERT_EQ(kan_loss_softmax_xent_f64(2, 3, kZ.data(), kLabels.data(), nullptr,
                                      0, &loss, nullptr),
            KAN_OK);
  EXPECT_NEAR(loss, xentReference(kZ), 1e-15);
}

TEST(Loss, SoftmaxCrossEntropyJvpMatchesFiniteDifferences) {
  // Two directions, direction-major: zt[(d * n + i) * classes + c].
  std::vector<double> zt = {1, 0, -1, 0.5, 2, 0, 0, 0, 1, -1, 0.25, 3};
  double loss = 0, alphas[2];
  ASSERT_EQ(kan_loss_softmax_xent_f64(2, 3, kZ.data(), kLabels.data(),
                                      zt.data(), 2, &loss, alphas),
            KAN_OK);
  for (int d = 0; d < 2; ++d) {
    const double h = 1e-6;
    std::vector<double> zp = kZ, zm = kZ;
    for (int e = 0; e < 6; ++e) {
      zp[e] += h * zt[d * 6 + e];
      zm[e] -= h * zt[d * 6 + e];
    }
    double fd = (xentReference(zp) - xentReference(zm)) / (2 * h);
    EXPECT_NEAR(alphas[d], fd, 1e-8) << "direction " << d;
  }
}

TEST(Loss, SoftmaxCrossEntropyRejectsLabelOutOfRange) {
  std::vector<int64_t> bad = {2, 3};
  double loss = 0;
  EXPECT_EQ(kan_loss_softmax_xent_f64(2, 3, kZ.data(), bad.data(), nullptr, 0,
                                      &loss, nullptr),
            KAN_ERR_INVALID_ARGUMENT);
  bad = {-1, 0};
  EXPECT_EQ(kan_loss_softmax_xent_f64(2, 3, kZ.data(), bad.data(), nullptr, 0,
                                      &loss, nullptr),
            KAN_ERR_INVALID_ARGUMENT);
}

TEST(Loss, MseAndJvpF32) {
  std::vector<float> z = {1, 2, 3, 4}, y = {0, 2, 5, 3}, zt = {1, 1, 1, 1};
  float loss = 0, alpha = 0;
  ASSERT_EQ(kan_loss_mse_f32(2, 2, z.data(), y.data(), zt.data(), 1, &loss,
                             &alpha),
            KAN_OK);
  // Residuals 1 0 -2 1: mean of squares 6/4, mean of 2r = 0.
  EXPECT_FLOAT_EQ(loss, 1.5f);
  EXPECT_FLOAT_EQ(alpha, 0.0f);
}

// A batch of several blocks of the serial loss (64 rows) against the
// definition, summed row by row in long double.
TEST(Loss, ManyRowsMatchTheDefinition) {
  const int64_t n = 150, classes = 4, width = 3;
  std::vector<double> z(n * classes), zt(width * n * classes);
  std::vector<int64_t> labels(n);
  unsigned s = 7;
  auto next = [&] {
    s = s * 1103515245u + 12345u;
    return ((s >> 8) & 0xffff) / 16384.0 - 2.0;
  };
  for (double &v : z)
    v = next();
  for (double &v : zt)
    v = next();
  for (int64_t i = 0; i < n; ++i)
    labels[i] = i % classes;
  double loss = 0, alphas[width];
  ASSERT_EQ(kan_loss_softmax_xent_f64(n, classes, z.data(), labels.data(),
                                      zt.data(), width, &loss, alphas),
            KAN_OK);
  long double acc = 0, ad[width] = {0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    long double se = 0;
    for (int64_t c = 0; c < classes; ++c)
      se += std::exp((long double)z[i * classes + c]);
    acc += std::log(se) - z[i * classes + labels[i]];
    for (int64_t c = 0; c < classes; ++c) {
      long double g = std::exp((long double)z[i * classes + c]) / se -
                      (c == labels[i] ? 1 : 0);
      for (int64_t d = 0; d < width; ++d)
        ad[d] += g * zt[(d * n + i) * classes + c];
    }
  }
  EXPECT_NEAR(loss, (double)(acc / n), 1e-14);
  for (int64_t d = 0; d < width; ++d)
    EXPECT_NEAR(alphas[d], (double)(ad[d] / n), 1e-14) << "direction " << d;
  // The mean squared error against z's first column shifted.
  std::vector<double> target(z.size());
  long double sq = 0, md[width] = {0, 0, 0};
  for (size_t e = 0; e < z.size(); ++e) {
    target[e] = z[e] + 0.25 * (double)(e % 5) - 0.5;
    long double r = (long double)z[e] - target[e];
    sq += r * r;
    for (int64_t d = 0; d < width; ++d)
      md[d] += 2 * r * zt[d * n * classes + e];
  }
  ASSERT_EQ(kan_loss_mse_f64(n, classes, z.data(), target.data(), zt.data(),
                             width, &loss, alphas),
            KAN_OK);
  EXPECT_NEAR(loss, (double)(sq / (n * classes)), 1e-14);
  for (int64_t d = 0; d < width; ++d)
    EXPECT_NEAR(alphas[d], (double)(md[d] / (n * classes)), 1e-14);
}

// The parts of kanrt/loss.h as kan_omp_loss_* runs them on threads: rows in
// any split, then each direction alone, are the whole loss bit for bit (the
// same functions on the same rows, each sum in row order).
TEST(Loss, PartsInAnyRowSplitAreTheWholeLoss) {
  const int64_t n = 37, classes = 5, width = 4;
  std::vector<float> z(n * classes), zt(width * n * classes);
  std::vector<int64_t> labels(n);
  for (size_t e = 0; e < z.size(); ++e)
    z[e] = (float)std::sin(0.7 * (double)e) * 3.0f;
  for (size_t e = 0; e < zt.size(); ++e)
    zt[e] = (float)std::cos(0.3 * (double)e);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = (i * 3) % classes;
  float loss = 0, alphas[width];
  ASSERT_EQ(kan_loss_softmax_xent_f32(n, classes, z.data(), labels.data(),
                                      zt.data(), width, &loss, alphas),
            KAN_OK);
  for (int64_t split : {1, 10, 19, 36}) {
    std::vector<double> term(n), g(n * classes), ad(width, 0.0);
    kan_loss_softmax_xent_rows_f32(split, classes, z.data(), labels.data(),
                                   term.data(), g.data());
    kan_loss_softmax_xent_rows_f32(n - split, classes,
                                   z.data() + split * classes,
                                   labels.data() + split, term.data() + split,
                                   g.data() + split * classes);
    for (int64_t d = width - 1; d >= 0; --d)
      kan_loss_tangents_f32(n, classes, g.data(), zt.data(), n * classes, d,
                            d + 1, ad.data());
    EXPECT_EQ((float)(kan_loss_sum(n, term.data(), 0.0) / (double)n), loss)
        << "split " << split;
    for (int64_t d = 0; d < width; ++d)
      EXPECT_EQ((float)(ad[d] / (double)n), alphas[d]) << "split " << split;
  }
  // The check rejects what the whole loss rejects.
  labels[20] = classes;
  EXPECT_EQ(kan_loss_softmax_xent_check_f32(n, classes, z.data(),
                                            labels.data(), zt.data(), width,
                                            &loss, alphas),
            KAN_ERR_INVALID_ARGUMENT);
}

} // namespace
