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
#include "kan/Target/NMQuad/Kernels/GemmTile.h"
#include "nmc/NMCOps.h"

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

class CorePrinter {
public:
  CorePrinter(NMQuadProgram &p, llvm::raw_ostream &os) : p(p), os(os) {}
  LogicalResult print();

private:
  LogicalResult printOp(Operation *op, int indent);
  std::string ind(int n) { return std::string(2 * n, ' '); }
  nmc::LayerOp layer(int64_t i) { return p.layers[i]; }
  std::string L(int64_t i) { return "&kan_layers[" + std::to_string(i) + "]"; }
  std::string primalInput(int64_t li) {
    return li ? macro("y" + std::to_string(li - 1)) : macro("x");
  }
  NMQuadProgram &p;
  llvm::raw_ostream &os;
  unsigned updates = 0;
  bool inTangent = false, tangentHasGemm = false;
};

LogicalResult CorePrinter::printOp(Operation *op, int n) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<nmc::PackWeightsOp>([&](auto o) {
        os << ind(n) << "kan_nmc_kan_pack(" << L(o.getLayer()) << ", &B, &cc);\n";
        return success();
      })
      .Case<nmc::BarrierOp>([&](auto) {
        os << ind(n) << "kan_nmc_barrier((int)cc.ncores);\n";
        return success();
      })
      .Case<nmc::FeaturesOp>([&](nmc::FeaturesOp o) {
        int64_t li = o.getLayer();
        os << ind(n) << "kan_nmc_kan_share(rows, &cc, &r0, &r1);\n";
        if (o.getTangent())
          os << ind(n) << "kan_nmc_kan_features(" << L(li) << ", &B, "
             << primalInput(li) << ", " << macro(o.getX()) << ", d, rows, "
             << macro(o.getFeatures()) << ", r0, r1);\n";
        else
          os << ind(n) << "kan_nmc_kan_features(" << L(li) << ", &B, "
             << macro(o.getX()) << ", 0, 0, rows, " << macro(o.getFeatures())
             << ", r0, r1);\n";
        return success();
      })
      .Case<nmc::LayerGemmOp>([&](nmc::LayerGemmOp o) {
        int64_t li = o.getLayer();
        int64_t nblk = (layer(li).getOutputs() + 31) / 32;
        std::string c = macro(o.getC());
        if (o.getTangent()) {
          c += " + 2u * d * rows * " + std::to_string(layer(li).getOutputs()) +
               "u";
          tangentHasGemm = true;
        }
        os << ind(n) << "/* " << nmc::GemmTileOp::getOperationName()
           << " tiles: see the report */\n";
        if (o.getRowsSplit())
          os << ind(n) << "kan_nmc_kan_share(rows, &cc, &r0, &r1);\n"
             << ind(n) << "kan_nmc_kan_gemm(" << L(li) << ", &B, "
             << macro(o.getA()) << ", " << c << ", r0, r1, 0, " << nblk
             << ");\n";
        else
          os << ind(n) << "kan_nmc_kan_share(" << nblk << ", &cc, &r0, &r1);\n"
             << ind(n) << "kan_nmc_kan_gemm(" << L(li) << ", &B, "
             << macro(o.getA()) << ", " << c << ", 0, rows, r0, r1);\n";
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
      .Case<nmc::SparseTangentOp>([&](nmc::SparseTangentOp o) {
        int64_t li = o.getLayer();
        os << ind(n) << "nnz = kan_nmc_kan_sparse_draws(" << L(li)
           << ", &B, seed, step, d);\n"
           << ind(n) << "kan_nmc_kan_share(rows, &cc, &r0, &r1);\n"
           << ind(n) << "kan_nmc_kan_sparse_tangent(" << L(li) << ", &B, "
           << macro(o.getFeatures()) << ", " << macro(o.getTangent())
           << " + 2u * d * rows * " << layer(li).getOutputs() << "u, nnz, r0, r1, "
           << (tangentHasGemm ? 0 : 1) << ");\n";
        return success();
      })
      .Case<nmc::LossOp>([&](nmc::LossOp o) {
        int64_t classes = p.layers.back().getOutputs();
        os << ind(n) << "if (cc.me == 0)\n"
           << ind(n + 1) << "kan_nmc_kan_loss(" << (o.getKind() == "mse")
           << ", " << macro(o.getLogits()) << ", " << macro(o.getTangents())
           << ", " << macro(o.getTarget()) << ", rows, " << classes << ", "
           << o.getWidth() << ", " << macro(o.getPartials()) << ");\n";
        return success();
      })
      .Case<nmc::HostSyncOp>([&](nmc::HostSyncOp o) {
        // Partials ready (the host collects every chip), then wait for the
        // host to write the combined coefficients.
        os << ind(n) << "kan_nmc_sync(KAN_SYNC_PARTIALS); /* " << o.getWhat()
           << " */\n"
           << ind(n) << "kan_nmc_sync(KAN_SYNC_PARTIALS);\n";
        return success();
      })
      .Case<nmc::UpdateOp>([&](nmc::UpdateOp o) {
        auto buf = p.ddr.lookup(o.getParam());
        os << ind(n) << "if (cc.me == " << updates++ << "u % cc.ncores)\n"
           << ind(n + 1) << "kan_nmc_kan_update(" << macro(o.getParam()) << ", "
           << buf.getWords() / 2 << "u, " << macro(o.getCoefficients()) << ", "
           << o.getWidth() << "u, " << o.getStream() << "u, "
           << exact(o.getScale().convertToDouble()) << ", "
           << exact(o.getDensity().convertToDouble()) << ", seed, step, B.coef);\n";
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
     << " cores, split by " << p.schedule.getSplit() << ").\n */\n"
     << "#include \"kan_nmc_kan.h\"\n\n#include \"model_params.h\"\n\n";
  for (nmc::BankBufferOp b : p.banks) {
    StringRef name = b.getSymName();
    bool words = name == "draws" || name == "triples";
    int64_t count = words ? b.getWords() : b.getWords() / 2;
    os << "KAN_NMC_BANK_BUFFER(" << b.getBank() << ", "
       << (words ? "kan_nmc_word" : "double") << ", " << name << ", " << count
       << ");\n";
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
        l.getAct() == "silu" ? "KAN_ACT_SILU" : "KAN_ACT_IDENTITY",
        l.getChunk(), l.getTileRows(), macro(l.getGrid()), macro(l.getBase()),
        macro(l.getSpline()),
        l.getScaler() ? macro(*l.getScaler()) : std::string("0u"),
        macro(l.getPacked()), streams, density);
  }
  os << "};\n\n";
  auto bank = [&](StringRef n) { return p.bankSet.count(n.str()) != 0; };
  os << "int KAN_NMC_CORE_MAIN(void) {\n"
     << "  unsigned paddr = 0, plen = 0, rows, r0, r1, d, nnz;\n"
     << "  unsigned long long seed;\n  unsigned step;\n"
     << "  kan_nmc_kan_bufs B;\n  kan_nmc_kan_core cc;\n"
     << "  const kan_nmc_word *io;\n"
     << "  kan_nmc_sync_array(0, 0, 0, &paddr, &plen);\n"
     << "  B.a = a_panel;\n  B.bt = bt_panel;\n  B.c = c_tile;\n"
     << "  B.grid = grid;\n  B.aux = grid + KAN_GRID_DOUBLES;\n"
     << "  B.x = x_rows;\n"
     << "  B.xt = " << (bank("xt_rows") ? "xt_rows" : "0") << ";\n"
     << "  B.feat = feat;\n"
     << "  B.seg = " << (bank("seg") ? "seg" : "0") << ";\n"
     << "  B.yrow = " << (bank("yrow") ? "yrow" : "0") << ";\n";
  if (bank("draws"))
    os << "  B.idx = (unsigned *)draws;\n  B.sgn = (int *)(draws + "
          "KAN_MAX_DRAWS);\n"
       << "  B.cols = (unsigned *)triples;\n  B.orow = (unsigned *)(triples + "
          "KAN_MAX_NNZ);\n"
       << "  B.vals = (double *)(triples + 2u * KAN_MAX_NNZ);\n"
       << "  B.coef = coef;\n";
  else
    os << "  B.idx = 0;\n  B.sgn = 0;\n  B.cols = 0;\n  B.orow = 0;\n"
          "  B.vals = 0;\n  B.coef = 0;\n";
  os << "  B.bt_half = KAN_BT_HALF;\n  B.seg_cols = KAN_SEG_COLS;\n"
     << "  B.max_nnz = KAN_MAX_NNZ;\n"
     << "  cc.me = (unsigned)kan_nmc_core_index();\n"
     << "  cc.split_outputs = " << (p.schedule.getSplit() == "outputs") << ";\n"
     << "  for (;;) {\n"
     << "    int cmd = kan_nmc_sync(KAN_SYNC_READY);\n"
     << "    if (cmd == KAN_CMD_EXIT)\n      break;\n"
     << "    io = (const kan_nmc_word *)kan_nmc_ddr_range(KAN_ADDR_IO, "
        "KAN_IO_WORDS);\n"
     << "    rows = io[KAN_IO_ROWS];\n    cc.ncores = io[KAN_IO_CORES];\n"
     << "    seed = (unsigned long long)io[KAN_IO_SEED_LO] |\n"
     << "           (unsigned long long)io[KAN_IO_SEED_HI] << 32;\n"
     << "    step = io[KAN_IO_STEP];\n"
     << "    (void)seed;\n    (void)step;\n    (void)d;\n    (void)nnz;\n";
  bool first = true;
  for (nmc::EntryOp e : p.entries) {
    os << "    " << (first ? "" : "else ") << "if (cmd == "
       << (e.getKind() == "forward" ? "KAN_CMD_FORWARD" : "KAN_CMD_TRAIN")
       << ") {\n";
    first = false;
    updates = 0;
    for (Operation &op : e.getBody().front())
      if (failed(printOp(&op, 3)))
        return failure();
    os << "    }\n";
  }
  os << "  }\n  return 0;\n}\n";
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
      if (e.getKind() == "train_step")
        p.train = e;
    }
  }
  p.program.walk([&](nmc::SparseTangentOp s) { p.sparse[s.getLayer()] = s; });
  p.program.walk([&](nmc::LossOp l) { p.loss = l; });
  p.program.walk([&](nmc::HostSyncOp h) {
    if (auto r = h->getAttrOfType<StringAttr>("rule"))
      p.rule = r.str();
  });
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
  std::set<int64_t> shapes;
  for (nmc::LayerOp l : p->layers)
    shapes.insert(l.getTileRows());
  {
    llvm::raw_string_ostream s(make);
    printNMQuadMakefile(*p, shapes, options.runtimePrefix, s);
  }
  // The launcher's parameters, in DDR order, under efficient-kan names.
  // Weights that do not fit stop the emission before any source is written.
  SmallVector<NMQuadParam> launcherParams;
  for (nmc::DdrBufferOp d : p->ddrOrder)
    if (d.getKind() == "param")
      launcherParams.push_back(
          {d.getName()->str(),
           SmallVector<int64_t>(d.getShape()->begin(), d.getShape()->end())});
  if (failed(options.writeWeights(launcherParams, *weightsPath)))
    return failure();
  if (failed(writeFile(out, "model_core.c", core)) ||
      failed(writeFile(out, "model_host.c", host)) ||
      failed(writeFile(out, "model_params.h", params)) ||
      failed(writeFile(out, "Makefile", make)))
    return failure();
  // Assembly tile kernels for the row-tile shapes the schedule uses (n=32).
  for (int64_t mrows : shapes) {
    ::kan::nmquad::TileShape t;
    t.m = (int)mrows;
    t.n = 32;
    t.kk = 0;
    if (!::kan::nmquad::isSupportedTile(t))
      continue;
    std::string name = "kan_nmc_gemm_tile_f64_" + std::to_string(mrows) + "x32.s";
    if (failed(writeFile(out, name, ::kan::nmquad::emitGemmTileF64(t))))
      return failure();
  }
  if (options.report)
    printNMQuadReport(*p, *options.report);
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
