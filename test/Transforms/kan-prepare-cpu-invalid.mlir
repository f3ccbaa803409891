// RUN: kan-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(kan-prepare-cpu))'

// A kernel forced in the IR is kept, but it must read the layout its
// weights have.
func.func @span_kernel_dense_weights(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %b: tensor<4x5xf64>, %c: tensor<4x5x8xf64>) -> tensor<?x4xf64> {
  %w = kan.pack_weights %b, %c {layout = #kan<layout dense>} : (tensor<4x5xf64>, tensor<4x5x8xf64>) -> tensor<4x45xf64>
  // expected-error @+1 {{has the span kernel but its weights are not in the layout it reads}}
  %y = kan.feature_gemm %x, %g, %w order 3 act silu {kernel = #kan<forward_kernel span>} : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>) -> tensor<?x4xf64>
  return %y : tensor<?x4xf64>
}

// -----

func.func @jvp_span_weights(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %b: tensor<4x5xf64>, %c: tensor<4x5x8xf64>) -> tensor<2x?x4xf64> {
  %w = kan.pack_weights %b, %c {layout = #kan<layout span>} : (tensor<4x5xf64>, tensor<4x5x8xf64>) -> tensor<4x45xf64>
  // expected-error @+1 {{reads weights in the span layout; its kernels read the dense layout}}
  %y, %dy = kan.feature_gemm_jvp %x, %g, %w, %c order 3 act silu
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %dy : tensor<2x?x4xf64>
}
