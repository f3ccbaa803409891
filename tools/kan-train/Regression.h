//===- Regression.h - kan-train --task regression ---------------*- C++ -*-===//
//
// The regression path of kan-train, kept apart from the classification
// loop: its own options (category "Regression") and run function. kan-train
// passes the options both paths share.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TRAIN_REGRESSION_H
#define KAN_TRAIN_REGRESSION_H

#include "llvm/Support/CommandLine.h"

#include <cstdint>
#include <string>

namespace kan::train {

/// Options of kan-train that the regression path reads too.
struct SharedOptions {
  std::string widths;
  bool widthsGiven = false;
  int64_t grid = 5, order = 3;
  bool shapeGiven = false; ///< --grid or --order given explicitly
  std::string dtype;
  uint64_t initSeed = 0;
  std::string trainCsv, testCsv;
  bool csvHeader = false;
  std::string checkpoint, workDir;
  bool workDirGiven = false;
  std::string resume;
  int64_t steps = 0;
  double timeBudget = 600;
  double lr = 1e-2;
  bool lrGiven = false;
  int64_t threads = 1;
  /// Options only the classification path understands that were given.
  std::string classificationOnly;
};

/// The category of the regression options (for --help).
llvm::cl::OptionCategory &regressionCategory();
/// --optimizer, shared by both tasks (empty when not given).
llvm::cl::opt<std::string> &optimizerOption();
/// True when --task regression was given (after option parsing).
bool regressionRequested();
/// Validates --task; returns an error message or "".
std::string checkTaskOption();
/// Runs a regression training; returns the process exit code.
int runRegression(const SharedOptions &opts);

} // namespace kan::train

#endif // KAN_TRAIN_REGRESSION_H
