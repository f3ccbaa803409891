// Neither the N x I(G+k+1) feature matrix nor a full perturbation tensor is
// ever allocated: the training step's feature panel holds one row tile
// (128 x 1536), the forward has none, and the
// training step keeps sparse directions as index lists.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/big_layer.mlir --train-step --loss mse --n 32
// RUN: FileCheck %s --input-file=%t/kan_model.c
// RUN: FileCheck %s --check-prefix=ALLOC --input-file=%t/kan_model.c

// CHECK-LABEL: static int model_impl(
// The forward holds no feature panel at all, only span values of a tile.
// CHECK-NOT: kan_pack_features
// CHECK: [[WS:v[0-9]+]] = kan_layer_forward_work_size_f64(128,
// CHECK-NEXT: [[T:v[0-9]+]] = kan_omp_threads();
// CHECK-NEXT: [[B:v[0-9]+]] = [[WS]] * [[T]];
// CHECK: kan_buffer_alloc([[B]], 1);
// CHECK-LABEL: static int train_step_impl(
// The panel: one 128 x 1536 tile per thread.
// CHECK: [[P:v[0-9]+]] = 196608;
// CHECK-NEXT: [[PB:v[0-9]+]] = [[P]] * [[T2:v[0-9]+]];
// CHECK: kan_buffer_alloc([[PB]], 8);

// Every buffer that grows with the batch is an input, output or tangent of
// a layer (n x 64 per direction), never n x 1536; no buffer holds all 32
// directions of the 64 x 1536 weight perturbation (3145728 elements).
// (Batch-sized buffers are allocated as a constant times n.)
// ALLOC-NOT: = 1536;
// ALLOC-NOT: kan_buffer_alloc(3145728,
// ALLOC-NOT: = 3145728;
// ALLOC-NOT: kan_buffer_alloc(196608,
