// The weights of a layer with at least two blocks of outputs (8 f64 / 16 f32
// per cache line) are packed by a parallel loop over the blocks, so the
// threads share it, then the tail outputs; smaller layers keep one call (see
// emit.mlir; f32 blocks hold 16 outputs). The forward is checked against the runtime's dense path,
// serially and on two threads.
// RUN: rm -rf %t && kan-translate --target=cpu -o %t %S/Inputs/wide_layer.mlir --train-step --loss mse --n 2
// RUN: FileCheck %s --input-file=%t/kan_model.c
// RUN: %kanrt-cc -I%t %S/Inputs/check_wide.c %t/kan_model.c %kanrt-lib -o %t/check
// RUN: %t/check | FileCheck %s --check-prefix=OK
// RUN: %kanrt-cc -fopenmp -I%t %S/Inputs/check_wide.c %t/kan_model.c %kanrt-lib -o %t/check-omp
// RUN: env OMP_NUM_THREADS=2 %t/check-omp | FileCheck %s --check-prefix=OK
// RUN: env OMP_NUM_THREADS=3 %t/check-omp | FileCheck %s --check-prefix=OK

// CHECK-LABEL: static int model_impl(
// Span layout: outputs are columns of W (stride 20), block b starts at
// column 8 b of W and at row 8 b of the sources (element 40 b of the base
// weights).
// CHECK: #pragma omp parallel for schedule(static)
// CHECK-NEXT: #endif
// CHECK-NEXT: for (int64_t [[B:v[0-9]+]] = {{v[0-9]+}}; [[B]] < {{v[0-9]+}}; [[B]] += {{v[0-9]+}}) {
// CHECK-NEXT: int64_t [[E:v[0-9]+]] = 40;
// CHECK-NEXT: int64_t {{v[0-9]+}} = [[B]] * [[E]];
// CHECK: int64_t [[E2:v[0-9]+]] = 8;
// CHECK-NEXT: int64_t [[O0:v[0-9]+]] = [[B]] * [[E2]];
// CHECK-NEXT: double* [[W:v[0-9]+]] = {{v[0-9]+}} + [[O0]];
// CHECK-NEXT: kan_pack_weights_span_f64(8, 5, 8, 0, {{v[0-9]+}}, {{v[0-9]+}}, {{v[0-9]+}}, [[W]], 20);
// CHECK-NEXT: }
// The tail: outputs 16..19.
// CHECK: kan_pack_weights_span_f64(4, 5, 8, 0, {{v[0-9]+}}, {{v[0-9]+}}, {{v[0-9]+}}, {{v[0-9]+}}, 20);
// CHECK: kan_layer_forward_span_f64(
// CHECK-LABEL: static int train_step_impl(
// Dense layout: outputs are rows of W (stride 45).
// CHECK: #pragma omp parallel for schedule(static)
// CHECK-NEXT: #endif
// CHECK-NEXT: for (int64_t [[B2:v[0-9]+]] = {{v[0-9]+}}; [[B2]] < {{v[0-9]+}}; [[B2]] += {{v[0-9]+}}) {
// CHECK: kan_pack_weights_f64(8, 5, 8, 0, {{.*}}, 45);
// CHECK-NEXT: }
// CHECK: kan_pack_weights_f64(4, 5, 8, 0, {{.*}}, 45);

// OK: PASS max_rel_err

