// RUN: kan-opt %s | kan-opt | FileCheck %s

// CHECK-LABEL: func @losses
// CHECK: kan.mse %arg0, %arg1 : tensor<?x3xf64>, tensor<?x3xf64> -> f64
// CHECK: kan.softmax_cross_entropy %arg0, %arg2 : tensor<?x3xf64>, tensor<?xi64> -> f64
func.func @losses(%z: tensor<?x3xf64>, %t: tensor<?x3xf64>, %y: tensor<?xi64>) -> (f64, f64) {
  %a = kan.mse %z, %t : tensor<?x3xf64>, tensor<?x3xf64> -> f64
  %b = kan.softmax_cross_entropy %z, %y : tensor<?x3xf64>, tensor<?xi64> -> f64
  return %a, %b : f64, f64
}

// CHECK-LABEL: func @loss_jvps
// CHECK: kan.mse_jvp %arg0, %arg1, %arg3 : (tensor<16x3xf32>, tensor<16x3xf32>, tensor<4x16x3xf32>) -> (f32, tensor<4xf32>)
// CHECK: kan.softmax_cross_entropy_jvp %arg0, %arg2, %arg3 : (tensor<16x3xf32>, tensor<16xi32>, tensor<4x16x3xf32>) -> (f32, tensor<4xf32>)
func.func @loss_jvps(%z: tensor<16x3xf32>, %t: tensor<16x3xf32>, %y: tensor<16xi32>,
                     %dz: tensor<4x16x3xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %l0, %d0 = kan.mse_jvp %z, %t, %dz : (tensor<16x3xf32>, tensor<16x3xf32>, tensor<4x16x3xf32>) -> (f32, tensor<4xf32>)
  %l1, %d1 = kan.softmax_cross_entropy_jvp %z, %y, %dz : (tensor<16x3xf32>, tensor<16xi32>, tensor<4x16x3xf32>) -> (f32, tensor<4xf32>)
  return %d0, %d1 : tensor<4xf32>, tensor<4xf32>
}
