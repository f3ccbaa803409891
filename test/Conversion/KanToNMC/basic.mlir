// kan-to-nmc as the NM Quad pipeline runs it: the schedule, the buffers, the
// kernels the core calls, and per layer GEMM the loop nest the core runs.
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 chips=4 cores=4 split=outputs})' | FileCheck %s
// The same pass on the GEMM form built pass by pass.
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline="builtin.module(kan-build-train-step{n=4},func.func(kan-lower-to-gemm),canonicalize,cse,kan-to-nmc{chips=4 cores=4 split=outputs})" | FileCheck %s
// RUN: not kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{split=columns})' 2>&1 | FileCheck %s --check-prefix=SPLIT
// SPLIT: kan-to-nmc: split must be rows or outputs, got 'columns'
// CHECK: nmc.schedule {batch = 256 : i64, chips = 4 : i64, cores = 4 : i64, ddr_streams = 8 : i64, split = #nmc.split<outputs>}
// CHECK: nmc.program @kan_core
// CHECK: nmc.bank_buffer @a_panel bank 4
// CHECK: nmc.bank_buffer @bt_panel bank 2 {{.*}} double_buffered
// CHECK: nmc.bank_buffer @c_tile bank 3
// CHECK: nmc.ddr_buffer @p0_grid {{.*}} kind <param> {name = "layers.0.grid", shape = array<i64: 5, 12>}
// Layer 0 has 4 outputs: its packed W^T is padded to one 32-wide block
// (2 words x 32 x 45 features).
// CHECK: nmc.ddr_buffer @w0 at {{[0-9]+}} words 2880 kind <scratch>
// Every row count the kernels of a 24-row tile need (24 = 20 + 3 + 1 ...).
// CHECK: nmc.kernel @kan_nmc_gemm_tile_f64_1x32 m 1 n 32 <f64>
// CHECK: nmc.kernel @kan_nmc_gemm_tile_f64_24x32 m 24 n 32 <f64>
// CHECK: nmc.layer 0 {{.*}}chunk = 5 {{.*}}tile_rows = 24
// CHECK-LABEL: nmc.entry <forward>
// CHECK: nmc.pack_weights 0 into @w0
// CHECK: nmc.features 0 @x -> @f0
// CHECK-NEXT: nmc.barrier
// CHECK-NEXT: nmc.layer_gemm 0 @f0, @w0 -> @y0 attributes {rows_split = 0 : i64} {
// CHECK-NEXT: nmc.row_tiles rows 24 {
// CHECK-NEXT: nmc.fill @c_tile words 1536
// CHECK-NEXT: nmc.panel_loop chunks 1 {
// CHECK-NEXT: nmc.copy @w0 -> @bt_panel words 2880 <bt_panel> double_buffered
// CHECK-NEXT: nmc.copy @f0 -> @a_panel words 2160 <a_rows>
// The narrow layer runs the 32-wide FPU kernels, no scalar C.
// CHECK-NEXT: nmc.gemm_tile @a_panel, @bt_panel, @c_tile m 24 n 32 k 45 kernels [@kan_nmc_gemm_tile_f64_24x32, @kan_nmc_gemm_tile_f64_20x32, @kan_nmc_gemm_tile_f64_16x32, @kan_nmc_gemm_tile_f64_12x32, @kan_nmc_gemm_tile_f64_8x32, @kan_nmc_gemm_tile_f64_4x32, @kan_nmc_gemm_tile_f64_3x32, @kan_nmc_gemm_tile_f64_2x32, @kan_nmc_gemm_tile_f64_1x32]
// CHECK-NEXT: }
// CHECK-NEXT: nmc.copy @c_tile -> @y0 words 192 <c_rows>
// CHECK-LABEL: nmc.entry <train_step>
// CHECK: nmc.tangent_loop 4
// CHECK: nmc.sparse_tangent 0 @f0 -> @yt0
// CHECK: nmc.layer_gemm 1 @ft, @w1 -> @yt1 tangent
// CHECK: nmc.loss <cross_entropy> @y1, @yt1, @target -> @partials
// CHECK: nmc.host_sync <ternary>
// CHECK: nmc.update @p0_base_weight coefficients @coefficients
// CHECK-NOT: func.func
