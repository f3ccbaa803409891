// A three-layer model with an MSE step: kan-to-emitc defines views of the
// loops' shared outputs while its map of views grows (it used to read a
// moved entry and crash here).
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_three.mlir --train-step --n 8 --loss mse
// RUN: FileCheck %s --input-file=%t/kan_model.h
// RUN: %kanrt-cc -fPIC -shared -I%t %t/kan_model.c %kanrt-lib -o %t/model.so
// CHECK: #define KAN_DIRECTIONS 8
// CHECK: int kan_train_step(const double *x, const double *target,
