// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm))' | FileCheck %s

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
