func.func @model(%x: tensor<?x784xf64>,
                 %g0: tensor<784x12xf64>, %b0: tensor<64x784xf64>, %c0: tensor<64x784x8xf64>, %s0: tensor<64x784xf64>,
                 %g1: tensor<64x12xf64>, %b1: tensor<10x64xf64>, %c1: tensor<10x64x8xf64>, %s1: tensor<10x64xf64>) -> tensor<?x10xf64> {
  %y0 = kan.layer %x, %g0, %b0, %c0 scaler %s0 order 3 act silu
      : tensor<?x784xf64>, tensor<784x12xf64>, tensor<64x784xf64>, tensor<64x784x8xf64>, tensor<64x784xf64> -> tensor<?x64xf64>
  %y1 = kan.layer %y0, %g1, %b1, %c1 scaler %s1 order 3 act silu
      : tensor<?x64xf64>, tensor<64x12xf64>, tensor<10x64xf64>, tensor<10x64x8xf64>, tensor<10x64xf64> -> tensor<?x10xf64>
  return %y1 : tensor<?x10xf64>
}
