// What kan-to-nmc refuses, and a batch smaller than a row tile.
// An f32 model trains with sparse ternary directions (f32.mlir); dense
// ones (the fg rule's) are refused with the reason.
// RUN: sed 's/f64/f32/g' %S/../../Target/CPU/Inputs/kan_small.mlir | not kan-opt --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 rule=fg})' 2>&1 | FileCheck %s --check-prefix=F32
// F32: error: nmquad trains f32 models with sparse ternary directions only; dense (normal, rademacher) directions are built for f64 models
//
// A batch of 8 rows per chip under 24-row tiles: the copies move at most
// what the DDR buffers hold.
// RUN: kan-opt %S/../../Target/CPU/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-nmquad{train-step=1 n=4 batch=8})' | FileCheck %s
// CHECK: nmc.schedule {batch = 8 : i64
// CHECK: nmc.ddr_buffer @y1 at {{[0-9]+}} words 48 kind <output>
// CHECK: nmc.copy @c_tile -> @y1 words 48 <c_rows>
