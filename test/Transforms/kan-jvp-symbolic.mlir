// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-jvp{width=2 activity=dup,const,dup,dup,dup,const,dup,dup,dup,dup})' | FileCheck %s

// Two layers, the second with symbolic edges: its kan.symbolic_edges gets
// the tangents of the layer's input (the first layer's output), of the
// layer's output and of its (a, b, c, d).
// CHECK-LABEL: func.func @model_jvp(
// CHECK-SAME: %arg10: tensor<2x?x2xf64>, %arg11: tensor<2x2x2xf64>
// CHECK-SAME: %arg17: tensor<2x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<2x?x1xf64>)
// CHECK: %[[H:.*]], %[[DH:.*]] = kan.layer_jvp %arg0, %arg1, %arg2, %arg3 scaler %arg4 dinput %arg10
// CHECK: %[[Y:.*]], %[[DY:.*]] = kan.layer_jvp %[[H]], %arg5, %arg6, %arg7 scaler %arg8 dinput %[[DH]]
// CHECK: %[[Z:.*]], %[[DZ:.*]] = kan.symbolic_edges_jvp %[[H]], %[[Y]], %arg9 dinput %[[DH]] doutput %[[DY]] dparams %arg17 functions ["sin", ""]
// CHECK: return %[[Z]], %[[DZ]]
func.func @model(%x: tensor<?x2xf64>, %g0: tensor<2x12xf64>, %wb0: tensor<2x2xf64>,
                 %ws0: tensor<2x2x8xf64>, %s0: tensor<2x2xf64>, %g1: tensor<2x12xf64>,
                 %wb1: tensor<1x2xf64>, %ws1: tensor<1x2x8xf64>, %s1: tensor<1x2xf64>,
                 %p1: tensor<1x2x4xf64>) -> tensor<?x1xf64> {
  %h = kan.layer %x, %g0, %wb0, %ws0 scaler %s0 order 3 act silu
      : tensor<?x2xf64>, tensor<2x12xf64>, tensor<2x2xf64>, tensor<2x2x8xf64>, tensor<2x2xf64> -> tensor<?x2xf64>
  %y = kan.layer %h, %g1, %wb1, %ws1 scaler %s1 order 3 act silu
      : tensor<?x2xf64>, tensor<2x12xf64>, tensor<1x2xf64>, tensor<1x2x8xf64>, tensor<1x2xf64> -> tensor<?x1xf64>
  %z = kan.symbolic_edges %h, %y, %p1 functions ["sin", ""]
      : tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64> -> tensor<?x1xf64>
  return %z : tensor<?x1xf64>
}
