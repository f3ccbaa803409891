// RUN: kan-opt %s | kan-opt | FileCheck %s

// CHECK-LABEL: func @perturb_and_update
// CHECK: kan.perturb sparse_ternary seed %arg0 step %arg1 stream 1 density 2.000000e-03 : tensor<32x4x5x8xf64>
// CHECK: kan.perturb normal seed %arg0 step %arg1 stream 0 : tensor<8x4x5xf64>
// CHECK: kan.perturb rademacher seed %arg0 step %arg1 stream 2 {first_direction = 8 : i64} : tensor<8x4x5xf32>
// CHECK: kan.update_coefficients ternary %arg3 : tensor<32xf64> -> tensor<32xf64>
// CHECK: kan.update %arg2, %{{.*}} seed %arg0 step %arg1 sparse_ternary stream 1 scale 3.000000e-03 density 2.000000e-03 : tensor<4x5x8xf64>, tensor<32xf64>
func.func @perturb_and_update(%seed: i64, %step: i64, %w: tensor<4x5x8xf64>, %a: tensor<32xf64>)
    -> (tensor<32x4x5x8xf64>, tensor<8x4x5xf64>, tensor<8x4x5xf32>, tensor<4x5x8xf64>) {
  %v = kan.perturb sparse_ternary seed %seed step %step stream 1 density 2.0e-3 : tensor<32x4x5x8xf64>
  %n = kan.perturb normal seed %seed step %step stream 0 : tensor<8x4x5xf64>
  %r = kan.perturb rademacher seed %seed step %step stream 2 {first_direction = 8} : tensor<8x4x5xf32>
  %c = kan.update_coefficients ternary %a : tensor<32xf64> -> tensor<32xf64>
  %w2 = kan.update %w, %c seed %seed step %step sparse_ternary stream 1 scale 3.0e-3 density 2.0e-3 : tensor<4x5x8xf64>, tensor<32xf64>
  return %v, %n, %r, %w2 : tensor<32x4x5x8xf64>, tensor<8x4x5xf64>, tensor<8x4x5xf32>, tensor<4x5x8xf64>
}
