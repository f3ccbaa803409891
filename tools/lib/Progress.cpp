//===- Progress.cpp - a progress line on stderr ---------------------------===//

#include "kan/Tools/Progress.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

using namespace kan::tools;

double kan::tools::nowSeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Progress::Progress()
    : tty(llvm::sys::Process::StandardErrIsDisplayed()),
      last(std::chrono::steady_clock::now()), interval(tty ? 0.5 : 5.0) {}

static std::string formatDuration(double s) {
  if (!(s >= 0) || s > 1e7)
    return "?";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void Progress::update(int64_t step, int64_t total, double loss,
                      double stepsPerSec, double etaSeconds, bool force) {
  if (quiet)
    return;
  auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - last).count() < interval)
    return;
  last = now;
  std::string line;
  llvm::raw_string_ostream os(line);
  os << "step " << step;
  if (total > 0)
    os << "/" << total;
  os << "  loss " << llvm::format("%.4f", loss) << "  "
     << llvm::format("%.1f", stepsPerSec) << " steps/s  ETA "
     << formatDuration(etaSeconds);
  if (tty) {
    llvm::errs() << "\r\033[K" << line;
    lineOpen = true;
  } else {
    llvm::errs() << line << "\n";
  }
  llvm::errs().flush();
}

void Progress::message(const std::string &text) {
  if (quiet)
    return;
  if (lineOpen)
    llvm::errs() << "\r\033[K";
  lineOpen = false;
  llvm::errs() << text << "\n";
  llvm::errs().flush();
}

void Progress::finish() {
  if (quiet)
    return;
  if (lineOpen)
    llvm::errs() << "\n";
  lineOpen = false;
}
