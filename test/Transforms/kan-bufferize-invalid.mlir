// RUN: kan-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(kan-bufferize))'

// A plan kan-bufferize cannot turn into buffers is rejected with the op and
// the problem named.

func.func @slot_out_of_range(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 0, 4>} {
  // expected-error @+1 {{kan-bufferize: result 0 has slot 3, not a slot of kan.memory_plan for a tensor}}
  %y = arith.negf %x {kan.slots = array<i64: 3>} : tensor<4xf64>
  %z = arith.negf %y {kan.slots = array<i64: -1>} : tensor<4xf64>
  return %z : tensor<4xf64>
}

// -----

func.func @too_small(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 0, 2>} {
  // expected-error @+1 {{kan-bufferize: result 0 does not fit in slot 0}}
  %y = arith.negf %x {kan.slots = array<i64: 0>} : tensor<4xf64>
  %z = arith.negf %y {kan.slots = array<i64: -1>} : tensor<4xf64>
  return %z : tensor<4xf64>
}

// -----

func.func @mixed_types(%x: tensor<4xf64>, %a: tensor<4xf32>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 0, 4>} {
  %y = arith.negf %x {kan.slots = array<i64: 0>} : tensor<4xf64>
  %z = arith.negf %y {kan.slots = array<i64: -1>} : tensor<4xf64>
  // expected-error @+1 {{kan-bufferize: result 0 has another element type than slot 0 holds}}
  %b = arith.negf %a {kan.slots = array<i64: 0>} : tensor<4xf32>
  return %z : tensor<4xf64>
}

// -----

// expected-error @+1 {{kan-bufferize: slot 1 of kan.memory_plan holds no value}}
func.func @empty_slot(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 0, 4, 0, 4>} {
  %y = arith.negf %x {kan.slots = array<i64: 0>} : tensor<4xf64>
  %z = arith.negf %y {kan.slots = array<i64: -1>} : tensor<4xf64>
  return %z : tensor<4xf64>
}

// -----

// expected-error @+1 {{kan-bufferize: kan.memory_plan needs two numbers per slot}}
func.func @odd_plan(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 4>} {
  return %x : tensor<4xf64>
}

// -----

func.func @slots_per_result(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 0, 4>} {
  // expected-error @+1 {{kan-bufferize: kan.slots needs one entry per result}}
  %y = arith.negf %x {kan.slots = array<i64: 0, 0>} : tensor<4xf64>
  return %y : tensor<4xf64>
}

// -----

// The batch size comes from an argument's dynamic dimension.
// expected-error @+1 {{kan-bufferize: has batch-sized buffers but no argument with a dynamic dimension}}
func.func @no_batch(%x: tensor<4xf64>, %n: index) -> tensor<4xf64> attributes {kan.memory_plan = array<i64: 4, 0>} {
  %e = tensor.empty(%n) {kan.slots = array<i64: 0>} : tensor<?x4xf64>
  return %x : tensor<4xf64>
}

// -----

// One dynamic dimension (the batch) per tensor.
func.func @two_dynamic(%x: tensor<?x4xf64>, %n: index) -> tensor<?x4xf64> attributes {kan.memory_plan = array<i64: 4, 0>} {
  // expected-error @+1 {{has a result with more than one dynamic dimension}}
  %e = tensor.empty(%n, %n) {kan.slots = array<i64: 0>} : tensor<?x?xf64>
  return %x : tensor<?x4xf64>
}

// -----

// An in-place update needs its parameter's buffer.
func.func @in_place_without_buffer(%p: tensor<4x5xf64>, %c: tensor<4xf64>, %seed: i64, %step: i64) -> tensor<4x5xf64> attributes {kan.memory_plan = array<i64>} {
  %s = arith.negf %p {kan.slots = array<i64: -1>} : tensor<4x5xf64>
  // expected-error @+1 {{kan-bufferize: result 0 overwrites a parameter that has no buffer}}
  %u = kan.update %s, %c seed %seed step %step sparse_ternary stream 0 scale 1.000000e-02 density 5.000000e-02 {kan.slots = array<i64: -2>} : tensor<4x5xf64>, tensor<4xf64>
  %r = arith.negf %u {kan.slots = array<i64: -1>} : tensor<4x5xf64>
  return %r : tensor<4x5xf64>
}

// -----

func.func @in_place_not_an_update(%x: tensor<4xf64>) -> tensor<4xf64> attributes {kan.memory_plan = array<i64>} {
  // expected-error @+1 {{kan-bufferize: result 0 is in place but updates no parameter}}
  %y = arith.negf %x {kan.slots = array<i64: -2>} : tensor<4xf64>
  %z = arith.negf %y {kan.slots = array<i64: -1>} : tensor<4xf64>
  return %z : tensor<4xf64>
}

// -----

// The CSR arrays are sized at run time.
func.func @static_nonzeros(%c: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<4x7xf64> attributes {kan.memory_plan = array<i64>} {
  // expected-error @+1 {{has a static number of non-zeros; the CPU target sizes the CSR arrays at run time}}
  %rowptr, %cols, %vals = kan.sparse_directions %c seed %seed step %step streams [-1, 1, -1] density 5.000000e-02 {kan.slots = array<i64: -1, -1, -1>} : (tensor<4x5x8xf64>, i64, i64) -> (tensor<4x5xi32>, tensor<4x7xi32>, tensor<4x7xf64>)
  return %vals : tensor<4x7xf64>
}

// -----

func.func @returned_csr(%c: tensor<4x5x8xf64>, %seed: i64, %step: i64) -> tensor<4x?xf64> attributes {kan.memory_plan = array<i64>} {
  // expected-error @+1 {{has a CSR array the function returns; the CPU target keeps them internal}}
  %rowptr, %cols, %vals = kan.sparse_directions %c seed %seed step %step streams [-1, 1, -1] density 5.000000e-02 {kan.slots = array<i64: -1, -1, -1>} : (tensor<4x5x8xf64>, i64, i64) -> (tensor<4x5xi32>, tensor<4x?xi32>, tensor<4x?xf64>)
  return %vals : tensor<4x?xf64>
}
