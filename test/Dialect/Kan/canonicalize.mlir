// RUN: kan-opt %s -split-input-file -canonicalize | FileCheck %s

// A layer JVP whose tangent is unused becomes a plain layer.
// CHECK-LABEL: func @unused_tangent
// CHECK-NEXT: %[[Y:.*]] = kan.layer %arg0, %arg1, %arg2, %arg3 order 3 act silu
// CHECK-NEXT: return %[[Y]]
func.func @unused_tangent(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                          %ws: tensor<4x5x8xf64>, %dwb: tensor<2x4x5xf64>) -> tensor<16x4xf64> {
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %dwb order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<2x4x5xf64>)
      -> (tensor<16x4xf64>, tensor<2x16x4xf64>)
  return %y : tensor<16x4xf64>
}

// -----

// A zero-scale update is the parameter itself; unused perturbations vanish.
// CHECK-LABEL: func @zero_update
// CHECK-NEXT: return %arg0
func.func @zero_update(%w: tensor<4x5xf64>, %c: tensor<4xf64>, %s: i64, %t: i64) -> tensor<4x5xf64> {
  %v = kan.perturb normal seed %s step %t stream 0 : tensor<4x4x5xf64>
  %w2 = kan.update %w, %c seed %s step %t normal stream 0 scale 0.0 : tensor<4x5xf64>, tensor<4xf64>
  return %w2 : tensor<4x5xf64>
}

// -----

// CHECK-LABEL: func @kept
// CHECK: kan.layer_jvp
// CHECK: kan.update
func.func @kept(%x: tensor<16x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<4x5xf64>,
                %ws: tensor<4x5x8xf64>, %dwb: tensor<2x4x5xf64>, %c: tensor<2xf64>, %s: i64) -> (tensor<2x16x4xf64>, tensor<4x5xf64>) {
  %y, %dy = kan.layer_jvp %x, %g, %wb, %ws dbase %dwb order 3 act silu
      : (tensor<16x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<2x4x5xf64>)
      -> (tensor<16x4xf64>, tensor<2x16x4xf64>)
  %w2 = kan.update %wb, %c seed %s step %s normal stream 0 scale 0.5 : tensor<4x5xf64>, tensor<2xf64>
  return %dy, %w2 : tensor<2x16x4xf64>, tensor<4x5xf64>
}
