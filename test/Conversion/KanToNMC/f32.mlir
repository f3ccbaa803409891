// An f32 model is scheduled on the f32 x 64 tile kernels: one word per
// element in banks and DDR, 64-wide output blocks, and every K chunk padded
// to a multiple of 64 columns (the kernels take K in blocks of 64), so the
// A copy and the Bt panel hold the padded chunk while the features stay
// unpadded in DDR.
// RUN: sed 's/f64/f32/g' %S/../../Target/CPU/Inputs/kan_small.mlir | kan-opt --pass-pipeline='builtin.module(kan-compile-nmquad{batch=8})' | FileCheck %s

// CHECK: nmc.program @kan_core attributes {precision = #nmc.precision<f32>}
// 8 rows (the batch; the largest f32 kernel has 12) x 64 padded columns,
// one word each.
// CHECK: nmc.bank_buffer @a_panel bank 4 words 512
// Two halves of 64 x 64.
// CHECK: nmc.bank_buffer @bt_panel bank 2 words 8192 double_buffered
// Parameters and rows one word per value: the 5 x 12 grid is 60 words.
// CHECK: nmc.ddr_buffer @p0_grid at {{[0-9]+}} words 60 kind <param>
// CHECK: nmc.ddr_buffer @x at {{[0-9]+}} words 40 kind <input>
// Packed W^T of layer 0: 64 padded rows (45 feature columns) x 64 outputs.
// CHECK: nmc.ddr_buffer @w0 at {{[0-9]+}} words 4096 kind <scratch>
// Feature rows unpadded: 8 x 45.
// CHECK: nmc.ddr_buffer @f0 at {{[0-9]+}} words 360 kind <scratch>
// CHECK: nmc.kernel @kan_nmc_gemm_tile_f32_1x64 m 1 n 64 <f32>
// Batch 8: tiles of 8 rows.
// CHECK: nmc.kernel @kan_nmc_gemm_tile_f32_8x64 m 8 n 64 <f32>
// CHECK-NOT: f64
// CHECK: nmc.layer 0 {{.*}}tile_rows = 8
// CHECK: nmc.copy @w0 -> @bt_panel words 4096 <bt_panel> double_buffered
// CHECK: nmc.copy @f0 -> @a_panel words 360 <a_rows>
// CHECK: nmc.gemm_tile @a_panel, @bt_panel, @c_tile m 8 n 64 k 64 kernels [@kan_nmc_gemm_tile_f32_8x64, @kan_nmc_gemm_tile_f32_4x64, @kan_nmc_gemm_tile_f32_3x64, @kan_nmc_gemm_tile_f32_2x64, @kan_nmc_gemm_tile_f32_1x64]
// CHECK: nmc.copy @c_tile -> @y0 words 32 <c_rows>

// The train step: tangent rows and sparse-tangent buffers one word per
// value; the host exchange (partials, coefficients) stays f64.
// RUN: sed 's/f64/f32/g' %S/../../Target/CPU/Inputs/kan_small.mlir | kan-opt --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 batch=8})' | FileCheck %s --check-prefix=TRAIN
// TRAIN: nmc.bank_buffer @yrow bank 6 words 4
// TRAIN: nmc.bank_buffer @coef bank 7 words 8
// 4 directions x 8 rows x 4 outputs.
// TRAIN: nmc.ddr_buffer @yt0 at {{[0-9]+}} words 128 kind <scratch>
// TRAIN: nmc.ddr_buffer @partials at {{[0-9]+}} words 10 kind <output>
// TRAIN: nmc.ddr_buffer @coefficients at {{[0-9]+}} words 8 kind <io>
// TRAIN: nmc.sparse_tangent 0 @f0 -> @yt0
