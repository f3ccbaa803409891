// The emitted NM Quad folder: core C placing the tile buffers in banks and
// synchronising with the host, a PL_* launcher, the FPU assembly tile, and a
// Makefile for the vendor toolchain and for host emulation.
// RUN: rm -rf %t && kan-translate --target=nmquad --init-seed 1 -o %t %S/../CPU/Inputs/kan_small.mlir --train-step --n 4 --density 0.05 --lr 0.01 > /dev/null
// RUN: FileCheck %s --check-prefix=CORE --input-file=%t/model_core.c
// RUN: FileCheck %s --check-prefix=HOST --input-file=%t/model_host.c
// RUN: FileCheck %s --check-prefix=ASM --input-file=%t/kan_nmc_gemm_tile_f64_24x32.s
// RUN: FileCheck %s --check-prefix=MAKE --input-file=%t/Makefile
// The core C is strict gnu99 (nmc-gcc 4.8 has no C11).
// RUN: %cc -std=gnu99 -pedantic -Wall -Wextra -Werror -DKAN_NMC_HOST_EMU -I%kan_src_root/runtime/nmc/include -I%kan_src_root/runtime/nmc -I%kan_src_root/runtime/include -I%t -fsyntax-only %t/model_core.c
// So are the tables and the launcher they are built with.
// RUN: %cc -std=gnu99 -pedantic -Wall -Wextra -Werror -I%kan_src_root/runtime/nmc/include -I%kan_src_root/runtime/include -I%t -fsyntax-only %t/model_host.c %kan_src_root/runtime/nmc/programs/kan_nmc_launcher.c

// Bt panel, C tile and A panel in three different banks (0-1 hold code).
// CORE: KAN_NMC_BANK_BUFFER(4, double, a_panel,
// CORE: KAN_NMC_BANK_BUFFER(2, double, bt_panel,
// CORE: KAN_NMC_BANK_BUFFER(3, double, c_tile,
// The kernels the folder carries, and the table the GEMM calls them by.
// CORE: void kan_nmc_gemm_tile_f64_1x32(const double *, const double *, double *, int, int, int);
// CORE: static const kan_nmc_tile_f64 kan_tiles_f64_m24[9] = {{[{][{]}}24, kan_nmc_gemm_tile_f64_24x32}, {20, kan_nmc_gemm_tile_f64_20x32},
// CORE-SAME: {1, kan_nmc_gemm_tile_f64_1x32{{[}][}]}};
// One function per nmc.entry; the command loop that calls them is the
// runtime's (programs/kan_nmc_model_core.c), not in the folder.
// CORE-NOT: KAN_NMC_CORE_MAIN
// CORE-NOT: kan_nmc_sync(KAN_SYNC_READY)
// CORE: static void kan_nmc_entry_forward(const kan_nmc_kan_bufs *B, const kan_nmc_kan_core *cc,
// CORE: kan_nmc_kan_features(&kan_layers[0],
// CORE: kan_nmc_barrier((int)cc->ncores);
// The layer GEMM is the loop nest of nmc.layer_gemm, printed as it is.
// CORE: /* nmc.layer_gemm 0: @y0 = @f0 @w0^T, this core's rows */
// CORE-NEXT: kan_nmc_kan_share(rows, cc, &r0, &r1);
// CORE-NEXT: b0 = 0u;
// CORE-NEXT: b1 = 1u;
// CORE-NEXT: for (rb = r0; rb < r1; rb += 24u) { /* nmc.row_tiles */
// CORE-NEXT: mm = kan_nmc_kan_min(24u, r1 - rb);
// CORE-NEXT: kan_nmc_kan_zero(c_tile, 768u);
// CORE-NEXT: steps = 1u * (b1 - b0); /* nmc.panel_loop */
// CORE-NEXT: for (s = 0; s <= steps; ++s) {
// CORE-NEXT: if (s < steps) {
// CORE-NEXT: q = s / (b1 - b0);
// CORE-NEXT: b = b0 + s % (b1 - b0);
// CORE-NEXT: kc = kan_nmc_kan_chunk_cols(&kan_layers[0], q);
// CORE-NEXT: kan_nmc_kan_start(bt_panel + (s & 1u) * KAN_BT_HALF, kan_nmc_ddr_range(kan_nmc_kan_panel(&kan_layers[0], q, b), 2u * kc * 32u), 2u * kc * 32u, &hb[s & 1u]);
// CORE-NEXT: }
// CORE-NEXT: if (s == 0u)
// CORE-NEXT: continue;
// CORE-NEXT: q = (s - 1u) / (b1 - b0);
// CORE-NEXT: b = b0 + (s - 1u) % (b1 - b0);
// CORE-NEXT: kc = kan_nmc_kan_chunk_cols(&kan_layers[0], q);
// CORE-NEXT: kan_nmc_kan_wait(&hb[(s - 1u) & 1u]);
// CORE-NEXT: if (b == b0) /* a new K chunk: its A rows */
// CORE-NEXT: kan_nmc_kan_get_rows(a_panel, kc, KAN_ADDR_F0 + 2u * (rb * 45u + q * 45u), 45u, mm, kc);
// CORE-NEXT: kan_nmc_gemm_rows_f64(kan_tiles_f64_m24, 9, a_panel, bt_panel + ((s - 1u) & 1u) * KAN_BT_HALF, c_tile + (b - b0) * 768u, (int)mm, (int)kc);
// CORE-NEXT: }
// CORE-NEXT: kan_nmc_kan_put_c(&kan_layers[0], KAN_ADDR_Y0, c_tile, 24u, rb, mm, b0, b1);
// CORE-NEXT: }
// The buffers of this core and the table the command loop dispatches on.
// CORE: void kan_nmc_kan_bind(kan_nmc_kan_bufs *B) {
// CORE-NEXT: B->a = a_panel;
// CORE: const kan_nmc_kan_model kan_nmc_kan_program = {
// CORE-NEXT: kan_nmc_entry_forward,
// CORE-NEXT: kan_nmc_entry_train_step,
// CORE-NEXT: 0, /* split_outputs */
// CORE-NEXT: KAN_ADDR_IO,
// CORE-NEXT: KAN_ADDR_X,
// CORE-NEXT: KAN_ADDR_TARGET,
// CORE-NEXT: KAN_ADDR_Y1,

// The host side is the runtime's launcher (kan_nmc_launcher.c); the folder
// gives it only the model's tables.
// HOST-NOT: PL_
// HOST: static const kan_nmc_launch_param params[8] = {
// Untrained tensors have no perturbation stream (-1); the replay log
// names the others' streams.
// HOST-NEXT: {"layers.0.grid", KAN_ADDR_P0_GRID, 60, -1},
// HOST-NEXT: {"layers.0.base_weight", KAN_ADDR_P0_BASE_WEIGHT, 20, 0},
// HOST: {"layers.1.spline_scaler", KAN_ADDR_P1_SPLINE_SCALER, 12, 5},
// HOST-NEXT: };
// HOST: const kan_nmc_launch_model kan_nmc_model = {
// HOST: .addr_y = KAN_ADDR_Y1,
// HOST-NEXT: .train = 1,
// HOST-NEXT: .directions = KAN_MODEL_DIRECTIONS,
// HOST: .addr_coefficients = KAN_ADDR_COEFFICIENTS,
// HOST-NEXT: .update_scale = 1.0000000000000000e-02,
// HOST-NEXT: .density = 5.0000000000000003e-02,
// HOST-NEXT: .ddr_end = KAN_NMC_DDR_USER_BASE + KAN_DDR_USER_WORDS,
// HOST-NEXT: .core_program = "model_core.abs",
// HOST-NOT: PL_

// ASM: .global _kan_nmc_gemm_tile_f64_24x32
// ASM: rep 32
// ASM: .double

// The runtime's paths derive from one prefix, the tool's own (here the
// build tree, which stages the runtime in the install layout).
// MAKE: KANRT_PREFIX ?= {{.+}}
// MAKE-NEXT: KANRT_NMC_INCLUDE ?= $(KANRT_PREFIX)/include/kanrt/nmc
// MAKE-NEXT: KANRT_NMC_LIB ?= $(KANRT_PREFIX)/lib{{.*}}/libkanrt_nmc_emu.a
// MAKE-NEXT: KANRT_NMC_SIM_LIB ?= $(KANRT_PREFIX)/lib{{.*}}/libkanrt_nmc_sim.a
// MAKE-NEXT: KANRT_NMC_LDS ?= $(KANRT_PREFIX)/share/kanrt/nmc/nmc-kan.lds
// MAKE-NEXT: KANRT_NMC_SRC ?= $(KANRT_PREFIX)/share/kanrt/nmc/src
// MAKE-NEXT: KANRT_INCLUDE ?= $(KANRT_PREFIX)/include
// MAKE-NEXT: KANRT_LIB ?= $(KANRT_PREFIX)/lib{{.*}}/libkanrt.a
// MAKE-NEXT: KANRT_SRC ?= $(KANRT_PREFIX)/share/kanrt/src
// MAKE-NEXT: KANRT_NMC_CHECK ?= $(KANRT_PREFIX)/share/kanrt/nmc/check
// MAKE: NMCC ?= nmc-gcc
// MAKE: CORE_SRCS := model_core.c $(KANRT_NMC_PROGRAMS)/kan_nmc_model_core.c
// MAKE: host-emu:
// MAKE: host-emu-train:
// MAKE: nmc:
// MAKE: $(NMCC) -mnmc4 -mnmc4-float -mgas -std=gnu99
// MAKE: nmc-check:
