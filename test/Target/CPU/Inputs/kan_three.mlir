func.func @model(%x: tensor<?x8xf64>,
                 %g0: tensor<8x12xf64>, %b0: tensor<6x8xf64>, %c0: tensor<6x8x8xf64>, %s0: tensor<6x8xf64>,
                 %g1: tensor<6x12xf64>, %b1: tensor<6x6xf64>, %c1: tensor<6x6x8xf64>, %s1: tensor<6x6xf64>,
                 %g2: tensor<6x12xf64>, %b2: tensor<3x6xf64>, %c2: tensor<3x6x8xf64>, %s2: tensor<3x6xf64>) -> tensor<?x3xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x8xf64>, tensor<8x12xf64>, tensor<6x8xf64>, tensor<6x8x8xf64>, tensor<6x8xf64> -> tensor<?x6xf64>
  %y1 = kan.layer %y0, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x6xf64>, tensor<6x12xf64>, tensor<6x6xf64>, tensor<6x6x8xf64>, tensor<6x6xf64> -> tensor<?x6xf64>
  %y2 = kan.layer %y1, %g2, %b2, %c2 scaler %s2 order 3 act silu
      : tensor<?x6xf64>, tensor<6x12xf64>, tensor<3x6xf64>, tensor<3x6x8xf64>, tensor<3x6xf64> -> tensor<?x3xf64>
  return %y2 : tensor<?x3xf64>
}
