// The fg rule with dense normal directions (regenerated per tile, never
// stored as a whole) through the CPU target.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --rule fg --n 3 --lr 0.01
// RUN: %kanrt-cc -I%t -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: %t/check %golden | FileCheck %s
// CHECK: forward max_rel_err {{.*}} PASS
// CHECK: jvp vs finite differences max_rel_err {{.*}} PASS
// CHECK: update equals runtime optimiser bit for bit: PASS

// RUN: %kanrt-cc -fopenmp -I%t -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check-omp
// RUN: env OMP_NUM_THREADS=2 %t/check-omp %golden | FileCheck %s
