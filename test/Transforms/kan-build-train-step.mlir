// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{n=8 density=0.01 lr=0.002})' | FileCheck %s --check-prefix=TERN
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=fg n=4 lr=0.1 loss=mse})' | FileCheck %s --check-prefix=FG

// Two-layer model [5, 4, 3]: one sparse ternary perturbation per trained
// tensor and direction block, JVP inlined, loss JVP, coefficients, updates.
// TERN-LABEL: func.func @train_step(
// TERN-SAME: %arg0: tensor<?x5xf64>, %arg1: tensor<?xi64>, %arg2: i64, %arg3: i64,
// TERN-SAME: -> (f64, tensor<8xf64>,
// TERN-DAG: %[[V0:.*]] = kan.perturb sparse_ternary seed %arg2 step %arg3 stream 0 density 1.000000e-02 : tensor<8x4x5xf64>
// TERN-DAG: %[[V1:.*]] = kan.perturb sparse_ternary seed %arg2 step %arg3 stream 1 density 1.000000e-02 : tensor<8x4x5x8xf64>
// TERN-DAG: %[[V2:.*]] = kan.perturb sparse_ternary seed %arg2 step %arg3 stream 2 density 1.000000e-02 : tensor<8x4x5xf64>
// TERN-DAG: kan.perturb sparse_ternary seed %arg2 step %arg3 stream 3 density
// TERN-DAG: kan.perturb sparse_ternary seed %arg2 step %arg3 stream 4 density
// TERN: %[[Y0:.*]], %[[D0:.*]] = kan.layer_jvp %arg0, %arg4, %arg5, %arg6 scaler %arg7 dbase %[[V0]] dspline %[[V1]] dscaler %[[V2]]
// TERN: %[[Y1:.*]], %[[D1:.*]] = kan.layer_jvp %[[Y0]], %arg8, %arg9, %arg10 dinput %[[D0]] dbase
// TERN: %[[L:.*]], %[[A:.*]] = kan.softmax_cross_entropy_jvp %[[Y1]], %arg1, %[[D1]]
// TERN: %[[C:.*]] = kan.update_coefficients ternary %[[A]]
// TERN: kan.update %arg5, %[[C]] seed %arg2 step %arg3 sparse_ternary stream 0 scale 2.000000e-03 density 1.000000e-02
// TERN: kan.update %arg6, %[[C]] seed %arg2 step %arg3 sparse_ternary stream 1
// TERN: kan.update %arg7, %[[C]] seed %arg2 step %arg3 sparse_ternary stream 2
// TERN: kan.update %arg9, %[[C]] seed %arg2 step %arg3 sparse_ternary stream 3
// TERN: kan.update %arg10, %[[C]] seed %arg2 step %arg3 sparse_ternary stream 4
// TERN: return %[[L]], %[[A]], %arg4,

// fg: normal directions, mean of alpha_i v_i (scale lr / n).
// FG-LABEL: func.func @train_step(
// FG-SAME: %arg1: tensor<?x3xf64>
// FG: kan.perturb normal seed %arg2 step %arg3 stream 0 : tensor<4x4x5xf64>
// FG: kan.mse_jvp
// FG: kan.update_coefficients fg
// FG: kan.update %arg5, %{{.*}} seed %arg2 step %arg3 normal stream 0 scale 2.500000e-02 :
// One rank's share: directions 8..11 of the step, no update (the runtime
// applies the update of all the ranks' scalars).
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{n=4 density=0.01 first-direction=8 update=false})' | FileCheck %s --check-prefix=SLICE
// SLICE-LABEL: func.func @train_step(
// SLICE-SAME: -> (f64, tensor<4xf64>,
// SLICE: kan.perturb sparse_ternary seed %arg2 step %arg3 stream 0 density 1.000000e-02 {first_direction = 8 : i64} : tensor<4x4x5xf64>
// SLICE: %[[L:.*]], %[[A:.*]] = kan.softmax_cross_entropy_jvp
// SLICE-NOT: kan.update
// SLICE: return %[[L]], %[[A]], %arg4, %arg5, %arg6, %arg7, %arg8, %arg9, %arg10 :
// Activity perturbation: one draw per example and direction of the hidden
// layer's pre-activations, carried through the output layer by its JVP,
// per-example scalars, the estimate of dL/dz and the second GEMM per layer;
// the output layer uses its exact local derivative.
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity n=8 lr=0.05})' | FileCheck %s --check-prefix=ACT
// ACT-LABEL: func.func @train_step(
// ACT-SAME: -> (f64, tensor<8xf64>,
// ACT: %[[Z0:.*]] = kan.layer %arg0, %arg4, %arg5, %arg6 scaler %arg7
// ACT: %[[Z1:.*]] = kan.layer %[[Z0]], %arg8, %arg9, %arg10 order
// ACT: %[[D:.*]] = kan.softmax_cross_entropy_grad %[[Z1]], %arg1 : tensor<?x3xf64>, tensor<?xi64> -> tensor<?x3xf64>
// ACT: %[[U:.*]] = kan.perturb_activity %[[Z0]] seed %arg2 step %arg3 normal stream 1073741824 : tensor<?x4xf64> -> tensor<8x?x4xf64>
// ACT: %[[Y:.*]], %[[T:.*]] = kan.layer_jvp %[[Z0]], %arg8, %arg9, %arg10 dinput %[[U]] order 3
// ACT: %[[L:.*]], %[[A:.*]], %[[E:.*]] = kan.softmax_cross_entropy_examples_jvp %[[Y]], %arg1, %[[T]] : (tensor<?x3xf64>, tensor<?xi64>, tensor<8x?x3xf64>) -> (f64, tensor<8xf64>, tensor<8x?xf64>)
// ACT: %[[G:.*]] = kan.activity_estimate %[[E]], %[[U]] : (tensor<8x?xf64>, tensor<8x?x4xf64>) -> tensor<?x4xf64>
// ACT: %[[B0:.*]], %[[C0:.*]], %[[S0:.*]] = kan.activity_update %arg0, %arg4, %[[G]], %arg5, %arg6 scaler %arg7 scale 5.000000e-02 order 3 act silu :
// ACT: %[[B1:.*]], %[[C1:.*]] = kan.activity_update %[[Z0]], %arg8, %[[D]], %arg9, %arg10 scale 5.000000e-02 order 3 act silu :
// ACT: return %[[L]], %[[A]], %arg4, %[[B0]], %[[C0]], %[[S0]], %arg8, %[[B1]], %[[C1]] :
// RUN: kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity n=2 gradient=true})' | FileCheck %s --check-prefix=GRAD
// GRAD-COUNT-2: kan.activity_update {{.*}} gradient
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity loss=mse})' 2>&1 | FileCheck %s --check-prefix=ACTMSE
// ACTMSE: rule 'activity' supports the cross_entropy loss only
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=activity dist=sparse_ternary})' 2>&1 | FileCheck %s --check-prefix=ACTSPARSE
// ACTSPARSE: rule 'activity' needs unit-variance directions
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{gradient=true})' 2>&1 | FileCheck %s --check-prefix=GRADTERN
// GRADTERN: gradient=true needs rule=activity
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{rule=sgd})' 2>&1 | FileCheck %s --check-prefix=RULE
// RULE: unknown rule 'sgd' (ternary, fg or activity)
// RUN: not kan-opt %s --pass-pipeline='builtin.module(kan-build-train-step{n=4 first-direction=4294967295})' 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: first-direction 4294967295 + n 4 is outside the 32-bit direction range

func.func @model(%x: tensor<?x5xf64>,
                 %g0: tensor<5x12xf64>, %b0: tensor<4x5xf64>, %c0: tensor<4x5x8xf64>, %s0: tensor<4x5xf64>,
                 %g1: tensor<4x12xf64>, %b1: tensor<3x4xf64>, %c1: tensor<3x4x8xf64>) -> tensor<?x3xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  %y1 = kan.layer %y0, %g1, %b1, %c1 order 3 act silu
      : tensor<?x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64> -> tensor<?x3xf64>
  return %y1 : tensor<?x3xf64>
}
