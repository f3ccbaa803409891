//===- ModelIR.cpp - models as kan modules with embedded weights ----------===//
//
// kan-import's module: `func.func @model(%x, params...)` of kan.layer ops
// (the CPU target's argument order) and the weights as `dense_resource`
// blobs in the module attribute `kan.weights` (a dictionary from the
// efficient-kan names). Resource blobs are printed as hex of the raw bytes,
// so a round trip through text is bit-exact and the file is self-contained.
//
//===----------------------------------------------------------------------===//

#include "kan/InitAll.h"
#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Tools/Model.h"
#include "kan/Support/Options.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using llvm::Error;
using llvm::Expected;
namespace cli = mlir::kan::cli;

[[maybe_unused]] static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

namespace kan::tools {

void registerToolDialects(MLIRContext &ctx) {
  DialectRegistry registry;
  mlir::kan::registerAllDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

OwningOpRef<ModuleOp> buildModelModule(MLIRContext &ctx,
                                                   const Model &model) {
  registerToolDialects(ctx);
  const ModelShape &s = model.shape;
  OwningOpRef<ModuleOp> module = mlir::kan::buildModel(ctx, s);
  OpBuilder b(&ctx);
  Type elt = s.f32 ? Type(b.getF32Type()) : Type(b.getF64Type());
  auto tensorTy = [&](llvm::ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elt);
  };

  std::vector<NamedAttribute> weights;
  for (const Tensor &t : model.tensors) {
    llvm::ArrayRef<char> bytes(static_cast<const char *>(t.data()), t.bytes());
    std::string blobName = t.name;
    for (char &c : blobName)
      if (c == '.')
        c = '_';
    auto attr = DenseResourceElementsAttr::get(
        tensorTy(t.shape), blobName,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, s.f32 ? 4 : 8));
    weights.emplace_back(b.getStringAttr(t.name), attr);
  }
  (*module)->setAttr("kan.weights", b.getDictionaryAttr(weights));
  std::vector<Attribute> meta;
  for (auto &kv : model.metadata)
    meta.push_back(b.getStrArrayAttr({kv.first, kv.second}));
  if (!meta.empty())
    (*module)->setAttr("kan.metadata", b.getArrayAttr(meta));
  return module;
}

Expected<ModelShape> readModelShape(ModuleOp module, llvm::StringRef what) {
  auto func = module.lookupSymbol<func::FuncOp>("model");
  if (!func)
    return makeError(what + ": no function @model in the module");
  std::vector<mlir::kan::LayerOp> layers;
  func.walk([&](mlir::kan::LayerOp op) { layers.push_back(op); });
  if (layers.empty())
    return makeError(what + ": @model contains no kan.layer");
  ModelShape s;
  s.widths.clear();
  for (auto [l, op] : llvm::enumerate(layers)) {
    auto bw = op.getBaseWeight().getType();
    auto sw = op.getSplineWeight().getType();
    auto grid = op.getGrid().getType();
    if (!bw.hasStaticShape() || !sw.hasStaticShape() || !grid.hasStaticShape())
      return makeError(what + ": kan.layer #" + llvm::Twine(l) +
                       " has dynamic parameter shapes");
    if (l == 0) {
      s.widths.push_back(bw.getDimSize(1));
      s.order = static_cast<int64_t>(op.getOrder());
      s.gridSize = sw.getDimSize(2) - s.order;
      s.f32 = bw.getElementType().isF32();
      s.withScaler = static_cast<bool>(op.getSplineScaler());
    } else if (bw.getDimSize(1) != s.widths.back() ||
               static_cast<int64_t>(op.getOrder()) != s.order ||
               sw.getDimSize(2) - s.order != s.gridSize ||
               static_cast<bool>(op.getSplineScaler()) != s.withScaler ||
               bw.getElementType().isF32() != s.f32) {
      return makeError(what + ": kan.layer #" + llvm::Twine(l) +
                       " does not chain with the previous layer (inputs, "
                       "order, grid size, scaler and dtype must agree)");
    }
    s.widths.push_back(bw.getDimSize(0));
  }
  // Symbolic edges: a kan.symbolic_edges on a layer's output.
  Error err = Error::success();
  func.walk([&](mlir::kan::SymbolicEdgesOp op) {
    auto layer = op.getLayerOutput().getDefiningOp<mlir::kan::LayerOp>();
    auto it = llvm::find(layers, layer);
    if (err || !layer || it == layers.end()) {
      if (!err)
        err = makeError(what + ": a kan.symbolic_edges does not follow a kan.layer");
      return;
    }
    size_t l = it - layers.begin();
    s.symbolic.resize(std::max(s.symbolic.size(), l + 1));
    for (Attribute a : op.getFunctions())
      s.symbolic[l].push_back(cast<StringAttr>(a).str());
  });
  if (err)
    return std::move(err);
  if (Error e = validateShape(s, what))
    return std::move(e);
  return s;
}

bool hasModelWeights(ModuleOp module) { return module->hasAttr("kan.weights"); }

Expected<Model> readModelModule(ModuleOp module, llvm::StringRef what) {
  Expected<ModelShape> s = readModelShape(module, what);
  if (!s)
    return s.takeError();
  Model model = allocateModel(*s);
  auto weights = module->getAttrOfType<DictionaryAttr>("kan.weights");
  if (!weights)
    return makeError(what + ": the module has no weights (module attribute "
                            "'kan.weights', as kan-import writes it)");
  for (Tensor &t : model.tensors) {
    auto attr = weights.getAs<DenseResourceElementsAttr>(t.name);
    if (!attr)
      return makeError(what + ": 'kan.weights' has no dense_resource '" +
                       t.name + "'");
    auto type = attr.getType();
    if (type.getShape() != llvm::ArrayRef<int64_t>(t.shape) ||
        type.getElementType().isF32() != s->f32)
      return makeError(what + ": weight '" + t.name +
                       "' does not match the shape of @model");
    AsmResourceBlob *blob = attr.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != t.bytes())
      return makeError(what + ": blob of weight '" + t.name +
                       "' is missing or has the wrong size");
    std::memcpy(t.data(), blob->getData().data(), t.bytes());
  }
  if (auto meta = module->getAttrOfType<ArrayAttr>("kan.metadata"))
    for (Attribute a : meta) {
      auto kv = dyn_cast<ArrayAttr>(a);
      if (!kv || kv.size() != 2 || !isa<StringAttr>(kv[0]) ||
          !isa<StringAttr>(kv[1]))
        return makeError(what + ": 'kan.metadata' entries must be "
                                "[\"key\", \"value\"] pairs");
      model.metadata.emplace_back(cast<StringAttr>(kv[0]).str(),
                                  cast<StringAttr>(kv[1]).str());
    }
  return model;
}

Expected<Model> readMlirFile(MLIRContext &ctx,
                                         llvm::StringRef path) {
  registerToolDialects(ctx);
  std::string errors;
  llvm::raw_string_ostream os(errors);
  llvm::SourceMgr sm;
  // Bounded (size, nesting) before MLIR's recursive-descent parser sees it.
  auto buffer = cli::readMlirInput(path);
  if (!buffer)
    return buffer.takeError();
  sm.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sm, &ctx, os);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sm, &ctx);
  if (!module)
    return makeError(path + ": cannot parse the module:\n" + os.str());
  return readModelModule(*module, path);
}

Expected<Model> readModelFile(MLIRContext &ctx,
                                          llvm::StringRef path) {
  if (path.ends_with(".mlir") || path.ends_with(".mlirbc"))
    return readMlirFile(ctx, path);
  return readSafetensors(path);
}

} // namespace kan::tools
