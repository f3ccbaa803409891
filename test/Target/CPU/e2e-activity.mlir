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

// CHECK-LABEL: static int train_step_impl(
// CHECK-SAME: double* {{v[0-9]+}}, int64_t [[N:v[0-9]+]],
// CHECK: kan_loss_softmax_xent_examples_f64({{.*}}, NULL, 0, NULL, NULL, NULL, {{.*}});
// CHECK: kan_perturb_activity_f64({{v[0-9]+}}, {{v[0-9]+}}, 0, 2048, 1073741824, KAN_DIST_NORMAL, [[N]], 4, {{.*}});
// CHECK: kan_loss_softmax_xent_examples_f64([[N]], 3,
// CHECK: kan_activity_estimate_f64([[N]], 4, 2048,
// The gradient entry point: step size 0 (no update).
// CHECK: double [[Z0:v[0-9]+]] = 0.0;
// CHECK: kan_status {{v[0-9]+}} = kan_activity_update_f64([[N]], 5, 4, 5, 3, 0, {{.*}}, [[Z0]],
// CHECK: double [[Z1:v[0-9]+]] = 0.0;
// CHECK: kan_status {{v[0-9]+}} = kan_activity_update_f64([[N]], 4, 3, 5, 3, 0, {{.*}}, [[Z1]],
// CHECK: int kan_train_step_grad(
// CHECK-NOT: int kan_train_step_scaled(

// In place with the run-time step size when the step applies its update.
// RUN: rm -rf %t.sgd && kan-translate --target=cpu -o %t.sgd %S/Inputs/kan_small.mlir --train-step --rule activity --n 4 --lr 0.05
// RUN: FileCheck %s --check-prefix=SGD --input-file=%t.sgd/kan_model.c
// SGD-LABEL: static int train_step_impl(
// SGD-SAME: double* {{v[0-9]+}}, int64_t [[N:v[0-9]+]],
// SGD-SAME: double [[LRS:v[0-9]+]]) {
// SGD: double [[LR:v[0-9]+]] = 0.050000000000000003;
// SGD-NEXT: double [[STEP:v[0-9]+]] = [[LR]] * [[LRS]];
// SGD: kan_activity_update_f64([[N]], 5, 4, 5, 3, 0, {{.*}}, [[STEP]], {{.*}}, NULL, NULL, NULL);
// SGD: int kan_train_step_scaled(
