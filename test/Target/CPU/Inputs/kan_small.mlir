func.func @model(%x: tensor<?x5xf64>,
                 %g0: tensor<5x12xf64>, %b0: tensor<4x5xf64>, %c0: tensor<4x5x8xf64>, %s0: tensor<4x5xf64>,
                 %g1: tensor<4x12xf64>, %b1: tensor<3x4xf64>, %c1: tensor<3x4x8xf64>, %s1: tensor<3x4xf64>) -> tensor<?x3xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<4x5xf64>, tensor<4x5x8xf64>, tensor<4x5xf64> -> tensor<?x4xf64>
  %y1 = kan.layer %y0, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64>, tensor<3x4xf64> -> tensor<?x3xf64>
  return %y1 : tensor<?x3xf64>
}
