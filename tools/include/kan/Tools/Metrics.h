//===- Metrics.h - training curves as JSON lines ----------------*- C++ -*-===//
//
// kan-train's metrics file: one JSON object per line,
//   {"step", "seconds", "loss", "test_accuracy", "lr", "steps_per_second"}
// (null where a value does not exist, e.g. test_accuracy without test
// data), flushed per line so a running job can be plotted (kan-plot curves).
// kancompiler.Trainer.fit writes the same format.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_METRICS_H
#define KAN_TOOLS_METRICS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

namespace kan::tools {

class MetricsLog {
public:
  /// Creates (or, with `append`, continues) the file.
  static llvm::Expected<MetricsLog> open(llvm::StringRef path, bool append);
  /// One record; non-finite values are written as null, except the
  /// validation accuracy, which only the records that have one carry.
  llvm::Error record(int64_t step, double seconds, double loss,
                     double testAccuracy, double lr, double stepsPerSecond,
                     double validationAccuracy = NAN);
  const std::string &path() const { return filePath; }

private:
  std::string filePath;
  std::unique_ptr<llvm::raw_fd_ostream> os;
};

} // namespace kan::tools

#endif // KAN_TOOLS_METRICS_H
