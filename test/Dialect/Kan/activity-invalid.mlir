// RUN: kan-opt %s -split-input-file -verify-diagnostics

func.func @sparse_activity(%z: tensor<?x4xf64>, %seed: i64) -> tensor<8x?x4xf64> {
  // expected-error @+1 {{activity perturbations are dense}}
  %u = kan.perturb_activity %z seed %seed step %seed sparse_ternary stream 7
      : tensor<?x4xf64> -> tensor<8x?x4xf64>
  return %u : tensor<8x?x4xf64>
}

// -----

func.func @perturb_shape(%z: tensor<?x4xf64>, %seed: i64) -> tensor<8x?x5xf64> {
  // expected-error @+1 {{operand 'result' expected shape 8x?x4 but got 8x?x5}}
  %u = kan.perturb_activity %z seed %seed step %seed normal stream 7
      : tensor<?x4xf64> -> tensor<8x?x5xf64>
  return %u : tensor<8x?x5xf64>
}

// -----

func.func @estimate_width(%e: tensor<4x?xf64>, %u: tensor<8x?x4xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{operand 'example_tangents' expected shape 8x? but got 4x?}}
  %g = kan.activity_estimate %e, %u : (tensor<4x?xf64>, tensor<8x?x4xf64>) -> tensor<?x4xf64>
  return %g : tensor<?x4xf64>
}

// -----

func.func @update_grad_shape(%x: tensor<?x5xf64>, %grid: tensor<5x12xf64>, %g: tensor<?x3xf64>,
                             %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) {
  // expected-error @+1 {{operand 'local_grad' expected shape ?x4 but got ?x3}}
  %w:2 = kan.activity_update %x, %grid, %g, %wb, %ws scale 1.0 order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x3xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return
}

// -----

func.func @examples_width(%l: tensor<?x3xf64>, %y: tensor<?xi64>, %t: tensor<8x?x3xf64>) {
  // expected-error @+1 {{operand 'example_tangents' expected shape 8x? but got 4x?}}
  %a, %b, %c = kan.softmax_cross_entropy_examples_jvp %l, %y, %t
      : (tensor<?x3xf64>, tensor<?xi64>, tensor<8x?x3xf64>) -> (f64, tensor<8xf64>, tensor<4x?xf64>)
  return
}

// -----

// The tiled form (kan-lower-to-gemm) needs the knot data and both tiles.
func.func @update_tiles_without_aux(%x: tensor<?x5xf64>, %grid: tensor<5x12xf64>, %g: tensor<?x4xf64>,
                                    %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>) {
  // expected-error @+1 {{needs 'aux', 'input_tile' and 'row_tile' together (the tiled form) or none of them}}
  %w:2 = kan.activity_update %x, %grid, %g, %wb, %ws scale 1.0 order 3 act silu {input_tile = 2 : i64, row_tile = 8 : i64}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return
}

// -----

func.func @update_aux_size(%x: tensor<?x5xf64>, %grid: tensor<5x12xf64>, %g: tensor<?x4xf64>,
                           %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %aux: tensor<100xf64>) {
  // expected-error @+1 {{operand 'aux' expected shape 185 but got 100}}
  %w:2 = kan.activity_update %x, %grid, %g, %wb, %ws aux %aux scale 1.0 order 3 act silu {input_tile = 2 : i64, row_tile = 8 : i64}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<100xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return
}

// -----

func.func @update_zero_tile(%x: tensor<?x5xf64>, %grid: tensor<5x12xf64>, %g: tensor<?x4xf64>,
                            %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>, %aux: tensor<185xf64>) {
  // expected-error @+1 {{attribute 'input_tile' failed to satisfy constraint}}
  %w:2 = kan.activity_update %x, %grid, %g, %wb, %ws aux %aux scale 1.0 order 3 act silu {input_tile = 0 : i64, row_tile = 8 : i64}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<185xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return
}
