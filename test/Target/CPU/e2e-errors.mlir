// Failure paths of the generated C (kan-to-emitc): a failing runtime call
// skips the rest of the function and returns its status, parameters are
// not updated by a failed step, and no buffer leaks on any path
// (LeakSanitizer), serial and with OpenMP.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --n 4 --density 0.05 --lr 0.01
// RUN: %kanrt-cc -fsanitize=address -I%t %S/Inputs/check_errors.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: env ASAN_OPTIONS=detect_leaks=1 %t/check | FileCheck %s
// RUN: %kanrt-cc -fopenmp -fsanitize=address -I%t %S/Inputs/check_errors.c %t/kan_model.c %kanrt-lib -o %t/check-omp
// RUN: env OMP_NUM_THREADS=2 ASAN_OPTIONS=detect_leaks=1 %t/check-omp | FileCheck %s
// CHECK: failure paths: PASS
