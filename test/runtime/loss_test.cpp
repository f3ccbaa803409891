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

} // namespace
