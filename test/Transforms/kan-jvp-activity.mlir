// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-jvp{width=2 activity=dup,const,const,dup})' | FileCheck %s

// A duplicated input gets an input tangent; a constant base weight gets none.
// CHECK-LABEL: func.func @model_jvp(
// CHECK-SAME: %arg4: tensor<2x16x5xf64>, %arg5: tensor<2x4x5x8xf64>) -> (tensor<16x4xf64>, tensor<2x16x4xf64>)
// CHECK: kan.layer_jvp %arg0, %arg1, %arg2, %arg3 dinput %arg4 dspline %arg5 order 3
// CHECK-NOT: dbase
func.func @model(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                 %ws: tensor<4x5x8xf64>) -> tensor<16x4xf64> {
  %y = kan.layer %x, %g, %wb, %ws order 3 act silu
      : tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<16x4xf64>
  return %y : tensor<16x4xf64>
}

