//===- Passes.td - kan transformation passes ---------------*- tablegen -*-===//

#ifndef KAN_TRANSFORMS_PASSES_TD
#define KAN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KanJvp : Pass<"kan-jvp", "::mlir::ModuleOp"> {
  let summary = "Forward-mode differentiation of a function, n directions at once";
  let description = [{
    Creates `@<func>_jvp` from `@<func>`: the primal results followed by the
    tangents of every floating-point result. Arguments are `dup`
    (duplicated: a tangent argument follows the primal ones) or `const`
    (constant: zero tangent, no argument), one entry per argument of the
    function in `activity` (default: every argument duplicated except the
    first, the model input, and every `kan.layer` grid operand). Tangents
    have a leading dimension of size `width`; all primal values are shared
    between directions. Rules come from `JvpOpInterface`; an op without a
    rule is diagnosed by name.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"model\"",
           "Name of the function to differentiate">,
    Option<"width", "width", "int64_t", "1",
           "Number of tangent directions computed at once">,
    ListOption<"activity", "activity", "std::string",
               "Per argument: dup or const">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KanBuildTrainStep : Pass<"kan-build-train-step", "::mlir::ModuleOp"> {
  let summary = "Wraps a model with its loss and a noise_step update";
  let description = [{
    From `@<model>(x, params...) -> logits` builds
    `@train_step(x, y, seed: i64, step: i64, params...) ->
    (loss, alphas, new params...)`: `kan.perturb` ops draw `n` directions
    for every trainable parameter (grids are not trained), the JVP of the
    model comes from the kan-jvp machinery, the loss JVP gives the scalars
    alpha_i, and `kan.update` applies `fg` or `ternary` with every
    perturbation regenerated from the seed. The model is inlined.

    `first-direction=f` draws directions f .. f+n-1 of the step instead of
    0 .. n-1, and `update=false` leaves the update out (the parameters are
    returned unchanged): one rank of a direction- or data-parallel run
    computes its share of the scalars that way and the runtime applies the
    update of all of them (kan_optimizer_step).

    `rule=activity` perturbs activities instead of weights (Ren et al.
    2023): for every hidden layer `kan.perturb_activity` draws `n`
    directions per example of its pre-activations, `kan.layer_jvp` carries
    them through the later layers, `kan.softmax_cross_entropy_examples_jvp`
    gives one scalar per example and direction, `kan.activity_estimate`
    the estimate of dL/dz, and `kan.activity_update` the layer's update as
    a second GEMM; the output layer takes its exact local derivative
    (`kan.softmax_cross_entropy_grad`). The model must be a chain of
    `kan.layer` ops with the cross_entropy loss. `alphas` are the JVPs of
    the batch loss along each direction (summed over the hidden layers).
    `gradient=true` returns the update dtheta of every trained tensor in
    place of the new parameter (grids unchanged), for an optimiser outside
    the step.

    `local-losses=true` (rule=activity) gives every hidden layer l a local
    loss (Ren et al. 2023): an auxiliary head, a `kan.layer` from layer l's
    width to the classes (the grid size, order and activation of layer l),
    whose tensors (grid, base_weight, spline_weight[, spline_scaler]) follow
    the model's parameters as further arguments and results of the step,
    one head after the other. Layer l's perturbation is carried by the JVP
    of its head alone, not through the later layers, so layer l learns from
    the cross-entropy of its head's logits only; the head takes the exact
    local derivative of that loss (`kan.softmax_cross_entropy_grad`, as the
    output layer); head grids are returned unchanged. `loss` is the
    model's batch loss, `alphas` the JVPs of the local losses (summed over
    the hidden layers).
  }];
  let options = [
    Option<"modelName", "model", "std::string", "\"model\"",
           "Name of the model function">,
    Option<"loss", "loss", "std::string", "\"cross_entropy\"",
           "Loss: cross_entropy (integer labels) or mse">,
    Option<"rule", "rule", "std::string", "\"ternary\"",
           "Update rule: ternary (noise_step: weight perturbation, median "
           "rule), fg (forward gradient along weight perturbations) or "
           "activity (per-example perturbations of the pre-activations)">,
    Option<"dist", "dist", "std::string", "\"\"",
           "Perturbation: sparse_ternary, normal or rademacher (default: "
           "sparse_ternary for ternary, normal for fg)">,
    Option<"directions", "n", "int64_t", "32", "Directions per step">,
    Option<"density", "density", "double", "2e-3",
           "Non-zero fraction of sparse ternary perturbations">,
    Option<"lr", "lr", "double", "3e-3", "Learning rate">,
    Option<"firstDirection", "first-direction", "int64_t", "0",
           "Index of the first direction drawn (a slice of a step's "
           "directions)">,
    Option<"update", "update", "bool", "true",
           "Apply the update (false: return the loss and scalars only)">,
    Option<"gradient", "gradient", "bool", "false",
           "rule=activity: return the update dtheta instead of applying it">,
    Option<"localLosses", "local-losses", "bool", "false",
           "rule=activity: train every hidden layer on the loss of an "
           "auxiliary head of its own (extra step arguments and results)">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}


def KanLowerToGemm : Pass<"kan-lower-to-gemm", "::mlir::func::FuncOp"> {
  let summary = "Lower layers and their JVPs to the concatenated-feature GEMMs";
  let description = [{
    `kan.layer` becomes `kan.pack_weights` + `kan.feature_gemm` over
    A = [act(x) | B(x)]; `kan.layer_jvp` becomes `kan.feature_gemm_jvp`
    (y'_d = [A'_d | A] [W ; W'_d]^T) with no A' half when the input tangent
    is zero. Weight tangents drawn by `kan.perturb` with one seed are fused
    into the GEMM (regenerated per direction, sparse directions kept
    sparse); other weight tangents go through `kan.pack_weights_tangent`.

    `kan.activity_update` (the second GEMM, dW = g^T A) gets its tiles: the
    grid's knot data as `aux` and column tiles of `input_tile` inputs whose
    features, recomputed in chunks of `row_tile` = min(`update-rows`,
    batch) rows, fit in `update-panel-bytes` (at least one input per tile).
    Only a tile's features and its block of dW exist at a time.
  }];
  let options = [
    Option<"updateRows", "update-rows", "int64_t", "128",
           "Rows per feature chunk of an activity update tile">,
    Option<"updatePanelBytes", "update-panel-bytes", "int64_t", "262144",
           "Budget in bytes for the feature chunk of an activity update "
           "tile (rows x input_tile(G+k+1))">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect"];
}

def KanTileAndFuse : Pass<"kan-tile-and-fuse", "::mlir::func::FuncOp"> {
  let summary = "Row tiles of the layer GEMMs as scf.forall loops";
  let description = [{
    Tiles every `kan.feature_gemm(_jvp)` over its batch rows into an
    `scf.forall` whose body is the op on a slice of rows (TilingInterface,
    upstream `scf::tileUsingSCF`): the basis values, the tangent features
    and dense perturbation draws of a tile are computed inside the tile.
    The tile is the largest number of rows (at most `max-rows`, a multiple
    of `row-multiple`) whose feature panel (rows x I(G+k+1)) and, with an
    input tangent, the tangent panels of all directions fit in
    `panel-bytes`; with `threads` T above one the tiles come in whole
    rounds of T: for a batch of N, k = max(1, ceil(N / (T rows))) rounds of
    tiles of ceil(N / (T k)) rows rounded up to `row-multiple`, so that a
    batch the budget would take as one tile still gives each of T threads
    rows (with a dynamic batch the tile is `affine.max` / `affine.min` ops
    of N in front of the loop). Rows are independent in every tiled kernel: the
    tile decides which thread computes a row, not how a value is summed.
    Work shared by all tiles is hoisted in front of the loop:
    the grid's knot data (`kan.grid_prepare`, the ops' `aux` operand) and
    fused sparse ternary perturbations as per-direction CSR matrices
    (`kan.sparse_directions`, the `csr` operands).

    A chain of layer JVPs, each reading the previous one's output and
    output tangent and nothing else reading them, and none with dense
    weight tangents (which a tile reads or draws whole, whatever its rows:
    small tiles would multiply that work), becomes ONE row-tile loop
    (with `fuse-bytes` above zero): a tile computes its rows of every layer
    of the chain, so the intermediate outputs and tangents of all
    directions exist for one tile per thread only, never for the batch.
    Its tile is chosen as above from `fuse-bytes`, the bytes one tile
    holds per row: the feature panel of every layer, the input-tangent
    work of every layer after the first (the smaller of the tangent panels
    and the input Jacobian, as kan-prepare-cpu chooses) and the outputs and
    tangents passed between the layers. Rows stay independent, so the
    fused loop computes the values the separate loops did.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"maxRows", "max-rows", "int64_t", "64", "Upper bound of a row tile">,
    Option<"rowMultiple", "row-multiple", "int64_t", "4",
           "Row tiles are multiples of this (micro-kernel height)">,
    Option<"panelBytes", "panel-bytes", "int64_t", "1048576",
           "Budget for the panels of one tile (cache or local bank size)">,
    Option<"threads", "threads", "int64_t", "1",
           "Threads the row tiles are shared by: a batch gives each at "
           "least one tile (1: tiles from the budget alone)">,
    Option<"fuseBytes", "fuse-bytes", "int64_t", "2097152",
           "Budget for one row tile of a fused chain of layer JVPs: the "
           "panels of every layer and the outputs and tangents passed "
           "between them (0: no fusion, one loop per layer)">,
  ];
}


def KanPrepareCPU : Pass<"kan-prepare-cpu", "::mlir::func::FuncOp"> {
  let summary = "Record the CPU target's kernel choices in the IR";
  let description = [{
    The CPU target's PrepareForEmission: sets `layout` on every
    `kan.pack_weights` (span when only `kan.feature_gemm` reads the
    weights, else dense), `kernel` on every `kan.feature_gemm` (span-local
    when its weights have the span layout, else a feature panel and a
    GEMM), and on every `kan.feature_gemm_jvp` `input_tangent_kernel`
    (none without an input tangent; jacobian when O < n(G+k+1), with a
    `kan.span_weights` copy of W made in front of the row-tile loop, as
    jacobian_multi when n > 1: all directions row by row in one call;
    panel otherwise) and `weight_tangent_kernel` (sparse_rows for CSR
    directions, regenerate for dense draws, dense for a given W'_d, none).
    Dense draws whose packed W'_d of all directions fit in
    `pregenerate-bytes` are first made a given W'_d, drawn and packed once
    in front of the row tiles (`kan.perturb`, `kan.pack_weights_tangent`),
    so the kernel is dense rather than regenerate.
    A regenerated JVP whose input tangents do not need the feature panel
    (none or the Jacobian) gets `weight_tangent_cols`: its tile computes
    the features and draws W'_d that many columns at a time, so neither
    the tile's feature panel nor a whole W'_d exists. The columns are the
    most whose features (tile rows), W'_d block (outputs) and draws
    (2 + 2/(G+k) values) per column fit in `draw-bytes`, a multiple of
    256 (the runtime GEMM's k-block, so the blocked sums are the unblocked
    ones) when 256 fit, else of 8; none when all columns fit or
    `draw-bytes` is 0.
    The C printer reads these attributes and decides nothing itself.
    Choices already present in the IR are kept, so a pipeline cut after
    this pass can be finished by running it again; the options force a
    kernel instead of the cost rule (tests compare the variants).
  }];
  let options = [
    Option<"forwardKernel", "forward-kernel", "std::string", "\"auto\"",
           "Primal GEMMs: auto, span (where only primal GEMMs read the "
           "weights) or panel">,
    Option<"inputTangentKernel", "input-tangent-kernel", "std::string",
           "\"auto\"",
           "Input tangents: auto, jacobian (one apply per direction), "
           "jacobian-multi (all directions per row) or panel">,
    Option<"pregenerateBytes", "pregenerate-bytes", "int64_t", "67108864",
           "Dense fused directions whose packed W'_d and draws (all "
           "directions) fit in this many bytes are drawn once in front of "
           "the row tiles instead of per tile and direction (0: never)">,
    Option<"drawBytes", "draw-bytes", "int64_t", "1048576",
           "Budget per thread for one column block of a layer JVP with "
           "directions regenerated per tile: its features, W'_d block and "
           "draws (0: no blocks)">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect"];
}

def KanPlanMemory : Pass<"kan-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Assign every intermediate tensor to a reusable buffer slot";
  let description = [{
    Straight-line liveness over the GEMM-form function: each tensor result
    of a top-level op that is not returned gets the first free slot (first
    fit), and a slot is free again after the last use of its value (a use
    inside a row-tile loop counts as a use by the loop). A loop's result
    holds the buffer its tiles are written into (its initial `tensor.empty`
    takes none); the CSR arrays of `kan.sparse_directions`, sized at run
    time, take none either. Sizes are affine in the
    dynamic batch size n, so a slot's capacity is kept as (elements per n,
    constant elements), the maximum over the values it holds. Results carry
    `kan.slots` (-1 where the value is a function result or aliases one;
    -2 for an update result that overwrites its parameter, whose old value
    nothing reads later: it takes over the parameter's slot);
    the function carries `kan.memory_plan` (per slot: n coefficient,
    constant) and kan-bufferize turns the plan into memref IR. A function
    that is already bufferised is left unchanged.
  }];
}

def KanBufferize : Pass<"kan-bufferize", "::mlir::func::FuncOp"> {
  let summary = "The memory plan as memref IR: one alloc per slot, a view per value";
  let description = [{
    Turns the slots of kan-plan-memory into buffers of the IR and removes
    its attributes. Each slot becomes one `memref.alloc` at the top of the
    function (a 1-D buffer of the slot's element type; capacity
    `a * n + b` elements, n the batch size taken by `tensor.dim` from an
    argument) and one `memref.dealloc` in front of the return. Every tensor
    placed in a slot gets a `memref.reinterpret_cast` view of its slot
    (row-major sizes and strides) in front of its producer, and is bound to
    it by `bufferization.materialize_in_destination ... restrict writable`
    right after the producer: kan ops have no destination operands, so the
    binding says which memory the producer writes. Values that share a slot
    are views of the same alloc. An update result that overwrites its
    parameter (`kan.slots` entry -2) is bound to the parameter's buffer: its
    view, or `bufferization.to_memref` of a function argument. Function
    results (-1) are written into the caller's buffers and get no memref.
    The CSR arrays of `kan.sparse_directions` (no slot: their capacity is a
    run-time bound) get allocs of their own in front of the op, sized by
    `kan_sparse_directions_capacity` (an `emitc.call_opaque` into kanrt),
    views bound like the others, and deallocs behind the last op that reads
    them.
    Functions without `kan.memory_plan` are left unchanged (so a pipeline
    cut after this pass can be finished by running it again).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::emitc::EmitCDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KAN_TRANSFORMS_PASSES_TD
