// KAN [2, 8, 2], G = 5, k = 3, f64: classifies points of two interleaved
// spirals (see trainer.c).
func.func @model(%x: tensor<?x2xf64>,
                 %g0: tensor<2x12xf64>, %b0: tensor<8x2xf64>, %c0: tensor<8x2x8xf64>, %s0: tensor<8x2xf64>,
                 %g1: tensor<8x12xf64>, %b1: tensor<2x8xf64>, %c1: tensor<2x8x8xf64>, %s1: tensor<2x8xf64>)
    -> tensor<?x2xf64> {
  %h = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x2xf64>, tensor<2x12xf64>, tensor<8x2xf64>, tensor<8x2x8xf64>, tensor<8x2xf64> -> tensor<?x8xf64>
  %y = kan.layer %h, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x8xf64>, tensor<8x12xf64>, tensor<2x8xf64>, tensor<2x8x8xf64>, tensor<2x8xf64> -> tensor<?x2xf64>
  return %y : tensor<?x2xf64>
}
