// RUN: kan-opt %s -split-input-file -verify-diagnostics

func.func @wrong_element_type(%x: tensor<?x5xf64>, %g: tensor<5x12xf32>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'grid' has element type 'f32' but expected 'f64'}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x12xf32>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @input_columns(%x: tensor<?x6xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'input' expected shape ?x5 but got ?x6}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x6xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @grid_rows(%x: tensor<?x5xf64>, %g: tensor<4x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'grid' expected shape 5x12 but got 4x12}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<4x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @grid_too_small(%x: tensor<?x5xf64>, %g: tensor<5x7xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'grid' has 7 knots per input, too few for spline order 3}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x7xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @spline_width(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x9xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'spline_weight' expected shape 4x5x8 but got 4x5x9}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x9xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @scaler_shape(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %s: tensor<5x4xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'spline_scaler' expected shape 4x5 but got 5x4}}
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<5x4xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @dynamic_weights(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<?x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'base_weight' must have a static shape (O x I) but got ?x5}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @dynamic_grid(%x: tensor<?x5xf64>, %g: tensor<5x?xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'grid' must have a static shape but got 5x?}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x?xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @result_shape(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x3xf64> {
  // expected-error @+1 {{result expected shape ?x4}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x3xf64>
  return %y : tensor<?x3xf64>
}

// -----

func.func @jvp_tangent_width(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %dwb: tensor<2x4x5xf64>) -> tensor<4x16x4xf64> {
  // expected-error @+1 {{operand 'base_weight_tangent' expected shape 4x4x5 but got 2x4x5}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %dwb order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<2x4x5xf64>) -> (tensor<16x4xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

func.func @jvp_input_tangent(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %dx: tensor<4x16x4xf64>) -> tensor<4x16x4xf64> {
  // expected-error @+1 {{operand 'input_tangent' expected shape 4x16x5 but got 4x16x4}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dinput %dx order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x16x4xf64>) -> (tensor<16x4xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

func.func @jvp_spline_tangent(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %dws: tensor<4x4x5xf64>) -> tensor<4x16x4xf64> {
  // expected-error @+1 {{operand 'spline_weight_tangent' expected shape 4x4x5x8 but got 4x4x5}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dspline %dws order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x4x5xf64>) -> (tensor<16x4xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

func.func @jvp_scaler_without_scaler(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %ds: tensor<4x4x5xf64>) -> tensor<4x16x4xf64> {
  // expected-error @+1 {{operand 'spline_scaler_tangent' given without a 'spline_scaler'}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dscaler %ds order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x4x5xf64>) -> (tensor<16x4xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

func.func @jvp_output_tangent(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<4x16x3xf64> {
  // expected-error @+1 {{operand 'output_tangent' expected shape 4x16x4 but got 4x16x3}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>) -> (tensor<16x4xf64>, tensor<4x16x3xf64>)
  return %dy : tensor<4x16x3xf64>
}

// -----

func.func @jvp_output(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<4x16x4xf64> {
  // expected-error @+1 {{result 'output' expected shape 16x4 but got 16x3}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>) -> (tensor<16x3xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

func.func @jvp_dynamic_width(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x16x4xf64> {
  // expected-error @+1 {{needs a static leading width dimension >= 1}}
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws order 3 act silu : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>) -> (tensor<16x4xf64>, tensor<?x16x4xf64>)
  return %dy : tensor<?x16x4xf64>
}

// -----

func.func @mse_target(%z: tensor<?x3xf64>, %t: tensor<?x4xf64>) -> f64 {
  // expected-error @+1 {{operand 'target' expected shape ?x3 but got ?x4}}
  %l = kan.mse %z, %t : tensor<?x3xf64>, tensor<?x4xf64> -> f64
  return %l : f64
}

// -----

func.func @mse_loss_type(%z: tensor<?x3xf64>, %t: tensor<?x3xf64>) -> f32 {
  // expected-error @+1 {{result 'loss' has type 'f32' but the prediction's element type is 'f64'}}
  %l = kan.mse %z, %t : tensor<?x3xf64>, tensor<?x3xf64> -> f32
  return %l : f32
}

// -----

func.func @ce_labels(%z: tensor<16x3xf64>, %y: tensor<8xi64>) -> f64 {
  // expected-error @+1 {{operand 'labels' expected shape 16 but got 8}}
  %l = kan.softmax_cross_entropy %z, %y : tensor<16x3xf64>, tensor<8xi64> -> f64
  return %l : f64
}

// -----

func.func @ce_jvp_tangent(%z: tensor<16x3xf64>, %y: tensor<16xi64>, %dz: tensor<4x16x4xf64>) -> tensor<4xf64> {
  // expected-error @+1 {{operand 'tangent' expected shape 4x16x3 but got 4x16x4}}
  %l, %d = kan.softmax_cross_entropy_jvp %z, %y, %dz : (tensor<16x3xf64>, tensor<16xi64>, tensor<4x16x4xf64>) -> (f64, tensor<4xf64>)
  return %d : tensor<4xf64>
}

// -----

func.func @mse_jvp_alphas(%z: tensor<16x3xf64>, %t: tensor<16x3xf64>, %dz: tensor<4x16x3xf64>) -> tensor<5xf64> {
  // expected-error @+1 {{operand 'loss_tangent' expected shape 4 but got 5}}
  %l, %d = kan.mse_jvp %z, %t, %dz : (tensor<16x3xf64>, tensor<16x3xf64>, tensor<4x16x3xf64>) -> (f64, tensor<5xf64>)
  return %d : tensor<5xf64>
}

// -----

func.func @mse_jvp_dynamic_width(%z: tensor<16x3xf64>, %t: tensor<16x3xf64>, %dz: tensor<?x16x3xf64>) -> tensor<?xf64> {
  // expected-error @+1 {{operand 'tangent' needs a static leading width dimension}}
  %l, %d = kan.mse_jvp %z, %t, %dz : (tensor<16x3xf64>, tensor<16x3xf64>, tensor<?x16x3xf64>) -> (f64, tensor<?xf64>)
  return %d : tensor<?xf64>
}

// -----

func.func @perturb_no_density(%s: i64, %t: i64) -> tensor<4x3x2xf64> {
  // expected-error @+1 {{sparse_ternary perturbations need a 'density'}}
  %v = kan.perturb sparse_ternary seed %s step %t stream 0 : tensor<4x3x2xf64>
  return %v : tensor<4x3x2xf64>
}

// -----

func.func @perturb_bad_density(%s: i64, %t: i64) -> tensor<4x3x2xf64> {
  // expected-error @+1 {{'density' must be in (0, 1] but is 1.5}}
  %v = kan.perturb sparse_ternary seed %s step %t stream 0 density 1.5 : tensor<4x3x2xf64>
  return %v : tensor<4x3x2xf64>
}

// -----

func.func @perturb_density_normal(%s: i64, %t: i64) -> tensor<4x3x2xf64> {
  // expected-error @+1 {{'density' is only meaningful for sparse_ternary perturbations}}
  %v = kan.perturb normal seed %s step %t stream 0 density 0.5 : tensor<4x3x2xf64>
  return %v : tensor<4x3x2xf64>
}

// -----

func.func @perturb_rank(%s: i64, %t: i64) -> tensor<4xf64> {
  // expected-error @+1 {{result must have a static shape of rank >= 2}}
  %v = kan.perturb normal seed %s step %t stream 0 : tensor<4xf64>
  return %v : tensor<4xf64>
}

// -----

func.func @perturb_negative_stream(%s: i64, %t: i64) -> tensor<4x3xf64> {
  // expected-error @+1 {{attribute 'stream' failed to satisfy constraint}}
  %v = kan.perturb normal seed %s step %t stream -1 : tensor<4x3xf64>
  return %v : tensor<4x3xf64>
}

// -----

func.func @coefficients_type(%a: tensor<4xf64>) -> tensor<5xf64> {
  // expected-error @+1 {{result type 'tensor<5xf64>' must equal the alphas' type 'tensor<4xf64>'}}
  %c = kan.update_coefficients fg %a : tensor<4xf64> -> tensor<5xf64>
  return %c : tensor<5xf64>
}

// -----

func.func @coefficients_dynamic(%a: tensor<?xf64>) -> tensor<?xf64> {
  // expected-error @+1 {{operand 'alphas' needs a static width}}
  %c = kan.update_coefficients fg %a : tensor<?xf64> -> tensor<?xf64>
  return %c : tensor<?xf64>
}

// -----

func.func @update_coefficient_type(%w: tensor<4x5xf64>, %c: tensor<4xf32>, %s: i64, %t: i64) -> tensor<4x5xf64> {
  // expected-error @+1 {{operand 'coefficients' has element type 'f32' but expected 'f64'}}
  %w2 = kan.update %w, %c seed %s step %t normal stream 0 scale 1.0 : tensor<4x5xf64>, tensor<4xf32>
  return %w2 : tensor<4x5xf64>
}

// -----

func.func @update_dynamic(%w: tensor<?x5xf64>, %c: tensor<4xf64>, %s: i64, %t: i64) -> tensor<?x5xf64> {
  // expected-error @+1 {{operand 'param' must have a static shape}}
  %w2 = kan.update %w, %c seed %s step %t normal stream 0 scale 1.0 : tensor<?x5xf64>, tensor<4xf64>
  return %w2 : tensor<?x5xf64>
}

// -----

func.func @update_density(%w: tensor<4x5xf64>, %c: tensor<4xf64>, %s: i64, %t: i64) -> tensor<4x5xf64> {
  // expected-error @+1 {{sparse_ternary perturbations need a 'density'}}
  %w2 = kan.update %w, %c seed %s step %t sparse_ternary stream 0 scale 1.0 : tensor<4x5xf64>, tensor<4xf64>
  return %w2 : tensor<4x5xf64>
}

// -----

func.func @bad_activation(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{expected Activation to be one of: silu, identity, but got 'relu'}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act relu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @aux_size(%g: tensor<5x12xf64>) -> tensor<184xf64> {
  // expected-error @+1 {{operand 'aux' expected shape 185 but got 184}}
  %aux = kan.grid_prepare %g order 3 : tensor<5x12xf64> -> tensor<184xf64>
  return %aux : tensor<184xf64>
}

// -----

func.func @sparse_no_stream(%c: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<2x5xi32> {
  // expected-error @+1 {{'streams' lists base, spline and scaler streams (-1 = not perturbed), at least one perturbed}}
  %rp, %cols, %vals = kan.sparse_directions %c seed %seed step %step streams [-1, -1, -1] density 5.0e-2
      : (tensor<4x5x8xf64>, i64, i64) -> (tensor<2x5xi32>, tensor<2x?xi32>, tensor<2x?xf64>)
  return %rp : tensor<2x5xi32>
}

// -----

func.func @sparse_rowptr(%c: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<2x4xi32> {
  // expected-error @+1 {{operand 'rowptr' expected shape 2x5 but got 2x4}}
  %rp, %cols, %vals = kan.sparse_directions %c seed %seed step %step streams [0, 1, -1] density 5.0e-2
      : (tensor<4x5x8xf64>, i64, i64) -> (tensor<2x4xi32>, tensor<2x?xi32>, tensor<2x?xf64>)
  return %rp : tensor<2x4xi32>
}

// -----

func.func @csr_and_dweights(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                            %wt: tensor<2x4x45xf64>, %rp: tensor<2x5xi32>, %cols: tensor<2x?xi32>, %vals: tensor<2x?xf64>) -> tensor<2x?x4xf64> {
  // expected-error @+1 {{takes one of 'weights_tangent', a fused perturbation or 'csr' directions}}
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dweights %wt csr(%rp, %cols, %vals) order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x4x45xf64>, tensor<2x5xi32>, tensor<2x?xi32>, tensor<2x?xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy : tensor<2x?x4xf64>
}

// -----

func.func @jacobian_without_span(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                                 %dx: tensor<2x?x5xf64>) -> tensor<2x?x4xf64> {
  // expected-error @+1 {{takes 'span_weights' exactly when its input tangent goes through the Jacobian}}
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dinput %dx order 3 act silu {input_tangent_kernel = #kan<input_tangent_kernel jacobian>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x?x5xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy : tensor<2x?x4xf64>
}

// -----

func.func @weight_tangent_kernel(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                                 %wt: tensor<2x4x45xf64>) -> tensor<2x?x4xf64> {
  // expected-error @+1 {{'weight_tangent_kernel' must be dense for its weight tangent operands}}
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dweights %wt order 3 act silu {weight_tangent_kernel = #kan<weight_tangent_kernel sparse_rows>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x4x45xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy : tensor<2x?x4xf64>
}

// -----

func.func @span_weights_columns(%w: tensor<4x45xf64>) -> tensor<4x45xf64> {
  // expected-error @+1 {{'weights' has 45 columns, not I(G+k+1) for 4 inputs}}
  %s = kan.span_weights %w inputs 4 : tensor<4x45xf64>
  return %s : tensor<4x45xf64>
}

// -----

// Zero-sized, oversized and overflowing dimensions never reach the passes
// (a zero width divided the row-tile computation, an int64-sized one
// overflowed the emitted element counts).
func.func @zero_width(%x: tensor<?x0xf64>, %g: tensor<0x12xf64>, %wb: tensor<4x0xf64>, %ws: tensor<4x0x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'input' has a dimension of size 0 (?x0)}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x0xf64>, tensor<0x12xf64>, tensor<4x0xf64>, tensor<4x0x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @huge_width(%x: tensor<?x9223372036854775807xf64>, %g: tensor<9223372036854775807x12xf64>, %wb: tensor<4x9223372036854775807xf64>, %ws: tensor<4x9223372036854775807x8xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'input' has a dimension of 9223372036854775807, more than 16777216}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x9223372036854775807xf64>, tensor<9223372036854775807x12xf64>, tensor<4x9223372036854775807xf64>, tensor<4x9223372036854775807x8xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @too_many_elements(%x: tensor<?x16777216xf64>, %g: tensor<16777216x516xf64>, %wb: tensor<16777216x16777216xf64>, %ws: tensor<16777216x16777216x512xf64>) -> tensor<?x16777216xf64> {
  // expected-error @+1 {{operand 'spline_weight' has more than 72057594037927936 elements (16777216x16777216x512)}}
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu : tensor<?x16777216xf64>, tensor<16777216x516xf64>, tensor<16777216x16777216xf64>, tensor<16777216x16777216x512xf64> -> tensor<?x16777216xf64>
  return %y : tensor<?x16777216xf64>
}

// -----

// The runtime's B-spline kernels support orders up to 15.
func.func @order_16(%x: tensor<?x2xf64>, %g: tensor<2x38xf64>, %wb: tensor<2x2xf64>, %ws: tensor<2x2x21xf64>) -> tensor<?x2xf64> {
  // expected-error @+1 {{attribute 'order' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 0 whose maximum value is 15}}
  %y = kan.layer %x, %g, %wb, %ws order 16 act silu : tensor<?x2xf64>, tensor<2x38xf64>, tensor<2x2xf64>, tensor<2x2x21xf64> -> tensor<?x2xf64>
  return %y : tensor<?x2xf64>
}
