func.func @model(%x: tensor<?x0xf64>, %g: tensor<0x12xf64>, %b: tensor<3x0xf64>, %c: tensor<3x0x8xf64>) -> tensor<?x3xf64> {
  %y = kan.layer %x, %g, %b, %c order 3 act silu
      : tensor<?x0xf64>, tensor<0x12xf64>, tensor<3x0xf64>, tensor<3x0x8xf64> -> tensor<?x3xf64>
  return %y : tensor<?x3xf64>
}
