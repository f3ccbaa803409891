// The fg rule with dense normal directions through the CPU target: by
// default drawn and packed once per step in front of the row tiles (the
// directions fit in pregenerate-bytes), and with pregenerate-bytes=0
// regenerated per tile and direction (never stored as a whole).
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --rule fg --n 3 --lr 0.01
// RUN: FileCheck %s --check-prefix=ONCE --input-file=%t/kan_model.c
// RUN: %kanrt-cc -I%t -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: %t/check %golden | FileCheck %s
// CHECK: forward max_rel_err {{.*}} PASS
// CHECK: jvp vs finite differences max_rel_err {{.*}} PASS
// CHECK: update equals runtime optimiser bit for bit: PASS

// RUN: %kanrt-cc -fopenmp -I%t -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/kan_model.c %kanrt-lib -o %t/check-omp
// RUN: env OMP_NUM_THREADS=2 %t/check-omp %golden | FileCheck %s

// RUN: rm -rf %t.tile && kan-translate --target=cpu -o %t.tile %S/Inputs/kan_small.mlir --train-step --rule fg --n 3 --lr 0.01 --pregenerate-bytes=0
// RUN: FileCheck %s --check-prefix=TILE --input-file=%t.tile/kan_model.c
// RUN: %kanrt-cc -I%t.tile -DKAN_CHECK_SPARSE=0 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t.tile/kan_model.c %kanrt-lib -o %t/check-tile
// RUN: %t/check-tile %golden | FileCheck %s

// ONCE-LABEL: static int train_step_impl(
// ONCE: kan_omp_perturb_dense_directions_f64(
// ONCE: kan_pack_weights_jvp_directions_f64(
// ONCE: #pragma omp
// ONCE-NOT: kan_regenerated_tangent_gemm
// ONCE: kan_gemm_nt_directions_f64(3,
// TILE-LABEL: static int train_step_impl(
// TILE-NOT: perturb_dense_directions_f64(
// TILE: #pragma omp
// TILE: kan_regenerated_tangent_gemm_directions_f64(3, 0,
