// RUN: kan-translate --target=cpu -o %t %S/Inputs/kan_small.mlir --train-step --n 8 && FileCheck %s --input-file=%t/kan_model.c
// RUN: FileCheck %s --check-prefix=HDR --input-file=%t/kan_model.h

// HDR: #define KAN_NUM_PARAMS 8
// HDR: int kan_forward(const double *x, int64_t n, double *const *params, double *y);
// HDR: #define KAN_DIRECTIONS 8
// HDR: int kan_train_step(const double *x, const int64_t *target, int64_t n, uint64_t seed, int64_t step, double *const *params, double *loss, double *alphas);

// CHECK: const char *const kan_param_names[8] = {"layers.0.grid", "layers.0.base_weight", "layers.0.spline_weight", "layers.0.spline_scaler", "layers.1.grid"
// CHECK-LABEL: static int model_impl(
// The memory plan: three slots for the whole call, the packed weights of
// both layers share slot 0, their grids' knot data slot 1.
// CHECK: slot0 = (double *)malloc(sizeof(double) * ((size_t)0 * (size_t)n + 180) + 1);
// CHECK: slot1 = (double *)malloc(sizeof(double) * ((size_t)0 * (size_t)n + 185) + 1);
// CHECK: slot2 = (double *)malloc(sizeof(double) * ((size_t)4 * (size_t)n + 0) + 1);
// The forward never forms the feature matrix: weights in the span layout
// (5 inputs x 9 rows of 4 outputs) and one span-local kernel per row tile.
// CHECK: kan_pack_weights_span_f64(4, 5, 8, 0, a2, a3, a4, slot0, 4);
// CHECK: kan_grid_prepare_f64(5, 5, 3, a1, slot1);
// The row-tile loop of the IR's scf.forall: tiles of 128 rows, the last one
// shorter (the affine.min of the tile size).
// CHECK: for (int64_t [[R:r[0-9]+]] = 0; [[R]] < n; [[R]] += 128) {
// CHECK: int64_t [[M:m[0-9]+]] = 128;
// CHECK: if ((([[R]] * -1) + n) < [[M]]) [[M]] = (([[R]] * -1) + n);
// CHECK-NOT: kan_pack_features_f64
// CHECK: kan_layer_forward_span_f64([[M]], 5, 4, 5, 3, KAN_ACT_SILU, (a0 + [[R]] * 5), 5, a1, slot1, slot0, 4, work{{[0-9]+}} + th * work{{[0-9]+}}sz, (slot2 + [[R]] * 4), 4);
// CHECK-NOT: kan_gemm_nt_f64
// CHECK-LABEL: static int train_step_impl(
// The training step keeps the dense panel its sparse tangents read.
// CHECK: kan_pack_weights_f64(4, 5, 8, 0, {{.*}}, 45);
// First layer: sparse directions from the seed, no tangent panel (x' = 0).
// CHECK: kan_sparse_count(20, 0.002)
// CHECK: kan_perturb_sparse(
// CHECK-NOT: kan_pack_features_jvp_f64
// All 8 directions in one call, eight panel rows at a time through each.
// CHECK: kan_sparse_tangent_csr_multi_f64(m{{[0-9]+}}, pt, 45, 4, 8,
// Second layer: the A' half from the input tangent through the layer's input
// Jacobian (4 inputs x 3 outputs per row, padded to 8, one per tile for all
// 8 directions, applied to all 8 row by row in one call), not through
// tangent feature panels; no per-direction loop is left.
// CHECK: kan_weights_dense_to_span_f64(3, 4, 8, 0,
// CHECK-NOT: kan_pack_features_jvp_f64
// CHECK: kan_layer_jacobian_span_f64(m{{[0-9]+}}, 4, 3, 5, 3, KAN_ACT_SILU,
// CHECK-NEXT: kan_jacobian_apply_multi_f64(m{{[0-9]+}}, 4, 3, 8, jt, 8,
// CHECK-NEXT: kan_sparse_tangent_csr_multi_f64(m{{[0-9]+}}, pt, 36, 3, 8,
// CHECK: kan_ternary_coefficients(8,
// Updates land in the caller's result buffers, which kan_train_step makes
// the parameters themselves: no copy onto itself.
// CHECK: if (res3 != a5) memcpy(res3, a5, sizeof(double) * 20);
// CHECK: kan_update_sparse_f64(
