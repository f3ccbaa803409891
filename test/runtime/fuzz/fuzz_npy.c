/*===- fuzz_npy.c - libFuzzer target for the NPY reader ---------*- C -*-===*/
#include <stddef.h>
#include <stdint.h>

#include "kanrt/kanrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kan_tensor t;
  if (kan_npy_read_memory(data, size, "fuzz.npy", KAN_IO_CHECK_FINITE, &t) ==
      KAN_OK)
    kan_tensor_free(&t);
  return 0;
}
