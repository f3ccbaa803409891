// RUN: kan-opt %s | kan-opt | FileCheck %s
// CHECK: nmc.schedule {{.*}}split = #nmc.split<rows>
// CHECK: nmc.program @p
// CHECK: nmc.bank_buffer @bt bank 2 words 4096 double_buffered
// CHECK: nmc.ddr_buffer @w at 0 words 8192 kind <scratch>
// CHECK: nmc.kernel @k4 m 4 n 32 <f64>
// CHECK: nmc.entry <forward>
// CHECK: nmc.layer_gemm 0 @f, @w -> @y attributes {rows_split = 1 : i64} {
// CHECK-NEXT: nmc.row_tiles rows 4 {
// CHECK-NEXT: nmc.fill @c words 256
// CHECK-NEXT: nmc.panel_loop chunks 2 {
// CHECK-NEXT: nmc.copy @w -> @bt words 2048 <bt_panel> double_buffered
// CHECK-NEXT: nmc.copy @f -> @a words 256 <a_rows>
// CHECK-NEXT: nmc.gemm_tile @a, @bt, @c m 4 n 32 k 32 kernels [@k4, @k3, @k1]
// CHECK: nmc.copy @c -> @y words 256 <c_rows>
// CHECK: nmc.host_sync <fg>
nmc.schedule {chips = 4, cores = 16, split = #nmc.split<rows>, ddr_streams = 8, batch = 256}
nmc.program @p {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 4096 double_buffered
  nmc.bank_buffer @c bank 3 words 4096
  nmc.ddr_buffer @w at 0 words 8192 kind <scratch>
  nmc.ddr_buffer @f at 8192 words 8192 kind <scratch>
  nmc.ddr_buffer @y at 16384 words 8192 kind <output>
  nmc.kernel @k1 m 1 n 32 <f64>
  nmc.kernel @k3 m 3 n 32 <f64>
  nmc.kernel @k4 m 4 n 32 <f64>
  nmc.entry <forward> {
    nmc.layer_gemm 0 @f, @w -> @y attributes {rows_split = 1 : i64} {
      nmc.row_tiles rows 4 {
        nmc.fill @c words 256
        nmc.panel_loop chunks 2 {
          nmc.copy @w -> @bt words 2048 <bt_panel> double_buffered
          nmc.copy @f -> @a words 256 <a_rows>
          nmc.gemm_tile @a, @bt, @c m 4 n 32 k 32 kernels [@k4, @k3, @k1]
        }
        nmc.copy @c -> @y words 256 <c_rows>
      }
    }
    nmc.host_sync <fg>
    nmc.barrier
  }
}
