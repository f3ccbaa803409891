// Neither the N x I(G+k+1) feature matrix nor a full perturbation tensor is
// ever allocated: the training step's feature panel holds one row tile
// (128 x 1536), the forward has none, and the
// training step keeps sparse directions as index lists.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/big_layer.mlir --train-step --loss mse --n 32
// RUN: FileCheck %s --input-file=%t/kan_model.c
// RUN: FileCheck %s --check-prefix=ALLOC --input-file=%t/kan_model.c

// CHECK-LABEL: static int model_impl(
// The forward holds no feature panel at all, only span values of a tile.
// CHECK-NOT: panel
// CHECK: work{{[0-9]+}} = (unsigned char *)malloc(work{{[0-9]+}}sz * (size_t)kan_threads());
// CHECK-LABEL: static int train_step_impl(
// CHECK: panel{{[0-9]+}} = (double *)malloc(sizeof(double) * 196608 * (size_t)kan_threads());

// Every buffer that grows with the batch is an input, output or tangent of
// a layer (n x 64 per direction), never n x 1536; no buffer holds all 32
// directions of the 64 x 1536 weight perturbation (3145728 elements).
// ALLOC-NOT: malloc({{.*}}1536{{.*}}n)
// ALLOC-NOT: malloc(sizeof(double) * 3145728)
// ALLOC-NOT: malloc(sizeof(double) * 196608 * n)
