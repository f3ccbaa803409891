// RUN: kan-opt %s | kan-opt | FileCheck %s

// The ops of the activity rule round-trip.
// CHECK-LABEL: func @activity
// CHECK: kan.perturb_activity %arg0 seed %arg1 step %arg2 rademacher stream 1073741824 {first_direction = 4 : i64} : tensor<?x4xf64> -> tensor<8x?x4xf64>
// CHECK: kan.softmax_cross_entropy_examples_jvp %arg3, %arg4, %arg5 : (tensor<?x3xf64>, tensor<?xi64>, tensor<8x?x3xf64>) -> (f64, tensor<8xf64>, tensor<8x?xf64>)
// CHECK: kan.softmax_cross_entropy_grad %arg3, %arg4 : tensor<?x3xf64>, tensor<?xi64> -> tensor<?x3xf64>
// CHECK: kan.activity_estimate %{{.*}}, %{{.*}} : (tensor<8x?xf64>, tensor<8x?x4xf64>) -> tensor<?x4xf64>
// CHECK: kan.activity_update %arg6, %arg7, %{{.*}}, %arg8, %arg9 scaler %arg10 scale 1.000000e-02 order 3 act silu :
// CHECK: kan.activity_update %arg6, %arg7, %{{.*}}, %arg8, %arg9 scale 1.000000e+00 order 3 act identity gradient :
func.func @activity(%z: tensor<?x4xf64>, %seed: i64, %step: i64,
                    %logits: tensor<?x3xf64>, %y: tensor<?xi64>, %t: tensor<8x?x3xf64>,
                    %x: tensor<?x5xf64>, %grid: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                    %ws: tensor<4x5x8xf64>, %s: tensor<4x5xf64>) {
  %u = kan.perturb_activity %z seed %seed step %step rademacher stream 1073741824 {first_direction = 4}
      : tensor<?x4xf64> -> tensor<8x?x4xf64>
  %l, %a, %e = kan.softmax_cross_entropy_examples_jvp %logits, %y, %t
      : (tensor<?x3xf64>, tensor<?xi64>, tensor<8x?x3xf64>) -> (f64, tensor<8xf64>, tensor<8x?xf64>)
  %d = kan.softmax_cross_entropy_grad %logits, %y : tensor<?x3xf64>, tensor<?xi64> -> tensor<?x3xf64>
  %g = kan.activity_estimate %e, %u : (tensor<8x?xf64>, tensor<8x?x4xf64>) -> tensor<?x4xf64>
  %w:3 = kan.activity_update %x, %grid, %g, %wb, %ws scaler %s scale 1.0e-2 order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64>)
  %v:2 = kan.activity_update %x, %grid, %g, %wb, %ws scale 1.0 order 3 act identity gradient
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<?x4xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>)
      -> (tensor<4x5xf64>, tensor<4x5x8xf64>)
  return
}

