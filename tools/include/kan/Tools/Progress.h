//===- Progress.h - a progress line on stderr -------------------*- C++ -*-===//
//
// At most ~2 updates per second: one rewritten line on a terminal, periodic
// plain lines (every few seconds) otherwise, so logs stay readable.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_PROGRESS_H
#define KAN_TOOLS_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace kan::tools {

class Progress {
public:
  Progress();
  /// Called after every step; prints when the interval has passed.
  /// total = -1 when the run is bounded by time only; budget in seconds.
  void update(int64_t step, int64_t total, double loss, double stepsPerSec,
              double etaSeconds, bool force = false);
  /// Prints a message on its own line (clearing a rewritten line first).
  void message(const std::string &text);
  void finish();
  /// Prints nothing from now on (the ranks of an MPI run but the first).
  void silence() { quiet = true; }

private:
  bool quiet = false;
  bool tty;
  bool lineOpen = false;
  std::chrono::steady_clock::time_point last;
  double interval;
};

/// Seconds since an arbitrary start (monotonic).
double nowSeconds();

} // namespace kan::tools

#endif // KAN_TOOLS_PROGRESS_H
