// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm,kan-plan-memory))' | FileCheck %s
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm,kan-tile-and-fuse,cse,kan-plan-memory))' | FileCheck %s --check-prefix=TILED

// Three layers: the packed weights of every layer share slot 0 (each dies
// in its GEMM), the first activation is slot 1 and still live while the
// second is computed (slot 2); the model's result goes to the caller's
// buffer (-1). Slot sizes are (elements per batch row, constant elements).
// CHECK-LABEL: func.func @model
// CHECK-SAME: kan.memory_plan = array<i64: 0, 576, 8, 0, 8, 0>
// CHECK: kan.pack_weights {{.*}}kan.slots = array<i64: 0>
// CHECK: kan.feature_gemm {{.*}}kan.slots = array<i64: 1>
// CHECK: kan.pack_weights {{.*}}kan.slots = array<i64: 0>
// CHECK: kan.feature_gemm {{.*}}kan.slots = array<i64: 2>
// CHECK: kan.pack_weights {{.*}}kan.slots = array<i64: 0>
// CHECK: kan.feature_gemm {{.*}}kan.slots = array<i64: -1>
func.func @model(%x: tensor<?x6xf32>,
                 %g0: tensor<6x12xf32>, %b0: tensor<8x6xf32>, %c0: tensor<8x6x8xf32>,
                 %g1: tensor<8x12xf32>, %b1: tensor<8x8xf32>, %c1: tensor<8x8x8xf32>,
                 %g2: tensor<8x12xf32>, %b2: tensor<3x8xf32>, %c2: tensor<3x8x8xf32>) -> tensor<?x3xf32> {
  %y0 = kan.layer %x, %g0, %b0, %c0 order 3 act silu : tensor<?x6xf32>, tensor<6x12xf32>, tensor<8x6xf32>, tensor<8x6x8xf32> -> tensor<?x8xf32>
  %y1 = kan.layer %y0, %g1, %b1, %c1 order 3 act silu : tensor<?x8xf32>, tensor<8x12xf32>, tensor<8x8xf32>, tensor<8x8x8xf32> -> tensor<?x8xf32>
  %y2 = kan.layer %y1, %g2, %b2, %c2 order 3 act silu : tensor<?x8xf32>, tensor<8x12xf32>, tensor<3x8xf32>, tensor<3x8x8xf32> -> tensor<?x3xf32>
  return %y2 : tensor<?x3xf32>
}

// Row tiles: a loop's result holds the buffer (its initial tensor.empty
// none), the knot data of a grid lives in a slot until the loop that reads
// it ends; the slots of the first activation and of the packed weights are
// free again after the loops that read them.
// TILED-LABEL: func.func @model
// TILED-SAME: kan.memory_plan = array<i64: 0, 576, 0, 296, 8, 0, 8, 0>
// TILED: kan.pack_weights {{.*}}kan.slots = array<i64: 0>
// TILED: kan.grid_prepare {{.*}}kan.slots = array<i64: 1>
// TILED: tensor.empty{{.*}}kan.slots = array<i64: -1>
// TILED: scf.forall
// TILED: } {kan.slots = array<i64: 2>}
// TILED: kan.pack_weights {{.*}}kan.slots = array<i64: 0>
// TILED: kan.grid_prepare {{.*}}kan.slots = array<i64: 1>
// TILED: } {kan.slots = array<i64: 3>}
// TILED: } {kan.slots = array<i64: -1>}

// Updates: %u and %v overwrite their parameters (nothing reads the old
// values later; -2): %u the argument, %v the slot of %s, which it keeps
// until its last use; %k updates %v, read again later, so it gets a slot.
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-plan-memory))' | FileCheck %s --check-prefix=UPDATE
// UPDATE-LABEL: func.func @updates
// UPDATE-SAME: kan.memory_plan = array<i64: 0, 4, 0, 20, 0, 20>
// UPDATE: kan.update_coefficients {{.*}}kan.slots = array<i64: 0>
// UPDATE: kan.update %arg0, {{.*}}kan.slots = array<i64: -2>
// UPDATE: arith.addf {{.*}}kan.slots = array<i64: 1>
// UPDATE: kan.update {{.*}}kan.slots = array<i64: -2>
// UPDATE: kan.update {{.*}}kan.slots = array<i64: 2>
// UPDATE: arith.addf {{.*}}kan.slots = array<i64: -1>
func.func @updates(%p: tensor<4x5xf64>, %a: tensor<4xf64>, %seed: i64, %step: i64) -> tensor<4x5xf64> {
  %c = kan.update_coefficients ternary %a : tensor<4xf64> -> tensor<4xf64>
  %u = kan.update %p, %c seed %seed step %step sparse_ternary stream 0 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %s = arith.addf %u, %u : tensor<4x5xf64>
  %v = kan.update %s, %c seed %seed step %step sparse_ternary stream 1 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %k = kan.update %v, %c seed %seed step %step sparse_ternary stream 2 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %r = arith.addf %v, %k : tensor<4x5xf64>
  return %r : tensor<4x5xf64>
}
