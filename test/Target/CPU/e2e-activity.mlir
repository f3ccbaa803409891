// The activity rule through the CPU target: the emitted step calls one
// runtime function per activity op, and its estimate agrees with PyTorch's
// exact gradient (Inputs/check_activity.py: the output layer exactly, the
// hidden layer as an unbiased estimate).
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --rule activity --n 2048 --gradient
// RUN: FileCheck %s --input-file=%t/kan_model.c
// RUN: %kanrt-cc -fPIC -shared -I%t %t/kan_model.c %kanrt-lib -o %t/model.so
// RUN: %python %S/Inputs/check_activity.py %t/model.so %golden %kan_src_root 2048 | FileCheck %s --check-prefix=TORCH
// TORCH: loss {{.*}} PASS
// TORCH: output layer max_rel_err {{.*}} PASS
// TORCH: hidden layer cosine {{.*}} PASS
// TORCH: hidden layer cosine of 8 seeds' mean {{.*}} PASS
// TORCH: grids copied PASS
// TORCH-NOT: FAIL

// The update of each layer is a parallel loop over its column tiles (one
// tile of all inputs here, 128-row chunks), each thread with the work of
// one tile; the feature matrix is never allocated.
// CHECK-LABEL: static int train_step_impl(
// CHECK: kan_loss_softmax_xent_examples_f64([[N:v[0-9]+]], 3, {{.*}}, NULL, 0, NULL, NULL, NULL, {{.*}});
// CHECK: kan_perturb_activity_f64({{v[0-9]+}}, {{v[0-9]+}}, 0, 2048, 1073741824, KAN_DIST_NORMAL, [[N]], 4, {{.*}});
// CHECK: kan_loss_softmax_xent_examples_f64([[N]], 3,
// CHECK: kan_activity_estimate_f64([[N]], 4, 2048,
// CHECK: [[WS:v[0-9]+]] = kan_activity_update_work_size(4, 5, 3, 5, 128);
// CHECK-NEXT: [[TH:v[0-9]+]] = kan_omp_threads();
// CHECK-NEXT: [[WN:v[0-9]+]] = [[WS]] * [[TH]];
// CHECK: [[W:v[0-9]+]] = kan_buffer_alloc([[WN]], 8);
// CHECK: #pragma omp parallel for
// CHECK-NEXT: #endif
// CHECK-NEXT: for (int64_t [[T:v[0-9]+]] = {{v[0-9]+}}; [[T]] < {{v[0-9]+}}; [[T]] += {{v[0-9]+}}) {
// CHECK: kan_activity_update_tile_f64([[N]], 5, 4, 5, 3, 0, {{.*}}, 5, {{.*}}, 4, {{v[0-9]+}}, 5, 128,
// CHECK: kan_activity_update_work_size(3, 5, 3, 4, 128);
// CHECK: kan_activity_update_tile_f64([[N]], 4, 3, 5, 3, 0,
// CHECK-NOT: kan_activity_update_f64(
// CHECK: int kan_train_step_grad(
// CHECK-NOT: int kan_train_step_scaled(

// Small tiles (2 inputs, chunks of 5 of the 16 rows, partial last ones)
// give the same estimate against PyTorch.
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-build-train-step{rule=activity n=2048 gradient=true},func.func(kan-lower-to-gemm{update-rows=5 update-panel-bytes=800}),canonicalize,cse)' -o %t.tiles.mlir
// RUN: FileCheck %s --check-prefix=TILES --input-file=%t.tiles.mlir
// TILES-COUNT-2: kan.activity_update {{.*}} {input_tile = 2 : i64, row_tile = 5 : i64}
// RUN: rm -rf %t.tiles && kan-translate --target=cpu -o %t.tiles %t.tiles.mlir
// RUN: FileCheck %s --check-prefix=TILESC --input-file=%t.tiles/kan_model.c
// TILESC: kan_activity_update_work_size(4, 5, 3, 2, 5);
// TILESC: kan_activity_update_work_size(3, 5, 3, 2, 5);
// RUN: %kanrt-cc -fPIC -shared -I%t.tiles %t.tiles/kan_model.c %kanrt-lib -o %t.tiles/model.so
// RUN: %python %S/Inputs/check_activity.py %t.tiles/model.so %golden %kan_src_root 2048 | FileCheck %s --check-prefix=TORCH
// Tiles own disjoint weights: the same build gives the same bytes on one
// thread and on three (one tile each).
// RUN: %kanrt-cc -fopenmp -fPIC -shared -I%t.tiles %t.tiles/kan_model.c %kanrt-lib -o %t.tiles/model-omp.so
// RUN: env OMP_NUM_THREADS=1 %python %S/Inputs/check_activity.py %t.tiles/model-omp.so %golden %kan_src_root 2048 --dump %t.tiles/one.bin
// RUN: env OMP_NUM_THREADS=3 %python %S/Inputs/check_activity.py %t.tiles/model-omp.so %golden %kan_src_root 2048 --dump %t.tiles/three.bin
// RUN: cmp %t.tiles/one.bin %t.tiles/three.bin

// In place with the run-time step size when the step applies its update.
// RUN: rm -rf %t.sgd && kan-translate --target=cpu -o %t.sgd %S/Inputs/kan_small.mlir --train-step --rule activity --n 4 --lr 0.05
// RUN: FileCheck %s --check-prefix=SGD --input-file=%t.sgd/kan_model.c
// SGD: double [[LR:v[0-9]+]] = 0.050000000000000003;
// SGD: double [[SCALE:v[0-9]+]] = [[LR]] * [[LRSCALE:v[0-9]+]];
// SGD: kan_activity_update_tile_f64({{v[0-9]+}}, 5, 4, 5, 3, 0, {{.*}}, 5, 128, [[SCALE]], {{.*}}, NULL, NULL, NULL, {{.*}});
// SGD: int kan_train_step_scaled(
