// The same model in f32: forward against PyTorch's float32 output and the
// ternary update against the runtime's optimiser on float parameters.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small_f32.mlir --train-step --n 4 --density 0.05 --lr 0.01
// RUN: %kanrt-cc -I%t %S/Inputs/check_model_f32.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: %t/check %golden | FileCheck %s
// CHECK: f32 forward max_rel_err {{.*}} PASS
// CHECK: f32 update equals runtime optimiser bit for bit: PASS
