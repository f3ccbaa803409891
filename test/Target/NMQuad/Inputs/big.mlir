// One KAN layer [4096 -> 2048], G = 5, k = 3, f64, without weights: its
// parameters alone (about 640 MiB) exceed what a chip's cores address.
func.func @model(%x: tensor<?x4096xf64>,
                 %g0: tensor<4096x12xf64>, %b0: tensor<2048x4096xf64>, %c0: tensor<2048x4096x8xf64>, %s0: tensor<2048x4096xf64>) -> tensor<?x2048xf64> {
  %y = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x4096xf64>, tensor<4096x12xf64>, tensor<2048x4096xf64>, tensor<2048x4096x8xf64>, tensor<2048x4096xf64> -> tensor<?x2048xf64>
  return %y : tensor<?x2048xf64>
}
