// The CPU pipeline one stage at a time, each stage's IR checked, and the C
// of the pipeline cut after every stage (kan-translate finishes a cut)
// compiled and run against the golden forward, finite differences of the
// loss and the runtime's optimiser: cutting never changes the program.
//
// RUN: rm -rf %t && mkdir -p %t
// Model -> JVP (forward mode, 4 directions at once).
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-jvp{width=4})' | FileCheck %s --check-prefix=JVP
// Model -> train step (perturbations, JVP of model and loss, update).
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-build-train-step{n=4 density=0.05 lr=0.01})' -o %t/1-train.mlir
// RUN: FileCheck %s --check-prefix=TRAIN --input-file=%t/1-train.mlir
// -> GEMM form.
// RUN: kan-opt %t/1-train.mlir --pass-pipeline='builtin.module(func.func(kan-lower-to-gemm),canonicalize,cse)' -o %t/2-gemm.mlir
// RUN: FileCheck %s --check-prefix=GEMM --input-file=%t/2-gemm.mlir
// -> row tiles (the CPU schedule: up to 128 rows, 8 MB of panels, a share
// of two threads).
// RUN: kan-opt %t/2-gemm.mlir --pass-pipeline='builtin.module(func.func(kan-tile-and-fuse{max-rows=128 panel-bytes=8388608 threads=2}),cse)' -o %t/3-tiles.mlir
// RUN: FileCheck %s --check-prefix=TILES --input-file=%t/3-tiles.mlir
// -> kernel choices.
// RUN: kan-opt %t/3-tiles.mlir --pass-pipeline='builtin.module(func.func(kan-prepare-cpu))' -o %t/4-kernels.mlir
// RUN: FileCheck %s --check-prefix=KERNELS --input-file=%t/4-kernels.mlir
// -> memory plan (slots reused across the function).
// RUN: kan-opt %t/4-kernels.mlir --pass-pipeline='builtin.module(func.func(kan-plan-memory))' -o %t/5-plan.mlir
// RUN: FileCheck %s --check-prefix=PLAN --input-file=%t/5-plan.mlir
// -> buffers as memrefs: one alloc per slot, a view per value, deallocs.
// RUN: kan-opt %t/5-plan.mlir --pass-pipeline='builtin.module(func.func(kan-bufferize))' -o %t/5-buffers.mlir
// RUN: FileCheck %s --check-prefix=BUFFERS --input-file=%t/5-buffers.mlir
// -> EmitC: runtime calls, loops and buffers (allocation, checks, frees)
// as ops; nothing of the kan, func, scf, tensor, affine, memref or
// bufferization dialects is left.
// RUN: kan-opt %t/5-buffers.mlir --pass-pipeline='builtin.module(kan-to-emitc)' -o %t/6-emitc.mlir
// RUN: FileCheck %s --check-prefix=EMITC --input-file=%t/6-emitc.mlir
// RUN: FileCheck %s --check-prefix=ONLY-EMITC --input-file=%t/6-emitc.mlir
// The whole CPU pipeline as one kan-opt pipeline ends in the same EmitC.
// RUN: kan-opt %S/Inputs/kan_small.mlir --pass-pipeline='builtin.module(kan-compile-cpu{train-step n=4 density=0.05 lr=0.01})' -o %t/compile-cpu.mlir
// RUN: FileCheck %s --check-prefix=ONLY-EMITC --input-file=%t/compile-cpu.mlir
// -> C, from every cut (the EmitC module is printed as it is).
// RUN: kan-translate --target=cpu -o %t/c6 %t/6-emitc.mlir
// RUN: kan-translate --target=cpu -o %t/cc %t/compile-cpu.mlir
// RUN: kan-translate --target=cpu -o %t/c1 %t/1-train.mlir
// RUN: kan-translate --target=cpu -o %t/c2 %t/2-gemm.mlir
// RUN: kan-translate --target=cpu -o %t/c3 %t/3-tiles.mlir
// RUN: kan-translate --target=cpu -o %t/c4 %t/4-kernels.mlir
// RUN: kan-translate --target=cpu -o %t/cplan %t/5-plan.mlir
// RUN: kan-translate --target=cpu -o %t/c5 %t/5-buffers.mlir
// RUN: FileCheck %s --check-prefix=C --input-file=%t/c5/kan_model.c
// RUN: %kanrt-cc -I%t/c1 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c1/kan_model.c %kanrt-lib -o %t/check1
// RUN: %t/check1 %golden | FileCheck %s --check-prefix=NUM
// RUN: %kanrt-cc -I%t/c2 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c2/kan_model.c %kanrt-lib -o %t/check2
// RUN: %t/check2 %golden | FileCheck %s --check-prefix=NUM
// RUN: %kanrt-cc -I%t/c3 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c3/kan_model.c %kanrt-lib -o %t/check3
// RUN: %t/check3 %golden | FileCheck %s --check-prefix=NUM
// RUN: %kanrt-cc -I%t/c4 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c4/kan_model.c %kanrt-lib -o %t/check4
// RUN: %t/check4 %golden | FileCheck %s --check-prefix=NUM
// RUN: %kanrt-cc -I%t/c5 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c5/kan_model.c %kanrt-lib -o %t/check5
// RUN: %t/check5 %golden | FileCheck %s --check-prefix=NUM
// RUN: %kanrt-cc -I%t/c6 -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/c6/kan_model.c %kanrt-lib -o %t/check6
// RUN: %t/check6 %golden | FileCheck %s --check-prefix=NUM
// Every cut prints the same program.
// RUN: diff %t/c6/kan_model.c %t/c5/kan_model.c
// RUN: diff %t/c6/kan_model.h %t/c5/kan_model.h
// RUN: diff %t/cc/kan_model.c %t/c5/kan_model.c
// The C is upstream's C emitter's output of the EmitC module, as it is.
// RUN: mlir-translate --mlir-to-cpp %t/compile-cpu.mlir -o %t/upstream.c
// RUN: diff %t/upstream.c %t/cc/kan_model.c
// RUN: diff %t/c1/kan_model.c %t/c5/kan_model.c
// RUN: diff %t/c2/kan_model.c %t/c5/kan_model.c
// RUN: diff %t/c3/kan_model.c %t/c5/kan_model.c
// RUN: diff %t/c4/kan_model.c %t/c5/kan_model.c
// RUN: diff %t/cplan/kan_model.c %t/c5/kan_model.c
//
// The other kernels, forced through kan-prepare-cpu's options, compute the
// same model: feature panels and GEMMs instead of the span-local forward,
// tangent feature panels instead of the input Jacobian.
// RUN: kan-opt %t/3-tiles.mlir --pass-pipeline='builtin.module(func.func(kan-prepare-cpu{forward-kernel=panel input-tangent-kernel=panel}))' -o %t/4-panels.mlir
// RUN: FileCheck %s --check-prefix=PANELS --input-file=%t/4-panels.mlir
// RUN: kan-translate --target=cpu -o %t/cp %t/4-panels.mlir
// RUN: FileCheck %s --check-prefix=CPANELS --input-file=%t/cp/kan_model.c
// RUN: %kanrt-cc -I%t/cp -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/cp/kan_model.c %kanrt-lib -o %t/checkp
// RUN: %t/checkp %golden | FileCheck %s --check-prefix=NUM
// One Jacobian apply per direction (instead of all directions row by row).
// RUN: kan-opt %t/3-tiles.mlir --pass-pipeline='builtin.module(func.func(kan-prepare-cpu{input-tangent-kernel=jacobian}))' -o %t/4-jac1.mlir
// RUN: FileCheck %s --check-prefix=JAC1 --input-file=%t/4-jac1.mlir
// RUN: kan-translate --target=cpu -o %t/cj %t/4-jac1.mlir
// RUN: FileCheck %s --check-prefix=CJAC1 --input-file=%t/cj/kan_model.c
// RUN: %kanrt-cc -I%t/cj -DKAN_CHECK_SPARSE=1 -DKAN_CHECK_DENSITY=0.05 -DKAN_CHECK_LR=0.01 %S/Inputs/check_model.c %t/cj/kan_model.c %kanrt-lib -o %t/checkj
// RUN: %t/checkj %golden | FileCheck %s --check-prefix=NUM

// JVP: func.func @model_jvp
// JVP: kan.layer_jvp
// JVP: kan.layer_jvp {{.*}} dinput

// TRAIN-LABEL: func.func @train_step
// TRAIN: kan.perturb sparse_ternary seed %arg2 step %arg3 stream 0 density 5.000000e-02 : tensor<4x4x5xf64>
// TRAIN: kan.layer_jvp
// TRAIN: kan.softmax_cross_entropy_jvp
// TRAIN: kan.update_coefficients ternary
// TRAIN: kan.update

// GEMM-LABEL: func.func @train_step
// GEMM: kan.pack_weights
// GEMM: kan.feature_gemm_jvp {{.*}} perturb seed
// GEMM-NOT: kan.perturb

// The two layer JVPs are one loop (a fused chain): a tile runs both
// layers on its rows, and only the logits and their tangents leave it.
// TILES-LABEL: func.func @train_step
// TILES: kan.grid_prepare
// TILES: kan.sparse_directions
// TILES: kan.grid_prepare
// TILES: kan.sparse_directions
// TILES: %[[ROUNDS:.*]] = affine.max #{{.*}}()[%[[N:.*]]]
// TILES: %[[SHARE:.*]] = affine.max #{{.*}}()[%[[N]], %[[ROUNDS]]]
// TILES: %[[TILE:.*]] = affine.min #{{.*}}()[%[[SHARE]]]
// TILES: scf.forall {{.*}} step (%[[TILE]]) {{.*}} -> (tensor<?x3xf64>, tensor<4x?x3xf64>)
// TILES:   tensor.extract_slice
// TILES:   %[[Y1:.*]], %[[DY1:.*]] = kan.feature_gemm_jvp {{.*}} aux {{.*}} csr(
// TILES-SAME: -> (tensor<?x4xf64>, tensor<4x?x4xf64>)
// TILES-NOT: tensor.extract_slice
// TILES:   kan.feature_gemm_jvp %[[Y1]], {{.*}} dinput %[[DY1]] aux {{.*}} csr(
// TILES:   scf.forall.in_parallel
// TILES-NOT: scf.forall
// TILES: kan.softmax_cross_entropy_jvp

// KERNELS-LABEL: func.func @model
// KERNELS: kan.pack_weights {{.*}}layout = #kan<layout span>
// KERNELS: kan.feature_gemm {{.*}}kernel = #kan<forward_kernel span>
// KERNELS-LABEL: func.func @train_step
// KERNELS: kan.pack_weights {{.*}}layout = #kan<layout dense>
// KERNELS: kan.span_weights
// KERNELS: scf.forall
// KERNELS: kan.feature_gemm_jvp {{.*}}input_tangent_kernel = #kan<input_tangent_kernel none>, {{.*}}weight_tangent_kernel = #kan<weight_tangent_kernel sparse_rows>
// KERNELS: kan.feature_gemm_jvp {{.*}}input_tangent_kernel = #kan<input_tangent_kernel jacobian_multi>

// PLAN-LABEL: func.func @model
// PLAN-SAME: kan.memory_plan
// PLAN: scf.forall
// PLAN: } {kan.slots = array<i64: 2>}

// The plan's attributes are gone; its slots are allocs, its values views.
// BUFFERS-NOT: kan.slots
// BUFFERS-NOT: kan.memory_plan
// BUFFERS-LABEL: func.func @model
// BUFFERS: %[[N:.*]] = tensor.dim %arg0, %c0
// BUFFERS: %[[W:.*]] = memref.alloc() : memref<180xf64>
// BUFFERS: %[[A:.*]] = memref.alloc({{.*}}) : memref<?xf64>
// BUFFERS: %[[WV:.*]] = memref.reinterpret_cast %[[W]]
// BUFFERS-NEXT: %[[P:.*]] = kan.pack_weights
// BUFFERS-NEXT: bufferization.materialize_in_destination %[[P]] in restrict writable %[[WV]]
// BUFFERS: memref.reinterpret_cast %[[A]] to offset: [0], sizes: [%[[N]], 4], strides: [4, 1]
// BUFFERS: scf.forall
// BUFFERS: memref.dealloc %[[W]]
// BUFFERS: memref.dealloc %[[A]]
// BUFFERS-NEXT: return
// BUFFERS-LABEL: func.func @train_step
// BUFFERS: memref.alloc
// The CSR arrays of the first layer's directions: sized at run time, freed
// after the row-tile loop that reads them.
// BUFFERS: emitc.call_opaque "kan_sparse_directions_capacity"
// BUFFERS: %[[COLS:.*]] = memref.alloc(%{{.*}}) : memref<?xi32>
// BUFFERS: kan.sparse_directions
// BUFFERS: scf.forall
// BUFFERS: kan.feature_gemm_jvp {{.*}} csr(
// BUFFERS: bufferization.materialize_in_destination
// BUFFERS: memref.dealloc %[[COLS]]
// BUFFERS: kan.update
// BUFFERS: memref.dealloc

// EMITC-LABEL: emitc.func @model_impl(
// EMITC-SAME: attributes {specifiers = ["static"]}
// The memory plan's slots: pointer variables, allocated and checked.
// EMITC: %[[SLOT:[^ ]*]] = "emitc.variable"() <{value = #emitc.opaque<"NULL">}> : () -> !emitc.ptr<f64>
// EMITC: emitc.if
// EMITC-NEXT: %[[P:[^ ]*]] = emitc.call_opaque "kan_buffer_alloc"() {args = [180, 8]}
// EMITC-NEXT: emitc.assign %[[P]] : !emitc.ptr<f64> to %[[SLOT]]
// EMITC-NEXT: emitc.call_opaque "kan_buffer_status"(%[[SLOT]])
// The row-tile loop: an OpenMP pragma and emitc.for over the rows, the tile
// of the input a pointer offset by the row.
// EMITC: emitc.verbatim "#ifdef _OPENMP\0A#pragma omp parallel for schedule(static)\0A#endif"
// EMITC-NEXT: emitc.for %[[R:[^ ]*]] = {{.*}} : i64 {
// EMITC: emitc.call_opaque "kan_omp_thread"()
// The row offset of the input tile (after the tile size, r * -1 + n).
// EMITC: emitc.conditional
// EMITC: %[[OFF:[^ ]*]] = emitc.mul %[[R]], %{{.*}} : (i64, i64) -> i64
// EMITC-NEXT: emitc.add %arg0, %[[OFF]] : (!emitc.ptr<f64>, i64) -> !emitc.ptr<f64>
// EMITC: emitc.call_opaque "kan_layer_forward_span_f64"
// EMITC: emitc.call_opaque "free"(%[[SLOT]])
// EMITC-LABEL: emitc.func @train_step_impl(
// EMITC: emitc.call_opaque "kan_sparse_direction_f64"
// EMITC: emitc.call_opaque "kan_layer_jacobian_span_f64"
// EMITC: emitc.call_opaque "kan_omp_loss_softmax_xent_f64"
// EMITC: emitc.call_opaque "kan_apply_update_sparse_f64"
// EMITC-LABEL: emitc.func @kan_forward(
// EMITC: emitc.call_opaque "model_impl"
// EMITC-LABEL: emitc.func @kan_train_step(
// ONLY-EMITC: module attributes {kan.cpu_abi =
// ONLY-EMITC-NOT: {{^ *(%[^ ]+ = )?"?(func|kan|arith|scf|tensor|affine|memref)\.}}

// C-LABEL: static int train_step_impl(
// C: kan_layer_jacobian_span_f64(
// C: kan_jacobian_apply_multi_f64(
// C-NOT: kan_jacobian_apply_f64(
// C: kan_omp_loss_softmax_xent_f64(v{{[0-9]+}}, 3,

// PANELS: kan.feature_gemm {{.*}}kernel = #kan<forward_kernel panel>
// PANELS: kan.feature_gemm_jvp {{.*}}input_tangent_kernel = #kan<input_tangent_kernel panel>
// PANELS-NOT: kan.span_weights
// CPANELS-LABEL: static int model_impl(
// CPANELS: kan_pack_features_f64(
// CPANELS-NOT: kan_layer_forward_span
// CPANELS-LABEL: static int train_step_impl(
// CPANELS: kan_pack_features_jvp_f64(
// CPANELS-NOT: kan_layer_jacobian_span

// JAC1: kan.span_weights
// JAC1: kan.feature_gemm_jvp {{.*}}input_tangent_kernel = #kan<input_tangent_kernel jacobian>
// CJAC1-LABEL: static int train_step_impl(
// CJAC1: kan_layer_jacobian_span_f64(
// CJAC1-NOT: kan_jacobian_apply_multi
// CJAC1: kan_jacobian_apply_f64(

// NUM: forward max_rel_err {{.*}} PASS
// NUM: jvp vs finite differences max_rel_err {{.*}} PASS
// NUM: update equals runtime optimiser bit for bit: PASS
