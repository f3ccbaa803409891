func.func @model(%x: tensor<0x4xf64>, %g: tensor<4x12xf64>, %b: tensor<3x4xf64>, %c: tensor<3x4x8xf64>) -> tensor<0x3xf64> {
  %y = kan.layer %x, %g, %b, %c order 3 act silu
      : tensor<0x4xf64>, tensor<4x12xf64>, tensor<3x4xf64>, tensor<3x4x8xf64> -> tensor<0x3xf64>
  return %y : tensor<0x3xf64>
}
