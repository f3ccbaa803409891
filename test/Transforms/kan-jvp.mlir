// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(kan-jvp{width=1})' | FileCheck %s --check-prefix=W1
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(kan-jvp{width=8})' | FileCheck %s --check-prefix=W8

// One layer: the input is constant by default (no A' half), the weights and
// scaler are duplicated, the grid is constant.
// W1-LABEL: func.func @model_jvp(
// W1-SAME: %arg0: tensor<?x5xf64>, %arg1: tensor<5x12xf64>, %arg2: tensor<4x5xf64>, %arg3: tensor<4x5x8xf64>, %arg4: tensor<4x5xf64>,
// W1-SAME: %arg5: tensor<1x4x5xf64>, %arg6: tensor<1x4x5x8xf64>, %arg7: tensor<1x4x5xf64>) -> (tensor<?x4xf64>, tensor<1x?x4xf64>)
// W1: %[[Y:.*]], %[[DY:.*]] = kan.layer_jvp %arg0, %arg1, %arg2, %arg3 scaler %arg4 dbase %arg5 dspline %arg6 dscaler %arg7 order 3 act silu
// W1-NOT: dinput
// W1: return %[[Y]], %[[DY]]
// W8-LABEL: func.func @model_jvp(
// W8-SAME: %arg5: tensor<8x4x5xf64>, %arg6: tensor<8x4x5x8xf64>, %arg7: tensor<8x4x5xf64>) -> (tensor<?x4xf64>, tensor<8x?x4xf64>)
// W8: kan.layer_jvp %arg0, %arg1, %arg2, %arg3 scaler %arg4 dbase %arg5 dspline %arg6 dscaler %arg7
func.func @model(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                 %ws: tensor<4x5x8xf64>, %s: tensor<4x5xf64>) -> tensor<?x4xf64> {
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

// Three layers: only the first has no input tangent; later layers get the
// tangent of the previous layer's output (the A' half of their tangent GEMM).
// W8-LABEL: func.func @model_jvp(
// W8: %[[Y0:.*]], %[[D0:.*]] = kan.layer_jvp %arg0, %arg1, %arg2, %arg3 dbase
// W8-NOT: dinput
// W8-SAME: -> (tensor<256x8xf32>, tensor<8x256x8xf32>)
// W8: %[[Y1:.*]], %[[D1:.*]] = kan.layer_jvp %[[Y0]], %arg4, %arg5, %arg6 dinput %[[D0]] dbase
// W8: %[[Y2:.*]], %[[D2:.*]] = kan.layer_jvp %[[Y1]], %arg7, %arg8, %arg9 dinput %[[D1]] dbase
// W8: return %[[Y2]], %[[D2]] : tensor<256x3xf32>, tensor<8x256x3xf32>
func.func @model(%x: tensor<256x6xf32>,
                 %g0: tensor<6x12xf32>, %b0: tensor<8x6xf32>, %c0: tensor<8x6x8xf32>,
                 %g1: tensor<8x12xf32>, %b1: tensor<8x8xf32>, %c1: tensor<8x8x8xf32>,
                 %g2: tensor<8x12xf32>, %b2: tensor<3x8xf32>, %c2: tensor<3x8x8xf32>) -> tensor<256x3xf32> {
  %y0 = kan.layer %x, %g0, %b0, %c0 order 3 act silu : tensor<256x6xf32>, tensor<6x12xf32>, tensor<8x6xf32>, tensor<8x6x8xf32> -> tensor<256x8xf32>
  %y1 = kan.layer %y0, %g1, %b1, %c1 order 3 act silu : tensor<256x8xf32>, tensor<8x12xf32>, tensor<8x8xf32>, tensor<8x8x8xf32> -> tensor<256x8xf32>
  %y2 = kan.layer %y1, %g2, %b2, %c2 order 3 act silu : tensor<256x8xf32>, tensor<8x12xf32>, tensor<3x8xf32>, tensor<3x8x8xf32> -> tensor<256x3xf32>
  return %y2 : tensor<256x3xf32>
}
