//===- Data.cpp - IDX/CSV data sets and the batch order -------------------===//

#include "kan/Tools/Data.h"
#include "kan/Tools/Model.h"

#include "kanrt/kanrt.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace kan::tools;
using llvm::Error;
using llvm::Expected;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

namespace {
struct OwnedTensor {
  kan_tensor t{};
  ~OwnedTensor() { kan_tensor_free(&t); }
};
} // namespace

Expected<Dataset> kan::tools::loadIdx(llvm::StringRef images,
                                      llvm::StringRef labels,
                                      PixelScaling scaling) {
  OwnedTensor img, lab;
  std::string ip = images.str(), lp = labels.str();
  if (int st = kan_idx_read(ip.c_str(), &img.t))
    return runtimeError(st);
  if (int st = kan_idx_read(lp.c_str(), &lab.t))
    return runtimeError(st);
  if (img.t.ndim < 1 || img.t.shape[0] == 0)
    return makeError(images + ": IDX images file holds no samples");
  if (lab.t.ndim != 1)
    return makeError(labels + ": IDX labels must be 1-D, file has " +
                     llvm::Twine(lab.t.ndim) + " dimensions");
  if (lab.t.shape[0] != img.t.shape[0])
    return makeError(labels + ": " + llvm::Twine(lab.t.shape[0]) +
                     " labels for " + llvm::Twine(img.t.shape[0]) +
                     " images in " + images);
  Dataset d;
  d.name = images.str();
  d.rows = static_cast<int64_t>(img.t.shape[0]);
  d.features = static_cast<int64_t>(kan_tensor_numel(&img.t) / img.t.shape[0]);
  const uint8_t *px = static_cast<const uint8_t *>(img.t.data);
  d.x.resize(static_cast<size_t>(d.rows * d.features));
  for (size_t i = 0; i < d.x.size(); ++i)
    d.x[i] = static_cast<double>(px[i]) / 127.5 - 1.0;
  const uint8_t *lb = static_cast<const uint8_t *>(lab.t.data);
  d.labels.assign(lb, lb + d.rows);
  if (scaling == PixelScaling::Standard)
    standardize(d, nullptr);
  return d;
}

Expected<Dataset> kan::tools::loadCsv(llvm::StringRef path, bool header) {
  OwnedTensor t;
  std::string p = path.str();
  if (int st = kan_csv_read(p.c_str(), header ? 1 : 0, KAN_IO_CHECK_FINITE, &t.t))
    return runtimeError(st);
  if (t.t.ndim != 2 || t.t.shape[0] == 0)
    return makeError(path + ": CSV holds no data rows");
  if (t.t.shape[1] < 2)
    return makeError(path + ": CSV needs a label column and at least one "
                            "feature column, has " +
                     llvm::Twine(t.t.shape[1]) + " column(s)");
  Dataset d;
  d.name = path.str();
  d.rows = static_cast<int64_t>(t.t.shape[0]);
  d.features = static_cast<int64_t>(t.t.shape[1]) - 1;
  const double *v = static_cast<const double *>(t.t.data);
  d.x.resize(static_cast<size_t>(d.rows * d.features));
  d.labels.resize(static_cast<size_t>(d.rows));
  int lineOffset = header ? 2 : 1;
  for (int64_t r = 0; r < d.rows; ++r) {
    const double *row = v + r * (d.features + 1);
    double lab = row[0];
    if (!(lab >= 0) || lab != std::floor(lab) || lab > 1e9)
      return makeError(path + ": data row " + llvm::Twine(r + 1) +
                       " (line " + llvm::Twine(r + lineOffset) +
                       " without blank lines): label " + std::to_string(lab) +
                       " is not a non-negative integer");
    d.labels[r] = static_cast<int64_t>(lab);
    std::copy(row + 1, row + 1 + d.features, d.x.begin() + r * d.features);
  }
  return d;
}

Error kan::tools::checkDataset(const Dataset &d, int64_t inputs,
                               int64_t classes) {
  if (d.features != inputs)
    return makeError(d.name + ": samples have " + llvm::Twine(d.features) +
                     " features but the model's first width is " +
                     llvm::Twine(inputs) + " (see --widths)");
  for (int64_t r = 0; r < d.rows; ++r) {
    if (d.labels[r] < 0 || d.labels[r] >= classes)
      return makeError(d.name + ": sample " + llvm::Twine(r) + " has label " +
                       llvm::Twine(d.labels[r]) + " but the model has " +
                       llvm::Twine(classes) + " classes (labels 0.." +
                       llvm::Twine(classes - 1) + ")");
  }
  for (size_t i = 0; i < d.x.size(); ++i)
    if (!std::isfinite(d.x[i]))
      return makeError(d.name + ": sample " +
                       llvm::Twine(i / static_cast<size_t>(d.features)) +
                       " has a non-finite feature (NaN or Inf)");
  return Error::success();
}

void kan::tools::standardize(Dataset &train, llvm::ArrayRef<Dataset *> others) {
  int64_t f = train.features;
  std::vector<double> mean(f, 0.0), sd(f, 0.0);
  for (int64_t r = 0; r < train.rows; ++r)
    for (int64_t j = 0; j < f; ++j)
      mean[j] += train.x[r * f + j];
  for (double &m : mean)
    m /= static_cast<double>(train.rows);
  for (int64_t r = 0; r < train.rows; ++r)
    for (int64_t j = 0; j < f; ++j) {
      double d = train.x[r * f + j] - mean[j];
      sd[j] += d * d;
    }
  for (double &s : sd) {
    s = std::sqrt(s / static_cast<double>(train.rows));
    if (s < 1e-12)
      s = 1.0; // constant feature: centre only
  }
  auto apply = [&](Dataset &d) {
    for (int64_t r = 0; r < d.rows; ++r)
      for (int64_t j = 0; j < f && j < d.features; ++j)
        d.x[r * d.features + j] = (d.x[r * d.features + j] - mean[j]) / sd[j];
  };
  apply(train);
  for (Dataset *d : others)
    apply(*d);
}

Dataset kan::tools::splitTail(Dataset &d, int64_t rows, llvm::StringRef suffix) {
  rows = std::clamp<int64_t>(rows, 0, d.rows);
  Dataset tail;
  tail.name = d.name + suffix.str();
  tail.rows = rows;
  tail.features = d.features;
  size_t keep = static_cast<size_t>(d.rows - rows);
  size_t f = static_cast<size_t>(d.features);
  tail.x.assign(d.x.begin() + keep * f, d.x.end());
  tail.labels.assign(d.labels.begin() + keep, d.labels.end());
  d.x.resize(keep * f);
  d.labels.resize(keep);
  d.rows = static_cast<int64_t>(keep);
  return tail;
}

const std::vector<int64_t> &BatchSampler::permutation(int64_t epoch) {
  if (epoch == cachedEpoch)
    return perm;
  perm.resize(static_cast<size_t>(rows));
  std::iota(perm.begin(), perm.end(), 0);
  // Fisher-Yates with Lemire's multiply-shift on Philox words: counter
  // (i, epoch, 0, 0xDA7A) so the data order never correlates with the
  // optimiser's perturbation streams (whose stream ids are small).
  uint32_t key[2] = {static_cast<uint32_t>(seed),
                     static_cast<uint32_t>(seed >> 32)};
  for (int64_t i = rows - 1; i > 0; --i) {
    uint32_t ctr[4] = {static_cast<uint32_t>(i), static_cast<uint32_t>(epoch),
                       static_cast<uint32_t>(epoch >> 32), 0xDA7Au};
    uint32_t w[4];
    kan_philox4x32_10(ctr, key, w);
    uint64_t j = (static_cast<uint64_t>(w[0]) * static_cast<uint64_t>(i + 1)) >> 32;
    std::swap(perm[i], perm[j]);
  }
  cachedEpoch = epoch;
  return perm;
}

void BatchSampler::indices(int64_t step, std::vector<int64_t> &out) {
  out.resize(static_cast<size_t>(batch));
  int64_t pos = step * batch;
  for (int64_t b = 0; b < batch; ++b, ++pos) {
    const std::vector<int64_t> &p = permutation(pos / rows);
    out[b] = p[pos % rows];
  }
}
