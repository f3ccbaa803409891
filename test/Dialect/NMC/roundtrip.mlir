// RUN: kan-opt %s | kan-opt | FileCheck %s
// CHECK: nmc.schedule
// CHECK: nmc.program @p
// CHECK: nmc.bank_buffer @bt bank 2 words 4096 double_buffered
// CHECK: nmc.copy @w -> @bt words 2048 double_buffered
// CHECK: nmc.gemm_tile @a, @bt, @c m 4 n 32 k 32
nmc.schedule {chips = 4, cores = 16, split = "rows", ddr_streams = 8, batch = 256}
nmc.program @p {
  nmc.bank_buffer @a bank 1 words 4096
  nmc.bank_buffer @bt bank 2 words 4096 double_buffered
  nmc.bank_buffer @c bank 3 words 4096
  nmc.ddr_buffer @w at 0 words 8192 kind "scratch"
  nmc.entry "forward" {
    nmc.copy @w -> @bt words 2048 double_buffered
    nmc.gemm_tile @a, @bt, @c m 4 n 32 k 32
    nmc.barrier
  }
}
