//===- Jit.cpp - compile generated C with the system compiler, dlopen it --===//
//
// The CPU target emits C99; the tools compile it into a shared object in a
// cache directory keyed by a hash of the source and the command line, so a
// second run with the same model shape and options starts immediately.
//
//===----------------------------------------------------------------------===//

#include "kan/Tools/Engine.h"

#include "kan/InitAll.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Transforms/Passes.h"
#include "kanrt/isa.h"
#include "kan/Conversion/Passes.h"
#include "kan/Support/Options.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <dlfcn.h>

using namespace kan::tools;
using llvm::Error;
using llvm::Expected;

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Runtime include dir and static library: the given directory's, else the
/// build tree's (compiled in), else an installed layout next to the
/// executable (<prefix>/bin/..).
static void findRuntime(const CompileOptions &opts, std::string &includeDir,
                        std::string &library) {
  includeDir = KAN_RUNTIME_INCLUDE_DIR;
  library = KAN_RUNTIME_LIBRARY;
  if (opts.runtimeDir.empty() &&
      llvm::sys::fs::exists(includeDir + "/kanrt/kanrt.h") &&
      llvm::sys::fs::exists(library))
    return;
  llvm::SmallString<256> prefix(opts.runtimeDir);
  if (prefix.empty()) {
    std::string exe = llvm::sys::fs::getMainExecutable(
        nullptr, reinterpret_cast<void *>(&findRuntime));
    prefix = llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe));
  }
  llvm::SmallString<256> inc(prefix), lib(prefix);
  llvm::sys::path::append(inc, "include");
  llvm::sys::path::append(lib, "lib", "libkanrt.a");
  includeDir = std::string(inc);
  library = std::string(lib);
}

static std::string cacheRoot(const CompileOptions &opts) {
  if (!opts.workDir.empty()) {
    llvm::SmallString<256> p(opts.workDir);
    llvm::sys::path::append(p, "jit");
    return std::string(p);
  }
  llvm::SmallString<256> p;
  if (auto xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME"); xdg && !xdg->empty())
    p = *xdg;
  else if (auto home = llvm::sys::Process::GetEnv("HOME"); home && !home->empty()) {
    p = *home;
    llvm::sys::path::append(p, ".cache");
  } else {
    llvm::sys::path::system_temp_directory(true, p);
  }
  llvm::sys::path::append(p, "kan");
  return std::string(p);
}

/// Writes through a temporary name and renames, so a concurrent run that
/// compiles the same model never reads a half-written file.
static Error writeFile(llvm::StringRef path, llvm::StringRef text) {
  std::string tmp =
      (path + ".tmp." + llvm::Twine(llvm::sys::Process::getProcessId())).str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec);
    if (ec)
      return makeError(tmp + ": cannot write: " + ec.message());
    os << text;
    os.close();
    if (os.has_error())
      return makeError(tmp + ": write failed");
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path))
    return makeError(path + ": cannot rename: " + ec.message());
  return Error::success();
}

Expected<std::string> kan::tools::compileCached(llvm::StringRef source,
                                                llvm::StringRef header,
                                                const CompileOptions &opts) {
  std::string includeDir, library;
  findRuntime(opts, includeDir, library);
  if (!llvm::sys::fs::exists(library))
    return makeError("cannot find the runtime library libkanrt.a (looked at " +
                     llvm::Twine(KAN_RUNTIME_LIBRARY) + " and " + library + ")");
  std::string cc = "cc";
  if (auto env = llvm::sys::Process::GetEnv("CC"); env && !env->empty())
    cc = *env;
  auto ccPath = llvm::sys::findProgramByName(cc);
  if (!ccPath)
    return makeError("cannot find the C compiler '" + cc +
                     "' (set CC or install gcc)");
  // OpenMP threads over the row tiles (kan_set_threads); the emitted C is
  // the same with or without it. The model is compiled for the runtime's
  // kernel level (KAN_ISA), so a forced level applies to the whole run and
  // the cache keeps one object per level.
  std::vector<std::string> args{*ccPath, "-std=c99", "-O3"};
  if (llvm::StringRef march = kan_isa_cflags(kan_isa_active()); !march.empty())
    args.push_back(march.str());
  for (const char *a : {"-fopenmp", "-fPIC", "-shared", "kan_model.c"})
    args.push_back(a);
  for (std::string a : {"-I" + includeDir, library, std::string("-lm"),
                        std::string("-o"), std::string("model.so")})
    args.push_back(std::move(a));
  std::string key;
  for (auto &a : args)
    key += a + '\0';
  uint64_t h = llvm::xxh3_64bits(llvm::StringRef(key + source.str() + '\0' + header.str()));
  llvm::SmallString<256> dir(cacheRoot(opts));
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  llvm::sys::path::append(dir, hex);
  llvm::SmallString<256> so(dir);
  llvm::sys::path::append(so, "model.so");
  if (llvm::sys::fs::exists(so))
    return std::string(so);
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError(dir + ": cannot create the cache directory: " + ec.message());
  llvm::SmallString<256> c(dir), hdr(dir), log(dir);
  llvm::sys::path::append(c, "kan_model.c");
  llvm::sys::path::append(hdr, "kan_model.h");
  llvm::sys::path::append(log, "compile.log");
  if (Error e = writeFile(c, source))
    return std::move(e);
  if (Error e = writeFile(hdr, header))
    return std::move(e);
  // Compile to a temporary name and rename: concurrent runs never load a
  // half-written object.
  std::string tmp = "model.so.tmp." + std::to_string(llvm::sys::Process::getProcessId());
  args[args.size() - 1] = tmp;
  // Run in the cache dir so the command line (part of the key) is relative.
  std::vector<llvm::StringRef> argv;
  std::string script;
  for (auto &a : args)
    script += "'" + a + "' ";
  std::string shell = "cd '" + std::string(dir) + "' && exec " + script;
  argv = {"/bin/sh", "-c", shell};
  std::string logPath(log);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string err;
  int rc = llvm::sys::ExecuteAndWait("/bin/sh", argv, std::nullopt, redirects,
                                     0, 0, &err);
  if (rc != 0) {
    std::string out;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      out = (*buf)->getBuffer().str();
    return makeError("compiling the generated C failed (" + c + "):\n" + out +
                     (err.empty() ? "" : err));
  }
  llvm::SmallString<256> tmpPath(dir);
  llvm::sys::path::append(tmpPath, tmp);
  if (std::error_code ec = llvm::sys::fs::rename(tmpPath, so))
    return makeError(so + ": cannot rename: " + ec.message());
  return std::string(so);
}

namespace {
using ForwardFn = int (*)(const void *, int64_t, void *const *, void *);
using TrainF64 = int (*)(const double *, const int64_t *, int64_t, uint64_t,
                         int64_t, double, double *const *, double *, double *);
using TrainF32 = int (*)(const float *, const int64_t *, int64_t, uint64_t,
                         int64_t, double, float *const *, float *, float *);
using JvpFn = int (*)(const void *, int64_t, void *const *, void *const *,
                      void *, void *);
using GradFn = int (*)(const void *, const int64_t *, int64_t, uint64_t,
                       int64_t, void *const *, void *const *, void *, void *);
using SetThreadsFn = int (*)(int);

class CompiledEngine final : public Engine {
public:
  CompiledEngine(void *handle, int64_t ndir, bool inputTangent)
      : handle(handle), ndir(ndir), inputTangent(inputTangent) {}
  ~CompiledEngine() override {
    // Keep the library mapped: functions may still be referenced by the
    // caller's error paths at exit; the OS unmaps it.
  }
  llvm::StringRef name() const override { return "compiled"; }
  Error load() {
    fwd = reinterpret_cast<ForwardFn>(dlsym(handle, "kan_forward"));
    train = dlsym(handle, "kan_train_step_scaled");
    grad = reinterpret_cast<GradFn>(dlsym(handle, "kan_train_step_grad"));
    jvp = reinterpret_cast<JvpFn>(dlsym(handle, "kan_forward_jvp"));
    setThreads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "kan_set_threads"));
    if (!fwd)
      return makeError("the compiled model has no kan_forward");
    names = static_cast<const char *const *>(dlsym(handle, "kan_param_names"));
    return Error::success();
  }
  /// The generated code lists its parameters; they must be ours, in order
  /// (local-loss heads after them are the train step's alone).
  Error checkParams(const Model &m) const {
    if (!names)
      return Error::success();
    for (size_t i = 0, e = modelTensorCount(m); i < e; ++i)
      if (!names[i] || m.tensors[i].name != names[i])
        return makeError("the compiled model expects parameter '" +
                         llvm::Twine(names[i] ? names[i] : "(none)") +
                         "' at position " + llvm::Twine(i) + ", not '" +
                         m.tensors[i].name + "'");
    return Error::success();
  }
  Error forward(Model &m, const void *x, int64_t n, void *y) override {
    if (Error e = checkParams(m))
      return e;
    std::vector<void *> p = m.pointers();
    if (int st = fwd(x, n, p.data(), y))
      return runtimeError(st, "kan_forward");
    return Error::success();
  }
  Error forwardJvp(Model &m, const void *x, int64_t n, Model &tangents,
                   const void *xTangent, void *y, void *dy) override {
    if (!jvp)
      return makeError("the compiled model has no kan_forward_jvp");
    if (Error e = checkParams(m))
      return e;
    if (inputTangent != (xTangent != nullptr))
      return makeError("the compiled JVP was built " +
                       llvm::Twine(inputTangent ? "with" : "without") +
                       " an input tangent");
    // Tangent arguments in kan-jvp's order: the input (if duplicated), then
    // every parameter but the grids.
    std::vector<void *> t;
    if (xTangent)
      t.push_back(const_cast<void *>(xTangent));
    for (size_t i = 0; i < tangents.tensors.size(); ++i)
      if (!isGridTensor(m, i))
        t.push_back(tangents.tensors[i].data());
    std::vector<void *> p = m.pointers();
    if (int st = jvp(x, n, p.data(), t.data(), y, dy))
      return runtimeError(st, "kan_forward_jvp");
    return Error::success();
  }
  /// The train step's parameters: the model's and its local-loss heads'.
  Error checkStepParams(const Model &m, const char *what) const {
    if (Error e = checkParams(m))
      return e;
    if (stepParams && m.tensors.size() != stepParams)
      return makeError(llvm::Twine("the compiled step takes ") +
                       llvm::Twine(stepParams) + " " + what + ", not " +
                       llvm::Twine(m.tensors.size()) +
                       " (local-loss heads count)");
    return Error::success();
  }
  size_t stepParams = 0;
  /// Threads over row tiles; 1 where the C was compiled without OpenMP.
  int useThreads(int64_t n) {
    return setThreads ? setThreads(static_cast<int>(n)) : 1;
  }
  Error trainStep(Model &m, const void *x, const int64_t *labels, int64_t n,
                  uint64_t seed, int64_t step, double lrScale, double &loss,
                  std::vector<double> &alphas) override {
    if (!train)
      return makeError("the compiled model has no kan_train_step");
    if (Error e = checkStepParams(m, "parameters"))
      return e;
    std::vector<void *> p = m.pointers();
    alphas.assign(static_cast<size_t>(ndir), 0.0);
    int st;
    if (m.shape.f32) {
      float l = 0;
      std::vector<float> a(static_cast<size_t>(ndir));
      st = reinterpret_cast<TrainF32>(train)(
          static_cast<const float *>(x), labels, n, seed, step, lrScale,
          reinterpret_cast<float *const *>(p.data()), &l, a.data());
      loss = l;
      for (size_t i = 0; i < a.size(); ++i)
        alphas[i] = a[i];
    } else {
      st = reinterpret_cast<TrainF64>(train)(
          static_cast<const double *>(x), labels, n, seed, step, lrScale,
          reinterpret_cast<double *const *>(p.data()), &loss, alphas.data());
    }
    if (st)
      return runtimeError(st, "kan_train_step");
    return Error::success();
  }
  Error trainStepGradient(Model &m, const void *x, const int64_t *labels,
                          int64_t n, uint64_t seed, int64_t step,
                          Model &grads, double &loss,
                          std::vector<double> &alphas) override {
    if (!grad)
      return makeError("the compiled model has no kan_train_step_grad (a "
                       "step built with rule=activity gradient=true)");
    if (Error e = checkStepParams(m, "parameters"))
      return e;
    if (Error e = checkStepParams(grads, "gradient buffers"))
      return e;
    std::vector<void *> p = m.pointers(), g = grads.pointers();
    alphas.assign(static_cast<size_t>(ndir), 0.0);
    int st;
    if (m.shape.f32) {
      float l = 0;
      std::vector<float> a(static_cast<size_t>(ndir));
      st = grad(x, labels, n, seed, step, p.data(), g.data(), &l, a.data());
      loss = l;
      for (size_t i = 0; i < a.size(); ++i)
        alphas[i] = a[i];
    } else {
      st = grad(x, labels, n, seed, step, p.data(), g.data(), &loss,
                alphas.data());
    }
    if (st)
      return runtimeError(st, "kan_train_step_grad");
    return Error::success();
  }

private:
  void *handle;
  int64_t ndir;
  ForwardFn fwd = nullptr;
  void *train = nullptr;
  GradFn grad = nullptr;
  JvpFn jvp = nullptr;
  SetThreadsFn setThreads = nullptr;
  bool inputTangent = false;
  const char *const *names = nullptr;
};
} // namespace

/// Emits a lowered module through the CPU target into memory, compiles it
/// (cached) and loads it. `what` prefixes the messages (a file name).
static Expected<void *> emitCompileAndLoad(mlir::ModuleOp module,
                                           const mlir::kan::CPUTargetOptions &co,
                                           const CompileOptions &opts,
                                           llvm::raw_ostream &os,
                                           const std::string &what,
                                           const std::string &diag) {
  mlir::kan::MemoryOutput out;
  if (mlir::failed(mlir::kan::getCPUTarget().emit(module, co, out, os)))
    return makeError(what + "emitting C failed:\n" + diag);
  const std::string *src = out.lookup(co.prefix + "model.c");
  const std::string *hdr = out.lookup(co.prefix + "model.h");
  if (!src || !hdr)
    return makeError("the CPU target wrote no " + co.prefix + "model.c/.h");
  auto so = compileCached(*src, *hdr, opts);
  if (!so)
    return so.takeError();
  void *handle = dlopen(so->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError(*so + ": cannot load: " + dlerror());
  return handle;
}

Expected<std::unique_ptr<Engine>>
kan::tools::createCompiledEngine(const ModelShape &shape,
                                 const TrainConfig *train,
                                 const CompileOptions &opts,
                                 const JvpRequest *jvpRequest) {
  mlir::MLIRContext ctx;
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  auto module = mlir::kan::buildModel(ctx, shape);
  if (!module)
    return makeError("building the model IR failed");
  // The CPU target's pipeline and emitter, as kan-translate --target=cpu
  // runs them.
  const mlir::kan::TargetBackend &cpu = mlir::kan::getCPUTarget();
  mlir::kan::CPUTargetOptions co;
  if (train) {
    mlir::kan::KanBuildTrainStepOptions to = *train;
    to.dist = train->resolvedDist();
    co.setTrainStepOptions(to);
  }
  co.tileRows = opts.tileRows;
  mlir::PassManager pm(&ctx);
  if (jvpRequest) {
    // kan_forward_jvp: `width` directions along every weight (grids
    // constant) and, if requested, the input.
    std::vector<std::string> activity{jvpRequest->inputTangent ? "dup"
                                                               : "const"};
    for (size_t l = 0; l < shape.numLayers(); ++l)
      for (size_t which = 0; which < shape.tensorsPerLayer(); ++which)
        activity.push_back(which == Grid ? "const" : "dup");
    for (size_t l = 0; l < shape.numLayers(); ++l)
      if (shape.hasSymbolic(l))
        activity.push_back("dup");
    mlir::kan::KanJvpOptions jo;
    jo.funcName = "model";
    jo.width = std::max<int64_t>(1, jvpRequest->width);
    jo.activity = activity;
    pm.addPass(mlir::kan::createKanJvp(jo));
  }
  cpu.buildPipeline(pm, co);
  std::string diag;
  {
    llvm::raw_string_ostream os(diag);
    mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
      os << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(pm.run(*module)))
      return makeError("the CPU pipeline failed:\n" + diag);
  }
  auto handle = emitCompileAndLoad(*module, co, opts, llvm::errs(), "", diag);
  if (!handle)
    return handle.takeError();
  auto engine = std::make_unique<CompiledEngine>(
      *handle, train ? train->directions : 0,
      jvpRequest && jvpRequest->inputTangent);
  if (Error e = engine->load())
    return std::move(e);
  if (train)
    engine->stepParams =
        tensorShapes(shape).size() +
        (train->localLosses ? localHeadShapes(shape).size() : 0);
  int got = engine->useThreads(opts.threads);
  if (opts.verbose && got != opts.threads)
    llvm::errs() << "note: running on " << got << " thread(s)\n";
  return std::unique_ptr<Engine>(std::move(engine));
}

Expected<std::optional<FormulaEngine>>
kan::tools::loadFormulaEngine(llvm::StringRef path, const CompileOptions &opts) {
  mlir::MLIRContext ctx;
  mlir::DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  std::string diag;
  llvm::raw_string_ostream os(diag);
  llvm::SourceMgr sm;
  // Bounded (size, nesting) before MLIR's recursive-descent parser sees it.
  auto buffer = mlir::kan::cli::readMlirInput(path);
  if (!buffer)
    return buffer.takeError();
  sm.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sm, &ctx, os);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sm, &ctx);
  if (!module)
    return makeError(path + ": cannot parse the module:\n" + diag);
  FormulaEngine fe;
  bool any = false;
  for (auto f : module->getOps<mlir::func::FuncOp>())
    if (mlir::kan::isFormulaName(f.getName())) {
      any = true;
      fe.inputs = f.getNumArguments();
      fe.outputs += 1;
    }
  if (!any)
    return std::nullopt;
  // The CPU target as kan-translate --target=cpu runs it; its pipeline
  // starts with kan-formula-to-emitc.
  const mlir::kan::TargetBackend &cpu = mlir::kan::getCPUTarget();
  mlir::kan::CPUTargetOptions co;
  mlir::PassManager pm(&ctx);
  cpu.buildPipeline(pm, co);
  if (mlir::failed(pm.run(*module)))
    return makeError(path + ": the CPU pipeline failed:\n" + diag);
  auto handle =
      emitCompileAndLoad(*module, co, opts, os, (path + ": ").str(), diag);
  if (!handle)
    return handle.takeError();
  auto engine = std::make_unique<CompiledEngine>(*handle, 0, false);
  if (Error e = engine->load())
    return std::move(e);
  fe.engine = std::move(engine);
  return std::optional<FormulaEngine>(std::move(fe));
}
