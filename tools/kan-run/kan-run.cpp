//===- kan-run.cpp - evaluate a KAN on NPY inputs ---------------*- C++ -*-===//
//
// kan-run MODEL --input x.npy --output y.npy
//         [--tangents t.safetensors --output-tangent dy.npy]
//         [--compare y_ref.npy] [--compare-tangent dy_ref.npy]
//
// MODEL is an efficient-kan .safetensors or a .mlir module as kan-import
// writes it, or a formula (kan-symbolic --format mlir: @formula functions of
// math/arith ops), which runs through the same compiled path. The forward pass and, with tangents, the JVP (kan-jvp) run
// through the compiled CPU path.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Engine.h"
#include "kan/Tools/Model.h"
#include "kan/Support/Options.h"
#include "kan/Tools/Progress.h"

#include "kanrt/kanrt.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

using namespace kan::tools;
namespace cli = mlir::kan::cli;
using llvm::Error;
namespace cl = llvm::cl;

static cl::OptionCategory cat("kan-run options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.safetensors|model.mlir>"),
                                      cl::cat(cat));
static cl::opt<std::string> inputPath("input", cl::Required,
                                      cl::desc("Input NPY, N x I (float64 or float32, C order)"),
                                      cl::value_desc("x.npy"), cl::cat(cat));
static cl::opt<std::string> outputPath("output", cl::desc("Write the output N x O here (NPY, the model's dtype)"),
                                       cl::value_desc("y.npy"), cl::cat(cat));
static cl::opt<std::string> tangentsPath(
    "tangents",
    cl::desc("Tangents: safetensors with the parameter keys (no grid; missing "
             "keys are zero) and optional `input` (N x I); computes the JVP"),
    cl::value_desc("t.safetensors"), cl::cat(cat));
static cl::opt<std::string> outputTangentPath("output-tangent",
                                              cl::desc("Write the JVP of the output (N x O) here"),
                                              cl::value_desc("dy.npy"), cl::cat(cat));
static cl::opt<std::string> comparePath("compare",
                                        cl::desc("Compare the output with this NPY; fail if any element is off by more than atol + rtol*|ref|"),
                                        cl::value_desc("y_ref.npy"), cl::cat(cat));
static cl::opt<std::string> compareTangentPath("compare-tangent",
                                               cl::desc("Compare the JVP output with this NPY"),
                                               cl::value_desc("dy_ref.npy"), cl::cat(cat));
static cli::opt<double> relTol("rtol", cl::init(1e-12), cl::desc("Relative tolerance of --compare (default 1e-12)"), cli::bounds(cli::tolerance), cl::cat(cat));
static cli::opt<double> absTol("atol", cl::init(1e-13), cl::desc("Absolute tolerance of --compare (default 1e-13)"), cli::bounds(cli::tolerance), cl::cat(cat));
static cl::opt<std::string> workDir("work-dir", cl::desc("Cache directory for compiled models (default $XDG_CACHE_HOME/kan)"), cl::cat(cat));

static int fail(Error e) {
  llvm::WithColor::error(llvm::errs(), "kan-run") << llvm::toString(std::move(e)) << "\n";
  return 1;
}

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Reads a 2-D float NPY as the model's dtype (converting f32 <-> f64).
static Error readMatrix(llvm::StringRef path, bool f32, int64_t cols,
                        llvm::StringRef what, Tensor &out) {
  kan_tensor t{};
  std::string p = path.str();
  if (int st = kan_npy_read(p.c_str(), KAN_IO_CHECK_FINITE, &t))
    return runtimeError(st);
  auto cleanup = llvm::make_scope_exit([&] { kan_tensor_free(&t); });
  if (t.dtype != KAN_DTYPE_F32 && t.dtype != KAN_DTYPE_F64)
    return makeError(path + ": dtype " + kan_dtype_name(t.dtype) +
                     ", expected float64 or float32");
  if (t.ndim != 2)
    return makeError(path + ": expected a 2-D array (N x " + llvm::Twine(cols) +
                     "), got " + llvm::Twine(t.ndim) + " dimensions");
  if (cols >= 0 && t.shape[1] != static_cast<size_t>(cols))
    return makeError(path + ": has " + llvm::Twine(t.shape[1]) +
                     " columns but " + what + " " + llvm::Twine(cols));
  out.name = path.str();
  out.allocate({static_cast<int64_t>(t.shape[0]), static_cast<int64_t>(t.shape[1])}, f32);
  size_t n = out.numel();
  for (size_t i = 0; i < n; ++i)
    out.set(i, t.dtype == KAN_DTYPE_F32 ? static_cast<const float *>(t.data)[i]
                                        : static_cast<const double *>(t.data)[i]);
  return Error::success();
}

static Error writeMatrix(llvm::StringRef path, const Tensor &m) {
  kan_tensor t{};
  t.dtype = m.f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64;
  t.ndim = 2;
  t.shape[0] = static_cast<size_t>(m.shape[0]);
  t.shape[1] = static_cast<size_t>(m.shape[1]);
  t.data = const_cast<void *>(m.data());
  std::string p = path.str();
  if (int st = kan_npy_write(p.c_str(), &t))
    return runtimeError(st);
  return Error::success();
}

/// Prints the largest errors; fails beyond the tolerance.
static Error compare(const Tensor &got, llvm::StringRef refPath,
                     llvm::StringRef what) {
  Tensor ref;
  if (Error e = readMatrix(refPath, false, got.shape[1],
                           (what + " has").str(), ref))
    return e;
  if (ref.shape[0] != got.shape[0])
    return makeError(refPath + ": has " + llvm::Twine(ref.shape[0]) +
                     " rows, the " + what + " has " + llvm::Twine(got.shape[0]));
  double maxAbs = 0, maxRel = 0;
  size_t bad = 0;
  for (size_t i = 0; i < got.numel(); ++i) {
    double a = got.get(i), b = ref.get(i), d = std::fabs(a - b);
    maxAbs = std::max(maxAbs, d);
    if (b != 0)
      maxRel = std::max(maxRel, d / std::fabs(b));
    if (!(d <= absTol + relTol * std::fabs(b)))
      ++bad;
  }
  llvm::outs() << what << ": max abs err " << llvm::format("%.3e", maxAbs)
               << ", max rel err " << llvm::format("%.3e", maxRel) << ", "
               << bad << " of " << got.numel() << " elements beyond atol "
               << llvm::format("%g", absTol.getValue()) << " + rtol "
               << llvm::format("%g", relTol.getValue()) << "\n";
  if (bad)
    return makeError(what + " differs from " + refPath);
  return Error::success();
}

static int runFormula(FormulaEngine &fe) {
  if (!tangentsPath.empty() || !outputTangentPath.empty() ||
      !compareTangentPath.empty())
    return fail(makeError(modelPath + ": a formula has no parameters to "
                          "differentiate (--tangents)"));
  Tensor x;
  if (Error e = readMatrix(inputPath, false, fe.inputs,
                           "the formula's number of inputs is", x))
    return fail(std::move(e));
  int64_t n = x.shape[0];
  Model none;
  Tensor y;
  y.allocate({n, fe.outputs}, false);
  if (n > 0)
    if (Error e = fe.engine->forward(none, x.data(), n, y.data()))
      return fail(std::move(e));
  if (!outputPath.empty())
    if (Error e = writeMatrix(outputPath, y))
      return fail(std::move(e));
  if (!comparePath.empty())
    if (Error e = compare(y, comparePath, "output"))
      return fail(std::move(e));
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  kan_keep_freed_memory();
  // Row tiles of the compiled code run on every core by default.
  std::optional<int64_t> threadsOr = cli::takeThreadsOption(
      argc, argv,
      std::clamp<int64_t>(std::thread::hardware_concurrency(), 1,
                          *cli::threads.hi),
      "kan-run");
  if (!threadsOr)
    return 1;
  int64_t numThreads = *threadsOr;
  cl::HideUnrelatedOptions({&cat, &cli::limitsCategory()});
  cl::ParseCommandLineOptions(
      argc, argv,
      "kan-run: evaluate a KAN (forward and JVP) on NPY inputs\n\n"
      "  --threads=N  threads of the compiled code over batch row tiles\n"
      "               (default: the number of cores; at most 1024)\n");
  // A formula (kan-symbolic --format mlir) runs through the same compiled
  // path; it has no parameters and no JVP.
  if (llvm::StringRef(modelPath).ends_with(".mlir")) {
    CompileOptions co;
    co.workDir = workDir;
    auto fe = loadFormulaEngine(modelPath, co);
    if (!fe)
      return fail(fe.takeError());
    if (*fe)
      return runFormula(**fe);
  }
  mlir::MLIRContext ctx;
  auto modelOr = readModelFile(ctx, modelPath);
  if (!modelOr)
    return fail(modelOr.takeError());
  Model &model = *modelOr;
  const ModelShape &s = model.shape;
  Tensor x;
  if (Error e = readMatrix(inputPath, s.f32, s.widths[0],
                           "the model's first width is", x))
    return fail(std::move(e));
  int64_t n = x.shape[0];

  // Tangents first: they decide whether the compiled code differentiates
  // the input too.
  Model tangents;
  Tensor xt;
  std::optional<JvpRequest> jvp;
  if (!tangentsPath.empty()) {
    if (Error e = readTangents(tangentsPath, model, tangents, xt))
      return fail(std::move(e));
    if (!xt.shape.empty() && xt.shape[0] != n)
      return fail(makeError(tangentsPath + ": tangent 'input' has " +
                            llvm::Twine(xt.shape[0]) + " rows but " +
                            inputPath + " has " + llvm::Twine(n)));
    jvp = JvpRequest{!xt.shape.empty()};
  } else if (!outputTangentPath.empty() || !compareTangentPath.empty()) {
    return fail(makeError("--output-tangent/--compare-tangent need --tangents"));
  }
  CompileOptions co;
  co.workDir = workDir;
  co.threads = numThreads;
  auto eng = createCompiledEngine(s, nullptr, co, jvp ? &*jvp : nullptr);
  if (!eng)
    return fail(eng.takeError());
  std::unique_ptr<Engine> engine = std::move(*eng);
  Tensor y;
  y.allocate({n, s.widths.back()}, s.f32);
  if (n > 0)
    if (Error e = engine->forward(model, x.data(), n, y.data()))
      return fail(std::move(e));
  for (size_t i = 0; i < y.numel(); ++i)
    if (!std::isfinite(y.get(i)))
      return fail(makeError("the output contains non-finite values"));
  if (!outputPath.empty())
    if (Error e = writeMatrix(outputPath, y))
      return fail(std::move(e));
  if (!comparePath.empty())
    if (Error e = compare(y, comparePath, "output"))
      return fail(std::move(e));

  if (jvp) {
    Tensor y2, dy;
    y2.allocate({n, s.widths.back()}, s.f32);
    dy.allocate({n, s.widths.back()}, s.f32);
    if (n > 0)
      if (Error e = engine->forwardJvp(model, x.data(), n, tangents,
                                       xt.shape.empty() ? nullptr : xt.data(),
                                       y2.data(), dy.data()))
        return fail(std::move(e));
    if (!outputTangentPath.empty())
      if (Error e = writeMatrix(outputTangentPath, dy))
        return fail(std::move(e));
    if (!compareTangentPath.empty())
      if (Error e = compare(dy, compareTangentPath, "tangent"))
        return fail(std::move(e));
  }
  return 0;
}
