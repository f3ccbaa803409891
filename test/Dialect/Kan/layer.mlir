// RUN: kan-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: kan-opt %s | kan-opt | FileCheck %s
// RUN: kan-opt %s --mlir-print-op-generic | kan-opt | FileCheck %s

// CHECK-LABEL: func @layer_f64
// CHECK: kan.layer %arg0, %arg1, %arg2, %arg3 scaler %arg4 order 3 act silu : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
func.func @layer_f64(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                     %ws: tensor<4x5x8xf64>, %s: tensor<4x5xf64>) -> tensor<?x4xf64> {
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// CHECK-LABEL: func @layer_f32_identity
// CHECK: kan.layer %arg0, %arg1, %arg2, %arg3 order 2 act identity : tensor<7x3xf32>, tensor<3x10xf32>, tensor<2x3xf32>, tensor<2x3x7xf32> -> tensor<7x2xf32>
func.func @layer_f32_identity(%x: tensor<7x3xf32>, %g: tensor<3x10xf32>, %wb: tensor<2x3xf32>,
                              %ws: tensor<2x3x7xf32>) -> tensor<7x2xf32> {
  %y = kan.layer %x, %g, %wb, %ws order 2 act identity
      : tensor<7x3xf32>, tensor<3x10xf32>, tensor<2x3xf32>, tensor<2x3x7xf32> -> tensor<7x2xf32>
  return %y : tensor<7x2xf32>
}

// CHECK-LABEL: func @layer_jvp
// CHECK: kan.layer_jvp %arg0, %arg1, %arg2, %arg3 scaler %arg4 dinput %arg5 dbase %arg6 dspline %arg7 dscaler %arg8 order 3 act silu
// CHECK-SAME: -> (tensor<?x4xf64>, tensor<8x?x4xf64>)
func.func @layer_jvp(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                     %ws: tensor<4x5x8xf64>, %s: tensor<4x5xf64>, %dx: tensor<8x?x5xf64>,
                     %dwb: tensor<8x4x5xf64>, %dws: tensor<8x4x5x8xf64>, %ds: tensor<8x4x5xf64>)
    -> (tensor<?x4xf64>, tensor<8x?x4xf64>) {
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws scaler %s dinput %dx dbase %dwb dspline %dws dscaler %ds order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64>,
         tensor<8x?x5xf64>, tensor<8x4x5xf64>, tensor<8x4x5x8xf64>, tensor<8x4x5xf64>)
      -> (tensor<?x4xf64>, tensor<8x?x4xf64>)
  return %y, %dy : tensor<?x4xf64>, tensor<8x?x4xf64>
}

// The first layer of a model: no input tangent.
// CHECK-LABEL: func @layer_jvp_first
// CHECK: kan.layer_jvp %arg0, %arg1, %arg2, %arg3 dbase %arg4 dspline %arg5 order 3 act silu
func.func @layer_jvp_first(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                           %ws: tensor<4x5x8xf64>, %dwb: tensor<1x4x5xf64>, %dws: tensor<1x4x5x8xf64>)
    -> tensor<1x16x4xf64> {
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %dwb dspline %dws order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>,
         tensor<1x4x5xf64>, tensor<1x4x5x8xf64>) -> (tensor<16x4xf64>, tensor<1x16x4xf64>)
  return %dy : tensor<1x16x4xf64>
}
