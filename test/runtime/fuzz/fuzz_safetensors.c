/*===- fuzz_safetensors.c - libFuzzer target for safetensors ----*- C -*-===*/
#include <stddef.h>
#include <stdint.h>

#include "kanrt/kanrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kan_tensor_map m;
  if (kan_safetensors_read_memory(data, size, "fuzz.safetensors", 0, &m) ==
      KAN_OK)
    kan_tensor_map_free(&m);
  return 0;
}
