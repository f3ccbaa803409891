// RUN: kan-opt %s -split-input-file -verify-diagnostics

func.func @unknown_function(%x: tensor<?x2xf64>, %y: tensor<?x1xf64>, %p: tensor<1x2x4xf64>) -> tensor<?x1xf64> {
  // expected-error @+1 {{edge 1: 'sinh' is not a function of the symbolic library (kanrt/symbolic.h)}}
  %z = kan.symbolic_edges %x, %y, %p functions ["", "sinh"] : tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64> -> tensor<?x1xf64>
  return %z : tensor<?x1xf64>
}

// -----

func.func @too_few_names(%x: tensor<?x2xf64>, %y: tensor<?x1xf64>, %p: tensor<1x2x4xf64>) -> tensor<?x1xf64> {
  // expected-error @+1 {{'functions' has 1 entries for 1 x 2 edges}}
  %z = kan.symbolic_edges %x, %y, %p functions ["sin"] : tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64> -> tensor<?x1xf64>
  return %z : tensor<?x1xf64>
}

// -----

func.func @params_shape(%x: tensor<?x2xf64>, %y: tensor<?x1xf64>, %p: tensor<1x2x3xf64>) -> tensor<?x1xf64> {
  // expected-error @+1 {{operand 'params' expected shape 1x2x4 but got 1x2x3}}
  %z = kan.symbolic_edges %x, %y, %p functions ["sin", ""] : tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x3xf64> -> tensor<?x1xf64>
  return %z : tensor<?x1xf64>
}

// -----

func.func @f32(%x: tensor<?x2xf32>, %y: tensor<?x1xf32>, %p: tensor<1x2x4xf32>) -> tensor<?x1xf32> {
  // expected-error @+1 {{supports f64 only, not 'f32' (kanrt's symbolic-function library evaluates in f64 on the CPU target)}}
  %z = kan.symbolic_edges %x, %y, %p functions ["sin", ""] : tensor<?x2xf32>, tensor<?x1xf32>, tensor<1x2x4xf32> -> tensor<?x1xf32>
  return %z : tensor<?x1xf32>
}

// -----

func.func @tangent_width(%x: tensor<?x2xf64>, %y: tensor<?x1xf64>, %p: tensor<1x2x4xf64>, %dp: tensor<2x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<3x?x1xf64>) {
  // expected-error @+1 {{operand 'params_tangent' expected shape 3x1x2x4 but got 2x1x2x4}}
  %z, %dz = kan.symbolic_edges_jvp %x, %y, %p dparams %dp functions ["sin", ""]
      : (tensor<?x2xf64>, tensor<?x1xf64>, tensor<1x2x4xf64>, tensor<2x1x2x4xf64>) -> (tensor<?x1xf64>, tensor<3x?x1xf64>)
  return %z, %dz : tensor<?x1xf64>, tensor<3x?x1xf64>
}
