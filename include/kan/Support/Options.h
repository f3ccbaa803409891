//===- Options.h - validated command-line options ---------------*- C++ -*-===//
//
// The one way the tools and passes check option values: every numeric
// option declares its interval (NaN and infinities are never in one), every
// string option with a format its validator. The llvm::cl parser below
// applies the check when the option is parsed, so `--lr inf` fails before
// anything runs, and prints the interval as the value's name in --help
// (`--lr=<number in (0, inf)>`); the same Bounds objects check values that
// arrive another way (checkpoint metadata, pass options built in code).
//
//   static cli::opt<double> lr("lr", cl::desc("..."), cl::init(1e-2),
//                              cli::bounds(cli::learningRate));
//
// (with `namespace cli = mlir::kan::cli;`; the passes live in mlir::kan)
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_OPTIONS_H
#define KAN_TOOLS_OPTIONS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mlir::kan::cli {

/// A numeric interval; an end is open or closed, and absent (no bound on
/// that side, printed as "inf") when std::nullopt. Doubles must also be
/// finite.
template <typename T>
struct Bounds {
  std::optional<T> lo, hi;
  bool loOpen = false, hiOpen = false;

  /// "[1, 1024]", "(0, 1]", "[0, inf)".
  std::string describe() const;
  /// std::nullopt if `v` is allowed, else the reason ("-5 is out of range
  /// [0, inf)").
  std::optional<std::string> violation(T v) const;
};

/// Formats a value as the messages and --help print it.
std::string formatValue(double v);
std::string formatValue(int64_t v);
std::string formatValue(uint64_t v);
inline std::string formatValue(int v) {
  return formatValue(static_cast<int64_t>(v));
}

/// Checks `v` against `b`; the message starts with `what` (an option name
/// like "--lr", or "file.safetensors: metadata 'lr'").
template <typename T>
std::optional<std::string> check(const Bounds<T> &b, T v,
                                 const llvm::Twine &what) {
  if (std::optional<std::string> why = b.violation(v))
    return (what + ": " + *why).str();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// The shared intervals (tools, passes and checkpoint metadata use these).
//===----------------------------------------------------------------------===//

/// Step size of the update rules: positive (and finite).
extern const Bounds<double> learningRate;
/// Non-zero fraction of sparse directions.
extern const Bounds<double> density;
/// Final step size as a fraction of --lr.
extern const Bounds<double> lrFinal;
/// Directions (JVPs) per step, also the JVP width of kan-jvp.
extern const Bounds<int64_t> directions;
/// Grid size G and spline order k (the runtime supports k <= 15).
extern const Bounds<int64_t> gridSize;
extern const Bounds<int64_t> splineOrder;
/// A layer width, and the batch size.
extern const Bounds<int64_t> width;
extern const Bounds<int64_t> batch;
/// Row tiles of the compiled code.
extern const Bounds<int64_t> tileRows;
/// Threads of the compiled code (OpenMP cannot start arbitrarily many).
extern const Bounds<int64_t> threads;
/// Counts where 0 means "none" or "no limit" (steps, intervals).
extern const Bounds<int64_t> nonNegativeCount;
/// Counts that must be positive (sizes, budgets).
extern const Bounds<int64_t> positiveCount;
/// Seconds of a time budget (0 = no limit).
extern const Bounds<double> seconds;
/// Comparison tolerances, thresholds and non-negative weights.
extern const Bounds<double> tolerance;
/// A fraction or a blend weight in [0, 1].
extern const Bounds<double> fraction;
/// Limits a user may raise (--max-params, --max-input-bytes, --max-nesting).
extern const Bounds<uint64_t> positiveLimit;

/// std::nullopt if `s` is a C identifier ([A-Za-z_][A-Za-z0-9_]*), else the
/// reason. Generated symbols and file names start with such prefixes.
std::optional<std::string> checkCIdentifier(llvm::StringRef s);

//===----------------------------------------------------------------------===//
// llvm::cl integration
//===----------------------------------------------------------------------===//

/// Parses a number as llvm::cl does (integers in any base llvm accepts,
/// doubles as strtod, so "inf" and "nan" are read and then refused);
/// false on malformed text.
bool parseNumber(llvm::StringRef arg, double &value);
bool parseNumber(llvm::StringRef arg, int64_t &value);
bool parseNumber(llvm::StringRef arg, uint64_t &value);

/// The llvm::cl parser of a numeric option with Bounds. llvm's parsers of
/// long and unsigned long are final: int64_t and uint64_t options parse
/// through those of long long and unsigned long long.
template <typename T>
using ParserBase = llvm::cl::parser<std::conditional_t<
    std::is_same_v<T, int64_t>, long long,
    std::conditional_t<std::is_same_v<T, uint64_t>, unsigned long long, T>>>;

template <typename T>
class CheckedParser : public ParserBase<T> {
public:
  using Storage = typename ParserBase<T>::parser_data_type;
  explicit CheckedParser(llvm::cl::Option &o) : ParserBase<T>(o) {}
  Bounds<T> range;
  std::string valueName;

  bool parse(llvm::cl::Option &o, llvm::StringRef argName, llvm::StringRef arg,
             Storage &value) {
    T v;
    if (!parseNumber(arg, v))
      return o.error("'" + arg + "' is not " +
                     (std::is_floating_point_v<T> ? "a number" : "an integer"));
    if (std::optional<std::string> why = range.violation(v))
      return o.error(*why);
    value = v;
    return false;
  }
  llvm::StringRef getValueName() const override {
    return valueName.empty() ? ParserBase<T>::getValueName()
                             : llvm::StringRef(valueName);
  }
};

/// String options with a format (a validator returning the reason).
class CheckedStringParser : public llvm::cl::parser<std::string> {
public:
  using llvm::cl::parser<std::string>::parser;
  std::optional<std::string> (*validate)(llvm::StringRef) = nullptr;

  bool parse(llvm::cl::Option &o, llvm::StringRef argName, llvm::StringRef arg,
             std::string &value) {
    if (validate)
      if (std::optional<std::string> why = validate(arg))
        return o.error(*why);
    value = arg.str();
    return false;
  }
};

/// A command-line option whose value is range-checked when parsed.
template <typename T, bool ExternalStorage = false>
using opt = llvm::cl::opt<T, ExternalStorage, CheckedParser<T>>;
using stringOpt = llvm::cl::opt<std::string, false, CheckedStringParser>;

/// cl modifier: the interval of a kan::cli::opt (also shown by --help).
template <typename T>
struct bounds {
  const Bounds<T> &b;
  explicit bounds(const Bounds<T> &b) : b(b) {}
  template <typename Opt>
  void apply(Opt &o) const {
    o.getParser().range = b;
    o.getParser().valueName =
        (std::is_floating_point_v<T> ? "number in " : "int in ") +
        b.describe();
  }
};

template <typename T>
bounds(const Bounds<T> &) -> bounds<T>;

/// cl modifier: the format check of a kan::cli::stringOpt.
struct format {
  std::optional<std::string> (*validate)(llvm::StringRef);
  explicit format(std::optional<std::string> (*v)(llvm::StringRef))
      : validate(v) {}
  template <typename Opt>
  void apply(Opt &o) const {
    o.getParser().validate = validate;
  }
};

/// Removes `--threads N` / `--threads=N` from argv; libLLVM registers a
/// global option named "threads", so the tools cannot declare their own
/// cl::opt. Returns `def` when absent; std::nullopt after printing a message
/// (naming `tool`) when the value is not an integer in `threads`.
std::optional<int64_t> takeThreadsOption(int &argc, char **argv, int64_t def,
                                         llvm::StringRef tool);

//===----------------------------------------------------------------------===//
// Text inputs of the MLIR parser
//===----------------------------------------------------------------------===//

/// What the tools read before handing text to MLIR's parser, which holds
/// the whole file in memory and recurses once per nesting level.
struct InputLimits {
  uint64_t maxBytes = uint64_t(1) << 30;
  uint64_t maxNesting = 256;
};
/// The process-wide limits, set by --max-input-bytes and --max-nesting
/// (options of the category below).
InputLimits &inputLimits();
llvm::cl::OptionCategory &limitsCategory();

/// Refuses text with a NUL byte or nesting deeper than the limit; the
/// message names `name` and the line and column.
llvm::Error checkMlirText(llvm::StringRef text, llvm::StringRef name,
                          const InputLimits &limits = inputLimits());
/// Reads `path` ("-" = stdin) for the MLIR parser: at most the byte limit
/// (also from devices and pipes, which report no size), then checkMlirText.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readMlirInput(llvm::StringRef path, const InputLimits &limits = inputLimits());

} // namespace mlir::kan::cli

#endif // KAN_TOOLS_OPTIONS_H
