// RUN: kan-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{cores must be 1..16}}
nmc.schedule {chips = 1, cores = 17, split = #nmc.split<rows>, ddr_streams = 8, batch = 16}

// -----

// expected-error @+1 {{chips must be 1..4}}
nmc.schedule {chips = 5, cores = 4, split = #nmc.split<rows>, ddr_streams = 8, batch = 16}

// -----

// expected-error @+1 {{ddr_streams must be 1..8}}
nmc.schedule {chips = 1, cores = 16, split = #nmc.split<rows>, ddr_streams = 9, batch = 16}

// -----

// expected-error @+2 {{expected ::mlir::nmc::Split to be one of: rows, outputs}}
// expected-error @+1 {{failed to parse NMC_SplitAttr parameter 'value'}}
nmc.schedule {chips = 1, cores = 16, split = #nmc.split<columns>, ddr_streams = 8, batch = 16}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 5 words 10000
  // expected-error @+1 {{overflows bank 5: 18000 words of 16384}}
  nmc.bank_buffer @b bank 5 words 8000
}

// -----

// Banks 0-1 hold code, data and the stack.
nmc.program @p {
  // expected-error @+1 {{cannot use bank 1: banks 0-1 hold the code, data and stack}}
  nmc.bank_buffer @a bank 1 words 600
}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 2 words 4096
  nmc.bank_buffer @bt bank 2 words 4096
  nmc.bank_buffer @c bank 3 words 4096
  nmc.kernel @k1 m 1 n 32 <f64>
  nmc.kernel @k4 m 4 n 32 <f64>
  // expected-error @+1 {{the A panel and the Bt panel are both in bank 2}}
  nmc.gemm_tile @a, @bt, @c m 4 n 32 k 16 kernels [@k4, @k1]
}

// -----

nmc.program @p {
  // expected-error @+1 {{has no f64 kernel for m = 5, n = 32}}
  nmc.kernel @k5 m 5 n 32 <f64>
}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 4096
  nmc.bank_buffer @c bank 3 words 4096
  nmc.kernel @k4 m 4 n 32 <f64>
  // A tail of 1..3 rows would have no kernel.
  // expected-error @+1 {{kernels must start with one of m = 4 rows and end with one of 1 row}}
  nmc.gemm_tile @a, @bt, @c m 4 n 32 k 16 kernels [@k4]
}

// -----

nmc.program @p {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 4096
  nmc.bank_buffer @c bank 3 words 4096
  nmc.kernel @k1 m 1 n 32 <f64>
  // expected-error @+1 {{calls @k4, which is not an nmc.kernel of the program}}
  nmc.gemm_tile @a, @bt, @c m 4 n 32 k 16 kernels [@k4, @k1]
}

// -----

nmc.program @p {
  nmc.bank_buffer @stage bank 2 words 64
  nmc.bank_buffer @draws bank 7 words 64
  nmc.ddr_buffer @v0 at 0 words 64 kind <scratch>
  // expected-error @+1 {{packs dense perturbations; sparse ones are applied by nmc.sparse_tangent}}
  nmc.pack_tangent 0 into @v0 via @stage, @draws <sparse_ternary> {streams = array<i64: 0, 1, 2>}
}

// -----

nmc.program @p {
  nmc.bank_buffer @stage bank 2 words 64
  nmc.bank_buffer @draws bank 7 words 64
  nmc.ddr_buffer @v0 at 0 words 64 kind <scratch>
  // expected-error @+1 {{needs the three streams (base, spline, scaler)}}
  nmc.pack_tangent 0 into @v0 via @stage, @draws <normal> {streams = array<i64: 0, 1>}
}

// -----

nmc.program @p {
  nmc.bank_buffer @stage bank 2 words 64
  nmc.ddr_buffer @v0 at 0 words 64 kind <scratch>
  // expected-error @+1 {{packs into a DDR buffer through two bank buffers of the program}}
  nmc.pack_tangent 0 into @v0 via @stage, @v0 <normal> {streams = array<i64: 0, 1, 2>}
}

// -----

nmc.program @p attributes {precision = #nmc.precision<f32>} {
  // expected-error @+1 {{has no f32 kernel for m = 16, n = 64 (n = 64; m = 1..4, 8, 12)}}
  nmc.kernel @k16 m 16 n 64 <f32>
}

// -----

nmc.program @p attributes {precision = #nmc.precision<f32>} {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 8192
  nmc.bank_buffer @c bank 3 words 4096
  nmc.kernel @k1 m 1 n 64 <f32>
  nmc.kernel @k4 m 4 n 64 <f32>
  // expected-error @+1 {{f32 tiles take K in blocks of 64, got k = 45}}
  nmc.gemm_tile @a, @bt, @c m 4 n 64 k 45 kernels [@k4, @k1]
}

// -----

nmc.program @p attributes {precision = #nmc.precision<f32>} {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 8192
  nmc.bank_buffer @c bank 3 words 4096
  nmc.kernel @k1 m 1 n 32 <f64>
  nmc.kernel @k4 m 4 n 32 <f64>
  // expected-error @+1 {{calls @k4 of precision f64 in a program of f32}}
  nmc.gemm_tile @a, @bt, @c m 4 n 32 k 64 kernels [@k4, @k1]
}

// -----

// f32 elements take one word: a 12 x 64 C tile needs 768 words.
nmc.program @p attributes {precision = #nmc.precision<f32>} {
  nmc.bank_buffer @a bank 4 words 4096
  nmc.bank_buffer @bt bank 2 words 8192
  nmc.bank_buffer @c bank 3 words 700
  nmc.kernel @k1 m 1 n 64 <f32>
  nmc.kernel @k12 m 12 n 64 <f32>
  // expected-error @+1 {{the C tile needs 768 words but @c has 700}}
  nmc.gemm_tile @a, @bt, @c m 12 n 64 k 64 kernels [@k12, @k1]
}
