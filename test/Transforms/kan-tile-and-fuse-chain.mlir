// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608}),cse)' | FileCheck %s
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 fuse-bytes=4194304 threads=2}),cse)' | FileCheck %s --check-prefix=BIG
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 fuse-bytes=0}),cse)' | FileCheck %s --check-prefix=NOFUSE
// RUN: not kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{fuse-bytes=100000}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SMALL
// RUN: not kan-opt %s --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{fuse-bytes=-1}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// noise_step's two layer JVPs of [784,64,10], 128 sparse ternary
// directions: layer 2 reads layer 1's output and tangents, nothing else
// does, so both run in ONE row-tile loop and layer 1's tangents exist for
// one tile only. The tile from the default fuse-bytes (2 MiB), per row:
// layer 1's panel 7056, its output and 128 tangents 64 * 129 = 8256,
// layer 2's panel 576 and its input Jacobian 64 x 16 (smaller than 128
// tangent panels of 576): 16912 doubles = 135296 bytes; 15 rows fit,
// rounded down to 12 (a multiple of 4).
// CHECK-DAG: #[[MIN:.*]] = affine_map<(d0)[s0] -> (12, -d0 + s0)>
// CHECK-LABEL: func.func @chain
// CHECK: %[[AUX1:.*]] = kan.grid_prepare %arg1
// CHECK: %[[RP1:.*]], %[[C1:.*]], %[[V1:.*]] = kan.sparse_directions %arg3 scaler %arg4 seed %arg9 step %arg10 streams [0, 1, 2]
// CHECK: %[[AUX2:.*]] = kan.grid_prepare %arg5
// CHECK: %[[RP2:.*]], %[[C2:.*]], %[[V2:.*]] = kan.sparse_directions %arg7 scaler %arg8 seed %arg9 step %arg10 streams [3, 4, 5]
// CHECK: %[[N:.*]] = tensor.dim %arg0
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x10xf64>
// CHECK: %[[ET:.*]] = tensor.empty(%[[N]]) : tensor<128x?x10xf64>
// CHECK: %[[L:.*]]:2 = scf.forall (%[[R:.*]]) = (0) to (%[[N]]) step (12) shared_outs(%[[O:.*]] = %[[E]], %[[OT:.*]] = %[[ET]]) -> (tensor<?x10xf64>, tensor<128x?x10xf64>) {
// CHECK:   %[[M:.*]] = affine.min #[[MIN]](%[[R]])[%[[N]]]
// CHECK:   %[[XS:.*]] = tensor.extract_slice %arg0[%[[R]], 0] [%[[M]], 784] [1, 1]
// CHECK:   %[[H:.*]], %[[DH:.*]] = kan.feature_gemm_jvp %[[XS]], %arg1, %arg2, %arg3 scaler %arg4 aux %[[AUX1]] csr(%[[RP1]], %[[C1]], %[[V1]])
// CHECK-SAME: -> (tensor<?x64xf64>, tensor<128x?x64xf64>)
// CHECK-NOT: tensor.extract_slice
// CHECK:   %[[Y:.*]], %[[DY:.*]] = kan.feature_gemm_jvp %[[H]], %arg5, %arg6, %arg7 scaler %arg8 dinput %[[DH]] aux %[[AUX2]] csr(%[[RP2]], %[[C2]], %[[V2]])
// CHECK-SAME: -> (tensor<?x10xf64>, tensor<128x?x10xf64>)
// CHECK:   scf.forall.in_parallel {
// CHECK-NEXT: tensor.parallel_insert_slice %[[Y]] into %[[O]][%[[R]], 0] [%[[M]], 10] [1, 1]
// CHECK-NEXT: tensor.parallel_insert_slice %[[DY]] into %[[OT]][0, %[[R]], 0] [128, %[[M]], 10] [1, 1, 1]
// CHECK-NOT: scf.forall
// CHECK: kan.softmax_cross_entropy_jvp %[[L]]#0, %arg11, %[[L]]#1
//
// A budget of 4 MiB and two threads: 31 rows fit, 28 with the row
// multiple; a batch of N gets k = max(1, ceil(N / 56)) rounds of tiles of
// ceil(N / 8k) * 4 rows, at most 28.
// BIG-DAG: #[[ROUNDS:.*]] = affine_map<()[s0] -> (1, s0 ceildiv 56)>
// BIG-DAG: #[[SHARE:.*]] = affine_map<()[s0, s1] -> (4, (s0 ceildiv (s1 * 8)) * 4)>
// BIG-DAG: #[[CAP:.*]] = affine_map<()[s0] -> (28, s0)>
// BIG-LABEL: func.func @chain
// BIG: %[[K:.*]] = affine.max #[[ROUNDS]]()[%[[N:.*]]]
// BIG: %[[S:.*]] = affine.max #[[SHARE]]()[%[[N]], %[[K]]]
// BIG: %[[T:.*]] = affine.min #[[CAP]]()[%[[S]]]
// BIG: scf.forall {{.*}} step (%[[T]])
// BIG-COUNT-2: kan.feature_gemm_jvp
// BIG-NOT: scf.forall (
// BIG: kan.softmax_cross_entropy_jvp
//
// Without fusion each layer has its loop, and layer 1's tangents of the
// whole batch pass between them.
// NOFUSE-LABEL: func.func @chain
// NOFUSE: scf.forall {{.*}} -> (tensor<?x64xf64>, tensor<128x?x64xf64>)
// NOFUSE: scf.forall {{.*}} -> (tensor<?x10xf64>, tensor<128x?x10xf64>)
//
// SMALL: error: 'kan.feature_gemm_jvp' op one row of its panels takes 135296 bytes, more than the fused tile budget of 100000 bytes
// BAD: kan-tile-and-fuse: fuse-bytes: -1 is out of range [0, inf)
func.func @chain(%x: tensor<?x784xf64>, %g1: tensor<784x12xf64>, %w1: tensor<64x7056xf64>, %c1: tensor<64x784x8xf64>, %s1: tensor<64x784xf64>,
                 %g2: tensor<64x12xf64>, %w2: tensor<10x576xf64>, %c2: tensor<10x64x8xf64>, %s2: tensor<10x64xf64>,
                 %seed: i64, %step: i64, %labels: tensor<?xi64>) -> (f64, tensor<128xf64>) {
  %h, %dh = kan.feature_gemm_jvp %x, %g1, %w1, %c1 scaler %s1 perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist sparse_ternary>, density = 2.0e-3 : f64, streams = array<i64: 0, 1, 2>}
      : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>, tensor<64x784x8xf64>, tensor<64x784xf64>, i64, i64) -> (tensor<?x64xf64>, tensor<128x?x64xf64>)
  %y, %dy = kan.feature_gemm_jvp %h, %g2, %w2, %c2 scaler %s2 dinput %dh perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist sparse_ternary>, density = 2.0e-3 : f64, streams = array<i64: 3, 4, 5>}
      : (tensor<?x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<10x64xf64>, tensor<128x?x64xf64>, i64, i64) -> (tensor<?x10xf64>, tensor<128x?x10xf64>)
  %l, %dl = kan.softmax_cross_entropy_jvp %y, %labels, %dy : (tensor<?x10xf64>, tensor<?xi64>, tensor<128x?x10xf64>) -> (f64, tensor<128xf64>)
  return %l, %dl : f64, tensor<128xf64>
}

// -----

// Layer 1's output is read by something else too (it is returned): no
// fusion, each layer keeps its loop.
// CHECK-LABEL: func.func @shared
// CHECK: scf.forall {{.*}} -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
// CHECK: scf.forall {{.*}} -> (tensor<?x3xf64>, tensor<2x?x3xf64>)
func.func @shared(%x: tensor<?x5xf64>, %g1: tensor<5x12xf64>, %w1: tensor<4x45xf64>, %c1: tensor<4x5x8xf64>,
                  %g2: tensor<4x12xf64>, %w2: tensor<3x36xf64>, %c2: tensor<3x4x8xf64>,
                  %dw1: tensor<2x4x45xf64>, %dw2: tensor<2x3x36xf64>) -> (tensor<?x4xf64>, tensor<2x?x3xf64>) {
  %h, %dh = kan.feature_gemm_jvp %x, %g1, %w1, %c1 dweights %dw1 order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x4x45xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  %y, %dy = kan.feature_gemm_jvp %h, %g2, %w2, %c2 dinput %dh dweights %dw2 order 3 act silu
      : (tensor<?x4xf64>, tensor<4x12xf64>, tensor<3x36xf64>, tensor<3x4x8xf64>, tensor<2x?x4xf64>, tensor<2x3x36xf64>) -> (tensor<?x3xf64>, tensor<2x?x3xf64>)
  return %h, %dy : tensor<?x4xf64>, tensor<2x?x3xf64>
}

// -----

// Dense weight tangents (drawn per tile, or a given W'_d of all
// directions) cost the same whatever the tile's rows: no fusion.
// CHECK-LABEL: func.func @dense
// CHECK: scf.forall {{.*}} -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
// CHECK: scf.forall {{.*}} -> (tensor<?x3xf64>, tensor<2x?x3xf64>)
func.func @dense(%x: tensor<?x5xf64>, %g1: tensor<5x12xf64>, %w1: tensor<4x45xf64>, %c1: tensor<4x5x8xf64>,
                 %g2: tensor<4x12xf64>, %w2: tensor<3x36xf64>, %c2: tensor<3x4x8xf64>,
                 %seed: i64, %step: i64) -> tensor<2x?x3xf64> {
  %h, %dh = kan.feature_gemm_jvp %x, %g1, %w1, %c1 perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, -1>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, i64, i64) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  %y, %dy = kan.feature_gemm_jvp %h, %g2, %w2, %c2 dinput %dh perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 3, 4, -1>}
      : (tensor<?x4xf64>, tensor<4x12xf64>, tensor<3x36xf64>, tensor<3x4x8xf64>, tensor<2x?x4xf64>, i64, i64) -> (tensor<?x3xf64>, tensor<2x?x3xf64>)
  return %dy : tensor<2x?x3xf64>
}
