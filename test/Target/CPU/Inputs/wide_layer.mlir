// One layer N x 5 -> 20, G = 5, k = 3: 20 outputs are two blocks of 8 (f64)
// and a tail of 4 for the weight packing the threads share.
func.func @model(%x: tensor<?x5xf64>, %g: tensor<5x12xf64>, %wb: tensor<20x5xf64>,
                 %ws: tensor<20x5x8xf64>, %s: tensor<20x5xf64>) -> tensor<?x20xf64> {
  %y = kan.layer %x, %g, %wb, %ws scaler %s order 3 act silu
      : tensor<?x5xf64>, tensor<5x12xf64>, tensor<20x5xf64>, tensor<20x5x8xf64>, tensor<20x5xf64> -> tensor<?x20xf64>
  return %y : tensor<?x20xf64>
}
