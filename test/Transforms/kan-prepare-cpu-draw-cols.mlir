// Dense directions regenerated per row tile are drawn, and the tile's
// features computed, in blocks of columns (weight_tangent_cols) sized by
// draw-bytes: per column the tile's rows of features, the W'_d block
// (outputs) and the draws, (128 + 64 + 2) * 8 + 2 = 1554 bytes for fg's
// 784 x 64 layer (K = 7056) in row tiles of at most 128 rows.
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2},cse,kan-prepare-cpu{pregenerate-bytes=0}))' | FileCheck %s
// 256 KiB: 168 columns (fewer than 256 fit: a multiple of 8).
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2},cse,kan-prepare-cpu{pregenerate-bytes=0 draw-bytes=262144}))' | FileCheck %s --check-prefix=SMALL
// 0: the whole panel and W'_d per tile.
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2},cse,kan-prepare-cpu{pregenerate-bytes=0 draw-bytes=0}))' | FileCheck %s --check-prefix=NONE
// Drawn once per step (within pregenerate-bytes): a given W'_d, no blocks.
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2},cse,kan-prepare-cpu{pregenerate-bytes=1073741824}))' | FileCheck %s --check-prefix=ONCE

// 1 MiB (the default) / 1554 = 674 columns: 512, a multiple of the GEMM's
// k-block.
// CHECK-LABEL: func.func @fg_layer
// CHECK: scf.forall
// CHECK: kan.feature_gemm_jvp {{.*}} perturb seed
// CHECK-SAME: weight_tangent_cols = 512
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel regenerate>
// SMALL-LABEL: func.func @fg_layer
// SMALL: weight_tangent_cols = 168
// NONE-LABEL: func.func @fg_layer
// NONE-NOT: weight_tangent_cols
// NONE: weight_tangent_kernel = #kan<weight_tangent_kernel regenerate>
// ONCE-LABEL: func.func @fg_layer
// ONCE-NOT: weight_tangent_cols
// ONCE: weight_tangent_kernel = #kan<weight_tangent_kernel dense>
func.func @fg_layer(%x: tensor<?x784xf64>, %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>,
                    %c: tensor<64x784x8xf64>, %s: tensor<64x784xf64>, %seed: i64, %step: i64)
    -> (tensor<?x64xf64>, tensor<32x?x64xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c scaler %s perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, 2>}
      : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>, i64, i64)
        -> (tensor<?x64xf64>, tensor<32x?x64xf64>)
  return %y, %dy : tensor<?x64xf64>, tensor<32x?x64xf64>
}

// -----

// Input tangents through the Jacobian (which reads x, not the features)
// keep the blocks, here of 1536 columns: the row tiles of 16 rows (the
// panel budget counted 8 tangent panels per row) leave (16 + 64 + 2) * 8 +
// 2 = 658 bytes per column. Tangent feature panels need the whole feature
// panel, and a layer whose 45 columns all fit in one block needs none.
// CHECK-LABEL: func.func @input_tangents
// CHECK: scf.forall
// CHECK: kan.feature_gemm_jvp {{.*}} dinput
// CHECK-SAME: input_tangent_kernel = #kan<input_tangent_kernel jacobian_multi>
// CHECK-SAME: weight_tangent_cols = 1536
// CHECK: kan.feature_gemm_jvp {{.*}} dinput
// CHECK-NOT: weight_tangent_cols
// CHECK-SAME: input_tangent_kernel = #kan<input_tangent_kernel panel>
// CHECK: kan.feature_gemm_jvp
// CHECK-NOT: weight_tangent_cols
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel regenerate>
func.func @input_tangents(%x: tensor<?x784xf64>, %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>,
                          %c: tensor<64x784x8xf64>, %dx: tensor<8x?x784xf64>,
                          %w1: tensor<2048x7056xf64>, %c1: tensor<2048x784x8xf64>, %dx1: tensor<1x?x784xf64>,
                          %x5: tensor<?x5xf64>, %g5: tensor<5x12xf64>, %w5: tensor<4x45xf64>, %c5: tensor<4x5x8xf64>,
                          %seed: i64, %step: i64)
    -> (tensor<8x?x64xf64>, tensor<1x?x2048xf64>, tensor<2x?x4xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dinput %dx perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, -1>}
      : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>, tensor<64x784x8xf64>, tensor<8x?x784xf64>, i64, i64)
        -> (tensor<?x64xf64>, tensor<8x?x64xf64>)
  %z, %dz = kan.feature_gemm_jvp %x, %g, %w1, %c1 dinput %dx1 perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, -1>}
      : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<2048x7056xf64>, tensor<2048x784x8xf64>, tensor<1x?x784xf64>, i64, i64)
        -> (tensor<?x2048xf64>, tensor<1x?x2048xf64>)
  %u, %du = kan.feature_gemm_jvp %x5, %g5, %w5, %c5 perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, -1>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, i64, i64) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy, %dz, %du : tensor<8x?x64xf64>, tensor<1x?x2048xf64>, tensor<2x?x4xf64>
}
