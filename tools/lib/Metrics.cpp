//===- Metrics.cpp - training curves as JSON lines ------------------------===//

#include "kan/Tools/Metrics.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace kan::tools;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Expected<MetricsLog> MetricsLog::open(llvm::StringRef path, bool append) {
  MetricsLog log;
  log.filePath = path.str();
  std::error_code ec;
  log.os = std::make_unique<llvm::raw_fd_ostream>(
      path, ec, append ? llvm::sys::fs::OF_Append : llvm::sys::fs::OF_None);
  if (ec)
    return makeError(path + ": cannot write the metrics file: " + ec.message());
  return std::move(log);
}

llvm::Error MetricsLog::record(int64_t step, double seconds, double loss,
                               double testAccuracy, double lr,
                               double stepsPerSecond,
                               double validationAccuracy) {
  auto num = [](double v) -> llvm::json::Value {
    if (!std::isfinite(v))
      return nullptr;
    return v;
  };
  llvm::json::Object o{{"step", step},
                       {"seconds", num(seconds)},
                       {"loss", num(loss)},
                       {"test_accuracy", num(testAccuracy)},
                       {"lr", num(lr)},
                       {"steps_per_second", num(stepsPerSecond)}};
  if (std::isfinite(validationAccuracy))
    o["validation_accuracy"] = validationAccuracy;
  *os << llvm::json::Value(std::move(o)) << "\n";
  os->flush();
  if (os->has_error()) {
    os->clear_error();
    return makeError(filePath + ": writing the metrics file failed");
  }
  return llvm::Error::success();
}
