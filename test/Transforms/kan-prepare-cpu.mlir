// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse,cse,kan-prepare-cpu))' | FileCheck %s
// RUN: kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse,cse,kan-prepare-cpu{pregenerate-bytes=0}))' | FileCheck %s --check-prefix=REGEN
// RUN: not kan-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kan-prepare-cpu{input-tangent-kernel=fast}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: kan-prepare-cpu: input-tangent-kernel must be auto, jacobian, jacobian-multi or panel, not 'fast'

// Weights only primal GEMMs read take the span layout and the span-local
// kernel; weights a JVP also reads stay dense, and so does the primal GEMM
// that shares them (feature panel and GEMM).
// CHECK-LABEL: func.func @layouts
// CHECK: %[[WS:.*]] = kan.pack_weights {{.*}} {layout = #kan<layout span>}
// CHECK: %[[WD:.*]] = kan.pack_weights {{.*}} {layout = #kan<layout dense>}
// CHECK: scf.forall
// CHECK:   kan.feature_gemm %{{.*}}, %{{.*}}, %[[WS]] {{.*}} {kernel = #kan<forward_kernel span>}
// CHECK: scf.forall
// CHECK:   kan.feature_gemm %{{.*}}, %{{.*}}, %[[WD]] {{.*}} {kernel = #kan<forward_kernel panel>}
// CHECK: scf.forall
// CHECK:   kan.feature_gemm_jvp %{{.*}}, %{{.*}}, %[[WD]]
// CHECK-SAME: input_tangent_kernel = #kan<input_tangent_kernel none>
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel none>
func.func @layouts(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %b: tensor<4x5xf64>, %c: tensor<4x5x8xf64>,
                   %b2: tensor<4x5xf64>) -> (tensor<?x4xf64>, tensor<?x4xf64>, tensor<2x?x4xf64>) {
  %ws = kan.pack_weights %b, %c : (tensor<4x5xf64>, tensor<4x5x8xf64>) -> tensor<4x45xf64>
  %wd = kan.pack_weights %b2, %c : (tensor<4x5xf64>, tensor<4x5x8xf64>) -> tensor<4x45xf64>
  %y = kan.feature_gemm %x, %g, %ws order 3 act silu : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>) -> tensor<?x4xf64>
  %z = kan.feature_gemm %x, %g, %wd order 3 act silu : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>) -> tensor<?x4xf64>
  %p, %dp = kan.feature_gemm_jvp %x, %g, %wd, %c order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %y, %z, %dp : tensor<?x4xf64>, tensor<?x4xf64>, tensor<2x?x4xf64>
}

// -----

// An input tangent goes through the layer's Jacobian when O < n(G+k+1)
// (4 < 2 * 9): the span-layout copy of W is made once, in front of the
// loop, and with 2 directions J is applied to both row by row. With one direction and 16 outputs (16 >= 9) tangent feature panels
// are cheaper.
// CHECK-LABEL: func.func @input_tangents
// CHECK: %[[SPAN:.*]] = kan.span_weights %arg2 inputs 5 : tensor<4x45xf64>
// CHECK: scf.forall
// CHECK:   kan.feature_gemm_jvp {{.*}} dinput {{.*}} span_weights %[[SPAN]]
// CHECK-SAME: input_tangent_kernel = #kan<input_tangent_kernel jacobian_multi>
// CHECK-NOT: kan.span_weights
// CHECK: scf.forall
// CHECK:   kan.feature_gemm_jvp {{.*}} dinput
// CHECK-NOT: span_weights
// CHECK-SAME: input_tangent_kernel = #kan<input_tangent_kernel panel>
func.func @input_tangents(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                          %dx: tensor<2x?x5xf64>, %w16: tensor<16x45xf64>, %c16: tensor<16x5x8xf64>,
                          %dx1: tensor<1x?x5xf64>) -> (tensor<2x?x4xf64>, tensor<1x?x16xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c dinput %dx order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x?x5xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  %z, %dz = kan.feature_gemm_jvp %x, %g, %w16, %c16 dinput %dx1 order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<16x45xf64>, tensor<16x5x8xf64>, tensor<1x?x5xf64>) -> (tensor<?x16xf64>, tensor<1x?x16xf64>)
  return %dy, %dz : tensor<2x?x4xf64>, tensor<1x?x16xf64>
}

// -----

// Weight tangents: sparse ternary directions stay sparse (CSR rows, all
// directions per tile), dense draws within pregenerate-bytes are drawn and
// packed once in front of the row tiles and read as a given W'_d (one GEMM
// per direction); beyond it (here 0) they are regenerated per tile.
// CHECK-LABEL: func.func @weight_tangents
// CHECK: kan.feature_gemm_jvp {{.*}} csr(
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel sparse_rows>
// CHECK: %[[D0:.*]] = kan.perturb normal seed %arg4 step %arg5 stream 0 : tensor<2x4x5xf64>
// CHECK: %[[D1:.*]] = kan.perturb normal seed %arg4 step %arg5 stream 1 : tensor<2x4x5x8xf64>
// CHECK: %[[WT:.*]] = kan.pack_weights_tangent %arg3 dbase %[[D0]] dspline %[[D1]] : {{.*}} -> tensor<2x4x45xf64>
// CHECK: scf.forall
// CHECK: kan.feature_gemm_jvp {{.*}} dweights %[[WT]]
// CHECK-NOT: perturb seed
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel dense>
// CHECK: kan.feature_gemm_jvp {{.*}} dweights
// CHECK-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel dense>
// REGEN-LABEL: func.func @weight_tangents
// REGEN-NOT: kan.perturb
// REGEN: kan.feature_gemm_jvp {{.*}} perturb seed
// REGEN-SAME: weight_tangent_kernel = #kan<weight_tangent_kernel regenerate>
func.func @weight_tangents(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                           %seed: i64, %step: i64, %wt: tensor<2x4x45xf64>)
    -> (tensor<2x?x4xf64>, tensor<2x?x4xf64>, tensor<2x?x4xf64>) {
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist sparse_ternary>, density = 0.05 : f64, streams = array<i64: 0, 1, -1>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, i64, i64) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  %z, %dz = kan.feature_gemm_jvp %x, %g, %w, %c perturb seed %seed step %step order 3 act silu
      {dist = #kan<dist normal>, streams = array<i64: 0, 1, -1>}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, i64, i64) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  %u, %du = kan.feature_gemm_jvp %x, %g, %w, %c dweights %wt order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x4x45xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy, %dz, %du : tensor<2x?x4xf64>, tensor<2x?x4xf64>, tensor<2x?x4xf64>
}

