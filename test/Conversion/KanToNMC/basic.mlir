// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline="builtin.module(kan-build-train-step{n=4},func.func(kan-lower-to-gemm),canonicalize,cse,kan-to-nmc{chips=4 cores=4 split=outputs})" | FileCheck %s
// CHECK: nmc.schedule {batch = 256 : i64, chips = 4 : i64, cores = 4 : i64, ddr_streams = 8 : i64, split = "outputs"}
// CHECK: nmc.program @kan_core
// CHECK: nmc.bank_buffer @a_panel bank 1
// CHECK: nmc.bank_buffer @bt_panel bank 2 {{.*}} double_buffered
// CHECK: nmc.bank_buffer @c_tile bank 3
// CHECK: nmc.ddr_buffer @p0_grid {{.*}} kind "param" {name = "layers.0.grid", shape = array<i64: 5, 12>}
// CHECK: nmc.layer 0 {{.*}}chunk = 5 {{.*}}tile_rows = 24
// CHECK-LABEL: nmc.entry "forward"
// CHECK: nmc.pack_weights 0 into @w0
// CHECK: nmc.features 0 @x -> @f0
// CHECK-NEXT: nmc.barrier
// CHECK-NEXT: nmc.layer_gemm 0 @f0, @w0 -> @y0 attributes {rows_split = 0 : i64}
// CHECK: nmc.gemm_tile @a_panel, @bt_panel, @c_tile m 24 n 4 k 45
// CHECK-LABEL: nmc.entry "train_step"
// CHECK: nmc.tangent_loop 4
// CHECK: nmc.sparse_tangent 0 @f0 -> @yt0
// CHECK: nmc.loss "cross_entropy" @y1, @yt1, @target -> @partials
// CHECK: nmc.host_sync "coefficients"
// CHECK: nmc.update @p0_base_weight coefficients @coefficients
// CHECK-NOT: func.func
