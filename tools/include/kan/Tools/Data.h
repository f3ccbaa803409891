//===- Data.h - labelled data sets for kan-train ----------------*- C++ -*-===//
//
// A classification data set held as doubles (converted to the model's float
// type per batch) plus int64 labels, and the batch order: a pure function of
// (seed, step), so a resumed run sees exactly the batches of an
// uninterrupted one.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_DATA_H
#define KAN_TOOLS_DATA_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kan::tools {

struct Dataset {
  std::string name; ///< file(s) it came from, for messages
  int64_t rows = 0;
  int64_t features = 0;
  std::vector<double> x; ///< rows x features, row-major
  std::vector<int64_t> labels;
};

/// How IDX pixels become features.
enum class PixelScaling { Unit, Standard };

/// Reads IDX images (N x ... u8, gz or plain) and labels (N u8). Unit maps a
/// byte b to b/127.5-1 (the default grid range [-1,1]).
llvm::Expected<Dataset> loadIdx(llvm::StringRef images, llvm::StringRef labels,
                                PixelScaling scaling);
/// Reads a CSV: label in the first column, features after.
llvm::Expected<Dataset> loadCsv(llvm::StringRef path, bool header);

/// Checks the data against the model: feature count = first width, labels in
/// [0, classes), finite features.
llvm::Error checkDataset(const Dataset &d, int64_t inputs, int64_t classes);

/// Standardises features with the statistics of `train` (per feature mean and
/// standard deviation), applied to `train` and to each of `others`.
void standardize(Dataset &train, llvm::ArrayRef<Dataset *> others = {});

/// Moves the last `rows` rows of `d` into a data set of their own (named
/// after `d` with the given suffix); `d` keeps the rows before them.
Dataset splitTail(Dataset &d, int64_t rows, llvm::StringRef suffix);

/// The rows of the batch at `step`: positions [step*B, step*B+B) of the
/// endless sequence of per-epoch permutations, each a Philox-driven
/// Fisher-Yates shuffle keyed by (seed, epoch).
class BatchSampler {
public:
  BatchSampler(int64_t rows, int64_t batch, uint64_t seed)
      : rows(rows), batch(batch), seed(seed) {}
  void indices(int64_t step, std::vector<int64_t> &out);

private:
  const std::vector<int64_t> &permutation(int64_t epoch);
  int64_t rows, batch;
  uint64_t seed;
  int64_t cachedEpoch = -1;
  std::vector<int64_t> perm;
};

} // namespace kan::tools

#endif // KAN_TOOLS_DATA_H
