func.func @model(%x: tensor<?x16777216xf64>, %g: tensor<16777216x2xf64>, %b: tensor<16777216x16777216xf64>, %c: tensor<16777216x16777216x1xf64>) -> tensor<?x16777216xf64> {
  %y = kan.layer %x, %g, %b, %c order 0 act silu
      : tensor<?x16777216xf64>, tensor<16777216x2xf64>, tensor<16777216x16777216xf64>, tensor<16777216x16777216x1xf64> -> tensor<?x16777216xf64>
  return %y : tensor<?x16777216xf64>
}
