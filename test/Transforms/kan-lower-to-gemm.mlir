// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm))' | FileCheck %s
// RUN: not kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm{update-rows=0}))' 2>&1 | FileCheck %s --check-prefix=BADROWS
// BADROWS: kan-lower-to-gemm: update-rows and update-panel-bytes must be positive

// A layer becomes one GEMM over the concatenated features: W is O x I(G+k+1)
// = 4 x 5*(5+3+1) = 4 x 45.
// CHECK-LABEL: func.func @layer
// CHECK: %[[W:.*]] = kan.pack_weights %arg2, %arg3 scaler %arg4 : (tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64>) -> tensor<4x45xf64>
// CHECK: kan.feature_gemm %arg0, %arg1, %[[W]] order 3 act silu : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>) -> tensor<?x4xf64>
// CHECK-NOT: kan.layer
func.func @layer(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                 %ws: tensor<4x5x8xf64>, %s: tensor<4x5xf64>) -> tensor<?x4xf64> {
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

// Weight tangents drawn by kan.perturb with one seed are fused into the GEMM
// (regenerated inside it); the first layer has no input tangent: no A' half.
// CHECK-LABEL: func.func @first_layer_perturbed
// CHECK: %[[W:.*]] = kan.pack_weights %arg2, %arg3
// CHECK: kan.feature_gemm_jvp %arg0, %arg1, %[[W]], %arg3 perturb seed %arg4 step %arg5 order 3 act silu
// CHECK-SAME: density = 2.000000e-03 : f64, dist = #kan<dist sparse_ternary>, streams = array<i64: 0, 1, -1>
// CHECK-NOT: dinput
// CHECK-SAME: -> (tensor<16x4xf64>, tensor<8x16x4xf64>)
func.func @first_layer_perturbed(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                                 %ws: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<8x16x4xf64> {
  %vb = kan.perturb sparse_ternary seed %seed step %step stream 0 density 2.0e-3 : tensor<8x4x5xf64>
  %vs = kan.perturb sparse_ternary seed %seed step %step stream 1 density 2.0e-3 : tensor<8x4x5x8xf64>
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %vb dspline %vs order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<8x4x5xf64>, tensor<8x4x5x8xf64>)
      -> (tensor<16x4xf64>, tensor<8x16x4xf64>)
  return %dy : tensor<8x16x4xf64>
}

// -----

// A slice of a step's directions (one rank's share) stays fused: the GEMM
// draws directions first_direction .. first_direction + width - 1.
// CHECK-LABEL: func.func @direction_slice
// CHECK: kan.feature_gemm_jvp %arg0, %arg1, %{{.*}}, %arg3 perturb seed %arg4 step %arg5 order 3 act silu
// CHECK-SAME: first_direction = 8 : i64
// CHECK-SAME: streams = array<i64: 0, 1, -1>
func.func @direction_slice(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                           %ws: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<4x16x4xf64> {
  %vb = kan.perturb sparse_ternary seed %seed step %step stream 0 density 2.0e-3 {first_direction = 8 : i64} : tensor<4x4x5xf64>
  %vs = kan.perturb sparse_ternary seed %seed step %step stream 1 density 2.0e-3 {first_direction = 8 : i64} : tensor<4x4x5x8xf64>
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %vb dspline %vs order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x4x5xf64>, tensor<4x4x5x8xf64>)
      -> (tensor<16x4xf64>, tensor<4x16x4xf64>)
  return %dy : tensor<4x16x4xf64>
}

// -----

// Tangents that are plain values go through pack_weights_tangent; an input
// tangent gives the A' half (dinput).
// CHECK-LABEL: func.func @dense_tangents
// CHECK: %[[W:.*]] = kan.pack_weights %arg2, %arg3 :
// CHECK: %[[WT:.*]] = kan.pack_weights_tangent %arg3 dspline %arg5 : (tensor<4x5x8xf64>, tensor<2x4x5x8xf64>) -> tensor<2x4x45xf64>
// CHECK: kan.feature_gemm_jvp %arg0, %arg1, %[[W]], %arg3 dinput %arg4 dweights %[[WT]] order 3 act silu
func.func @dense_tangents(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                          %ws: tensor<4x5x8xf64>, %dx: tensor<2x16x5xf64>, %dws: tensor<2x4x5x8xf64>) -> tensor<2x16x4xf64> {
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dinput %dx dspline %dws order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<2x16x5xf64>, tensor<2x4x5x8xf64>)
      -> (tensor<16x4xf64>, tensor<2x16x4xf64>)
  return %dy : tensor<2x16x4xf64>
}

// -----

// Perturbations with different seeds are not fused.
// CHECK-LABEL: func.func @mixed_seeds
// CHECK: kan.pack_weights_tangent
// CHECK: kan.feature_gemm_jvp {{.*}} dweights
func.func @mixed_seeds(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                       %ws: tensor<4x5x8xf64>, %s0: i64, %s1: i64, %step: i64) -> tensor<2x16x4xf64> {
  %vb = kan.perturb normal seed %s0 step %step stream 0 : tensor<2x4x5xf64>
  %vs = kan.perturb normal seed %s1 step %step stream 1 : tensor<2x4x5x8xf64>
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %vb dspline %vs order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<2x4x5xf64>, tensor<2x4x5x8xf64>)
      -> (tensor<16x4xf64>, tensor<2x16x4xf64>)
  return %dy : tensor<2x16x4xf64>
}

// -----

// The activity update (the second GEMM, dW = g^T A) gets its tiles: the
// grid's knot data and column tiles of inputs whose feature chunk, 128 rows
// x 9 features per input x 8 bytes, fits in 256 KiB: 28 of 784 inputs.
// Neither the N x 784*9 feature matrix nor the whole dW is a value.
// CHECK-LABEL: func.func @activity_update
// CHECK: %[[AUX:.*]] = kan.grid_prepare %arg1 order 3 : tensor<784x12xf64> -> tensor<29008xf64>
// CHECK: kan.activity_update %arg0, %arg1, %arg2, %arg3, %arg4 scaler %arg5 aux %[[AUX]] scale 1.000000e-02 order 3 act silu {input_tile = 28 : i64, row_tile = 128 : i64}
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm{update-rows=4 update-panel-bytes=600}))' | FileCheck %s --check-prefix=SMALL
// A smaller budget: 600 / (4 rows x 9 x 8 bytes) = 2 inputs per tile.
// SMALL-LABEL: func.func @activity_update
// SMALL: kan.activity_update {{.*}} {input_tile = 2 : i64, row_tile = 4 : i64}
// SMALL-LABEL: func.func @activity_update_static
// SMALL: kan.activity_update {{.*}} {input_tile = 2 : i64, row_tile = 3 : i64}
func.func @activity_update(%x: tensor<?x784xf64>, %grid: tensor<784x12xf64>, %g: tensor<?x64xf64>,
                           %wb: tensor<64x784xf64>, %ws: tensor<64x784x8xf64>, %s: tensor<64x784xf64>)
    -> (tensor<64x784xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>) {
  %w:3 = kan.activity_update %x, %grid, %g, %wb, %ws scaler %s scale 1.0e-2 order 3 act silu
      : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<?x64xf64>, tensor<64x784xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>)
      -> (tensor<64x784xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>)
  return %w#0, %w#1, %w#2 : tensor<64x784xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>
}

// -----

// A batch of 3 rows: one chunk of 3 rows; a tile of at most all 5 inputs.
// CHECK-LABEL: func.func @activity_update_static
// CHECK: kan.activity_update {{.*}} gradient {input_tile = 5 : i64, row_tile = 3 : i64}
func.func @activity_update_static(%x: tensor<3x5xf64>, %grid: tensor<5x12xf64>, %g: tensor<3x4xf64>,
                                  %wb: tensor<4x5xf64>, %ws: tensor<4x5x8xf64>)
    -> (tensor<4x5xf64>, tensor<4x5x8xf64>) {
  %w:2 = kan.activity_update %x, %grid, %g, %wb, %ws scale 1.0 order 3 act silu gradient
      : (tensor<3x5xf64>, tensor<5x12xf64>, tensor<3x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return %w#0, %w#1 : tensor<4x5xf64>, tensor<4x5x8xf64>
}
