// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-jvp{width=0})' -verify-diagnostics -split-input-file
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-jvp{func=nosuch})' 2>&1 | FileCheck %s --check-prefix=NOFUNC
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-jvp{width=3 activity=dup,dup})' | FileCheck %s --check-prefix=SCALAR

// NOFUNC: error: kan-jvp: no function named 'nosuch'

// Scalar product rule: (ab)' = a'b + ab', splatted over the directions.
// SCALAR-LABEL: func.func @model_jvp(%arg0: f64, %arg1: f64, %arg2: tensor<3xf64>, %arg3: tensor<3xf64>) -> (f64, tensor<3xf64>)
// SCALAR-DAG: %[[B:.*]] = tensor.splat %arg1 : tensor<3xf64>
// SCALAR-DAG: %[[A:.*]] = tensor.splat %arg0 : tensor<3xf64>
// SCALAR: arith.addf
// expected-error @+1 {{kan-jvp: width: 0 is out of range [1, 1048576]}}
func.func @model(%a: f64, %b: f64) -> f64 {
  %c = arith.mulf %a, %b : f64
  %d = arith.subf %c, %a : f64
  return %d : f64
}
