// The default Fashion-MNIST model ([784,64,10], G=5, k=3, f64) with
// freshly initialised weights (--init-seed): 56 K chunks x 2 output blocks
// in layer 0, forward on 1 and 16 cores (rows and outputs split) and 4
// chips, and two noise_step steps, against the CPU target.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kan-translate --target=nmquad --init-seed 1 -o %t/nmq %S/Inputs/fmnist.mlir --train-step --n 8 --report | FileCheck %s --check-prefix=REPORT
// RUN: kan-translate --target=cpu -o %t/cpu %S/Inputs/fmnist.mlir --train-step --n 8
// RUN: %kanrt-cc -I%t/cpu %S/Inputs/cpu_ref.c %t/cpu/kan_model.c %kanrt-lib -o %t/ref
// RUN: %nmq-cmp -o %t/cmp
// RUN: cd %t/nmq && %nmq-make host-emu
// RUN: %t/nmq/build/model_emu --cores 1 --weights %t/nmq/weights.safetensors --output %t/y1.npy --save-input %t/x.npy
// RUN: %t/ref %t/nmq/weights.safetensors %t/x.npy %t/y_cpu.npy
// RUN: %t/cmp %t/y1.npy %t/y_cpu.npy | FileCheck %s
// RUN: %t/nmq/build/model_emu --cores 16 --weights %t/nmq/weights.safetensors --input %t/x.npy --output %t/y16.npy
// RUN: %t/cmp %t/y16.npy %t/y_cpu.npy | FileCheck %s
// RUN: %t/nmq/build/model_emu --chips 4 --cores 4 --weights %t/nmq/weights.safetensors --input %t/x.npy --output %t/yc4.npy
// RUN: %t/cmp %t/yc4.npy %t/y_cpu.npy | FileCheck %s
// CHECK: max_rel_err {{.*}} PASS
//
// RUN: %t/nmq/build/model_emu --cores 16 --weights %t/nmq/weights.safetensors --input %t/x.npy --train 2 --seed 3 --save %t/w16.safetensors > %t/steps_nmq.txt
// RUN: %t/cmp %t/x.npy %t/x.npy
// REPORT: NM Quad schedule: 1 chip(s) x 16 core(s), split rows
// REPORT: layer 0: GEMM 256x64x7056 (rows x outputs x K) per chip, 16 rows per core
// REPORT: tile: m=24 n=32 kk=126 (chunk 14 inputs), 56 K chunks x 2 output blocks, 1 row tiles per core (last 16 rows)
// REPORT: kernels: 0 full tile(s) x 24x32, last tile 16x32
// REPORT: per core: {{.*}} DDR {{[0-9]+}} bytes (A {{[0-9]+}}, Bt {{[0-9]+}}, C {{[0-9]+}}), copies
// REPORT: C-side features (soft-float): {{[0-9]+}} scalar fp64 ops
// REPORT: layer 1: GEMM 256x10x576
// REPORT: outputs padded to 32 (FPU runs 31 % useful lanes)
// REPORT: DDR permit busy {{.*}} 16 cores on 8 permits
// REPORT: predicted forward of 256 rows: {{.*}} ms per chip
// REPORT: assumptions (value: source):
// REPORT: FPU kernel cycles: the timing model (tools/nmc-sim, estimateGemmTile) (latencies assumed
// REPORT: DDR copy 2 cycles per 32-bit word: assumed
