// RUN: kan-opt %s --pass-pipeline='builtin.module(func.func(kan-plan-memory,kan-bufferize),kan-to-emitc)' -o %t.mlir
// RUN: FileCheck %s --check-prefix=EMITC --input-file=%t.mlir
// RUN: mlir-translate --mlir-to-cpp %t.mlir | FileCheck %s

// kan-to-emitc takes every buffer from the memrefs of kan-bufferize: an
// alloc is a pointer variable allocated and checked (its size from the
// batch size), a view is that pointer, the deallocs are the frees at the
// end; a function result is the caller's buffer.
// EMITC-LABEL: emitc.func @model_impl
// EMITC: %[[V:.*]] = "emitc.variable"() <{value = #emitc.opaque<"NULL">}> : () -> !emitc.ptr<f64>
// EMITC: %[[N4:.*]] = emitc.mul %{{.*}}, %arg1 : (i64, i64) -> i64
// EMITC: %[[P:.*]] = emitc.call_opaque "kan_buffer_alloc"(%[[N4]]) {args = [0 : index, 8]}
// EMITC-NEXT: emitc.assign %[[P]] : !emitc.ptr<f64> to %[[V]]
// EMITC-NEXT: emitc.call_opaque "kan_buffer_status"(%[[V]])
// EMITC: emitc.call_opaque "kan_neg_f64"(%{{.*}}, %arg0, %[[V]])
// EMITC: emitc.call_opaque "kan_mul_f64"(%{{.*}}, %[[V]], %arg0, %arg2)
// EMITC: emitc.call_opaque "free"(%[[V]])
// EMITC-NOT: emitc.call_opaque "free"
// EMITC: emitc.return
func.func @model(%x: tensor<?x4xf64>) -> tensor<?x4xf64> {
  %y = arith.negf %x : tensor<?x4xf64>
  %z = arith.mulf %y, %x : tensor<?x4xf64>
  return %z : tensor<?x4xf64>
}

// Updates: %u in place in the argument, %v in place in the slot of %s, %k a
// copy of %v in a slot of its own (test/Transforms/kan-bufferize.mlir).
// CHECK: static int updates_impl(double* [[P:v[0-9]+]], double* [[A:v[0-9]+]],
// CHECK-SAME: double* [[R:v[0-9]+]], double [[LR:v[0-9]+]])
// CHECK: double* [[S0:v[0-9]+]] = NULL;
// CHECK-NEXT: double* [[S1:v[0-9]+]] = NULL;
// CHECK-NEXT: double* [[S2:v[0-9]+]] = NULL;
// CHECK: kan_buffer_alloc(4, 8);
// CHECK-NEXT: [[S0]] =
// CHECK: kan_buffer_alloc(20, 8);
// CHECK-NEXT: [[S1]] =
// CHECK: kan_buffer_alloc(20, 8);
// CHECK-NEXT: [[S2]] =
// CHECK: kan_update_coefficients_f64(KAN_RULE_TERNARY, 4, [[A]], [[S0]]);
// CHECK: kan_apply_update_sparse_f64({{.*}}, 0, 20, {{.*}}, [[P]]);
// CHECK: kan_add_f64(20, [[P]], [[P]], [[S1]]);
// CHECK-NOT: kan_copy
// CHECK: kan_apply_update_sparse_f64({{.*}}, 1, 20, {{.*}}, [[S1]]);
// CHECK: kan_copy_f64(20, [[S1]], [[S2]]);
// CHECK: kan_apply_update_sparse_f64({{.*}}, 2, 20, {{.*}}, [[S2]]);
// CHECK: kan_add_f64(20, [[S1]], [[S2]], [[R]]);
// CHECK-NEXT: }
// CHECK-NEXT: free([[S0]]);
// CHECK-NEXT: free([[S1]]);
// CHECK-NEXT: free([[S2]]);
func.func @updates(%p: tensor<4x5xf64>, %a: tensor<4xf64>, %seed: i64, %step: i64) -> tensor<4x5xf64> {
  %c = kan.update_coefficients ternary %a : tensor<4xf64> -> tensor<4xf64>
  %u = kan.update %p, %c seed %seed step %step sparse_ternary stream 0 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %s = arith.addf %u, %u : tensor<4x5xf64>
  %v = kan.update %s, %c seed %seed step %step sparse_ternary stream 1 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %k = kan.update %v, %c seed %seed step %step sparse_ternary stream 2 scale 1.000000e-02 density 5.000000e-02 : tensor<4x5xf64>, tensor<4xf64>
  %r = arith.addf %v, %k : tensor<4x5xf64>
  return %r : tensor<4x5xf64>
}
