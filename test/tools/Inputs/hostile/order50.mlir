func.func @model(%x: tensor<?x2xf64>, %g: tensor<2x106xf64>, %b: tensor<2x2xf64>, %c: tensor<2x2x55xf64>) -> tensor<?x2xf64> {
  %y = kan.layer %x, %g, %b, %c order 50 act silu
      : tensor<?x2xf64>, tensor<2x106xf64>, tensor<2x2xf64>, tensor<2x2x55xf64> -> tensor<?x2xf64>
  return %y : tensor<?x2xf64>
}
