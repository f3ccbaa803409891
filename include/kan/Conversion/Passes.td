//===- Passes.td - conversion passes of the kan project ----*- tablegen -*-===//

#ifndef KAN_CONVERSION_PASSES_TD
#define KAN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KanToNMC : Pass<"kan-to-nmc", "::mlir::ModuleOp"> {
  let summary = "Schedule the GEMM-form kan IR on NM Quad cores (nmc dialect)";
  let description = [{
    Turns @model (and @train_step, if present) in GEMM form into one
    `nmc.program` and its `nmc.schedule`: per layer the feature rows, the
    packed W^T panels and the GEMM tiled over the 64 KB banks (K in chunks of
    whole inputs so that a double-buffered Bt panel fits a bank, row tiles
    of at most 24 rows), split over the cores of a chip by batch rows or by
    32-wide output blocks, and over chips by batch slices (data-parallel
    noise_step: only the JVP scalars cross chips). The functions are replaced.
  }];
  let options = [
    Option<"chips", "chips", "int64_t", "1", "NM6408 chips (1..4)">,
    Option<"cores", "cores", "int64_t", "16", "NMC4 cores per chip (1..16)">,
    Option<"split", "split", "std::string", "\"rows\"",
           "Split of a layer GEMM over cores: rows or outputs">,
    Option<"ddrStreams", "ddr-streams", "int64_t", "8",
           "Cores of a chip on DDR at once (1..8)">,
    Option<"batch", "batch", "int64_t", "256",
           "Largest batch slice of one chip (sizes the DDR map)">,
    Option<"board", "board", "std::string", "\"\"",
           "Board profile the schedule must fit: mini (NM Card Mini, one "
           "NM6408, 5 GB) or quad (NM Quad, four NM6408, 20 GB); empty: "
           "only the chip's limits">,
  ];
  let dependentDialects = ["::mlir::nmc::NMCDialect"];
}

def KanFormulaToEmitC : Pass<"kan-formula-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower a formula (scalar math/arith functions) to EmitC";
  let description = [{
    A formula module (kan-symbolic --format mlir) holds `func.func
    @formula(%x1: f64, ...) -> f64` (or @formula_1 ... @formula_O, one per
    output) of `arith` and `math` ops on scalars. This conversion turns
    them into `emitc.func`s: arith through the upstream ArithToEmitC
    patterns, each math op into a call of the C99 <math.h> function of the
    same meaning, func/return through FuncToEmitC. The exported
    `<prefix>forward` (an `emitc.for` over the rows of x, one call per
    output) and `<prefix>set_threads` are added, so the CPU target prints
    the module with MLIR's C emitter as it is.
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", "\"kan_\"",
           "Prefix of every exported C symbol">,
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

def KanToEmitC : Pass<"kan-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower a CPU-lowered kan module to EmitC (runtime calls, loops, buffers)";
  let description = [{
    The last pass of the CPU pipeline (kan-compile-cpu). Every function of a
    module after kan-bufferize becomes an `emitc.func` (`<name>_impl`,
    static) whose body calls the runtime (kanrt) once per kan op: kernels
    and whole-op entry points as `emitc.call_opaque`, row tiles and sparse
    directions as `emitc.for` behind an OpenMP pragma (`emitc.verbatim`),
    tensors as pointers (`emitc.ptr`) with offsets computed from the tile
    indices. Buffers are explicit: the memrefs of kan-bufferize
    (`memref.alloc` a pointer variable allocated with `kan_buffer_alloc` and
    checked, `memref.reinterpret_cast` a pointer with sizes and strides,
    `memref.dealloc` a `free`; a tensor lives in the memref
    `bufferization.materialize_in_destination` binds it to, or is a function
    result in the caller's buffer) and per-thread scratch are pointer
    variables allocated, checked and freed by ops of the function; a tensor result without a buffer is an error. A failing
    call skips the rest
    (nested `emitc.if` on the status). The exported C entry points
    (`<prefix>forward`, `forward_jvp`, `train_step`, `train_step_scaled`,
    `set_threads`) and the parameter tables are added, and the module
    attribute `kan.cpu_abi` describes them for the header. The C is MLIR's
    `translateToCpp` of the result. A module without @model is left as is.
  }];
  let options = [
    Option<"prefix", "prefix", "std::string", "\"kan_\"",
           "Prefix of every exported C symbol">,
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // KAN_CONVERSION_PASSES_TD
