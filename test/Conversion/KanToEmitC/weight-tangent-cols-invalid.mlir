// RUN: kan-opt %s -verify-diagnostics --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse,cse,kan-prepare-cpu,kan-plan-memory,kan-bufferize),kan-to-emitc)' -o /dev/null

// Column blocks (weight_tangent_cols) draw W'_d block by block; a given
// W'_d (the dense kernel), which kan-prepare-cpu keeps, has nothing to draw.
func.func @model(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %w: tensor<4x45xf64>, %c: tensor<4x5x8xf64>,
                 %wt: tensor<2x4x45xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>) {
  // expected-error @+1 {{has weight_tangent_cols, which needs the regenerate weight tangent kernel and input tangents without feature panels}}
  %u, %du = kan.feature_gemm_jvp %x, %g, %w, %c dweights %wt order 3 act silu {weight_tangent_cols = 8 : i64}
      : (tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x45xf64>, tensor<4x5x8xf64>, tensor<2x4x45xf64>) -> (tensor<?x4xf64>, tensor<2x?x4xf64>)
  return %u, %du : tensor<?x4xf64>, tensor<2x?x4xf64>
}
