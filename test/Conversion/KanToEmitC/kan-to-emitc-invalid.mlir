// RUN: kan-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(kan-to-emitc)'

// kan-to-emitc allocates no buffer of its own for a tensor: an intermediate
// tensor must be bound to a memref (kan-bufferize).
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{has a tensor result without a buffer (kan-bufferize binds every intermediate tensor to a memref)}}
  %y = arith.negf %x : tensor<?x4xf64>
  %z = arith.negf %y : tensor<?x4xf64>
  return %z : tensor<?x4xf64>
}

// -----

// Every buffer is freed in the IR.
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{has no memref.dealloc}}
  %m = memref.alloc() : memref<16xf64>
  %v = memref.reinterpret_cast %m to offset: [0], sizes: [4, 4], strides: [4, 1] : memref<16xf64> to memref<4x4xf64>
  return %x : tensor<?x4xf64>
}

// -----

// Buffers are 1-D; tensors are views of them.
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  // expected-error @+1 {{is supported by the CPU target only as a 1-D buffer (kan-bufferize)}}
  %m = memref.alloc() : memref<4x4xf64>
  memref.dealloc %m : memref<4x4xf64>
  return %x : tensor<?x4xf64>
}

// -----

// A binding follows the producer of its tensor.
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf64>
  %c4 = arith.constant 4 : index
  %s = arith.muli %c4, %n : index
  %m = memref.alloc(%s) : memref<?xf64>
  %v = memref.reinterpret_cast %m to offset: [0], sizes: [%n, 4], strides: [4, 1] : memref<?xf64> to memref<?x4xf64>
  // expected-error @+1 {{must follow the producer of its tensor}}
  bufferization.materialize_in_destination %x in restrict writable %v : (tensor<?x4xf64>, memref<?x4xf64>) -> ()
  memref.dealloc %m : memref<?xf64>
  return %x : tensor<?x4xf64>
}

// -----

// An activity update is emitted as a loop over the column tiles that
// kan-lower-to-gemm chose; there is no untiled form.
func.func @model(%x: tensor<?x4xf64>, %grid: tensor<4x12xf64>, %wb: tensor<4x4xf64>,
                 %ws: tensor<4x4x8xf64>) -> tensor<4x4xf64> {
  // expected-error @+1 {{must be tiled by kan-lower-to-gemm before emission}}
  %w:2 = kan.activity_update %x, %grid, %x, %wb, %ws scale 1.0 order 3 act silu
      : (tensor<?x4xf64>, tensor<4x12xf64>, tensor<?x4xf64>, tensor<4x4xf64>, tensor<4x4x8xf64>)
      -> (tensor<4x4xf64>, tensor<4x4x8xf64>)
  return %w#0 : tensor<4x4xf64>
}

// -----

// A row-tile loop's step sizes the per-thread scratch: a constant, or an
// affine.min with a constant bound (kan-tile-and-fuse's share of its
// threads), not any value.
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf64>
  // expected-error @+1 {{must be a one-dimensional row-tile loop whose tile size is a constant or has a constant bound (kan-tile-and-fuse)}}
  %y = scf.forall (%i) = (0) to (%n) step (%n) shared_outs(%o = %x) -> (tensor<?x4xf64>) {
    scf.forall.in_parallel {
    }
  }
  return %y : tensor<?x4xf64>
}
