// RUN: kan-opt %s | kan-opt | FileCheck %s

// CHECK-LABEL: func @basis
// CHECK: kan.basis %arg0, %arg1 order 3 derivative 0 : tensor<?x5xf64>, tensor<5x12xf64> -> tensor<?x5x8xf64>
// CHECK: kan.basis %arg0, %arg1 order 3 derivative 1 : tensor<?x5xf64>, tensor<5x12xf64> -> tensor<?x5x8xf64>
func.func @basis(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>) -> (tensor<?x5x8xf64>, tensor<?x5x8xf64>) {
  %b = kan.basis %x, %g order 3 derivative 0 : tensor<?x5xf64>, tensor<5x12xf64> -> tensor<?x5x8xf64>
  %d = kan.basis %x, %g order 3 derivative 1 : tensor<?x5xf64>, tensor<5x12xf64> -> tensor<?x5x8xf64>
  return %b, %d : tensor<?x5x8xf64>, tensor<?x5x8xf64>
}
