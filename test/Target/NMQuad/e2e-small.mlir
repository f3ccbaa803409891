// The golden kan_small model ([5,4,3], G=5, k=3, scaler), imported, under
// host emulation (with the folder's weights.safetensors, or the checkpoint
// passed by hand): forward on 1, 4 and 16 cores and on 4 chips equals the
// CPU target (and the golden vectors); three noise_step steps on 1 and 4
// chips give the CPU target's weights bit for bit.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kan-import %golden/kan_small.safetensors -o %t/kan_small.mlir
// RUN: kan-translate --target=nmquad -o %t/nmq %t/kan_small.mlir --train-step --n 4 --density 0.05 --lr 0.01
// RUN: kan-translate --target=cpu -o %t/cpu %S/../CPU/Inputs/kan_small.mlir --train-step --n 4 --density 0.05 --lr 0.01
// RUN: %kanrt-cc -I%t/cpu %S/Inputs/cpu_ref.c %t/cpu/kan_model.c %kanrt-lib -o %t/ref
// RUN: %nmq-cmp -o %t/cmp
// RUN: cd %t/nmq && %nmq-make host-emu
// RUN: %t/ref %golden/kan_small.safetensors %golden/kan_small_x.npy %t/y_cpu.npy
// RUN: %t/nmq/build/model_emu --cores 1 --input %golden/kan_small_x.npy --output %t/y1.npy
// RUN: %t/cmp %t/y1.npy %t/y_cpu.npy | FileCheck %s --check-prefix=FWD
// RUN: %t/nmq/build/model_emu --cores 4 --weights %golden/kan_small.safetensors --input %golden/kan_small_x.npy --output %t/y4.npy
// RUN: %t/cmp %t/y4.npy %t/y_cpu.npy | FileCheck %s --check-prefix=FWD
// RUN: %t/nmq/build/model_emu --cores 16 --weights %golden/kan_small.safetensors --input %golden/kan_small_x.npy --output %t/y16.npy
// RUN: %t/cmp %t/y16.npy %t/y_cpu.npy | FileCheck %s --check-prefix=FWD
// RUN: %t/nmq/build/model_emu --chips 4 --cores 4 --weights %golden/kan_small.safetensors --input %golden/kan_small_x.npy --output %t/yc4.npy
// RUN: %t/cmp %t/yc4.npy %t/y_cpu.npy | FileCheck %s --check-prefix=FWD
// RUN: %t/cmp %t/yc4.npy %golden/kan_small_y.npy 1e-10 | FileCheck %s --check-prefix=FWD
// FWD: max_rel_err {{.*}} PASS
//
// RUN: %t/ref %golden/kan_small.safetensors %golden/kan_small_x.npy %golden/kan_small_labels.npy 3 7 %t/w_cpu.safetensors | FileCheck %s --check-prefix=STEPS
// RUN: %t/nmq/build/model_emu --cores 4 --weights %golden/kan_small.safetensors --input %golden/kan_small_x.npy --labels %golden/kan_small_labels.npy --train 3 --seed 7 --save %t/w1.safetensors | FileCheck %s --check-prefix=STEPS
// RUN: %t/cmp %t/w1.safetensors %t/w_cpu.safetensors 1e-300 | FileCheck %s --check-prefix=FWD
// RUN: %t/nmq/build/model_emu --chips 4 --cores 16 --weights %golden/kan_small.safetensors --input %golden/kan_small_x.npy --labels %golden/kan_small_labels.npy --train 3 --seed 7 --save %t/w4.safetensors | FileCheck %s --check-prefix=STEPS
// RUN: %t/cmp %t/w4.safetensors %t/w_cpu.safetensors 1e-12 | FileCheck %s --check-prefix=FWD
// STEPS: step 0 loss 1.09087955134358
// STEPS: step 2 loss 1.08760212878429
//
// The emitted core C is strict gnu99.
// RUN: %cc -std=gnu99 -Wall -Wextra -Werror -pedantic -DKAN_NMC_HOST_EMU -I%t/nmq -I%kan_src_root/runtime/nmc/include -I%kan_src_root/runtime/nmc -I%kan_src_root/runtime/include -c %t/nmq/model_core.c -o %t/core.o
