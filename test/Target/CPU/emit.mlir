// RUN: kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --n 8 && FileCheck %s --input-file=%t/kan_model.c
// RUN: FileCheck %s --check-prefix=HDR --input-file=%t/kan_model.h

// HDR: #define KAN_NUM_PARAMS 8
// HDR: int kan_forward(const double *x, int64_t n, double *const *params, double *y);
// HDR: #define KAN_DIRECTIONS 8
// HDR: int kan_train_step(const double *x, const int64_t *target, int64_t n, uint64_t seed, int64_t step, double *const *params, double *loss, double *alphas);

// CHECK: const char *const kan_param_names[8] = {"layers.0.grid", "layers.0.base_weight", "layers.0.spline_weight", "layers.0.spline_scaler", "layers.1.grid"
// CHECK-LABEL: static int model_impl(
// The memory plan: three slots for the whole call, the packed weights of
// both layers share slot 0, their grids' knot data slot 1, allocated once
// and checked (a failure skips the rest and frees what was allocated).
// CHECK: [[ST:v[0-9]+]] = KAN_OK;
// CHECK: [[S0A:v[0-9]+]] = kan_buffer_alloc(180, 8);
// CHECK-NEXT: [[S0:v[0-9]+]] = [[S0A]];
// CHECK-NEXT: kan_status [[A0:v[0-9]+]] = kan_buffer_status([[S0]]);
// CHECK-NEXT: [[ST]] = [[A0]];
// CHECK: [[S1A:v[0-9]+]] = kan_buffer_alloc(185, 8);
// CHECK-NEXT: [[S1:v[0-9]+]] = [[S1A]];
// CHECK: [[FOUR:v[0-9]+]] = 4;
// CHECK-NEXT: [[N4:v[0-9]+]] = [[FOUR]] * [[N:v[0-9]+]];
// CHECK: kan_buffer_alloc([[N4]], 8);
// The forward never forms the feature matrix: weights in the span layout
// (5 inputs x 9 rows of 4 outputs) and one span-local kernel per row tile.
// CHECK: if ({{v[0-9]+}}) {
// CHECK-NEXT: kan_pack_weights_span_f64(4, 5, 8, 0, v3, v4, v5, [[S0]], 4);
// The tile (kan-tile-and-fuse's rounds of two threads): k = max(1,
// ceil(n / 256)) rounds, min(128, max(4, ceil(n / (8 k)) * 4)) rows: the
// affine.max, affine.max and affine.min in front of the loop.
// CHECK: [[C256:v[0-9]+]] = 256;
// CHECK-NEXT: [[Q:v[0-9]+]] = [[N]] / [[C256]];
// CHECK-NEXT: [[REM:v[0-9]+]] = [[N]] % [[C256]];
// CHECK-NEXT: [[Z:v[0-9]+]] = 0;
// CHECK-NEXT: bool [[UP:v[0-9]+]] = [[REM]] > [[Z]];
// CHECK-NEXT: [[ONE:v[0-9]+]] = 1;
// CHECK-NEXT: [[Q1:v[0-9]+]] = [[Q]] + [[ONE]];
// CHECK-NEXT: [[CEIL:v[0-9]+]] = [[UP]] ? [[Q1]] : [[Q]];
// CHECK-NEXT: [[ONE2:v[0-9]+]] = 1;
// CHECK-NEXT: bool [[GT1:v[0-9]+]] = [[CEIL]] > [[ONE2]];
// CHECK-NEXT: [[K:v[0-9]+]] = [[GT1]] ? [[CEIL]] : [[ONE2]];
// CHECK-NEXT: [[EIGHT:v[0-9]+]] = 8;
// CHECK-NEXT: [[K8:v[0-9]+]] = [[K]] * [[EIGHT]];
// CHECK-NEXT: [[Q2:v[0-9]+]] = [[N]] / [[K8]];
// CHECK-NEXT: [[REM2:v[0-9]+]] = [[N]] % [[K8]];
// CHECK-NEXT: [[Z2:v[0-9]+]] = 0;
// CHECK-NEXT: bool [[UP2:v[0-9]+]] = [[REM2]] > [[Z2]];
// CHECK-NEXT: [[ONE3:v[0-9]+]] = 1;
// CHECK-NEXT: [[Q3:v[0-9]+]] = [[Q2]] + [[ONE3]];
// CHECK-NEXT: [[CEIL2:v[0-9]+]] = [[UP2]] ? [[Q3]] : [[Q2]];
// CHECK-NEXT: [[F:v[0-9]+]] = 4;
// CHECK-NEXT: [[SH:v[0-9]+]] = [[CEIL2]] * [[F]];
// CHECK-NEXT: [[F2:v[0-9]+]] = 4;
// CHECK-NEXT: bool [[GT:v[0-9]+]] = [[SH]] > [[F2]];
// CHECK-NEXT: [[MAX:v[0-9]+]] = [[GT]] ? [[SH]] : [[F2]];
// CHECK-NEXT: [[C128:v[0-9]+]] = 128;
// CHECK-NEXT: bool [[LT:v[0-9]+]] = [[MAX]] < [[C128]];
// CHECK-NEXT: [[STEP:v[0-9]+]] = [[LT]] ? [[MAX]] : [[C128]];
// CHECK: kan_grid_prepare_f64(5, 5, 3, v2, [[S1]]);
// Per-thread scratch for the largest tile, 128 rows.
// CHECK: kan_layer_forward_work_size_f64(128, 5, 3);
// The row-tile loop of the IR's scf.forall, behind an OpenMP pragma (no
// tile after a failure), the last tile shorter (the affine.min of the
// tile size).
// CHECK: [[UB:v[0-9]+]] = {{v[0-9]+}} ? [[N]] : {{v[0-9]+}};
// CHECK-NEXT: #ifdef _OPENMP
// CHECK-NEXT: #pragma omp parallel for schedule(static)
// CHECK-NEXT: #endif
// CHECK-NEXT: for (int64_t [[R:v[0-9]+]] = {{v[0-9]+}}; [[R]] < [[UB]]; [[R]] += [[STEP]]) {
// CHECK-NEXT: [[TH:v[0-9]+]] = kan_omp_thread();
// CHECK: [[M:v[0-9]+]] = {{v[0-9]+}} ? {{v[0-9]+}} : {{v[0-9]+}};
// CHECK-NOT: kan_pack_features_f64
// CHECK: kan_layer_forward_span_f64([[M]], 5, 4, 5, 3, KAN_ACT_SILU, {{v[0-9]+}}, 5, v2, [[S1]], [[S0]], 4, {{v[0-9]+}}, {{v[0-9]+}}, 4);
// CHECK-NEXT: }
// CHECK-NOT: kan_gemm_nt_f64
// Every buffer is freed on every path, then the status is returned.
// CHECK: free([[S0]]);
// CHECK-NEXT: free([[S1]]);
// CHECK: return
// CHECK-LABEL: static int train_step_impl(
// The training step keeps the dense panel its sparse tangents read.
// CHECK: kan_pack_weights_f64(4, 5, 8, 0, {{.*}}, 45);
// First layer: sparse directions from the seed, per direction in parallel,
// no tangent panel (x' = 0).
// Their capacity, a run-time bound, sizes the CSR arrays (kan-bufferize).
// CHECK: [[CAP:v[0-9]+]] = kan_sparse_directions_capacity(4, 5, 8, 2.00000000000000000e-03, 0, 1, 2)
// CHECK: [[CAP1:v[0-9]+]] = [[CAP]] + {{v[0-9]+}};
// CHECK: [[COUNT:v[0-9]+]] = {{v[0-9]+}} * [[CAP1]];
// CHECK: kan_buffer_alloc(40, 4);
// CHECK: kan_buffer_alloc([[COUNT]], 4);
// CHECK: kan_buffer_alloc([[COUNT]], 8);
// CHECK: #pragma omp parallel for
// CHECK: kan_sparse_direction_f64(
// The two layers' JVPs are one row-tile loop (kan-tile-and-fuse's fused
// chain): the second layer's span copy of W is made in front of it.
// CHECK: kan_weights_dense_to_span_f64(3, 4, 8, 0,
// CHECK: #pragma omp parallel for
// CHECK-NOT: kan_pack_features_jvp_f64
// All 8 directions in one call, eight panel rows at a time through each,
// into this thread's tile of the layer's tangents (rows strided by the
// tile, 128 rows, directions by 4 x 128).
// CHECK: kan_sparse_tangent_csr_multi_f64(v{{[0-9]+}}, v{{[0-9]+}}, 45, 4, 8, v{{[0-9]+}}, 5, v{{[0-9]+}}, v{{[0-9]+}}, v{{[0-9]+}}, v{{[0-9]+}}, 4, 512);
// Second layer, in the same tile: the A' half from the input tangent
// through the layer's input Jacobian (4 inputs x 3 outputs per row, padded
// to 8, one per tile for all 8 directions, applied to all 8 row by row in
// one call), not through tangent feature panels; no per-direction loop is
// left.
// CHECK-NOT: kan_pack_features_jvp_f64
// CHECK-NOT: #pragma omp parallel for
// CHECK: kan_layer_jacobian_span_f64(v{{[0-9]+}}, 4, 3, 5, 3, KAN_ACT_SILU,
// CHECK-NEXT: kan_jacobian_apply_multi_f64(v{{[0-9]+}}, 4, 3, 8, v{{[0-9]+}}, 8,
// CHECK-NEXT: kan_sparse_tangent_csr_multi_f64(v{{[0-9]+}}, v{{[0-9]+}}, 36, 3, 8,
// CHECK: kan_update_coefficients_f64(KAN_RULE_TERNARY, 8,
// Updates land in the caller's result buffers, which kan_train_step makes
// the parameters themselves (kan_copy_f64 then copies nothing).
// CHECK: kan_copy_f64(20, v6, v17);
// CHECK: kan_apply_update_sparse_f64(
