// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(kan-jvp{activity=dup,const})' -verify-diagnostics

// An op without a derivative rule is named, never differentiated wrongly.
func.func @model(%x: f64, %y: f64) -> f64 {
  // expected-error @+1 {{'arith.divf' op has no forward-mode derivative rule ('arith.divf' does not implement JvpOpInterface)}}
  %q = arith.divf %x, %y : f64
  return %q : f64
}

// -----

func.func @model(%a: tensor<4xf64>, %b: tensor<4xf64>) -> tensor<4xf64> {
  // expected-error @+1 {{'arith.mulf' op has a forward-mode rule only for scalar operands}}
  %c = arith.mulf %a, %b : tensor<4xf64>
  return %c : tensor<4xf64>
}

// -----

// expected-error @+1 {{kan-jvp: 'activity' lists 2 entries but @model has 3 arguments}}
func.func @model(%a: f64, %b: f64, %c: f64) -> f64 {
  return %a : f64
}

// -----

// expected-error @+1 {{kan-jvp: argument 0 of type 'i64' cannot be duplicated}}
func.func @model(%a: i64, %b: f64) -> f64 {
  return %b : f64
}
