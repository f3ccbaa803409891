// kan-to-nmc of a forward-gradient step (rule fg: dense normal directions):
// W'_d is packed into DDR panels per direction and multiplied on the FPU
// kernels; below the first layer the tangent GEMM is A'_d W^T and A W'_d^T
// into one C tile (two panel loops); the updates are dense.
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 rule=fg cores=4})' | FileCheck %s
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 rule=fg dist=rademacher cores=4})' | FileCheck %s --check-prefix=RAD
// No sparse buffers, one bank buffer of draws (chunk 5 x (G+k+2) doubles).
// CHECK-NOT: nmc.bank_buffer @triples
// CHECK: nmc.bank_buffer @vdraws bank 7 words 100
// CHECK: nmc.bank_buffer @coef bank 7
// W'_d panels take the size of W^T's.
// CHECK: nmc.ddr_buffer @w0 at {{[0-9]+}} words 2880 kind <scratch>
// CHECK: nmc.ddr_buffer @v0 at {{[0-9]+}} words 2880 kind <scratch>
// CHECK: nmc.ddr_buffer @v1 at {{[0-9]+}} words 2304 kind <scratch>
// CHECK-LABEL: nmc.entry <train_step>
// CHECK: nmc.tangent_loop 4 {
// CHECK-NEXT: nmc.pack_tangent 0 into @v0 via @bt_panel, @vdraws <normal> {streams = array<i64: 0, 1, 2>}
// CHECK-NEXT: nmc.barrier
// CHECK-NEXT: nmc.layer_gemm 0 @f0, @v0 -> @yt0 tangent
// CHECK-NEXT: nmc.row_tiles rows 24 {
// CHECK-NEXT: nmc.fill @c_tile
// CHECK-NEXT: nmc.panel_loop chunks 1 {
// CHECK-NEXT: nmc.copy @v0 -> @bt_panel words 2880 <bt_panel> double_buffered
// CHECK-NEXT: nmc.copy @f0 -> @a_panel
// CHECK-NEXT: nmc.gemm_tile
// CHECK-NEXT: }
// CHECK-NEXT: nmc.copy @c_tile -> @yt0
// CHECK: nmc.tangent_loop 4 {
// CHECK-NEXT: nmc.features 1 @yt0 -> @ft tangent
// CHECK-NEXT: nmc.pack_tangent 1 into @v1 via @bt_panel, @vdraws <normal> {streams = array<i64: 3, 4, 5>}
// CHECK-NEXT: nmc.barrier
// CHECK-NEXT: nmc.layer_gemm 1 @ft, @w1 -> @yt1 tangent
// CHECK-NEXT: nmc.row_tiles rows 24 {
// CHECK-NEXT: nmc.fill @c_tile
// CHECK-NEXT: nmc.panel_loop chunks 1 {
// CHECK-NEXT: nmc.copy @w1 -> @bt_panel
// CHECK-NEXT: nmc.copy @ft -> @a_panel
// CHECK-NEXT: nmc.gemm_tile
// CHECK-NEXT: }
// CHECK-NEXT: nmc.panel_loop chunks 1 {
// CHECK-NEXT: nmc.copy @v1 -> @bt_panel
// CHECK-NEXT: nmc.copy @f1 -> @a_panel
// CHECK-NEXT: nmc.gemm_tile
// CHECK-NEXT: }
// CHECK-NEXT: nmc.copy @c_tile -> @yt1
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: nmc.barrier
// CHECK-NEXT: }
// CHECK: nmc.host_sync <fg>
// CHECK-NEXT: nmc.update @p0_base_weight coefficients @coefficients {{{.*}}dist = #nmc.dist<normal>, owner = 0 : i64, scale = 7.500000e-04 : f64, stream = 0 : i64, width = 4 : i64}
// CHECK-NOT: nmc.sparse_tangent
// RAD: nmc.pack_tangent 0 into @v0 via @bt_panel, @vdraws <rademacher>
// RAD: nmc.update @p0_base_weight coefficients @coefficients {{{.*}}dist = #nmc.dist<rademacher>
