// The layer JVPs of a training step fused into one row-tile loop
// (kan-tile-and-fuse's chains, kan-translate --fuse-bytes): the step
// computes what the step with one loop per layer (--fuse-bytes 0) does, to
// rounding, and one build gives the same bytes on 1, 2 and 3 threads.
// check_threads.c runs 3 steps on 128 and 2500 rows and prints the losses,
// the JVP scalars, the parameters and the forward's outputs.
//
// RUN: rm -rf %t && mkdir -p %t
// noise_step (sparse ternary), two layers: the default budget (one tile of
// 128 rows per thread for this small model), a budget of 5000 bytes (the
// fused tile holds 149 doubles per row: tiles of 4 rows, the last one of a
// batch of 2500 shorter) and no fusion.
// RUN: kan-translate --target=cpu -o %t/fused %S/Inputs/kan_small.mlir --train-step --n 8
// RUN: kan-translate --target=cpu -o %t/small %S/Inputs/kan_small.mlir --train-step --n 8 --fuse-bytes 5000
// RUN: kan-translate --target=cpu -o %t/apart %S/Inputs/kan_small.mlir --train-step --n 8 --fuse-bytes 0
// RUN: FileCheck %s --check-prefix=FUSED --input-file=%t/fused/kan_model.c
// RUN: FileCheck %s --check-prefix=SMALL --input-file=%t/small/kan_model.c
// RUN: FileCheck %s --check-prefix=APART --input-file=%t/apart/kan_model.c
// RUN: %kanrt-cc -fopenmp -I%t/fused %S/Inputs/check_threads.c %t/fused/kan_model.c %kanrt-lib -o %t/fused/check
// RUN: %kanrt-cc -fopenmp -I%t/small %S/Inputs/check_threads.c %t/small/kan_model.c %kanrt-lib -o %t/small/check
// RUN: %kanrt-cc -fopenmp -I%t/apart %S/Inputs/check_threads.c %t/apart/kan_model.c %kanrt-lib -o %t/apart/check
// RUN: env OMP_NUM_THREADS=1 %t/small/check 2500 3 > %t/small-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/small/check 2500 3 > %t/small-2.txt
// RUN: env OMP_NUM_THREADS=3 %t/small/check 2500 3 > %t/small-3.txt
// RUN: diff %t/small-1.txt %t/small-2.txt
// RUN: diff %t/small-1.txt %t/small-3.txt
// RUN: env OMP_NUM_THREADS=1 %t/fused/check 128 3 > %t/fused-1.txt
// RUN: env OMP_NUM_THREADS=3 %t/fused/check 128 3 > %t/fused-3.txt
// RUN: diff %t/fused-1.txt %t/fused-3.txt
// RUN: env OMP_NUM_THREADS=2 %t/apart/check 2500 3 > %t/apart-2.txt
// RUN: env OMP_NUM_THREADS=2 %t/apart/check 128 3 > %t/apart-128.txt
// RUN: %python %S/Inputs/check_threads.py %t/apart-2.txt %t/small-2.txt | FileCheck %s
// RUN: %python %S/Inputs/check_threads.py %t/apart-128.txt %t/fused-1.txt | FileCheck %s
// A batch of 9: tiles of 4, 4 and 1 rows.
// RUN: env OMP_NUM_THREADS=2 %t/small/check 9 3 > %t/small-9.txt
// RUN: env OMP_NUM_THREADS=1 %t/apart/check 9 3 > %t/apart-9.txt
// RUN: %python %S/Inputs/check_threads.py %t/apart-9.txt %t/small-9.txt | FileCheck %s
//
// Three layers, mean squared error: one chain of three JVPs, two layers'
// tangents passed inside the tile.
// RUN: kan-translate --target=cpu -o %t/three %S/Inputs/kan_three.mlir --train-step --n 4 --loss mse --fuse-bytes 8000
// RUN: kan-translate --target=cpu -o %t/three-apart %S/Inputs/kan_three.mlir --train-step --n 4 --loss mse --fuse-bytes 0
// RUN: FileCheck %s --check-prefix=THREE --input-file=%t/three/kan_model.c
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/three %S/Inputs/check_threads.c %t/three/kan_model.c %kanrt-lib -o %t/three/check
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/three-apart %S/Inputs/check_threads.c %t/three-apart/kan_model.c %kanrt-lib -o %t/three-apart/check
// RUN: env OMP_NUM_THREADS=1 %t/three/check 1500 2 > %t/three-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/three/check 1500 2 > %t/three-2.txt
// RUN: env OMP_NUM_THREADS=3 %t/three/check 1500 2 > %t/three-3.txt
// RUN: diff %t/three-1.txt %t/three-2.txt
// RUN: diff %t/three-1.txt %t/three-3.txt
// RUN: env OMP_NUM_THREADS=2 %t/three-apart/check 1500 2 > %t/three-apart-2.txt
// RUN: %python %S/Inputs/check_threads.py %t/three-apart-2.txt %t/three-2.txt | FileCheck %s

//
// Forward gradients (dense directions, which a tile draws whole whatever
// its rows) keep one loop per layer.
// RUN: kan-translate --target=cpu -o %t/fg %S/Inputs/kan_three.mlir --train-step --n 4 --rule fg --loss mse
// RUN: FileCheck %s --check-prefix=FG --input-file=%t/fg/kan_model.c

// CHECK: PASS max_rel_err

// One parallel loop for the two layers (after the two loops over the
// directions that build the CSR matrices); layer 1's tangents go to this
// thread's tile buffer (rows strided by the 128-row tile), layer 2 reads
// them from there.
// FUSED-LABEL: static int train_step_impl(
// FUSED-COUNT-2: kan_sparse_direction_f64(
// FUSED: #pragma omp parallel for
// FUSED: kan_gemm_nt_f64(
// FUSED: kan_sparse_tangent_csr_multi_f64({{.*}}, 4, 512);
// FUSED-NOT: #pragma omp parallel for
// FUSED: kan_jacobian_apply_multi_f64({{.*}}, 4, 512, v{{[0-9]+}}, 3, v{{[0-9]+}});
// FUSED: kan_omp_loss_softmax_xent_f64(
// SMALL-LABEL: static int train_step_impl(
// SMALL: kan_sparse_tangent_csr_multi_f64({{.*}}, 4, 16);
// SMALL: kan_jacobian_apply_multi_f64({{.*}}, 4, 16, v{{[0-9]+}}, 3, v{{[0-9]+}});
// Apart: the tangents of the whole batch between two loops.
// APART-LABEL: static int train_step_impl(
// APART: #pragma omp parallel for
// APART: kan_sparse_tangent_csr_multi_f64(
// APART: #pragma omp parallel for
// APART: kan_jacobian_apply_multi_f64(
// THREE-LABEL: static int train_step_impl(
// THREE-COUNT-3: kan_sparse_direction_f64(
// THREE: #pragma omp parallel for
// THREE-COUNT-3: kan_sparse_tangent_csr_multi_f64(
// THREE-NOT: #pragma omp parallel for
// THREE: kan_omp_loss_mse_f64(
// FG-LABEL: static int train_step_impl(
// FG-COUNT-3: #pragma omp parallel for
// FG: kan_omp_loss_mse_f64(
