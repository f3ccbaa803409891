//===- KanToNMC.cpp - schedule GEMM-form kan IR on NM Quad cores -*- C++ -*-===//
//
// Reads the layers of @model (kan.pack_weights + kan.feature_gemm) and, if
// present, the noise_step of @train_step, and builds the nmc program every
// core runs. Tile sizes come from the bank budget:
//  - Bt panels are double-buffered in one bank: 2 x Kc x 32 fp64 <= 16384
//    words, so K is cut into chunks of whole inputs, Kc = chunk * (G+k+1);
//  - the A panel (tile_rows x Kc) and the C tile (every 32-wide block of
//    tile_rows rows) each take their own bank; tile_rows is a row count of
//    an f64 tile kernel (1-4, 8, ..., 24);
//  - every layer runs on the FPU kernels: outputs are padded to whole
//    32-wide blocks (zero columns of packed W^T, never copied out), and the
//    last, shorter row tile of a core is covered by smaller kernels (the
//    `nmc.kernel`s the program declares, largest first).
// Each layer GEMM is built as the loop nest the core runs (nmc.row_tiles,
// nmc.panel_loop, copies, kernel calls); the emitter prints it as it is.
// The functions are replaced by the program: the emitter prints only nmc.
//
//===----------------------------------------------------------------------===//

#include "kan/Conversion/NMQuadBoards.h"
#include "kan/Conversion/Passes.h"
#include "kan/Dialect/Kan/KanOps.h"
#include "kan/Dialect/NMC/NMCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace mlir::kan {
#define GEN_PASS_DEF_KANTONMC
#include "kan/Conversion/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;
using namespace mlir::kan;

namespace {

constexpr int64_t kBank = nmc::ProgramOp::kBankWords;

struct LayerPlan {
  int64_t in = 0, out = 0, g = 0, k = 0, chunk = 0, tileRows = 0;
  /// Output block width of the tile kernels (f64: 32, f32: 64) and the
  /// K alignment they need (f32: chunks padded to 64 columns).
  int64_t nb = 32, kAlign = 1;
  nmc::Act act = nmc::Act::silu;
  unsigned gridArg = 0, baseArg = 0, splineArg = 0;
  int scalerArg = -1;
  // Train step.
  SmallVector<int64_t, 3> streams{-1, -1, -1};
  double density = 0;
  /// Dense directions (normal, rademacher: the fg rule's) are packed as
  /// W'_d panels and run on the FPU kernels; sparse ones stay in C.
  bool dense = false;
  nmc::Dist dist = nmc::Dist::sparse_ternary;
  int64_t nnz = 0, maxDraws = 0;
  int64_t gk1() const { return g + k + 1; }
  int64_t features() const { return in * gk1(); }
  int64_t kc() const { return chunk * gk1(); }
  int64_t pad(int64_t cols) const {
    return (cols + kAlign - 1) / kAlign * kAlign;
  }
  /// Rows of packed W^T: every K chunk padded to the kernels' alignment.
  int64_t packedK() const {
    int64_t full = in / chunk, rest = in % chunk;
    return full * pad(kc()) + (rest ? pad(rest * gk1()) : 0);
  }
  int64_t blocks() const { return (out + nb - 1) / nb; }
  int64_t paddedOut() const { return blocks() * nb; }
};

nmc::Dist toNMC(Distribution d) {
  switch (d) {
  case Distribution::normal:
    return nmc::Dist::normal;
  case Distribution::rademacher:
    return nmc::Dist::rademacher;
  case Distribution::sparse_ternary:
    break;
  }
  return nmc::Dist::sparse_ternary;
}

/// kan_sparse_count of the runtime: max(1, floor(density*size + 0.5)).
int64_t sparseCount(int64_t size, double density) {
  double m = std::floor(density * (double)size + 0.5);
  int64_t r = m < 1 ? 1 : (int64_t)m;
  return r > size ? size : r;
}

struct KanToNMCPass : public kan::impl::KanToNMCBase<KanToNMCPass> {
  using KanToNMCBase::KanToNMCBase;
  void runOnOperation() override;
};

void KanToNMCPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto model = module.lookupSymbol<func::FuncOp>("model");
  if (!model) {
    module.emitError() << "kan-to-nmc needs a @model function in GEMM form";
    return signalPassFailure();
  }
  // The board profile: its chips and cores bound the schedule's.
  std::optional<NMQuadBoard> profile;
  if (!board.empty()) {
    profile = getNMQuadBoard(board);
    if (!profile) {
      mlir::emitError(module.getLoc())
          << "kan-to-nmc: board must be mini or quad, got '"
                         << board << "'";
      return signalPassFailure();
    }
    int64_t nChips = chips, nCores = cores;
    if (nChips > profile->chips || nCores > profile->coresPerChip) {
      bool c = nChips > profile->chips;
      mlir::emitError(module.getLoc()) << "the " << profile->name << " board ("
                         << profile->product << ") has "
                         << (c ? profile->chips : profile->coresPerChip)
                         << (c ? " NM6408 chip(s)" : " NMC4 cores per chip")
                         << ": " << (c ? nChips : nCores)
                         << (c ? " chips are " : " cores are ")
                         << (c ? nChips - profile->chips
                               : nCores - profile->coresPerChip)
                         << " too many";
      return signalPassFailure();
    }
  }
  // Layers of the model, in order.
  SmallVector<LayerPlan> layers;
  auto argNo = [&](Value v) -> int {
    auto a = dyn_cast<BlockArgument>(v);
    return a && a.getOwner()->getParentOp() == model ? (int)a.getArgNumber()
                                                     : -1;
  };
  bool failedWalk = false;
  nmc::Precision prec = nmc::Precision::f64;
  model.walk([&](Operation *op) {
    if (isa<kan::LayerOp, kan::LayerJvpOp>(op)) {
      op->emitOpError() << "must be lowered by kan-lower-to-gemm before "
                           "kan-to-nmc";
      failedWalk = true;
    }
    if (isa<kan::SymbolicEdgesOp, kan::SymbolicEdgesJvpOp>(op)) {
      op->emitOpError() << "is not supported by nmquad (symbolic edges run "
                           "on the CPU target)";
      failedWalk = true;
    }
    auto fg = dyn_cast<FeatureGemmOp>(op);
    if (!fg)
      return;
    auto pw = fg.getWeights().getDefiningOp<PackWeightsOp>();
    auto gridT = fg.getGrid().getType();
    Type elt = gridT.getElementType();
    if (!elt.isF64() && !elt.isF32()) {
      fg.emitOpError() << "nmquad builds f64 and f32 layers; this one is "
                       << elt;
      failedWalk = true;
      return;
    }
    nmc::Precision p = elt.isF32() ? nmc::Precision::f32 : nmc::Precision::f64;
    if (!layers.empty() && p != prec) {
      fg.emitOpError() << "is " << elt << " but the layers before it are "
                       << nmc::stringifyPrecision(prec)
                       << ": one core program has one element type";
      failedWalk = true;
      return;
    }
    prec = p;
    if (!pw) {
      fg.emitOpError() << "nmquad needs layers whose weights come from "
                          "kan.pack_weights of @model arguments";
      failedWalk = true;
      return;
    }
    LayerPlan l;
    l.k = fg.getOrder();
    l.in = gridT.getDimSize(0);
    l.g = gridT.getDimSize(1) - 2 * l.k - 1;
    l.out = fg.getWeights().getType().getDimSize(0);
    l.act = fg.getAct() == Activation::silu ? nmc::Act::silu
                                            : nmc::Act::identity;
    if (p == nmc::Precision::f32)
      l.nb = 64, l.kAlign = 64;
    int g = argNo(fg.getGrid()), b = argNo(pw.getBaseWeight()),
        s = argNo(pw.getSplineWeight());
    int sc = pw.getSplineScaler() ? argNo(pw.getSplineScaler()) : -1;
    if (g < 0 || b < 0 || s < 0 || (pw.getSplineScaler() && sc < 0)) {
      fg.emitOpError() << "nmquad needs the grid and weights as @model "
                          "arguments";
      failedWalk = true;
      return;
    }
    l.gridArg = g, l.baseArg = b, l.splineArg = s, l.scalerArg = sc;
    layers.push_back(l);
  });
  if (failedWalk)
    return signalPassFailure();
  if (layers.empty()) {
    model.emitError() << "@model has no kan.feature_gemm";
    return signalPassFailure();
  }

  // The train step, if any: perturbations, loss, updates.
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  int64_t width = 0;
  std::optional<nmc::LossKind> lossKind;
  std::optional<nmc::Rule> rule;
  struct Upd {
    unsigned param;
    int64_t stream;
    double scale, density;
    nmc::Dist dist;
  };
  SmallVector<Upd> updates;
  if (train) {
    // The activity rule's per-example perturbations and second GEMM have no
    // NMC lowering: say which option chose it instead of failing on an op.
    if (train.walk([](PerturbActivityOp) { return WalkResult::interrupt(); })
            .wasInterrupted()) {
      // Local-loss heads are parameters of the step beyond the model's.
      bool local = train.getNumArguments() > model.getNumArguments() + 3;
      train.emitError()
          << "nmquad has no lowering for the activity rule (the train step "
             "was built with kan-build-train-step rule=activity"
          << (local ? " local-losses=true, --rule activity --local-losses"
                    : ", --rule activity")
          << "); build it with rule=ternary or rule=fg";
      return signalPassFailure();
    }
    unsigned li = 0;
    WalkResult r = train.walk([&](Operation *op) -> WalkResult {
      if (auto j = dyn_cast<FeatureGemmJvpOp>(op)) {
        if (li >= layers.size())
          return op->emitOpError() << "has more layers than @model";
        if (!j.getDist() || j.getWeightsTangent())
          return op->emitOpError()
                 << "nmquad supports perturbations regenerated from the seed "
                    "only";
        if (j.getFirstDirection() != 0)
          return op->emitOpError()
                 << "nmquad draws a step's directions from 0; a slice "
                    "starting at direction "
                 << j.getFirstDirection() << " is not supported";
        LayerPlan &l = layers[li++];
        auto st = *j.getStreams();
        l.streams.assign(st.begin(), st.end());
        l.dist = toNMC(*j.getDist());
        l.dense = l.dist != nmc::Dist::sparse_ternary;
        if (!l.dense)
          l.density = j.getDensity()->convertToDouble();
        width = j.getWidth();
      } else if (isa<SoftmaxCrossEntropyJvpOp>(op)) {
        lossKind = nmc::LossKind::cross_entropy;
      } else if (isa<MseJvpOp>(op)) {
        lossKind = nmc::LossKind::mse;
      } else if (auto c = dyn_cast<UpdateCoefficientsOp>(op)) {
        rule = c.getRule() == UpdateRule::fg ? nmc::Rule::fg : nmc::Rule::ternary;
      } else if (auto u = dyn_cast<kan::UpdateOp>(op)) {
        auto a = dyn_cast<BlockArgument>(u.getParam());
        if (!a || a.getArgNumber() < 4)
          return op->emitOpError() << "nmquad updates @train_step parameter "
                                      "arguments only";
        updates.push_back(
            {a.getArgNumber() - 3, (int64_t)u.getStream(),
             u.getScale().convertToDouble(),
             u.getDensity() ? u.getDensity()->convertToDouble() : 0.0,
             toNMC(u.getDist())});
      }
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return signalPassFailure();
    if (li != layers.size() || !lossKind || !rule) {
      train.emitError() << "nmquad could not read the noise_step (layers, "
                           "loss, update rule) of @train_step";
      return signalPassFailure();
    }
  }

  // f32 programs train with sparse ternary directions; the dense ones
  // (the fg rule's) pack W'_d and update through f64 kernels only.
  if (train && prec == nmc::Precision::f32 &&
      llvm::any_of(layers, [](const LayerPlan &l) { return l.dense; })) {
    train.emitError() << "nmquad trains f32 models with sparse ternary "
                         "directions only; dense (normal, rademacher) "
                         "directions are built for f64 models";
    return signalPassFailure();
  }
  // Tile sizes from the bank budget. ew: words per element.
  const int64_t ew = nmc::wordsPerElement(prec);
  const int64_t nb = layers.front().nb;
  int64_t maxKc = 0, maxKcPad = 0, maxOut = 0, maxK = 0, maxTile = 0;
  int64_t maxChunk = 0, maxGridWords = 0, maxNnz = 0, maxDraws = 0;
  for (auto [i, l] : llvm::enumerate(layers)) {
    // Two Bt halves of (padded) Kc x nb elements in one bank.
    l.chunk =
        std::max<int64_t>(1, std::min(l.in, (kBank / (2 * ew * nb)) / l.gk1()));
    if (2 * ew * l.pad(l.kc()) * nb > kBank) {
      model.emitError() << "layer " << i << ": one input's " << l.gk1()
                        << " feature columns do not fit a Bt panel";
      return signalPassFailure();
    }
    int64_t m = prec == nmc::Precision::f64 ? 24 : 12;
    m = std::min(m, kBank / (ew * l.pad(l.kc())));   // A panel, feature rows
    m = std::min(m, kBank / (ew * nb * l.blocks())); // C tile
    {
      // Bank 5: grid chunk and reciprocals, x (and x') rows, feature rows.
      int64_t gt = l.g + 2 * l.k + 1;
      int64_t grid =
          ew * (l.chunk * gt + l.chunk * (4 + l.k * (l.g + 2 * l.k)));
      m = std::min(m, (kBank - grid) / (ew * l.kc() + 2 * ew * l.chunk));
    }
    m = std::min(m, std::max<int64_t>(1, batch)); // no taller than a batch
    while (m > 1 && !nmc::isTileRows(prec, m))
      --m; // a row count some kernel has
    if (m < 1) {
      model.emitError() << "layer " << i << ": " << l.out
                        << " outputs do not fit the C tile bank";
      return signalPassFailure();
    }
    l.tileRows = m;
    maxKc = std::max(maxKc, l.kc());
    maxKcPad = std::max(maxKcPad, l.pad(l.kc()));
    maxOut = std::max(maxOut, l.out);
    maxK = std::max(maxK, l.features());
    maxTile = std::max(maxTile, m);
    maxChunk = std::max(maxChunk, l.chunk);
    int64_t gt = l.g + 2 * l.k + 1;
    int64_t aux = l.chunk * (4 + l.k * (l.g + 2 * l.k));
    maxGridWords = std::max(maxGridWords, ew * (l.chunk * gt + aux));
    if (train && !l.dense) {
      int64_t gk = l.g + l.k, sizes[3] = {l.out * l.in, l.out * l.in * gk,
                                          l.out * l.in};
      for (int t = 0; t < 3; ++t)
        if (l.streams[t] >= 0) {
          int64_t c = sparseCount(sizes[t], l.density);
          l.maxDraws = std::max(l.maxDraws, c);
          l.nnz += t == 2 ? c * gk : c;
        }
      maxNnz = std::max(maxNnz, l.nnz);
      maxDraws = std::max(maxDraws, l.maxDraws);
    }
  }

  std::optional<nmc::Split> splitKind = nmc::symbolizeSplit(split);
  if (!splitKind) {
    module.emitError() << "kan-to-nmc: split must be rows or outputs, got '"
                       << split << "'";
    return signalPassFailure();
  }
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = model.getLoc();
  auto sched = b.create<nmc::ScheduleOp>(loc, chips, cores, *splitKind,
                                         ddrStreams, batch);
  if (failed(sched.verify()))
    return signalPassFailure();
  auto prog = b.create<nmc::ProgramOp>(loc, "kan_core", prec);
  prog.getBody().emplaceBlock();
  b.setInsertionPointToStart(&prog.getBody().front());

  // Banks 0-1 hold code, data and stack. 2-4: the three streams of the
  // tile kernel (Bt, C, A); 5: grid, reciprocals, input and feature rows;
  // 6: sparse-tangent rows; 7: draws and update coefficients.
  auto bank = [&](StringRef name, int64_t bk, int64_t words, bool db = false) {
    words = (words + 3) & ~int64_t(3);
    b.create<nmc::BankBufferOp>(loc, name, bk, words, db);
  };
  int64_t rows = maxTile, chunkRows = rows * maxChunk;
  bank("a_panel", 4, ew * rows * maxKcPad);
  bank("bt_panel", 2, 2 * ew * maxKcPad * nb, true);
  int64_t maxBlocks = (maxOut + nb - 1) / nb;
  bank("c_tile", 3, ew * rows * nb * maxBlocks);
  bank("grid", 5, maxGridWords);
  bank("x_rows", 5, ew * chunkRows);
  if (train)
    bank("xt_rows", 5, ew * chunkRows);
  bank("feat", 5, ew * rows * maxKc);
  bool anySparse = llvm::any_of(layers, [](auto &l) { return !l.dense; });
  bool anyDense = llvm::any_of(layers, [](auto &l) { return l.dense; });
  if (train && anySparse) {
    int64_t seg = std::min(maxK, (kBank - ew * maxOut - 8) / ew);
    bank("yrow", 6, ew * maxOut);
    bank("seg", 6, ew * seg);
    bank("draws", 7, 2 * maxDraws);
    bank("triples", 7, 4 * maxNnz);
  }
  if (train && anyDense) {
    // One output's draws of a chunk: base, spline and scaler.
    int64_t most = 0;
    for (LayerPlan &l : layers)
      most = std::max(most, l.chunk * (l.g + l.k + 2));
    bank("vdraws", 7, 2 * most);
  }
  if (train && llvm::any_of(updates, [](const Upd &u) {
        return u.dist != nmc::Dist::sparse_ternary;
      })) {
    // The dense update's chunk (KAN_NMC_FG_CHUNK doubles): the direction
    // sum apart from the draws and the parameter slice, and -scale.
    constexpr int64_t kChunk = 256;
    bank("uacc", 7, 2 * kChunk);
    bank("uv", 6, 2 * kChunk + 4);
    bank("uth", 6, 2 * kChunk);
  }
  if (train)
    bank("coef", 7, 2 * width);
  if (failed(prog.verify())) {
    prog.emitError() << "the schedule does not fit the banks; reduce the "
                        "density or the layer widths";
    return signalPassFailure();
  }

  // DDR map.
  int64_t addr = 0;
  llvm::StringMap<int64_t> ddrWords;
  auto ddr = [&](StringRef name, int64_t words, nmc::DdrKind kind)
      -> nmc::DdrBufferOp {
    auto d = b.create<nmc::DdrBufferOp>(loc, name, addr, words, kind,
                                        StringAttr(), DenseI64ArrayAttr());
    ddrWords[name] = words;
    addr += (words + 63) & ~int64_t(63);
    return d;
  };
  ddr("io", 64, nmc::DdrKind::io);
  const char *keys[] = {"grid", "base_weight", "spline_weight",
                        "spline_scaler"};
  SmallVector<std::string> argSym(model.getNumArguments());
  for (auto [li, l] : llvm::enumerate(layers)) {
    unsigned args[4] = {l.gridArg, l.baseArg, l.splineArg,
                        (unsigned)l.scalerArg};
    for (int t = 0; t < 4; ++t) {
      if (t == 3 && l.scalerArg < 0)
        continue;
      auto ty = cast<ShapedType>(model.getArgumentTypes()[args[t]]);
      std::string sym = "p" + std::to_string(li) + "_" + keys[t];
      argSym[args[t]] = sym;
      auto d = ddr(sym, ew * ty.getNumElements(), nmc::DdrKind::param);
      d.setNameAttr(b.getStringAttr("layers." + std::to_string(li) + "." +
                                    keys[t]));
      d.setShapeAttr(b.getDenseI64ArrayAttr(ty.getShape()));
    }
  }
  ddr("x", ew * batch * layers.front().in, nmc::DdrKind::input);
  for (auto [li, l] : llvm::enumerate(layers)) {
    ddr("w" + std::to_string(li), ew * l.paddedOut() * l.packedK(),
        nmc::DdrKind::scratch);
    ddr("f" + std::to_string(li), ew * batch * l.features(),
        nmc::DdrKind::scratch);
    ddr("y" + std::to_string(li), ew * batch * l.out,
        li + 1 == layers.size() ? nmc::DdrKind::output : nmc::DdrKind::scratch);
  }
  if (train) {
    for (auto [li, l] : llvm::enumerate(layers))
      ddr("yt" + std::to_string(li), ew * width * batch * l.out,
          nmc::DdrKind::scratch);
    for (auto [li, l] : llvm::enumerate(layers))
      if (l.dense)
        ddr("v" + std::to_string(li), 2 * l.paddedOut() * l.features(),
            nmc::DdrKind::scratch);
    ddr("ft", ew * batch * maxK, nmc::DdrKind::scratch);
    int64_t classes = layers.back().out;
    ddr("target",
        *lossKind == nmc::LossKind::mse ? ew * batch * classes : batch,
        nmc::DdrKind::labels);
    ddr("partials", 2 * (1 + width), nmc::DdrKind::output);
    ddr("coefficients", 2 * width, nmc::DdrKind::io);
  }
  // The partition verifier: the map must fit what the cores of one chip
  // address (the EMI window, or the board's DDR when smaller). The map is
  // linear in the batch: parameters and packed weights, plus per row the
  // input, feature, output and tangent rows.
  {
    int64_t limit = nmc::ProgramOp::kDdrUserWords;
    if (profile)
      limit = std::min(limit, profile->ddrBytesPerChip / 4);
    int64_t perRow = ew * layers.front().in, params = 0, buffers = 0;
    for (Operation &op : prog.getBody().front())
      if (auto d = dyn_cast<nmc::DdrBufferOp>(op)) {
        ++buffers;
        if (d.getKind() == nmc::DdrKind::param)
          params += d.getWords();
      }
    int64_t maxK = 0;
    for (LayerPlan &l : layers) {
      perRow += ew * l.features() + ew * l.out;
      maxK = std::max(maxK, l.features());
      if (train)
        perRow += ew * width * l.out;
    }
    if (train)
      perRow += ew * maxK +
                (*lossKind == nmc::LossKind::mse ? ew * layers.back().out : 1);
    int64_t rowsPerChip = batch;
    int64_t fixed = addr - perRow * rowsPerChip;
    if (addr > limit) {
      auto mib = [](int64_t words) {
        return llvm::formatv("{0:f1} MiB", words * 4.0 / (1 << 20)).str();
      };
      std::string where =
          profile ? ("one chip of the " + profile->name.str() + " board (" +
                     profile->product.str() + ": " +
                     std::to_string(profile->ddrBytesPerChip >> 30) +
                     " GiB DDR per chip, " + mib(limit) +
                     " of it in the cores' window)")
                  : "one chip's DDR window (" + mib(limit) + ")";
      InFlightDiagnostic d = mlir::emitError(prog.getLoc());
      d << "the schedule does not fit " << where << ": the DDR map needs " << mib(addr)
        << ", " << mib(addr - limit) << " too much (parameters "
        << mib(params) << ", packed weights and control "
        << mib(fixed - params) << ", batch buffers of " << rowsPerChip
        << " rows per chip " << mib(perRow * rowsPerChip) << ")";
      int64_t rows = (limit - fixed - 64 * buffers) / perRow;
      if (rows >= 1)
        d << "; lower --batch to at most " << rows << " rows per chip";
      else
        d << "; the model alone does not fit";
      return signalPassFailure();
    }
  }

  for (auto [li, l] : llvm::enumerate(layers)) {
    std::string s = std::to_string(li);
    auto lo = b.create<nmc::LayerOp>(
        loc, li, l.in, l.out, l.g, l.k, l.act, l.chunk, l.tileRows,
        argSym[l.gridArg], argSym[l.baseArg], argSym[l.splineArg],
        l.scalerArg >= 0 ? FlatSymbolRefAttr::get(b.getContext(),
                                                  argSym[l.scalerArg])
                         : FlatSymbolRefAttr(),
        "w" + s);
    (void)lo;
  }

  bool outputs = *splitKind == nmc::Split::outputs;
  auto sym = [&](StringRef n) {
    return FlatSymbolRefAttr::get(b.getContext(), n);
  };
  // The FPU kernels: for each layer's tile_rows m, the kernels a greedy
  // cover of 1..m rows uses (largest that fits first), declared once.
  std::map<int64_t, std::string> kernelSyms;
  auto kernelsFor = [&](int64_t m) {
    SmallVector<int64_t> sizes;
    for (int64_t s = m; s >= 1; --s)
      if (nmc::isTileRows(prec, s))
        sizes.push_back(s);
    std::set<int64_t> used;
    for (int64_t r = 1; r <= m; ++r)
      for (int64_t left = r; left > 0;) {
        int64_t s = *llvm::find_if(sizes, [&](int64_t s) { return s <= left; });
        used.insert(s);
        left -= s;
      }
    SmallVector<Attribute> refs;
    for (auto it = used.rbegin(); it != used.rend(); ++it) {
      std::string name = "kan_nmc_gemm_tile_" +
                         nmc::stringifyPrecision(prec).str() + "_" +
                         std::to_string(*it) + "x" + std::to_string(nb);
      kernelSyms[*it] = name;
      refs.push_back(sym(name));
    }
    return b.getArrayAttr(refs);
  };
  // The loop nest of one layer GEMM on this core: row tiles; per tile the
  // C tile cleared, for each (A, Bt) part the (chunk, block) steps (Bt
  // panels double-buffered, A rows per chunk, the kernels), then the C rows
  // out. Every part adds into the same C tile: C = sum of A_i Bt_i^T.
  using Part = std::pair<std::string, std::string>;
  auto gemmParts = [&](int64_t li, ArrayRef<Part> parts, StringRef c,
                       bool tangent) {
    LayerPlan &l = layers[li];
    int64_t m = l.tileRows, kcMax = l.pad(l.kc());
    auto g = b.create<nmc::LayerGemmOp>(loc, li, parts.front().first,
                                        parts.front().second, c,
                                        outputs ? 0 : 1, tangent);
    g.getBody().emplaceBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&g.getBody().front());
    auto tiles = b.create<nmc::RowTilesOp>(loc, m);
    tiles.getBody().emplaceBlock();
    b.setInsertionPointToStart(&tiles.getBody().front());
    b.create<nmc::FillOp>(loc, "c_tile", ew * m * nb * l.blocks());
    int64_t chunks = (l.in + l.chunk - 1) / l.chunk;
    for (const Part &part : parts) {
      auto panels = b.create<nmc::PanelLoopOp>(loc, chunks);
      panels.getBody().emplaceBlock();
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(&panels.getBody().front());
      b.create<nmc::CopyOp>(loc, part.second, "bt_panel", ew * kcMax * nb,
                            nmc::CopyLayout::bt_panel, true);
      // A copy moves at most a tile's rows, and never more than the
      // buffer holds (a batch smaller than a tile).
      b.create<nmc::CopyOp>(
          loc, part.first, "a_panel",
          std::min(ew * m * kcMax, ddrWords.lookup(part.first)),
          nmc::CopyLayout::a_rows, false);
      b.create<nmc::GemmTileOp>(loc, "a_panel", "bt_panel", "c_tile", m, nb,
                                kcMax, kernelsFor(m));
    }
    // DDR receives the tile's rows without the padding columns.
    b.create<nmc::CopyOp>(loc, "c_tile", c, ew * m * l.out,
                          nmc::CopyLayout::c_rows, false);
  };
  auto gemm = [&](int64_t li, StringRef a, StringRef c, bool tangent) {
    Part part{a.str(), "w" + std::to_string(li)};
    gemmParts(li, part, c, tangent);
  };

  // forward: pack, then per layer features and GEMM.
  auto emitPack = [&]() {
    for (auto [li, l] : llvm::enumerate(layers))
      b.create<nmc::PackWeightsOp>(loc, li, "w" + std::to_string(li),
                                   "bt_panel");
    b.create<nmc::BarrierOp>(loc);
  };
  // The primal half of layer li: its feature rows, then y = A W^T.
  auto primalLayer = [&](size_t li) {
    std::string s = std::to_string(li);
    b.create<nmc::FeaturesOp>(loc, li, li ? "y" + std::to_string(li - 1) : "x",
                              "f" + s, false);
    if (outputs)
      b.create<nmc::BarrierOp>(loc);
    gemm(li, "f" + s, "y" + s, false);
  };
  {
    auto e = b.create<nmc::EntryOp>(loc, nmc::EntryKind::forward);
    e.getBody().emplaceBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&e.getBody().front());
    emitPack();
    for (size_t li = 0; li < layers.size(); ++li) {
      primalLayer(li);
      b.create<nmc::BarrierOp>(loc);
    }
  }
  if (train) {
    auto e = b.create<nmc::EntryOp>(loc, nmc::EntryKind::train_step);
    e.getBody().emplaceBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&e.getBody().front());
    emitPack();
    for (auto [li, l] : llvm::enumerate(layers)) {
      std::string s = std::to_string(li);
      primalLayer(li);
      auto loop = b.create<nmc::TangentLoopOp>(loc, width);
      loop.getBody().emplaceBlock();
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&loop.getBody().front());
        if (l.dense) {
          // y'_d = A'_d W^T + A W'_d^T on the FPU: W'_d packed as panels by
          // every core, then both products in one C tile. The barriers: the
          // panels are read by every core, and rewritten for d + 1.
          std::string v = "v" + s;
          if (li) {
            b.create<nmc::FeaturesOp>(loc, li, "yt" + std::to_string(li - 1),
                                      "ft", true);
            if (outputs)
              b.create<nmc::BarrierOp>(loc);
          }
          b.create<nmc::PackTangentOp>(loc, li, v, "bt_panel", "vdraws",
                                       b.getDenseI64ArrayAttr(l.streams),
                                       l.dist);
          b.create<nmc::BarrierOp>(loc);
          SmallVector<Part, 2> parts;
          if (li)
            parts.push_back({"ft", "w" + s});
          parts.push_back({"f" + s, v});
          gemmParts(li, parts, "yt" + s, true);
          b.create<nmc::BarrierOp>(loc);
        } else {
          if (li) {
            b.create<nmc::FeaturesOp>(loc, li, "yt" + std::to_string(li - 1),
                                      "ft", true);
            if (outputs)
              b.create<nmc::BarrierOp>(loc);
            gemm(li, "ft", "yt" + s, true);
            if (outputs)
              b.create<nmc::BarrierOp>(loc);
          }
          b.create<nmc::SparseTangentOp>(
              loc, b.getI64IntegerAttr(li), sym("f" + s), sym("yt" + s),
              b.getDenseI64ArrayAttr(l.streams), b.getF64FloatAttr(l.density));
        }
      }
      b.create<nmc::BarrierOp>(loc);
    }
    b.create<nmc::LossOp>(loc, *lossKind, "y" + std::to_string(layers.size() - 1),
                          "yt" + std::to_string(layers.size() - 1), "target",
                          "partials", width);
    b.create<nmc::HostSyncOp>(loc, *rule);
    for (auto [i, u] : llvm::enumerate(updates)) {
      b.create<nmc::UpdateOp>(
          loc, sym(argSym[u.param]), sym("coefficients"),
          b.getI64IntegerAttr(u.stream), b.getF64FloatAttr(u.scale),
          b.getF64FloatAttr(u.density), b.getI64IntegerAttr(width),
          b.getI64IntegerAttr((int64_t)i % cores),
          nmc::DistAttr::get(b.getContext(), u.dist));
    }
    b.create<nmc::BarrierOp>(loc);
  }
  // The kernels the GEMMs call, declared after the buffers.
  {
    Operation *firstLayer = nullptr;
    for (Operation &op : prog.getBody().front())
      if (isa<nmc::LayerOp>(op)) {
        firstLayer = &op;
        break;
      }
    b.setInsertionPoint(firstLayer);
    for (auto &[m, name] : kernelSyms)
      b.create<nmc::KernelOp>(loc, name, m, nb, prec);
  }
  if (failed(mlir::verify(prog)))
    return signalPassFailure();
  model.erase();
  if (train)
    train.erase();
}

} // namespace
