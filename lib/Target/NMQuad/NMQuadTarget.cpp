//===- NMQuadTarget.cpp - NM Quad folder emission ---------------*- C++ -*-===//
//
// A pure printer over the nmc program (CIRCT ExportVerilog rule): the
// schedule, tile sizes, bank placement and DDR map were chosen by
// kan-to-nmc; this file only prints them as core C, host C, a header, a
// Makefile and the assembly tile kernels, and has the driver write the
// model's weights. kan-to-nmc runs in the target's pipeline (Pipeline.cpp),
// never here.
//
//===----------------------------------------------------------------------===//

#include "kan/Target/NMQuad/NMQuadTarget.h"
#include "kan/Target/Common.h"
#include "NMQuadInternal.h"
#include "kan/Conversion/Passes.h"
#include "kan/Target/NMQuad/Kernels/Axpy.h"
#include "kan/Target/NMQuad/Kernels/CostModel.h"
#include "kan/Target/NMQuad/Kernels/GemmTile.h"
#include "kan/Dialect/NMC/NMCOps.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace mlir;
using namespace mlir::kan;

namespace {

std::string exact(double v) { return printExactDouble(v); }

std::string macro(StringRef sym) { return "KAN_ADDR_" + sym.upper(); }

/// The C identifiers of `code`, comments left out.
std::set<std::string> identifiers(StringRef code) {
  std::set<std::string> ids;
  for (size_t i = 0; i < code.size();) {
    if (code.substr(i).starts_with("/*")) {
      size_t e = code.find("*/", i + 2);
      i = e == StringRef::npos ? code.size() : e + 2;
    } else if (isalpha(code[i]) || code[i] == '_') {
      size_t e = i;
      while (e < code.size() && (isalnum(code[e]) || code[e] == '_'))
        ++e;
      ids.insert(code.substr(i, e - i).str());
      i = e;
    } else if (isdigit(code[i])) {
      while (i < code.size() && (isalnum(code[i]) || code[i] == '_'))
        ++i; // a literal such as 24u
    } else {
      ++i;
    }
  }
  return ids;
}

std::string distMacro(nmc::Dist d) {
  return d == nmc::Dist::rademacher ? "KAN_DIST_RADEMACHER" : "KAN_DIST_NORMAL";
}

class CorePrinter {
public:
  CorePrinter(NMQuadProgram &p, llvm::raw_ostream &os)
      : p(p), os(os), cur(&os) {}
  LogicalResult print();

private:
  LogicalResult printOp(Operation *op, int indent);
  std::string ind(int n) { return std::string(2 * n, ' '); }
  nmc::LayerOp layer(int64_t i) { return p.layers[i]; }
  static std::string entryName(nmc::EntryOp e) {
    return std::string("kan_nmc_entry_") +
           nmc::stringifyEntryKind(e.getKind()).str();
  }
  std::string L(int64_t i) { return "&kan_layers[" + std::to_string(i) + "]"; }
  std::string primalInput(int64_t li) {
    return li ? macro("y" + std::to_string(li - 1)) : macro("x");
  }
  /// The kernel table a gemm_tile calls through (one per kernel list).
  std::string tableName(nmc::GemmTileOp o) {
    auto first = cast<SymbolRefAttr>(o.getKernels()[0]);
    auto k = SymbolTable::lookupNearestSymbolFrom<nmc::KernelOp>(o, first);
    return "kan_tiles_" + prec() + "_m" + std::to_string(k.getM());
  }
  bool f32() { return p.program.getPrecision() == nmc::Precision::f32; }
  std::string prec() { return f32() ? "f32" : "f64"; }
  std::string real() { return f32() ? "float" : "double"; }
  /// Output columns of one tile kernel call (f64: 32, f32: 64).
  int64_t blockWidth() { return f32() ? 64 : 32; }
  /// Words per element, as a C literal.
  std::string W() { return f32() ? "1u" : "2u"; }
  /// Words of one Bt panel of the current K chunk (padded for f32).
  std::string panelWords() {
    return f32() ? "kan_nmc_kan_kpad(kc) * 64u" : "2u * kc * 32u";
  }
  struct GemmCtx {
    int64_t layer = 0, m = 0;
    std::string a, c;
    bool prefetch = false;
  };
  NMQuadProgram &p;
  llvm::raw_ostream &os;
  llvm::raw_ostream *cur; // where printOp writes: an entry's body
  GemmCtx gemm;
  bool inTangent = false, tangentHasGemm = false;
};

LogicalResult CorePrinter::printOp(Operation *op, int n) {
  llvm::raw_ostream &os = *cur;
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<nmc::PackWeightsOp>([&](auto o) {
        os << ind(n) << "kan_nmc_kan_pack(" << L(o.getLayer()) << ", B, cc);\n";
        return success();
      })
      .Case<nmc::BarrierOp>([&](auto) {
        os << ind(n) << "kan_nmc_barrier((int)cc->ncores);\n";
        return success();
      })
      .Case<nmc::FeaturesOp>([&](nmc::FeaturesOp o) {
        int64_t li = o.getLayer();
        os << ind(n) << "kan_nmc_kan_share(rows, cc, &r0, &r1);\n";
        if (o.getTangent())
          os << ind(n) << "kan_nmc_kan_features(" << L(li) << ", B, "
             << primalInput(li) << ", " << macro(o.getX()) << ", d, rows, "
             << macro(o.getFeatures()) << ", r0, r1);\n";
        else
          os << ind(n) << "kan_nmc_kan_features(" << L(li) << ", B, "
             << macro(o.getX()) << ", 0, 0, rows, " << macro(o.getFeatures())
             << ", r0, r1);\n";
        return success();
      })
      .Case<nmc::LayerGemmOp>([&](nmc::LayerGemmOp o) -> LogicalResult {
        int64_t li = o.getLayer();
        int64_t nb = blockWidth();
        int64_t nblk = (layer(li).getOutputs() + nb - 1) / nb;
        gemm = GemmCtx();
        gemm.layer = li;
        gemm.a = macro(o.getA());
        gemm.c = macro(o.getC());
        if (o.getTangent()) {
          gemm.c += " + " + W() + " * d * rows * " +
                    std::to_string(layer(li).getOutputs()) + "u";
          gemm.a = macro(o.getA());
          tangentHasGemm = true;
        }
        os << ind(n) << "/* " << o->getName() << " " << li << ": @"
           << o.getC() << " = @" << o.getA() << " @" << o.getBt()
           << "^T, this core's " << (o.getRowsSplit() ? "rows" : "output blocks")
           << " */\n";
        if (o.getRowsSplit())
          os << ind(n) << "kan_nmc_kan_share(rows, cc, &r0, &r1);\n"
             << ind(n) << "b0 = 0u;\n"
             << ind(n) << "b1 = " << nblk << "u;\n";
        else
          os << ind(n) << "kan_nmc_kan_share(" << nblk << "u, cc, &b0, &b1);\n"
             << ind(n) << "r0 = 0u;\n"
             << ind(n) << "r1 = rows;\n";
        for (Operation &inner : o.getBody().front())
          if (failed(printOp(&inner, n)))
            return failure();
        return success();
      })
      .Case<nmc::RowTilesOp>([&](nmc::RowTilesOp o) -> LogicalResult {
        gemm.m = o.getRows();
        os << ind(n) << "for (rb = r0; rb < r1; rb += " << gemm.m
           << "u) { /* " << o->getName() << " */\n"
           << ind(n + 1) << "mm = kan_nmc_kan_min(" << gemm.m
           << "u, r1 - rb);\n";
        for (Operation &inner : o.getBody().front())
          if (failed(printOp(&inner, n + 1)))
            return failure();
        os << ind(n) << "}\n";
        return success();
      })
      .Case<nmc::FillOp>([&](nmc::FillOp o) {
        os << ind(n) << "kan_nmc_kan_zero(" << o.getBuffer() << ", "
           << o.getWords() / nmc::wordsPerElement(p.program.getPrecision())
           << "u);\n";
        return success();
      })
      .Case<nmc::PanelLoopOp>([&](nmc::PanelLoopOp o) -> LogicalResult {
        // Software pipeline: step s starts the double-buffered copies of
        // step s (half s & 1) and runs the rest of step s - 1.
        std::string L = this->L(gemm.layer);
        os << ind(n) << "steps = " << o.getChunks()
           << "u * (b1 - b0); /* " << o->getName() << " */\n"
           << ind(n) << "for (s = 0; s <= steps; ++s) {\n"
           << ind(n + 1) << "if (s < steps) {\n"
           << ind(n + 2) << "q = s / (b1 - b0);\n"
           << ind(n + 2) << "b = b0 + s % (b1 - b0);\n"
           << ind(n + 2) << "kc = kan_nmc_kan_chunk_cols(" << L << ", q);\n";
        gemm.prefetch = true;
        for (Operation &inner : o.getBody().front())
          if (auto c = dyn_cast<nmc::CopyOp>(inner); c && c.getDoubleBuffered())
            if (failed(printOp(c, n + 2)))
              return failure();
        os << ind(n + 1) << "}\n"
           << ind(n + 1) << "if (s == 0u)\n" << ind(n + 2) << "continue;\n"
           << ind(n + 1) << "q = (s - 1u) / (b1 - b0);\n"
           << ind(n + 1) << "b = b0 + (s - 1u) % (b1 - b0);\n"
           << ind(n + 1) << "kc = kan_nmc_kan_chunk_cols(" << L << ", q);\n";
        gemm.prefetch = false;
        for (Operation &inner : o.getBody().front()) {
          auto c = dyn_cast<nmc::CopyOp>(inner);
          if (c && c.getDoubleBuffered()) {
            os << ind(n + 1) << "kan_nmc_kan_wait(&hb[(s - 1u) & 1u]);\n";
            continue;
          }
          if (failed(printOp(&inner, n + 1)))
            return failure();
        }
        os << ind(n) << "}\n";
        return success();
      })
      .Case<nmc::CopyOp>([&](nmc::CopyOp o) -> LogicalResult {
        std::string L = this->L(gemm.layer);
        switch (o.getLayout()) {
        case nmc::CopyLayout::bt_panel: {
          // Panels of another buffer than the layer's W^T (W'_d) share its
          // layout.
          std::string panel = "kan_nmc_kan_panel(" + L + ", q, b)";
          if (o.getSrc() != layer(gemm.layer).getPacked())
            panel = macro(o.getSrc()) + " + (" + panel + " - " +
                    macro(layer(gemm.layer).getPacked()) + ")";
          os << ind(n) << "kan_nmc_kan_start(" << o.getDst()
             << " + (s & 1u) * KAN_BT_HALF, kan_nmc_ddr_range(" << panel << ", "
             << panelWords() << "), " << panelWords() << ", &hb[s & 1u]);\n";
          return success();
        }
        case nmc::CopyLayout::a_rows: {
          int64_t kfull = layer(gemm.layer).getFeatures();
          // f32: rows padded with zero columns to the kernels' K blocks.
          os << ind(n) << "if (b == b0) /* a new K chunk: its A rows */\n"
             << ind(n + 1) << "kan_nmc_kan_get_rows(" << o.getDst() << ", "
             << (f32() ? "kan_nmc_kan_kpad(kc)" : "kc") << ", "
             << macro(o.getSrc()) << " + " << (f32() ? "" : "2u * ") << "(rb * "
             << kfull << "u + q * " << layer(gemm.layer).getChunkColumns()
             << "u), " << kfull << "u, mm, kc);\n";
          return success();
        }
        case nmc::CopyLayout::c_rows:
          os << ind(n) << "kan_nmc_kan_put_c(" << L << ", " << gemm.c << ", "
             << o.getSrc() << ", " << gemm.m << "u, rb, mm, b0, b1);\n";
          return success();
        }
        return o.emitOpError() << "has no printed form";
      })
      .Case<nmc::GemmTileOp>([&](nmc::GemmTileOp o) {
        os << ind(n) << "kan_nmc_gemm_rows_" << prec() << "(" << tableName(o)
           << ", " << o.getKernels().size() << ", " << o.getA() << ", "
           << o.getBt() << " + ((s - 1u) & 1u) * KAN_BT_HALF, " << o.getC()
           << " + (b - b0) * " << gemm.m * o.getN() << "u, (int)mm, (int)"
           << (f32() ? "kan_nmc_kan_kpad(kc)" : "kc") << ");\n";
        return success();
      })
      .Case<nmc::TangentLoopOp>([&](nmc::TangentLoopOp o) -> LogicalResult {
        inTangent = true;
        tangentHasGemm = false;
        os << ind(n) << "for (d = 0; d < " << o.getWidth() << "u; ++d) {\n";
        for (Operation &inner : o.getBody().front())
          if (failed(printOp(&inner, n + 1)))
            return failure();
        os << ind(n) << "}\n";
        inTangent = false;
        return success();
      })
      .Case<nmc::PackTangentOp>([&](nmc::PackTangentOp o) {
        auto st = o.getStreams();
        os << ind(n) << "kan_nmc_fg_pack_tangent(" << L(o.getLayer()) << ", B, "
           << macro(o.getPacked()) << ", " << o.getDraws()
           << ", seed, step, d, " << st[0] << ", " << st[1] << ", " << st[2]
           << ", " << distMacro(o.getDist()) << ", cc);\n";
        return success();
      })
      .Case<nmc::SparseTangentOp>([&](nmc::SparseTangentOp o) {
        int64_t li = o.getLayer();
        os << ind(n) << "nnz = kan_nmc_kan_sparse_draws(" << L(li)
           << ", B, seed, step, d);\n"
           << ind(n) << "kan_nmc_kan_share(rows, cc, &r0, &r1);\n"
           << ind(n) << "kan_nmc_kan_sparse_tangent(" << L(li) << ", B, "
           << macro(o.getFeatures()) << ", " << macro(o.getTangent()) << " + "
           << W() << " * d * rows * " << layer(li).getOutputs()
           << "u, nnz, r0, r1, " << (tangentHasGemm ? 0 : 1) << ");\n";
        return success();
      })
      .Case<nmc::LossOp>([&](nmc::LossOp o) {
        int64_t classes = p.layers.back().getOutputs();
        os << ind(n) << "if (cc->me == 0)\n"
           << ind(n + 1) << "kan_nmc_kan_loss("
           << (o.getKind() == nmc::LossKind::mse) << ", "
           << macro(o.getLogits()) << ", " << macro(o.getTangents()) << ", "
           << macro(o.getTarget()) << ", rows, " << classes << ", "
           << o.getWidth() << ", " << macro(o.getPartials()) << ");\n";
        return success();
      })
      .Case<nmc::HostSyncOp>([&](nmc::HostSyncOp o) {
        // Partials ready (the host collects every chip), then wait for the
        // host to write the combined coefficients.
        os << ind(n) << "kan_nmc_sync(KAN_SYNC_PARTIALS); /* "
           << o->getName() << " " << nmc::stringifyRule(o.getRule()) << " */\n"
           << ind(n) << "kan_nmc_sync(KAN_SYNC_PARTIALS);\n";
        return success();
      })
      .Case<nmc::UpdateOp>([&](nmc::UpdateOp o) {
        auto buf = p.ddr.lookup(o.getParam());
        if (o.getDist() != nmc::Dist::sparse_ternary) {
          // Dense: every core updates its chunks of the parameter.
          os << ind(n) << "kan_nmc_fg_update(" << macro(o.getParam()) << ", "
             << buf.getWords() / 2 << "u, " << macro(o.getCoefficients())
             << ", " << o.getWidth() << "u, " << o.getStream() << "u, "
             << distMacro(o.getDist()) << ", "
             << exact(o.getScale().convertToDouble())
             << ", seed, step, B->coef, uacc, uv, uth, cc);\n";
          return success();
        }
        // Sparse: the owner kan-to-nmc chose, folded onto the cores that run.
        os << ind(n) << "if (cc->me == " << o.getOwner() << "u % cc->ncores)\n"
           << ind(n + 1) << "kan_nmc_kan_update(" << macro(o.getParam()) << ", "
           << buf.getWords() / nmc::wordsPerElement(p.program.getPrecision())
           << "u, " << macro(o.getCoefficients()) << ", " << o.getWidth()
           << "u, " << o.getStream() << "u, "
           << exact(o.getScale().convertToDouble()) << ", "
           << exact(o.getDensity().convertToDouble())
           << ", seed, step, lr_scale, B);\n";
        return success();
      })
      .Default([&](Operation *o) {
        return o->emitOpError() << "is not printed by the NM Quad emitter";
      });
}

LogicalResult CorePrinter::print() {
  os << "/* Generated by kan-translate --target=nmquad. Do not edit.\n"
     << " * One program for every core of every chip (schedule: "
     << p.schedule.getChips() << " chip(s) x " << p.schedule.getCores()
     << " cores, split by " << nmc::stringifySplit(p.schedule.getSplit())
     << ").\n * Built with the runtime's command loop (kan_nmc_model_core.c), "
        "which\n"
     << " * calls the entries through kan_nmc_kan_program below.\n */\n"
     << "#include \"kan_nmc_kan.h\"\n";
  // The runtime's sources are built for one element type (kan_nmc_kan.h);
  // the Makefile's MODEL_DEFS selects it.
  if (f32())
    os << "#ifndef KAN_NMC_F32\n#error \"an f32 program: build with "
          "-DKAN_NMC_F32 (MODEL_DEFS of the Makefile)\"\n#endif\n";
  else
    os << "#ifdef KAN_NMC_F32\n#error \"an f64 program: build without "
          "-DKAN_NMC_F32\"\n#endif\n";
  // Dense perturbations (the fg rule's): their panels and update.
  bool dense = false;
  p.program.walk([&](nmc::PackTangentOp) { dense = true; });
  if (dense)
    os << "#include \"kan_nmc_fg.h\"\n";
  os << "\n#include \"model_params.h\"\n\n";
  for (nmc::BankBufferOp b : p.banks) {
    StringRef name = b.getSymName();
    bool words = name == "draws" || name == "triples";
    // The train step's update buffers are f64 (only f64 programs train).
    bool dbl = name == "coef" || name == "uacc" || name == "uv" ||
               name == "uth" || name == "vdraws";
    int64_t count =
        words ? b.getWords()
        : dbl ? b.getWords() / 2
              : b.getWords() / nmc::wordsPerElement(p.program.getPrecision());
    os << "KAN_NMC_BANK_BUFFER(" << b.getBank() << ", "
       << (words ? "kan_nmc_word"
           : dbl ? "double"
                 : real())
       << ", " << name << ", " << count << ");\n";
  }
  // The FPU kernels this folder carries (nmc.kernel) and, per kernel list
  // of an nmc.gemm_tile, the table the core calls them through.
  os << "\n/* FPU tile kernels: kan_nmc_gemm_tile_" << prec() << "_<m>x"
     << blockWidth() << ".s of this folder. */\n";
  for (nmc::KernelOp k : p.kernels)
    os << "void " << k.getSymName() << "(const " << real() << " *, const "
       << real() << " *, " << real() << " *, int, int, int);\n";
  std::set<std::string> tables;
  for (nmc::GemmTileOp g : p.tiles) {
    std::string name = tableName(g);
    if (!tables.insert(name).second)
      continue;
    os << "static const kan_nmc_tile_" << prec() << " " << name << "["
       << g.getKernels().size() << "] = {";
    for (auto [i, a] : llvm::enumerate(g.getKernels())) {
      auto k = SymbolTable::lookupNearestSymbolFrom<nmc::KernelOp>(
          g, cast<SymbolRefAttr>(a));
      os << (i ? ", " : "") << "{" << k.getM() << ", " << k.getSymName()
         << "}";
    }
    os << "};\n";
  }
  os << "\nstatic const kan_nmc_layer_desc kan_layers[KAN_MODEL_LAYERS] = {\n";
  for (nmc::LayerOp l : p.layers) {
    std::string streams = "-1, -1, -1", density = "0.0";
    if (auto st = p.sparse.lookup(l.getIndex())) {
      auto s = st.getStreams();
      streams = llvm::formatv("{0}, {1}, {2}", s[0], s[1], s[2]).str();
      density = exact(st.getDensity().convertToDouble());
    }
    os << llvm::formatv(
        "  {{{0}u, {1}u, {2}u, {3}u, {4}, {5}u, {6}u, {7}, {8}, {9}, {10}, {11}, "
        "{{{12}}, {13}},\n",
        l.getInputs(), l.getOutputs(), l.getGridSize(), l.getOrder(),
        l.getAct() == nmc::Act::silu ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY",
        l.getChunk(), l.getTileRows(), macro(l.getGrid()), macro(l.getBase()),
        macro(l.getSpline()),
        l.getScaler() ? macro(*l.getScaler()) : std::string("0u"),
        macro(l.getPacked()), streams, density);
  }
  os << "};\n\n";
  // One function per nmc.entry, printed from its body; the command loop
  // that calls them is runtime/nmc/programs/kan_nmc_model_core.c.
  for (nmc::EntryOp e : p.entries) {
    std::string body;
    {
      llvm::raw_string_ostream b(body);
      cur = &b;
      bool ok = true;
      for (Operation &op : e.getBody().front())
        ok = ok && succeeded(printOp(&op, 1));
      cur = &os;
      if (!ok)
        return failure();
    }
    // Locals the body uses (gnu99 -Werror rejects unused ones).
    std::set<std::string> used = identifiers(body);
    auto declare = [&](ArrayRef<StringRef> names, StringRef type,
                       StringRef init) {
      std::string list;
      for (StringRef n : names)
        if (used.count(n.str()))
          list += (list.empty() ? "" : ", ") + n.str() + init.str();
      if (!list.empty())
        os << "  " << type << " " << list << ";\n";
    };
    os << "static void " << entryName(e)
       << "(const kan_nmc_kan_bufs *B, const kan_nmc_kan_core *cc,\n"
       << "    const kan_nmc_kan_cmd *c) {\n";
    for (auto [name, type] :
         {std::pair<StringRef, StringRef>{"rows", "unsigned"},
          {"seed", "unsigned long long"},
          {"step", "unsigned"},
          {"lr_scale", "double"}})
      if (used.count(name.str()))
        os << "  const " << type << " " << name << " = c->" << name << ";\n";
    declare({"r0", "r1", "b0", "b1", "d", "nnz", "rb", "mm", "steps", "s", "q",
             "b", "kc"},
            "unsigned", "");
    if (used.count("hb"))
      os << "  kan_nmc_dma hb[2] = {KAN_NMC_DMA_INIT, KAN_NMC_DMA_INIT};\n";
    if (!used.count("B"))
      os << "  (void)B;\n";
    if (!used.count("cc"))
      os << "  (void)cc;\n";
    os << body << "}\n\n";
  }
  // This core's bank buffers (core-local pointers under emulation, so bound
  // at run time rather than in a static table).
  auto bank = [&](StringRef n) { return p.bankSet.count(n.str()) != 0; };
  os << "void kan_nmc_kan_bind(kan_nmc_kan_bufs *B) {\n"
     << "  B->a = a_panel;\n  B->bt = bt_panel;\n  B->c = c_tile;\n"
     << "  B->grid = grid;\n  B->aux = grid + KAN_GRID_DOUBLES;\n"
     << "  B->x = x_rows;\n"
     << "  B->xt = " << (bank("xt_rows") ? "xt_rows" : "0") << ";\n"
     << "  B->feat = feat;\n"
     << "  B->seg = " << (bank("seg") ? "seg" : "0") << ";\n"
     << "  B->yrow = " << (bank("yrow") ? "yrow" : "0") << ";\n";
  if (bank("draws"))
    os << "  B->idx = (unsigned *)draws;\n  B->sgn = (int *)(draws + "
          "KAN_MAX_DRAWS);\n"
       << "  B->cols = (unsigned *)triples;\n  B->orow = (unsigned *)(triples "
          "+ "
          "KAN_MAX_NNZ);\n"
       << "  B->vals = (double *)(triples + 2u * KAN_MAX_NNZ);\n";
  else
    os << "  B->idx = 0;\n  B->sgn = 0;\n  B->cols = 0;\n  B->orow = 0;\n"
          "  B->vals = 0;\n";
  os << "  B->coef = " << (bank("coef") ? "coef" : "0") << ";\n";
  for (nmc::BankBufferOp b : p.banks)
    if (b.getSymName() == "c_tile")
      os << "  B->c_words = " << b.getWords() << "u;\n";
  os << "  B->bt_half = KAN_BT_HALF;\n  B->seg_cols = KAN_SEG_COLS;\n"
     << "  B->max_nnz = KAN_MAX_NNZ;\n  B->max_draws = KAN_MAX_DRAWS;\n}\n\n";
  // The entries and the DDR addresses the command loop's data commands use
  // (the step's batch drawn on the chip, test rows and their score).
  auto entry = [&](nmc::EntryKind k) {
    for (nmc::EntryOp e : p.entries)
      if (e.getKind() == k)
        return entryName(e);
    return std::string("0");
  };
  bool classes = p.train && p.loss.getKind() != nmc::LossKind::mse;
  os << "const kan_nmc_kan_model kan_nmc_kan_program = {\n"
     << "    " << entry(nmc::EntryKind::forward) << ",\n"
     << "    " << entry(nmc::EntryKind::train_step) << ",\n"
     << "    " << (p.schedule.getSplit() == nmc::Split::outputs)
     << ", /* split_outputs */\n"
     << "    " << macro("io") << ",\n    " << macro("x") << ",\n    "
     << (classes ? macro("target") : "0u") << ",\n    "
     << macro("y" + std::to_string(p.layers.size() - 1)) << ",\n"
     << "    KAN_MODEL_INPUTS,\n    KAN_MODEL_OUTPUTS,\n};\n";
  return success();
}

} // namespace

FailureOr<NMQuadProgram> mlir::kan::collectNMQuadProgram(ModuleOp module) {
  NMQuadProgram p;
  for (auto s : module.getOps<nmc::ScheduleOp>())
    p.schedule = s;
  for (auto pr : module.getOps<nmc::ProgramOp>())
    p.program = pr;
  if (!p.schedule || !p.program)
    return module.emitError() << "no nmc.schedule / nmc.program to print",
           failure();
  for (Operation &op : p.program.getBody().front()) {
    if (auto b = dyn_cast<nmc::BankBufferOp>(op)) {
      p.banks.push_back(b);
      p.bankSet.insert(b.getSymName().str());
    } else if (auto d = dyn_cast<nmc::DdrBufferOp>(op)) {
      p.ddrOrder.push_back(d);
      p.ddr[d.getSymName()] = d;
    } else if (auto l = dyn_cast<nmc::LayerOp>(op)) {
      p.layers.push_back(l);
    } else if (auto e = dyn_cast<nmc::EntryOp>(op)) {
      p.entries.push_back(e);
      if (e.getKind() == nmc::EntryKind::train_step)
        p.train = e;
    } else if (auto k = dyn_cast<nmc::KernelOp>(op)) {
      p.kernels.push_back(k);
    }
  }
  p.program.walk([&](nmc::SparseTangentOp s) { p.sparse[s.getLayer()] = s; });
  p.program.walk([&](nmc::LossOp l) { p.loss = l; });
  p.program.walk([&](nmc::HostSyncOp h) { p.rule = h.getRule(); });
  p.program.walk([&](nmc::GemmTileOp g) {
    p.tiles.push_back(g);
  });
  p.program.walk([&](nmc::UpdateOp u) { p.updates.push_back(u); });
  return p;
}

static LogicalResult writeFile(TargetOutput &out, StringRef name,
                               StringRef text) {
  return out.write(name, text);
}

LogicalResult mlir::kan::emitNMQuad(ModuleOp module, TargetOutput &out,
                                    const NMQuadEmitOptions &options) {
  if (!options.writeWeights)
    return module.emitError() << "the NM Quad emitter needs the model's "
                                 "weights (no writer given)";
  std::optional<std::string> weightsPath = out.pathOf("weights.safetensors");
  if (!weightsPath)
    return module.emitError()
           << "the NM Quad folder carries the model's weights as a file; "
              "this output holds no files";
  // The report prices kernels with the cost model the tool registered; the
  // target has none of its own (tools/nmc-sim provides it).
  if (options.report && !::kan::nmquad::getKernelCostModel())
    return mlir::emitError(module.getLoc())
           << "--report needs an FPU kernel cost model and this program "
              "registers none (kan-translate registers the nmc-sim timing "
              "model)";
  // A bad calibration file stops the emission before anything is written.
  NMQuadCalibration calibration;
  if (!options.calibrationPath.empty()) {
    if (!options.report)
      return mlir::emitError(module.getLoc())
             << "--calibration " << options.calibrationPath
             << ": the calibration is read only for --report";
    std::string error;
    if (failed(readNMQuadCalibration(options.calibrationPath, calibration,
                                     error)))
      return mlir::emitError(module.getLoc()) << "--calibration " << error;
  }
  // The schedule is the pipeline's (kan-to-nmc): this only prints it.
  FailureOr<NMQuadProgram> p = collectNMQuadProgram(module);
  if (failed(p))
    return failure();

  std::string core, host, params, make;
  {
    llvm::raw_string_ostream s(core);
    if (failed(CorePrinter(*p, s).print()))
      return failure();
  }
  {
    llvm::raw_string_ostream s(params);
    printNMQuadParams(*p, s);
  }
  {
    llvm::raw_string_ostream s(host);
    printNMQuadHost(*p, s);
  }
  {
    llvm::raw_string_ostream s(make);
    printNMQuadMakefile(*p, options.runtimePrefix, s);
  }
  // The launcher's parameters, in DDR order, under efficient-kan names.
  // Weights that do not fit stop the emission before any source is written.
  SmallVector<NMQuadParam> launcherParams;
  for (nmc::DdrBufferOp d : p->ddrOrder)
    if (d.getKind() == nmc::DdrKind::param)
      launcherParams.push_back(
          {d.getName()->str(),
           SmallVector<int64_t>(d.getShape()->begin(), d.getShape()->end()),
           p->program.getPrecision() == nmc::Precision::f32});
  if (failed(options.writeWeights(launcherParams, *weightsPath)))
    return failure();
  if (failed(writeFile(out, "model_core.c", core)) ||
      failed(writeFile(out, "model_host.c", host)) ||
      failed(writeFile(out, "model_params.h", params)) ||
      failed(writeFile(out, "Makefile", make)))
    return failure();
  // The dense update's multiply-add kernel, when the core calls it.
  if (needsNMQuadAxpy(*p) &&
      failed(writeFile(out, "kan_nmc_axpy_f64.s", ::kan::nmquad::emitAxpyF64())))
    return failure();
  // One assembly file per nmc.kernel: exactly the symbols the core calls.
  int64_t probeM = 1;
  for (nmc::KernelOp k : p->kernels) {
    ::kan::nmquad::TileShape t;
    t.m = (int)k.getM();
    t.n = (int)k.getN();
    t.kk = 0;
    t.precision = k.getPrecision() == nmc::Precision::f32
                      ? ::kan::nmquad::TilePrecision::F32
                      : ::kan::nmquad::TilePrecision::F64;
    if (!::kan::nmquad::isSupportedTile(t))
      return k.emitOpError() << "has no assembly kernel generator";
    if (failed(writeFile(out, (k.getSymName() + ".s").str(),
                         ::kan::nmquad::emitGemmTile(t))))
      return failure();
    probeM = std::max<int64_t>(probeM, k.getM());
  }
  // The board probe (make probe) times the f64 kernel of the largest row
  // count whatever the model's precision: an f32 folder carries it too.
  if (p->program.getPrecision() == nmc::Precision::f32) {
    ::kan::nmquad::TileShape t;
    t.m = (int)probeM;
    t.n = 32;
    t.kk = 0;
    if (failed(writeFile(
            out, "kan_nmc_gemm_tile_f64_" + std::to_string(probeM) + "x32.s",
            ::kan::nmquad::emitGemmTileF64(t))))
      return failure();
  }
  if (options.report)
    printNMQuadReport(*p,
                      options.calibrationPath.empty() ? nullptr : &calibration,
                      *options.report);
  return success();
}

std::string mlir::kan::defaultNMQuadRuntimePrefix() {
  // <prefix>/bin/kan-translate; getMainExecutable resolves symlinks, so a
  // tool linked into another bin/ still finds its own prefix.
  std::string exe = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&defaultNMQuadRuntimePrefix));
  if (exe.empty())
    return KAN_INSTALL_PREFIX;
  SmallString<256> prefix(llvm::sys::path::parent_path(exe));
  for (auto it = llvm::sys::path::begin(KAN_INSTALL_BINDIR),
            end = llvm::sys::path::end(KAN_INSTALL_BINDIR);
       it != end; ++it)
    prefix = llvm::sys::path::parent_path(prefix);
  return std::string(prefix);
}
