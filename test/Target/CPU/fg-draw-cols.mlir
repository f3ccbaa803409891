// The fg rule's layer JVPs with directions regenerated per row tile, in
// column blocks (kan-prepare-cpu's weight_tangent_cols, kan-translate
// --draw-bytes): a tile computes its features and draws W'_d one block of
// columns at a time. A budget of 2000 bytes gives blocks of 8 columns, so
// blocks split inputs' basis columns (5 inputs, 8 basis values each: the
// first block holds the 5 activations and 3 basis values of input 0).
// RUN: rm -rf %t && mkdir -p %t
// RUN: kan-translate --target=cpu -o %t/cols %S/Inputs/kan_small.mlir --train-step --rule fg --n 3 --lr 0.01 --pregenerate-bytes 0 --draw-bytes 2000
// RUN: kan-translate --target=cpu -o %t/whole %S/Inputs/kan_small.mlir --train-step --rule fg --n 3 --lr 0.01 --pregenerate-bytes 0 --draw-bytes 0
// RUN: FileCheck %s --check-prefix=COLS --input-file=%t/cols/kan_model.c
// RUN: FileCheck %s --check-prefix=WHOLE --input-file=%t/whole/kan_model.c
//
// Against finite differences and the runtime optimiser (which draws every
// W'_d whole), one thread and two.
// RUN: %kanrt-cc -I%t/cols -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/cols/kan_model.c %kanrt-lib -o %t/cols/check-model
// RUN: %t/cols/check-model %golden | FileCheck %s --check-prefix=MODEL
// RUN: %kanrt-cc -fopenmp -I%t/cols -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/cols/kan_model.c %kanrt-lib -o %t/cols/check-model-omp
// RUN: env OMP_NUM_THREADS=2 %t/cols/check-model-omp %golden | FileCheck %s --check-prefix=MODEL
// MODEL: forward max_rel_err {{.*}} PASS
// MODEL: jvp vs finite differences max_rel_err {{.*}} PASS
// MODEL: update equals runtime optimiser bit for bit: PASS
//
// Against the whole panel and W'_d per tile, to rounding, over 3 steps on
// 2500 rows (tiles of 128, the last shorter) and 9 rows; the blocked step
// gives the same bytes on 1, 2 and 3 threads.
// RUN: %kanrt-cc -fopenmp -I%t/cols %S/Inputs/check_threads.c %t/cols/kan_model.c %kanrt-lib -o %t/cols/check
// RUN: %kanrt-cc -fopenmp -I%t/whole %S/Inputs/check_threads.c %t/whole/kan_model.c %kanrt-lib -o %t/whole/check
// RUN: env OMP_NUM_THREADS=1 %t/cols/check 2500 3 > %t/cols-1.txt
// RUN: env OMP_NUM_THREADS=2 %t/cols/check 2500 3 > %t/cols-2.txt
// RUN: env OMP_NUM_THREADS=3 %t/cols/check 2500 3 > %t/cols-3.txt
// RUN: diff %t/cols-1.txt %t/cols-2.txt
// RUN: diff %t/cols-1.txt %t/cols-3.txt
// RUN: env OMP_NUM_THREADS=2 %t/whole/check 2500 3 > %t/whole-2.txt
// RUN: %python %S/Inputs/check_threads.py %t/whole-2.txt %t/cols-2.txt | FileCheck %s
// RUN: env OMP_NUM_THREADS=2 %t/cols/check 9 3 > %t/cols-9.txt
// RUN: env OMP_NUM_THREADS=1 %t/whole/check 9 3 > %t/whole-9.txt
// RUN: %python %S/Inputs/check_threads.py %t/whole-9.txt %t/cols-9.txt | FileCheck %s
//
// Three layers (the second and third with input tangents through the
// Jacobian), mean squared error, blocks of 16 columns (18000 bytes; per
// column 128 rows, 6 outputs and 2 draws, 1090 bytes).
// RUN: kan-translate --target=cpu -o %t/three %S/Inputs/kan_three.mlir --train-step --rule fg --n 4 --loss mse --pregenerate-bytes 0 --draw-bytes 18000
// RUN: kan-translate --target=cpu -o %t/three-whole %S/Inputs/kan_three.mlir --train-step --rule fg --n 4 --loss mse --pregenerate-bytes 0 --draw-bytes 0
// RUN: FileCheck %s --check-prefix=THREE --input-file=%t/three/kan_model.c
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/three %S/Inputs/check_threads.c %t/three/kan_model.c %kanrt-lib -o %t/three/check
// RUN: %kanrt-cc -fopenmp -DKAN_CHECK_MSE -I%t/three-whole %S/Inputs/check_threads.c %t/three-whole/kan_model.c %kanrt-lib -o %t/three-whole/check
// RUN: env OMP_NUM_THREADS=1 %t/three/check 700 2 > %t/three-1.txt
// RUN: env OMP_NUM_THREADS=3 %t/three/check 700 2 > %t/three-3.txt
// RUN: diff %t/three-1.txt %t/three-3.txt
// RUN: env OMP_NUM_THREADS=2 %t/three-whole/check 700 2 > %t/three-whole-2.txt
// RUN: %python %S/Inputs/check_threads.py %t/three-whole-2.txt %t/three-1.txt | FileCheck %s
//
// f32 (blocks of 8 columns), against the whole panel to f32 rounding.
// RUN: kan-translate --target=cpu -o %t/f32 %S/Inputs/kan_small_f32.mlir --train-step --rule fg --n 3 --lr 0.01 --pregenerate-bytes 0 --draw-bytes 1000
// RUN: kan-translate --target=cpu -o %t/f32-whole %S/Inputs/kan_small_f32.mlir --train-step --rule fg --n 3 --lr 0.01 --pregenerate-bytes 0 --draw-bytes 0
// RUN: FileCheck %s --check-prefix=F32 --input-file=%t/f32/kan_model.c
// RUN: %kanrt-cc -fopenmp -I%t/f32 %S/Inputs/check_threads.c %t/f32/kan_model.c %kanrt-lib -o %t/f32/check
// RUN: %kanrt-cc -fopenmp -I%t/f32-whole %S/Inputs/check_threads.c %t/f32-whole/kan_model.c %kanrt-lib -o %t/f32-whole/check
// RUN: env OMP_NUM_THREADS=2 %t/f32/check 300 3 > %t/f32-2.txt
// RUN: env OMP_NUM_THREADS=3 %t/f32/check 300 3 > %t/f32-3.txt
// RUN: diff %t/f32-2.txt %t/f32-3.txt
// RUN: env OMP_NUM_THREADS=1 %t/f32-whole/check 300 3 > %t/f32-whole-1.txt
// RUN: %python %S/Inputs/check_threads.py --rtol 1e-5 %t/f32-whole-1.txt %t/f32-2.txt | FileCheck %s
// F32: kan_regenerated_layer_jvp_cols_f32(

// CHECK: PASS max_rel_err

// No feature panel and no whole W'_d: one call per tile computes the
// features, the layer's output and the directions' products in blocks of
// 8 columns; the weight tangents' scratch is gone.
// COLS-LABEL: static int train_step_impl(
// COLS-NOT: kan_regenerated_tangent_gemm_directions_f64(
// COLS: #pragma omp parallel for
// COLS-NOT: kan_pack_features_f64(
// COLS: kan_regenerated_layer_jvp_cols_f64({{.*}}, 5, 5, 3, KAN_ACT_SILU, {{.*}}, 45, 4, 3, 0, {{.*}}, KAN_DIST_NORMAL, {{.*}}, 8, v{{[0-9]+}}, v{{[0-9]+}}, 4, v{{[0-9]+}}, 4, v{{[0-9]+}});
// COLS: kan_regenerated_layer_jvp_cols_f64(
// WHOLE-LABEL: static int train_step_impl(
// WHOLE-NOT: kan_regenerated_layer_jvp_cols_f64(
// WHOLE: kan_pack_features_f64(
// WHOLE: kan_regenerated_tangent_gemm_directions_f64(3, 0,
// THREE-LABEL: static int train_step_impl(
// THREE: kan_jacobian_apply_multi_f64(
// THREE: kan_regenerated_layer_jvp_cols_f64({{.*}}, 16, v{{[0-9]+}},
