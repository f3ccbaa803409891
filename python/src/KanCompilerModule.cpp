//===- KanCompilerModule.cpp - the kancompiler._core extension -----------===//
//
// The C++ side of the `kancompiler` Python package: models held as the
// tools hold them (kan::tools::Model), the JIT-compiled engine of kan-run
// and kan-train, the runtime's replay log and batch order, and the targets'
// emitters. The Python modules (python/kancompiler) convert PyTorch modules,
// state_dicts and tensors and hold the user-facing API.
//
// Every array reaching this file has been made C-contiguous in the model's
// dtype by the Python layer; the checks here are repeated so that no call
// can read past a buffer whatever the caller passes.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Target/CPU/CPUTarget.h"
#include "kan/Target/Common.h"
#include "kan/Target/InitAllTargets.h"
#include "kan/Target/NMQuad/NMQuadTarget.h"
#include "kan/Target/TargetBackend.h"
#include "kan/Tools/Data.h"
#include "kan/Tools/Engine.h"
#include "kan/Tools/Model.h"
#include "nmcsim/TileCost.h"

#include "kanrt/kanrt.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

namespace py = pybind11;
using namespace kan::tools;

namespace {

/// Raised for every error the compiler, the engine or the runtime reports
/// (kancompiler.KanError, a RuntimeError).
struct KanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Raised for arrays of the wrong shape (ValueError) or dtype (TypeError).
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DtypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(llvm::Error e) {
  if (e)
    throw KanError(llvm::toString(std::move(e)));
}
template <typename T>
T check(llvm::Expected<T> v) {
  if (!v)
    throw KanError(llvm::toString(v.takeError()));
  return std::move(*v);
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> arrayShape(const py::array &a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

/// Checks that `a` is a C-contiguous array of `shape` in the model's float
/// type (`f32`), or of int64 when `int64`.
void checkArray(const py::array &a, llvm::ArrayRef<int64_t> shape, bool f32,
                const std::string &what, bool int64 = false) {
  bool ok = int64 ? py::isinstance<py::array_t<int64_t>>(a)
                  : (f32 ? py::isinstance<py::array_t<float>>(a)
                         : py::isinstance<py::array_t<double>>(a));
  if (!ok)
    throw DtypeError(what + ": dtype " + std::string(py::str(a.dtype())) +
                     ", expected " +
                     (int64 ? "int64" : (f32 ? "float32" : "float64")));
  if (!(a.flags() & py::array::c_style))
    throw ShapeError(what + ": the array is not C-contiguous");
  if (arrayShape(a) != std::vector<int64_t>(shape.begin(), shape.end()))
    throw ShapeError(what + ": shape " + shapeString(arrayShape(a)) +
                     ", expected " + shapeString(shape));
}

py::array tensorToArray(const Tensor &t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  py::array out = t.f32 ? py::array(py::dtype::of<float>(), shape)
                        : py::array(py::dtype::of<double>(), shape);
  std::memcpy(out.mutable_data(), t.data(), t.bytes());
  return out;
}

/// A model: shape, weights, metadata.
struct PyModel {
  Model model;

  /// From efficient-kan-named arrays (float32 or float64, any layout).
  static PyModel fromArrays(const py::dict &arrays, const std::string &what) {
    kan_tensor_map map;
    kan_tensor_map_init(&map);
    auto cleanup = llvm::make_scope_exit([&] { kan_tensor_map_free(&map); });
    for (auto item : arrays) {
      std::string name = py::cast<std::string>(item.first);
      py::array a = py::cast<py::array>(item.second);
      kan_tensor t;
      std::memset(&t, 0, sizeof(t));
      if (py::isinstance<py::array_t<double>>(a))
        t.dtype = KAN_DTYPE_F64;
      else if (py::isinstance<py::array_t<float>>(a))
        t.dtype = KAN_DTYPE_F32;
      else
        throw DtypeError(what + ": tensor '" + name + "' has dtype " +
                         std::string(py::str(a.dtype())) +
                         ", expected float32 or float64");
      if (a.ndim() > KAN_MAX_DIMS)
        throw ShapeError(what + ": tensor '" + name + "' has " +
                         std::to_string(a.ndim()) + " dimensions");
      a = py::array::ensure(a, py::array::c_style);
      t.ndim = static_cast<size_t>(a.ndim());
      for (size_t d = 0; d < t.ndim; ++d)
        t.shape[d] = static_cast<size_t>(a.shape(d));
      t.data = const_cast<void *>(a.data());
      if (int st = kan_tensor_map_add_copy(&map, name.c_str(), &t))
        check(runtimeError(st, what));
    }
    PyModel m;
    m.model = check(modelFromTensorMap(map, what));
    return m;
  }

  static PyModel load(const std::string &path) {
    mlir::MLIRContext ctx;
    PyModel m;
    m.model = check(readModelFile(ctx, path));
    return m;
  }

  /// A model of the same shape with every tensor zero (tangents).
  PyModel zerosLike() const {
    PyModel m;
    m.model = allocateModel(model.shape);
    return m;
  }

  Tensor &find(const std::string &name, const std::string &what) {
    for (Tensor &t : model.tensors)
      if (t.name == name)
        return t;
    std::string names;
    for (const Tensor &t : model.tensors)
      names += (names.empty() ? "" : ", ") + t.name;
    throw py::key_error(what + ": '" + name +
                        "' is not a tensor of the model (" + names + ")");
  }

  py::array get(const std::string &name) {
    return tensorToArray(find(name, "model"));
  }

  void set(const std::string &name, const py::array &a,
           const std::string &what) {
    Tensor &t = find(name, what);
    checkArray(a, t.shape, t.f32, what + ": tensor '" + name + "'");
    std::memcpy(t.data(), a.data(), t.bytes());
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const Tensor &t : model.tensors)
      n.push_back(t.name);
    return n;
  }

  void save(const std::string &path) const {
    check(writeSafetensors(model, path));
  }

  /// Every tensor bit for bit equal (names, shapes, dtypes, bytes).
  bool identical(const PyModel &o) const {
    if (o.model.tensors.size() != model.tensors.size())
      return false;
    for (size_t i = 0; i < model.tensors.size(); ++i) {
      const Tensor &a = model.tensors[i], &b = o.model.tensors[i];
      if (a.name != b.name || a.shape != b.shape || a.f32 != b.f32 ||
          std::memcmp(a.data(), b.data(), a.bytes()) != 0)
        return false;
    }
    return true;
  }
};

TrainConfig trainConfig(const py::dict &d) {
  TrainConfig c;
  c.rule = py::cast<std::string>(d["rule"]);
  c.dist = py::cast<std::string>(d["dist"]);
  c.directions = py::cast<int64_t>(d["n"]);
  c.density = py::cast<double>(d["density"]);
  c.lr = py::cast<double>(d["lr"]);
  return c;
}

/// The compiled model of the CPU target (forward, JVP or train step).
struct PyEngine {
  std::unique_ptr<Engine> engine;
  ModelShape shape;
  int64_t directions = 0;
  bool inputTangent = false;

  PyEngine(const PyModel &m, std::optional<py::dict> train, int64_t threads,
           int64_t tileRows, std::string jvp, std::string workDir,
           std::string runtimeDir)
      : shape(m.model.shape) {
    CompileOptions co;
    co.workDir = workDir;
    co.threads = threads;
    co.tileRows = tileRows;
    co.runtimeDir = runtimeDir;
    std::optional<TrainConfig> tc;
    if (train) {
      tc = trainConfig(*train);
      // The same checks (and messages) as kan-train's options.
      check(makeOptimSetup(m.model, *tc).takeError());
      directions = tc->directions;
    }
    std::optional<JvpRequest> jr;
    if (jvp == "weights" || jvp == "input")
      jr = JvpRequest{jvp == "input"};
    else if (!jvp.empty())
      throw std::invalid_argument("jvp must be '', 'weights' or 'input'");
    inputTangent = jr && jr->inputTangent;
    std::string err;
    {
      // Compiling takes a while; other Python threads may run meanwhile.
      py::gil_scoped_release release;
      auto e = createCompiledEngine(shape, tc ? &*tc : nullptr, co,
                                    jr ? &*jr : nullptr);
      if (e)
        engine = std::move(*e);
      else
        err = llvm::toString(e.takeError());
    }
    if (!engine)
      throw KanError(err);
  }

  void checkModel(const PyModel &m) const {
    if (m.model.shape.widths != shape.widths ||
        m.model.shape.gridSize != shape.gridSize ||
        m.model.shape.order != shape.order || m.model.shape.f32 != shape.f32 ||
        m.model.shape.withScaler != shape.withScaler)
      throw ShapeError("the model's shape differs from the one compiled");
  }

  void forward(PyModel &m, const py::array &x, py::array &y) {
    checkModel(m);
    int64_t n = x.ndim() == 2 ? x.shape(0) : -1;
    checkArray(x, {n, shape.widths.front()}, shape.f32, "input");
    checkArray(y, {n, shape.widths.back()}, shape.f32, "output");
    if (n == 0)
      return;
    const void *xp = x.data();
    void *yp = y.mutable_data();
    llvm::Error err = llvm::Error::success();
    {
      py::gil_scoped_release release;
      err = engine->forward(m.model, xp, n, yp);
    }
    check(std::move(err));
  }

  void jvp(PyModel &m, const py::array &x, PyModel &tangents,
           std::optional<py::array> xt, py::array &y, py::array &dy) {
    checkModel(m);
    checkModel(tangents);
    int64_t n = x.ndim() == 2 ? x.shape(0) : -1;
    checkArray(x, {n, shape.widths.front()}, shape.f32, "input");
    if (xt)
      checkArray(*xt, {n, shape.widths.front()}, shape.f32, "input tangent");
    checkArray(y, {n, shape.widths.back()}, shape.f32, "output");
    checkArray(dy, {n, shape.widths.back()}, shape.f32, "output tangent");
    if (xt.has_value() != inputTangent)
      throw KanError("this engine was compiled " +
                     std::string(inputTangent ? "with" : "without") +
                     " an input tangent");
    if (n == 0)
      return;
    const void *xp = x.data(), *xtp = xt ? xt->data() : nullptr;
    void *yp = y.mutable_data(), *dyp = dy.mutable_data();
    llvm::Error err = llvm::Error::success();
    {
      py::gil_scoped_release release;
      err = engine->forwardJvp(m.model, xp, n, tangents.model, xtp, yp, dyp);
    }
    check(std::move(err));
  }

  py::tuple trainStep(PyModel &m, const py::array &x, const py::array &labels,
                      uint64_t seed, int64_t step, double lrScale) {
    checkModel(m);
    if (directions == 0)
      throw KanError("this engine was compiled without a train step");
    int64_t n = x.ndim() == 2 ? x.shape(0) : -1;
    checkArray(x, {n, shape.widths.front()}, shape.f32, "input");
    checkArray(labels, {n}, false, "labels", /*int64=*/true);
    if (n < 1)
      throw ShapeError("a train step needs at least one row");
    if (step < 0 || step >= (int64_t(1) << 32) - 1)
      throw KanError("step " + std::to_string(step) +
                     " is out of range [0, 2^32 - 1)");
    // The compiled step indexes its logits with the labels.
    const int64_t *lp = static_cast<const int64_t *>(labels.data());
    for (int64_t i = 0; i < n; ++i)
      if (lp[i] < 0 || lp[i] >= shape.widths.back())
        throw ShapeError("labels: label " + std::to_string(lp[i]) + " at " +
                         std::to_string(i) + " is not a class in [0, " +
                         std::to_string(shape.widths.back()) + ")");
    double loss = 0;
    std::vector<double> alphas;
    const void *xp = x.data();
    llvm::Error err = llvm::Error::success();
    {
      py::gil_scoped_release release;
      err = engine->trainStep(m.model, xp, lp, n, seed, step, lrScale, loss,
                              alphas);
    }
    check(std::move(err));
    return py::make_tuple(loss, py::array(py::dtype::of<double>(),
                                          {static_cast<py::ssize_t>(alphas.size())},
                                          alphas.data()));
  }
};

/// kan-train's replay log, written step by step.
struct PyReplayWriter {
  kan_replay_writer *writer = nullptr;
  int64_t directions = 0;
  std::string path;

  PyReplayWriter(PyModel &m, const py::dict &train, uint64_t seed,
                 const std::string &logPath, const std::string &initPath,
                 int64_t startStep) {
    if (startStep < 0 || startStep >= (int64_t(1) << 32) - 1)
      throw KanError("step " + std::to_string(startStep) +
                     " is out of range [0, 2^32 - 1)");
    TrainConfig tc = trainConfig(train);
    OptimSetup s = check(makeOptimSetup(m.model, tc));
    kan_optim_config oc{s.kind, s.dist, static_cast<uint32_t>(tc.directions),
                        seed, tc.lr, tc.density};
    std::vector<kan_param> params = runtimeParams(m.model, s);
    if (int st = kan_replay_writer_open(
            logPath.c_str(), &oc, initPath.c_str(),
            static_cast<uint32_t>(startStep), params.size(), params.data(),
            &writer))
      check(runtimeError(st));
    directions = tc.directions;
    path = logPath;
  }
  ~PyReplayWriter() { kan_replay_writer_close(writer); }

  void append(int64_t step, double lrScale, const py::array &alphas) {
    if (!writer)
      throw KanError(path + ": the replay log is closed");
    checkArray(alphas, {directions}, false, "alphas");
    if (int st = kan_replay_writer_append_scaled(
            writer, static_cast<uint32_t>(step), lrScale,
            static_cast<const double *>(alphas.data())))
      check(runtimeError(st));
  }

  void close() {
    kan_status st = kan_replay_writer_close(writer);
    writer = nullptr;
    if (st)
      check(runtimeError(st));
  }
};

/// Reads a replay log: its configuration and initial-checkpoint path.
py::dict replayInfo(const std::string &path) {
  kan_replay_log log{};
  if (int st = kan_replay_read(path.c_str(), &log))
    check(runtimeError(st));
  auto freeLog = llvm::make_scope_exit([&] { kan_replay_log_free(&log); });
  py::dict d;
  d["kind"] = log.config.kind == KAN_OPT_FG         ? "fg"
              : log.config.kind == KAN_OPT_ACTIVITY ? "activity"
                                                    : "ternary";
  d["dist"] = log.config.dist == KAN_DIST_NORMAL       ? "normal"
              : log.config.dist == KAN_DIST_RADEMACHER ? "rademacher"
                                                       : "sparse_ternary";
  d["n"] = log.config.ndir;
  d["seed"] = log.config.seed;
  d["lr"] = log.config.lr;
  d["density"] = log.config.density;
  d["init_checkpoint"] =
      std::string(log.init_checkpoint ? log.init_checkpoint : "");
  d["steps"] = log.nsteps;
  d["start_step"] = log.start_step;
  d["dropped_records"] = log.dropped_records;
  d["dropped_bytes"] = log.dropped_bytes;
  d["final_step"] = log.nsteps ? static_cast<int64_t>(log.steps[log.nsteps - 1]) + 1
                               : int64_t(-1);
  return d;
}

/// Applies every step of the log to `m` (its initial weights) in place.
int64_t replayApply(PyModel &m, const std::string &path) {
  kan_replay_log log{};
  if (int st = kan_replay_read(path.c_str(), &log))
    check(runtimeError(st));
  auto freeLog = llvm::make_scope_exit([&] { kan_replay_log_free(&log); });
  std::vector<kan_param> params;
  for (size_t i = 0; i < log.nparams; ++i) {
    const kan_replay_param &rp = log.params[i];
    Tensor *t = nullptr;
    for (Tensor &c : m.model.tensors)
      if (c.name == rp.name)
        t = &c;
    if (!t)
      throw KanError(path + ": the log names tensor '" + rp.name +
                     "', which the model does not have");
    params.push_back({t->name.c_str(), rp.stream,
                      t->f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64, t->numel(),
                      t->data()});
  }
  if (int st = kan_replay_apply(&log, params.size(), params.data()))
    check(runtimeError(st, path));
  return static_cast<int64_t>(log.nsteps);
}

/// kan-translate on an in-memory model: the target's pipeline, then its
/// sources in `outDir`. Returns the target's report (nmquad) or "".
std::string translate(const PyModel &m, const std::string &target,
                      const std::string &outDir, std::optional<py::dict> train,
                      int64_t tileRows, const std::string &prefix,
                      bool report, const std::string &runtimePrefix) {
  mlir::kan::registerAllTargets();
  ::kan::nmcsim::registerTimingCostModel();
  mlir::MLIRContext ctx;
  auto module = buildModelModule(ctx, m.model);
  std::string unknown;
  llvm::raw_string_ostream unknownOs(unknown);
  const mlir::kan::TargetBackend *backend =
      mlir::kan::findTargetBackend(target, unknownOs);
  if (!backend)
    throw std::invalid_argument(unknown);
  std::unique_ptr<mlir::kan::TargetOptions> options = backend->createOptions();
  std::string optError;
  llvm::raw_string_ostream optErrOs(optError);
  auto set = [&](llvm::StringRef name, const std::string &value) {
    if (options->takesValue(name) &&
        mlir::failed(options->setOption(name, value, optErrOs)))
      throw std::invalid_argument(optError);
  };
  if (train) {
    TrainConfig tc = trainConfig(*train);
    check(makeOptimSetup(m.model, tc).takeError());
    mlir::kan::KanBuildTrainStepOptions to;
    to.rule = tc.rule;
    to.dist = tc.resolvedDist();
    to.directions = tc.directions;
    to.density = tc.density;
    to.lr = tc.lr;
    static_cast<mlir::kan::FrontendOptions &>(*options).setTrainStepOptions(to);
  }
  set("tile-rows", std::to_string(tileRows));
  set("prefix", prefix);
  if (report)
    set("report", "true");
  std::string diag, out;
  llvm::raw_string_ostream diagOs(diag), outOs(out);
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    diagOs << d << "\n";
    return mlir::success();
  });
  // The folder deploys this model: the launcher's weights.safetensors holds
  // its tensors, checked against what the program loads (f64, same shapes).
  std::string weightsError;
  options->writeWeights = [&](llvm::ArrayRef<mlir::kan::DeployedParam> params,
                              llvm::StringRef path) -> mlir::LogicalResult {
    for (const mlir::kan::DeployedParam &p : params) {
      auto it = llvm::find_if(m.model.tensors,
                              [&](const Tensor &t) { return t.name == p.name; });
      if (it == m.model.tensors.end() || it->f32 ||
          llvm::ArrayRef<int64_t>(it->shape) != llvm::ArrayRef<int64_t>(p.shape)) {
        weightsError = "the NM Quad program loads '" + p.name + "' as f64 " +
                       shapeString(p.shape) + ", which the model does not have";
        return mlir::failure();
      }
    }
    if (llvm::Error e = writeSafetensors(m.model, path)) {
      weightsError = llvm::toString(std::move(e));
      return mlir::failure();
    }
    return mlir::success();
  };
  options->runtimePrefix =
      runtimePrefix.empty() ? std::string(KAN_BUILD_PREFIX) : runtimePrefix;
  mlir::PassManager pm(&ctx);
  backend->buildPipeline(pm, *options);
  if (mlir::failed(pm.run(*module)))
    throw KanError("the " + target + " pipeline failed:\n" + diag);
  if (mlir::failed(mlir::kan::emitToStagedDirectory(outDir, [&](llvm::StringRef dir) {
        mlir::kan::DirectoryOutput output(dir);
        return backend->emit(*module, *options, output, outOs);
      })))
    throw KanError("emitting the " + target + " output into " + outDir +
                   " failed:\n" + diag + weightsError);
  return out;
}

} // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "kancompiler's compiled core (see the kancompiler package)";
  kan_keep_freed_memory();

  static py::exception<KanError> kanError(m, "KanError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const KanError &e) {
      kanError(e.what());
    } catch (const ShapeError &e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const DtypeError &e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });

  py::class_<PyModel>(m, "Model")
      .def_static("from_arrays", &PyModel::fromArrays, py::arg("arrays"),
                  py::arg("what") = "state_dict")
      .def_static("load", &PyModel::load, py::arg("path"))
      .def("zeros_like", &PyModel::zerosLike)
      .def("copy", [](const PyModel &p) { return PyModel(p); })
      .def("names", &PyModel::names)
      .def("get", &PyModel::get)
      .def("set", &PyModel::set, py::arg("name"), py::arg("array"),
           py::arg("what") = "state_dict")
      .def("save", &PyModel::save)
      .def("identical", &PyModel::identical)
      .def_property_readonly("widths",
                             [](const PyModel &p) { return p.model.shape.widths; })
      .def_property_readonly("grid_size",
                             [](const PyModel &p) { return p.model.shape.gridSize; })
      .def_property_readonly("spline_order",
                             [](const PyModel &p) { return p.model.shape.order; })
      .def_property_readonly("f32", [](const PyModel &p) { return p.model.shape.f32; })
      .def_property_readonly("with_scaler",
                             [](const PyModel &p) { return p.model.shape.withScaler; })
      .def_property(
          "metadata",
          [](const PyModel &p) {
            py::dict d;
            for (auto &kv : p.model.metadata)
              d[py::str(kv.first)] = kv.second;
            return d;
          },
          [](PyModel &p, const std::map<std::string, std::string> &d) {
            p.model.metadata.clear();
            for (auto &kv : d)
              p.model.setMeta(kv.first, kv.second);
          });

  py::class_<PyEngine>(m, "Engine")
      .def(py::init<const PyModel &, std::optional<py::dict>, int64_t, int64_t,
                    std::string, std::string, std::string>(),
           py::arg("model"), py::arg("train") = py::none(),
           py::arg("threads") = 1, py::arg("tile_rows") = 128,
           py::arg("jvp") = "", py::arg("work_dir") = "",
           py::arg("runtime_dir") = "")
      .def("forward", &PyEngine::forward)
      .def("jvp", &PyEngine::jvp)
      .def("train_step", &PyEngine::trainStep);

  py::class_<PyReplayWriter>(m, "ReplayWriter")
      .def(py::init<PyModel &, const py::dict &, uint64_t, const std::string &,
                    const std::string &, int64_t>(),
           py::arg("model"), py::arg("train"), py::arg("seed"),
           py::arg("path"), py::arg("init_checkpoint"),
           py::arg("start_step") = 0)
      .def("append", &PyReplayWriter::append)
      .def("close", &PyReplayWriter::close);

  m.def("replay_info", &replayInfo, py::arg("path"));
  m.def("replay_apply", &replayApply, py::arg("model"), py::arg("path"));

  py::class_<BatchSampler>(m, "BatchSampler")
      .def(py::init([](int64_t rows, int64_t batch, uint64_t seed) {
             if (rows < 1 || batch < 1)
               throw ShapeError("a batch order needs rows >= 1 and batch >= 1");
             return BatchSampler(rows, batch, seed);
           }),
           py::arg("rows"), py::arg("batch"), py::arg("seed"))
      .def("indices", [](BatchSampler &s, int64_t step) {
        std::vector<int64_t> idx;
        s.indices(step, idx);
        return py::array(py::dtype::of<int64_t>(),
                         {static_cast<py::ssize_t>(idx.size())}, idx.data());
      });

  m.def("translate", &translate, py::arg("model"), py::arg("target"),
        py::arg("out_dir"), py::arg("train") = py::none(),
        py::arg("tile_rows") = 128, py::arg("prefix") = "kan_",
        py::arg("report") = false, py::arg("runtime_prefix") = "");
  m.def("isa", [] { return std::string(kan_isa_name(kan_isa_active())); });
}
