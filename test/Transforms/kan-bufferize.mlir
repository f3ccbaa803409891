// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm,kan-tile-and-fuse,cse,kan-plan-memory,kan-bufferize))' | FileCheck %s
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-plan-memory,kan-bufferize))' | FileCheck %s --check-prefix=UPDATE
// Running the plan and the bufferisation again changes nothing.
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm,kan-tile-and-fuse,cse,kan-plan-memory,kan-bufferize))' -o %t.mlir
// RUN: kan-opt %t.mlir --pass-pipeline='builtin.module(func.func(kan-plan-memory,kan-bufferize))' -o %t.again.mlir
// RUN: diff %t.mlir %t.again.mlir

// Three layers, row-tiled (the plan of test/Transforms/kan-plan-memory.mlir:
// slots of 576, 296, 8n and 8n elements). Each slot is one alloc, sized
// from the batch size; the packed weights of the three layers are three
// views of slot 0 and the knot data three views of slot 1; the two hidden
// activations (the loops' results) are views of slots 2 and 3; the model's
// result is the caller's buffer (no memref). The plan's attributes are
// consumed.
// CHECK-NOT: kan.slots
// CHECK-NOT: kan.memory_plan
// CHECK-LABEL: func.func @model
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[N:.*]] = tensor.dim %arg0, %[[C0]] : tensor<?x6xf32>
// CHECK-NEXT: %[[S0:.*]] = memref.alloc() : memref<576xf32>
// CHECK-NEXT: %[[S1:.*]] = memref.alloc() : memref<296xf32>
// CHECK-NEXT: %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[N8:.*]] = arith.muli %[[C8]], %[[N]] : index
// CHECK-NEXT: %[[S2:.*]] = memref.alloc(%[[N8]]) : memref<?xf32>
// CHECK-NEXT: %[[S3:.*]] = memref.alloc(%[[N8]]) : memref<?xf32>
// Layer 0.
// CHECK-NEXT: %[[W0V:.*]] = memref.reinterpret_cast %[[S0]] to offset: [0], sizes: [8, 54], strides: [54, 1] : memref<576xf32> to memref<8x54xf32>
// CHECK-NEXT: %[[W0:.*]] = kan.pack_weights %arg2, %arg3 :
// CHECK-NEXT: bufferization.materialize_in_destination %[[W0]] in restrict writable %[[W0V]] : (tensor<8x54xf32>, memref<8x54xf32>) -> ()
// CHECK-NEXT: %[[K0V:.*]] = memref.reinterpret_cast %[[S1]] to offset: [0], sizes: [222], strides: [1] : memref<296xf32> to memref<222xf32>
// CHECK-NEXT: %[[K0:.*]] = kan.grid_prepare %arg1
// CHECK-NEXT: bufferization.materialize_in_destination %[[K0]] in restrict writable %[[K0V]]
// CHECK: %[[Y0V:.*]] = memref.reinterpret_cast %[[S2]] to offset: [0], sizes: [%[[N]], 8], strides: [8, 1] : memref<?xf32> to memref<?x8xf32>
// CHECK-NEXT: %[[Y0:.*]] = scf.forall
// CHECK: kan.feature_gemm {{.*}}, %[[W0]] aux %[[K0]]
// CHECK: tensor.parallel_insert_slice
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: bufferization.materialize_in_destination %[[Y0]] in restrict writable %[[Y0V]] : (tensor<?x8xf32>, memref<?x8xf32>) -> ()
// Layer 1: slots 0 and 1 again (reuse), the activation in slot 3.
// CHECK-NEXT: %[[W1V:.*]] = memref.reinterpret_cast %[[S0]] to offset: [0], sizes: [8, 72], strides: [72, 1] : memref<576xf32> to memref<8x72xf32>
// CHECK-NEXT: %[[W1:.*]] = kan.pack_weights %arg5, %arg6
// CHECK-NEXT: bufferization.materialize_in_destination %[[W1]] in restrict writable %[[W1V]]
// CHECK-NEXT: %[[K1V:.*]] = memref.reinterpret_cast %[[S1]] to offset: [0], sizes: [296], strides: [1]
// CHECK-NEXT: %[[K1:.*]] = kan.grid_prepare %arg4
// CHECK-NEXT: bufferization.materialize_in_destination %[[K1]] in restrict writable %[[K1V]]
// CHECK: %[[Y1V:.*]] = memref.reinterpret_cast %[[S3]] to offset: [0], sizes: [%[[N]], 8], strides: [8, 1]
// CHECK-NEXT: %[[Y1:.*]] = scf.forall
// CHECK: bufferization.materialize_in_destination %[[Y1]] in restrict writable %[[Y1V]]
// Layer 2: its result goes to the caller.
// CHECK-NEXT: memref.reinterpret_cast %[[S0]] to offset: [0], sizes: [3, 72], strides: [72, 1]
// CHECK: memref.reinterpret_cast %[[S1]]
// CHECK: %[[Y2:.*]] = scf.forall
// CHECK-NOT: bufferization.materialize_in_destination
// CHECK: memref.dealloc %[[S0]] : memref<576xf32>
// CHECK-NEXT: memref.dealloc %[[S1]] : memref<296xf32>
// CHECK-NEXT: memref.dealloc %[[S2]] : memref<?xf32>
// CHECK-NEXT: memref.dealloc %[[S3]] : memref<?xf32>
// CHECK-NEXT: return %[[Y2]] : tensor<?x3xf32>
func.func @model(%x: tensor<?x6xf32>,
                 %g0: tensor<6x12xf32>, %b0: tensor<8x6xf32>, %c0: tensor<8x6x8xf32>,
                 %g1: tensor<8x12xf32>, %b1: tensor<8x8xf32>, %c1: tensor<8x8x8xf32>,
                 %g2: tensor<8x12xf32>, %b2: tensor<3x8xf32>, %c2: tensor<3x8x8xf32>) -> tensor<?x3xf32> {
  %y0 = kan.layer %x, %g0, %b0, %c0 order 3 act silu : tensor<?x6xf32>, tensor<6x12xf32>, tensor<8x6xf32>, tensor<8x6x8xf32> -> tensor<?x8xf32>
  %y1 = kan.layer %y0, %g1, %b1, %c1 order 3 act silu : tensor<?x8xf32>, tensor<8x12xf32>, tensor<8x8xf32>, tensor<8x8x8xf32> -> tensor<?x8xf32>
  %y2 = kan.layer %y1, %g2, %b2, %c2 order 3 act silu : tensor<?x8xf32>, tensor<8x12xf32>, tensor<3x8xf32>, tensor<3x8x8xf32> -> tensor<?x3xf32>
  return %y2 : tensor<?x3xf32>
}

// Updates. %u overwrites the argument %p in place (bound to its memref);
// %v overwrites %s, so it is bound to the view of %s's slot; %k updates %v,
// which is read again later, so %k gets a slot of its own (and kan-to-emitc
// copies %v there first). Slot 0 holds the coefficients, slot 1 %s and %v,
// slot 2 %k.
// UPDATE-LABEL: func.func @updates
// UPDATE: %[[S0:.*]] = memref.alloc() : memref<4xf64>
// UPDATE-NEXT: %[[S1:.*]] = memref.alloc() : memref<20xf64>
// UPDATE-NEXT: %[[S2:.*]] = memref.alloc() : memref<20xf64>
// UPDATE-NEXT: %[[P:.*]] = bufferization.to_memref %arg0 : memref<4x5xf64>
// UPDATE: %[[CV:.*]] = memref.reinterpret_cast %[[S0]]
// UPDATE-NEXT: %[[C:.*]] = kan.update_coefficients
// UPDATE-NEXT: bufferization.materialize_in_destination %[[C]] in restrict writable %[[CV]]
// UPDATE-NEXT: %[[U:.*]] = kan.update %arg0, %[[C]]
// UPDATE-NEXT: bufferization.materialize_in_destination %[[U]] in restrict writable %[[P]]
// UPDATE-NEXT: %[[SV:.*]] = memref.reinterpret_cast %[[S1]] to offset: [0], sizes: [4, 5], strides: [5, 1]
// UPDATE-NEXT: %[[S:.*]] = arith.addf %[[U]], %[[U]]
// UPDATE-NEXT: bufferization.materialize_in_destination %[[S]] in restrict writable %[[SV]]
// UPDATE-NEXT: %[[V:.*]] = kan.update %[[S]], %[[C]]
// UPDATE-NEXT: bufferization.materialize_in_destination %[[V]] in restrict writable %[[SV]]
// UPDATE-NEXT: %[[KV:.*]] = memref.reinterpret_cast %[[S2]]
// UPDATE-NEXT: %[[K:.*]] = kan.update %[[V]], %[[C]]
// UPDATE-NEXT: bufferization.materialize_in_destination %[[K]] in restrict writable %[[KV]]
// UPDATE-NEXT: %[[R:.*]] = arith.addf %[[V]], %[[K]]
// UPDATE-NEXT: memref.dealloc %[[S0]]
// UPDATE-NEXT: memref.dealloc %[[S1]]
// UPDATE-NEXT: memref.dealloc %[[S2]]
// UPDATE-NEXT: return %[[R]]
func.func @updates(%p: tensor<4x5xf64>, %a: tensor<4xf64>, %seed: i64, %step: i64) -> tensor<4x5xf64> {
  %c = kan.update_coefficients ternary %a : tensor<4xf64> -> tensor<4xf64>
  %u = kan.update %p, %c seed %seed step %step sparse_ternary stream 0 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %s = arith.addf %u, %u : tensor<4x5xf64>
  %v = kan.update %s, %c seed %seed step %step sparse_ternary stream 1 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %k = kan.update %v, %c seed %seed step %step sparse_ternary stream 2 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %r = arith.addf %v, %k : tensor<4x5xf64>
  return %r : tensor<4x5xf64>
}

// Sparse directions: the CSR arrays have no slot. Their capacity is a
// run-time bound (a call into kanrt); each array gets an alloc of its own
// in front of the op (rowptr static, cols and vals width x (capacity + 1)),
// a view with the capacity as row stride, and a dealloc behind the last op
// that reads it.
// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-plan-memory,kan-bufferize))' | FileCheck %s --check-prefix=CSR
// CSR-LABEL: func.func @csr
// CSR: %[[C1:.*]] = arith.constant 1 : index
// CSR: %[[N:.*]] = tensor.dim %arg4, %[[C1]] : tensor<4x?xf64>
// CSR: %[[SLOT:.*]] = memref.alloc(%{{.*}}) : memref<?xf64>
// CSR: %[[CAP:.*]] = emitc.call_opaque "kan_sparse_directions_capacity"() {args = [4, 5, 8, 5.000000e-02, 0, 1, 2]} : () -> i64
// CSR-NEXT: %[[CAPI:.*]] = arith.index_cast %[[CAP]] : i64 to index
// CSR-NEXT: %[[CAP1:.*]] = arith.addi %[[CAPI]], %[[C1]] : index
// CSR-NEXT: %[[COUNT:.*]] = arith.muli %{{.*}}, %[[CAP1]] : index
// CSR-NEXT: %[[RP:.*]] = memref.alloc() : memref<20xi32>
// CSR-NEXT: %[[RPV:.*]] = memref.reinterpret_cast %[[RP]] to offset: [0], sizes: [4, 5], strides: [5, 1] : memref<20xi32> to memref<4x5xi32>
// CSR-NEXT: %[[CO:.*]] = memref.alloc(%[[COUNT]]) : memref<?xi32>
// CSR-NEXT: %[[COV:.*]] = memref.reinterpret_cast %[[CO]] to offset: [0], sizes: [4, %[[CAPI]]], strides: [%[[CAPI]], 1] : memref<?xi32> to memref<4x?xi32>
// CSR-NEXT: %[[VA:.*]] = memref.alloc(%[[COUNT]]) : memref<?xf64>
// CSR-NEXT: %[[VAV:.*]] = memref.reinterpret_cast %[[VA]] to offset: [0], sizes: [4, %[[CAPI]]], strides: [%[[CAPI]], 1] : memref<?xf64> to memref<4x?xf64>
// CSR-NEXT: %[[R:.*]], %[[COLS:.*]], %[[VALS:.*]] = kan.sparse_directions
// CSR-NEXT: bufferization.materialize_in_destination %[[R]] in restrict writable %[[RPV]]
// CSR-NEXT: bufferization.materialize_in_destination %[[COLS]] in restrict writable %[[COV]]
// CSR-NEXT: bufferization.materialize_in_destination %[[VALS]] in restrict writable %[[VAV]]
// CSR-NEXT: %[[YV:.*]] = memref.reinterpret_cast %[[SLOT]] to offset: [0], sizes: [4, %[[N]]]
// CSR-NEXT: %[[Y:.*]] = arith.addf %[[VALS]], %arg4
// CSR-NEXT: bufferization.materialize_in_destination %[[Y]] in restrict writable %[[YV]]
// CSR-NEXT: memref.dealloc %[[RP]]
// CSR-NEXT: memref.dealloc %[[CO]]
// CSR-NEXT: memref.dealloc %[[VA]]
// CSR-NEXT: %[[Z:.*]] = arith.negf %[[Y]]
// CSR-NEXT: memref.dealloc %[[SLOT]]
// CSR-NEXT: return %[[Z]]
func.func @csr(%c: tensor<4x5x8xf64>, %s: tensor<4x5xf64>, %seed: i64, %step: i64, %x: tensor<4x?xf64>) -> tensor<4x?xf64> {
  %rowptr, %cols, %vals = kan.sparse_directions %c scaler %s seed %seed step %step streams [0, 1, 2] density 5.000000e-02 : (tensor<4x5x8xf64>, tensor<4x5xf64>, i64, i64) -> (tensor<4x5xi32>, tensor<4x?xi32>, tensor<4x?xf64>)
  %y = arith.addf %vals, %x : tensor<4x?xf64>
  %z = arith.negf %y : tensor<4x?xf64>
  return %z : tensor<4x?xf64>
}
