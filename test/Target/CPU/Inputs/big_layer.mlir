// One layer N x 64 -> 64, G = 20, k = 3: K = 64 * (20 + 3 + 1) = 1536.
func.func @model(%x: tensor<?x64xf64>, %g: tensor<64x27xf64>, %wb: tensor<64x64xf64>,
                 %ws: tensor<64x64x23xf64>, %s: tensor<64x64xf64>) -> tensor<?x64xf64> {
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu
      : tensor<?x64xf64>, tensor<64x27xf64>, tensor<64x64xf64>, tensor<64x64x23xf64>, tensor<64x64xf64> -> tensor<?x64xf64>
  return %y : tensor<?x64xf64>
}
