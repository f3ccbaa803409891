// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2}),cse)' | FileCheck %s
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=3 row-multiple=8}),cse)' | FileCheck %s --check-prefix=T3
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608}),cse)' | FileCheck %s --check-prefix=ONE
// RUN: not kan-opt %s --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{threads=0}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// A dynamic batch N: the budget allows 128 rows (7056 doubles per panel
// row). Two threads take tiles in whole rounds of two: k = max(1,
// ceil(N / 256)) rounds, tiles of ceil(N / (2 k)) rows rounded up to 4, at
// least 4. A batch of 128 (kan-train's) is then two tiles of 64 instead of
// one of 128; 300 is four of 76 instead of 128 + 128 + 44; 1024 keeps
// tiles of 128.
// CHECK-DAG: #[[ROUNDS:.*]] = affine_map<()[s0] -> (1, s0 ceildiv 256)>
// CHECK-DAG: #[[SHARE:.*]] = affine_map<()[s0, s1] -> (4, (s0 ceildiv (s1 * 8)) * 4)>
// CHECK-DAG: #[[CAP:.*]] = affine_map<()[s0] -> (128, s0)>
// CHECK-DAG: #[[LAST:.*]] = affine_map<(d0)[s0, s1] -> (s0, -d0 + s1)>
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[N:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[K:.*]] = affine.max #[[ROUNDS]]()[%[[N]]]
// CHECK: %[[S:.*]] = affine.max #[[SHARE]]()[%[[N]], %[[K]]]
// CHECK: %[[T:.*]] = affine.min #[[CAP]]()[%[[S]]]
// CHECK: scf.forall (%[[R:.*]]) = (0) to (%[[N]]) step (%[[T]])
// CHECK:   %[[M:.*]] = affine.min #[[LAST]](%[[R]])[%[[T]], %[[N]]]
// CHECK:   tensor.extract_slice %arg0[%[[R]], 0] [%[[M]], 784] [1, 1]
// CHECK:   kan.feature_gemm
// Three threads, rows in multiples of 8.
// T3-DAG: #[[SHARE3:.*]] = affine_map<()[s0, s1] -> (8, (s0 ceildiv (s1 * 24)) * 8)>
// T3-LABEL: func.func @dynamic
// T3: affine.max #[[SHARE3]]
// One thread (the pass's default): the budget alone, a constant tile.
// ONE-LABEL: func.func @dynamic
// ONE-NOT: affine.max
// ONE: scf.forall ({{.*}}) = (0) to ({{.*}}) step (128)
// BAD: error: kan-tile-and-fuse: threads: 0 is out of range [1, 1024]
func.func @dynamic(%x: tensor<?x784xf64>, %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>) -> tensor<?x64xf64> {
  %y = kan.feature_gemm %x, %g, %w order 3 act silu : (tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<?x64xf64>
  return %y : tensor<?x64xf64>
}

// -----

// A static batch: the tile is a constant. 128 rows on two threads are two
// tiles of 64; 100 rows are 52 + 48 (rounded up to 4 rows); 300 rows are
// two rounds: 76 + 76 + 76 + 72; a JVP whose panels of 1 + 128 directions
// allow 12 rows keeps the budget's tile (k = 6 rounds of two: 12 rows).
// CHECK-LABEL: func.func @static
// CHECK: scf.forall (%{{.*}}) = (0) to (128) step (64)
// CHECK: scf.forall (%{{.*}}) = (0) to (100) step (52)
// CHECK: scf.forall (%{{.*}}) = (0) to (300) step (76)
// CHECK: scf.forall (%{{.*}}) = (0) to (128) step (12)
// T3-LABEL: func.func @static
// T3: scf.forall (%{{.*}}) = (0) to (128) step (48)
// T3: scf.forall (%{{.*}}) = (0) to (100) step (40)
// T3: scf.forall (%{{.*}}) = (0) to (300) step (104)
// T3: scf.forall (%{{.*}}) = (0) to (128) step (8)
// ONE-LABEL: func.func @static
// ONE: scf.forall (%{{.*}}) = (0) to (128) step (128)
// ONE: scf.forall (%{{.*}}) = (0) to (100) step (100)
// ONE: scf.forall (%{{.*}}) = (0) to (300) step (128)
// ONE: scf.forall (%{{.*}}) = (0) to (128) step (12)
func.func @static(%x: tensor<128x784xf64>, %x100: tensor<100x784xf64>, %x300: tensor<300x784xf64>,
                  %g: tensor<784x12xf64>, %w: tensor<64x7056xf64>,
                  %h: tensor<128x64xf64>, %g2: tensor<64x12xf64>, %w2: tensor<10x576xf64>, %c2: tensor<10x64x8xf64>,
                  %dh: tensor<128x128x64xf64>) -> (tensor<128x64xf64>, tensor<100x64xf64>, tensor<300x64xf64>, tensor<128x128x10xf64>) {
  %y = kan.feature_gemm %x, %g, %w order 3 act silu : (tensor<128x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<128x64xf64>
  %y100 = kan.feature_gemm %x100, %g, %w order 3 act silu : (tensor<100x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<100x64xf64>
  %y300 = kan.feature_gemm %x300, %g, %w order 3 act silu : (tensor<300x784xf64>, tensor<784x12xf64>, tensor<64x7056xf64>) -> tensor<300x64xf64>
  %z, %dz = kan.feature_gemm_jvp %h, %g2, %w2, %c2 dinput %dh order 3 act silu
      : (tensor<128x64xf64>, tensor<64x12xf64>, tensor<10x576xf64>, tensor<10x64x8xf64>, tensor<128x128x64xf64>) -> (tensor<128x10xf64>, tensor<128x128x10xf64>)
  return %y, %y100, %y300, %dz : tensor<128x64xf64>, tensor<100x64xf64>, tensor<300x64xf64>, tensor<128x128x10xf64>
}
