// RUN: kan-opt %s -split-input-file | FileCheck %s
// RUN: kan-opt %s -split-input-file | kan-opt -split-input-file | FileCheck %s
// RUN: kan-opt %s -split-input-file --mlir-print-op-generic | kan-opt -split-input-file | FileCheck %s

// The ops kan-tile-and-fuse creates around and inside row tiles.

// CHECK-LABEL: func.func @hoisted
// CHECK: kan.grid_prepare %{{.*}} order 3 : tensor<5x12xf64> -> tensor<185xf64>
// CHECK: kan.sparse_directions %{{.*}} seed %{{.*}} step %{{.*}} streams [0, 1, -1] density 5.000000e-02 : (tensor<4x5x8xf64>, i64, i64) -> (tensor<2x5xi32>, tensor<2x?xi32>, tensor<2x?xf64>)
// CHECK: kan.feature_gemm_jvp %{{.*}} aux %{{.*}} csr(%{{.*}}, %{{.*}}, %{{.*}}) order 3 act silu
func.func @hoisted(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                   %seed: i64, %step: i64) -> tensor<2x?x4xf64> {
  %aux = kan.grid_prepare %g order 3 : tensor<5x12xf64> -> tensor<185xf64>
  %rp, %cols, %vals = kan.sparse_directions %c seed %seed step %step streams [0, 1, -1] density 5.0e-2
      : (tensor<4x5x8xf64>, i64, i64) -> (tensor<2x5xi32>, tensor<2x?xi32>, tensor<2x?xf64>)
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c aux %aux csr(%rp, %cols, %vals) order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<185xf64>, tensor<2x5xi32>, tensor<2x?xi32>, tensor<2x?xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy : tensor<2x?x4xf64>
}
