func.func @model(%x: tensor<?x5xf32>,
                 %g0: tensor<5x12xf32>, %b0: tensor<4x5xf32>, %c0: tensor<4x5x8xf32>, %s0: tensor<4x5xf32>,
                 %g1: tensor<4x12xf32>, %b1: tensor<3x4xf32>, %c1: tensor<3x4x8xf32>, %s1: tensor<3x4xf32>) -> tensor<?x3xf32> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x5xf32>, tensor<5x12xf32>, tensor<4x5xf32>, tensor<4x5x8xf32>, tensor<4x5xf32> -> tensor<?x4xf32>
  %y1 = kan.layer %y0, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x4xf32>, tensor<4x12xf32>, tensor<3x4xf32>, tensor<3x4x8xf32>, tensor<3x4xf32> -> tensor<?x3xf32>
  return %y1 : tensor<?x3xf32>
}
