// RUN: kan-opt %s --kan-formula-to-emitc -split-input-file -verify-diagnostics | FileCheck %s

// Arith through the upstream patterns, math ops as <math.h> calls, the
// function static (the C ABI is kan_forward).
// CHECK-LABEL: emitc.func @formula(%arg0: f64, %arg1: f64) -> f64
// CHECK-SAME: specifiers = ["static"]
// CHECK: %[[C:.*]] = "emitc.constant"() <{value = 2.500000e+00 : f64}>
// CHECK: %[[M:.*]] = emitc.mul %arg0, %[[C]]
// CHECK: %[[S:.*]] = emitc.call_opaque "sin"(%[[M]])
// CHECK: %[[D:.*]] = emitc.div %[[S]], %arg1
// CHECK: %[[E:.*]] = emitc.call_opaque "exp"(%[[D]])
// CHECK: emitc.conditional
// CHECK: emitc.call_opaque "pow"
// CHECK: emitc.call_opaque "fabs"
// CHECK: emitc.return
// The exported entry points: one thread, and kan_forward as a loop over the
// rows of x calling the formula on each row's inputs.
// CHECK-LABEL: emitc.func @kan_set_threads(
// CHECK-LABEL: emitc.func @kan_forward(
// CHECK: emitc.call_opaque "KAN_UNUSED"(%arg2)
// CHECK: emitc.for %[[R:[^ ]*]] = %{{.*}} to %arg1 step
// CHECK: %[[X:[^ ]*]] = emitc.add %arg0, %{{.*}} : (!emitc.ptr<!emitc.opaque<"const double">>, i64)
// CHECK: %[[X0:[^ ]*]] = emitc.subscript %[[X]]
// CHECK: %[[X1:[^ ]*]] = emitc.subscript %[[X]]
// CHECK: %[[V:[^ ]*]] = emitc.call_opaque "formula"(%[[X0]], %[[X1]])
// CHECK: %[[Y:[^ ]*]] = emitc.subscript %arg3
// CHECK-NEXT: emitc.assign %[[V]] : f64 to %[[Y]]
func.func @formula(%x1: f64, %x2: f64) -> f64 attributes {kan.formula} {
  %0 = arith.constant 2.5 : f64
  %1 = arith.mulf %x1, %0 : f64
  %2 = math.sin %1 : f64
  %3 = arith.divf %2, %x2 : f64
  %4 = math.exp %3 : f64
  %5 = arith.cmpf ogt, %x1, %0 : f64
  %6 = arith.select %5, %4, %x2 : f64
  %7 = math.powf %6, %0 : f64
  %8 = math.absf %7 : f64
  return %8 : f64
}

// -----

// One function per output of a two-output formula.
// CHECK-LABEL: emitc.func @formula_1(%arg0: f64) -> f64
// CHECK: emitc.call_opaque "tanh"
// CHECK-LABEL: emitc.func @formula_2(%arg0: f64) -> f64
// CHECK: emitc.call_opaque "atan"
func.func @formula_1(%x1: f64) -> f64 {
  %0 = math.tanh %x1 : f64
  return %0 : f64
}
func.func @formula_2(%x1: f64) -> f64 {
  %0 = math.atan %x1 : f64
  return %0 : f64
}

// -----

// A module without formula functions is left alone.
// CHECK-LABEL: func.func @other
// CHECK: math.sin
func.func @other(%x: f64) -> f64 {
  %0 = math.sin %x : f64
  return %0 : f64
}

// -----

// Only f64 scalars are formulas.
func.func @formula(%x1: f32) -> f32 {
  // expected-error@+1 {{failed to legalize operation 'math.sin'}}
  %0 = math.sin %x1 : f32
  return %0 : f32
}
