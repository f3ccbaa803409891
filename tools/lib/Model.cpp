//===- Model.cpp - KAN parameters: shapes, files, initialisation ----------===//

#include "kan/Tools/Model.h"
#include "kan/Support/Options.h"

#include "kanrt/kanrt.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace kan::tools;
namespace cli = mlir::kan::cli;
using llvm::Error;
using llvm::Expected;

size_t Tensor::numel() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

void Tensor::allocate(llvm::ArrayRef<int64_t> newShape, bool isF32) {
  shape.assign(newShape.begin(), newShape.end());
  f32 = isF32;
  storage.assign((bytes() + 7) / 8, 0.0);
}

double Tensor::get(size_t i) const {
  return f32 ? static_cast<double>(
                   reinterpret_cast<const float *>(storage.data())[i])
             : storage[i];
}

void Tensor::set(size_t i, double v) {
  if (f32)
    reinterpret_cast<float *>(storage.data())[i] = static_cast<float>(v);
  else
    storage[i] = v;
}

void Model::setMeta(llvm::StringRef key, llvm::StringRef value) {
  for (auto &kv : metadata)
    if (kv.first == key) {
      kv.second = value.str();
      return;
    }
  metadata.emplace_back(key.str(), value.str());
}

std::string Model::getMeta(llvm::StringRef key) const {
  for (const auto &kv : metadata)
    if (kv.first == key)
      return kv.second;
  return "";
}

std::vector<void *> Model::pointers() {
  std::vector<void *> p;
  for (Tensor &t : tensors)
    p.push_back(t.data());
  return p;
}

const char *kan::tools::tensorKindName(size_t which) {
  static const char *names[] = {"grid", "base_weight", "spline_weight",
                                "spline_scaler"};
  return which < 4 ? names[which] : "?";
}

Error kan::tools::runtimeError(int status, llvm::StringRef context) {
  std::string msg = kan_last_error();
  if (msg.empty())
    msg = kan_status_string(static_cast<kan_status>(status));
  if (!context.empty())
    msg = context.str() + ": " + msg;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static constexpr size_t kMaxLayers = 1024;

ModelLimits &kan::tools::modelLimits() {
  static ModelLimits limits;
  return limits;
}

static cli::opt<uint64_t, true> maxParamsOpt(
    "max-params",
    llvm::cl::desc("Largest model read or built, in parameters (default "
                   "268435456 = 2^28, 2 GiB of f64); shapes are checked "
                   "against it before anything is allocated (kan-train also "
                   "bounds batch x widest layer by it)"),
    llvm::cl::location(modelLimits().maxParams),
    cli::bounds(cli::positiveLimit),
    llvm::cl::cat(cli::limitsCategory()));

uint64_t kan::tools::parameterCount(const ModelShape &shape) {
  uint64_t total = 0;
  for (const auto &[name, dims] : tensorShapes(shape)) {
    uint64_t n = 1;
    for (int64_t d : dims)
      if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
        return UINT64_MAX;
    if (__builtin_add_overflow(total, n, &total))
      return UINT64_MAX;
  }
  return total;
}

Error kan::tools::validateShape(const ModelShape &shape, llvm::StringRef what) {
  if (shape.widths.size() < 2)
    return makeError(what + ": a model needs at least two widths (one layer)");
  // Every layer becomes code to compile: a bound on their number keeps a
  // hostile width list from turning into hours of compilation.
  if (shape.widths.size() - 1 > kMaxLayers)
    return makeError(what + ": " + llvm::Twine(shape.widths.size() - 1) +
                     " layers, more than " + llvm::Twine(kMaxLayers));
  for (int64_t w : shape.widths)
    if (auto why = cli::check(cli::width, w, "width"))
      return makeError(what + ": " + *why);
  if (auto why = cli::check(cli::gridSize, shape.gridSize,
                                 "grid size G"))
    return makeError(what + ": " + *why);
  if (auto why = cli::check(cli::splineOrder, shape.order,
                                 "spline order k"))
    return makeError(what + ": " + *why +
                     " (the runtime's B-spline kernels support k <= " +
                     llvm::Twine(KAN_MAX_SPLINE_ORDER) + ")");
  if (shape.symbolic.size() > shape.numLayers())
    return makeError(what + ": symbolic edges given for " +
                     llvm::Twine(shape.symbolic.size()) + " layers of " +
                     llvm::Twine(shape.numLayers()));
  for (size_t l = 0; l < shape.symbolic.size(); ++l) {
    if (!shape.hasSymbolic(l))
      continue;
    if (static_cast<int64_t>(shape.symbolic[l].size()) !=
        shape.widths[l] * shape.widths[l + 1])
      return makeError(what + ": layer " + llvm::Twine(l) + " names " +
                       llvm::Twine(shape.symbolic[l].size()) +
                       " symbolic edge functions for " +
                       llvm::Twine(shape.widths[l + 1]) + " x " +
                       llvm::Twine(shape.widths[l]) + " edges");
    for (const std::string &f : shape.symbolic[l])
      if (!f.empty() && kan_symbolic_find(f.c_str()) < 0)
        return makeError(what + ": layer " + llvm::Twine(l) + ": '" + f +
                         "' is not a function of the symbolic library");
    if (shape.f32)
      return makeError(what + ": symbolic edges need an f64 model");
  }
  uint64_t params = parameterCount(shape);
  if (params > modelLimits().maxParams)
    return makeError(what + ": the model has " +
                     (params == UINT64_MAX ? std::string("more than 2^64")
                                           : std::to_string(params)) +
                     " parameters, more than the limit of " +
                     llvm::Twine(modelLimits().maxParams) + " (--max-params)");
  return Error::success();
}

/// The tensors of one KAN layer from `in` to `o` features, named <p>grid,
/// base_weight, spline_weight (and spline_scaler).
static void appendLayerShapes(
    const ModelShape &shape, const std::string &p, int64_t in, int64_t o,
    std::vector<std::pair<std::string, std::vector<int64_t>>> &out) {
  int64_t G = shape.gridSize, k = shape.order;
  out.push_back({p + "grid", {in, G + 2 * k + 1}});
  out.push_back({p + "base_weight", {o, in}});
  out.push_back({p + "spline_weight", {o, in, G + k}});
  if (shape.withScaler)
    out.push_back({p + "spline_scaler", {o, in}});
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
kan::tools::tensorShapes(const ModelShape &shape) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (size_t l = 0; l < shape.numLayers(); ++l)
    appendLayerShapes(shape, "layers." + std::to_string(l) + ".",
                      shape.widths[l], shape.widths[l + 1], out);
  // Symbolic edges' (a, b, c, d), after every layer's tensors (the order of
  // buildModel's arguments).
  for (size_t l = 0; l < shape.numLayers(); ++l)
    if (shape.hasSymbolic(l))
      out.push_back({"layers." + std::to_string(l) + ".symbolic",
                     {shape.widths[l + 1], shape.widths[l], 4}});
  return out;
}

std::string kan::tools::symbolicMetaKey(size_t layer) {
  return "layers." + std::to_string(layer) + ".symbolic_functions";
}

bool kan::tools::isGridTensor(const Model &m, size_t index) {
  return index < m.shape.numLayers() * m.shape.tensorsPerLayer() &&
         index % m.shape.tensorsPerLayer() == Grid;
}

Tensor *kan::tools::symbolicTensor(Model &m, size_t layer) {
  std::string name = "layers." + std::to_string(layer) + ".symbolic";
  for (Tensor &t : m.tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

const Tensor *kan::tools::symbolicTensor(const Model &m, size_t layer) {
  return symbolicTensor(const_cast<Model &>(m), layer);
}

Model kan::tools::allocateModel(const ModelShape &shape) {
  Model m;
  m.shape = shape;
  for (auto &[name, dims] : tensorShapes(shape)) {
    Tensor t;
    t.name = name;
    t.allocate(dims, shape.f32);
    m.tensors.push_back(std::move(t));
  }
  return m;
}

namespace {
/// Uniform doubles in (0,1) from Philox, keyed by the init seed; counter
/// (block, 0, layer-tensor, 0x1417) keeps init streams apart from the
/// optimiser's (whose counters carry a step).
class InitStream {
public:
  InitStream(uint64_t seed, uint32_t stream) : stream(stream) {
    key[0] = static_cast<uint32_t>(seed);
    key[1] = static_cast<uint32_t>(seed >> 32);
  }
  double next() {
    if (used == 2) {
      uint32_t ctr[4] = {block++, 0, stream, 0x1417u};
      kan_philox4x32_10(ctr, key, words);
      used = 0;
    }
    double u = kan_uniform53(words[2 * used], words[2 * used + 1]);
    ++used;
    return u;
  }

private:
  uint32_t key[2];
  uint32_t stream;
  uint32_t block = 0;
  uint32_t words[4] = {0, 0, 0, 0};
  int used = 2;
};
} // namespace

// Efficient-kan's KANLinear.reset_parameters, with these simplifications:
// base_weight and spline_scaler use kaiming_uniform(a = sqrt(5)), i.e.
// U(-1/sqrt(I), 1/sqrt(I)); spline_weight is U(-0.5, 0.5) * 0.1 / G directly
// (efficient-kan least-squares-fits the spline to such noise, which gives
// coefficients of the same scale).
/// One layer's tensors (grid first, tensorsPerLayer() of them) with `in`
/// inputs; the weights draw from the streams stream0 + 0, 1, 2.
static void initializeLayer(const ModelShape &s, Tensor *layer, int64_t in,
                            uint64_t seed, uint32_t stream0) {
  int64_t G = s.gridSize, k = s.order;
  double h = 2.0 / static_cast<double>(G);
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = 0; j < G + 2 * k + 1; ++j)
      layer[Grid].set(i * (G + 2 * k + 1) + j,
                      -1.0 + static_cast<double>(j - k) * h);
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  for (size_t which = BaseWeight; which < s.tensorsPerLayer(); ++which) {
    InitStream rng(seed, stream0 + static_cast<uint32_t>(which - 1));
    double scale =
        which == SplineWeight ? 0.1 / static_cast<double>(G) : 2.0 * bound;
    for (size_t e = 0; e < layer[which].numel(); ++e)
      layer[which].set(e, (rng.next() - 0.5) * scale);
  }
}

void kan::tools::initializeModel(Model &model, uint64_t seed) {
  const ModelShape &s = model.shape;
  for (size_t l = 0; l < s.numLayers(); ++l)
    initializeLayer(s, &model.tensor(l, Grid), s.widths[l], seed,
                    static_cast<uint32_t>(3 * l));
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
kan::tools::localHeadShapes(const ModelShape &shape) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (size_t l = 0; l + 1 < shape.numLayers(); ++l)
    appendLayerShapes(shape, "local." + std::to_string(l) + ".",
                      shape.widths[l + 1], shape.widths.back(), out);
  return out;
}

bool kan::tools::isLocalHeadTensor(llvm::StringRef name) {
  return name.starts_with("local.");
}

size_t kan::tools::modelTensorCount(const Model &m) {
  size_t n = 0;
  while (n < m.tensors.size() && !isLocalHeadTensor(m.tensors[n].name))
    ++n;
  return n;
}

void kan::tools::appendLocalHeads(Model &m) {
  for (auto &[name, dims] : localHeadShapes(m.shape)) {
    Tensor t;
    t.name = name;
    t.allocate(dims, m.shape.f32);
    m.tensors.push_back(std::move(t));
  }
}

void kan::tools::initializeLocalHeads(Model &m, uint64_t seed) {
  const ModelShape &s = m.shape;
  size_t perHead = s.tensorsPerLayer(), first = modelTensorCount(m);
  for (size_t l = 0; l + 1 < s.numLayers(); ++l)
    initializeLayer(s, &m.tensors[first + l * perHead], s.widths[l + 1], seed,
                    0x80000000u + static_cast<uint32_t>(3 * l));
}

Error kan::tools::readTensorMap(llvm::StringRef path, TensorMap &tm) {
  std::string p = path.str();
  if (int st = kan_safetensors_read(p.c_str(), 0, &tm.map))
    return runtimeError(st);
  return Error::success();
}

namespace {
std::string shapeString(const kan_tensor &t) {
  std::string s = "[";
  for (size_t d = 0; d < t.ndim; ++d)
    s += (d ? "," : "") + std::to_string(t.shape[d]);
  return s + "]";
}
} // namespace

/// Checks that `src` has the shape and dtype of `dst` (nothing is copied).
static Error checkLike(const kan_tensor &src, const Tensor &dst,
                       llvm::StringRef path) {
  if (src.ndim != dst.shape.size() ||
      !std::equal(dst.shape.begin(), dst.shape.end(), src.shape,
                  [](int64_t a, size_t b) { return static_cast<size_t>(a) == b; })) {
    std::string want = "[";
    for (auto [i, d] : llvm::enumerate(dst.shape))
      want += (i ? "," : "") + std::to_string(d);
    return makeError(path + ": tensor '" + dst.name + "' has shape " +
                     shapeString(src) + ", expected " + want + "]");
  }
  kan_dtype want = dst.f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64;
  if (src.dtype != want)
    return makeError(path + ": tensor '" + dst.name + "' has dtype " +
                     kan_dtype_name(src.dtype) + ", expected " +
                     kan_dtype_name(want));
  return Error::success();
}

static Error copyInto(const kan_tensor &src, Tensor &dst, llvm::StringRef path) {
  if (Error e = checkLike(src, dst, path))
    return e;
  std::memcpy(dst.data(), src.data, dst.bytes());
  return Error::success();
}

Expected<Model> kan::tools::readSafetensors(llvm::StringRef path,
                                            bool ignoreUnknown) {
  TensorMap tm;
  if (Error e = readTensorMap(path, tm))
    return std::move(e);
  return modelFromTensorMap(tm.map, path, ignoreUnknown);
}

Expected<Model> kan::tools::modelFromTensorMap(const kan_tensor_map &m,
                                               llvm::StringRef path,
                                               bool ignoreUnknown) {
  // A zero dimension holds no bytes but would size the model (a
  // [16777216, 0] base weight makes a 16777216-wide layer).
  for (size_t i = 0; i < m.count; ++i)
    for (size_t d = 0; d < m.tensors[i].ndim; ++d)
      if (m.tensors[i].shape[d] == 0)
        return makeError(path + ": tensor '" + m.names[i] + "' has shape " +
                         shapeString(m.tensors[i]) + ": a dimension is 0");
  auto find = [&](size_t l, const char *n) {
    return kan_tensor_map_find(&m, ("layers." + std::to_string(l) + "." + n).c_str());
  };
  ModelShape shape;
  shape.widths.clear();
  size_t layers = 0;
  while (find(layers, "base_weight"))
    ++layers;
  if (layers == 0)
    return makeError(path + ": no tensor 'layers.0.base_weight' (expected "
                            "efficient-kan keys layers.{l}.grid, base_weight, "
                            "spline_weight, spline_scaler)");
  kan_tensor *first = find(0, "base_weight");
  if (first->dtype != KAN_DTYPE_F32 && first->dtype != KAN_DTYPE_F64)
    return makeError(path + ": 'layers.0.base_weight' has dtype " +
                     kan_dtype_name(first->dtype) + ", expected f32 or f64");
  shape.f32 = first->dtype == KAN_DTYPE_F32;
  shape.withScaler = find(0, "spline_scaler") != nullptr;
  for (size_t l = 0; l < layers; ++l) {
    kan_tensor *bw = find(l, "base_weight");
    if (bw->ndim != 2)
      return makeError(path + ": 'layers." + llvm::Twine(l) +
                       ".base_weight' must be 2-D (out x in), has shape " +
                       shapeString(*bw));
    if (l == 0)
      shape.widths.push_back(static_cast<int64_t>(bw->shape[1]));
    shape.widths.push_back(static_cast<int64_t>(bw->shape[0]));
    for (const char *n : {"grid", "spline_weight"})
      if (!find(l, n))
        return makeError(path + ": missing tensor 'layers." + llvm::Twine(l) +
                         "." + n + "'");
    if ((find(l, "spline_scaler") != nullptr) != shape.withScaler)
      return makeError(path + ": 'spline_scaler' must be present in every "
                              "layer or in none");
  }
  kan_tensor *grid = find(0, "grid"), *spline = find(0, "spline_weight");
  if (grid->ndim != 2 || spline->ndim != 3)
    return makeError(path + ": 'layers.0.grid' must be 2-D and "
                            "'layers.0.spline_weight' 3-D, have shapes " +
                     shapeString(*grid) + " and " + shapeString(*spline));
  int64_t cols = static_cast<int64_t>(grid->shape[1]);
  int64_t last = static_cast<int64_t>(spline->shape[2]);
  shape.order = cols - last - 1;
  shape.gridSize = last - shape.order;
  if (shape.order < 0 || shape.gridSize < 1)
    return makeError(path + ": grid columns (" + llvm::Twine(cols) +
                     ") and spline_weight last dimension (" +
                     llvm::Twine(last) +
                     ") do not fit G+2k+1 and G+k with G >= 1, k >= 0");
  // Symbolic edges: the tensor layers.{l}.symbolic and the names in the
  // metadata layers.{l}.symbolic_functions (comma-separated, out x in).
  auto meta = [&](const std::string &key) -> const char * {
    for (size_t i = 0; i < m.meta_count; ++i)
      if (key == m.meta_keys[i])
        return m.meta_values[i];
    return nullptr;
  };
  for (size_t l = 0; l < layers; ++l) {
    const char *names = meta(symbolicMetaKey(l));
    bool tensor = find(l, "symbolic") != nullptr;
    if (!names && !tensor)
      continue;
    if (!names || !tensor)
      return makeError(path + ": layer " + llvm::Twine(l) + " has " +
                       (tensor ? "a tensor 'layers." + llvm::Twine(l) +
                                     ".symbolic' but no metadata '" +
                                     symbolicMetaKey(l) + "'"
                               : "metadata '" + symbolicMetaKey(l) +
                                     "' but no tensor 'layers." +
                                     llvm::Twine(l) + ".symbolic'"));
    shape.symbolic.resize(l + 1);
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(names).split(parts, ',');
    for (llvm::StringRef p : parts)
      shape.symbolic[l].push_back(p.trim().str());
  }
  if (Error e = validateShape(shape, path))
    return std::move(e);
  // Every shape and dtype first, then the allocation.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected =
      tensorShapes(shape);
  for (const auto &[name, dims] : expected) {
    kan_tensor *src = kan_tensor_map_find(&m, name.c_str());
    if (!src)
      return makeError(path + ": missing tensor '" + name + "'");
    Tensor probe;
    probe.name = name;
    probe.shape = dims;
    probe.f32 = shape.f32;
    if (Error e = checkLike(*src, probe, path))
      return std::move(e);
  }
  // kan-train keeps its optimiser state (momentum, Adam moments) next to
  // the weights as optimizer.* tensors, and the local-loss heads as
  // local.*: not parameters, not an error.
  if (!ignoreUnknown && m.count != expected.size())
    for (size_t i = 0; i < m.count; ++i)
      if (!llvm::StringRef(m.names[i]).starts_with("optimizer.") &&
          !isLocalHeadTensor(m.names[i]) &&
          !llvm::any_of(expected,
                        [&](const auto &e) { return e.first == m.names[i]; }))
        return makeError(path + ": tensor '" + m.names[i] +
                         "' is not a parameter of an efficient-kan model "
                         "with these layers (--ignore-unknown-tensors to "
                         "drop it)");
  Model model = allocateModel(shape);
  for (Tensor &t : model.tensors)
    if (Error e = copyInto(*kan_tensor_map_find(&m, t.name.c_str()), t, path))
      return std::move(e);
  // The symbolic edges' names live in the shape (written back from it).
  for (size_t i = 0; i < m.meta_count; ++i)
    if (!llvm::StringRef(m.meta_keys[i]).ends_with(".symbolic_functions"))
      model.metadata.emplace_back(m.meta_keys[i], m.meta_values[i]);
  return model;
}

Error kan::tools::readLocalHeads(llvm::StringRef path, Model &m) {
  TensorMap tm;
  if (Error e = readTensorMap(path, tm))
    return e;
  size_t first = m.tensors.size();
  appendLocalHeads(m);
  for (size_t i = first; i < m.tensors.size(); ++i) {
    Tensor &t = m.tensors[i];
    kan_tensor *src = kan_tensor_map_find(&tm.map, t.name.c_str());
    if (!src)
      return makeError(path + ": missing tensor '" + t.name +
                       "' (a local-loss head of the run)");
    if (Error e = checkLike(*src, t, path))
      return e;
    if (Error e = copyInto(*src, t, path))
      return e;
  }
  return Error::success();
}

Error kan::tools::readTangents(llvm::StringRef path, const Model &model,
                               Model &tangents, Tensor &input) {
  TensorMap tm;
  if (Error e = readTensorMap(path, tm))
    return std::move(e);
  tangents = allocateModel(model.shape);
  size_t used = 0;
  for (Tensor &t : tangents.tensors) {
    // Grids are data, not trained: a grid key is reported below.
    if (llvm::StringRef(t.name).ends_with(".grid"))
      continue;
    if (kan_tensor *src = kan_tensor_map_find(&tm.map, t.name.c_str())) {
      if (Error e = copyInto(*src, t, path))
        return e;
      ++used;
    }
  }
  input = Tensor();
  if (kan_tensor *src = kan_tensor_map_find(&tm.map, "input")) {
    input.name = "input";
    if (src->ndim != 2 || src->shape[1] != static_cast<size_t>(model.shape.widths[0]))
      return makeError(path + ": tangent 'input' has shape " +
                       shapeString(*src) + ", expected [N," +
                       llvm::Twine(model.shape.widths[0]) + "]");
    input.allocate({static_cast<int64_t>(src->shape[0]),
                    static_cast<int64_t>(src->shape[1])},
                   model.shape.f32);
    if (Error e = copyInto(*src, input, path))
      return e;
    ++used;
  }
  if (used != tm.map.count) {
    for (size_t i = 0; i < tm.map.count; ++i) {
      llvm::StringRef n = tm.map.names[i];
      if (n != "input" && !llvm::any_of(tangents.tensors, [&](const Tensor &t) {
            return t.name == n && !n.ends_with(".grid");
          }))
        return makeError(path + ": tensor '" + n +
                         "' is not a parameter of the model");
    }
  }
  return Error::success();
}

Error kan::tools::writeSafetensors(const Model &model, llvm::StringRef path) {
  TensorMap tm;
  // Sorted names: the layout efficient-kan checkpoints and the golden files
  // use, so an import/export round trip rewrites a file byte for byte.
  std::vector<const Tensor *> order;
  for (const Tensor &t : model.tensors)
    order.push_back(&t);
  llvm::sort(order, [](const Tensor *a, const Tensor *b) { return a->name < b->name; });
  for (auto &kv : model.metadata)
    if (int st = kan_tensor_map_set_meta(&tm.map, kv.first.c_str(), kv.second.c_str()))
      return runtimeError(st, path);
  for (size_t l = 0; l < model.shape.numLayers(); ++l)
    if (model.shape.hasSymbolic(l)) {
      std::string names;
      for (size_t e = 0; e < model.shape.symbolic[l].size(); ++e)
        names += (e ? "," : "") + model.shape.symbolic[l][e];
      if (int st = kan_tensor_map_set_meta(&tm.map, symbolicMetaKey(l).c_str(),
                                           names.c_str()))
        return runtimeError(st, path);
    }
  for (const Tensor *t : order) {
    kan_tensor kt;
    std::memset(&kt, 0, sizeof(kt));
    kt.dtype = t->f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64;
    kt.ndim = t->shape.size();
    for (size_t d = 0; d < kt.ndim; ++d)
      kt.shape[d] = static_cast<size_t>(t->shape[d]);
    kt.data = const_cast<void *>(t->data());
    if (int st = kan_tensor_map_add_copy(&tm.map, t->name.c_str(), &kt))
      return runtimeError(st, path);
  }
  std::string p = path.str();
  if (int st = kan_safetensors_write(p.c_str(), &tm.map))
    return runtimeError(st);
  return Error::success();
}
