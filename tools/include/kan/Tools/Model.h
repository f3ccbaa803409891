//===- Model.h - KAN parameters as the tools hold them ----------*- C++ -*-===//
//
// The tools exchange one in-memory form of a model: its shape plus one flat
// buffer per efficient-kan tensor, in the order of the generated C ABI
// (per layer: grid, base_weight, spline_weight[, spline_scaler]).
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TOOLS_MODEL_H
#define KAN_TOOLS_MODEL_H

#include "kan/Dialect/Kan/KanModel.h"
#include "kanrt/tensor.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <utility>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
class ModuleOp;
template <typename OpTy>
class OwningOpRef;
} // namespace mlir

namespace kan::tools {

/// The compiler's model shape (the tools keep SiLU and a dynamic batch).
using ModelShape = mlir::kan::ModelShape;

/// One named tensor; the data is kept in doubles (or floats packed into the
/// same storage for f32 models) so the buffer is suitably aligned for both.
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<double> storage;
  bool f32 = false;

  size_t numel() const;
  size_t bytes() const { return numel() * (f32 ? 4 : 8); }
  void *data() { return storage.data(); }
  const void *data() const { return storage.data(); }
  void allocate(llvm::ArrayRef<int64_t> newShape, bool isF32);
  double get(size_t i) const;
  void set(size_t i, double v);
};

/// Parameters of a model plus free-form metadata (kept in checkpoints).
struct Model {
  ModelShape shape;
  /// In the generated ABI's order, see tensorsPerLayer().
  std::vector<Tensor> tensors;
  /// Kept in insertion order (files are rewritten byte-identically).
  std::vector<std::pair<std::string, std::string>> metadata;

  void setMeta(llvm::StringRef key, llvm::StringRef value);
  /// The value or "" if absent.
  std::string getMeta(llvm::StringRef key) const;

  Tensor &tensor(size_t layer, size_t which) {
    return tensors[layer * shape.tensorsPerLayer() + which];
  }
  const Tensor &tensor(size_t layer, size_t which) const {
    return tensors[layer * shape.tensorsPerLayer() + which];
  }
  /// Pointers in ABI order, for the generated entry points.
  std::vector<void *> pointers();
};

/// Whether m.tensors[index] is a layer's grid (not trained).
bool isGridTensor(const Model &m, size_t index);
/// The (a, b, c, d) tensor (out x in x 4) of layer l's symbolic edges, or
/// null when the layer has none.
Tensor *symbolicTensor(Model &m, size_t layer);
const Tensor *symbolicTensor(const Model &m, size_t layer);
/// Checkpoint metadata key of layer l's symbolic edge names.
std::string symbolicMetaKey(size_t layer);

/// Index of a tensor kind within a layer.
enum TensorKind : size_t { Grid = 0, BaseWeight = 1, SplineWeight = 2,
                           SplineScaler = 3 };
const char *tensorKindName(size_t which);

/// Allocates the tensors of `shape` (zero-filled).
Model allocateModel(const ModelShape &shape);
/// The names and shapes allocateModel would give, without allocating.
std::vector<std::pair<std::string, std::vector<int64_t>>>
tensorShapes(const ModelShape &shape);

/// The largest model the tools allocate, in parameters (all tensors, grids
/// included); --max-params raises it.
struct ModelLimits {
  uint64_t maxParams = uint64_t(1) << 28;
};
ModelLimits &modelLimits();
/// Parameters of a model of this shape (UINT64_MAX if that overflows).
uint64_t parameterCount(const ModelShape &shape);

/// Checks the shape is usable (at least one layer, widths in [1, 2^24],
/// 1 <= G <= 4096, 0 <= k <= 15, at most modelLimits().maxParams
/// parameters) before anything is allocated; `what` names the source in the
/// message.
llvm::Error validateShape(const ModelShape &shape, llvm::StringRef what);

/// Efficient-kan-like initialisation, deterministic from `seed` (see the
/// implementation for the distributions).
void initializeModel(Model &model, uint64_t seed);

/// Local-loss heads (kan-train --local-losses): one per hidden layer l, an
/// efficient-kan layer from widths[l+1] to the classes (the model's G, k and
/// scaler), its tensors named local.<l>.grid, .base_weight, .spline_weight
/// [, .spline_scaler]. They follow the model's tensors in Model::tensors,
/// as the train step takes them; the model's own tools skip them in files.
std::vector<std::pair<std::string, std::vector<int64_t>>>
localHeadShapes(const ModelShape &shape);
/// Whether the tensor named `name` belongs to a local-loss head.
bool isLocalHeadTensor(llvm::StringRef name);
/// The model's own tensors: those before the first local-loss head's.
size_t modelTensorCount(const Model &m);
/// Appends zero-filled heads (the model must have none yet).
void appendLocalHeads(Model &m);
/// The heads' initialisation, as initializeModel's from `seed` (streams of
/// their own, so the model's layers are those of a run without heads).
void initializeLocalHeads(Model &m, uint64_t seed);
/// Appends the heads stored in the safetensors file `path` (every one
/// checked, shape and dtype).
llvm::Error readLocalHeads(llvm::StringRef path, Model &m);

/// Owns a kan_tensor_map (a safetensors file's tensors and metadata).
struct TensorMap {
  kan_tensor_map map;
  TensorMap() { kan_tensor_map_init(&map); }
  ~TensorMap() { kan_tensor_map_free(&map); }
  TensorMap(const TensorMap &) = delete;
  TensorMap &operator=(const TensorMap &) = delete;
};
/// Reads every tensor and metadata entry of the safetensors file `path`.
llvm::Error readTensorMap(llvm::StringRef path, TensorMap &tm);

/// Reads a safetensors file with efficient-kan keys; G and k come from the
/// shapes (grid columns G+2k+1, spline_weight last dim G+k). Every shape is
/// checked before the model is allocated; a tensor that is not a parameter
/// of the model is an error unless `ignoreUnknown`.
llvm::Expected<Model> readSafetensors(llvm::StringRef path,
                                      bool ignoreUnknown = false);
/// The same from tensors in memory (e.g. a state_dict handed over by
/// Python); `path` names their source in messages.
llvm::Expected<Model> modelFromTensorMap(const kan_tensor_map &map,
                                         llvm::StringRef path,
                                         bool ignoreUnknown = false);
/// Writes the model (and its metadata) atomically.
llvm::Error writeSafetensors(const Model &model, llvm::StringRef path);

/// Reads a tangents file for `model`: the parameter keys (without grid; a
/// missing key means a zero tangent) plus optional `input` (n x I).
llvm::Error readTangents(llvm::StringRef path, const Model &model,
                         Model &tangents, Tensor &input);

/// Builds `func.func @model(x, params...)` of kan.layer ops and attaches the
/// weights as `dense_resource` blobs in the module attribute `kan.weights`.
mlir::OwningOpRef<mlir::ModuleOp> buildModelModule(mlir::MLIRContext &ctx,
                                                   const Model &model);
/// The shape of @model's kan.layer ops (the module need not carry weights).
llvm::Expected<ModelShape> readModelShape(mlir::ModuleOp module,
                                          llvm::StringRef what);
/// Whether the module carries weights (the `kan.weights` attribute).
bool hasModelWeights(mlir::ModuleOp module);
/// Reads the model back from a module written by buildModelModule (or any
/// module with @model of kan.layer ops and a `kan.weights` dictionary).
llvm::Expected<Model> readModelModule(mlir::ModuleOp module,
                                      llvm::StringRef what);
/// Parses an .mlir file and reads the model from it.
llvm::Expected<Model> readMlirFile(mlir::MLIRContext &ctx,
                                   llvm::StringRef path);
/// Reads .safetensors or .mlir by extension.
llvm::Expected<Model> readModelFile(mlir::MLIRContext &ctx,
                                    llvm::StringRef path);

/// Registers the dialects the tools parse and build.
void registerToolDialects(mlir::MLIRContext &ctx);

/// An error carrying the runtime's last message (it names the file).
llvm::Error runtimeError(int status, llvm::StringRef context = "");

} // namespace kan::tools

#endif // KAN_TOOLS_MODEL_H
