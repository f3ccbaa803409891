func.func @model(%x: tensor<?x4xf64>, %g: tensor<4x12xf64>, %b: tensor<0x4xf64>, %c: tensor<0x4x8xf64>) -> tensor<?x0xf64> {
  %y = kan.layer %x, %g, %b, %c order 3 act silu
      : tensor<?x4xf64>, tensor<4x12xf64>, tensor<0x4xf64>, tensor<0x4x8xf64> -> tensor<?x0xf64>
  return %y : tensor<?x0xf64>
}
