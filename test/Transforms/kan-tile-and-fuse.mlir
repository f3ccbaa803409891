// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=64 panel-bytes=262144}))' | FileCheck %s
// RUN: not kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=64 panel-bytes=1000}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SMALL

// K = 784 * 9 = 7056 doubles = 56448 bytes per panel row: 4 rows fit 256 KB.
// CHECK-LABEL: func.func @wide
// CHECK: kan.feature_gemm {{.*}} {tile_rows = 4 : i64}
// SMALL: error: 'kan.feature_gemm' op one row of its panels takes 56448 bytes, more than the panel budget of 1000 bytes
func.func @wide(%x: tensor<?x784xf64>, %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>) -> tensor<?x64xf64> {
  %y = kan.feature_gemm %x, %g, %w order 3 act silu : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<?x64xf64>
  return %y : tensor<?x64xf64>
}

// -----

// With an input tangent each row carries 1 + n panels: 64 * 9 * 8 bytes *
// (1 + 8) = 41472 bytes per row: 6 rows fit, rounded down to 4 (micro-kernel
// height). A small static batch bounds the tile.
// CHECK-LABEL: func.func @tangent
// CHECK: kan.feature_gemm_jvp {{.*}} {tile_rows = 4 : i64}
// CHECK: kan.feature_gemm {{.*}} {tile_rows = 3 : i64}
func.func @tangent(%x: tensor<16x64xf64>, %g: tensor<64x12xf64>, %w: tensor<10x576xf64>, %c: tensor<10x64x8xf64>,
                   %dx: tensor<8x16x64xf64>, %x3: tensor<3x64xf64>) -> (tensor<8x16x10xf64>, tensor<3x10xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dinput %dx order 3 act silu
      : (tensor<16x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<8x16x64xf64>) -> (tensor<16x10xf64>, tensor<8x16x10xf64>)
  %z = kan.feature_gemm %x3, %g, %w order 3 act silu : (tensor<3x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>) -> tensor<3x10xf64>
  return %dy, %z : tensor<8x16x10xf64>, tensor<3x10xf64>
}
