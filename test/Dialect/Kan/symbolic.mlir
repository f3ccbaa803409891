// RUN: kan-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: kan-opt %s | kan-opt | FileCheck %s
// RUN: kan-opt %s --mlir-print-op-generic | kan-opt | FileCheck %s

// CHECK-LABEL: func @symbolic
// CHECK: kan.symbolic_edges %arg0, %arg1, %arg2 functions ["sin", "", "x^2", "gaussian"] : tensor<?x2xf64>, tensor<?x2xf64>, tensor<2x2x4xf64> -> tensor<?x2xf64>
func.func @symbolic(%x: tensor<?x2xf64>, %y: tensor<?x2xf64>, %p: tensor<2x2x4xf64>) -> tensor<?x2xf64> {
  %z = kan.symbolic_edges %x, %y, %p functions ["sin", "", "x^2", "gaussian"]
      : tensor<?x2xf64>, tensor<?x2xf64>, tensor<2x2x4xf64> -> tensor<?x2xf64>
  return %z : tensor<?x2xf64>
}

// CHECK-LABEL: func @symbolic_jvp
// CHECK: kan.symbolic_edges_jvp %arg0, %arg1, %arg2 dinput %arg3 dparams %arg4 functions ["exp", "1/sqrt(x)"] : (tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64>, tensor<3x?x2xf64>, tensor<3x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<3x?x1xf64>)
func.func @symbolic_jvp(%x: tensor<?x2xf64>, %y: tensor<?x1xf64>, %p: tensor<1x2x4xf64>,
                        %dx: tensor<3x?x2xf64>, %dp: tensor<3x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<3x?x1xf64>) {
  %z, %dz = kan.symbolic_edges_jvp %x, %y, %p dinput %dx dparams %dp functions ["exp", "1/sqrt(x)"]
      : (tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64>, tensor<3x?x2xf64>, tensor<3x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<3x?x1xf64>)
  return %z, %dz : tensor<?x1xf64>, tensor<3x?x1xf64>
}
