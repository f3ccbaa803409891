// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=64 panel-bytes=262144},cse))' | FileCheck %s
// RUN: not kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=64 panel-bytes=1000}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SMALL

// K = 784 * 9 = 7056 doubles = 56448 bytes per panel row: 4 rows fit 256 KB.
// The grid's knot data is computed once, in front of the loop; each tile
// is the layer GEMM (basis, activation and product) on 4 rows, the last
// tile of a dynamic batch shorter.
// CHECK-DAG: #[[MIN:.*]] = affine_map<(d0)[s0] -> (4, -d0 + s0)>
// CHECK-LABEL: func.func @wide
// CHECK-SAME: (%[[X:.*]]: tensor<?x784xf64>, %[[G:.*]]: tensor<784x12xf64>, %[[W:.*]]: tensor<64x7056xf64>)
// CHECK: %[[AUX:.*]] = kan.grid_prepare %[[G]] order 3 : tensor<784x12xf64> -> tensor<29008xf64>
// CHECK: %[[N:.*]] = tensor.dim %[[X]]
// CHECK: %[[INIT:.*]] = tensor.empty(%[[N]]) : tensor<?x64xf64>
// CHECK: %[[Y:.*]] = scf.forall (%[[R:.*]]) = (0) to (%[[N]]) step (4) shared_outs(%[[O:.*]] = %[[INIT]]) -> (tensor<?x64xf64>) {
// CHECK:   %[[M:.*]] = affine.min #[[MIN]](%[[R]])[%[[N]]]
// CHECK:   %[[XS:.*]] = tensor.extract_slice %[[X]][%[[R]], 0] [%[[M]], 784] [1, 1]
// CHECK:   %[[YS:.*]] = kan.feature_gemm %[[XS]], %[[G]], %[[W]] aux %[[AUX]] order 3 act silu
// CHECK-SAME: -> tensor<?x64xf64>
// CHECK:   scf.forall.in_parallel {
// CHECK:     tensor.parallel_insert_slice %[[YS]] into %[[O]][%[[R]], 0] [%[[M]], 64] [1, 1]
// CHECK: return %[[Y]]
// SMALL: error: 'kan.feature_gemm' op one row of its panels takes 56448 bytes, more than the panel budget of 1000 bytes
func.func @wide(%x: tensor<?x784xf64>, %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>) -> tensor<?x64xf64> {
  %y = kan.feature_gemm %x, %g, %w order 3 act silu : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<?x64xf64>
  return %y : tensor<?x64xf64>
}

// -----

// With an input tangent each row carries 1 + n panels: 64 * 9 * 8 bytes *
// (1 + 8) = 41472 bytes per row: 6 rows fit, rounded down to 4 (micro-kernel
// height). The tile of the JVP takes the same rows of every direction of the
// input tangent and writes the same rows of both results. A small static
// batch bounds the tile (one tile of 3 rows).
// CHECK-LABEL: func.func @tangent
// CHECK: %[[AUX:.*]] = kan.grid_prepare
// CHECK: scf.forall (%[[R:.*]]) = (0) to (16) step (4) shared_outs(%[[O:.*]] = %{{.*}}, %[[OT:.*]] = %{{.*}}) -> (tensor<16x10xf64>, tensor<8x16x10xf64>) {
// CHECK:   %[[XS:.*]] = tensor.extract_slice %arg0[%[[R]], 0] [4, 64] [1, 1] : tensor<16x64xf64> to tensor<4x64xf64>
// CHECK:   %[[DXS:.*]] = tensor.extract_slice %arg4[0, %[[R]], 0] [8, 4, 64] [1, 1, 1] : tensor<8x16x64xf64> to tensor<8x4x64xf64>
// CHECK:   %[[Y:.*]], %[[DY:.*]] = kan.feature_gemm_jvp %[[XS]], %arg1, %arg2, %arg3 dinput %[[DXS]] aux %[[AUX]]
// CHECK-SAME: -> (tensor<4x10xf64>, tensor<8x4x10xf64>)
// CHECK:     tensor.parallel_insert_slice %[[Y]] into %[[O]][%[[R]], 0] [4, 10] [1, 1]
// CHECK:     tensor.parallel_insert_slice %[[DY]] into %[[OT]][0, %[[R]], 0] [8, 4, 10] [1, 1, 1]
// CHECK: scf.forall (%{{.*}}) = (0) to (3) step (3)
// CHECK:   kan.feature_gemm {{.*}} -> tensor<3x10xf64>
func.func @tangent(%x: tensor<16x64xf64>, %g: tensor<64x12xf64>, %w: tensor<10x576xf64>, %c: tensor<10x64x8xf64>,
                   %dx: tensor<8x16x64xf64>, %x3: tensor<3x64xf64>) -> (tensor<8x16x10xf64>, tensor<3x10xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dinput %dx order 3 act silu
      : (tensor<16x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<8x16x64xf64>) -> (tensor<16x10xf64>, tensor<8x16x10xf64>)
  %z = kan.feature_gemm %x3, %g, %w order 3 act silu : (tensor<3x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>) -> tensor<3x10xf64>
  return %dy, %z : tensor<8x16x10xf64>, tensor<3x10xf64>
}

// -----

// Fused sparse ternary perturbations: the CSR form of every direction is
// built once, in front of the loop (its capacity a run-time bound); the
// tile reads it. Dense (normal) perturbations are drawn inside the tile.
// CHECK-LABEL: func.func @perturbed
// CHECK: %[[RP:.*]], %[[COLS:.*]], %[[VALS:.*]] = kan.sparse_directions %arg3 scaler %arg4 seed %arg5 step %arg6 streams [0, 1, 2] density 2.000000e-03
// CHECK-SAME: -> (tensor<8x11xi32>, tensor<8x?xi32>, tensor<8x?xf64>)
// CHECK: scf.forall
// CHECK:   kan.feature_gemm_jvp {{.*}} aux %{{.*}} csr(%[[RP]], %[[COLS]], %[[VALS]])
// CHECK-NOT: seed
// CHECK: scf.forall
// CHECK:   kan.feature_gemm_jvp {{.*}} perturb seed %arg5 step %arg6 aux
// CHECK-SAME: dist = #kan<dist normal>
func.func @perturbed(%x: tensor<?x64xf64>, %g: tensor<64x12xf64>, %w: tensor<10x576xf64>, %c: tensor<10x64x8xf64>,
                     %s: tensor<10x64xf64>, %seed: i64, %step: i64) -> (tensor<8x?x10xf64>, tensor<8x?x10xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c scaler %s perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist sparse_ternary>, density = 2.0e-3 : f64, streams = array<i64: 0, 1, 2>}
      : (tensor<?x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<10x64xf64>, i64, i64) -> (tensor<?x10xf64>, tensor<8x?x10xf64>)
  %y2, %dy2 = kan.feature_gemm_jvp %x, %g, %w, %c scaler %s perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, 2>}
      : (tensor<?x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<10x64xf64>, i64, i64) -> (tensor<?x10xf64>, tensor<8x?x10xf64>)
  return %dy, %dy2 : tensor<8x?x10xf64>, tensor<8x?x10xf64>
}
