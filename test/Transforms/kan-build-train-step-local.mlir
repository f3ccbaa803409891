// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity local-losses=true n=8 lr=0.05})' | FileCheck %s
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity local-losses=true n=8 lr=0.05})' | FileCheck %s --check-prefix=ISO
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity local-losses=true n=2 gradient=true})' | FileCheck %s --check-prefix=GRAD
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity local-losses=true n=2 gradient=true},func.func(kan-lower-to-gemm),canonicalize,cse)' | FileCheck %s --check-prefix=GEMM
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{local-losses=true})' 2>&1 | FileCheck %s --check-prefix=TERN
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=fg local-losses=true})' 2>&1 | FileCheck %s --check-prefix=TERN
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{model=single rule=activity local-losses=true})' 2>&1 | FileCheck %s --check-prefix=SINGLE

// Local losses on [5, 4, 4, 3]: the two hidden layers get a head each
// (4 -> 3, the model's G, k and scaler) whose tensors follow the model's as
// arguments %arg16..19 and %arg20..23 and as results.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %arg15: tensor<3x4xf64>, %arg16: tensor<4x12xf64>, %arg17: tensor<3x4xf64>, %arg18: tensor<3x4x8xf64>, %arg19: tensor<3x4xf64>, %arg20: tensor<4x12xf64>, %arg21: tensor<3x4xf64>, %arg22: tensor<3x4x8xf64>, %arg23: tensor<3x4xf64>)
// CHECK-SAME: -> (f64, tensor<8xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64>, tensor<4x12xf64>, tensor<4x4xf64>, tensor<4x4x8xf64>, tensor<4x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64>, tensor<3x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64>, tensor<3x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64>, tensor<3x4xf64>)
// CHECK: %[[Z0:.*]] = kan.layer %arg0, %arg4, %arg5, %arg6 scaler %arg7
// CHECK: %[[Z1:.*]] = kan.layer %[[Z0]], %arg8, %arg9, %arg10 scaler %arg11
// CHECK: %[[Z2:.*]] = kan.layer %[[Z1]], %arg12, %arg13, %arg14 scaler %arg15
// CHECK: %[[D:.*]] = kan.softmax_cross_entropy_grad %[[Z2]], %arg1
// Layer 0's perturbation goes through head 0 only, layer 1's through head 1:
// two JVPs in all, none through layers 1 and 2 (which read %arg8, %arg12).
// ISO-NOT: kan.layer_jvp
// ISO-COUNT-2: kan.layer_jvp {{.*}}, %arg{{16|20}}, %arg{{17|21}},
// ISO-NOT: kan.layer_jvp
// CHECK: %[[U0:.*]] = kan.perturb_activity %[[Z0]] seed %arg2 step %arg3 normal stream 1073741824 : tensor<?x4xf64> -> tensor<8x?x4xf64>
// CHECK: %[[H0:.*]], %[[T0:.*]] = kan.layer_jvp %[[Z0]], %arg16, %arg17, %arg18 scaler %arg19 dinput %[[U0]] order 3 act silu
// CHECK: %[[HG0:.*]] = kan.softmax_cross_entropy_grad %[[H0]], %arg1
// CHECK: %{{.*}}, %[[A0:.*]], %[[E0:.*]] = kan.softmax_cross_entropy_examples_jvp %[[H0]], %arg1, %[[T0]]
// CHECK: %[[G0:.*]] = kan.activity_estimate %[[E0]], %[[U0]]
// CHECK: %[[U1:.*]] = kan.perturb_activity %[[Z1]] seed %arg2 step %arg3 normal stream 1073741825
// CHECK: %[[H1:.*]], %[[T1:.*]] = kan.layer_jvp %[[Z1]], %arg20, %arg21, %arg22 scaler %arg23 dinput %[[U1]]
// CHECK: %[[HG1:.*]] = kan.softmax_cross_entropy_grad %[[H1]], %arg1
// CHECK: %{{.*}}, %[[A1:.*]], %[[E1:.*]] = kan.softmax_cross_entropy_examples_jvp %[[H1]], %arg1, %[[T1]]
// CHECK: %[[A:.*]] = arith.addf %[[A0]], %[[A1]] : tensor<8xf64>
// CHECK: %[[G1:.*]] = kan.activity_estimate %[[E1]], %[[U1]]
// The step's loss is the model's, not a head's.
// CHECK: %[[L:.*]] = kan.softmax_cross_entropy %[[Z2]], %arg1
// CHECK: %[[B0:.*]], %[[C0:.*]], %[[S0:.*]] = kan.activity_update %arg0, %arg4, %[[G0]], %arg5, %arg6 scaler %arg7 scale 5.000000e-02
// CHECK: %[[B1:.*]], %[[C1:.*]], %[[S1:.*]] = kan.activity_update %[[Z0]], %arg8, %[[G1]], %arg9, %arg10 scaler %arg11 scale 5.000000e-02
// CHECK: %[[B2:.*]], %[[C2:.*]], %[[S2:.*]] = kan.activity_update %[[Z1]], %arg12, %[[D]], %arg13, %arg14 scaler %arg15 scale 5.000000e-02
// The heads: their exact local derivative, their input the layer's output.
// CHECK: %[[HB0:.*]], %[[HC0:.*]], %[[HS0:.*]] = kan.activity_update %[[Z0]], %arg16, %[[HG0]], %arg17, %arg18 scaler %arg19 scale 5.000000e-02
// CHECK: %[[HB1:.*]], %[[HC1:.*]], %[[HS1:.*]] = kan.activity_update %[[Z1]], %arg20, %[[HG1]], %arg21, %arg22 scaler %arg23 scale 5.000000e-02
// CHECK: return %[[L]], %[[A]], %arg4, %[[B0]], %[[C0]], %[[S0]], %arg8, %[[B1]], %[[C1]], %[[S1]], %arg12, %[[B2]], %[[C2]], %[[S2]], %arg16, %[[HB0]], %[[HC0]], %[[HS0]], %arg20, %[[HB1]], %[[HC1]], %[[HS1]] :

// gradient=true: dtheta of the three layers and the two heads.
// GRAD-COUNT-5: kan.activity_update {{.*}} gradient
// GRAD-NOT: kan.activity_update

// kan-lower-to-gemm tiles the heads' updates like the layers'.
// GEMM-LABEL: func.func @train_step(
// GEMM-COUNT-5: kan.activity_update {{.*}} aux
// GEMM: return

// TERN: local-losses=true needs rule=activity
// SINGLE: local-losses=true needs a hidden layer (the model has one layer)

func.func @model(%x: tensor<?x5xf64>,
                 %g0: tensor<5x12xf64>, %b0: tensor<4x5xf64>, %c0: tensor<4x5x8xf64>, %s0: tensor<4x5xf64>,
                 %g1: tensor<4x12xf64>, %b1: tensor<4x4xf64>, %c1: tensor<4x4x8xf64>, %s1: tensor<4x4xf64>,
                 %g2: tensor<4x12xf64>, %b2: tensor<3x4xf64>, %c2: tensor<3x4x8xf64>, %s2: tensor<3x4xf64>) -> tensor<?x3xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  %y1 = kan.layer %y0, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x4xf64>, tensor<4x12xf64>, tensor<4x4xf64>, tensor<4x4x8xf64>, tensor<4x4xf64> -> tensor<?x4xf64>
  %y2 = kan.layer %y1, %g2, %b2, %c2 scaler %s2 order 3 act silu
      : tensor<?x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64>, tensor<3x4xf64> -> tensor<?x3xf64>
  return %y2 : tensor<?x3xf64>
}

func.func @single(%x: tensor<?x5xf64>, %g0: tensor<5x12xf64>, %b0: tensor<4x5xf64>, %c0: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64> -> tensor<?x4xf64>
  return %y0 : tensor<?x4xf64>
}
