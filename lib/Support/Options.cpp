//===- Options.cpp - validated command-line options and input limits ------===//

#include "kan/Support/Options.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Errc.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

using namespace mlir::kan::cli;
namespace cl = llvm::cl;

std::string mlir::kan::cli::formatValue(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[40];
  snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}
std::string mlir::kan::cli::formatValue(int64_t v) { return std::to_string(v); }
std::string mlir::kan::cli::formatValue(uint64_t v) { return std::to_string(v); }

bool mlir::kan::cli::parseNumber(llvm::StringRef arg, double &value) {
  std::string text = arg.str();
  if (text.empty())
    return false;
  char *end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}
bool mlir::kan::cli::parseNumber(llvm::StringRef arg, int64_t &value) {
  long long v;
  if (arg.getAsInteger(0, v))
    return false;
  value = v;
  return true;
}
bool mlir::kan::cli::parseNumber(llvm::StringRef arg, uint64_t &value) {
  unsigned long long v;
  if (arg.getAsInteger(0, v))
    return false;
  value = v;
  return true;
}

template <typename T>
std::string Bounds<T>::describe() const {
  std::string s = loOpen || !lo ? "(" : "[";
  s += lo ? formatValue(*lo) : "-inf";
  s += ", ";
  s += hi ? formatValue(*hi) : "inf";
  s += hiOpen || !hi ? ")" : "]";
  return s;
}

template <typename T>
std::optional<std::string> Bounds<T>::violation(T v) const {
  bool ok = true;
  if constexpr (std::is_floating_point_v<T>)
    ok = std::isfinite(v);
  if (ok && lo)
    ok = loOpen ? v > *lo : v >= *lo;
  if (ok && hi)
    ok = hiOpen ? v < *hi : v <= *hi;
  if (ok)
    return std::nullopt;
  return formatValue(v) + " is out of range " + describe();
}

namespace mlir::kan::cli {
template struct Bounds<double>;
template struct Bounds<int64_t>;
template struct Bounds<uint64_t>;

const Bounds<double> learningRate{0.0, std::nullopt, true, false};
const Bounds<double> density{0.0, 1.0, true, false};
const Bounds<double> lrFinal{0.0, 1.0, true, false};
const Bounds<int64_t> directions{1, int64_t(1) << 20};
const Bounds<int64_t> gridSize{1, 4096};
const Bounds<int64_t> splineOrder{0, 15};
const Bounds<int64_t> width{1, int64_t(1) << 24};
const Bounds<int64_t> batch{1, int64_t(1) << 24};
const Bounds<int64_t> tileRows{1, int64_t(1) << 24};
const Bounds<int64_t> threads{1, 1024};
const Bounds<int64_t> nonNegativeCount{0, std::nullopt};
const Bounds<int64_t> positiveCount{1, std::nullopt};
const Bounds<double> seconds{0.0, std::nullopt};
const Bounds<double> tolerance{0.0, std::nullopt};
const Bounds<double> fraction{0.0, 1.0};
const Bounds<uint64_t> positiveLimit{1, std::nullopt};
} // namespace mlir::kan::cli

std::optional<std::string> mlir::kan::cli::checkCIdentifier(llvm::StringRef s) {
  auto alpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  bool ok = !s.empty() && alpha(s[0]);
  for (char c : s)
    ok = ok && (alpha(c) || (c >= '0' && c <= '9'));
  if (ok)
    return std::nullopt;
  return "'" + s.str() +
         "' is not a C identifier (letters, digits and '_', not starting "
         "with a digit)";
}

std::optional<int64_t> mlir::kan::cli::takeThreadsOption(int &argc, char **argv,
                                                   int64_t def,
                                                   llvm::StringRef tool) {
  int64_t value = def;
  int out = 1;
  std::optional<std::string> error;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef a(argv[i]);
    llvm::StringRef v;
    if (a == "--threads" || a == "-threads") {
      if (i + 1 >= argc) {
        error = "--threads needs a value";
        continue;
      }
      v = argv[++i];
    } else if (a.consume_front("--threads=") || a.consume_front("-threads=")) {
      v = a;
    } else {
      argv[out++] = argv[i];
      continue;
    }
    if (v.getAsInteger(10, value))
      error = "--threads: '" + v.str() + "' is not an integer";
    else if (std::optional<std::string> why = check(threads, value, "--threads"))
      error = why;
  }
  argc = out;
  argv[argc] = nullptr;
  if (error) {
    llvm::WithColor::error(llvm::errs(), tool) << *error << "\n";
    return std::nullopt;
  }
  return value;
}

//===----------------------------------------------------------------------===//
// Text inputs of the MLIR parser
//===----------------------------------------------------------------------===//

cl::OptionCategory &mlir::kan::cli::limitsCategory() {
  static cl::OptionCategory cat("Input limits (raise them for larger inputs)");
  return cat;
}

InputLimits &mlir::kan::cli::inputLimits() {
  static InputLimits limits;
  return limits;
}

static opt<uint64_t, true> maxInputBytes(
    "max-input-bytes",
    cl::desc("Largest .mlir text read (default 1073741824 = 1 GiB); the file "
             "is refused before it is parsed"),
    cl::location(inputLimits().maxBytes), bounds(positiveLimit),
    cl::cat(limitsCategory()));
static opt<uint64_t, true> maxNesting(
    "max-nesting",
    cl::desc("Deepest nesting of brackets ( [ { < in .mlir text (default "
             "256); "
             "MLIR's parser recurses once per level and would overflow the "
             "stack long before 10,000"),
    cl::location(inputLimits().maxNesting), bounds(positiveLimit),
    cl::cat(limitsCategory()));

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// 1-based line and column of `offset` in `text`.
static std::pair<size_t, size_t> lineCol(llvm::StringRef text, size_t offset) {
  llvm::StringRef before = text.take_front(offset);
  size_t line = 1 + before.count('\n');
  size_t nl = before.rfind('\n');
  size_t col = nl == llvm::StringRef::npos ? offset + 1 : offset - nl;
  return {line, col};
}

llvm::Error mlir::kan::cli::checkMlirText(llvm::StringRef text, llvm::StringRef name,
                                    const InputLimits &limits) {
  // Bytecode is not read by the recursive-descent text parser.
  if (text.starts_with("ML\xef\x52"))
    return llvm::Error::success();
  size_t nul = text.find('\0');
  if (nul != llvm::StringRef::npos)
    return makeError(name + ": not MLIR text: a NUL byte at offset " +
                     llvm::Twine(nul));
  // One counter over all bracket kinds, skipping string literals, comments
  // and the `->`, `>=` and `<=` tokens. Unbalanced closers only lower the
  // count (to 0), never raise it, so no valid file is refused for them.
  uint64_t depth = 0;
  for (size_t i = 0, n = text.size(); i < n; ++i) {
    char c = text[i];
    switch (c) {
    case '"':
      for (++i; i < n && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/':
      if (i + 1 < n && text[i + 1] == '/')
        while (i < n && text[i] != '\n')
          ++i;
      break;
    case '-':
      if (i + 1 < n && text[i + 1] == '>')
        ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (c == '<' && i + 1 < n && text[i + 1] == '=') {
        ++i;
        break;
      }
      if (++depth > limits.maxNesting) {
        auto [line, col] = lineCol(text, i);
        return makeError(name + ":" + llvm::Twine(line) + ":" +
                         llvm::Twine(col) + ": nesting deeper than " +
                         llvm::Twine(limits.maxNesting) +
                         " levels (--max-nesting)");
      }
      break;
    case ')':
    case ']':
    case '}':
    case '>':
      if (c == '>' && i + 1 < n && text[i + 1] == '=') {
        ++i;
        break;
      }
      if (depth)
        --depth;
      break;
    default:
      break;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mlir::kan::cli::readMlirInput(llvm::StringRef path, const InputLimits &limits) {
  std::string name = path == "-" ? "<stdin>" : path.str();
  llvm::Expected<llvm::sys::fs::file_t> fd =
      path == "-" ? llvm::Expected<llvm::sys::fs::file_t>(
                        llvm::sys::fs::getStdinHandle())
                  : llvm::sys::fs::openNativeFileForRead(path);
  if (!fd)
    return makeError(name + ": cannot open: " +
                     llvm::toString(fd.takeError()));
  // Read in chunks, whatever the file claims its size is (devices, pipes):
  // stop at the limit, and at the first NUL (not text; /dev/zero).
  llvm::SmallString<0> data;
  const size_t chunk = 1 << 20;
  llvm::Error err = llvm::Error::success();
  for (;;) {
    size_t old = data.size();
    data.resize_for_overwrite(old + chunk);
    llvm::Expected<size_t> got = llvm::sys::fs::readNativeFile(
        *fd, llvm::MutableArrayRef<char>(data.data() + old, chunk));
    if (!got) {
      err = makeError(name + ": cannot read: " +
                      llvm::toString(got.takeError()));
      break;
    }
    data.truncate(old + *got);
    if (*got == 0)
      break;
    if (data.size() > limits.maxBytes) {
      err = makeError(name + ": larger than the limit of " +
                      llvm::Twine(limits.maxBytes) +
                      " bytes (--max-input-bytes)");
      break;
    }
    if (!llvm::StringRef(data).starts_with("ML\xef\x52") &&
        llvm::StringRef(data.data() + old, *got).contains('\0')) {
      err = makeError(name + ": not MLIR text: a NUL byte at offset " +
                      llvm::Twine(llvm::StringRef(data).find('\0')));
      break;
    }
  }
  if (path != "-")
    llvm::sys::fs::closeFile(*fd);
  if (err)
    return std::move(err);
  if (llvm::Error e = checkMlirText(data, name, limits))
    return std::move(e);
  return llvm::MemoryBuffer::getMemBufferCopy(data, name);
}
