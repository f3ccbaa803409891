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

// A panel, Bt panel and C tile in three different banks.
// CORE: KAN_NMC_BANK_BUFFER(1, double, a_panel,
// CORE: KAN_NMC_BANK_BUFFER(2, double, bt_panel,
// CORE: KAN_NMC_BANK_BUFFER(3, double, c_tile,
// CORE: int KAN_NMC_CORE_MAIN(void) {
// CORE: kan_nmc_sync_array(
// CORE: if (cmd == KAN_CMD_FORWARD) {
// CORE: kan_nmc_kan_features(&kan_layers[0],
// CORE: kan_nmc_barrier((int)cc.ncores);

// HOST: PL_GetBoardCount(&count)
// HOST: PL_GetAccess(board[c], &no, &acc[c][k])
// HOST: PL_LoadProgramFile(acc[c][k], "model_core.abs")
// HOST: PL_WriteMemBlock(acc[c][0], (const PL_Word *)x.data
// HOST: PL_ReadMemBlock(acc[c][0], (PL_Word *)y.data
// HOST: PL_Sync(acc[c][k], KAN_CMD_EXIT, &rv)

// ASM: .global _kan_nmc_gemm_tile_f64_24x32
// ASM: rep 32
// ASM: .double

// The runtime's paths derive from one prefix, the tool's own (here the
// build tree, which stages the runtime in the install layout).
// MAKE: KANRT_PREFIX ?= {{.+}}
// MAKE-NEXT: KANRT_NMC_INCLUDE ?= $(KANRT_PREFIX)/include/kanrt/nmc
// MAKE-NEXT: KANRT_NMC_LIB ?= $(KANRT_PREFIX)/lib{{.*}}/libkanrt_nmc_emu.a
// MAKE-NEXT: KANRT_NMC_LDS ?= $(KANRT_PREFIX)/share/kanrt/nmc/nmc-kan.lds
// MAKE-NEXT: KANRT_NMC_SRC ?= $(KANRT_PREFIX)/share/kanrt/nmc/src
// MAKE-NEXT: KANRT_INCLUDE ?= $(KANRT_PREFIX)/include
// MAKE-NEXT: KANRT_LIB ?= $(KANRT_PREFIX)/lib{{.*}}/libkanrt.a
// MAKE-NEXT: KANRT_SRC ?= $(KANRT_PREFIX)/share/kanrt/src
// MAKE: NMCC ?= nmc-gcc
// MAKE: host-emu:
// MAKE: host-emu-train:
// MAKE: nmc:
// MAKE: $(NMCC) -mnmc4 -mnmc4-float -std=gnu99
