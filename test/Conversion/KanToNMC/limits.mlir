// What kan-to-nmc refuses, and a batch smaller than a row tile.
// An f32 model is refused with the layer and its element type.
// RUN: sed 's/f64/f32/g' %S/../../Target/CPU/Inputs/kan_small.mlir | not kan-opt --pass-pipeline='builtin.module(kan-compile-nmquad)' 2>&1 | FileCheck %s --check-prefix=F32
// F32: error: 'kan.feature_gemm' op nmquad builds f64 layers only; this one is 'f32' (--report of an f64 build projects its GEMMs on the f32 kernels)
//
// A batch of 8 rows per chip under 24-row tiles: the copies move at most
// what the DDR buffers hold.
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 batch=8})' | FileCheck %s
// CHECK: nmc.schedule {batch = 8 : i64
// CHECK: nmc.ddr_buffer @y1 at {{[0-9]+}} words 48 kind <output>
// CHECK: nmc.copy @c_tile -> @y1 words 48 <c_rows>
