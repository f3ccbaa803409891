//===- KanOps.td - operations of the kan dialect -----------*- tablegen -*-===//

#ifndef KAN_OPS_TD
#define KAN_OPS_TD

include "KanDialect.td"
include "KanInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/TilingInterface.td"
include "mlir/IR/BuiltinTypes.td"

def Kan_FloatTensor : RankedTensorOf<[F32, F64]>;
def Kan_Matrix : 2DTensorOf<[F32, F64]>;
def Kan_Tensor3 : 3DTensorOf<[F32, F64]>;
def Kan_Float : AnyTypeOf<[F32, F64]>;
def Kan_Labels : 1DTensorOf<[I32, I64]>;
def Kan_Vector : 1DTensorOf<[F32, F64]>;

//===----------------------------------------------------------------------===//
// Layers
//
// There is no op for the B-spline basis alone: its N x I x (G+k) values
// exist only inside a row tile of kan.feature_gemm(_jvp), which computes them
// (and their derivatives for input tangents) straight into the GEMM panel.
// A standalone basis op had no producer, no lowering and no JVP rule.
//===----------------------------------------------------------------------===//

def Kan_LayerOp : Kan_Op<"layer",
    [Pure, DeclareOpInterfaceMethods<Kan_JvpOpInterface>]> {
  let summary = "one efficient-kan layer";
  let description = [{
    `y = act(x) Wb^T + flat(B(x)) flat(C * S)^T` where B(x) are the B-spline
    basis values of order `order` on the per-input `grid`
    (I x (G+2k+1)), Wb the base weight (O x I), C the spline weight
    (O x I x (G+k)) and S the optional spline scaler (O x I, 1 if absent).
    G is derived from the shapes. The batch dimension may be dynamic.

    ```mlir
    %y = kan.layer %x, %grid, %wb, %ws scaler %s order 3 act silu
        : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>,
          tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
    ```
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$grid,
      Kan_Matrix:$base_weight, Kan_Tensor3:$spline_weight,
      Optional<Kan_Matrix>:$spline_scaler,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>, "3">:$order,
      DefaultValuedAttr<Kan_ActivationAttr, "::mlir::kan::Activation::silu">:$act);
  let results = (outs Kan_Matrix:$output);
  let assemblyFormat = [{
    $input `,` $grid `,` $base_weight `,` $spline_weight
    (`scaler` $spline_scaler^)? `order` $order `act` custom<Activation>($act) attr-dict `:`
    type($input) `,` type($grid) `,` type($base_weight) `,`
    type($spline_weight) (`,` type($spline_scaler)^)? `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Grid size G derived from the spline weight (G + k columns).
    int64_t getGridSize() {
      return getSplineWeight().getType().getDimSize(2) - getOrder();
    }
    int64_t getNumInputs() { return getBaseWeight().getType().getDimSize(1); }
    int64_t getNumOutputs() { return getBaseWeight().getType().getDimSize(0); }
  }];
}

def Kan_LayerJvpOp : Kan_Op<"layer_jvp", [Pure, AttrSizedOperandSegments]> {
  let summary = "a layer and its tangents along `width` directions";
  let description = [{
    Computes the primal output of `kan.layer` and its directional
    derivatives `y'[d] = [A'_d | A] [W ; W'_d]^T` for every direction d.
    Tangent operands carry a leading dimension of size `width`; an absent
    tangent is zero. Without an input tangent the A' half vanishes (the
    first layer of a model), which the lowering exploits.
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$grid,
      Kan_Matrix:$base_weight, Kan_Tensor3:$spline_weight,
      Optional<Kan_Matrix>:$spline_scaler,
      Optional<Kan_Tensor3>:$input_tangent,
      Optional<Kan_Tensor3>:$base_weight_tangent,
      Optional<AnyRankedTensor>:$spline_weight_tangent,
      Optional<Kan_Tensor3>:$spline_scaler_tangent,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>, "3">:$order,
      DefaultValuedAttr<Kan_ActivationAttr, "::mlir::kan::Activation::silu">:$act);
  let results = (outs Kan_Matrix:$output, Kan_Tensor3:$output_tangent);
  let assemblyFormat = [{
    $input `,` $grid `,` $base_weight `,` $spline_weight
    (`scaler` $spline_scaler^)?
    (`dinput` $input_tangent^)? (`dbase` $base_weight_tangent^)?
    (`dspline` $spline_weight_tangent^)? (`dscaler` $spline_scaler_tangent^)?
    `order` $order `act` custom<Activation>($act) attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getOutputTangent().getType().getDimSize(0); }
    int64_t getGridSize() {
      return getSplineWeight().getType().getDimSize(2) - getOrder();
    }
  }];
}

//===----------------------------------------------------------------------===//
// Symbolic edges
//===----------------------------------------------------------------------===//

def Kan_SymbolicEdgesOp : Kan_Op<"symbolic_edges",
    [Pure, DeclareOpInterfaceMethods<Kan_JvpOpInterface>]> {
  let summary = "edges of a layer fixed to library functions c f(a x + b) + d";
  let description = [{
    Adds a layer's symbolic edges to its output (pykan's fix_symbolic):
    `output[r, o] = layer_output[r, o] + sum_i c f(a input[r, i] + b) + d`
    over the edges (o, i) whose entry of `functions` (out x in names,
    row-major) is not "", with `(a, b, c, d) = params[o, i, 0..3]`. Names
    are kanrt's library (kanrt/symbolic.h: x, x^2, sin, exp, ...); the
    other edges stay splines (their kan.layer part is all there is). The
    CPU target calls kan_symbolic_edges_f64; f64 only.

    ```mlir
    %z = kan.symbolic_edges %x, %y, %p functions ["sin", ""]
        : tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64> -> tensor<?x1xf64>
    ```
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$layer_output,
      Kan_Tensor3:$params, StrArrayAttr:$functions);
  let results = (outs Kan_Matrix:$output);
  let assemblyFormat = [{
    $input `,` $layer_output `,` $params `functions` $functions attr-dict `:`
    type($input) `,` type($layer_output) `,` type($params) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Kan_SymbolicEdgesJvpOp : Kan_Op<"symbolic_edges_jvp",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "symbolic edges and their tangents along `width` directions";
  let description = [{
    `kan.symbolic_edges` and, per direction d, `output_tangent[d] =
    layer_output_tangent[d] + sum_i c f'(u) (a dx + x da + db) + f(u) dc + dd`
    with u = a x + b. Absent tangents are zero. The CPU target calls
    kan_symbolic_edges_jvp_f64.
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$layer_output,
      Kan_Tensor3:$params, Optional<Kan_Tensor3>:$input_tangent,
      Optional<Kan_Tensor3>:$layer_output_tangent,
      Optional<TensorRankOf<[F32, F64], [4]>>:$params_tangent,
      StrArrayAttr:$functions);
  let results = (outs Kan_Matrix:$output, Kan_Tensor3:$output_tangent);
  let assemblyFormat = [{
    $input `,` $layer_output `,` $params (`dinput` $input_tangent^)?
    (`doutput` $layer_output_tangent^)? (`dparams` $params_tangent^)?
    `functions` $functions attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getOutputTangent().getType().getDimSize(0); }
  }];
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def Kan_MseOp : Kan_Op<"mse",
    [Pure, DeclareOpInterfaceMethods<Kan_JvpOpInterface>]> {
  let summary = "mean squared error `mean((z - y)^2)`";
  let arguments = (ins Kan_Matrix:$prediction, Kan_Matrix:$target);
  let results = (outs Kan_Float:$loss);
  let assemblyFormat = [{
    $prediction `,` $target attr-dict `:` type($prediction) `,` type($target)
    `->` type($loss)
  }];
  let hasVerifier = 1;
}

def Kan_SoftmaxCrossEntropyOp : Kan_Op<"softmax_cross_entropy",
    [Pure, DeclareOpInterfaceMethods<Kan_JvpOpInterface>]> {
  let summary = "softmax cross-entropy with integer class labels, batch mean";
  let arguments = (ins Kan_Matrix:$logits, Kan_Labels:$labels);
  let results = (outs Kan_Float:$loss);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels)
    `->` type($loss)
  }];
  let hasVerifier = 1;
}

def Kan_MseJvpOp : Kan_Op<"mse_jvp", [Pure]> {
  let summary = "MSE and its directional derivatives `mean(2 (z-y) z'_d)`";
  let arguments = (ins Kan_Matrix:$prediction, Kan_Matrix:$target,
                       Kan_Tensor3:$prediction_tangent);
  let results = (outs Kan_Float:$loss, Kan_Vector:$loss_tangent);
  let assemblyFormat = [{
    $prediction `,` $target `,` $prediction_tangent attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kan_SoftmaxCrossEntropyJvpOp
    : Kan_Op<"softmax_cross_entropy_jvp", [Pure]> {
  let summary = "cross-entropy and its directional derivatives";
  let description = [{
    `L'_d = mean_n sum_c (softmax(z)_c - onehot(y)_c) z'_d[n, c]`.
  }];
  let arguments = (ins Kan_Matrix:$logits, Kan_Labels:$labels,
                       Kan_Tensor3:$logits_tangent);
  let results = (outs Kan_Float:$loss, Kan_Vector:$loss_tangent);
  let assemblyFormat = [{
    $logits `,` $labels `,` $logits_tangent attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Perturbations and updates
//===----------------------------------------------------------------------===//

def Kan_PerturbOp : Kan_Op<"perturb", [Pure]> {
  let summary = "seeded counter-based perturbations of a parameter tensor";
  let description = [{
    `result[d, e]` is the draw of direction `first_direction + d` for flat
    element e of a tensor of the remaining shape, from Philox4x32-10 keyed
    by `seed` with counter (e, direction, step, `stream`), mapped to the
    distribution exactly as the runtime does (runtime/README.md). Sparse
    ternary draws have about `density * size` non-zeros per direction.
    The leading dimension is the number of directions.

    ```mlir
    %v = kan.perturb sparse_ternary seed %s step %t stream 1 density 2.0e-03
        : tensor<32x64x784x8xf64>
    ```
  }];
  let arguments = (ins I64:$seed, I64:$step, Kan_DistributionAttr:$dist,
      ConfinedAttr<I64Attr, [IntMinValue<0>]>:$stream,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>]>, "0">:$first_direction,
      OptionalAttr<F64Attr>:$density);
  let results = (outs Kan_FloatTensor:$result);
  let assemblyFormat = [{
    custom<Distribution>($dist) `seed` $seed `step` $step `stream` $stream
    (`density` $density^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getResult().getType().getDimSize(0); }
  }];
}

def Kan_UpdateCoefficientsOp : Kan_Op<"update_coefficients", [Pure]> {
  let summary = "per-direction update coefficients from the JVP scalars";
  let description = [{
    `fg`: c_i = a_i (the update scales by lr / n). `ternary` (noise_step):
    c_i = sign(a_i) * [|a_i| >= median_j |a_j|] (the update scales by lr).
  }];
  let arguments = (ins Kan_Vector:$alphas, Kan_UpdateRuleAttr:$rule);
  let results = (outs Kan_Vector:$coefficients);
  let assemblyFormat = [{
    custom<UpdateRule>($rule) $alphas attr-dict `:` type($alphas) `->` type($coefficients)
  }];
  let hasVerifier = 1;
}

def Kan_UpdateOp : Kan_Op<"update", [Pure, AllTypesMatch<["param", "result"]>]> {
  let summary = "`theta - scale * sum_d c_d v_d` with v regenerated from the seed";
  let description = [{
    The perturbation of every direction is regenerated from (seed, step,
    direction, stream) exactly as `kan.perturb` defines it; it is never
    stored. Matches the runtime's optimiser bit for bit.
  }];
  let arguments = (ins Kan_FloatTensor:$param, Kan_Vector:$coefficients,
      I64:$seed, I64:$step, Kan_DistributionAttr:$dist,
      ConfinedAttr<I64Attr, [IntMinValue<0>]>:$stream,
      F64Attr:$scale, OptionalAttr<F64Attr>:$density);
  let results = (outs Kan_FloatTensor:$result);
  let assemblyFormat = [{
    $param `,` $coefficients `seed` $seed `step` $step custom<Distribution>($dist) `stream` $stream
    `scale` $scale (`density` $density^)? attr-dict `:` type($param) `,`
    type($coefficients)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}


//===----------------------------------------------------------------------===//
// Activity perturbation (rule `activity` of kan-build-train-step)
//
// The pre-activations z of a hidden layer are perturbed per example and
// direction; the JVP of the loss along each perturbation (kan.layer_jvp
// through the later layers) gives one scalar per example and direction, the
// estimate of dL/dz updates the layer through a second GEMM. Each op is one
// runtime call (kanrt/activity.h).
//===----------------------------------------------------------------------===//

def Kan_PerturbActivityOp : Kan_Op<"perturb_activity", [Pure]> {
  let summary = "per-example, per-direction perturbations of pre-activations";
  let description = [{
    `result[d, r, o]` is the draw of direction `first_direction + d` for
    element `r * O + o` of the batch's pre-activations (N x O, the shape of
    `activation`, whose values are not read), from Philox4x32-10 keyed by
    `seed` with counter (element, direction, step, `stream`), mapped to the
    dense distribution exactly as `kan.perturb` does. Every example gets
    its own perturbation in every direction.

    ```mlir
    %u = kan.perturb_activity %z seed %s step %t normal stream 1073741824
        : tensor<?x64xf64> -> tensor<8x?x64xf64>
    ```
  }];
  let arguments = (ins Kan_Matrix:$activation, I64:$seed, I64:$step,
      Kan_DistributionAttr:$dist,
      ConfinedAttr<I64Attr, [IntMinValue<0>]>:$stream,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>]>, "0">:$first_direction);
  let results = (outs Kan_Tensor3:$result);
  let assemblyFormat = [{
    $activation `seed` $seed `step` $step custom<Distribution>($dist)
    `stream` $stream attr-dict `:` type($activation) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getResult().getType().getDimSize(0); }
  }];
}

def Kan_SoftmaxCrossEntropyExamplesJvpOp
    : Kan_Op<"softmax_cross_entropy_examples_jvp", [Pure]> {
  let summary = "cross-entropy and its per-example directional derivatives";
  let description = [{
    The batch-mean cross-entropy L and, for every direction d and example r,
    `example_tangents[d, r] = (1/N) sum_c (softmax(z_r)_c - onehot(y_r)_c)
    z'_d[r, c]` (no sum over the batch), plus their batch sums
    `loss_tangent[d]`, the JVP of L along direction d.
  }];
  let arguments = (ins Kan_Matrix:$logits, Kan_Labels:$labels,
                       Kan_Tensor3:$logits_tangent);
  let results = (outs Kan_Float:$loss, Kan_Vector:$loss_tangent,
                      Kan_Matrix:$example_tangents);
  let assemblyFormat = [{
    $logits `,` $labels `,` $logits_tangent attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kan_SoftmaxCrossEntropyGradOp
    : Kan_Op<"softmax_cross_entropy_grad", [Pure]> {
  let summary = "the local derivative dL/dz = (softmax(z) - onehot(y)) / N";
  let description = [{
    The exact derivative of the batch-mean cross-entropy with respect to the
    logits: the output layer's update needs no perturbation.
  }];
  let arguments = (ins Kan_Matrix:$logits, Kan_Labels:$labels);
  let results = (outs Kan_Matrix:$grad);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->`
    type($grad)
  }];
  let hasVerifier = 1;
}

def Kan_ActivityEstimateOp : Kan_Op<"activity_estimate", [Pure]> {
  let summary = "g[r] = (1/D) sum_d a[d, r] u[d, r]: the estimate of dL/dz";
  let arguments = (ins Kan_Matrix:$example_tangents,
                       Kan_Tensor3:$perturbations);
  let results = (outs Kan_Matrix:$estimate);
  let assemblyFormat = [{
    $example_tangents `,` $perturbations attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kan_ActivityUpdateOp
    : Kan_Op<"activity_update", [Pure, AttrSizedOperandSegments]> {
  let summary = "a layer's update from dL/dz: the second GEMM sum_r g_r phi(x_r)^T";
  let description = [{
    With A_r = [act(x_r) | flat(B(x_r))] the features of the layer's input
    row r and g_r the estimate of dL/dz_r (`local_grad`, N x O),
    dW = sum_r g_r A_r^T is taken through the packing W = [Wb | flat(C*S)]
    to dWb, dC = dW_C * S and dS = sum_j dW_C C (all from the values before
    the update). The results are `theta - scale * dtheta` (scaled at run
    time by the step's lr_scale), or with `gradient` dtheta itself (an
    optimiser outside the step applies it).

    Tiled (kan-lower-to-gemm): `aux` is the grid's knot data
    (`kan.grid_prepare`) and the GEMM runs in column tiles of
    `input_tile` inputs (input_tile (G+k+1) feature columns); a tile's
    features are recomputed from `input` in chunks of `row_tile` rows and
    its O x input_tile(G+k+1) block of dW is applied before the next tile,
    so neither the N x I(G+k+1) feature matrix nor the whole dW exists.
    Tiles own disjoint weights: they run in parallel.

    ```mlir
    %wb2, %ws2, %s2 = kan.activity_update %x, %grid, %g, %wb, %ws scaler %s
        scale 1.0e-02 order 3 act silu : (...) -> (...)
    ```
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$grid,
      Kan_Matrix:$local_grad, Kan_Matrix:$base_weight,
      Kan_Tensor3:$spline_weight, Optional<Kan_Matrix>:$spline_scaler,
      Optional<Kan_Vector>:$aux,
      F64Attr:$scale,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>, "3">:$order,
      DefaultValuedAttr<Kan_ActivationAttr, "::mlir::kan::Activation::silu">:$act,
      UnitAttr:$gradient,
      OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>>:$input_tile,
      OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>>:$row_tile);
  let results = (outs Kan_Matrix:$new_base_weight,
                      Kan_Tensor3:$new_spline_weight,
                      Optional<Kan_Matrix>:$new_spline_scaler);
  let assemblyFormat = [{
    $input `,` $grid `,` $local_grad `,` $base_weight `,` $spline_weight
    (`scaler` $spline_scaler^)? (`aux` $aux^)? `scale` $scale `order` $order
    `act` custom<Activation>($act) (`gradient` $gradient^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}


//===----------------------------------------------------------------------===//
// GEMM form (produced by kan-lower-to-gemm)
//===----------------------------------------------------------------------===//

def Kan_PackWeightsOp : Kan_Op<"pack_weights", [Pure]> {
  let summary = "concatenated weights W = [Wb | flat(C * S)], O x I(G+k+1)";
  let arguments = (ins Kan_Matrix:$base_weight, Kan_Tensor3:$spline_weight,
                       Optional<Kan_Matrix>:$spline_scaler,
                       OptionalAttr<Kan_WeightLayoutAttr>:$layout);
  let results = (outs Kan_Matrix:$weights);
  let assemblyFormat = [{
    $base_weight `,` $spline_weight (`scaler` $spline_scaler^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kan_PackWeightsTangentOp
    : Kan_Op<"pack_weights_tangent", [Pure, AttrSizedOperandSegments]> {
  let summary = "W'_d = [Wb'_d | flat(C'_d * S + C * S'_d)] for every direction";
  let arguments = (ins Kan_Tensor3:$spline_weight,
                       Optional<Kan_Matrix>:$spline_scaler,
                       Optional<Kan_Tensor3>:$base_weight_tangent,
                       Optional<AnyRankedTensor>:$spline_weight_tangent,
                       Optional<Kan_Tensor3>:$spline_scaler_tangent);
  let results = (outs Kan_Tensor3:$weights_tangent);
  let assemblyFormat = [{
    $spline_weight (`scaler` $spline_scaler^)? (`dbase` $base_weight_tangent^)?
    (`dspline` $spline_weight_tangent^)? (`dscaler` $spline_scaler_tangent^)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def Kan_GridPrepareOp : Kan_Op<"grid_prepare", [Pure]> {
  let summary = "per-input knot data of a layer's grid, computed once per call";
  let description = [{
    The knot spans and reciprocal denominators the basis kernels read
    (`kan_grid_prepare`): I * (4 + k * (G + 2k)) elements. kan-tile-and-fuse
    hoists it out of the row tiles of the layer's GEMMs.
  }];
  let arguments = (ins Kan_Matrix:$grid,
      ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>:$order);
  let results = (outs Kan_Vector:$aux);
  let assemblyFormat = [{
    $grid `order` $order attr-dict `:` type($grid) `->` type($aux)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Elements of the knot data of `inputs` grids of size G, order k.
    static int64_t getAuxSize(int64_t inputs, int64_t gridSize, int64_t order) {
      return inputs * (4 + order * (gridSize + 2 * order));
    }
  }];
}

def Kan_SparseDirectionsOp : Kan_Op<"sparse_directions", [Pure]> {
  let summary = "fused sparse ternary weight tangents W'_d as per-direction CSR";
  let description = [{
    The sparse ternary draws of Wb', C' and S' (streams[i] < 0: not
    perturbed) of every direction d, folded through the packing of
    `kan.pack_weights_tangent` (C'S and C S' columns), as one CSR matrix
    per direction grouped by output row (directions `first_direction` + d
    of the step): `rowptr[d]` (O + 1 entries),
    `cols[d]` and `vals[d]` (at most the trailing dimension of non-zeros,
    a bound computed at run time from the sizes and the density). Work is
    O(non-zeros); the dense W'_d never exists. kan-tile-and-fuse creates it
    once per layer, outside the row tiles that read it.
  }];
  let arguments = (ins Kan_Tensor3:$spline_weight,
      Optional<Kan_Matrix>:$spline_scaler, I64:$seed, I64:$step,
      DenseI64ArrayAttr:$streams, F64Attr:$density,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>]>, "0">:$first_direction);
  let results = (outs 2DTensorOf<[I32]>:$rowptr, 2DTensorOf<[I32]>:$cols,
                      Kan_Matrix:$vals);
  let assemblyFormat = [{
    $spline_weight (`scaler` $spline_scaler^)? `seed` $seed `step` $step
    `streams` $streams `density` $density attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getRowptr().getType().getDimSize(0); }
  }];
}

def Kan_SpanWeightsOp : Kan_Op<"span_weights", [Pure, AllTypesMatch<["weights", "result"]>]> {
  let summary = "packed weights copied into the span layout";
  let description = [{
    The same values as `weights` (dense layout, O x I(G+k+1)) stored as
    I(G+k+1) rows of O outputs, the layout the span-local Jacobian kernel
    reads. kan-prepare-cpu creates it, once per layer in front of the row
    tiles, for layers whose input tangent goes through the Jacobian.
  }];
  let arguments = (ins Kan_Matrix:$weights,
      ConfinedAttr<I64Attr, [IntMinValue<1>]>:$inputs);
  let results = (outs Kan_Matrix:$result);
  let assemblyFormat = [{
    $weights `inputs` $inputs attr-dict `:` type($weights)
  }];
  let hasVerifier = 1;
}

def Kan_FeatureGemmOp : Kan_Op<"feature_gemm", [Pure,
    DeclareOpInterfaceMethods<TilingInterface,
      ["getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
       "getResultTilePosition"]>,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface>]> {
  let summary = "y = A(x) W^T with the feature matrix A = [act(x) | B(x)] fused";
  let description = [{
    The primal GEMM of a layer. The A operand is not a value: its rows are
    produced from `input` and `grid` (with the grid's knot data `aux`, once
    kan-tile-and-fuse has hoisted it) inside each row tile, straight into
    the GEMM panel, so the N x I(G+k+1) matrix never exists. Rows are
    independent: a tile of the op is the op on a slice of rows
    (`TilingInterface`), which is how kan-tile-and-fuse builds its loops.
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$grid, Kan_Matrix:$weights,
      Optional<Kan_Vector>:$aux,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>, "3">:$order,
      DefaultValuedAttr<Kan_ActivationAttr, "::mlir::kan::Activation::silu">:$act,
      OptionalAttr<Kan_ForwardKernelAttr>:$kernel);
  let results = (outs Kan_Matrix:$output);
  let assemblyFormat = [{
    $input `,` $grid `,` $weights (`aux` $aux^)? `order` $order
    `act` custom<Activation>($act) attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kan_FeatureGemmJvpOp
    : Kan_Op<"feature_gemm_jvp", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<TilingInterface,
      ["getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
       "getResultTilePosition"]>,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface>]> {
  let summary = "primal and tangent GEMMs [A'_d | A] [W ; W'_d]^T of a layer";
  let description = [{
    `y = A W^T` and, for each direction d, `y'_d = A'_d W^T + A W'_d^T`.
    A and A'_d are produced per row tile from `input` and `input_tangent`
    (absent: A' = 0, the first-layer shortcut). W'_d is either a value
    (`weights_tangent`), or, when `dist` is set, regenerated from
    (`seed`, `step`, direction, `streams`) inside the op, directions
    `first_direction` .. `first_direction + width - 1`, or the CSR
    matrices of `kan.sparse_directions` (`csr`): sparse ternary directions
    are never densified, the tangent product touches only the s*|W|
    non-zero columns of the feature tile. `weight_tangent_cols` (set by
    kan-prepare-cpu for regenerated directions) computes a tile's features
    and draws W'_d that many columns at a time. Rows are independent: a tile of
    the op is the op on a slice of rows of `input`, `input_tangent` and
    both results (`TilingInterface`).
  }];
  let arguments = (ins Kan_Matrix:$input, Kan_Matrix:$grid, Kan_Matrix:$weights,
      Kan_Tensor3:$spline_weight, Optional<Kan_Matrix>:$spline_scaler,
      Optional<Kan_Tensor3>:$input_tangent,
      Optional<Kan_Tensor3>:$weights_tangent,
      Optional<I64>:$seed, Optional<I64>:$step,
      Optional<Kan_Vector>:$aux,
      Optional<2DTensorOf<[I32]>>:$csr_rowptr,
      Optional<2DTensorOf<[I32]>>:$csr_cols,
      Optional<Kan_Matrix>:$csr_vals,
      Optional<Kan_Matrix>:$span_weights,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<15>]>, "3">:$order,
      DefaultValuedAttr<Kan_ActivationAttr, "::mlir::kan::Activation::silu">:$act,
      OptionalAttr<Kan_DistributionAttr>:$dist,
      OptionalAttr<F64Attr>:$density,
      OptionalAttr<DenseI64ArrayAttr>:$streams,
      OptionalAttr<Kan_InputTangentKernelAttr>:$input_tangent_kernel,
      OptionalAttr<Kan_WeightTangentKernelAttr>:$weight_tangent_kernel,
      DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<0>]>, "0">:$first_direction,
      OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>>:$weight_tangent_cols);
  let results = (outs Kan_Matrix:$output, Kan_Tensor3:$output_tangent);
  let assemblyFormat = [{
    $input `,` $grid `,` $weights `,` $spline_weight
    (`scaler` $spline_scaler^)? (`dinput` $input_tangent^)?
    (`dweights` $weights_tangent^)?
    (`perturb` `seed` $seed^ `step` $step)?
    (`aux` $aux^)?
    (`csr` `(` $csr_rowptr^ `,` $csr_cols `,` $csr_vals `)`)?
    (`span_weights` $span_weights^)?
    `order` $order `act` custom<Activation>($act) attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getWidth() { return getOutputTangent().getType().getDimSize(0); }
  }];
}

#endif // KAN_OPS_TD
