func.func @model(%x: tensor<?x9223372036854775807xf64>, %g: tensor<9223372036854775807x12xf64>, %b: tensor<3x9223372036854775807xf64>, %c: tensor<3x9223372036854775807x8xf64>) -> tensor<?x3xf64> {
  %y = kan.layer %x, %g, %b, %c order 3 act silu
      : tensor<?x9223372036854775807xf64>, tensor<9223372036854775807x12xf64>, tensor<3x9223372036854775807xf64>, tensor<3x9223372036854775807x8xf64> -> tensor<?x3xf64>
  return %y : tensor<?x3xf64>
}
