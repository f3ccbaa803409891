// End to end through the CPU target: the emitted C compiles with -Werror,
// its forward pass matches the PyTorch golden vectors, the JVP scalars of its
// training step match central finite differences along the regenerated
// sparse directions, and its update equals the runtime's optimiser bit for bit.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --n 4 --density 0.05 --lr 0.01
// RUN: %kanrt-cc -I%t -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: %t/check %golden | FileCheck %s
// CHECK: forward max_rel_err {{.*}} PASS
// CHECK: jvp vs finite differences max_rel_err {{.*}} PASS
// CHECK: update equals runtime optimiser bit for bit: PASS

// The same with OpenMP threads over the row tiles: each tile is computed the
// same way on any thread, so the results do not change.
// RUN: %kanrt-cc -fopenmp -I%t -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check-omp
// RUN: env OMP_NUM_THREADS=2 %t/check-omp %golden | FileCheck %s
