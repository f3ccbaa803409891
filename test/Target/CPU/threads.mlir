// Row tiles shared by two threads (kan-tile-and-fuse threads, the CPU
// target's tile-threads, default 2) and the loss on the file's threads
// (kan_omp_loss_* of kanrt/threads.h). One build gives the same bits with
// 1, 2 and 3 OpenMP threads (a replay may run on another thread count):
// the tiles do not depend on the thread count, and the loss sums every
// value in row order whichever thread computed its rows. Tiles for one and
// for two threads agree to rounding: rows are independent, except that a
// tile of a single row goes through the GEMM's unblocked path (N = 9: tiles
// of 8 and 1 rows for two threads).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: kan-translate --target=cpu -o %t/two %S/Inputs/kan_small.mlir --train-step --n 8
// RUN: kan-translate --target=cpu -o %t/one %S/Inputs/kan_small.mlir --train-step --n 8 --tile-threads=1
// RUN: FileCheck %s --check-prefix=C --input-file=%t/two/kan_model.c
// RUN: %kanrt-cc -fopenmp -I%t/two %S/Inputs/check_threads.c %t/two/kan_model.c %kanrt-lib -o %t/two/check
// RUN: %kanrt-cc -fopenmp -I%t/one %S/Inputs/check_threads.c %t/one/kan_model.c %kanrt-lib -o %t/one/check
// RUN: env OMP_NUM_THREADS=1 %t/two/check 128 3 > %t/two-128-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/two/check 128 3 > %t/two-128-2.txt
// RUN: env OMP_NUM_THREADS=3 %t/two/check 128 3 > %t/two-128-3.txt
// RUN: diff %t/two-128-1.txt %t/two-128-2.txt
// RUN: diff %t/two-128-1.txt %t/two-128-3.txt
// RUN: env OMP_NUM_THREADS=2 %t/one/check 128 3 > %t/one-128-2.txt
// RUN: %python %S/Inputs/check_threads.py %t/one-128-2.txt %t/two-128-2.txt | FileCheck %s
// More than one block of the loss (1024 rows threaded, 64 serial).
// RUN: env OMP_NUM_THREADS=1 %t/two/check 2500 2 > %t/two-2500-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/two/check 2500 2 > %t/two-2500-2.txt
// RUN: diff %t/two-2500-1.txt %t/two-2500-2.txt
// RUN: env OMP_NUM_THREADS=1 %t/one/check 2500 2 > %t/one-2500-1.txt
// RUN: %python %S/Inputs/check_threads.py %t/one-2500-1.txt %t/two-2500-1.txt | FileCheck %s
// RUN: env OMP_NUM_THREADS=2 %t/two/check 9 3 > %t/two-9-2.txt
// RUN: env OMP_NUM_THREADS=1 %t/one/check 9 3 > %t/one-9-1.txt
// RUN: %python %S/Inputs/check_threads.py %t/one-9-1.txt %t/two-9-2.txt | FileCheck %s
//
// The same for the mean squared error, f32, forward gradients.
// RUN: kan-translate --target=cpu -o %t/f32two %S/Inputs/kan_small_f32.mlir --train-step --n 4 --rule fg --loss mse
// RUN: kan-translate --target=cpu -o %t/f32one %S/Inputs/kan_small_f32.mlir --train-step --n 4 --rule fg --loss mse --tile-threads=1
// RUN: FileCheck %s --check-prefix=MSE --input-file=%t/f32two/kan_model.c
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/f32two %S/Inputs/check_threads.c %t/f32two/kan_model.c %kanrt-lib -o %t/f32two/check
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/f32one %S/Inputs/check_threads.c %t/f32one/kan_model.c %kanrt-lib -o %t/f32one/check
// RUN: env OMP_NUM_THREADS=1 %t/f32two/check 1500 2 > %t/f32two-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/f32two/check 1500 2 > %t/f32two-2.txt
// RUN: diff %t/f32two-1.txt %t/f32two-2.txt
// RUN: env OMP_NUM_THREADS=2 %t/f32one/check 1500 2 > %t/f32one-2.txt
// RUN: %python %S/Inputs/check_threads.py --rtol 1e-5 %t/f32one-2.txt %t/f32two-2.txt | FileCheck %s

// C-LABEL: static int train_step_impl(
// C: kan_omp_loss_softmax_xent_f64(
// MSE-LABEL: static int train_step_impl(
// MSE: kan_omp_loss_mse_f32(
// CHECK: PASS max_rel_err
