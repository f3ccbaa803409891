// RUN: kan-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{cores must be 1..16}}
nmc.schedule {chips = 1, cores = 17, split = "rows", ddr_streams = 8, batch = 16}

// -----

// expected-error @+1 {{chips must be 1..4}}
nmc.schedule {chips = 5, cores = 4, split = "rows", ddr_streams = 8, batch = 16}

// -----

// expected-error @+1 {{ddr_streams must be 1..8}}
nmc.schedule {chips = 1, cores = 16, split = "rows", ddr_streams = 9, batch = 16}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 1 words 10000
  // expected-error @+1 {{overflows bank 1: 18000 words of 16384}}
  nmc.bank_buffer @b bank 1 words 8000
}

// -----

nmc.program @p {
  // expected-error @+1 {{overflows bank 0: 9000 words of 8192}}
  nmc.bank_buffer @a bank 0 words 9000
}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 1 words 4096
  nmc.bank_buffer @bt bank 1 words 4096
  nmc.bank_buffer @c bank 3 words 4096
  // expected-error @+1 {{the A panel and the Bt panel are both in bank 1}}
  nmc.gemm_tile @a, @bt, @c m 4 n 32 k 16
}
