//===- NMCOps.td - the NeuroMatrix (NM Quad) target dialect -*- tablegen -*-===//
//
// The concepts the NM Quad back end schedules with: the partition of a model
// over chips and cores, buffers in the eight 64 KB local banks of an NMC4
// core and in a chip's DDR, (double-buffered) block copies between them,
// barriers and host synchronisation, and the FPU GEMM tile micro-kernel.
// Sizes and addresses are in 32-bit words, as on the target.
//
//===----------------------------------------------------------------------===//

#ifndef NMC_OPS_TD
#define NMC_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/EnumAttr.td"

def NMC_Dialect : Dialect {
  let name = "nmc";
  let cppNamespace = "::mlir::nmc";
  let summary = "NeuroMatrix NM6408 / NM Quad: cores, banks, DDR, tile kernels";
  let description = [{
    Produced by `kan-to-nmc` from the GEMM form of the kan dialect and
    printed by the NM Quad emitter. One `nmc.program` is the single core
    program every core of every chip runs; `nmc.schedule` says how many run
    and how a layer GEMM is split among them.
  }];
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def NMC_SplitEnum : I32EnumAttr<"Split", "split of a layer GEMM over cores",
    [I32EnumAttrCase<"rows", 0>, I32EnumAttrCase<"outputs", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_SplitAttr : EnumAttr<NMC_Dialect, NMC_SplitEnum, "split"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_DdrKindEnum : I32EnumAttr<"DdrKind", "who writes a DDR buffer",
    [I32EnumAttrCase<"param", 0>, I32EnumAttrCase<"input", 1>,
     I32EnumAttrCase<"labels", 2>, I32EnumAttrCase<"output", 3>,
     I32EnumAttrCase<"scratch", 4>, I32EnumAttrCase<"io", 5>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_DdrKindAttr : EnumAttr<NMC_Dialect, NMC_DdrKindEnum, "ddr_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_ActEnum : I32EnumAttr<"Act", "base activation of a layer",
    [I32EnumAttrCase<"silu", 0>, I32EnumAttrCase<"identity", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_ActAttr : EnumAttr<NMC_Dialect, NMC_ActEnum, "act"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_EntryKindEnum : I32EnumAttr<"EntryKind", "command of the core program",
    [I32EnumAttrCase<"forward", 0>, I32EnumAttrCase<"train_step", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_EntryKindAttr : EnumAttr<NMC_Dialect, NMC_EntryKindEnum, "entry"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_LossKindEnum : I32EnumAttr<"LossKind", "training loss",
    [I32EnumAttrCase<"cross_entropy", 0>, I32EnumAttrCase<"mse", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_LossKindAttr : EnumAttr<NMC_Dialect, NMC_LossKindEnum, "loss"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_RuleEnum : I32EnumAttr<"Rule", "update coefficients from the JVPs",
    [I32EnumAttrCase<"ternary", 0>, I32EnumAttrCase<"fg", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_RuleAttr : EnumAttr<NMC_Dialect, NMC_RuleEnum, "rule"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_CopyLayoutEnum : I32EnumAttr<"CopyLayout",
    "what one block copy of a layer GEMM moves",
    [I32EnumAttrCase<"a_rows", 0>, I32EnumAttrCase<"bt_panel", 1>,
     I32EnumAttrCase<"c_rows", 2>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_CopyLayoutAttr : EnumAttr<NMC_Dialect, NMC_CopyLayoutEnum, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_PrecisionEnum : I32EnumAttr<"Precision", "FPU element type",
    [I32EnumAttrCase<"f64", 0>, I32EnumAttrCase<"f32", 1>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_PrecisionAttr : EnumAttr<NMC_Dialect, NMC_PrecisionEnum, "precision"> {
  let assemblyFormat = "`<` $value `>`";
}

def NMC_DistEnum : I32EnumAttr<"Dist", "distribution of the perturbations",
    [I32EnumAttrCase<"normal", 0>, I32EnumAttrCase<"rademacher", 1>,
     I32EnumAttrCase<"sparse_ternary", 2>]> {
  let cppNamespace = "::mlir::nmc";
  let genSpecializedAttr = 0;
}
def NMC_DistAttr : EnumAttr<NMC_Dialect, NMC_DistEnum, "dist"> {
  let assemblyFormat = "`<` $value `>`";
}

class NMC_Op<string mnemonic, list<Trait> traits = []>
    : Op<NMC_Dialect, mnemonic, traits>;

def NMC_ScheduleOp : NMC_Op<"schedule"> {
  let summary = "partition of the model over chips and cores";
  let description = [{
    Data-parallel over `chips` (each chip takes a contiguous slice of the
    batch, regenerates the same perturbations from the seed, and only the
    JVP scalars cross chips); inside a chip each layer GEMM is split over
    `cores` either by batch rows (`rows`) or by 32-wide blocks of output
    rows of W (`outputs`). At most `ddr_streams` cores of a chip copy from
    or to DDR at once. `batch` is the largest batch one launch of a chip
    holds (the DDR map is sized for it).

    ```mlir
    nmc.schedule {chips = 4, cores = 16, split = #nmc.split<rows>, ddr_streams = 8, batch = 256}
    ```
  }];
  let arguments = (ins I64Attr:$chips, I64Attr:$cores, NMC_SplitAttr:$split,
                       I64Attr:$ddr_streams, I64Attr:$batch);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def NMC_ProgramOp : NMC_Op<"program", [SymbolTable, Symbol, NoTerminator,
    SingleBlock, NoRegionArguments]> {
  let summary = "the core program (one image for every core)";
  let description = [{
    Holds the bank and DDR buffers and the entry points of the program.
    `precision` is the element type of every model value the program
    holds (parameters, rows, panels: f64 two words, f32 one) and of its
    tile kernels. The verifier checks that the buffers of each bank fit it: 16384 words
    per bank; banks 0 and 1 hold code, data and the stack and take no
    buffers (docs/NMQUAD-TARGET.md).
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
      DefaultValuedAttr<NMC_PrecisionAttr, "::mlir::nmc::Precision::f64">:$precision);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    static constexpr int64_t kBankWords = 16384;
    /// NMMB0-1 hold the loader area (0x200 words), code, data and the
    /// 0x2000-word stack (nmc-kan.lds): no buffers there.
    static constexpr int64_t kCodeBanks = 2;
    /// Words of chip DDR the DDR map may use: the EMI window
    /// [0x340000, 0x8000000) words (kan_nmc_memmap.h) less the runtime's
    /// 0x400-word control block.
    static constexpr int64_t kDdrUserWords = 0x08000000 - 0x00340400;
    static int64_t bankCapacity(int64_t bank) {
      return bank < kCodeBanks ? 0 : kBankWords;
    }
  }];
}

def NMC_BankBufferOp : NMC_Op<"bank_buffer", [Symbol,
    HasParent<"ProgramOp">]> {
  let summary = "a buffer in one local bank (NMMB2-7) of every core";
  let description = [{
    `words` 32-bit words in bank `bank`. `double_buffered` buffers hold two
    halves that block copies and kernels alternate between.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$bank,
                       I64Attr:$words, UnitAttr:$double_buffered);
  let assemblyFormat = [{
    $sym_name `bank` $bank `words` $words (`double_buffered` $double_buffered^)? attr-dict
  }];
  let hasVerifier = 1;
}

def NMC_DdrBufferOp : NMC_Op<"ddr_buffer", [Symbol, HasParent<"ProgramOp">]> {
  let summary = "a region of a chip's DDR at a fixed word address";
  let description = [{
    `addr` is the word offset from KAN_NMC_DDR_USER_BASE; `kind` says who
    writes it: `param` (host, efficient-kan tensor `name` of `shape`),
    `input`, `labels`, `output` (host reads), `scratch` (cores only), `io`
    (parameter block and host exchange).
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$addr, I64Attr:$words,
                       NMC_DdrKindAttr:$kind, OptionalAttr<StrAttr>:$name,
                       OptionalAttr<DenseI64ArrayAttr>:$shape);
  let assemblyFormat = [{
    $sym_name `at` $addr `words` $words `kind` $kind attr-dict
  }];
  let hasVerifier = 1;
}

def NMC_LayerOp : NMC_Op<"layer", [HasParent<"ProgramOp">]> {
  let summary = "shape, DDR parameters and tile sizes of one KAN layer";
  let description = [{
    K = inputs * (grid_size + order + 1) feature columns are processed in
    chunks of `chunk` inputs (chunk * (G+k+1) columns: one K panel) and
    row tiles of `tile_rows` rows (at most 24, the largest tile kernel).
  }];
  let arguments = (ins I64Attr:$index, I64Attr:$inputs, I64Attr:$outputs,
                       I64Attr:$grid_size, I64Attr:$order, NMC_ActAttr:$act,
                       I64Attr:$chunk, I64Attr:$tile_rows,
                       FlatSymbolRefAttr:$grid, FlatSymbolRefAttr:$base,
                       FlatSymbolRefAttr:$spline,
                       OptionalAttr<FlatSymbolRefAttr>:$scaler,
                       FlatSymbolRefAttr:$packed);
  let assemblyFormat = "$index attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getFeatures() { return getInputs() * (getGridSize() + getOrder() + 1); }
    int64_t getChunkColumns() { return getChunk() * (getGridSize() + getOrder() + 1); }
  }];
}

def NMC_EntryOp : NMC_Op<"entry", [NoTerminator, SingleBlock,
    NoRegionArguments, HasParent<"ProgramOp">]> {
  let summary = "a command of the core program (forward or train_step)";
  let description = [{
    The host starts a command with a sync; every core of every chip runs
    the ops of the body in order.
  }];
  let arguments = (ins NMC_EntryKindAttr:$kind);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$kind attr-dict-with-keyword $body";
}

def NMC_PackWeightsOp : NMC_Op<"pack_weights"> {
  let summary = "W^T of a layer into DDR in (chunk, 32-output block) panels";
  let description = [{
    Each core packs its share of the (chunk, block) panels of
    Bt = [Wb | flat(C*S)]^T: chunk c holds the feature columns of inputs
    [c*chunk, (c+1)*chunk) (silu columns, then their spline columns), block
    b the outputs [32b, 32b+32). The staging panel is `stage`.
  }];
  let arguments = (ins I64Attr:$layer, FlatSymbolRefAttr:$packed,
                       FlatSymbolRefAttr:$stage);
  let assemblyFormat = "$layer `into` $packed `via` $stage attr-dict";
}

def NMC_FeaturesOp : NMC_Op<"features"> {
  let summary = "feature rows A = [act(x) | B(x)] (and A'_d) into DDR";
  let description = [{
    For this core's rows, chunk by chunk: the x (and x'_d) chunk and the
    grid chunk are copied into banks, the reciprocals of the knot
    differences prepared, and the feature panel written back to DDR in the
    chunk-major column order of the packed weights. With `direction` set it
    packs the tangent features A'_d of direction d (the loop variable of
    the enclosing tangent loop).
  }];
  let arguments = (ins I64Attr:$layer, FlatSymbolRefAttr:$x,
                       FlatSymbolRefAttr:$features, UnitAttr:$tangent);
  let assemblyFormat = "$layer $x `->` $features (`tangent` $tangent^)? attr-dict";
}

def NMC_KernelOp : NMC_Op<"kernel", [Symbol, HasParent<"ProgramOp">]> {
  let summary = "an FPU tile micro-kernel the folder carries as assembly";
  let description = [{
    `C (m x n) += A (m x k) * Bt (k x n)`, emitted as
    `<sym_name>.s`; f64: n = 32, any k >= 1; f32: n = 64 (two floats per
    64-bit lane), k a multiple of 64 (the caller pads K chunks with zero
    columns). Emitted as
    `<sym_name>.s` (GNU syntax, leading `_` on the global). The core
    program calls only kernels declared here, so the set of `nmc.kernel`
    ops is exactly the set of assembly symbols the link needs.

    ```mlir
    nmc.kernel @kan_nmc_gemm_tile_f64_24x32 m 24 n 32 <f64>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$m, I64Attr:$n,
                       NMC_PrecisionAttr:$precision);
  let assemblyFormat = "$sym_name `m` $m `n` $n $precision attr-dict";
  let hasVerifier = 1;
}

def NMC_LayerGemmOp : NMC_Op<"layer_gemm", [NoTerminator, SingleBlock,
    NoRegionArguments]> {
  let summary = "C = A Bt of one layer, tiled over banks and split over cores";
  let description = [{
    This core's share of the GEMM: its rows (`rows_split` = 1) or its
    32-wide output blocks (`rows_split` = 0) of layer `layer`. The body is
    the loop nest the core runs: `nmc.row_tiles` over its rows, inside it
    the C tile cleared, the (K chunk, output block) steps of
    `nmc.panel_loop` with their copies and kernel calls, and the C rows
    copied out. `tangent`: C is the tangent buffer of direction d. A
    layer with dense perturbations has two panel loops in its tangent
    GEMM, both into the same C tile: A'_d W^T, then A W'_d^T (its copies
    name their own A and Bt buffers).
  }];
  let arguments = (ins I64Attr:$layer, FlatSymbolRefAttr:$a,
                       FlatSymbolRefAttr:$bt, FlatSymbolRefAttr:$c,
                       I64Attr:$rows_split, UnitAttr:$tangent);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $layer $a `,` $bt `->` $c (`tangent` $tangent^)? attr-dict-with-keyword $body
  }];
}

def NMC_RowTilesOp : NMC_Op<"row_tiles", [NoTerminator, SingleBlock,
    NoRegionArguments, HasParent<"LayerGemmOp">]> {
  let summary = "the body once per tile of `rows` of this core's rows";
  let description = [{
    The last tile may be shorter (mm < rows); kernels run on mm rows.
  }];
  let arguments = (ins I64Attr:$rows);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`rows` $rows attr-dict-with-keyword $body";
}

def NMC_PanelLoopOp : NMC_Op<"panel_loop", [NoTerminator, SingleBlock,
    NoRegionArguments, HasParent<"RowTilesOp">]> {
  let summary = "the (K chunk, 32-output block) steps of one row tile";
  let description = [{
    Steps s = (q, b), chunk-major, over `chunks` K chunks and this core's
    output blocks. `double_buffered` copies of the body are started one
    step ahead (into the other half of their buffer) and waited for just
    before the kernel of their step; the other copies run synchronously in
    body order (an `a_rows` copy only at the first block of a chunk).
  }];
  let arguments = (ins I64Attr:$chunks);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`chunks` $chunks attr-dict-with-keyword $body";
}

def NMC_FillOp : NMC_Op<"fill"> {
  let summary = "zero `words` words of a bank buffer";
  let arguments = (ins FlatSymbolRefAttr:$buffer, I64Attr:$words);
  let assemblyFormat = "$buffer `words` $words attr-dict";
  let hasVerifier = 1;
}

def NMC_CopyOp : NMC_Op<"copy"> {
  let summary = "block copy between DDR and a bank buffer";
  let description = [{
    At most `words` words from `src` to `dst`, one of which is a DDR buffer
    and the other a bank buffer. `layout` says which part of the layer's
    data one copy moves: `a_rows` the feature rows of one K chunk for the
    rows of the tile, `bt_panel` one (chunk, block) panel of packed W^T,
    `c_rows` the C tile rows of the core's output blocks back to DDR.
    `double_buffered`: the bank side alternates halves and the copy is
    started one step ahead. Every DDR copy holds a DDR-stream permit while
    it moves data.
  }];
  let arguments = (ins FlatSymbolRefAttr:$src, FlatSymbolRefAttr:$dst,
                       I64Attr:$words, NMC_CopyLayoutAttr:$layout,
                       UnitAttr:$double_buffered);
  let assemblyFormat = [{
    $src `->` $dst `words` $words $layout (`double_buffered` $double_buffered^)? attr-dict
  }];
  let hasVerifier = 1;
}

def NMC_GemmTileOp : NMC_Op<"gemm_tile"> {
  let summary = "the FPU micro-kernels C (m x n) += A (m x k) * Bt (k x n)";
  let description = [{
    A row tile of up to `m` rows on bank buffers: A panel, Bt panel and C
    tile must sit in three different banks (two streams in one bank
    serialise) and be large enough for the tile (doubles take 2 words).
    `kernels` (largest first, the last of one row) are the `nmc.kernel`s
    that cover any mm <= m rows: each call takes the largest that fits.
  }];
  let arguments = (ins FlatSymbolRefAttr:$a, FlatSymbolRefAttr:$bt,
                       FlatSymbolRefAttr:$c, I64Attr:$m, I64Attr:$n,
                       I64Attr:$k, SymbolRefArrayAttr:$kernels);
  let assemblyFormat = [{
    $a `,` $bt `,` $c `m` $m `n` $n `k` $k `kernels` $kernels attr-dict
  }];
  let hasVerifier = 1;
}

def NMC_PackTangentOp : NMC_Op<"pack_tangent"> {
  let summary = "W'_d^T of a layer, dense and regenerated, into DDR panels";
  let description = [{
    The dense (`normal` or `rademacher`) perturbation W'_d of direction d
    (the loop variable of the enclosing tangent loop) of the layer's packed
    weights, [V_base | V_spline * S + C * V_scaler], regenerated from
    (seed, step, d, `streams`) exactly as `kan.perturb` draws it, in the
    (chunk, block) panel layout of `nmc.pack_weights`. Each core packs its
    share of the panels through `stage`, drawing into `draws`. The tangent
    GEMM then runs on the FPU kernels like the primal one.
  }];
  let arguments = (ins I64Attr:$layer, FlatSymbolRefAttr:$packed,
                       FlatSymbolRefAttr:$stage, FlatSymbolRefAttr:$draws,
                       DenseI64ArrayAttr:$streams, NMC_DistAttr:$dist);
  let assemblyFormat = [{
    $layer `into` $packed `via` $stage `,` $draws $dist attr-dict
  }];
  let hasVerifier = 1;
}

def NMC_SparseTangentOp : NMC_Op<"sparse_tangent"> {
  let summary = "y'_d += A W'_d^T for sparse ternary W'_d regenerated from the seed";
  let arguments = (ins I64Attr:$layer, FlatSymbolRefAttr:$features,
                       FlatSymbolRefAttr:$tangent, DenseI64ArrayAttr:$streams,
                       F64Attr:$density);
  let assemblyFormat = "$layer $features `->` $tangent attr-dict";
}

def NMC_TangentLoopOp : NMC_Op<"tangent_loop", [NoTerminator, SingleBlock,
    NoRegionArguments]> {
  let summary = "the body once per perturbation direction d = 0..width-1";
  let arguments = (ins I64Attr:$width);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$width attr-dict-with-keyword $body";
}

def NMC_BarrierOp : NMC_Op<"barrier"> {
  let summary = "the cores of a chip wait for each other";
  let assemblyFormat = "attr-dict";
}

def NMC_HostSyncOp : NMC_Op<"host_sync"> {
  let summary = "hand the loss partials to the host, take the coefficients";
  let description = [{
    Rendezvous with the host (PL_Sync): the host reads every chip's
    partials, computes the update coefficients with `rule` and writes them
    to every chip before the cores continue.
  }];
  let arguments = (ins NMC_RuleAttr:$rule);
  let assemblyFormat = "$rule attr-dict";
}

def NMC_LossOp : NMC_Op<"loss"> {
  let summary = "loss and unnormalised JVP sums of this chip's rows (core 0)";
  let description = [{
    Core 0 accumulates, over the chip's rows in order, the loss and for each
    direction d the sum of dL_row/dz . z'_d into `partials` (1 + width
    doubles); the host divides by the batch and combines the chips.
  }];
  let arguments = (ins NMC_LossKindAttr:$kind, FlatSymbolRefAttr:$logits,
                       FlatSymbolRefAttr:$tangents, FlatSymbolRefAttr:$target,
                       FlatSymbolRefAttr:$partials, I64Attr:$width);
  let assemblyFormat = [{
    $kind $logits `,` $tangents `,` $target `->` $partials attr-dict
  }];
}

def NMC_UpdateOp : NMC_Op<"update"> {
  let summary = "theta -= scale * sum_d c_d v_d in DDR, v regenerated";
  let description = [{
    `dist`: sparse_ternary draws (`density` of them) or dense ones (`normal`,
    `rademacher`; `density` unused). Core `owner` of every chip applies it.
  }];
  let arguments = (ins FlatSymbolRefAttr:$param,
                       FlatSymbolRefAttr:$coefficients, I64Attr:$stream,
                       F64Attr:$scale, F64Attr:$density, I64Attr:$width,
                       I64Attr:$owner,
                       DefaultValuedAttr<NMC_DistAttr,
                                         "::mlir::nmc::Dist::sparse_ternary">:$dist);
  let assemblyFormat = "$param `coefficients` $coefficients attr-dict";
}

#endif // NMC_OPS_TD
