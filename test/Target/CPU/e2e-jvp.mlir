// kan-jvp through the CPU target: the tangent of the model along
// (x', Wb', C', S') for every layer (grids constant) against PyTorch's
// forward-mode AD, linearity, and width 3 against three width-1 runs.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-jvp{width=1 activity=dup,const,dup,dup,dup,const,dup,dup,dup})' -o %t/w1.mlir
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-jvp{width=3 activity=dup,const,dup,dup,dup,const,dup,dup,dup})' -o %t/w3.mlir
// RUN: kan-translate --target=cpu --prefix=w1_ -o %t %t/w1.mlir
// RUN: kan-translate --target=cpu --prefix=w3_ -o %t %t/w3.mlir
// RUN: %kanrt-cc -I%t %S/Inputs/check_jvp.c %t/w1_model.c %t/w3_model.c %kanrt-lib -o %t/check
// RUN: %t/check %golden | FileCheck %s
// CHECK: width 1 vs golden max_rel_err {{.*}} PASS
// CHECK: linearity max_rel_err {{.*}} PASS
// CHECK: width 3 equals three width-1 runs: PASS
