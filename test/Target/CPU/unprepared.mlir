// The C printer decides nothing: IR that was not tiled, or whose kernels
// kan-prepare-cpu did not choose, is rejected by name.
// RUN: not kan-translate --target=cpu -o %t %s 2>&1 | FileCheck %s
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse))' -o %t.tiled.mlir
// RUN: not kan-translate --target=cpu -o %t %t.tiled.mlir 2>&1 | FileCheck %s --check-prefix=TILED
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse,kan-prepare-cpu))' -o %t.prepared.mlir
// RUN: kan-translate --target=cpu -o %t %t.prepared.mlir && FileCheck %s --check-prefix=C --input-file=%t/kan_model.c

// CHECK: error: 'kan.feature_gemm' op must be tiled by kan-tile-and-fuse before emission
// TILED: error: 'kan.feature_gemm' op needs its kernel from kan-prepare-cpu
// C: kan_pack_features_f64(
// C: kan_gemm_nt_f64(
func.func @model(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>) -> tensor<?x4xf64> {
  %y = kan.feature_gemm %x, %g, %w order 3 act silu : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>) -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}
