/*===- fuzz_csv.c - libFuzzer target for the CSV reader ---------*- C -*-===*/
#include <stddef.h>
#include <stdint.h>

#include "kanrt/kanrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kan_tensor t;
  const int header = size > 0 && (data[0] & 1);
  if (kan_csv_read_memory(data, size, "fuzz.csv", header, KAN_IO_CHECK_FINITE,
                          &t) == KAN_OK)
    kan_tensor_free(&t);
  return 0;
}
